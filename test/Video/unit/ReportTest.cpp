//===- ReportTest.cpp - summary table, costs, noise reference, overlays ---===//

#include "resq/Video/Report.h"
#include "resq/Video/Overlay.h"

#include <gtest/gtest.h>

using namespace resq::video;

namespace {

TEST(BuildSummary, CostsCountResidualFramesOnly) {
  BuildSummary b;
  b.stateful = true;
  FrameCost key;
  key.keyframe = true;
  key.macs = 1000;
  key.bops = 64000;
  key.blocks = 10;
  key.bits[8] = 10;
  b.addCost(key);
  FrameCost residual;
  residual.macs = 100;
  residual.bops = 100 * 8 * 4; // 4-bit activations, 8-bit weights
  residual.blocks = 10;
  residual.bits[0] = 6;
  residual.bits[4] = 4;
  b.addCost(residual);
  residual.bops = 100 * 8 * 2;
  residual.bits[4] = 0;
  residual.bits[2] = 4;
  b.addCost(residual);
  EXPECT_EQ(b.frames, 3);
  EXPECT_EQ(b.keyframes, 1);
  EXPECT_EQ(b.residualFrames, 2);
  ASSERT_TRUE(b.activationBits().has_value());
  EXPECT_DOUBLE_EQ(*b.activationBits(), 3.0);
  ASSERT_TRUE(b.skippedFraction().has_value());
  EXPECT_DOUBLE_EQ(*b.skippedFraction(), 0.6);
  EXPECT_DOUBLE_EQ(residual.activationBits(), 2.0);
}

TEST(BuildSummary, SceneCutsAreCounted) {
  BuildSummary b;
  b.name = "resq:c";
  b.stateful = true;
  b.latencyMs = {1};
  FrameCost cut;
  cut.keyframe = cut.sceneCut = true;
  b.addCost(cut);
  b.addCost(cut);
  EXPECT_EQ(b.sceneCuts, 2);
  EXPECT_NE(
      summaryTable(Task::Segmentation, {b}).find("| 2 of 2 (2 scene cuts) |"),
      std::string::npos);
}

TEST(BuildSummary, StatelessHasNoCost) {
  BuildSummary b;
  EXPECT_FALSE(b.activationBits().has_value());
  EXPECT_FALSE(b.skippedFraction().has_value());
}

TEST(SummaryTable, SegmentationRows) {
  BuildSummary f;
  f.name = "float";
  f.latencyMs = {2, 4, 3};
  f.iou.add(MaskOverlap{10, 10, 10, 10});
  BuildSummary r;
  r.name = "resq:a";
  r.stateful = true;
  r.latencyMs = {1, 1, 1};
  r.iou.add(MaskOverlap{9, 10, 10, 9});
  FrameCost key;
  key.keyframe = true;
  r.addCost(key);
  std::string table = summaryTable(Task::Segmentation, {f, r});
  EXPECT_NE(table.find("| build | ms/frame median | ms/frame p90 | mean IoU "
                       "vs float | pooled IoU vs float |"),
            std::string::npos)
      << table;
  EXPECT_NE(
      table.find("| float | 3.000 | 3.800 | 1.0000 | 1.0000 | - | - | - |"),
      std::string::npos)
      << table;
  // No residual frame: no bits, no skipped fraction; 1 keyframe of 1 frame.
  EXPECT_NE(table.find("| resq:a | 1.000 | 1.000 | 0.9000 | 0.9000 | - | - | "
                       "1 of 1 |"),
            std::string::npos)
      << table;
}

TEST(SummaryTable, PoseRows) {
  BuildSummary b;
  b.name = "int8";
  b.latencyMs = {5};
  b.landmarks.add(LandmarkError{true, 20, 1.25});
  std::string table = summaryTable(Task::Pose, {b});
  EXPECT_NE(table.find("landmark error vs float (px) | frames with pose"),
            std::string::npos);
  EXPECT_NE(table.find("| int8 | 5.000 | 5.000 | 1.25 | 1 | - | - | - |"),
            std::string::npos)
      << table;
}

TEST(BitWidthLines, SharesOfResidualBlocks) {
  BuildSummary b;
  b.name = "resq:x";
  b.stateful = true;
  FrameCost c;
  c.blocks = 4;
  c.bits[0] = 3;
  c.bits[8] = 1;
  b.addCost(c);
  EXPECT_EQ(bitWidthLines({b}),
            "resq:x: residual-frame blocks by bit-width: 0 bits 75.0%, 8 bits "
            "25.0%\n");
}

TEST(NoiseReference, KnownClipsOnly) {
  std::optional<std::string> seg =
      noiseReference("/data/somewhere/vtest.avi", Task::Segmentation);
  ASSERT_TRUE(seg.has_value());
  EXPECT_NE(seg->find("| +-1/255 | 0.972 | 0.978 |"), std::string::npos)
      << *seg;
  std::optional<std::string> pose = noiseReference("movie.avi", Task::Pose);
  ASSERT_TRUE(pose.has_value());
  EXPECT_NE(pose->find("| +-4/255 | 7.2 |"), std::string::npos) << *pose;
  EXPECT_FALSE(noiseReference("clip.avi", Task::Pose).has_value());
}

TEST(Overlay, PanelsSideBySide) {
  RgbImage a(10, 20), b(30, 5);
  RgbImage out = composePanels({Panel{"a", "", a}, Panel{"b", "x", b}});
  EXPECT_EQ(out.width, 10 + 4 + 30);
  EXPECT_GT(out.height, 20);
  EXPECT_EQ(textWidth("ab", 2), 22);
}

TEST(Overlay, SegmentationTintsOnlyTheMask) {
  RgbImage image(4, 2);
  std::vector<float> mask = {1, 0, 0, 0, 0, 0, 0, 1};
  drawSegmentation(image, mask, {}, 4, 2);
  EXPECT_NE(image.at(0, 0)[1], 0);
  EXPECT_EQ(image.at(1, 0)[1], 0);
  EXPECT_NE(image.at(3, 1)[1], 0);
  // Against a reference: disagreement is red.
  RgbImage second(4, 2);
  std::vector<float> reference = {1, 0, 0, 0, 0, 0, 0, 0};
  drawSegmentation(second, mask, reference, 4, 2);
  EXPECT_GT(second.at(3, 1)[0], second.at(3, 1)[1]);
  EXPECT_GT(second.at(0, 0)[1], second.at(0, 0)[0]);
}

TEST(Overlay, PoseConnections) {
  EXPECT_EQ(poseConnections().size(), 35u);
  for (auto [a, b] : poseConnections()) {
    EXPECT_LT(a, 33);
    EXPECT_LT(b, 33);
  }
}

} // namespace
