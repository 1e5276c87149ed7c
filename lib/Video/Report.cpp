//===- Report.cpp - the summary table and the noise reference -------------===//

#include "resq/Video/Report.h"

#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

using namespace resq::video;

llvm::StringRef resq::video::taskName(Task task) {
  return task == Task::Pose ? "pose" : "segmentation";
}

std::optional<Task> resq::video::parseTask(llvm::StringRef name) {
  if (name == "segmentation")
    return Task::Segmentation;
  if (name == "pose")
    return Task::Pose;
  return std::nullopt;
}

llvm::Expected<TaskOutputs>
resq::video::findTaskOutputs(Task task, llvm::ArrayRef<ResultShape> shapes,
                             llvm::StringRef source, llvm::StringRef results) {
  TaskOutputs found;
  auto elements = [](const ResultShape &r) {
    int64_t n = 1;
    for (int64_t d : r.shape)
      n *= d;
    return n;
  };
  if (task == Task::Segmentation) {
    for (size_t k = 0; k < shapes.size(); ++k) {
      const std::vector<int64_t> &s = shapes[k].shape;
      bool nhwc1 = s.size() == 4 && s[0] == 1 && s[3] == 1;
      bool nhw = s.size() == 3 && s[0] == 1;
      if (shapes[k].isF32 && (nhwc1 || nhw) && s[1] * s[2] > 1) {
        found.mask = k;
        found.maskHeight = int(s[1]);
        found.maskWidth = int(s[2]);
        return found;
      }
    }
    return llvm::createStringError(
        source + ": no segmentation output (f32 of shape 1xHxWx1 or 1xHxW) "
                 "among " +
        results);
  }
  std::optional<size_t> landmarks, flag;
  for (size_t k = 0; k < shapes.size(); ++k) {
    if (!shapes[k].isF32)
      continue;
    if (!landmarks && elements(shapes[k]) == kLandmarkValues)
      landmarks = k;
    else if (!flag && elements(shapes[k]) == 1)
      flag = k;
  }
  if (!landmarks || !flag)
    return llvm::createStringError(
        source + ": pose needs a landmark output (f32 with " +
        llvm::Twine(kLandmarkValues) +
        " elements, e.g. 1x195) and a pose flag output (f32 with 1 element) "
        "among " +
        results);
  found.landmarks = *landmarks;
  found.flag = *flag;
  return found;
}

MaskRect resq::video::frameInMask(const Placement &placement, int modelWidth,
                                  int modelHeight, int maskWidth,
                                  int maskHeight) {
  auto scale = [](int v, int mask, int model) {
    return int((int64_t(v) * mask + model / 2) / model);
  };
  MaskRect rect;
  rect.x = scale(placement.x, maskWidth, modelWidth);
  rect.y = scale(placement.y, maskHeight, modelHeight);
  rect.width = scale(placement.x + placement.width, maskWidth, modelWidth) -
               rect.x;
  rect.height = scale(placement.y + placement.height, maskHeight, modelHeight) -
                rect.y;
  return rect;
}

void BuildSummary::addCost(const FrameCost &cost) {
  ++frames;
  if (cost.keyframe) {
    ++keyframes;
    sceneCuts += cost.sceneCut;
    return;
  }
  ++residualFrames;
  residualMacs += cost.macs;
  residualBops += cost.bops;
  residualBlocks += cost.blocks;
  for (size_t b = 0; b < cost.bits.size(); ++b)
    residualBits[b] += cost.bits[b];
}

std::optional<double> BuildSummary::activationBits() const {
  if (!stateful || !residualFrames)
    return std::nullopt;
  return residualMacs ? double(residualBops) / (8.0 * double(residualMacs))
                      : 0.0;
}

std::optional<double> BuildSummary::skippedFraction() const {
  if (!stateful || !residualFrames || !residualBlocks)
    return std::nullopt;
  return double(residualBits[0]) / double(residualBlocks);
}

namespace {

std::string fixed(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", digits, value);
  return buffer;
}

std::string orDash(std::optional<double> value, int digits) {
  return value ? fixed(*value, digits) : "-";
}

} // namespace

