//===- FiniteClamps.h - clamps of values that cannot be NaN -----*- C++ -*-===//
//
// Part of resq-optimize-glue (OptimizeGlue.cpp): the clamps of the glue.
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

/// On AVX-512, the requantization of such values to int8 (roundeven,
/// clamps to 127 and -128 marked nnan by relaxFiniteClamps, fptosi) on
/// vectors of 8k lanes becomes the clamp to 127, resq.round_to_int per 16
/// lanes (8 in the lower half of one) and a saturating truncation: three
/// instructions instead of five.
void roundToInt8(mlir::Operation *root);

} // namespace resq

#endif // RESQ_CONVERSION_FINITECLAMPS_H
