//===- GeometryTest.cpp - input uses of a layer's window ------------------===//
//
// LinearGeometry::inputUses feeds the statistics of residual frames (MACs
// and BOPs per changed block) and denseMacs: each input row or column must
// be counted once per (output, tap) pair that reads it.
//
//===----------------------------------------------------------------------===//

#include "ResQ/IR/ResQ.h"

#include <gtest/gtest.h>

using resq::LinearGeometry;

namespace {

LinearGeometry conv(int64_t in, int64_t out, int64_t k, int64_t stride,
                    int64_t pad) {
  LinearGeometry g;
  g.ih = g.iw = in;
  g.oh = g.ow = out;
  g.kh = g.kw = k;
  g.strideY = g.strideX = stride;
  g.padTop = g.padLeft = pad;
  g.ic = 4;
  g.oc = 8;
  return g;
}

TEST(Geometry, PaddedWindowReadsBordersLess) {
  // 3x3, padding 1, stride 1: the border rows lose one tap.
  EXPECT_EQ(conv(6, 6, 3, 1, 1).inputUses(true),
            (std::vector<int64_t>{2, 3, 3, 3, 3, 2}));
}

TEST(Geometry, StridedWindowReadsEveryOtherRowTwice) {
  // 3x3, stride 2, padding 1, 6 -> 3: output o reads rows 2o-1 .. 2o+1.
  EXPECT_EQ(conv(6, 3, 3, 2, 1).inputUses(false),
            (std::vector<int64_t>{1, 2, 1, 2, 1, 1}));
}

TEST(Geometry, TransposeScattersEachInputRow) {
  // 4x4 taps, stride 2, 3 -> 6 with out_pad -1: output o = 2i - 1 + t, so
  // the first and last rows lose the tap that falls outside.
  LinearGeometry g = conv(3, 6, 4, 2, -1);
  g.kind = LinearGeometry::Kind::Transpose;
  EXPECT_EQ(g.inputUses(true), (std::vector<int64_t>{3, 4, 3}));
}

TEST(Geometry, DenseMacsAreAllUses) {
  LinearGeometry g = conv(6, 3, 3, 2, 1);
  int64_t rows = 0, columns = 0;
  for (int64_t u : g.inputUses(true))
    rows += u;
  for (int64_t u : g.inputUses(false))
    columns += u;
  EXPECT_EQ(rows, 8);
  EXPECT_EQ(g.denseMacs(), rows * columns * g.macsPerTap());
}

} // namespace