std::string resq::video::summaryTable(Task task,
                                      llvm::ArrayRef<BuildSummary> builds) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "| build | ms/frame median | ms/frame p90 | ";
  if (task == Task::Segmentation)
    os << "mean IoU vs float | pooled IoU vs float | ";
  else
    os << "landmark error vs float (px) | frames with pose | ";
  os << "activation bits/MAC (residual frames) | skipped blocks (residual "
        "frames) | keyframes |\n";
  os << "|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const BuildSummary &b : builds) {
    os << "| " << b.name << " | " << fixed(percentile(b.latencyMs, 50), 3)
       << " | " << fixed(percentile(b.latencyMs, 90), 3) << " | ";
    if (task == Task::Segmentation)
      os << fixed(b.iou.meanIoU(), 4) << " | " << fixed(b.iou.pooledIoU(), 4)
         << " | ";
    else
      os << (b.landmarks.frames() ? fixed(b.landmarks.meanError(), 2) : "-")
         << " | " << b.landmarks.frames() << " | ";
    os << orDash(b.activationBits(), 2) << " | ";
    std::optional<double> skipped = b.skippedFraction();
    os << (skipped ? fixed(100.0 * *skipped, 1) + "%" : "-") << " | ";
    if (b.stateful) {
      os << b.keyframes << " of " << b.frames;
      if (b.sceneCuts)
        os << " (" << b.sceneCuts << " scene cut"
           << (b.sceneCuts == 1 ? "" : "s") << ")";
    } else
      os << "-";
    os << " |\n";
  }
  return os.str();
}

std::string resq::video::bitWidthLines(llvm::ArrayRef<BuildSummary> builds) {
  std::string text;
  llvm::raw_string_ostream os(text);
  for (const BuildSummary &b : builds) {
    if (!b.stateful)
      continue;
    os << b.name << ": residual-frame blocks by bit-width:";
    if (!b.residualBlocks) {
      os << " none\n";
      continue;
    }
    bool first = true;
    for (size_t bits = 0; bits < b.residualBits.size(); ++bits) {
      if (!b.residualBits[bits])
        continue;
      os << (first ? " " : ", ") << bits << " bits "
         << fixed(100.0 * double(b.residualBits[bits]) /
                      double(b.residualBlocks),
                  1)
         << "%";
      first = false;
    }
    os << "\n";
  }
  return os.str();
}

namespace {

/// One row of REAL-DATA.md's "How sensitive the float models are": the
/// float model against itself with uniform input noise at 256x256.
struct NoiseRow {
  const char *clip;
  const char *clipWhat;
  Task task;
  const char *model;
  /// Per noise level (+-1/255, +-4/255): mean IoU and pooled IoU
  /// (segmentation; negative: not measured), or landmark error in px (pose).
  double first[2];
  double second[2];
  const char *note;
};

constexpr NoiseRow kNoiseRows[] = {
    {"movie.avi",
     "the webcam clip",
     Task::Segmentation,
     "selfie_segmentation",
     {0.999, 0.997},
     {-1, -1},
     ""},
    {"vtest.avi",
     "vtest.avi",
     Task::Segmentation,
     "selfie_segmentation",
     {0.972, 0.895},
     {0.978, 0.917},
     "people are small here (masks ~2% of the frame): per-frame IoU is "
     "fragile, the pooled IoU is the steadier figure"},
    {"vtest.avi",
     "vtest.avi",
     Task::Pose,
     "pose_landmark_lite",
     {1.0, 3.2},
     {-1, -1},
     "~12% of frames have the pose flag"},
    {"movie.avi",
     "the webcam clip",
     Task::Pose,
     "pose_landmark_lite",
     {1.5, 7.2},
     {-1, -1},
     "~55% of frames have the pose flag"},
};

} // namespace

std::optional<std::string>
resq::video::noiseReference(llvm::StringRef videoPath, Task task) {
  llvm::StringRef file = llvm::sys::path::filename(videoPath);
  for (const NoiseRow &row : kNoiseRows) {
    if (row.task != task || file != row.clip)
      continue;
    std::string text;
    llvm::raw_string_ostream os(text);
    os << "Reference (REAL-DATA.md): the float " << row.model
       << " model against itself with uniform input noise, on " << row.clipWhat
       << " at 256x256";
    if (*row.note)
      os << " (" << row.note << ")";
    os << ":\n\n";
    if (task == Task::Segmentation) {
      os << "| input noise | mean IoU | pooled IoU |\n|---|---:|---:|\n";
      const char *levels[] = {"+-1/255", "+-4/255"};
      for (int i = 0; i < 2; ++i)
        os << "| " << levels[i] << " | " << fixed(row.first[i], 3) << " | "
           << (row.second[i] < 0 ? std::string("-") : fixed(row.second[i], 3))
           << " |\n";
    } else {
      os << "| input noise | landmark error (px) |\n|---|---:|\n"
         << "| +-1/255 | " << fixed(row.first[0], 1) << " |\n"
         << "| +-4/255 | " << fixed(row.first[1], 1) << " |\n";
    }
    return os.str();
  }
  return std::nullopt;
}
