//===- Compile.h - ahead-of-time compilation of ResQ models -----*- C++ -*-===//
//
// resq-compile turns a model (a plain int8 TOSA graph, or one residualized
// with resq-residualize / resq-dynamic-bits) into an ELF object for x86-64
// plus a C header: the step function, lowered with resq-to-llvm, optimized
// at O3 for the target CPU and wrapped in a small C API that needs nothing
// but libc and libm.
//
// This header is free of MLIR and LLVM IR includes: the tool, the C header
// generator and tests only see plain data.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_COMPILE_COMPILE_H
#define RESQ_COMPILE_COMPILE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace resq {
namespace compile {

/// One tensor the step function takes or produces.
struct TensorInfo {
  /// The model's name of the tensor (the `resq.name` argument or result
  /// attribute the importer records), or empty.
  std::string name;
  /// MLIR element type: "i8", "ui8", "i16", "i32", "i64", "f32", ...
  std::string dtype;
  /// The C type of one element: "int8_t", "float", ...
  std::string cType;
  /// Bytes per element.
  int64_t elementBytes = 1;
  std::vector<int64_t> shape;
  /// The MLIR spelling, e.g. "tensor<1x64x64x8xi8>", for comments.
  std::string mlirType;

  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
};

/// One residualized layer of a stateful step function (an entry of the
/// module attribute `resq.stream_layout`).
struct LayerInfo {
  std::string name;
  std::string kind;
  /// Byte offset of the layer's 16 int64 statistics slots in the state.
  int64_t statsOffset = 0;
  /// Spatial blocks per frame, input channels, MACs of the dense layer.
  int64_t blocks = 0, inChannels = 0, denseMacs = 0;
};

/// Everything the C header describes: the interface of the compiled model.
struct ModelInterface {
  /// The C prefix of every symbol (`--name`).
  std::string name;
  /// The step function's name in the module (e.g. "main").
  std::string entry;
  /// True when the step function takes a stream state.
  bool stateful = false;
  /// Bytes of one stream state (0 for stateless modules).
  int64_t stateSize = 0;
  /// Bytes of the one scratch block a step allocates (resq-plan-scratch).
  int64_t scratchSize = 0;
  std::vector<TensorInfo> inputs, outputs;
  std::vector<LayerInfo> layers;
  /// Provenance, recorded in the header: the model file and the options.
  std::string source, targetCpu, residualize, dynamicBits;
  /// Whether --residualize/--dynamic-bits were applied by resq-compile.
  bool residualized = false, dynamicBitsApplied = false;
  /// The object keeps no writable globals: distinct streams may be stepped
  /// by different threads at once.
  bool reentrant = true;
};

/// The C symbol of the compiled step function's memref-descriptor ABI:
/// `void NAME_step_memrefs(state*, inputs*..., outputs*...)`.
std::string stepSymbol(llvm::StringRef name);
/// Allocation helpers generated into the object.
std::string streamCreateSymbol(llvm::StringRef name);
std::string streamDestroySymbol(llvm::StringRef name);

/// The C header `NAME.h` for a compiled model (C99, also valid C++).
std::string generateCHeader(const ModelInterface &model);

/// Checks that `name` can prefix C symbols: a C identifier, not reserved
/// (`_X...`, `__...`), not a C keyword.
llvm::Error checkName(llvm::StringRef name);

/// Checks a `--target-cpu` value: "native" or an LLVM x86-64 CPU name.
llvm::Error checkTargetCpu(llvm::StringRef cpu);

struct CompileOptions {
  /// The model: a .mlir file, or "-" for standard input.
  std::string inputPath;
  /// The output folder (created when missing).
  std::string outputDir;
  /// The C prefix and file name stem.
  std::string name;
  /// "native" or an LLVM x86-64 CPU name.
  std::string targetCpu = "x86-64";
  /// The step function; empty: @main, or else the only public function.
  std::string entry;
  /// Options of resq-residualize / resq-dynamic-bits in the passes' own
  /// syntax ("step=4 bits=8"); std::nullopt: the pass is not requested.
  std::optional<std::string> residualize, dynamicBits;
  /// Also write the optimized LLVM IR to NAME.ll.
  bool emitLLVM = false;
  /// LLVM's optimization pipeline, O0 to O3 (see resq-compile --help).
  unsigned optLevel = 2;
  /// Also write the LLVM IR given to O3 to NAME.unoptimized.ll (for
  /// working on the optimization pipeline).
  bool emitUnoptimizedLLVM = false;
};

/// What a compilation did, for the tool's report.
struct CompileReport {
  ModelInterface model;
  std::vector<std::string> files;
  /// The CPU the code was generated for (the host's name for "native") and
  /// whether the VNNI kernels were selected.
  std::string cpu;
  bool vnni = false;
  /// Seconds per phase and in total.
  double parseSeconds = 0, transformSeconds = 0, lowerSeconds = 0,
         translateSeconds = 0, optimizeSeconds = 0, codegenSeconds = 0,
         writeSeconds = 0, totalSeconds = 0;
  /// Non-fatal findings (e.g. external symbols outside libc/libm).
  std::vector<std::string> warnings;
};

/// Compiles the model and writes NAME.o, libNAME.a and NAME.h (and NAME.ll)
/// into the output folder. Errors carry the MLIR diagnostics with their
/// locations.
llvm::Expected<CompileReport> compileModel(const CompileOptions &options);

} // namespace compile
} // namespace resq

#endif // RESQ_COMPILE_COMPILE_H
