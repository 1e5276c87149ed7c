//===- Metrics.cpp - mask IoU, landmark error, percentiles ----------------===//

#include "resq/Video/Metrics.h"

#include <algorithm>
#include <cassert>
#include <cmath>

using namespace resq::video;

MaskOverlap resq::video::maskOverlap(llvm::ArrayRef<float> reference,
                                     llvm::ArrayRef<float> candidate,
                                     float threshold) {
  assert(reference.size() == candidate.size() && "masks of different sizes");
  MaskOverlap o;
  for (size_t i = 0, e = reference.size(); i < e; ++i) {
    bool r = reference[i] >= threshold, c = candidate[i] >= threshold;
    o.intersection += r && c;
    o.unionCount += r || c;
    o.referenceArea += r;
    o.candidateArea += c;
  }
  return o;
}

MaskOverlap resq::video::maskOverlap(llvm::ArrayRef<float> reference,
                                     llvm::ArrayRef<float> candidate,
                                     int maskWidth, MaskRect rect,
                                     float threshold) {
  assert(reference.size() == candidate.size() && "masks of different sizes");
  assert(rect.x >= 0 && rect.y >= 0 && rect.x + rect.width <= maskWidth &&
         size_t(rect.y + rect.height) * maskWidth <= reference.size() &&
         "rectangle outside the mask");
  MaskOverlap total;
  for (int y = rect.y; y < rect.y + rect.height; ++y) {
    size_t row = size_t(y) * maskWidth + rect.x;
    MaskOverlap o = maskOverlap(reference.slice(row, rect.width),
                                candidate.slice(row, rect.width), threshold);
    total.intersection += o.intersection;
    total.unionCount += o.unionCount;
    total.referenceArea += o.referenceArea;
    total.candidateArea += o.candidateArea;
  }
  return total;
}

void IoUSummary::add(const MaskOverlap &overlap) {
  ++numFrames;
  iouSum += overlap.iou();
  intersectionSum += overlap.intersection;
  unionSum += overlap.unionCount;
}

double IoUSummary::meanIoU() const {
  return numFrames ? iouSum / double(numFrames) : 1.0;
}

double IoUSummary::pooledIoU() const {
  return unionSum ? double(intersectionSum) / double(unionSum) : 1.0;
}

double resq::video::sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

llvm::StringRef resq::video::flagEncodingName(FlagEncoding encoding) {
  switch (encoding) {
  case FlagEncoding::Probability:
    return "probability";
  case FlagEncoding::Logit:
    return "logit";
  case FlagEncoding::Auto:
    return "auto";
  }
  return "auto";
}

std::optional<FlagEncoding>
resq::video::parseFlagEncoding(llvm::StringRef name) {
  if (name == "probability")
    return FlagEncoding::Probability;
  if (name == "logit")
    return FlagEncoding::Logit;
  if (name == "auto")
    return FlagEncoding::Auto;
  return std::nullopt;
}

double resq::video::poseFlagProbability(float value, FlagEncoding encoding) {
  switch (encoding) {
  case FlagEncoding::Probability:
    return value;
  case FlagEncoding::Logit:
    return sigmoid(value);
  case FlagEncoding::Auto:
    return (value >= 0.0f && value <= 1.0f) ? double(value) : sigmoid(value);
  }
  return value;
}

bool resq::video::isVisible(llvm::ArrayRef<float> landmarks, int index) {
  // sigmoid(v) > 0.5 <=> v > 0, without rounding at the boundary.
  return landmarks[index * kLandmarkFields + 3] > 0.0f;
}

LandmarkError resq::video::landmarkError(llvm::ArrayRef<float> reference,
                                         double referenceFlag,
                                         llvm::ArrayRef<float> candidate) {
  assert(reference.size() >= size_t(kLandmarkValues) &&
         candidate.size() >= size_t(kLandmarkValues) &&
         "not a pose landmark tensor");
  LandmarkError e;
  if (!(referenceFlag >= 0.5))
    return e;
  double sum = 0;
  for (int i = 0; i < kBodyLandmarks; ++i) {
    if (!isVisible(reference, i))
      continue;
    double dx = double(candidate[i * kLandmarkFields]) -
                double(reference[i * kLandmarkFields]);
    double dy = double(candidate[i * kLandmarkFields + 1]) -
                double(reference[i * kLandmarkFields + 1]);
    sum += std::sqrt(dx * dx + dy * dy);
    ++e.visible;
  }
  if (e.visible) {
    e.counted = true;
    e.meanDistance = sum / e.visible;
  }
  return e;
}

void LandmarkErrorSummary::add(const LandmarkError &error) {
  if (!error.counted)
    return;
  ++numFrames;
  errorSum += error.meanDistance;
  maxSeen = std::max(maxSeen, error.meanDistance);
}

double LandmarkErrorSummary::meanError() const {
  return numFrames ? errorSum / double(numFrames) : 0.0;
}

double resq::video::percentile(std::vector<double> values, double p) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  double rank = std::clamp(p, 0.0, 100.0) / 100.0 * double(values.size() - 1);
  size_t below = size_t(std::floor(rank));
  size_t above = std::min(below + 1, values.size() - 1);
  double t = rank - double(below);
  return values[below] + (values[above] - values[below]) * t;
}
