//===- PreprocessTest.cpp - fitting frames into a model input -------------===//

#include "resq/Video/Preprocess.h"

#include <gtest/gtest.h>

using namespace resq::video;

namespace {

/// Fails the test with the error's message unless `error` is a success.
void expectSuccess(llvm::Error error) {
  EXPECT_FALSE(bool(error)) << llvm::toString(std::move(error));
}

TEST(PlaceFrame, StretchFillsTheInput) {
  Placement p = placeFrame(160, 120, 256, 256, Fit::Stretch);
  EXPECT_EQ(p.x, 0);
  EXPECT_EQ(p.y, 0);
  EXPECT_EQ(p.width, 256);
  EXPECT_EQ(p.height, 256);
}

TEST(PlaceFrame, LetterboxKeepsTheAspectRatio) {
  // 4:3 into a square: full width, 192 rows centred.
  Placement wide = placeFrame(768, 576, 256, 256, Fit::Letterbox);
  EXPECT_EQ(wide.x, 0);
  EXPECT_EQ(wide.y, 32);
  EXPECT_EQ(wide.width, 256);
  EXPECT_EQ(wide.height, 192);
  // Portrait: full height, columns centred.
  Placement tall = placeFrame(90, 160, 256, 256, Fit::Letterbox);
  EXPECT_EQ(tall.height, 256);
  EXPECT_EQ(tall.width, 144);
  EXPECT_EQ(tall.x, 56);
  // Same aspect ratio: no bars.
  Placement same = placeFrame(512, 512, 256, 256, Fit::Letterbox);
  EXPECT_EQ(same.width, 256);
  EXPECT_EQ(same.height, 256);
}

TEST(FitToModel, LetterboxBarsAreBlack) {
  RgbImage frame(8, 4);
  for (uint8_t &v : frame.pixels)
    v = 200;
  Resizer resizer(ResizeFilter::Area);
  RgbImage out;
  Placement p;
  expectSuccess(fitToModel(resizer, frame, 4, 4, Fit::Letterbox, out, &p));
  EXPECT_EQ(p.y, 1);
  EXPECT_EQ(p.height, 2);
  EXPECT_EQ(out.width, 4);
  EXPECT_EQ(out.height, 4);
  EXPECT_EQ(out.at(0, 0)[0], 0);
  EXPECT_EQ(out.at(3, 3)[2], 0);
  EXPECT_EQ(out.at(1, 1)[0], 200);
  EXPECT_EQ(out.at(2, 2)[1], 200);
}

TEST(Resizer, AreaHalvingAveragesBlocks) {
  RgbImage in(4, 2);
  // Left 2x2 block: 10 and 30 alternating; right block: 100.
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x)
      for (int c = 0; c < 3; ++c)
        in.at(x, y)[c] = x < 2 ? ((x + y) % 2 ? 30 : 10) : 100;
  Resizer resizer(ResizeFilter::Area);
  RgbImage out;
  expectSuccess(resizer.resize(in, 2, 1, out));
  EXPECT_EQ(out.at(0, 0)[0], 20);
  EXPECT_EQ(out.at(1, 0)[1], 100);
}

TEST(ToModelInput, BytesOver255) {
  RgbImage image(1, 1);
  image.pixels = {0, 51, 255};
  float out[3];
  toModelInput(image, out);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 51.0f / 255.0f);
  EXPECT_EQ(out[2], 1.0f);
}

TEST(Names, RoundTrip) {
  EXPECT_EQ(parseFit(fitName(Fit::Stretch)), Fit::Stretch);
  EXPECT_EQ(parseFit(fitName(Fit::Letterbox)), Fit::Letterbox);
  EXPECT_EQ(parseResizeFilter(resizeFilterName(ResizeFilter::Area)),
            ResizeFilter::Area);
  EXPECT_FALSE(parseFit("crop").has_value());
}

} // namespace
