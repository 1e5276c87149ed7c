//===- TFLite.h - import TFLite FlatBuffer models as TOSA -------*- C++ -*-===//
//
// Turns a TFLite model (schema version 3 FlatBuffer, first subgraph) into a
// module holding one `func.func @main` in TOSA v1.0:
//
//  - arguments and results are the subgraph's inputs and outputs, in order,
//    each with the attribute `resq.name = "<tflite tensor name>"`;
//  - every operation carries `NameLoc("<name of the TFLite output tensor>")`
//    of the TFLite operator it comes from (constants: of their tensor);
//  - float models become f32 TOSA (fp16 weights behind DEQUANTIZE are folded
//    into f32 constants); int8-quantized tensors become i8 with zero-point
//    operands and `tosa.rescale` (per-channel where TFLite is);
//  - shapes are static.
//
// Errors (malformed or truncated files, unsupported operators, inconsistent
// shapes) are reported as MLIR diagnostics located at the file name (and the
// operator's output tensor); the importer never reads out of bounds.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_IMPORTER_TFLITE_H
#define RESQ_IMPORTER_TFLITE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace resq {

/// What an import saw, for summaries.
struct TFLiteImportStats {
  /// TFLite operators by type ("CONV_2D", or "CUSTOM:<code>"), most frequent
  /// first.
  std::vector<std::pair<std::string, unsigned>> operatorCounts;
  unsigned numOperators = 0;
  /// Elements of the constant tensors that operators read as weights, biases
  /// or other data (not shapes, axes or permutations).
  uint64_t numParameters = 0;
  unsigned numInputs = 0, numOutputs = 0;
};

/// Imports the TFLite model held in `bytes`. `fileName` names the model in
/// locations and messages. Diagnostics go to `ctx`'s diagnostic engine.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
importTFLite(llvm::StringRef bytes, llvm::StringRef fileName,
             mlir::MLIRContext *ctx);

/// As above, also filling `stats` (when not null) on success.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
importTFLite(llvm::StringRef bytes, llvm::StringRef fileName,
             mlir::MLIRContext *ctx, TFLiteImportStats *stats);

} // namespace resq

#endif // RESQ_IMPORTER_TFLITE_H
