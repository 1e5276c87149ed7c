//===- QuantizerTest.cpp - generated quantizer math vs scalar reference ---===//
//
// The residual rounding, clamping, bit-width choice and closed-loop update of
// the generated kernels, checked element by element against the scalar
// statement of the contract (resq/Support/ResidualMath.h), itself checked
// against the contract's definitions. The trick: a 1x1 convolution with
// identity weights, no bias and no zero point has ACC(R) == R, so the layer's
// raw accumulator shows the reconstructed input the compiled code keeps.
//
//===----------------------------------------------------------------------===//

#include "resq/Runtime/Session.h"
#include "resq/Support/ResidualMath.h"

#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>
#include <string>

using namespace resq;
using namespace resq::runtime;

namespace {

//===----------------------------------------------------------------------===//
// The scalar reference against the contract's own definitions
//===----------------------------------------------------------------------===//

TEST(ResidualMath, RoundingIsHalfAwayFromZero) {
  for (int64_t step = 1; step <= 32; ++step)
    for (int64_t d = -600; d <= 600; ++d) {
      // std::round rounds halves away from zero; exact for these sizes.
      int64_t expected = static_cast<int64_t>(
          std::round(std::fabs(double(d)) / double(step)));
      ASSERT_EQ(roundedMagnitude(d, step), expected) << d << " / " << step;
    }
}

TEST(ResidualMath, QuantizeClampsSymmetrically) {
  for (int64_t bits = 2; bits <= 8; ++bits) {
    int64_t range = (1 << (bits - 1)) - 1;
    EXPECT_EQ(quantizeResidual(1000, 1, bits), range);
    EXPECT_EQ(quantizeResidual(-1000, 1, bits), -range);
    EXPECT_EQ(quantizeResidual(range, 1, bits), range);
  }
  EXPECT_EQ(quantizeResidual(77, 4, 0), 0);
  EXPECT_EQ(quantizeResidual(6, 4, 8), 2);   // 6/4 = 1.5 -> 2
  EXPECT_EQ(quantizeResidual(-6, 4, 8), -2); // sign kept
  EXPECT_EQ(quantizeResidual(5, 4, 8), 1);
}

TEST(ResidualMath, BitWidthIsTheSmallestThatFits) {
  std::vector<int64_t> allowed = {0, 2, 4, 8};
  EXPECT_EQ(selectBitWidth(0, allowed), 0);
  EXPECT_EQ(selectBitWidth(1, allowed), 2);
  EXPECT_EQ(selectBitWidth(2, allowed), 4);
  EXPECT_EQ(selectBitWidth(7, allowed), 4);
  EXPECT_EQ(selectBitWidth(8, allowed), 8);
  EXPECT_EQ(selectBitWidth(500, allowed), 8); // none fits: the widest
  EXPECT_EQ(selectBitWidth(0, {2, 8}), 2);    // no 0 allowed: never skipped
}

TEST(ResidualMath, ClosedLoopErrorIsBoundedByHalfAStep) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> code(-128, 127);
  for (int64_t step : {1, 2, 3, 4, 7, 16}) {
    int64_t r = code(rng);
    for (int frame = 0; frame < 200; ++frame) {
      int64_t x = code(rng);
      bool clamped = roundedMagnitude(x - r, step) > bitWidthRange(8);
      r = updateReconstruction(r, x, step, 8);
      if (!clamped)
        ASSERT_LE(std::llabs(x - r), step / 2) << "step " << step;
    }
  }
}

TEST(ResidualMath, NineBitsNeverClamp) {
  // Every pair of int8 codes, and R up to s/2 outside the int8 range.
  for (int64_t step : {1, 2, 3, 4, 5, 7}) {
    for (int64_t r = -128 - step / 2; r <= 127 + step / 2; ++r)
      for (int64_t x = -128; x <= 127; ++x) {
        int64_t updated = updateReconstruction(r, x, step, 9);
        ASSERT_LE(std::llabs(x - updated), step / 2)
            << "step " << step << " R " << r << " X " << x;
        // An odd step: exactly the unclamped 9-bit Q, in one step.
        if (step % 2)
          ASSERT_EQ(updated, r + step * quantizeResidual(x - r, step, 9))
              << "step " << step << " R " << r << " X " << x;
      }
  }
}

