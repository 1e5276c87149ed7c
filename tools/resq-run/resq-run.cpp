//===- resq-run.cpp - run a step function over frames from .npy files -----===//
//
//   resq-run model.mlir --input frames.npy --output out --stats stats.jsonl
//   resq-run --video clip.avi --task segmentation --float m.mlir \
//       --int8 m.int8.mlir --resq a=m.resq.mlir --report report/
//
// Compiles the module with the resq-to-llvm pipeline, JIT-compiles it and
// calls its step function once per frame. The runner only moves data: all
// computation happens in the compiled module. The video mode (VideoMode.cpp)
// decodes a video instead and compares several builds of one model.
//
//===----------------------------------------------------------------------===//

#include "VideoMode.h"

#include "resq/Runtime/Npy.h"
#include "resq/Runtime/Session.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>

using namespace resq;
using namespace resq::runtime;
namespace cl = llvm::cl;
using llvm::StringRef;

static constexpr const char *kToolName = "resq-run";

static cl::OptionCategory runCategory("resq-run options");
static cl::OptionCategory videoCategory(
    "resq-run video mode options (--video)",
    "Compare builds of one model (float, int8, ResQ) side by side on the "
    "frames of a video");

// Required in .npy mode only; checked in main() (the video mode takes its
// models from --float, --int8 and --resq).
static cl::opt<std::string> modelPath(cl::Positional, cl::Optional,
                                      cl::desc("<model.mlir>"),
                                      cl::cat(runCategory));

static cl::list<std::string>
    inputPaths("input",
               cl::desc("Frames for one input of the step function (.npy, "
                        "frames along the first axis); give it once per "
                        "input, in argument order"),
               cl::value_desc("frames.npy"), cl::cat(runCategory));

static cl::opt<std::string>
    outputPrefix("output",
                 cl::desc("Write result k of every frame to <prefix><k>.npy "
                          "(required with --input)"),
                 cl::value_desc("prefix"), cl::cat(runCategory));

// Registered as "resq-stats" and renamed to "stats" in main(): LLVM owns a
// "-stats" flag of its own (print pass statistics), which registers lazily
// and would collide.
static cl::opt<std::string>
    statsPath("resq-stats",
              cl::desc("Write per-frame, per-layer statistics as JSON lines"),
              cl::value_desc("stats.jsonl"), cl::cat(runCategory));

static cl::opt<unsigned>
    numStreams("streams",
               cl::desc("Number of independent streams: frame f belongs to "
                        "stream f % K (default 1)"),
               cl::value_desc("K"), cl::init(1), cl::cat(runCategory));

static cl::opt<std::string> dumpStateDir(
    "dump-state",
    cl::desc("Record every layer's R and A after every frame and write "
             "<dir>/<layer>.R.npy and <dir>/<layer>.A.npy"),
    cl::value_desc("dir"), cl::cat(runCategory));

static cl::opt<std::string>
    targetCpu("target-cpu",
              cl::desc("CPU the kernels are generated for: an LLVM x86 CPU "
                       "name or 'native' (default)"),
              cl::value_desc("cpu"), cl::init("native"), cl::cat(runCategory));

static cl::opt<unsigned> stepThreads(
    "step-threads",
    cl::desc("Threads sharing the work of one step: the rows of every "
             "kernel and loop nest (OpenMP, libomp). Default 1: sequential "
             "code. Results are the same for any count"),
    cl::value_desc("N"), cl::init(1), cl::cat(runCategory));

static cl::opt<std::string>
    entryName("entry",
              cl::desc("The step function (default: @main, or the only "
                       "public function)"),
              cl::value_desc("name"), cl::cat(runCategory));

static cl::list<int64_t>
    keyframeAt("keyframe-at",
               cl::desc("Force keyframes at these frame indices (stateful "
                        "modules; in video mode, every ResQ build)"),
               cl::value_desc("F,..."), cl::CommaSeparated,
               cl::cat(runCategory));

