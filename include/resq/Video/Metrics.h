//===- Metrics.h - accuracy of a build against the float model --*- C++ -*-===//
//
// The float model is the reference; every other build (int8, ResQ) is judged
// by how far its outputs move from the float model's on the same frame.
//
// Segmentation: masks are the pixels whose probability is >= 0.5. The IoU of
// a frame is |ref & cand| / |ref | cand|, and 1 when both masks are empty.
// The runner counts only the pixels of the video frame (not the black bars
// of a letterboxed input, where a model may still paint a mask).
// Over a clip we report the mean of the per-frame IoUs and the pooled IoU
// (sum of intersections / sum of unions): on clips where people are small,
// per-frame IoU is dominated by near-empty frames, the pooled one is not.
//
// Pose (MediaPipe pose_landmark layout): 39 landmarks x (x, y, z,
// visibility, presence), x and y in input pixels, visibility and presence
// logits. The error of a frame is the mean Euclidean (x, y) distance over the
// first 33 (body) landmarks that are visible in the float output
// (sigmoid(visibility) > 0.5). Only frames where the float model's pose flag
// is >= 0.5 count; others (and flagged frames without a visible landmark)
// have no error.
//
// Latency: median and 90th percentile, interpolated linearly between ranks
// (numpy's default percentile).
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_VIDEO_METRICS_H
#define RESQ_VIDEO_METRICS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace resq {
namespace video {

//===----------------------------------------------------------------------===//
// Segmentation
//===----------------------------------------------------------------------===//

constexpr float kMaskThreshold = 0.5f;

/// The overlap of two masks of one frame.
struct MaskOverlap {
  int64_t intersection = 0;
  int64_t unionCount = 0;
  /// Pixels in the reference mask and in the candidate mask.
  int64_t referenceArea = 0;
  int64_t candidateArea = 0;

  /// 1 when both masks are empty.
  double iou() const {
    return unionCount ? double(intersection) / double(unionCount) : 1.0;
  }
};

/// Thresholds both probability maps (same size) at `threshold` (a pixel is
/// in the mask when its value is >= threshold) and counts the overlap.
MaskOverlap maskOverlap(llvm::ArrayRef<float> reference,
                        llvm::ArrayRef<float> candidate,
                        float threshold = kMaskThreshold);

/// A rectangle of mask pixels.
struct MaskRect {
  int x = 0, y = 0, width = 0, height = 0;
};

/// The same, counting only the pixels inside `rect` of maskWidth-wide masks
/// (e.g. the frame inside a letterboxed input, without the bars).
MaskOverlap maskOverlap(llvm::ArrayRef<float> reference,
                        llvm::ArrayRef<float> candidate, int maskWidth,
                        MaskRect rect, float threshold = kMaskThreshold);

/// Mean and pooled IoU over the frames seen so far.
class IoUSummary {
public:
  void add(const MaskOverlap &overlap);
  int64_t frames() const { return numFrames; }
  /// Mean of the per-frame IoUs (1 with no frames).
  double meanIoU() const;
  /// Sum of intersections / sum of unions (1 when every union was empty).
  double pooledIoU() const;

private:
  int64_t numFrames = 0;
  double iouSum = 0;
  int64_t intersectionSum = 0, unionSum = 0;
};

//===----------------------------------------------------------------------===//
// Pose
//===----------------------------------------------------------------------===//

constexpr int kPoseLandmarks = 39;
constexpr int kBodyLandmarks = 33;
constexpr int kLandmarkFields = 5;
constexpr int kLandmarkValues = kPoseLandmarks * kLandmarkFields; // 195

double sigmoid(double x);

/// How the pose flag output is encoded.
enum class FlagEncoding {
  /// Already a probability (MediaPipe's model ends in a LOGISTIC op).
  Probability,
  /// A logit: the probability is sigmoid(value).
  Logit,
  /// Decide per value: outside [0, 1] it can only be a logit. (A logit that
  /// happens to lie in [0, 1] is read as a probability: pass Logit when the
  /// model is known to emit logits.)
  Auto,
};
llvm::StringRef flagEncodingName(FlagEncoding encoding);
std::optional<FlagEncoding> parseFlagEncoding(llvm::StringRef name);
double poseFlagProbability(float value, FlagEncoding encoding);

/// A landmark is visible when sigmoid(visibility) > 0.5, i.e. its
/// visibility logit is > 0.
bool isVisible(llvm::ArrayRef<float> landmarks, int index);

/// The landmark error of one frame.
struct LandmarkError {
  /// The frame counts: the reference flag was >= 0.5 and at least one body
  /// landmark is visible in the reference.
  bool counted = false;
  /// Body landmarks visible in the reference.
  int visible = 0;
  /// Mean (x, y) distance over them, in input pixels (0 if not counted).
  double meanDistance = 0;
};

/// `reference` and `candidate` hold kLandmarkValues floats each;
/// `referenceFlag` is the reference's pose flag as a probability.
LandmarkError landmarkError(llvm::ArrayRef<float> reference,
                            double referenceFlag,
                            llvm::ArrayRef<float> candidate);

/// Mean landmark error over the counted frames.
class LandmarkErrorSummary {
public:
  void add(const LandmarkError &error);
  /// Frames that counted.
  int64_t frames() const { return numFrames; }
  /// Mean of the per-frame errors (0 with no counted frame).
  double meanError() const;
  double maxError() const { return maxSeen; }

private:
  int64_t numFrames = 0;
  double errorSum = 0, maxSeen = 0;
};

//===----------------------------------------------------------------------===//
// Latency
//===----------------------------------------------------------------------===//

/// The p-th percentile (p in [0, 100]) of `values`, linear between ranks;
/// 0 for no values.
double percentile(std::vector<double> values, double p);

} // namespace video
} // namespace resq

#endif // RESQ_VIDEO_METRICS_H
