//===- VideoMode.cpp - resq-run --video -----------------------------------===//
//
// One Session per build, one stream per stateful (ResQ) build. Every decoded
// frame is resized to the float build's input, converted to float RGB in
// [0, 1] once, and handed to every build; each build's step is timed alone
// (steady clock around Session::step). Accuracy is always measured against
// the float build's outputs of the same frame.
//
//===----------------------------------------------------------------------===//

#include "VideoMode.h"

#include "resq/Runtime/Npy.h"
#include "resq/Video/Image.h"
#include "resq/Video/Overlay.h"
#include "resq/Video/VideoReader.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstring>
#include <optional>

using namespace resq;
using namespace resq::runtime;
using namespace resq::video;
using llvm::StringRef;

namespace {

constexpr const char *kToolName = "resq-run";

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), kToolName) << message << "\n";
  return 1;
}
int fail(llvm::Error error) {
  return fail(llvm::Twine(llvm::toString(std::move(error))));
}

std::string formatted(const char *format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

/// One build under test: its compiled module, its stream and its results of
/// the current frame.
struct Build {
  VideoBuildSpec spec;
  std::unique_ptr<Session> session;
  /// Stateless modules ignore it; stateful ones keep their state in it.
  std::optional<Stream> stream;
  std::vector<AlignedBuffer> outputs;
  std::vector<void *> outputPtrs;
  BuildSummary summary;

  // The current frame.
  double ms = 0;
  FrameCost cost;
  /// A failed step (set by the worker that ran it).
  std::string error;

  bool stateful() const { return session->isStateful(); }
  llvm::ArrayRef<float> output(size_t k) const {
    return {reinterpret_cast<const float *>(outputs[k].data()),
            size_t(session->outputs()[k].numElements())};
  }
};

std::string describeTypes(const std::vector<TensorSpec> &specs) {
  std::string s;
  for (const TensorSpec &spec : specs)
    s += (s.empty() ? "" : ", ") + spec.mlirType;
  return s.empty() ? "none" : s;
}

llvm::Expected<TaskOutputs> findTaskOutputs(Task task, const Build &build) {
  std::vector<ResultShape> shapes;
  for (const TensorSpec &spec : build.session->outputs())
    shapes.push_back({spec.shape, spec.dtype == npy::DType::Float32});
  return video::findTaskOutputs(
      task, shapes, build.spec.path,
      ("the results of @" + build.session->entry() + ": " +
       describeTypes(build.session->outputs()))
          .str());
}

/// What a ResQ stream's last frame cost, over all its layers.
FrameCost costOf(const Stream &stream) {
  LayerStats total = stream.totals();
  FrameCost c;
  c.keyframe = stream.lastFrameWasKeyframe();
  c.sceneCut = total.sceneCut;
  c.bits = total.bits;
  c.blocks = total.blocks;
  c.macs = total.macs;
  c.bops = total.bops;
  return c;
}

std::string joinPath(StringRef dir, StringRef name) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, name);
  return std::string(path.str());
}

/// The per-frame accuracy of one build against the float build.
struct FrameAccuracy {
  MaskOverlap overlap;
  LandmarkError landmarks;
  /// The build's own pose flag, as a probability.
  double flag = 0;
};

