//===- VideoMode.h - resq-run --video: builds side by side on a video -----===//
//
// Decodes a video, feeds every frame to the float build and to the builds
// being judged (int8, ResQ), and reports latency, accuracy against the float
// build and ResQ's cost. See the --help text of resq-run.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_TOOLS_RESQRUN_VIDEOMODE_H
#define RESQ_TOOLS_RESQRUN_VIDEOMODE_H

#include "resq/Runtime/Session.h"
#include "resq/Video/Metrics.h"
#include "resq/Video/Preprocess.h"
#include "resq/Video/Report.h"

#include <cstdint>
#include <string>
#include <vector>

namespace resq {

struct VideoBuildSpec {
  /// "float", "int8" or "resq:NAME".
  std::string name;
  std::string path;
};

struct VideoModeOptions {
  std::string videoPath;
  /// Stop after this many frames (0: the whole video).
  int64_t maxFrames = 0;
  video::Task task = video::Task::Segmentation;
  /// The float build comes first; it is the reference of the others.
  std::vector<VideoBuildSpec> builds;
  /// Directory for summary.md, frames.jsonl and overlays (empty: none).
  std::string reportDir;
  /// An overlay every K frames (0: none).
  unsigned overlayEvery = 0;
  /// Overlays at the video's own size instead of the model's input size.
  bool overlayOriginalSize = false;
  video::Fit fit = video::Fit::Letterbox;
  video::ResizeFilter resize = video::ResizeFilter::Bilinear;
  video::FlagEncoding poseFlag = video::FlagEncoding::Auto;
  /// Builds of one frame run on up to this many threads at once.
  unsigned threads = 1;
  /// Write every model input to this .npy file (empty: no).
  std::string saveInputs;
  runtime::SessionOptions session;
  /// Frames at which every stateful build is forced to take a keyframe.
  std::vector<int64_t> keyframeAt;
  bool quiet = false;
  /// The command line, for the report.
  std::string commandLine;
};

/// Runs the video mode; returns the process exit code (errors are printed).
int runVideoMode(const VideoModeOptions &options);

} // namespace resq

#endif // RESQ_TOOLS_RESQRUN_VIDEOMODE_H
