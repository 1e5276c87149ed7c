//===- Overlay.cpp - masks, skeletons, text and panels on RGB images ------===//

#include "resq/Video/Overlay.h"
#include "resq/Video/Metrics.h"

#include <algorithm>
#include <cctype>
#include <cmath>

using namespace resq::video;

namespace {

//===----------------------------------------------------------------------===//
// Pixels
//===----------------------------------------------------------------------===//

void blend(uint8_t *pixel, Color color, int alphaPercent) {
  auto mix = [&](uint8_t a, uint8_t b) {
    return uint8_t((a * (100 - alphaPercent) + b * alphaPercent + 50) / 100);
  };
  pixel[0] = mix(pixel[0], color.r);
  pixel[1] = mix(pixel[1], color.g);
  pixel[2] = mix(pixel[2], color.b);
}

void setPixel(RgbImage &image, int x, int y, Color color) {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height)
    return;
  uint8_t *p = image.at(x, y);
  p[0] = color.r;
  p[1] = color.g;
  p[2] = color.b;
}

void fillRect(RgbImage &image, int x0, int y0, int w, int h, Color color) {
  for (int y = std::max(0, y0); y < std::min(image.height, y0 + h); ++y)
    for (int x = std::max(0, x0); x < std::min(image.width, x0 + w); ++x)
      setPixel(image, x, y, color);
}

void fillDisc(RgbImage &image, double cx, double cy, double radius,
              Color color) {
  int x0 = int(std::floor(cx - radius)), x1 = int(std::ceil(cx + radius));
  int y0 = int(std::floor(cy - radius)), y1 = int(std::ceil(cy + radius));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      if (dx * dx + dy * dy <= radius * radius)
        setPixel(image, x, y, color);
    }
}

/// A line of the given width: discs stamped every half pixel along it.
void drawLine(RgbImage &image, double x0, double y0, double x1, double y1,
              double width, Color color) {
  double length = std::hypot(x1 - x0, y1 - y0);
  // Landmarks far outside the picture would make this loop huge.
  if (!std::isfinite(length) || length > 8.0 * (image.width + image.height))
    return;
  int steps = std::max(1, int(std::ceil(length * 2)));
  for (int i = 0; i <= steps; ++i) {
    double t = double(i) / steps;
    fillDisc(image, x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, width / 2, color);
  }
}

//===----------------------------------------------------------------------===//
// The 5x7 font
//===----------------------------------------------------------------------===//

/// Five columns per glyph, bit 0 the top row (the classic 5x7 LCD font).
struct Glyph {
  char c;
  uint8_t columns[5];
};

