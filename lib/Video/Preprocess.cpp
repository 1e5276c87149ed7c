//===- Preprocess.cpp - resizing with swscale, float conversion -----------===//

#include "resq/Video/Preprocess.h"

extern "C" {
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <array>

using namespace resq::video;

llvm::StringRef resq::video::resizeFilterName(ResizeFilter filter) {
  return filter == ResizeFilter::Area ? "area" : "bilinear";
}

std::optional<ResizeFilter>
resq::video::parseResizeFilter(llvm::StringRef name) {
  if (name == "bilinear")
    return ResizeFilter::Bilinear;
  if (name == "area")
    return ResizeFilter::Area;
  return std::nullopt;
}

struct Resizer::Impl {
  SwsContext *sws = nullptr;
  ~Impl() { sws_freeContext(sws); }
};

Resizer::Resizer(ResizeFilter filter)
    : impl(std::make_unique<Impl>()), resizeFilter(filter) {}
Resizer::~Resizer() = default;

llvm::Error Resizer::resize(const RgbImage &in, int width, int height,
                            RgbImage &out) {
  if (in.empty() || width <= 0 || height <= 0)
    return llvm::createStringError("cannot resize a " + llvm::Twine(in.width) +
                                   "x" + llvm::Twine(in.height) + " image to " +
                                   llvm::Twine(width) + "x" +
                                   llvm::Twine(height));
  if (in.width == width && in.height == height) {
    out = in;
    return llvm::Error::success();
  }
  // SWS_FULL_CHR_H_INP / _INT keep swscale from halving the horizontal
  // chroma resolution of its internal representation of RGB pixels.
  int flags = (resizeFilter == ResizeFilter::Area ? SWS_AREA : SWS_BILINEAR) |
              SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP | SWS_FULL_CHR_H_INT;
  impl->sws = sws_getCachedContext(
      impl->sws, in.width, in.height, AV_PIX_FMT_RGB24, width, height,
      AV_PIX_FMT_RGB24, flags, nullptr, nullptr, nullptr);
  if (!impl->sws)
    return llvm::createStringError(
        "swscale cannot resize " + llvm::Twine(in.width) + "x" +
        llvm::Twine(in.height) + " to " + llvm::Twine(width) + "x" +
        llvm::Twine(height));
  out = RgbImage(width, height);
  const uint8_t *src[4] = {in.pixels.data(), nullptr, nullptr, nullptr};
  int srcStride[4] = {in.width * 3, 0, 0, 0};
  uint8_t *dst[4] = {out.pixels.data(), nullptr, nullptr, nullptr};
  int dstStride[4] = {width * 3, 0, 0, 0};
  sws_scale(impl->sws, src, srcStride, 0, in.height, dst, dstStride);
  return llvm::Error::success();
}

llvm::StringRef resq::video::fitName(Fit fit) {
  return fit == Fit::Stretch ? "stretch" : "letterbox";
}

std::optional<Fit> resq::video::parseFit(llvm::StringRef name) {
  if (name == "letterbox")
    return Fit::Letterbox;
  if (name == "stretch")
    return Fit::Stretch;
  return std::nullopt;
}

Placement resq::video::placeFrame(int frameWidth, int frameHeight,
                                  int modelWidth, int modelHeight, Fit fit) {
  Placement p{0, 0, modelWidth, modelHeight};
  if (fit == Fit::Stretch || frameWidth <= 0 || frameHeight <= 0)
    return p;
  // Compare the aspect ratios exactly, in integers.
  int64_t wide = int64_t(frameWidth) * modelHeight;
  int64_t tall = int64_t(frameHeight) * modelWidth;
  if (wide >= tall) // wider than the model: full width, bars above and below
    p.height = std::max<int>(
        1, int((int64_t(frameHeight) * modelWidth * 2 + frameWidth) /
               (2 * int64_t(frameWidth))));
  else
    p.width = std::max<int>(
        1, int((int64_t(frameWidth) * modelHeight * 2 + frameHeight) /
               (2 * int64_t(frameHeight))));
  p.x = (modelWidth - p.width) / 2;
  p.y = (modelHeight - p.height) / 2;
  return p;
}

llvm::Error resq::video::fitToModel(Resizer &resizer, const RgbImage &frame,
                                    int modelWidth, int modelHeight, Fit fit,
                                    RgbImage &out, Placement *placement) {
  Placement p =
      placeFrame(frame.width, frame.height, modelWidth, modelHeight, fit);
  if (placement)
    *placement = p;
  if (p.width == modelWidth && p.height == modelHeight)
    return resizer.resize(frame, modelWidth, modelHeight, out);
  RgbImage scaled;
  if (llvm::Error e = resizer.resize(frame, p.width, p.height, scaled))
    return e;
  out = RgbImage(modelWidth, modelHeight); // black bars
  for (int y = 0; y < p.height; ++y)
    std::copy_n(scaled.at(0, y), size_t(p.width) * 3, out.at(p.x, p.y + y));
  return llvm::Error::success();
}

void resq::video::toModelInput(const RgbImage &image, float *out) {
  // A table of byte / 255.0f: the same correctly rounded float32 division
  // as numpy's `frame.astype(np.float32) / 255`.
  static const auto table = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i)
      t[i] = float(i) / 255.0f;
    return t;
  }();
  size_t n = image.pixels.size();
  const uint8_t *p = image.pixels.data();
  for (size_t i = 0; i < n; ++i)
    out[i] = table[p[i]];
}