static cl::opt<bool> quiet("quiet",
                           cl::desc("Print neither progress nor the summary"),
                           cl::init(false), cl::cat(runCategory));

// Video mode.
static cl::opt<std::string>
    videoPath("video",
              cl::desc("Run in video mode on this video (any file FFmpeg "
                       "decodes)"),
              cl::value_desc("file"), cl::cat(videoCategory));

static cl::opt<int64_t>
    maxFrames("frames",
              cl::desc("Stop after N frames (default: the whole video)"),
              cl::value_desc("N"), cl::init(0), cl::cat(videoCategory));

static cl::opt<std::string>
    taskName("task",
             cl::desc("What the model computes: 'segmentation' (a 1xHxWx1 "
                      "probability; mask IoU) or 'pose' (1x195 landmarks and "
                      "a 1x1 pose flag; landmark error)"),
             cl::value_desc("segmentation|pose"), cl::cat(videoCategory));

static cl::opt<std::string>
    floatPath("float",
              cl::desc("The float build: the reference every other build is "
                       "measured against"),
              cl::value_desc("model.mlir"), cl::cat(videoCategory));

static cl::opt<std::string> int8Path("int8", cl::desc("The int8 build"),
                                     cl::value_desc("model.mlir"),
                                     cl::cat(videoCategory));

static cl::list<std::string>
    resqBuilds("resq",
               cl::desc("A ResQ build named NAME (repeatable; shown as "
                        "resq:NAME)"),
               cl::value_desc("NAME=model.mlir"), cl::cat(videoCategory));

static cl::opt<std::string>
    reportDir("report",
              cl::desc("Write <dir>/summary.md, <dir>/frames.jsonl (per frame "
                       "and build) and the overlays"),
              cl::value_desc("dir"), cl::cat(videoCategory));

static cl::opt<unsigned> overlayEvery(
    "overlay-every",
    cl::desc("Write <report>/overlays/frame_NNNNNN.png every K frames: the "
             "builds side by side (default 0: none)"),
    cl::value_desc("K"), cl::init(0), cl::cat(videoCategory));

static cl::opt<std::string> overlaySize(
    "overlay-size",
    cl::desc("Overlay panels at the model's 'input' size (default) or at "
             "the video's 'original' size"),
    cl::value_desc("input|original"), cl::init("input"),
    cl::cat(videoCategory));

static cl::opt<std::string> fitMode(
    "fit",
    cl::desc("How a frame becomes the model's input: 'letterbox' (default: "
             "keep the aspect ratio, black bars) or 'stretch'"),
    cl::value_desc("letterbox|stretch"), cl::init("letterbox"),
    cl::cat(videoCategory));

static cl::opt<std::string> resizeFilter(
    "resize",
    cl::desc("swscale filter from the video's size to the model's input: "
             "'bilinear' (default; widened when shrinking) or 'area' (box "
             "average when shrinking)"),
    cl::value_desc("bilinear|area"), cl::init("bilinear"),
    cl::cat(videoCategory));

static cl::opt<std::string> poseFlagEncoding(
    "pose-flag",
    cl::desc("The pose flag output is a 'probability', a 'logit', or 'auto' "
             "(default: a logit when outside [0, 1])"),
    cl::value_desc("auto|probability|logit"), cl::init("auto"),
    cl::cat(videoCategory));

// Registered as "resq-threads" and renamed to "threads" in main(), like
// "stats": a library linked into the tool registers a "-threads" of its own.
static cl::opt<unsigned> numThreads(
    "resq-threads",
    cl::desc("Run the builds of a frame on up to N threads at once (default "
             "1: one after another, the cleanest timing; with more, builds "
             "compete for cores and memory bandwidth)"),
    cl::value_desc("N"), cl::init(1), cl::cat(videoCategory));

static cl::opt<std::string> saveInputs(
    "save-inputs",
    cl::desc("Also write every model input (after resizing) to an .npy "
             "file of shape [F, 1, H, W, 3]; it can be fed to --input"),
    cl::value_desc("inputs.npy"), cl::cat(videoCategory));

