# -*- Python -*-
# lit configuration that runs the GoogleTest unit tests.

import os

import lit.formats

config.name = "QPAL-Unit"
config.suffixes = []
config.test_exec_root = os.path.join(config.qpal_obj_root, "test", "Unit")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(".", "Tests")
config.environment["QPAL_SHARED_DIR"] = config.qpal_shared_dir

# A sanitizer build (QPAL_SANITIZE): its runtime options.
lit_config.load_config(
    config, os.path.join(config.qpal_src_root, "test", "sanitizers.cfg.py"))
