//===- Image.h - RGB images and PNG output ----------------------*- C++ -*-===//
//
// The one pixel format the video runtime moves around: 8-bit RGB, rows top to
// bottom, pixels left to right, no padding between rows.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_VIDEO_IMAGE_H
#define RESQ_VIDEO_IMAGE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace resq {
namespace video {

/// An 8-bit RGB image, tightly packed (stride = 3 * width).
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;

  RgbImage() = default;
  /// A black image of the given size.
  RgbImage(int width, int height)
      : width(width), height(height),
        pixels(static_cast<size_t>(width) * height * 3, 0) {}

  bool empty() const { return width <= 0 || height <= 0; }
  uint8_t *at(int x, int y) {
    return pixels.data() + (static_cast<size_t>(y) * width + x) * 3;
  }
  const uint8_t *at(int x, int y) const {
    return pixels.data() + (static_cast<size_t>(y) * width + x) * 3;
  }
};

/// Writes `image` as an 8-bit RGB PNG. Errors name the file.
llvm::Error writePng(llvm::StringRef path, const RgbImage &image);

} // namespace video
} // namespace resq

#endif // RESQ_VIDEO_IMAGE_H
