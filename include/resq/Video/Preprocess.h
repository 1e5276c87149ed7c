//===- Preprocess.h - video frames to model inputs --------------*- C++ -*-===//
//
// A model input is the frame fitted to the model's input size and written as
// float32 RGB in [0, 1] (byte / 255), NHWC with N = 1. Two fits:
//  - letterbox (the default): the aspect ratio is kept; the frame is scaled
//    to touch two sides, centred, and the bars are black (0.0), as
//    MediaPipe's image-to-tensor step does with keep_aspect_ratio and
//    BORDER_ZERO. (On the webcam clip, pose_landmark_lite flags ~57 % of the
//    frames this way, as REAL-DATA.md measured, against ~32 % stretched.)
//  - stretch: the frame is scaled to the full input, distorting it.
//
// Resizing uses FFmpeg's swscale with one of two filters:
//  - bilinear (the default): swscale's SWS_BILINEAR. When shrinking, swscale
//    widens the triangle filter by the scale factor, so every source pixel
//    contributes (no aliasing of fine texture, unlike point-sampled
//    bilinear); when enlarging it is ordinary bilinear interpolation.
//  - area: SWS_AREA, a box average over the covered source pixels when
//    shrinking; swscale falls back to bilinear when enlarging.
// Both are computed with SWS_ACCURATE_RND, so the result does not depend on
// the SIMD path swscale picks on a given CPU.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_VIDEO_PREPROCESS_H
#define RESQ_VIDEO_PREPROCESS_H

#include "resq/Video/Image.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>

namespace resq {
namespace video {

enum class ResizeFilter { Bilinear, Area };

/// "bilinear" or "area".
llvm::StringRef resizeFilterName(ResizeFilter filter);
std::optional<ResizeFilter> parseResizeFilter(llvm::StringRef name);

/// Resizes RGB images with swscale. Keeps its scaler between calls, so a
/// stream of same-sized frames sets it up once. Not thread-safe.
class Resizer {
public:
  explicit Resizer(ResizeFilter filter = ResizeFilter::Bilinear);
  ~Resizer();
  Resizer(const Resizer &) = delete;
  Resizer &operator=(const Resizer &) = delete;

  ResizeFilter filter() const { return resizeFilter; }
  /// `out` becomes `in` resized to width x height (a copy when the size is
  /// the same).
  llvm::Error resize(const RgbImage &in, int width, int height, RgbImage &out);

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
  ResizeFilter resizeFilter;
};

enum class Fit { Letterbox, Stretch };

/// "letterbox" or "stretch".
llvm::StringRef fitName(Fit fit);
std::optional<Fit> parseFit(llvm::StringRef name);

/// Where a frame lies inside the model input: a rectangle in model pixels.
struct Placement {
  int x = 0, y = 0, width = 0, height = 0;
};

/// The rectangle a frameWidth x frameHeight frame covers in a modelWidth x
/// modelHeight input: all of it when stretched; letterboxed, the largest
/// centred rectangle of the frame's aspect ratio (sides rounded to whole
/// pixels, offsets rounded down).
Placement placeFrame(int frameWidth, int frameHeight, int modelWidth,
                     int modelHeight, Fit fit);

/// `out` becomes `frame` fitted into a modelWidth x modelHeight image;
/// `placement`, if given, receives where the frame went.
llvm::Error fitToModel(Resizer &resizer, const RgbImage &frame, int modelWidth,
                       int modelHeight, Fit fit, RgbImage &out,
                       Placement *placement = nullptr);

/// Writes `image` to `out` as float32 RGB in [0, 1], NHWC (1 x height x
/// width x 3 floats): out[(y * width + x) * 3 + c] = pixel / 255.
void toModelInput(const RgbImage &image, float *out);

} // namespace video
} // namespace resq

#endif // RESQ_VIDEO_PREPROCESS_H
