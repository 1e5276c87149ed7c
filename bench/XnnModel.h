//===- XnnModel.h - a float TOSA graph run by XNNPACK ---------------------===//
//
// The benchmark's peer: the same model, with the same weights, built from
// the imported float TOSA function into an XNNPACK subgraph and run by
// XNNPACK's runtime, in fp32 or in int8 (qs8 activations, per-channel
// weights, activation ranges observed on calibration frames). Ops XNNPACK
// cannot run in int8 run in fp32 between conversions, as XNNPACK's own
// TFLite delegate would.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_BENCH_XNNMODEL_H
#define RESQ_BENCH_XNNMODEL_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir {
namespace func {
class FuncOp;
} // namespace func
} // namespace mlir

namespace resq {
namespace bench {

/// The int8 range of one activation of the float graph (what its codes
/// -128 and 127 stand for), keyed by the mlir::Value's opaque pointer.
struct ActivationRange {
  float min = 0, max = 0;
};
using ActivationRanges = llvm::DenseMap<void *, ActivationRange>;

enum class XnnPrecision { Fp32, Int8 };

struct XnnOptions {
  XnnPrecision precision = XnnPrecision::Fp32;
  unsigned threads = 1;
  /// Fp32 only: every activation becomes an external output so that
  /// forEachActivation() can read it (slower; for calibration).
  bool exposeActivations = false;
  /// Int8 only: the ranges from a calibration model.
  const ActivationRanges *ranges = nullptr;
};

class XnnModel {
public:
  /// Builds the model from `func` (one tensor<1xHxWxCxf32> input; results
  /// any float tensors). Errors name the op XNNPACK cannot express.
  static llvm::Expected<std::unique_ptr<XnnModel>>
  create(mlir::func::FuncOp func, const XnnOptions &options);
  ~XnnModel();

  /// One inference: `input` and `outputs[k]` hold the function's argument
  /// and results, dense, C order.
  llvm::Error run(const float *input, llvm::ArrayRef<float *> outputs);

  /// After run() of a model created with exposeActivations: calls `fn`
  /// with every activation of that run (the input included) and its key in
  /// ActivationRanges.
  void forEachActivation(
      llvm::function_ref<void(void *, llvm::ArrayRef<float>)> fn) const;

  /// How the graph was built, e.g. "int8: add x25, conv2d x43; fp32:
  /// transpose_conv2d x1; 4 conversions".
  const std::string &summary() const { return summaryText; }

private:
  struct Impl;
  XnnModel();
  std::unique_ptr<Impl> impl;
  std::string summaryText;
};

} // namespace bench
} // namespace resq

#endif // RESQ_BENCH_XNNMODEL_H
