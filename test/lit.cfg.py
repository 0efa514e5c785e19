# -*- Python -*-
# lit configuration of the qpal FileCheck suite.

import os
import shutil

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "QPAL"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)

config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qpal_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%shared", config.qpal_shared_dir))
config.substitutions.append(("%qpal_src", config.qpal_src_root))
config.substitutions.append(("%qpal_tools", config.qpal_tools_dir))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# FileCheck, not and count come from the LLVM installation; the qpal tools
# from this build.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
tool_dirs = [config.qpal_tools_dir, config.llvm_tools_dir]
# A ThreadSanitizer build (QPAL_SANITIZE=thread) builds only the runtime and
# runs test/Runtime and the runtime's unit tests; every other build has every
# tool.
unresolved = "ignore" if config.qpal_sanitize == "thread" else "fatal"
tools = [
    ToolSubst("qpal-opt", unresolved=unresolved),
    ToolSubst("qpal", unresolved=unresolved),
    ToolSubst("qpal-run", unresolved="fatal"),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# The fuzz harnesses without libFuzzer, which replay their corpora
# (fuzz/ReplayMain.cpp).
replays = [ToolSubst(f"qpal-{name}-replay", unresolved=unresolved)
           for name in ["gguf", "safetensors", "vocabulary", "tokenizer",
                        "hf-tokenizer",
                        "hessian", "dialect", "plan", "sensitivity",
                        "latency", "distortion"]]
llvm_config.add_tool_substitutions(replays, tool_dirs)

# The MLIR-free GPU kernel runner is built with the benchmarks.
if os.path.exists(os.path.join(config.qpal_tools_dir, "qpal-gpu-kernels")):
    config.available_features.add("qpal-gpu-kernels")
    llvm_config.add_tool_substitutions(
        [ToolSubst("qpal-gpu-kernels", unresolved="fatal")], tool_dirs)

# The stand-in CUDA driver (test/Unit/Runtime/Inputs/FakeCudaDriver.cpp),
# which runs the runtime's GPU side, and a compiled model's host code, on
# machines without a GPU.
config.substitutions.append(
    ("%fake_cuda", os.path.join(config.qpal_obj_root, "test", "Unit",
                                "Runtime", "libqpalrt_fake_cuda.so")))

if config.ptxas_executable and os.path.exists(config.ptxas_executable):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", config.ptxas_executable))

# The C compiler of the build links kernel objects into shared objects for
# the runtime.
if config.host_cc and os.path.exists(config.host_cc):
    config.available_features.add("host-cc")
    config.substitutions.append(("%host_cc", config.host_cc))

# CMake, the generator's build tool and the C++ compiler of the build: a
# test installs qpal and builds the out-of-tree example against the install.
if os.path.exists(config.cmake_command) and os.path.exists(config.host_cxx):
    config.available_features.add("cmake-install")
    config.substitutions.append(("%cmake", config.cmake_command))
    config.substitutions.append(("%make_program", config.make_program))
    config.substitutions.append(("%host_cxx", config.host_cxx))
    config.substitutions.append(("%qpal_obj", config.qpal_obj_root))

# The Python bindings, installed into the build directory by
# `pip install --target BUILD/python ./python` (scripts/run.sh test).
python_dir = os.path.join(config.qpal_obj_root, "python")
config.substitutions.append(("%qpal_python", python_dir))
def python3_has(module):
    """Whether the tests' python3 (the one on PATH, which RUN lines call)
    imports `module`; lit itself may run on another interpreter."""
    import subprocess
    python3 = shutil.which("python3")
    return bool(python3) and subprocess.run(
        [python3, "-c", "import " + module], capture_output=True).returncode == 0


if os.path.exists(os.path.join(python_dir, "qpal", "__init__.py")) and \
        python3_has("pytest"):
    config.available_features.add("qpal-python")

# PyPI test oracles: `gguf` reads GGUF vocabularies (the tokenizer.json
# fixtures are made from them), `tokenizers` is Hugging Face's tokenizer.
for module, feature in (("gguf", "gguf-py"), ("tokenizers", "hf-tokenizers")):
    if python3_has(module):
        config.available_features.add(feature)

# `qpal compile` keeps quantized layers in a cache; the tests keep theirs in
# the build directory, not in the user's home.
config.environment["QPAL_CACHE_DIR"] = os.path.join(config.qpal_obj_root,
                                                    "test", "layer-cache")

# Headless Chromium renders qpal's SVG pictures in a test.
chromium = shutil.which("chromium")
if chromium:
    config.available_features.add("chromium")
    config.substitutions.append(("%chromium", chromium))

if os.path.exists(config.qpal_shared_dir):
    config.available_features.add("shared-data")

smollm2 = os.environ.get("QPAL_SMOLLM2_GGUF", config.qpal_smollm2_gguf)
if smollm2 and os.path.exists(smollm2):
    config.available_features.add("smollm2")
    config.substitutions.append(("%smollm2", smollm2))

# A sanitizer build (QPAL_SANITIZE): its runtime options.
lit_config.load_config(
    config, os.path.join(config.qpal_src_root, "test", "sanitizers.cfg.py"))
