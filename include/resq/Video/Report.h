//===- Report.h - per-build totals and the summary table --------*- C++ -*-===//
//
// What `resq-run --video` prints at the end and writes to summary.md: one row
// per build with its latency, its accuracy against the float build and, for
// ResQ builds, what the residual frames cost. Beside it, the float model's own
// sensitivity to input noise as measured in the project's REAL-DATA.md, so a
// quantization error can be read against what +-1/255 of noise already does.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_VIDEO_REPORT_H
#define RESQ_VIDEO_REPORT_H

#include "resq/Video/Metrics.h"
#include "resq/Video/Preprocess.h"
#include "resq/Support/StatsLayout.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace resq {
namespace video {

enum class Task { Segmentation, Pose };
llvm::StringRef taskName(Task task);
std::optional<Task> parseTask(llvm::StringRef name);

/// One result of a step function, as the task sees it.
struct ResultShape {
  std::vector<int64_t> shape;
  bool isF32 = true;
};

/// The outputs a task reads, by index into the step function's results.
struct TaskOutputs {
  size_t mask = 0;
  int maskHeight = 0, maskWidth = 0;
  size_t landmarks = 0, flag = 0;
};

/// Finds the task's outputs by shape (the MediaPipe models' outputs all
/// differ in shape): segmentation, the first f32 1xHxWx1 or 1xHxW result;
/// pose, the f32 result of 195 elements (landmarks) and the first of 1
/// (the pose flag). The error names `source` and ends with `results` (a
/// description of the results).
llvm::Expected<TaskOutputs> findTaskOutputs(Task task,
                                            llvm::ArrayRef<ResultShape> shapes,
                                            llvm::StringRef source,
                                            llvm::StringRef results);

/// The part of a maskWidth x maskHeight mask that the video frame covers,
/// from where the frame was placed in the model's input.
MaskRect frameInMask(const Placement &placement, int modelWidth,
                     int modelHeight, int maskWidth, int maskHeight);

/// What one frame of a ResQ stream cost, summed over its residualized layers
/// (the runtime's per-layer statistics).
struct FrameCost {
  bool keyframe = false;
  /// Some layer declared a scene cut (too many blocks at the widest
  /// bit-width), which made the frame a keyframe.
  bool sceneCut = false;
  /// Blocks per bit-width b = 0..9 (0: skipped).
  std::array<int64_t, kMaxBitWidth + 1> bits{};
  int64_t blocks = 0;
  /// MACs executed and bit operations (activation bits x weight bits per
  /// executed MAC; a keyframe MAC counts 8 x 8).
  int64_t macs = 0;
  int64_t bops = 0;

  double skippedFraction() const {
    return blocks ? double(bits[0]) / double(blocks) : 0.0;
  }
  /// Mean activation bits per executed MAC: BOPs / (8 * MACs), the weights
  /// being 8-bit. 0 when nothing was executed.
  double activationBits() const {
    return macs ? double(bops) / (8.0 * double(macs)) : 0.0;
  }
};

/// Totals of one build over a run.
struct BuildSummary {
  /// "float", "int8", "resq:NAME".
  std::string name;
  /// The build keeps a stream state (a ResQ step function): cost columns
  /// apply.
  bool stateful = false;

  std::vector<double> latencyMs;
  IoUSummary iou;
  LandmarkErrorSummary landmarks;

  int64_t frames = 0;
  int64_t keyframes = 0;
  /// Keyframes caused by a scene cut.
  int64_t sceneCuts = 0;
  /// Sums over the residual (non-key) frames only.
  int64_t residualFrames = 0;
  int64_t residualMacs = 0, residualBops = 0;
  int64_t residualBlocks = 0;
  std::array<int64_t, kMaxBitWidth + 1> residualBits{};

  void addCost(const FrameCost &cost);
  /// BOPs / (8 * MACs) over the residual frames; nullopt without any.
  std::optional<double> activationBits() const;
  /// Skipped blocks / blocks over the residual frames.
  std::optional<double> skippedFraction() const;
};

/// The summary as a Markdown table, one row per build, with the header of
/// the task's accuracy columns.
std::string summaryTable(Task task, llvm::ArrayRef<BuildSummary> builds);

/// One line per stateful build: the share of residual-frame blocks per
/// bit-width, e.g. "resq:a: 0 bits 81.2%, 2 bits 9.5%, 8 bits 9.3%".
std::string bitWidthLines(llvm::ArrayRef<BuildSummary> builds);

/// The float model's own noise sensitivity on this clip for this task, from
/// REAL-DATA.md, as a heading line and a small Markdown table; std::nullopt
/// when it was not measured (clips are recognized by file name: vtest.avi,
/// and movie.avi, the webcam clip).
std::optional<std::string> noiseReference(llvm::StringRef videoPath, Task task);

} // namespace video
} // namespace resq

#endif // RESQ_VIDEO_REPORT_H
