//===- Quantize.h - float TOSA graph -> int8 linear layers -------*- C++ -*-===//
//
// Calibration turns the float linear layers of a TOSA graph (conv2d,
// depthwise_conv2d, transpose_conv2d, matmul with constant weights) into
// standard int8 layers: per-tensor affine int8 inputs with ranges measured
// on real frames, per-channel symmetric int8 weights, int32 bias and
// accumulator. The graph keeps its float inputs and outputs; each int8 layer
// quantizes its input on the way in and dequantizes its accumulator on the
// way out, so everything else stays as the model had it.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_QUANTIZE_QUANTIZE_H
#define RESQ_QUANTIZE_QUANTIZE_H

#include "resq/Quantize/Calibration.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"

#include <string>
#include <vector>

namespace resq {

/// A float linear layer of the step function.
struct FloatLayer {
  mlir::Operation *op = nullptr;
  std::string name;
  /// Index of its input among the distinct layer inputs (several layers may
  /// read one tensor; it gets one set of parameters).
  unsigned inputIndex = 0;
};

/// The float linear layers of `entry`, in program order, named as
/// `--resq-residualize` will name them.
llvm::SmallVector<FloatLayer> findFloatLayers(mlir::ModuleOp module,
                                              llvm::StringRef entry);

/// A copy of `module` whose `entry` also returns every distinct layer input
/// (after its own results), so running it over frames observes them.
mlir::OwningOpRef<mlir::ModuleOp>
instrumentLayerInputs(mlir::ModuleOp module, llvm::StringRef entry);

/// What calibration decided for one layer.
struct LayerQuantization {
  std::string name;
  std::string kind;
  bool keptFloat = false;
  QuantParams input;
  double minWeightScale = 0, maxWeightScale = 0;
  /// Fraction of calibration values outside the chosen input range.
  double clippedFraction = 0;
  /// Expected squared input error relative to the input's variance.
  double relativeInputError = 0;
};

struct QuantizeOptions {
  /// Layers (by name) left in float.
  std::vector<std::string> floatLayers;
  /// Per distinct layer input (FloatLayer::inputIndex), the mean of each
  /// channel (the last dimension) over the calibration frames. When given,
  /// conv2d and depthwise_conv2d biases absorb the mean shift the rounded
  /// weights cause: for output channel o, sum over its taps of
  /// (W_q - W) * E[x] (bias correction). Padding taps are counted as if
  /// they read the mean too.
  std::vector<std::vector<double>> inputChannelMeans;
};

/// Rewrites every float linear layer of `entry` into an int8 layer with the
/// input parameters chosen per distinct input. Diagnostics go to the ops.
mlir::LogicalResult
quantizeFloatLayers(mlir::ModuleOp module, llvm::StringRef entry,
                    llvm::ArrayRef<QuantParams> inputParams,
                    const QuantizeOptions &options,
                    std::vector<LayerQuantization> &report);

} // namespace resq

#endif // RESQ_QUANTIZE_QUANTIZE_H
