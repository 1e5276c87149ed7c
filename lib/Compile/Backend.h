//===- Backend.h - LLVM IR to an object file (private) ----------*- C++ -*-===//
//
// The LLVM half of resq-compile: symbol renaming, the helpers generated
// into the object, optimization with the target machine, and code
// generation. Free of MLIR: Compile.cpp hands over an llvm::Module.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_LIB_COMPILE_BACKEND_H
#define RESQ_LIB_COMPILE_BACKEND_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llvm {
class Module;
} // namespace llvm

namespace resq {
namespace compile {
namespace detail {

/// The CPU to generate code for: an LLVM CPU name and a feature string.
struct TargetCpu {
  std::string name;
  std::string features;
};
/// "native" becomes the host's name and features; a named CPU has no extra
/// features (the name implies them).
TargetCpu resolveTargetCpu(llvm::StringRef cpu);

struct BackendOptions {
  /// The C prefix of every symbol.
  std::string name;
  TargetCpu cpu;
  /// The step function's C interface in the module (`_mlir_ciface_main`).
  std::string stepFunction;
  /// Generate NAME_stream_create / NAME_stream_destroy for this state size
  /// (0: stateless, no stream helpers).
  int64_t stateSize = 0;
  /// Also print the optimized module, and the module given to the
  /// optimization pipeline.
  bool printIR = false, printUnoptimizedIR = false;
  /// LLVM's optimization pipeline: O0 to O3.
  unsigned optLevel = 2;
};

struct BackendResult {
  llvm::SmallVector<char, 0> object;
  std::string ir, unoptimizedIR;
  std::vector<std::string> warnings;
  /// The object keeps no writable globals: distinct streams can be stepped
  /// concurrently.
  bool reentrant = true;
  double optimizeSeconds = 0, codegenSeconds = 0;
};

/// Renames and internalizes the module's symbols (only the API stays
/// external), adds the helpers, optimizes (options.optLevel) and emits an
/// x86-64 ELF object.
llvm::Expected<BackendResult> runBackend(llvm::Module &module,
                                         const BackendOptions &options);

/// Writes a GNU archive holding one object.
llvm::Error writeArchive(llvm::StringRef path, llvm::StringRef memberName,
                         llvm::ArrayRef<char> object);

} // namespace detail
} // namespace compile
} // namespace resq

#endif // RESQ_LIB_COMPILE_BACKEND_H
