//===- ResidualMath.h - scalar reference of the ResQ numeric contract -*- C++ -*-===//
//
// Plain scalar statements of RESQ-SEMANTICS.md, one function per rule. The
// generated kernels are checked against these bit for bit; nothing here runs
// in compiled models.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_SUPPORT_RESIDUALMATH_H
#define RESQ_SUPPORT_RESIDUALMATH_H

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace resq {

/// The symmetric range of a b-bit residual code: 2^(b-1) - 1 (0 for b = 0).
inline int64_t bitWidthRange(int64_t bits) {
  return bits == 0 ? 0 : (int64_t(1) << (bits - 1)) - 1;
}

/// |D| rounded by the step, half away from zero: (|D| + floor(s/2)) div s.
inline int64_t roundedMagnitude(int64_t residual, int64_t step) {
  return (std::llabs(residual) + step / 2) / step;
}

/// Q = sign(D) * min(round(|D| / s), 2^(b-1) - 1).
inline int64_t quantizeResidual(int64_t residual, int64_t step, int64_t bits) {
  int64_t q = roundedMagnitude(residual, step);
  int64_t range = bitWidthRange(bits);
  if (q > range)
    q = range;
  return residual < 0 ? -q : q;
}

/// The smallest allowed bit-width whose range holds `maxRounded`; the
/// largest one when none does. `allowed` is strictly increasing.
inline int64_t selectBitWidth(int64_t maxRounded,
                              const std::vector<int64_t> &allowed) {
  for (int64_t bits : allowed)
    if (bitWidthRange(bits) >= maxRounded)
      return bits;
  return allowed.back();
}

/// One residual-frame update of a reconstructed input code:
/// R <- R + s * Q(X - R). The linear op takes byte codes, so a 9-bit block
/// runs in rounds of 8-bit codes: while the last round clamped, another
/// one quantizes what is left, rounding half toward zero (a pixel within
/// s/2 stays). With an odd step that is the unclamped 9-bit Q; with an even
/// one, a remainder of exactly s/2 stays.
inline int64_t updateReconstruction(int64_t reconstructed, int64_t input,
                                    int64_t step, int64_t bits) {
  int64_t codeBits = bits < 8 ? bits : 8;
  int64_t d = input - reconstructed;
  int64_t r = reconstructed + step * quantizeResidual(d, step, codeBits);
  bool clamped = bits > 8 && roundedMagnitude(d, step) > bitWidthRange(8);
  while (clamped) {
    d = input - r;
    int64_t left = (std::llabs(d) + (step - 1) / 2) / step;
    int64_t q = left < bitWidthRange(8) ? left : bitWidthRange(8);
    r += step * (d < 0 ? -q : q);
    clamped = left > bitWidthRange(8);
  }
  return r;
}

/// TOSA apply_scale_32: (value * multiplier + rounding) >> shift, with
/// DOUBLE_ROUND adding one more rounding step for shifts above 31.
inline int32_t applyScale32(int32_t value, int32_t multiplier, int8_t shift,
                            bool doubleRound) {
  int64_t round = int64_t(1) << (shift - 1);
  if (doubleRound && shift > 31)
    round += value >= 0 ? (int64_t(1) << 30) : -(int64_t(1) << 30);
  int64_t result = int64_t(value) * multiplier + round;
  return static_cast<int32_t>(result >> shift);
}

} // namespace resq

#endif // RESQ_SUPPORT_RESIDUALMATH_H