static const char *const kOverview = R"(resq-run: run a ResQ step function over the frames of .npy files or of a video

Compiles MODEL.mlir (ResQ + TOSA, or a plain int8 TOSA graph) with the
resq-to-llvm pipeline, JIT-compiles it and calls the step function once per
frame. Frame f is slice [f] of the leading axis of every --input; result k
of frame f becomes slice [f] of <prefix><k>.npy, of shape [F] + result shape.

Inputs:
  An input of tensor type with shape S takes an .npy array of shape [F] + S,
  or [F] + S[1:] when S[0] == 1. Its dtype must match the element type:
  i8 int8, ui8 uint8, i16 int16, i32 int32, i64 int64, f32 float32.
  All inputs must hold the same number of frames F.

Streams and state:
  A step function whose first argument is !resq.stream keeps per-stream
  state (reconstructed inputs R, accumulators A, statistics). With
  --streams K, frame f runs on stream f % K; every stream has its own state
  and starts with a keyframe. --keyframe-at forces keyframes.

Statistics (--stats): one JSON object per frame and residualized layer:
  {"frame", "stream", "layer", "keyframe", "scene_cut", "bits" (blocks per
   bit-width, non-zero counts only), "blocks", "skipped" (fraction of 0-bit
   blocks), "macs", "bops"}

Example:
  resq-run net.mlir --input frames.npy --output out --stats stats.jsonl
  resq-run net.mlir --input frames.npy --output out --streams 2 \
      --keyframe-at 0,10 --dump-state state/

Video mode (--video):
  resq-run --video FILE --task segmentation|pose --float FLOAT.mlir
      [--int8 INT8.mlir] [--resq NAME=RESQ.mlir ...] [--frames N]
      [--report DIR [--overlay-every K]] [--threads N]

  Decodes FILE with FFmpeg, fits every frame into the float build's input
  (tensor<1xHxWx3xf32>, RGB in [0, 1]; letterboxed unless --fit stretch,
  resized with swscale) and runs each build on it: one JIT session per build,
  one stream per ResQ build. Every build must take that input and return the
  float build's result types. Per build and frame it measures the step time,
  the accuracy against the float build on the same frame (segmentation: mask
  IoU at 0.5, averaged and pooled over frames; pose: mean (x, y) error of the
  body landmarks visible in the float output, on frames where the float pose
  flag is >= 0.5) and, for ResQ builds, blocks per bit-width, skipped blocks,
  MACs, BOPs and keyframes. It ends with a summary table (also in
  DIR/summary.md) and, for the project's clips (vtest.avi, movie.avi), the
  float model's own noise sensitivity from REAL-DATA.md as a reference. The
  task's results are found by shape: the mask is 1xHxWx1, the landmarks have
  195 elements, the pose flag 1.

  resq-run --video data/movie.avi --task segmentation \
      --float selfie.mlir --int8 selfie.int8.mlir --resq s4=selfie.resq.mlir \
      --report report/ --overlay-every 10
)";

namespace {

/// Prints "resq-run: error: <message>" and yields the exit code.
int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), kToolName) << message << "\n";
  return 1;
}
void warn(const llvm::Twine &message) {
  llvm::WithColor::warning(llvm::errs(), kToolName) << message << "\n";
}
int fail(llvm::Error error) {
  return fail(llvm::Twine(llvm::toString(std::move(error))));
}

/// The number of frames of `array` as a feed for `spec`, or std::nullopt
/// when its shape fits neither [F] + S nor [F] + S[1:] (with S[0] == 1).
std::optional<int64_t> framesOf(const npy::Array &array,
                                const TensorSpec &spec) {
  llvm::ArrayRef<int64_t> shape = array.shape, s = spec.shape;
  if (shape.empty())
    return std::nullopt;
  if (shape.drop_front() == s)
    return shape.front();
  if (!s.empty() && s.front() == 1 && shape.drop_front() == s.drop_front())
    return shape.front();
  return std::nullopt;
}

