//===- CalibrationTest.cpp - activation ranges and int8 parameters --------===//

#include "resq/Quantize/Calibration.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace resq;

namespace {

Histogram histogramOf(const std::vector<float> &values) {
  Histogram h;
  h.observe(values.data(), values.size());
  h.add(values.data(), values.size());
  return h;
}

TEST(Calibration, ZeroIsExact) {
  for (auto [lo, hi] : {std::pair{-1.3, 2.7}, {0.0, 6.0}, {-4.0, 0.0},
                        {0.2, 0.9}}) {
    QuantParams p = paramsForRange(lo, hi);
    EXPECT_EQ(p.dequantize(p.zeroPoint), 0.0);
    EXPECT_LE(p.dequantize(-128), std::min(lo, 0.0) + p.scale);
    EXPECT_GE(p.dequantize(127), std::max(hi, 0.0) - p.scale);
  }
}

TEST(Calibration, EightBitPixelsQuantizeExactly) {
  // Frames of 8-bit video in [0, 1]: scale 1/255 represents them exactly.
  std::vector<float> pixels;
  for (int v = 0; v < 256; ++v)
    for (int k = 0; k < 10; ++k)
      pixels.push_back(v / 255.0f);
  QuantParams p = histogramOf(pixels).choose(RangeMethod::Mse);
  EXPECT_NEAR(p.scale, 1.0 / 255.0, 1e-9);
  EXPECT_EQ(p.zeroPoint, -128);
  for (int v = 0; v < 256; ++v)
    EXPECT_NEAR(p.dequantize(p.quantize(v / 255.0)), v / 255.0, 1e-6);
}

TEST(Calibration, MseClipsHeavyTails) {
  // Laplacian activations: rare large values stretch min/max; the squared
  // error is lower with them clipped.
  std::mt19937 rng(5);
  std::exponential_distribution<float> exponential(1.0f);
  std::bernoulli_distribution sign(0.5);
  std::vector<float> values;
  for (int i = 0; i < 200000; ++i)
    values.push_back(sign(rng) ? exponential(rng) : -exponential(rng));
  Histogram h = histogramOf(values);
  QuantParams minmax = h.choose(RangeMethod::MinMax);
  QuantParams mse = h.choose(RangeMethod::Mse);
  EXPECT_LT(mse.dequantize(127), 0.8 * minmax.dequantize(127));
  EXPECT_LT(h.expectedError(mse), 0.8 * h.expectedError(minmax));
}

TEST(Calibration, PercentileDropsARareOutlier) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values;
  for (int i = 0; i < 200000; ++i)
    values.push_back(normal(rng));
  values.push_back(60.0f);
  Histogram h = histogramOf(values);
  EXPECT_GE(h.choose(RangeMethod::MinMax).dequantize(127), 59.0);
  EXPECT_LT(h.choose(RangeMethod::Percentile, 99.9).dequantize(127), 5.0);
  // The MSE choice is never worse than min/max by its own measure.
  EXPECT_LE(h.expectedError(h.choose(RangeMethod::Mse)),
            h.expectedError(h.choose(RangeMethod::MinMax)));
}

TEST(Calibration, QuantizeRoundsHalfToEvenAndSaturates) {
  QuantParams p{0.5, 3};
  EXPECT_EQ(p.quantize(0.25), 4);  // 0.5 + 3 = 3.5 -> 4
  EXPECT_EQ(p.quantize(0.75), 4);  // 1.5 + 3 = 4.5 -> 4
  EXPECT_EQ(p.quantize(1000.0), 127);
  EXPECT_EQ(p.quantize(-1000.0), -128);
}

} // namespace
