//===- ResQ.h - ResQ dialect -------------------------------------*- C++ -*-===//
//
// The ResQ dialect: residual-quantized linear layers with per-stream state.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_DIALECT_RESQ_H
#define RESQ_DIALECT_RESQ_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "resq/Support/StatsLayout.h"

#include "ResQ/IR/ResQDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "ResQ/IR/ResQAttrs.h.inc"
#define GET_TYPEDEF_CLASSES
#include "ResQ/IR/ResQTypes.h.inc"
#define GET_OP_CLASSES
#include "ResQ/IR/ResQOps.h.inc"

#include <vector>

namespace resq {

/// What a residualized linear layer computes, in one normalized form that
/// covers all four op kinds: an N x IH x IW x IC input image, an
/// N x OH x OW x OC output image and a KH x KW window. A matmul is a 1x1
/// window over an N x H x 1 x C image.
struct LinearGeometry {
  enum class Kind { Conv, Depthwise, Transpose, MatMul };
  Kind kind = Kind::Conv;
  int64_t n = 1, ih = 1, iw = 1, ic = 1;
  int64_t oh = 1, ow = 1, oc = 1;
  int64_t kh = 1, kw = 1;
  int64_t strideY = 1, strideX = 1, dilationY = 1, dilationX = 1;
  /// Conv/depthwise: padding before the first row/column. Transpose: the
  /// out_pad offset added to every output coordinate.
  int64_t padTop = 0, padLeft = 0;
  /// Depthwise channel multiplier (output channel c * M + m).
  int64_t multiplier = 1;

  /// MACs of one output pixel through one window tap.
  int64_t macsPerTap() const { return kind == Kind::Depthwise ? oc : oc * ic; }
  /// MACs of the whole dense layer (valid taps only).
  int64_t denseMacs() const;
  /// Per input row (`rows`) or column: how many (output, tap) pairs of the
  /// window read it. Validity factors into rows and columns, so input pixel
  /// (y, x) is read by uses(true)[y] * uses(false)[x] pairs.
  std::vector<int64_t> inputUses(bool rows) const;
};

/// The normalized geometry of a residualized linear op. The op's verifier
/// guarantees that shapes are static and consistent.
LinearGeometry getLinearGeometry(mlir::Operation *op);

/// The `layer` name and `residual` attribute of any residualized linear op,
/// or null values when `op` is not one.
mlir::StringAttr getLayerName(mlir::Operation *op);
ResidualAttr getResidual(mlir::Operation *op);
void setResidual(mlir::Operation *op, ResidualAttr attr);
bool isResidualLinearOp(mlir::Operation *op);

/// True when `bits` is an allowed bit-width: 0 or 2..9.
inline bool isAllowedBitWidth(int64_t bits) {
  return bits == 0 || (bits >= 2 && bits <= kMaxBitWidth);
}

} // namespace resq

#endif // RESQ_DIALECT_RESQ_H
