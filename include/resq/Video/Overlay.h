//===- Overlay.h - pictures a person can judge ------------------*- C++ -*-===//
//
// An overlay shows one video frame as every build saw it, side by side: the
// segmentation mask tinted over the frame, or the pose skeleton drawn on it,
// each panel under a band with the build's name and its per-frame numbers.
// Text uses a built-in 5x7 pixel font (upper case, digits, a little
// punctuation): no font files, no extra dependency.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_VIDEO_OVERLAY_H
#define RESQ_VIDEO_OVERLAY_H

#include "resq/Video/Image.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <utility>

namespace resq {
namespace video {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
};

/// Segmentation panel colours: the build's mask, and (on non-reference
/// panels) the pixels where it disagrees with the float model's mask.
constexpr Color kMaskColor{40, 220, 60};
constexpr Color kMaskDifferenceColor{240, 30, 30};

/// The part of the model input an overlay image shows, in fractions of the
/// input's width and height: {0, 0, 1, 1} (the default) is all of it; the
/// frame's rectangle inside a letterboxed input shows the frame alone.
struct ViewRect {
  double x = 0, y = 0, width = 1, height = 1;
};

/// Tints `image` where the mask (maskWidth x maskHeight probabilities over
/// the model input, >= 0.5 is in; sampled at the nearest pixel) is set.
/// With a non-empty `reference` of the same size, pixels where the two masks
/// disagree are tinted in kMaskDifferenceColor instead.
void drawSegmentation(RgbImage &image, llvm::ArrayRef<float> mask,
                      llvm::ArrayRef<float> reference, int maskWidth,
                      int maskHeight, ViewRect view = {});

/// The 35 BlazePose connections between the 33 body landmarks (MediaPipe's
/// POSE_CONNECTIONS).
llvm::ArrayRef<std::pair<int, int>> poseConnections();

/// Draws the body skeleton of `landmarks` (kLandmarkValues floats; x and y in
/// pixels of a modelWidth x modelHeight input, of which `image` shows
/// `view`). Only visible landmarks and connections between two visible ones
/// are drawn: left side orange, right side cyan, face and trunk white.
/// `muted` draws a thin grey skeleton instead (the float reference under
/// another build's).
void drawPose(RgbImage &image, llvm::ArrayRef<float> landmarks, int modelWidth,
              int modelHeight, ViewRect view = {}, bool muted = false);

/// Draws `text` with its top-left corner at (x, y), each font pixel a
/// scale x scale square. Lower case is drawn as upper case; characters the
/// font lacks become '?'.
void drawText(RgbImage &image, int x, int y, llvm::StringRef text, Color color,
              int scale = 2);
/// The width in pixels `drawText` needs for `text`.
int textWidth(llvm::StringRef text, int scale = 2);

/// One picture of an overlay.
struct Panel {
  /// First line of the band, e.g. "float", "resq:a".
  std::string title;
  /// Second line, e.g. "IoU 0.981  3.2 ms".
  std::string caption;
  RgbImage image;
};

/// The panels left to right with a 4-pixel gap, each under a dark band with
/// its title and caption (cut to the panel width).
RgbImage composePanels(llvm::ArrayRef<Panel> panels);

} // namespace video
} // namespace resq

#endif // RESQ_VIDEO_OVERLAY_H
