//===- VideoReader.h - decode a video file frame by frame -------*- C++ -*-===//
//
// Reads any file FFmpeg's libavformat can demux and libavcodec can decode
// (AVI, MP4, MKV, y4m, ...; MJPEG, MPEG-4, H.264, raw video, ...) and yields
// its first video stream one frame at a time as 8-bit RGB at the stream's own
// size. The FFmpeg headers stay out of this header.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_VIDEO_VIDEOREADER_H
#define RESQ_VIDEO_VIDEOREADER_H

#include "resq/Video/Image.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace resq {
namespace video {

/// One decoded frame.
struct Frame {
  /// 0, 1, 2, ... in decoding (= presentation) order.
  int64_t index = -1;
  /// Presentation time in seconds, when the container gives one.
  std::optional<double> seconds;
  RgbImage image;
};

class VideoReader {
public:
  /// Opens `path` and prepares the decoder of its best video stream. Errors
  /// (missing file, no video stream, unsupported codec) name the file.
  static llvm::Expected<std::unique_ptr<VideoReader>>
  open(llvm::StringRef path);
  ~VideoReader();

  llvm::StringRef path() const { return filePath; }
  int width() const;
  int height() const;
  /// The codec's short name, e.g. "mjpeg", "msmpeg4v3", "rawvideo".
  llvm::StringRef codecName() const;
  /// Frames per second from the container, if it says.
  std::optional<double> frameRate() const;
  /// The number of frames the container announces (its index or header),
  /// or std::nullopt when it does not say (e.g. y4m, raw streams). A broken
  /// file may still end earlier: `next` is the truth.
  std::optional<int64_t> frameCount() const;

  /// Decodes the next frame into `frame` and returns true, or returns false
  /// at the end of the stream. A decoding error names the file and the frame.
  llvm::Expected<bool> next(Frame &frame);

private:
  struct Impl;
  VideoReader();
  std::unique_ptr<Impl> impl;
  std::string filePath;
};

} // namespace video
} // namespace resq

#endif // RESQ_VIDEO_VIDEOREADER_H