void writeFrameLine(llvm::raw_ostream &os, int64_t frame, Task task,
                    const Build &build, const FrameAccuracy &accuracy) {
  llvm::json::OStream j(os);
  j.object([&] {
    j.attribute("frame", frame);
    j.attribute("build", build.spec.name);
    j.attribute("ms", build.ms);
    if (task == Task::Segmentation) {
      j.attribute("iou", accuracy.overlap.iou());
      j.attribute("intersection", accuracy.overlap.intersection);
      j.attribute("union", accuracy.overlap.unionCount);
      j.attribute("mask_pixels", accuracy.overlap.candidateArea);
    } else {
      j.attribute("pose_flag", accuracy.flag);
      j.attribute("counted", accuracy.landmarks.counted);
      j.attribute("visible", int64_t(accuracy.landmarks.visible));
      if (accuracy.landmarks.counted)
        j.attribute("landmark_error_px", accuracy.landmarks.meanDistance);
      else
        j.attribute("landmark_error_px", nullptr);
    }
    if (build.stateful()) {
      const FrameCost &c = build.cost;
      j.attribute("keyframe", c.keyframe);
      j.attribute("scene_cut", c.sceneCut);
      j.attribute("macs", c.macs);
      j.attribute("bops", c.bops);
      j.attribute("blocks", c.blocks);
      j.attribute("skipped", c.skippedFraction());
      j.attribute("activation_bits", c.activationBits());
      j.attributeObject("bits", [&] {
        for (size_t b = 0; b < c.bits.size(); ++b)
          if (c.bits[b])
            j.attribute(std::to_string(b), c.bits[b]);
      });
    }
  });
  os << "\n";
}

} // namespace

