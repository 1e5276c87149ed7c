//===- MetricsTest.cpp - mask IoU, landmark error, percentiles ------------===//
//
// Every expected value below is worked out by hand from the definitions in
// resq/Video/Metrics.h.
//
//===----------------------------------------------------------------------===//

#include "resq/Video/Metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace resq::video;

namespace {

TEST(MaskIoU, IdenticalMasksGiveOne) {
  std::vector<float> mask = {0.9f, 0.1f, 0.6f, 0.4f, 0.5f, 0.0f};
  MaskOverlap o = maskOverlap(mask, mask);
  EXPECT_EQ(o.intersection, 3); // 0.9, 0.6 and 0.5 (>= 0.5 is in)
  EXPECT_EQ(o.unionCount, 3);
  EXPECT_DOUBLE_EQ(o.iou(), 1.0);
}

TEST(MaskIoU, BothEmptyIsOne) {
  std::vector<float> a(16, 0.2f), b(16, 0.49f);
  MaskOverlap o = maskOverlap(a, b);
  EXPECT_EQ(o.unionCount, 0);
  EXPECT_DOUBLE_EQ(o.iou(), 1.0);
}

TEST(MaskIoU, OneEmptyIsZero) {
  std::vector<float> a(8, 0.0f), b(8, 0.0f);
  b[3] = 0.7f;
  EXPECT_DOUBLE_EQ(maskOverlap(a, b).iou(), 0.0);
}

TEST(MaskIoU, PartialOverlap) {
  // reference: pixels 0..3, candidate: pixels 2..5 -> I = 2, U = 6.
  std::vector<float> ref(8, 0.0f), cand(8, 0.0f);
  for (int i = 0; i < 4; ++i)
    ref[i] = 1.0f;
  for (int i = 2; i < 6; ++i)
    cand[i] = 0.8f;
  MaskOverlap o = maskOverlap(ref, cand);
  EXPECT_EQ(o.intersection, 2);
  EXPECT_EQ(o.unionCount, 6);
  EXPECT_EQ(o.referenceArea, 4);
  EXPECT_EQ(o.candidateArea, 4);
  EXPECT_DOUBLE_EQ(o.iou(), 2.0 / 6.0);
}

TEST(MaskIoU, ThresholdIsInclusive) {
  std::vector<float> ref = {0.5f}, cand = {std::nextafter(0.5f, 0.0f)};
  EXPECT_DOUBLE_EQ(maskOverlap(ref, ref).iou(), 1.0);
  EXPECT_DOUBLE_EQ(maskOverlap(ref, cand).iou(), 0.0);
}

TEST(IoUSummary, MeanAndPooledDiffer) {
  IoUSummary s;
  // Frame 1: a big mask, IoU 90/100. Frame 2: a tiny one, IoU 0/2.
  s.add(MaskOverlap{90, 100, 95, 95});
  s.add(MaskOverlap{0, 2, 1, 1});
  // Frame 3: both empty, IoU 1.
  s.add(MaskOverlap{0, 0, 0, 0});
  EXPECT_EQ(s.frames(), 3);
  EXPECT_DOUBLE_EQ(s.meanIoU(), (0.9 + 0.0 + 1.0) / 3);
  EXPECT_DOUBLE_EQ(s.pooledIoU(), 90.0 / 102.0);
}

TEST(IoUSummary, EmptyIsOne) {
  IoUSummary s;
  EXPECT_DOUBLE_EQ(s.meanIoU(), 1.0);
  EXPECT_DOUBLE_EQ(s.pooledIoU(), 1.0);
  s.add(MaskOverlap{});
  EXPECT_DOUBLE_EQ(s.pooledIoU(), 1.0);
}

/// 39 landmarks, all at (x0, y0) with the given visibility logit.
std::vector<float> landmarks(float x0, float y0, float visibility) {
  std::vector<float> v(kLandmarkValues, 0.0f);
  for (int i = 0; i < kPoseLandmarks; ++i) {
    v[i * 5 + 0] = x0;
    v[i * 5 + 1] = y0;
    v[i * 5 + 2] = 0.0f;
    v[i * 5 + 3] = visibility;
    v[i * 5 + 4] = 5.0f;
  }
  return v;
}

TEST(LandmarkError, IdenticalIsZero) {
  std::vector<float> ref = landmarks(100, 120, 2.0f);
  LandmarkError e = landmarkError(ref, 0.9, ref);
  EXPECT_TRUE(e.counted);
  EXPECT_EQ(e.visible, kBodyLandmarks);
  EXPECT_DOUBLE_EQ(e.meanDistance, 0.0);
}

TEST(LandmarkError, MeanOverVisibleBodyLandmarks) {
  std::vector<float> ref = landmarks(100, 100, -1.0f); // all invisible
  std::vector<float> cand = ref;
  // Visible: landmarks 0 and 5; 5 moved by (3, 4) -> distance 5.
  ref[0 * 5 + 3] = 0.5f;
  ref[5 * 5 + 3] = 3.0f;
  cand[5 * 5 + 0] += 3.0f;
  cand[5 * 5 + 1] += 4.0f;
  // z, visibility, presence do not count; invisible ones do not count.
  cand[0 * 5 + 2] = 50.0f;
  cand[7 * 5 + 0] += 40.0f;
  // Landmarks past the 33 body ones do not count, even when visible.
  ref[35 * 5 + 3] = 4.0f;
  cand[35 * 5 + 0] += 30.0f;
  LandmarkError e = landmarkError(ref, 0.5, cand);
  EXPECT_TRUE(e.counted);
  EXPECT_EQ(e.visible, 2);
  EXPECT_DOUBLE_EQ(e.meanDistance, 2.5);
}

TEST(LandmarkError, VisibilityIsTheCandidateIndependent) {
  // Visibility is read from the reference only.
  std::vector<float> ref = landmarks(10, 10, 1.0f);
  std::vector<float> cand = landmarks(13, 14, -9.0f);
  LandmarkError e = landmarkError(ref, 1.0, cand);
  EXPECT_EQ(e.visible, kBodyLandmarks);
  EXPECT_DOUBLE_EQ(e.meanDistance, 5.0);
}

TEST(LandmarkError, ZeroLogitIsNotVisible) {
  // sigmoid(0) = 0.5 is not > 0.5.
  std::vector<float> ref = landmarks(10, 10, 0.0f);
  EXPECT_FALSE(isVisible(ref, 0));
  LandmarkError e = landmarkError(ref, 1.0, landmarks(20, 20, 0.0f));
  EXPECT_FALSE(e.counted);
  EXPECT_EQ(e.visible, 0);
}

TEST(LandmarkError, UnflaggedFramesDoNotCount) {
  std::vector<float> ref = landmarks(10, 10, 2.0f);
  EXPECT_FALSE(landmarkError(ref, 0.49, landmarks(90, 90, 2.0f)).counted);
  EXPECT_TRUE(landmarkError(ref, 0.5, landmarks(90, 90, 2.0f)).counted);
}

TEST(LandmarkErrorSummary, AveragesCountedFrames) {
  LandmarkErrorSummary s;
  s.add(LandmarkError{true, 10, 2.0});
  s.add(LandmarkError{false, 0, 0.0});
  s.add(LandmarkError{true, 3, 5.0});
  EXPECT_EQ(s.frames(), 2);
  EXPECT_DOUBLE_EQ(s.meanError(), 3.5);
  EXPECT_DOUBLE_EQ(s.maxError(), 5.0);
}

TEST(PoseFlag, Encodings) {
  EXPECT_DOUBLE_EQ(poseFlagProbability(0.7f, FlagEncoding::Probability),
                   double(0.7f));
  EXPECT_DOUBLE_EQ(poseFlagProbability(0.0f, FlagEncoding::Logit), 0.5);
  // Auto: inside [0, 1] a probability, outside a logit.
  EXPECT_DOUBLE_EQ(poseFlagProbability(0.25f, FlagEncoding::Auto), 0.25);
  EXPECT_NEAR(poseFlagProbability(3.0f, FlagEncoding::Auto), sigmoid(3.0),
              1e-12);
  EXPECT_LT(poseFlagProbability(-2.0f, FlagEncoding::Auto), 0.5);
  EXPECT_EQ(parseFlagEncoding("logit"), FlagEncoding::Logit);
  EXPECT_FALSE(parseFlagEncoding("odds").has_value());
}

TEST(Percentile, LinearBetweenRanks) {
  EXPECT_DOUBLE_EQ(percentile({}, 50), 0.0);
  EXPECT_DOUBLE_EQ(percentile({7}, 90), 7.0);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 50), 2.5);
  // numpy.percentile([1..10], 90) == 9.1
  EXPECT_DOUBLE_EQ(percentile({10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 90), 9.1);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3}, 100), 3.0);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3}, 0), 1.0);
}

} // namespace

namespace {

TEST(MaskIoU, InsideARectangle) {
  // 4x3 masks; the rectangle is the middle 2x1 (x 1..2, y 1).
  std::vector<float> ref = {1, 1, 1, 1, //
                            0, 1, 0, 0, //
                            1, 1, 1, 1};
  std::vector<float> cand = {0, 0, 0, 0, //
                             0, 1, 1, 0, //
                             0, 0, 0, 0};
  MaskOverlap o = maskOverlap(ref, cand, 4, MaskRect{1, 1, 2, 1});
  EXPECT_EQ(o.intersection, 1);
  EXPECT_EQ(o.unionCount, 2);
  EXPECT_EQ(o.referenceArea, 1);
  EXPECT_EQ(o.candidateArea, 2);
  EXPECT_DOUBLE_EQ(maskOverlap(ref, cand, 4, MaskRect{0, 0, 4, 3}).iou(),
                   maskOverlap(ref, cand).iou());
}

} // namespace