// clang-format off
constexpr Glyph kFont[] = {
    {' ', {0x00, 0x00, 0x00, 0x00, 0x00}}, {'!', {0x00, 0x00, 0x5F, 0x00, 0x00}},
    {'#', {0x14, 0x7F, 0x14, 0x7F, 0x14}}, {'%', {0x23, 0x13, 0x08, 0x64, 0x62}},
    {'(', {0x00, 0x1C, 0x22, 0x41, 0x00}}, {')', {0x00, 0x41, 0x22, 0x1C, 0x00}},
    {'*', {0x14, 0x08, 0x3E, 0x08, 0x14}},
    {'+', {0x08, 0x08, 0x3E, 0x08, 0x08}}, {',', {0x00, 0x50, 0x30, 0x00, 0x00}},
    {'-', {0x08, 0x08, 0x08, 0x08, 0x08}}, {'.', {0x00, 0x60, 0x60, 0x00, 0x00}},
    {'/', {0x20, 0x10, 0x08, 0x04, 0x02}}, {'0', {0x3E, 0x51, 0x49, 0x45, 0x3E}},
    {'1', {0x00, 0x42, 0x7F, 0x40, 0x00}}, {'2', {0x42, 0x61, 0x51, 0x49, 0x46}},
    {'3', {0x21, 0x41, 0x45, 0x4B, 0x31}}, {'4', {0x18, 0x14, 0x12, 0x7F, 0x10}},
    {'5', {0x27, 0x45, 0x45, 0x45, 0x39}}, {'6', {0x3C, 0x4A, 0x49, 0x49, 0x30}},
    {'7', {0x01, 0x71, 0x09, 0x05, 0x03}}, {'8', {0x36, 0x49, 0x49, 0x49, 0x36}},
    {'9', {0x06, 0x49, 0x49, 0x29, 0x1E}}, {':', {0x00, 0x36, 0x36, 0x00, 0x00}},
    {'<', {0x08, 0x14, 0x22, 0x41, 0x00}}, {'=', {0x14, 0x14, 0x14, 0x14, 0x14}},
    {'>', {0x00, 0x41, 0x22, 0x14, 0x08}}, {'?', {0x02, 0x01, 0x51, 0x09, 0x06}},
    {'A', {0x7E, 0x11, 0x11, 0x11, 0x7E}}, {'B', {0x7F, 0x49, 0x49, 0x49, 0x36}},
    {'C', {0x3E, 0x41, 0x41, 0x41, 0x22}}, {'D', {0x7F, 0x41, 0x41, 0x22, 0x1C}},
    {'E', {0x7F, 0x49, 0x49, 0x49, 0x41}}, {'F', {0x7F, 0x09, 0x09, 0x09, 0x01}},
    {'G', {0x3E, 0x41, 0x49, 0x49, 0x7A}}, {'H', {0x7F, 0x08, 0x08, 0x08, 0x7F}},
    {'I', {0x00, 0x41, 0x7F, 0x41, 0x00}}, {'J', {0x20, 0x40, 0x41, 0x3F, 0x01}},
    {'K', {0x7F, 0x08, 0x14, 0x22, 0x41}}, {'L', {0x7F, 0x40, 0x40, 0x40, 0x40}},
    {'M', {0x7F, 0x02, 0x0C, 0x02, 0x7F}}, {'N', {0x7F, 0x04, 0x08, 0x10, 0x7F}},
    {'O', {0x3E, 0x41, 0x41, 0x41, 0x3E}}, {'P', {0x7F, 0x09, 0x09, 0x09, 0x06}},
    {'Q', {0x3E, 0x41, 0x51, 0x21, 0x5E}}, {'R', {0x7F, 0x09, 0x19, 0x29, 0x46}},
    {'S', {0x46, 0x49, 0x49, 0x49, 0x31}}, {'T', {0x01, 0x01, 0x7F, 0x01, 0x01}},
    {'U', {0x3F, 0x40, 0x40, 0x40, 0x3F}}, {'V', {0x1F, 0x20, 0x40, 0x20, 0x1F}},
    {'W', {0x3F, 0x40, 0x38, 0x40, 0x3F}}, {'X', {0x63, 0x14, 0x08, 0x14, 0x63}},
    {'Y', {0x07, 0x08, 0x70, 0x08, 0x07}}, {'Z', {0x61, 0x51, 0x49, 0x45, 0x43}},
    {'_', {0x40, 0x40, 0x40, 0x40, 0x40}},
};
// clang-format on

const Glyph &glyphFor(char c) {
  char upper = char(std::toupper(static_cast<unsigned char>(c)));
  for (const Glyph &g : kFont)
    if (g.c == upper)
      return g;
  for (const Glyph &g : kFont)
    if (g.c == '?')
      return g;
  return kFont[0];
}

/// Glyph cell: 5 columns and a 1-column gap.
constexpr int kGlyphAdvance = 6;
constexpr int kGlyphHeight = 7;

//===----------------------------------------------------------------------===//
// Pose colours
//===----------------------------------------------------------------------===//

constexpr Color kLeftColor{255, 138, 0};
constexpr Color kRightColor{0, 217, 231};
constexpr Color kCenterColor{255, 255, 255};
constexpr Color kMutedColor{150, 150, 150};

/// BlazePose numbers left body landmarks odd and right ones even from the
/// shoulders (11, 12) down; the face (0-10) is drawn in the centre colour.
Color sideColor(int a, int b) {
  if (a < 11 || b < 11)
    return kCenterColor;
  if (a % 2 == 1 && b % 2 == 1)
    return kLeftColor;
  if (a % 2 == 0 && b % 2 == 0)
    return kRightColor;
  return kCenterColor;
}

} // namespace

//===----------------------------------------------------------------------===//
// Public drawing
//===----------------------------------------------------------------------===//

void resq::video::drawSegmentation(RgbImage &image, llvm::ArrayRef<float> mask,
                                   llvm::ArrayRef<float> reference,
                                   int maskWidth, int maskHeight,
                                   ViewRect view) {
  if (maskWidth <= 0 || maskHeight <= 0 ||
      mask.size() < size_t(maskWidth) * maskHeight)
    return;
  bool compare = reference.size() == mask.size();
  // The mask pixel under the centre of image pixel i along one axis.
  auto sample = [](int i, int imageSize, double start, double extent,
                   int maskSize) {
    double fraction = start + (i + 0.5) / imageSize * extent;
    return std::clamp(int(fraction * maskSize), 0, maskSize - 1);
  };
  for (int y = 0; y < image.height; ++y) {
    int my = sample(y, image.height, view.y, view.height, maskHeight);
    for (int x = 0; x < image.width; ++x) {
      int mx = sample(x, image.width, view.x, view.width, maskWidth);
      size_t i = size_t(my) * maskWidth + mx;
      bool in = mask[i] >= kMaskThreshold;
      if (compare && in != (reference[i] >= kMaskThreshold))
        blend(image.at(x, y), kMaskDifferenceColor, 60);
      else if (in)
        blend(image.at(x, y), kMaskColor, 45);
    }
  }
}

