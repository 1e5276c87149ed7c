//===- StatsLayout.h - a layer's statistics record in the stream -*- C++ -*-===//
//
// The int64 slots of the statistics a residualized layer keeps for the last
// frame in its stream's state. The lowering writes them (LowerStream), the
// session and the generated C header read them; all three use this one
// definition.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_SUPPORT_STATSLAYOUT_H
#define RESQ_SUPPORT_STATSLAYOUT_H

#include <cstdint>

namespace resq {

/// The widest residual bit-width: 9 bits hold any difference of two int8
/// codes (|D| <= 255), so a block allowed 9 bits never clamps.
constexpr int64_t kMaxBitWidth = 9;

/// The widest bit-width one pass of the linear op takes: its codes are
/// bytes. A 9-bit block runs in rounds of 8-bit codes (docs/Rationale.md,
/// "Nine bits").
constexpr int64_t kCodeBits = 8;

/// int64 slots of a layer's statistics record.
enum StatSlot : int64_t {
  kStatKeyframe = 0,  // the layer ran the keyframe path
  kStatSceneCut = 1,  // its residuals made the frame a keyframe
  kStatHist = 2,      // kStatHist + b: blocks with bit-width b, 0..9
  kStatBlocks = kStatHist + kMaxBitWidth + 1,
  kStatMacs = kStatBlocks + 1,
  kStatBops = kStatMacs + 1,
  /// Blocks that still need more than 8 bits after a round: the next round
  /// runs while it is not 0 (the step's own bookkeeping, not a statistic).
  kStatRoundsLeft = kStatBops + 1,
  kStatSlots = 16
};
static_assert(kStatRoundsLeft < kStatSlots, "statistics record overflows");

} // namespace resq

#endif // RESQ_SUPPORT_STATSLAYOUT_H
