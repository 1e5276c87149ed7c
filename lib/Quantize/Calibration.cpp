//===- Calibration.cpp - activation ranges and int8 parameters ------------===//

#include "resq/Quantize/Calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace resq;

int32_t QuantParams::quantize(double real) const {
  // Round half to even after adding the zero point, as tosa.cast does.
  double code = std::nearbyint(real / scale + zeroPoint);
  return static_cast<int32_t>(std::clamp(code, -128.0, 127.0));
}

QuantParams resq::paramsForRange(double lo, double hi) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  if (hi - lo < 1e-12)
    hi = lo + 1e-12;
  QuantParams p;
  p.scale = (hi - lo) / 255.0;
  // The zero point is an integer code, so 0.0 is represented exactly.
  double zp = std::nearbyint(-128.0 - lo / p.scale);
  p.zeroPoint = static_cast<int32_t>(std::clamp(zp, -128.0, 127.0));
  return p;
}

void Histogram::observe(const float *values, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    float v = values[i];
    if (!std::isfinite(v))
      continue;
    if (seen == 0) {
      lo = hi = v;
    } else {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    ++seen;
  }
}

void Histogram::add(const float *values, int64_t count) {
  if (counts.empty())
    counts.assign(kBins, 0);
  double width = std::max(double(hi) - double(lo), 1e-30);
  for (int64_t i = 0; i < count; ++i) {
    float v = values[i];
    if (!std::isfinite(v))
      continue;
    int bin = static_cast<int>((double(v) - lo) / width * kBins);
    ++counts[std::clamp(bin, 0, kBins - 1)];
    ++total;
  }
}

double Histogram::binCenter(int bin) const {
  return lo + (bin + 0.5) * (double(hi) - double(lo)) / kBins;
}

double Histogram::variance() const {
  if (total == 0)
    return 0.0;
  double mean = 0, var = 0;
  for (int b = 0; b < (int)counts.size(); ++b)
    mean += counts[b] * binCenter(b);
  mean /= total;
  for (int b = 0; b < (int)counts.size(); ++b)
    var += counts[b] * (binCenter(b) - mean) * (binCenter(b) - mean);
  return var / total;
}

double Histogram::expectedError(const QuantParams &p) const {
  double rangeLo = p.dequantize(-128), rangeHi = p.dequantize(127);
  double rounding = p.scale * p.scale / 12.0;
  double error = 0;
  for (int b = 0; b < kBins && b < (int)counts.size(); ++b) {
    if (!counts[b])
      continue;
    double v = binCenter(b);
    double e = v < rangeLo   ? (v - rangeLo) * (v - rangeLo)
               : v > rangeHi ? (v - rangeHi) * (v - rangeHi)
                             : rounding;
    error += counts[b] * e;
  }
  return total ? error / total : 0.0;
}

QuantParams Histogram::choose(RangeMethod method, double percentile) const {
  if (!hasRange() || counts.empty())
    return paramsForRange(0.0, 1.0);
  switch (method) {
  case RangeMethod::MinMax:
    return paramsForRange(lo, hi);
  case RangeMethod::Percentile: {
    double tail = (100.0 - percentile) / 200.0 * total;
    int first = 0, last = kBins - 1;
    for (double below = 0; first < kBins - 1 && below + counts[first] <= tail;
         ++first)
      below += counts[first];
    for (double above = 0; last > 0 && above + counts[last] <= tail; --last)
      above += counts[last];
    double width = (double(hi) - double(lo)) / kBins;
    return paramsForRange(lo + first * width, lo + (last + 1) * width);
  }
  case RangeMethod::Mse:
    break;
  }
  // Search clipping ranges that shrink either end of the observed range;
  // a one-sided (e.g. post-ReLU) tensor keeps its 0 end.
  QuantParams best = paramsForRange(lo, hi);
  double bestError = expectedError(best);
  constexpr int kSteps = 64;
  for (int a = 1; a <= kSteps; ++a) {
    double loCut = double(lo) * a / kSteps;
    for (int c = 1; c <= kSteps; ++c) {
      double hiCut = double(hi) * c / kSteps;
      QuantParams p = paramsForRange(loCut, hiCut);
      double e = expectedError(p);
      if (e < bestError) {
        bestError = e;
        best = p;
      }
    }
  }
  return best;
}
