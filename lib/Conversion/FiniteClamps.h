//===- FiniteClamps.h - clamps of values that cannot be NaN -----*- C++ -*-===//
//
// Part of resq-optimize-glue (OptimizeGlue.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_CONVERSION_FINITECLAMPS_H
#define RESQ_CONVERSION_FINITECLAMPS_H

namespace mlir {
class Operation;
} // namespace mlir

namespace resq {

/// The glue's clamps (arith.minimumf / maximumf: ReLU, ReLU6, hard-swish,
/// the requantization's [-128, 127]) must return NaN for a NaN operand
/// and order -0 below +0, which costs x86 a compare and blends around
/// each vminps / vmaxps. Most glue values are dequantized integers times
/// finite constants: a bound on their magnitude, computed from the ops that
/// produce them, proves them finite. A clamp of two such values is marked
/// `nnan` (and `nsz` when the sign of a zero cannot reach any result:
/// its users only compute with it until it is converted to an integer);
/// a clamp whose bound lies beyond its operand's (ReLU's min with the
/// largest float) is removed. Every result stays the same, bit for bit.
void relaxFiniteClamps(mlir::Operation *root);

} // namespace resq

#endif // RESQ_CONVERSION_FINITECLAMPS_H