TEST(ResidualMath, ApplyScaleMatchesTheSpecExamples) {
  // 0.5 as multiplier 2^30 with shift 31: 7 -> 3.5 -> 4 (round half up).
  EXPECT_EQ(applyScale32(7, 1 << 30, 31, false), 4);
  EXPECT_EQ(applyScale32(-7, 1 << 30, 31, false), -3);
  // Double rounding only matters above shift 31: 362 * 1518500250 / 2^40
  // is 0.49995; the extra 2^30 carries it to 1 (and -362 to -1).
  EXPECT_EQ(applyScale32(362, 1518500250, 40, false), 0);
  EXPECT_EQ(applyScale32(362, 1518500250, 40, true), 1);
  EXPECT_EQ(applyScale32(-362, 1518500250, 40, false), 0);
  EXPECT_EQ(applyScale32(-362, 1518500250, 40, true), -1);
  EXPECT_EQ(applyScale32(362, 1518500250, 31, true),
            applyScale32(362, 1518500250, 31, false));
}

//===----------------------------------------------------------------------===//
// The generated code against the scalar reference
//===----------------------------------------------------------------------===//

constexpr int64_t kSide = 16, kChannels = 16;

/// One identity 1x1 convolution over 1 x kSide x kSide x kChannels returning
/// its raw accumulator: A == R.
std::string identityLayer(const std::string &residual) {
  std::string weights;
  llvm::raw_string_ostream os(weights);
  os << "[";
  for (int64_t o = 0; o < kChannels; ++o) {
    os << (o ? ", " : "") << "[[[";
    for (int64_t c = 0; c < kChannels; ++c)
      os << (c ? ", " : "") << (o == c ? 1 : 0);
    os << "]]]";
  }
  os << "]";
  std::string shape = "1x" + std::to_string(kSide) + "x" +
                      std::to_string(kSide) + "x" + std::to_string(kChannels);
  std::string wType = "tensor<" + std::to_string(kChannels) + "x1x1x" +
                      std::to_string(kChannels) + "xi8>";
  std::string bType = "tensor<" + std::to_string(kChannels) + "xi32>";
  return "func.func @main(%s: !resq.stream, %x: tensor<" + shape +
         "xi8>) -> tensor<" + shape + "xi32> {\n"
         "  resq.begin_frame %s\n"
         "  %w = \"tosa.const\"() <{values = dense<" + weights + "> : " +
         wType + "}> : () -> " + wType + "\n"
         "  %b = \"tosa.const\"() <{values = dense<0> : " + bType +
         "}> : () -> " + bType + "\n"
         "  %zp = \"tosa.const\"() <{values = dense<0> : tensor<1xi8>}> : () "
         "-> tensor<1xi8>\n"
         "  %acc = resq.conv2d \"identity\" %s, %x, %w, %b, %zp {dilation = "
         "array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: "
         "1, 1>} residual " + residual + " : (tensor<" + shape + "xi8>, " +
         wType + ", " + bType + ", tensor<1xi8>) -> tensor<" + shape +
         "xi32>\n"
         "  return %acc : tensor<" + shape + "xi32>\n}\n";
}

using Frame = std::vector<int8_t>;

