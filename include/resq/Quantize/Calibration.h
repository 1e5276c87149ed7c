//===- Calibration.h - activation ranges and int8 parameters -----*- C++ -*-===//
//
// The numeric half of calibration, free of MLIR: value histograms collected
// over real frames and the choice of an int8 scale and zero point for them.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_QUANTIZE_CALIBRATION_H
#define RESQ_QUANTIZE_CALIBRATION_H

#include <cstdint>
#include <string>
#include <vector>

namespace resq {

/// Affine int8 quantization: real = scale * (code - zeroPoint).
struct QuantParams {
  double scale = 1.0;
  int32_t zeroPoint = 0;

  int32_t quantize(double real) const;
  double dequantize(int32_t code) const { return scale * (code - zeroPoint); }
};

/// How an activation range is chosen from its histogram.
enum class RangeMethod {
  MinMax,     // the observed range (known to be poor: outliers waste codes)
  Percentile, // the central `percentile` % of values
  Mse,        // the clipping range that minimizes the expected squared error
};

/// A histogram of one tensor's values over all calibration frames. Built in
/// two passes: observe() the range, then add() with the range fixed.
class Histogram {
public:
  static constexpr int kBins = 2048;

  void observe(const float *values, int64_t count);
  void add(const float *values, int64_t count);
  bool hasRange() const { return seen > 0; }

  float min() const { return lo; }
  float max() const { return hi; }
  int64_t count() const { return total; }
  const std::vector<int64_t> &bins() const { return counts; }
  double binCenter(int bin) const;
  /// Variance of the values (bin centres weighted by counts).
  double variance() const;

  /// The int8 parameters for this tensor; the range always contains 0 so
  /// that zero (padding, ReLU output) is exact.
  QuantParams choose(RangeMethod method, double percentile = 99.99) const;
  /// Expected squared error of quantizing this tensor with `params`
  /// (rounding noise inside the range, clipping error outside).
  double expectedError(const QuantParams &params) const;

private:
  float lo = 0, hi = 0;
  int64_t seen = 0, total = 0;
  std::vector<int64_t> counts;
};

/// The int8 parameters covering [lo, hi] (0 included) with 256 codes.
QuantParams paramsForRange(double lo, double hi);

} // namespace resq

#endif // RESQ_QUANTIZE_CALIBRATION_H