std::string expectedShapes(const TensorSpec &spec) {
  std::vector<int64_t> full = {-1};
  full.insert(full.end(), spec.shape.begin(), spec.shape.end());
  auto text = [](std::vector<int64_t> shape) {
    std::string s = npy::formatShape(shape);
    return "(F" + s.substr(s.find_first_of(",)"));
  };
  std::string result = text(full);
  if (!spec.shape.empty() && spec.shape.front() == 1) {
    full.erase(full.begin() + 1);
    result += " or " + text(full);
  }
  return result;
}

/// Per-layer totals for the summary.
struct LayerSummary {
  int64_t frames = 0, keyframes = 0, sceneCuts = 0;
  double skipped = 0, bits = 0, macs = 0;
};

/// Layer names become file names: keep them to a safe alphabet.
std::string fileNameFor(StringRef layer) {
  std::string name;
  for (char c : layer)
    name += (llvm::isAlnum(c) || c == '_' || c == '-' || c == '.') ? c : '_';
  return name.empty() ? std::string("layer") : name;
}

void writeStatsLine(llvm::raw_ostream &os, int64_t frame, unsigned stream,
                    const LayerLayout &layer, const LayerStats &stats) {
  llvm::json::OStream j(os);
  j.object([&] {
    j.attribute("frame", frame);
    j.attribute("stream", int64_t(stream));
    j.attribute("layer", layer.name);
    j.attribute("keyframe", stats.keyframe);
    j.attribute("scene_cut", stats.sceneCut);
    j.attributeObject("bits", [&] {
      for (size_t b = 0; b < stats.bits.size(); ++b)
        if (stats.bits[b])
          j.attribute(std::to_string(b), stats.bits[b]);
    });
    j.attribute("blocks", stats.blocks);
    j.attribute("skipped", stats.skippedFraction());
    j.attribute("macs", stats.macs);
    j.attribute("bops", stats.bops);
  });
  os << "\n";
}

/// The first video-mode option given on the command line, if any.
std::optional<std::string> givenVideoOption() {
  // std::addressof: cl::list overloads operator& to give its vector.
  cl::Option *videoOptions[] = {&maxFrames,
                                &taskName,
                                &floatPath,
                                &int8Path,
                                std::addressof(resqBuilds),
                                &reportDir,
                                &overlayEvery,
                                &overlaySize,
                                &resizeFilter,
                                &fitMode,
                                &poseFlagEncoding,
                                &numThreads,
                                &saveInputs};
  for (cl::Option *option : videoOptions)
    if (option->getNumOccurrences())
      return option->ArgStr.str();
  return std::nullopt;
}