/// Frames that cover every int8 residual: random codes, then codes
/// offset by every value, then large jumps that must clamp.
std::vector<Frame> testFrames() {
  const int64_t n = kSide * kSide * kChannels;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> code(-128, 127);
  std::vector<Frame> frames;
  Frame first(n);
  for (auto &v : first)
    v = static_cast<int8_t>(code(rng));
  frames.push_back(first);
  for (int k = 0; k < 6; ++k) {
    Frame next(n);
    for (int64_t i = 0; i < n; ++i) {
      // Small moves in most pixels, some pixels unchanged, some jumps.
      int64_t pixel = i / kChannels;
      int64_t base = frames.back()[i];
      int64_t value = pixel % 5 == 0 ? base
                      : pixel % 7 == 0 ? code(rng)
                                       : base + (code(rng) % (3 + 2 * k));
      next[i] = static_cast<int8_t>(std::clamp<int64_t>(value, -128, 127));
    }
    frames.push_back(next);
  }
  // The largest jumps, |D| = 255: every other pixel flips between the ends
  // of the range and back.
  for (int k = 0; k < 3; ++k) {
    Frame next = frames.back();
    for (int64_t i = 0; i < n; ++i)
      if ((i / kChannels) % 2 == 0)
        next[i] = k % 2 ? -128 : 127;
      else if (k == 0)
        next[i] = -128;
    frames.push_back(next);
  }
  return frames;
}

/// Runs the frames through the compiled layer and checks R (the
/// accumulator) and the bit-width histogram against the scalar reference.
void checkAgainstReference(int64_t step, const std::vector<int64_t> &allowed,
                           int64_t block) {
  std::string residual = "<step = " + std::to_string(step) + ", bits = [";
  for (size_t i = 0; i < allowed.size(); ++i)
    residual += (i ? ", " : "") + std::to_string(allowed[i]);
  residual += "], block = " + std::to_string(block) + ">";
  SCOPED_TRACE(residual);

  auto created =
      Session::createFromSource(identityLayer(residual), "identity.mlir");
  ASSERT_TRUE(bool(created)) << llvm::toString(created.takeError());
  Session &session = **created;
  Stream stream = session.createStream();

  const int64_t n = kSide * kSide * kChannels;
  std::vector<int64_t> r(n, 0);
  std::vector<int32_t> acc(n);
  std::vector<Frame> frames = testFrames();
  for (size_t f = 0; f < frames.size(); ++f) {
    const Frame &x = frames[f];
    ASSERT_FALSE(bool(session.step(stream, {x.data()}, {acc.data()})));
    std::array<int64_t, kMaxBitWidth + 1> histogram{};
    if (f == 0) {
      for (int64_t i = 0; i < n; ++i)
        r[i] = x[i];
    } else {
      // Per block: the largest rounded residual picks the bit-width.
      for (int64_t by = 0; by < kSide; by += block)
        for (int64_t bx = 0; bx < kSide; bx += block) {
          int64_t largest = 0;
          for (int64_t y = by; y < std::min(by + block, kSide); ++y)
            for (int64_t xx = bx; xx < std::min(bx + block, kSide); ++xx)
              for (int64_t c = 0; c < kChannels; ++c) {
                int64_t i = (y * kSide + xx) * kChannels + c;
                largest = std::max(largest, roundedMagnitude(x[i] - r[i], step));
              }
          int64_t bits = selectBitWidth(largest, allowed);
          ++histogram[bits];
          for (int64_t y = by; y < std::min(by + block, kSide); ++y)
            for (int64_t xx = bx; xx < std::min(bx + block, kSide); ++xx)
              for (int64_t c = 0; c < kChannels; ++c) {
                int64_t i = (y * kSide + xx) * kChannels + c;
                r[i] = updateReconstruction(r[i], x[i], step, bits);
              }
        }
    }
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(acc[i], r[i]) << "frame " << f << " element " << i
                              << " input " << int(x[i]);
    LayerStats stats = stream.stats(0);
    EXPECT_EQ(stats.keyframe, f == 0) << "frame " << f;
    if (f > 0)
      for (int64_t b = 0; b <= kMaxBitWidth; ++b)
        EXPECT_EQ(stats.bits[b], histogram[b]) << "frame " << f << " b " << b;
  }
}

class StaticBits : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(StaticBits, MatchesReference) {
  auto [step, bits] = GetParam();
  checkAgainstReference(step, {bits}, 1);
}

