# The usq plug-in's tests: qpal's installed tools with the plug-in loaded.
import os

import lit.formats

config.name = "usq"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "lit.cfg.py"]
config.test_source_root = config.usq_test_source
config.test_exec_root = config.usq_test_build

# Only the install's tools: qpal, qpal-opt and qpal-run from the prefix,
# FileCheck and not from LLVM.
llvm_bin = os.path.dirname(config.filecheck)
config.environment["PATH"] = os.pathsep.join(
    [config.qpal_tools_dir, llvm_bin, config.environment.get("PATH", "")])
# Compiled layers are cached per test run, never in the user's cache.
config.environment["QPAL_CACHE_DIR"] = os.path.join(config.usq_test_build, "layer-cache")

config.substitutions.append(("%{usq_plugin_dir}", os.path.dirname(config.usq_plugin)))
config.substitutions.append(("%usq_plugin", config.usq_plugin))
config.substitutions.append(("%python", config.python))
if config.ptxas and os.path.exists(config.ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", config.ptxas))