/// Checks the video mode's options and runs it.
int videoMain(int argc, char **argv) {
  // Options of the .npy mode mean nothing here.
  cl::Option *npyOptions[] = {&modelPath,    std::addressof(inputPaths),
                              &outputPrefix, &statsPath,
                              &numStreams,   &dumpStateDir};
  for (cl::Option *option : npyOptions)
    if (option->getNumOccurrences())
      return fail((option == &modelPath
                       ? "a positional model (" + modelPath + ")"
                       : "--" + option->ArgStr.str()) +
                  " is for .npy inputs; in video mode the models are "
                  "--float, --int8 and --resq, and --report writes the "
                  "results");

  VideoModeOptions options;
  options.videoPath = videoPath;
  if (maxFrames < 0)
    return fail("--frames must not be negative");
  options.maxFrames = maxFrames;
  if (taskName.empty())
    return fail("--video needs --task segmentation or --task pose");
  std::optional<video::Task> task = video::parseTask(taskName);
  if (!task)
    return fail("--task " + taskName + ": expected 'segmentation' or 'pose'");
  options.task = *task;
  if (floatPath.empty())
    return fail("--video needs --float: the float build every other build "
                "is measured against");
  options.builds.push_back({"float", floatPath});
  if (!int8Path.empty())
    options.builds.push_back({"int8", int8Path});
  for (const std::string &arg : resqBuilds) {
    auto [name, path] = StringRef(arg).split('=');
    if (name.empty() || path.empty() || !StringRef(arg).contains('='))
      return fail("--resq " + arg + ": expected NAME=model.mlir");
    if (!llvm::all_of(name, [](char c) {
          return llvm::isAlnum(c) || c == '_' || c == '-' || c == '.';
        }))
      return fail("--resq " + arg +
                  ": a name takes letters, digits, '_', '-' and '.'");
    std::string full = "resq:" + name.str();
    for (const VideoBuildSpec &b : options.builds)
      if (b.name == full)
        return fail("--resq " + arg + ": the name " + name + " is given twice");
    options.builds.push_back({full, path.str()});
  }
  options.reportDir = reportDir;
  options.overlayEvery = overlayEvery;
  if (overlayEvery && reportDir.empty())
    return fail("--overlay-every needs --report: the overlays go to "
                "<report>/overlays");
  if (overlaySize != "input" && overlaySize != "original")
    return fail("--overlay-size " + overlaySize +
                ": expected 'input' or 'original'");
  options.overlayOriginalSize = overlaySize == "original";
  std::optional<video::Fit> fit = video::parseFit(fitMode);
  if (!fit)
    return fail("--fit " + fitMode + ": expected 'letterbox' or 'stretch'");
  options.fit = *fit;
  std::optional<video::ResizeFilter> filter =
      video::parseResizeFilter(resizeFilter);
  if (!filter)
    return fail("--resize " + resizeFilter + ": expected 'bilinear' or 'area'");
  options.resize = *filter;
  std::optional<video::FlagEncoding> flag =
      video::parseFlagEncoding(poseFlagEncoding);
  if (!flag)
    return fail("--pose-flag " + poseFlagEncoding +
                ": expected 'auto', 'probability' or 'logit'");
  options.poseFlag = *flag;
  if (numThreads == 0)
    return fail("--threads must be at least 1");
  options.threads = numThreads;
  options.saveInputs = saveInputs;
  options.session.entry = entryName;
  options.session.targetCpu = targetCpu;
  options.session.threads = stepThreads;
  options.keyframeAt.assign(keyframeAt.begin(), keyframeAt.end());
  options.quiet = quiet;
  for (int i = 0; i < argc; ++i)
    options.commandLine += (i ? " " : "") + std::string(argv[i]);
  return runVideoMode(options);
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  // Take "-stats" and "-threads" over from LLVM (see statsPath, numThreads).
  auto &registered = cl::getRegisteredOptions();
  if (auto it = registered.find("stats"); it != registered.end())
    it->second->removeArgument();
  statsPath.setArgStr("stats");
  if (auto it = registered.find("threads"); it != registered.end())
    it->second->removeArgument();
  numThreads.setArgStr("threads");
  cl::HideUnrelatedOptions({&runCategory, &videoCategory});
  cl::ParseCommandLineOptions(argc, argv, kOverview);
  resq::runtime::reuseLargeAllocations();
  if (stepThreads == 0)
    return fail("--step-threads must be at least 1");

  if (!videoPath.empty())
    return videoMain(argc, argv);
  if (std::optional<std::string> option = givenVideoOption())
    return fail("--" + *option + " belongs to the video mode: give --video");
  // What cl::Required would have said, had the video mode not made the
  // model and --output optional.
  if (modelPath.empty()) {
    llvm::errs() << llvm::sys::path::filename(argv[0])
                 << ": Not enough positional command line arguments "
                    "specified!\nMust specify at least 1 positional argument: "
                    "See: "
                 << argv[0] << " --help\n";
    return 1;
  }
  if (outputPrefix.empty()) {
    llvm::errs() << llvm::sys::path::filename(argv[0])
                 << ": for the --output option: must be specified at least "
                    "once!\n";
    return 1;
  }

  if (numStreams == 0)
    return fail("--streams must be at least 1");

  // Read the inputs first: a typo in a path should not cost a compilation.
  std::vector<npy::Array> inputs;
  for (const std::string &path : inputPaths) {
    auto array = npy::read(path);
    if (!array)
      return fail(array.takeError());
    inputs.push_back(std::move(*array));
  }

  SessionOptions options;
  options.entry = entryName;
  options.targetCpu = targetCpu;
  options.threads = stepThreads;
  auto created = Session::create(modelPath, options);
  if (!created)
    return fail(created.takeError());
  Session &session = **created;
  const std::vector<TensorSpec> &inputSpecs = session.inputs();
  const std::vector<TensorSpec> &outputSpecs = session.outputs();
  const StreamLayout &layout = session.streamLayout();

  // Match the inputs against the signature.
  if (inputs.size() != inputSpecs.size()) {
    std::string types;
    for (const TensorSpec &spec : inputSpecs)
      types += (types.empty() ? "" : ", ") + spec.mlirType;
    return fail("@" + session.entry() + " takes " +
                llvm::Twine(inputSpecs.size()) + " input" +
                (inputSpecs.size() == 1 ? "" : "s") +
                (types.empty() ? "" : " (" + types + ")") + " but " +
                llvm::Twine(inputs.size()) + " --input " +
                (inputs.size() == 1 ? "was" : "were") + " given");
  }
  int64_t numFrames = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const npy::Array &array = inputs[i];
    const TensorSpec &spec = inputSpecs[i];
    std::optional<int64_t> frames = framesOf(array, spec);
    if (array.dtype != spec.dtype || !frames)
      return fail(inputPaths[i] + ": input #" + llvm::Twine(i) + " of @" +
                  session.entry() + " is " + spec.mlirType + ": expected " +
                  npy::dtypeName(spec.dtype) + " of shape " +
                  expectedShapes(spec) + ", got " +
                  npy::dtypeName(array.dtype) + " of shape " +
                  npy::formatShape(array.shape));
    if (numFrames >= 0 && *frames != numFrames)
      return fail("all inputs must hold the same number of frames: " +
                  inputPaths[0] + " has " + llvm::Twine(numFrames) + ", " +
                  inputPaths[i] + " has " + llvm::Twine(*frames));
    numFrames = *frames;
  }
  if (numFrames < 0)
    return fail("@" + session.entry() +
                " takes no inputs: there is no frame count to run");
  if (numFrames == 0)
    return fail(inputPaths[0] + " holds no frames");

  // Options that only mean something for stateful modules.
  bool stateful = session.isStateful();
  if (!stateful) {
    if (!keyframeAt.empty())
      warn("@" + session.entry() + " is stateless: --keyframe-at is ignored");
    if (!dumpStateDir.empty())
      warn("@" + session.entry() + " is stateless: nothing to --dump-state");
    if (!statsPath.empty())
      warn("@" + session.entry() +
           " is stateless: the statistics file stays empty");
  }
  llvm::DenseSet<int64_t> keyframes;
  for (int64_t f : keyframeAt) {
    if (f < 0 || f >= numFrames)
      warn("--keyframe-at " + llvm::Twine(f) + " is outside the " +
           llvm::Twine(numFrames) + " frames");
    keyframes.insert(f);
  }

  // Check every output location before running, to fail early.
  StringRef outputDir = llvm::sys::path::parent_path(outputPrefix);
  if (!outputDir.empty() && !llvm::sys::fs::is_directory(outputDir))
    return fail("--output " + outputPrefix + ": no directory " + outputDir);
  std::unique_ptr<llvm::raw_fd_ostream> statsFile;
  if (!statsPath.empty()) {
    std::error_code ec;
    statsFile = std::make_unique<llvm::raw_fd_ostream>(statsPath, ec,
                                                       llvm::sys::fs::OF_Text);
    if (ec)
      return fail(statsPath + ": cannot write: " + ec.message());
  }
  bool dumpState = stateful && !dumpStateDir.empty();
  if (dumpState && llvm::none_of(layout.layers, [](const LayerLayout &l) {
        return l.keepsState();
      }))
    return fail("--dump-state: " + modelPath +
                " keeps no R or A: every frame is a keyframe "
                "(keyframe-interval=1) or every layer is standard, so nothing "
                "is carried between frames");
  if (dumpState)
    if (std::error_code ec = llvm::sys::fs::create_directories(dumpStateDir))
      return fail(dumpStateDir + ": cannot create the directory: " +
                  ec.message());

  // Results, and the recorded state, with a leading frames axis.
  auto withFrames = [&](llvm::ArrayRef<int64_t> shape) {
    std::vector<int64_t> full = {numFrames};
    full.insert(full.end(), shape.begin(), shape.end());
    return full;
  };
  std::vector<npy::Array> results;
  for (const TensorSpec &spec : outputSpecs)
    results.emplace_back(spec.dtype, withFrames(spec.shape));
  std::vector<npy::Array> stateR, stateA;
  if (dumpState) {
    for (const LayerLayout &l : layout.layers) {
      if (!l.keepsState()) { // nothing to record: empty placeholders
        stateR.emplace_back(npy::DType::Int16, std::vector<int64_t>{0});
        stateA.emplace_back(npy::DType::Int32, std::vector<int64_t>{0});
        continue;
      }
      std::vector<int64_t> rShape = l.rShape;
      rShape.back() = l.inChannels;
      stateR.emplace_back(npy::DType::Int16, withFrames(rShape));
      stateA.emplace_back(npy::DType::Int32, withFrames(l.aShape));
    }
  }

  // The step function reads and writes 64-byte aligned staging buffers.
  std::vector<AlignedBuffer> inStage, outStage;
  std::vector<const void *> inPtrs;
  std::vector<void *> outPtrs;
  for (const TensorSpec &spec : inputSpecs) {
    inStage.emplace_back(spec.byteSize());
    inPtrs.push_back(inStage.back().data());
  }
  for (const TensorSpec &spec : outputSpecs) {
    outStage.emplace_back(spec.byteSize());
    outPtrs.push_back(outStage.back().data());
  }
  std::vector<Stream> streams;
  for (unsigned s = 0; s < (stateful ? unsigned(numStreams) : 1u); ++s)
    streams.push_back(session.createStream());

  std::vector<LayerSummary> summary(layout.layers.size());
  using Clock = std::chrono::steady_clock;
  double stepSeconds = 0;
  auto runStart = Clock::now(), lastProgress = runStart;
  bool progressShown = false;
  for (int64_t f = 0; f < numFrames; ++f) {
    unsigned s = stateful ? unsigned(f % numStreams) : 0;
    Stream &stream = streams[s];
    if (stateful && keyframes.contains(f))
      stream.forceKeyframe();
    for (size_t i = 0; i < inputs.size(); ++i)
      std::memcpy(inStage[i].data(),
                  inputs[i].data.data() + f * inputSpecs[i].byteSize(),
                  inputSpecs[i].byteSize());

    auto stepStart = Clock::now();
    if (llvm::Error e = session.step(stream, inPtrs, outPtrs))
      return fail(std::move(e));
    stepSeconds +=
        std::chrono::duration<double>(Clock::now() - stepStart).count();

    for (size_t k = 0; k < results.size(); ++k)
      std::memcpy(results[k].data.data() + f * outputSpecs[k].byteSize(),
                  outStage[k].data(), outputSpecs[k].byteSize());
    for (size_t l = 0; l < layout.layers.size(); ++l) {
      LayerStats stats = stream.stats(l);
      if (statsFile)
        writeStatsLine(*statsFile, f, s, layout.layers[l], stats);
      LayerSummary &sum = summary[l];
      ++sum.frames;
      sum.keyframes += stats.keyframe;
      sum.sceneCuts += stats.sceneCut;
      sum.skipped += stats.skippedFraction();
      sum.bits += stats.meanBits();
      sum.macs += double(stats.macs);
      if (dumpState && layout.layers[l].keepsState()) {
        npy::Array r = stream.reconstructedInput(l);
        npy::Array a = stream.accumulator(l);
        std::memcpy(stateR[l].data.data() + f * r.byteSize(), r.data.data(),
                    r.byteSize());
        std::memcpy(stateA[l].data.data() + f * a.byteSize(), a.data.data(),
                    a.byteSize());
      }
    }

    // Progress, once a run takes long enough to wonder about it.
    auto now = Clock::now();
    if (!quiet && now - runStart > std::chrono::seconds(2) &&
        now - lastProgress > std::chrono::seconds(1)) {
      lastProgress = now;
      bool tty = llvm::errs().is_displayed();
      llvm::errs() << (tty ? "\r" : "") << kToolName << ": frame " << f + 1
                   << "/" << numFrames << (tty ? "" : "\n");
      progressShown = tty;
    }
  }
  if (progressShown)
    llvm::errs() << "\n";

  if (statsFile) {
    statsFile->close();
    if (statsFile->has_error()) {
      std::string message = statsFile->error().message();
      statsFile->clear_error();
      return fail(statsPath + ": cannot write: " + message);
    }
  }
  std::vector<std::string> written;
  for (size_t k = 0; k < results.size(); ++k) {
    std::string path = outputPrefix + std::to_string(k) + ".npy";
    if (llvm::Error e = npy::write(path, results[k]))
      return fail(std::move(e));
    written.push_back(path + ": " + npy::dtypeName(results[k].dtype).str() +
                      " " + npy::formatShape(results[k].shape));
  }
  for (size_t l = 0; l < stateR.size(); ++l) {
    // A standard layer (or a keyframe-only stream's) keeps no R and no A.
    if (!layout.layers[l].keepsState())
      continue;
    llvm::SmallString<128> base(dumpStateDir);
    llvm::sys::path::append(base, fileNameFor(layout.layers[l].name));
    if (llvm::Error e = npy::write((base + ".R.npy").str(), stateR[l]))
      return fail(std::move(e));
    if (llvm::Error e = npy::write((base + ".A.npy").str(), stateA[l]))
      return fail(std::move(e));
  }

  if (quiet)
    return 0;
  llvm::raw_ostream &os = llvm::outs();
  os << kToolName << ": @" << session.entry() << ", " << numFrames
     << " frame" << (numFrames == 1 ? "" : "s");
  if (stateful)
    os << ", " << numStreams << " stream" << (numStreams == 1 ? "" : "s");
  os << llvm::format(", compiled in %.2f s, %.3f ms/frame (mean step)\n",
                     session.compileSeconds(),
                     1e3 * stepSeconds / double(numFrames));
  if (!layout.layers.empty()) {
    size_t width = 5, kindWidth = 4;
    for (const LayerLayout &l : layout.layers) {
      width = std::max(width, l.name.size());
      kindWidth = std::max(kindWidth, l.kind.size());
    }
    os << "  " << llvm::left_justify("layer", width) << "  "
       << llvm::left_justify("kind", kindWidth)
       << "  keyframes  scene cuts  skipped  mean bits  MMAC/frame\n";
    for (size_t l = 0; l < layout.layers.size(); ++l) {
      const LayerSummary &sum = summary[l];
      double n = std::max<double>(double(sum.frames), 1.0);
      os << "  " << llvm::left_justify(layout.layers[l].name, width) << "  "
         << llvm::left_justify(layout.layers[l].kind, kindWidth)
         << llvm::format("  %9lld  %10lld  %7.3f  %9.2f  %10.3f\n",
                         (long long)sum.keyframes, (long long)sum.sceneCuts,
                         sum.skipped / n, sum.bits / n, sum.macs / n / 1e6);
    }
  }
  for (const std::string &line : written)
    os << "  wrote " << line << "\n";
  size_t dumpedLayers = llvm::count_if(
      layout.layers, [](const LayerLayout &l) { return l.keepsState(); });
  if (!stateR.empty())
    os << "  wrote R and A of " << dumpedLayers << " layer"
       << (dumpedLayers == 1 ? "" : "s") << " to " << dumpStateDir
       << (dumpedLayers < stateR.size() ? " (the others keep no state)" : "")
       << "\n";
  return 0;
}