INSTANTIATE_TEST_SUITE_P(Quantizer, StaticBits,
                         ::testing::Combine(::testing::Values(1, 2, 3, 4, 5,
                                                              8, 16),
                                            ::testing::Values(2, 3, 5, 8, 9)));

TEST(Quantizer, DynamicBitsPerPixelMatchReference) {
  checkAgainstReference(4, {0, 2, 4, 8}, 1);
  checkAgainstReference(3, {0, 2, 3, 4, 5, 6, 7, 8}, 1);
}

TEST(Quantizer, NineBitsMatchReference) {
  for (int64_t step : {1, 2, 3})
    for (int64_t block : {1, 2})
      checkAgainstReference(step, {0, 2, 4, 6, 8, 9}, block);
}

TEST(Quantizer, DynamicBitsPerBlockMatchReference) {
  checkAgainstReference(2, {0, 3, 6}, 4);
  checkAgainstReference(5, {0, 2, 4, 8}, 3); // partial edge blocks
}

//===----------------------------------------------------------------------===//
// TOSA rescale as lowered by upstream, against apply_scale_32
//===----------------------------------------------------------------------===//

TEST(Rescale, PerChannelMatchesApplyScale) {
  const int64_t channels = 4, count = 256;
  const int32_t multipliers[channels] = {1073741824, 1518500250, 1276901417,
                                         2147483000};
  const int8_t shifts[channels] = {31, 35, 38, 44};
  const int32_t outputZp = -3;
  for (bool doubleRound : {false, true}) {
    SCOPED_TRACE(doubleRound ? "DOUBLE_ROUND" : "SINGLE_ROUND");
    std::string source =
        "func.func @main(%x: tensor<" + std::to_string(count) +
        "x4xi32>) -> tensor<" + std::to_string(count) + "x4xi8> {\n"
        "  %m = \"tosa.const\"() <{values = dense<[1073741824, 1518500250, "
        "1276901417, 2147483000]> : tensor<4xi32>}> : () -> tensor<4xi32>\n"
        "  %sh = \"tosa.const\"() <{values = dense<[31, 35, 38, 44]> : "
        "tensor<4xi8>}> : () -> tensor<4xi8>\n"
        "  %iz = \"tosa.const\"() <{values = dense<0> : tensor<1xi32>}> : () "
        "-> tensor<1xi32>\n"
        "  %oz = \"tosa.const\"() <{values = dense<-3> : tensor<1xi8>}> : () "
        "-> tensor<1xi8>\n"
        "  %y = tosa.rescale %x, %m, %sh, %iz, %oz {input_unsigned = false, "
        "output_unsigned = false, per_channel = true, rounding_mode = " +
        std::string(doubleRound ? "DOUBLE_ROUND" : "SINGLE_ROUND") +
        ", scale32 = true} : (tensor<" + std::to_string(count) +
        "x4xi32>, tensor<4xi32>, tensor<4xi8>, tensor<1xi32>, tensor<1xi8>) "
        "-> tensor<" + std::to_string(count) + "x4xi8>\n"
        "  return %y : tensor<" + std::to_string(count) + "x4xi8>\n}\n";
    auto created = Session::createFromSource(source, "rescale.mlir");
    ASSERT_TRUE(bool(created)) << llvm::toString(created.takeError());
    std::mt19937 rng(3);
    std::uniform_int_distribution<int32_t> value(-400000, 400000);
    std::vector<int32_t> in(count * channels);
    for (auto &v : in)
      v = value(rng);
    in[0] = 0;
    in[1] = -1;
    std::vector<int8_t> out(count * channels);
    ASSERT_FALSE(bool((*created)->step({in.data()}, {out.data()})));
    for (int64_t i = 0; i < count * channels; ++i) {
      int64_t c = i % channels;
      int64_t expected =
          int64_t(applyScale32(in[i], multipliers[c], shifts[c], doubleRound)) +
          outputZp;
      expected = std::clamp<int64_t>(expected, -128, 127);
      ASSERT_EQ(out[i], expected) << "value " << in[i] << " channel " << c;
    }
  }
}

} // namespace