llvm::ArrayRef<std::pair<int, int>> resq::video::poseConnections() {
  static const std::pair<int, int> connections[] = {
      {0, 1},   {1, 2},   {2, 3},   {3, 7},   {0, 4},   {4, 5},   {5, 6},
      {6, 8},   {9, 10},  {11, 12}, {11, 13}, {13, 15}, {15, 17}, {15, 19},
      {15, 21}, {17, 19}, {12, 14}, {14, 16}, {16, 18}, {16, 20}, {16, 22},
      {18, 20}, {11, 23}, {12, 24}, {23, 24}, {23, 25}, {24, 26}, {25, 27},
      {26, 28}, {27, 29}, {28, 30}, {29, 31}, {30, 32}, {27, 31}, {28, 32},
  };
  return connections;
}

void resq::video::drawPose(RgbImage &image, llvm::ArrayRef<float> landmarks,
                           int modelWidth, int modelHeight, ViewRect view,
                           bool muted) {
  if (landmarks.size() < size_t(kLandmarkValues) || modelWidth <= 0 ||
      modelHeight <= 0 || view.width <= 0 || view.height <= 0)
    return;
  auto x = [&](int i) {
    double fraction = landmarks[i * kLandmarkFields] / double(modelWidth);
    return (fraction - view.x) / view.width * image.width;
  };
  auto y = [&](int i) {
    double fraction = landmarks[i * kLandmarkFields + 1] / double(modelHeight);
    return (fraction - view.y) / view.height * image.height;
  };
  double width = muted ? 1.5 : 2.5;
  for (auto [a, b] : poseConnections())
    if (isVisible(landmarks, a) && isVisible(landmarks, b))
      drawLine(image, x(a), y(a), x(b), y(b), width,
               muted ? kMutedColor : sideColor(a, b));
  for (int i = 0; i < kBodyLandmarks; ++i)
    if (isVisible(landmarks, i))
      fillDisc(image, x(i), y(i), muted ? 1.5 : 3.0,
               muted ? kMutedColor : sideColor(i, i));
}

void resq::video::drawText(RgbImage &image, int x, int y, llvm::StringRef text,
                           Color color, int scale) {
  for (char c : text) {
    const Glyph &g = glyphFor(c);
    for (int col = 0; col < 5; ++col)
      for (int row = 0; row < kGlyphHeight; ++row)
        if (g.columns[col] & (1u << row))
          fillRect(image, x + col * scale, y + row * scale, scale, scale,
                   color);
    x += kGlyphAdvance * scale;
  }
}

int resq::video::textWidth(llvm::StringRef text, int scale) {
  return text.empty() ? 0 : int(text.size()) * kGlyphAdvance * scale - scale;
}

RgbImage resq::video::composePanels(llvm::ArrayRef<Panel> panels) {
  constexpr int kGap = 4, kMargin = 4, kScale = 2;
  constexpr int kLine = kGlyphHeight * kScale + 4;
  constexpr int kBand = 2 * kLine + kMargin;
  constexpr Color kBackground{24, 24, 24};
  int width = 0, height = 0;
  for (const Panel &p : panels) {
    width += p.image.width + (width ? kGap : 0);
    height = std::max(height, p.image.height);
  }
  RgbImage out(std::max(width, 1), height + kBand);
  fillRect(out, 0, 0, out.width, out.height, kBackground);
  int left = 0;
  for (const Panel &p : panels) {
    size_t fits = size_t(std::max(0, (p.image.width - 2 * kMargin + kScale) /
                                         (kGlyphAdvance * kScale)));
    drawText(out, left + kMargin, kMargin,
             llvm::StringRef(p.title).take_front(fits), Color{255, 255, 255},
             kScale);
    drawText(out, left + kMargin, kMargin + kLine,
             llvm::StringRef(p.caption).take_front(fits), Color{200, 200, 200},
             kScale);
    for (int y = 0; y < p.image.height; ++y)
      std::copy_n(p.image.at(0, y), size_t(p.image.width) * 3,
                  out.at(left, kBand + y));
    left += p.image.width + kGap;
  }
  return out;
}
