# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "RESQ"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".py", ".test"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt", "lib", "unit"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.resq_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
# Debian's numpy lives with the system interpreter.
python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else config.python_executable
config.substitutions.append(("%python", python))
config.substitutions.append(("%resq_src", config.resq_src_root))

llvm_config.with_system_environment(["HOME", "TMPDIR"])
llvm_config.use_default_substitutions()
# Shared Python helpers of the end-to-end tests (numpy reference, generators).
llvm_config.with_environment(
    "PYTHONPATH", os.path.join(config.test_source_root, "e2e", "lib"), append_path=True)

tool_dirs = [config.resq_tools_dir, config.llvm_tools_dir]
tools = ["resq-opt", "resq-run", "resq-bench", "resq-quantize", "resq-translate", "resq-compile", "mlir-opt", "mlir-translate", "llc", "opt", "not", "count"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