int resq::runVideoMode(const VideoModeOptions &options) {
  using Clock = std::chrono::steady_clock;
  const Task task = options.task;

  // The video first: a wrong path should not cost a compilation.
  auto opened = VideoReader::open(options.videoPath);
  if (!opened)
    return fail(opened.takeError());
  VideoReader &reader = **opened;

  // Every output location next, for the same reason.
  std::unique_ptr<llvm::raw_fd_ostream> framesFile;
  std::string overlayDir;
  if (!options.reportDir.empty()) {
    if (std::error_code ec =
            llvm::sys::fs::create_directories(options.reportDir))
      return fail(options.reportDir +
                  ": cannot create the directory: " + ec.message());
    std::string path = joinPath(options.reportDir, "frames.jsonl");
    std::error_code ec;
    framesFile = std::make_unique<llvm::raw_fd_ostream>(path, ec,
                                                        llvm::sys::fs::OF_Text);
    if (ec)
      return fail(path + ": cannot write: " + ec.message());
    if (options.overlayEvery) {
      overlayDir = joinPath(options.reportDir, "overlays");
      if (std::error_code ec = llvm::sys::fs::create_directories(overlayDir))
        return fail(overlayDir +
                    ": cannot create the directory: " + ec.message());
    }
  }
  if (!options.saveInputs.empty()) {
    StringRef dir = llvm::sys::path::parent_path(options.saveInputs);
    if (!dir.empty() && !llvm::sys::fs::is_directory(dir))
      return fail("--save-inputs " + options.saveInputs + ": no directory " +
                  dir);
  }

  // Compile every build.
  std::vector<Build> builds;
  for (const VideoBuildSpec &spec : options.builds) {
    auto session = Session::create(spec.path, options.session);
    if (!session)
      return fail(session.takeError());
    Build build;
    build.spec = spec;
    build.session = std::move(*session);
    build.summary.name = spec.name;
    build.summary.stateful = build.session->isStateful();
    build.stream.emplace(build.session->createStream());
    for (const TensorSpec &out : build.session->outputs()) {
      build.outputs.emplace_back(out.byteSize());
      build.outputPtrs.push_back(build.outputs.back().data());
    }
    if (!options.quiet) {
      llvm::outs() << kToolName << ": " << spec.name << ": " << spec.path;
      if (build.stateful()) {
        size_t layers = build.session->streamLayout().layers.size();
        llvm::outs() << " (stateful, " << layers << " residualized layer"
                     << (layers == 1 ? "" : "s") << ")";
      }
      llvm::outs() << llvm::format(", compiled in %.2f s\n",
                                   build.session->compileSeconds());
    }
    builds.push_back(std::move(build));
  }

  // Every build takes the same float frame and gives outputs of the same
  // shapes: that is what makes them comparable.
  const Build &reference = builds.front();
  const std::vector<TensorSpec> &inputs = reference.session->inputs();
  if (inputs.size() != 1 || inputs[0].dtype != npy::DType::Float32 ||
      inputs[0].shape.size() != 4 || inputs[0].shape[0] != 1 ||
      inputs[0].shape[3] != 3)
    return fail(reference.spec.path + ": @" + reference.session->entry() +
                " must take one frame, tensor<1xHxWx3xf32> (RGB in [0, 1]), "
                "but takes " +
                describeTypes(inputs));
  const int modelHeight = int(inputs[0].shape[1]);
  const int modelWidth = int(inputs[0].shape[2]);
  for (const Build &build : builds) {
    if (&build == &reference)
      continue;
    if (build.session->inputs().size() != 1 ||
        build.session->inputs()[0].shape != inputs[0].shape ||
        build.session->inputs()[0].dtype != inputs[0].dtype)
      return fail(build.spec.name + " (" + build.spec.path + ") takes " +
                  describeTypes(build.session->inputs()) +
                  ", the float build takes " + describeTypes(inputs) +
                  ": every build must take the same frame");
    const std::vector<TensorSpec> &outs = build.session->outputs();
    const std::vector<TensorSpec> &refOuts = reference.session->outputs();
    bool same = outs.size() == refOuts.size();
    for (size_t k = 0; same && k < outs.size(); ++k)
      same = outs[k].shape == refOuts[k].shape &&
             outs[k].dtype == refOuts[k].dtype;
    if (!same)
      return fail(build.spec.name + " (" + build.spec.path + ") returns " +
                  describeTypes(outs) + ", the float build returns " +
                  describeTypes(refOuts) +
                  ": every build must return the same results");
  }
  auto taskOutputs = findTaskOutputs(task, reference);
  if (!taskOutputs)
    return fail(taskOutputs.takeError());
  const TaskOutputs &io = *taskOutputs;

  bool anyStateful = false;
  for (const Build &build : builds)
    anyStateful |= build.stateful();
  if (!options.keyframeAt.empty() && !anyStateful)
    llvm::WithColor::warning(llvm::errs(), kToolName)
        << "no build is stateful: --keyframe-at is ignored\n";
  llvm::DenseSet<int64_t> forcedKeyframes(options.keyframeAt.begin(),
                                          options.keyframeAt.end());

  // Frames to expect, for the progress line.
  std::optional<int64_t> expected = reader.frameCount();
  if (options.maxFrames > 0)
    expected =
        expected ? std::min(*expected, options.maxFrames) : options.maxFrames;
  if (!options.quiet) {
    llvm::outs() << kToolName << ": " << options.videoPath << ": "
                 << reader.width() << "x" << reader.height() << " "
                 << reader.codecName();
    if (auto rate = reader.frameRate())
      llvm::outs() << llvm::format(", %.3g fps", *rate);
    if (auto count = reader.frameCount())
      llvm::outs() << ", " << *count << " frames";
    llvm::outs() << "; model input " << modelWidth << "x" << modelHeight << " ("
                 << fitName(options.fit) << ", "
                 << resizeFilterName(options.resize) << ")\n";
    llvm::outs().flush();
  }

  // The frame goes into one aligned buffer that every build reads.
  AlignedBuffer input(inputs[0].byteSize());
  float *inputData = reinterpret_cast<float *>(input.data());
  const void *inputPtrs[] = {input.data()};
  std::vector<float> savedInputs;

  std::optional<llvm::DefaultThreadPool> pool;
  if (options.threads > 1 && builds.size() > 1)
    pool.emplace(llvm::hardware_concurrency(options.threads));

  Resizer resizer(options.resize);
  Resizer overlayResizer(options.resize);
  Frame frame;
  RgbImage modelFrame;
  int64_t numFrames = 0, overlays = 0;
  auto runStart = Clock::now(), lastProgress = runStart;
  bool progressShown = false, tty = llvm::errs().is_displayed();

  while (options.maxFrames <= 0 || numFrames < options.maxFrames) {
    auto got = reader.next(frame);
    if (!got)
      return fail(got.takeError());
    if (!*got)
      break;
    const int64_t f = numFrames++;
    Placement placement;
    if (llvm::Error e =
            fitToModel(resizer, frame.image, modelWidth, modelHeight,
                       options.fit, modelFrame, &placement))
      return fail(options.videoPath + ": frame " + llvm::Twine(f) + ": " +
                  llvm::toString(std::move(e)));
    toModelInput(modelFrame, inputData);
    if (!options.saveInputs.empty())
      savedInputs.insert(savedInputs.end(), inputData,
                         inputData + inputs[0].numElements());

    // Run every build on the frame; each step is timed on its own.
    auto runBuild = [&](Build &build) {
      if (build.stateful() && forcedKeyframes.contains(f))
        build.stream->forceKeyframe();
      auto start = Clock::now();
      llvm::Error e =
          build.session->step(*build.stream, inputPtrs, build.outputPtrs);
      build.ms = std::chrono::duration<double, std::milli>(Clock::now() - start)
                     .count();
      if (e)
        build.error = llvm::toString(std::move(e));
      else if (build.stateful())
        build.cost = costOf(*build.stream);
    };
    if (pool) {
      for (Build &build : builds)
        pool->async([&runBuild, &build] { runBuild(build); });
      pool->wait();
    } else {
      for (Build &build : builds)
        runBuild(build);
    }
    for (Build &build : builds)
      if (!build.error.empty())
        return fail(build.spec.name + ": frame " + llvm::Twine(f) + ": " +
                    build.error);

    // Accuracy against the float build, on the frame's pixels only.
    MaskRect maskRect;
    if (task == Task::Segmentation)
      maskRect = frameInMask(placement, modelWidth, modelHeight, io.maskWidth,
                             io.maskHeight);
    std::vector<FrameAccuracy> accuracy(builds.size());
    double referenceFlag = 0;
    if (task == Task::Pose)
      referenceFlag =
          poseFlagProbability(reference.output(io.flag)[0], options.poseFlag);
    for (size_t b = 0; b < builds.size(); ++b) {
      Build &build = builds[b];
      FrameAccuracy &a = accuracy[b];
      if (task == Task::Segmentation) {
        a.overlap =
            maskOverlap(reference.output(io.mask), build.output(io.mask),
                        io.maskWidth, maskRect);
        build.summary.iou.add(a.overlap);
      } else {
        a.flag =
            poseFlagProbability(build.output(io.flag)[0], options.poseFlag);
        a.landmarks = landmarkError(reference.output(io.landmarks),
                                    referenceFlag, build.output(io.landmarks));
        build.summary.landmarks.add(a.landmarks);
      }
      build.summary.latencyMs.push_back(build.ms);
      if (build.stateful())
        build.summary.addCost(build.cost);
      if (framesFile)
        writeFrameLine(*framesFile, f, task, build, a);
    }

    // Overlay: the frame as every build saw it, side by side.
    if (!overlayDir.empty() && f % options.overlayEvery == 0) {
      // Small pictures are enlarged (by a whole factor) to at least 256
      // pixels on their longer side, so that the labels fit and details show.
      const RgbImage &base =
          options.overlayOriginalSize ? frame.image : modelFrame;
      int zoom = std::max(1, (256 + std::max(base.width, base.height) - 1) /
                                 std::max(base.width, base.height));
      RgbImage background;
      if (llvm::Error e = overlayResizer.resize(base, base.width * zoom,
                                                base.height * zoom, background))
        return fail(std::move(e));
      // The original frame is the placement's part of the model input.
      ViewRect view;
      if (options.overlayOriginalSize)
        view = ViewRect{double(placement.x) / modelWidth,
                        double(placement.y) / modelHeight,
                        double(placement.width) / modelWidth,
                        double(placement.height) / modelHeight};
      std::vector<Panel> panels;
      for (size_t b = 0; b < builds.size(); ++b) {
        const Build &build = builds[b];
        Panel panel;
        panel.title = build.spec.name;
        if (b == 0)
          panel.title += "  #" + std::to_string(f);
        panel.image = background;
        std::string caption;
        if (task == Task::Segmentation) {
          drawSegmentation(panel.image, build.output(io.mask),
                           b == 0 ? llvm::ArrayRef<float>()
                                  : reference.output(io.mask),
                           io.maskWidth, io.maskHeight, view);
          caption = b == 0 ? "reference"
                           : formatted("IoU %.3f", accuracy[b].overlap.iou());
        } else {
          if (b != 0 && referenceFlag >= 0.5)
            drawPose(panel.image, reference.output(io.landmarks), modelWidth,
                     modelHeight, view, /*muted=*/true);
          if (accuracy[b].flag >= 0.5)
            drawPose(panel.image, build.output(io.landmarks), modelWidth,
                     modelHeight, view);
          if (accuracy[b].flag < 0.5)
            caption = "no pose";
          else if (b == 0)
            caption = "reference";
          else if (accuracy[b].landmarks.counted)
            caption =
                formatted("err %.1fpx", accuracy[b].landmarks.meanDistance);
          else
            caption = "pose";
        }
        caption += formatted(build.ms < 10 ? " %.2fms" : " %.1fms", build.ms);
        if (build.stateful() && build.cost.keyframe)
          caption += " key";
        panel.caption = caption;
        panels.push_back(std::move(panel));
      }
      char name[32];
      std::snprintf(name, sizeof(name), "frame_%06lld.png", (long long)f);
      if (llvm::Error e =
              writePng(joinPath(overlayDir, name), composePanels(panels)))
        return fail(std::move(e));
      ++overlays;
    }

    // Progress: in place on a terminal, a line every few seconds otherwise.
    auto now = Clock::now();
    bool last = expected && numFrames == *expected;
    auto interval =
        tty ? std::chrono::milliseconds(200) : std::chrono::milliseconds(2000);
    if (!options.quiet && ((tty && last) || now - lastProgress >= interval)) {
      lastProgress = now;
      std::string line = std::string(kToolName) + ": frame " +
                         std::to_string(numFrames) +
                         (expected ? "/" + std::to_string(*expected) : "");
      for (size_t b = 0; b < builds.size(); ++b) {
        line +=
            " | " + builds[b].spec.name + formatted(" %.2f ms", builds[b].ms);
        if (b == 0)
          continue;
        if (task == Task::Segmentation)
          line += formatted(" IoU %.3f", builds[b].summary.iou.meanIoU());
        else if (builds[b].summary.landmarks.frames())
          line += formatted(" err %.2f px",
                            builds[b].summary.landmarks.meanError());
      }
      llvm::errs() << (tty ? "\r" : "") << line << (tty ? "\033[K" : "\n");
      progressShown = tty;
    }
  }
  if (progressShown)
    llvm::errs() << "\n";
  if (numFrames == 0)
    return fail(options.videoPath + ": no frames decoded");

  if (framesFile) {
    framesFile->close();
    if (framesFile->has_error()) {
      std::string message = framesFile->error().message();
      framesFile->clear_error();
      return fail(joinPath(options.reportDir, "frames.jsonl") +
                  ": cannot write: " + message);
    }
  }
  if (!options.saveInputs.empty()) {
    std::vector<int64_t> shape = {numFrames, 1, modelHeight, modelWidth, 3};
    llvm::ArrayRef<uint8_t> bytes(
        reinterpret_cast<const uint8_t *>(savedInputs.data()),
        savedInputs.size() * sizeof(float));
    if (llvm::Error e =
            npy::write(options.saveInputs, npy::DType::Float32, shape, bytes))
      return fail(std::move(e));
  }

  // The summary: the same text on stdout and in summary.md.
  std::vector<BuildSummary> summaries;
  for (const Build &build : builds)
    summaries.push_back(build.summary);
  std::string table = summaryTable(task, summaries);
  std::string bitLines = bitWidthLines(summaries);
  std::optional<std::string> noise = noiseReference(options.videoPath, task);
  std::string heading;
  {
    llvm::raw_string_ostream os(heading);
    os << options.videoPath << ": " << numFrames << " frame"
       << (numFrames == 1 ? "" : "s") << " (" << reader.width() << "x"
       << reader.height() << " " << reader.codecName() << " -> " << modelWidth
       << "x" << modelHeight << " " << fitName(options.fit) << ", "
       << resizeFilterName(options.resize) << "), task " << taskName(task);
    if (pool)
      os << ", builds run concurrently on " << options.threads << " threads";
  }

  if (!options.quiet) {
    llvm::raw_ostream &os = llvm::outs();
    os << kToolName << ": " << heading << "\n\n" << table;
    if (!bitLines.empty())
      os << "\n" << bitLines;
    if (noise)
      os << "\n" << *noise;
  }

  if (!options.reportDir.empty()) {
    std::string path = joinPath(options.reportDir, "summary.md");
    std::error_code ec;
    llvm::raw_fd_ostream md(path, ec, llvm::sys::fs::OF_Text);
    if (ec)
      return fail(path + ": cannot write: " + ec.message());
    md << "# resq-run video report\n\n" << heading << ".\n\n";
    md << "Builds (accuracy is measured against the float build):\n\n";
    for (const Build &build : builds)
      md << "- " << build.spec.name << ": `" << build.spec.path << "`"
         << (build.stateful() ? " (stateful, one stream)" : "") << "\n";
    md << "\n## Summary\n\n" << table;
    if (!bitLines.empty())
      md << "\n" << bitLines;
    if (noise)
      md << "\n" << *noise;
    md << "\n## Columns\n\n"
       << "- ms/frame: the build's step alone (steady clock), median and "
          "90th percentile over the frames.\n";
    if (task == Task::Segmentation)
      md << "- IoU: masks thresholded at 0.5, over the frame's pixels (not "
            "the letterbox bars); per-frame IoU (1 when both masks are "
            "empty) averaged over frames, and pooled IoU = sum of "
            "intersections / sum of unions.\n";
    else
      md << "- landmark error: mean (x, y) distance in input pixels over the "
            "first 33 landmarks visible in the float output "
            "(sigmoid(visibility) > 0.5), averaged over the frames where the "
            "float pose flag is >= 0.5 (their number is the next column).\n";
    md << "- activation bits/MAC: BOPs / (8 x MACs) over the residual "
          "(non-key) frames of a ResQ build; skipped blocks: the share of "
          "0-bit blocks over those frames; keyframes: forced, first or "
          "caused by a scene cut (counted in brackets).\n";
    md << "\n## Files\n\n"
       << "- `frames.jsonl`: one JSON object per frame and build.\n";
    if (overlays)
      md << "- `overlays/frame_NNNNNN.png` (every " << options.overlayEvery
         << " frames, " << overlays << " images): the builds side by side. "
         << (task == Task::Segmentation
                 ? "Green: the build's mask; red: pixels where it disagrees "
                   "with the float mask."
                 : "The build's skeleton in colour (left orange, right cyan), "
                   "the float skeleton in grey beneath.")
         << "\n";
    md << "\nCommand: `" << options.commandLine << "`\n";
    md.close();
    if (md.has_error()) {
      std::string message = md.error().message();
      md.clear_error();
      return fail(path + ": cannot write: " + message);
    }
    if (!options.quiet) {
      llvm::outs() << "\n  wrote " << path << "\n  wrote "
                   << joinPath(options.reportDir, "frames.jsonl") << "\n";
      if (overlays)
        llvm::outs() << "  wrote " << overlays << " overlay"
                     << (overlays == 1 ? "" : "s") << " to " << overlayDir
                     << "\n";
    }
  }
  if (!options.quiet && !options.saveInputs.empty())
    llvm::outs() << "  wrote " << options.saveInputs << ": float32 "
                 << npy::formatShape({numFrames, 1, modelHeight, modelWidth, 3})
                 << "\n";
  return 0;
}
