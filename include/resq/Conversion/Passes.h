//===- Passes.h - ResQ lowering passes and pipelines -------------*- C++ -*-===//
#ifndef RESQ_CONVERSION_PASSES_H
#define RESQ_CONVERSION_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir {
namespace arith { class ArithDialect; }
namespace bufferization { class BufferizationDialect; }
namespace func { class FuncDialect; class FuncOp; }
namespace linalg { class LinalgDialect; }
namespace math { class MathDialect; }
namespace tensor { class TensorDialect; }
namespace LLVM { class LLVMDialect; }
namespace memref { class MemRefDialect; }
namespace omp { class OpenMPDialect; }
namespace scf { class SCFDialect; }
namespace vector { class VectorDialect; }
} // namespace mlir

namespace resq {

#define GEN_PASS_DECL
#include "resq/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "resq/Conversion/Passes.h.inc"

/// On an scf.parallel of resq-lower-stream: a loop over the rows of a
/// kernel, worth sharing among threads whatever its trip count.
constexpr llvm::StringLiteral kParallelRowsAttr = "resq.rows";

/// On an scf.for of resq-lower-stream: a loop of few iterations (a 9-bit
/// layer's rounds) whose row loops still fork, once per iteration.
constexpr llvm::StringLiteral kForkEachIterationAttr = "resq.fork_each";

/// Options of the `resq-to-llvm` pipeline.
struct ToLLVMOptions {
  /// LLVM CPU name or "native": decides VNNI use in generated kernels.
  std::string targetCpu = "x86-64";
  /// Rows of the kernels and of the glue shared among OpenMP threads.
  bool parallel = false;
};

/// Lowers a module holding ResQ and TOSA ops (or plain TOSA: the standard
/// int8 graph) to the LLVM dialect. Every public function ends up with the
/// C ABI `f(state?, inputs..., outputs...)`, all memrefs passed as
/// descriptors (`llvm.emit_c_interface`).
void buildResQToLLVMPipeline(mlir::OpPassManager &pm,
                             const ToLLVMOptions &options);

/// Registers `resq-to-llvm` with the pass registry.
void registerResQPipelines();

/// True when the named CPU (or "native": this machine) has the LLVM x86
/// feature, e.g. "sse4.1".
bool cpuHasFeature(llvm::StringRef cpu, llvm::StringRef feature);
/// True when the named CPU (or "native": this machine) has AVX-512 VNNI.
bool cpuHasAvx512Vnni(llvm::StringRef cpu);

} // namespace resq

#endif // RESQ_CONVERSION_PASSES_H
