//===- resq-bench.cpp - resq against XNNPACK on the same video frames -----===//
//
// One process, one run, the same decoded frames for every configuration:
// XNNPACK fp32 and int8 (built from the imported float TOSA graph), the
// float build and resq's builds (JIT), on 1 and more threads. Prints median
// and p90 ms per frame, the ratio to XNNPACK fp32 on one thread, accuracy
// against the float build, and writes the table and a plot of accuracy
// against ms per frame and against bits.
//
//===----------------------------------------------------------------------===//

#include "Modes.h"
#include "XnnModel.h"

#include "resq/InitResQ.h"
#include "resq/Quantize/Calibration.h"
#include "resq/Runtime/Session.h"
#include "resq/Video/Preprocess.h"
#include "resq/Video/Report.h"
#include "resq/Video/VideoReader.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <functional>

using namespace resq;
using namespace resq::video;
using runtime::AlignedBuffer;
using runtime::LayerStats;
using runtime::Session;
using runtime::Stream;

namespace cl = llvm::cl;

static constexpr const char *kToolName = "resq-bench";

static cl::OptionCategory benchCategory("resq-bench options");

static cl::opt<std::string> videoPath("video", cl::desc("Video file"),
                                      cl::value_desc("file"),
                                      cl::cat(benchCategory));
static cl::opt<std::string> kernelModel(
    "kernels",
    cl::desc("Instead: time the generated kernel of every distinct linear "
             "layer of this int8 model against the measured VNNI peak"),
    cl::value_desc("model.int8.mlir"), cl::cat(benchCategory));
static cl::opt<std::string> sweepModel(
    "sweep",
    cl::desc("Instead: play a synthetic sequence (one frame of --video, "
             "p% of its 16x16 blocks changing per frame) through this ResQ "
             "model and print ms per frame against p"),
    cl::value_desc("model.dynamic.mlir"), cl::cat(benchCategory));
static cl::opt<int64_t>
    repeats("repeats",
            cl::desc("Timed steps per kernel (--kernels) or frames per point "
                     "(--sweep)"),
            cl::init(30), cl::cat(benchCategory));
static cl::opt<std::string> taskOption("task", cl::desc("segmentation or pose"),
                                       cl::init("segmentation"),
                                       cl::cat(benchCategory));
static cl::opt<std::string>
    floatPath("float",
              cl::desc("The float TOSA model (resq-translate's output): the "
                       "accuracy reference, and what XNNPACK runs"),
              cl::value_desc("model.mlir"), cl::cat(benchCategory));
static cl::list<std::string>
    resqBuilds("resq",
               cl::desc("A resq build, NAME=MODEL.mlir (repeatable): a "
                        "residualized model, or one with a keyframe every "
                        "frame for standard int8"),
               cl::value_desc("NAME=FILE"), cl::cat(benchCategory));
static cl::opt<std::string>
    threadList("xnn-threads", cl::desc("Thread counts to measure XNNPACK on"),
               cl::init("1,2"), cl::cat(benchCategory));
static cl::opt<std::string> resqThreadList(
    "resq-threads",
    cl::desc("Thread counts to measure the resq builds on (1: sequential "
             "code; more: OpenMP threads share the rows of every loop nest)"),
    cl::init("1,2"), cl::cat(benchCategory));
static cl::opt<int64_t> maxFrames("frames", cl::desc("Frames to play (0: all)"),
                                  cl::init(0), cl::cat(benchCategory));
static cl::opt<int64_t>
    warmupFrames("warmup",
                 cl::desc("Untimed frames run before each timed pass"),
                 cl::init(10), cl::cat(benchCategory));
static cl::opt<int64_t> calibrationFrames(
    "calibration-frames",
    cl::desc("Frames, spread over the clip, whose activation ranges set "
             "XNNPACK int8's quantization"),
    cl::init(16), cl::cat(benchCategory));
static cl::opt<std::string>
    reportDir("report",
              cl::desc("Directory for results.md, results.json and plot.svg"),
              cl::value_desc("dir"), cl::cat(benchCategory));
static cl::opt<bool> skipFloatTiming(
    "no-float-timing",
    cl::desc("Run the float build once for the reference, untimed"),
    cl::cat(benchCategory));

using bench::fixed;

std::string bench::fixed(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
  return buffer;
}

bool bench::writeReport(llvm::StringRef dir, llvm::StringRef name,
                        llvm::StringRef text) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, name);
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec) {
    llvm::WithColor::error(llvm::errs(), kToolName)
        << path << ": " << ec.message() << "\n";
    return false;
  }
  out << text;
  return true;
}

namespace {

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), kToolName) << message << "\n";
  return 1;
}
int fail(llvm::Error error) { return fail(llvm::toString(std::move(error))); }

/// One configuration's results over the run.
struct Row {
  Row(std::string name, unsigned threads)
      : name(std::move(name)), threads(threads) {}
  std::string name;
  unsigned threads = 1;
  std::vector<double> ms;
  IoUSummary iou;
  LandmarkErrorSummary landmarks;
  /// Activation bits per MAC: 32 (fp32), 8 (int8), measured for ResQ.
  double bits = 0;
  std::optional<double> skipped;
  int64_t keyframes = -1;
  std::string note;

  double median() const { return percentile(ms, 50); }
  double p90() const { return percentile(ms, 90); }
  double mean() const {
    double s = 0;
    for (double x : ms)
      s += x;
    return ms.empty() ? 0 : s / double(ms.size());
  }
  double accuracy(Task task) const {
    return task == Task::Segmentation ? iou.pooledIoU() : landmarks.meanError();
  }
};

/// Decoded frames, fitted to the model input (8-bit RGB, converted to float
/// per step outside the timed region).
struct Clip {
  std::vector<RgbImage> frames;
  std::vector<Placement> placements;
};

llvm::Expected<Clip> decode(int width, int height) {
  auto reader = VideoReader::open(videoPath);
  if (!reader)
    return reader.takeError();
  Clip clip;
  Resizer resizer;
  Frame frame;
  while (maxFrames <= 0 || int64_t(clip.frames.size()) < maxFrames) {
    auto got = (*reader)->next(frame);
    if (!got)
      return got.takeError();
    if (!*got)
      break;
    RgbImage fitted;
    Placement placement;
    if (llvm::Error e = fitToModel(resizer, frame.image, width, height,
                                   Fit::Letterbox, fitted, &placement))
      return std::move(e);
    clip.frames.push_back(std::move(fitted));
    clip.placements.push_back(placement);
  }
  if (clip.frames.empty())
    return llvm::createStringError(videoPath + ": no frames");
  return clip;
}

/// A scatter plot of accuracy against ms per frame and against bits, one
/// point per configuration, as SVG.
std::string plot(Task task, llvm::ArrayRef<Row> rows) {
  const double panelW = 420, panelH = 300, margin = 60;
  std::string svg;
  llvm::raw_string_ostream os(svg);
  // Coordinates with one decimal (raw_ostream prints doubles as %e).
  auto n = [](double v) { return fixed(v, 1); };
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='"
     << n(2 * (panelW + margin) + margin) << "' height='"
     << n(panelH + 2 * margin) << "' font-family='sans-serif' font-size='11'>\n"
     << "<rect width='100%' height='100%' fill='white'/>\n";
  double accLo = 1e30, accHi = -1e30;
  for (const Row &r : rows) {
    accLo = std::min(accLo, r.accuracy(task));
    accHi = std::max(accHi, r.accuracy(task));
  }
  if (accHi - accLo < 1e-3) {
    accLo -= 0.01;
    accHi += 0.01;
  }
  double pad = 0.08 * (accHi - accLo);
  accLo = accLo >= 0 ? std::max(0.0, accLo - pad) : accLo - pad;
  accHi += pad;
  const char *colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                          "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
  auto panel = [&](double x0, const char *xLabel,
                   std::function<double(const Row &)> xOf, bool logX) {
    double lo = 1e30, hi = -1e30;
    for (const Row &r : rows) {
      double x = xOf(r);
      if (logX)
        x = std::log2(std::max(x, 1e-3));
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    double span = std::max(hi - lo, 1e-3);
    lo -= 0.08 * span;
    hi += 0.08 * span;
    auto px = [&](double x) {
      if (logX)
        x = std::log2(std::max(x, 1e-3));
      return x0 + (x - lo) / (hi - lo) * panelW;
    };
    auto py = [&](double a) {
      return margin + panelH - (a - accLo) / (accHi - accLo) * panelH;
    };
    os << "<rect x='" << n(x0) << "' y='" << n(margin) << "' width='"
       << n(panelW) << "' height='" << n(panelH)
       << "' fill='none' stroke='black'/>\n";
    os << "<text x='" << n(x0 + panelW / 2) << "' y='"
       << n(margin + panelH + 35) << "' text-anchor='middle'>" << xLabel
       << "</text>\n";
    for (int t = 0; t <= 4; ++t) {
      double a = accLo + (accHi - accLo) * t / 4;
      os << "<text x='" << n(x0 - 5) << "' y='" << n(py(a) + 4)
         << "' text-anchor='end'>" << fixed(a, 3) << "</text>\n";
      double x = lo + (hi - lo) * t / 4;
      double shown = logX ? std::exp2(x) : x;
      os << "<text x='" << n(x0 + (x - lo) / (hi - lo) * panelW) << "' y='"
         << n(margin + panelH + 15) << "' text-anchor='middle'>"
         << fixed(shown, shown < 10 ? 2 : 1) << "</text>\n";
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row &r = rows[i];
      double cx = px(xOf(r)), cy = py(r.accuracy(task));
      os << "<circle cx='" << n(cx) << "' cy='" << n(cy) << "' r='4' fill='"
         << colors[i % 8] << "'/>\n<text x='" << n(cx + 6) << "' y='"
         << n(cy - 4) << "' fill='" << colors[i % 8] << "'>" << r.name << " ("
         << r.threads << "t)</text>\n";
    }
  };
  panel(
      margin, "ms per frame (median)", [](const Row &r) { return r.median(); },
      /*logX=*/true);
  panel(
      2 * margin + panelW, "activation bits per MAC",
      [](const Row &r) { return r.bits; }, /*logX=*/true);
  os << "<text x='" << n(margin) << "' y='" << n(margin - 20) << "'>"
     << (task == Task::Segmentation
             ? "pooled mask IoU against the float model"
             : "mean landmark error against the float model, px (lower is "
               "better)")
     << "</text>\n</svg>\n";
  return svg;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::SetVersionPrinter(
      [](llvm::raw_ostream &os) { os << "resq-bench (resq)\n"; });
  cl::HideUnrelatedOptions(benchCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "resq-bench: resq against XNNPACK on the same frames of a video\n\n"
      "Decodes --video once and fits its frames to the model input. Then, one\n"
      "configuration after another on the same frames: XNNPACK fp32 and\n"
      "XNNPACK int8 on each --xnn-threads count (the subgraph is built from "
      "the\n"
      "float TOSA model; int8 uses per-channel weights and activation ranges\n"
      "chosen as resq-quantize does (MSE) on --calibration-frames frames),\n"
      "the float build (the accuracy reference, resq's JIT: upstream's\n"
      "lowering with resq's float convolution loops, bit for bit the same\n"
      "results) and every --resq build on each --resq-threads\n"
      "count. Each configuration runs --warmup frames\n"
      "untimed, then every frame timed (a resq build on a fresh stream, so\n"
      "its keyframes count). Prints median / p90 ms per frame, the ratio to\n"
      "XNNPACK fp32 on one thread, accuracy against the float build (pooled\n"
      "mask IoU, or mean landmark error in input pixels) and, for ResQ, bits\n"
      "per MAC and skipped blocks; --report writes results.md, results.json\n"
      "and plot.svg (accuracy against ms and against bits).\n\n"
      "  resq-bench --video data/vtest.avi --float selfie.mlir \\\n"
      "      --resq int8=selfie.keyframes.mlir --resq dynamic=selfie.dyn.mlir "
      "\\\n"
      "      --report out/bench\n\n"
      "Two other measurements:\n"
      "  resq-bench --kernels selfie.int8.mlir [--report DIR]\n"
      "      every distinct linear layer alone (keyframe kernel), GMAC/s\n"
      "      against the CPU's VNNI peak measured in the same run, and the\n"
      "      time of writing its int32 accumulator alone (the store floor)\n"
      "      and, where its output is requantized to int8 by elementwise ops\n"
      "      alone, its time with them (the kernel then writes int8);\n"
      "  resq-bench --sweep selfie.dyn.mlir --video data/vtest.avi\n"
      "      ms per frame when p = 0, 1, 5, 10, 25, 50, 100 % of the input's\n"
      "      16x16 blocks change per frame, and with a keyframe every "
      "frame.\n");

  // Every runtime here (XNNPACK too) benefits alike.
  runtime::reuseLargeAllocations();
  if (!reportDir.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(reportDir))
      return fail(reportDir + ": " + ec.message());
  if (!kernelModel.empty())
    return bench::runKernelBenchmark(kernelModel, reportDir, repeats);
  if (videoPath.empty())
    return fail("--video is required (see --help)");
  if (!sweepModel.empty())
    return bench::runChangeSweep(sweepModel, videoPath, reportDir, repeats);
  if (floatPath.empty())
    return fail("--float is required (see --help)");

  auto task = parseTask(taskOption);
  if (!task)
    return fail("--task must be segmentation or pose, not '" + taskOption +
                "'");
  auto parseThreads = [](llvm::StringRef option, llvm::StringRef list,
                         std::vector<unsigned> &out) {
    llvm::SmallVector<llvm::StringRef> items;
    list.split(items, ',');
    for (llvm::StringRef t : items) {
      unsigned n = 0;
      if (t.trim().getAsInteger(10, n) || n == 0 || n > 64) {
        fail("--" + option + ": '" + t + "' is not a thread count");
        return false;
      }
      out.push_back(n);
    }
    return true;
  };
  std::vector<unsigned> threads, resqThreads;
  if (!parseThreads("xnn-threads", threadList, threads) ||
      !parseThreads("resq-threads", resqThreadList, resqThreads))
    return 1;
  std::vector<std::pair<std::string, std::string>> resqSpecs;
  for (const std::string &spec : resqBuilds) {
    auto [name, path] = llvm::StringRef(spec).split('=');
    if (name.empty() || path.empty())
      return fail("--resq " + spec + ": expected NAME=MODEL.mlir");
    if (!llvm::sys::fs::exists(path))
      return fail("--resq " + spec + ": no such file");
    resqSpecs.push_back({name.str(), path.str()});
  }
  if (!reportDir.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(reportDir))
      return fail(reportDir + ": " + ec.message());

  // The float model, parsed for XNNPACK and compiled for the reference.
  mlir::DialectRegistry registry;
  resq::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  auto module = mlir::parseSourceFile<mlir::ModuleOp>(floatPath.getValue(),
                                                      sourceMgr, &context);
  if (!module)
    return fail(floatPath + ": cannot parse");
  mlir::func::FuncOp func;
  module->walk([&](mlir::func::FuncOp f) {
    if (!func && !f.isExternal())
      func = f;
  });
  if (!func)
    return fail(floatPath + ": no function");

  llvm::outs() << kToolName << ": compiling " << floatPath << "\n";
  llvm::outs().flush();
  auto reference = Session::create(floatPath);
  if (!reference)
    return fail(reference.takeError());
  const auto &inputs = (*reference)->inputs();
  if (inputs.size() != 1 || inputs[0].shape.size() != 4 ||
      inputs[0].shape[3] != 3 || inputs[0].dtype != npy::DType::Float32)
    return fail(floatPath + ": must take one tensor<1xHxWx3xf32>");
  const int height = int(inputs[0].shape[1]), width = int(inputs[0].shape[2]);
  std::vector<ResultShape> shapes;
  for (const auto &spec : (*reference)->outputs())
    shapes.push_back({spec.shape, spec.dtype == npy::DType::Float32});
  auto io = findTaskOutputs(*task, shapes, floatPath, "the model's results");
  if (!io)
    return fail(io.takeError());

  // The float model's activations: every tensor an op computes (weights
  // and other constants aside), in bytes.
  int64_t activationBytes = 0;
  func.walk([&](mlir::Operation *op) {
    if (op->hasTrait<mlir::OpTrait::ConstantLike>())
      return;
    for (mlir::Value result : op->getResults())
      if (auto type = llvm::dyn_cast<mlir::RankedTensorType>(result.getType()))
        if (type.hasStaticShape() && type.getElementType().isIntOrFloat())
          activationBytes +=
              type.getNumElements() * type.getElementTypeBitWidth() / 8;
  });
  activationBytes = std::max<int64_t>(activationBytes, 1);

  auto clipOr = decode(width, height);
  if (!clipOr)
    return fail(clipOr.takeError());
  Clip &clip = *clipOr;
  const size_t numFrames = clip.frames.size();
  llvm::outs() << kToolName << ": " << videoPath << ": " << numFrames
               << " frames at " << width << "x" << height << "\n";

  AlignedBuffer input(inputs[0].byteSize());
  float *inputData = reinterpret_cast<float *>(input.data());
  auto loadFrame = [&](size_t f) { toModelInput(clip.frames[f], inputData); };
  const auto &outSpecs = (*reference)->outputs();
  auto makeOutputs = [&](std::vector<AlignedBuffer> &buffers,
                         std::vector<float *> &ptrs) {
    for (const auto &spec : outSpecs) {
      buffers.emplace_back(spec.byteSize());
      ptrs.push_back(reinterpret_cast<float *>(buffers.back().data()));
    }
  };

  // The reference outputs the task reads, per frame.
  std::vector<std::vector<float>> refMask, refLandmarks;
  std::vector<double> refFlag;
  std::vector<Row> rows;
  auto judge = [&](Row &row, size_t f, llvm::ArrayRef<float *> ptrs) {
    if (*task == Task::Segmentation) {
      MaskRect rect = frameInMask(clip.placements[f], width, height,
                                  io->maskWidth, io->maskHeight);
      row.iou.add(maskOverlap(
          refMask[f], llvm::ArrayRef<float>(ptrs[io->mask], refMask[f].size()),
          io->maskWidth, rect));
    } else {
      row.landmarks.add(landmarkError(
          refLandmarks[f], refFlag[f],
          llvm::ArrayRef<float>(ptrs[io->landmarks], kLandmarkValues)));
    }
  };
  {
    Row row("float (resq JIT)", 1);
    row.bits = 32;
    std::vector<AlignedBuffer> buffers;
    std::vector<float *> ptrs;
    makeOutputs(buffers, ptrs);
    std::vector<void *> outs(ptrs.begin(), ptrs.end());
    const void *in[] = {input.data()};
    llvm::outs() << kToolName << ": float reference";
    llvm::outs().flush();
    for (size_t f = 0; f < numFrames; ++f) {
      loadFrame(f);
      auto start = std::chrono::steady_clock::now();
      if (llvm::Error e = (*reference)->step(in, outs))
        return fail(std::move(e));
      row.ms.push_back(std::chrono::duration<double, std::milli>(
                           std::chrono::steady_clock::now() - start)
                           .count());
      if (*task == Task::Segmentation) {
        refMask.emplace_back(ptrs[io->mask],
                             ptrs[io->mask] + outSpecs[io->mask].numElements());
      } else {
        refLandmarks.emplace_back(ptrs[io->landmarks],
                                  ptrs[io->landmarks] + kLandmarkValues);
        refFlag.push_back(
            poseFlagProbability(ptrs[io->flag][0], FlagEncoding::Auto));
      }
      judge(row, f, ptrs); // against itself: the table's reference row
    }
    llvm::outs() << llvm::format(": %.2f ms/frame median\n", row.median());
    if (!skipFloatTiming)
      rows.push_back(std::move(row));
  }

  auto timedPass =
      [&](Row &row, const std::function<llvm::Error()> &reset,
          const std::function<llvm::Error(size_t)> &step) -> llvm::Error {
    for (size_t f = 0; f < std::min<size_t>(warmupFrames, numFrames); ++f) {
      loadFrame(f);
      if (llvm::Error e = step(f))
        return e;
    }
    if (llvm::Error e = reset())
      return e;
    for (size_t f = 0; f < numFrames; ++f) {
      loadFrame(f);
      auto start = std::chrono::steady_clock::now();
      if (llvm::Error e = step(f))
        return e;
      row.ms.push_back(std::chrono::duration<double, std::milli>(
                           std::chrono::steady_clock::now() - start)
                           .count());
    }
    return llvm::Error::success();
  };
  auto progress = [&](const Row &row) {
    llvm::outs() << llvm::format("%s: %-28s %u thread%s: %7.3f ms median\n",
                                 kToolName, row.name.c_str(), row.threads,
                                 row.threads == 1 ? " " : "s", row.median());
    llvm::outs().flush();
  };

  // XNNPACK: calibrate int8 on frames spread over the clip, then time.
  bench::ActivationRanges ranges;
  {
    bench::XnnOptions options;
    options.exposeActivations = true;
    auto calibration = bench::XnnModel::create(func, options);
    if (!calibration)
      return fail(calibration.takeError());
    std::vector<AlignedBuffer> buffers;
    std::vector<float *> ptrs;
    makeOutputs(buffers, ptrs);
    // The same range choice as resq-quantize's default (MSE over a
    // histogram): two passes, the range first, then the histogram.
    int64_t n = std::max<int64_t>(1, calibrationFrames);
    llvm::DenseMap<void *, Histogram> histograms;
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t i = 0; i < n; ++i) {
        loadFrame(size_t(i * int64_t(numFrames) / n));
        if (llvm::Error e = (*calibration)->run(inputData, ptrs))
          return fail(std::move(e));
        (*calibration)
            ->forEachActivation([&](void *key, llvm::ArrayRef<float> values) {
              if (pass == 0)
                histograms[key].observe(values.data(), values.size());
              else
                histograms[key].add(values.data(), values.size());
            });
      }
    }
    for (auto &[key, histogram] : histograms) {
      QuantParams q = histogram.choose(RangeMethod::Mse);
      ranges[key] = {float(q.dequantize(-128)), float(q.dequantize(127))};
    }
  }
  for (bench::XnnPrecision precision :
       {bench::XnnPrecision::Fp32, bench::XnnPrecision::Int8}) {
    for (unsigned t : threads) {
      bench::XnnOptions options;
      options.precision = precision;
      options.threads = t;
      options.ranges = &ranges;
      auto model = bench::XnnModel::create(func, options);
      if (!model)
        return fail(model.takeError());
      bool int8 = precision == bench::XnnPrecision::Int8;
      Row row(int8 ? "XNNPACK int8" : "XNNPACK fp32", t);
      row.bits = int8 ? 8 : 32;
      row.note = (*model)->summary();
      std::vector<AlignedBuffer> buffers;
      std::vector<float *> ptrs;
      makeOutputs(buffers, ptrs);
      bool timed = false;
      auto reset = [&]() {
        timed = true;
        return llvm::Error::success();
      };
      auto step = [&](size_t f) -> llvm::Error {
        if (llvm::Error e = (*model)->run(inputData, ptrs))
          return e;
        if (timed)
          judge(row, f, ptrs);
        return llvm::Error::success();
      };
      if (llvm::Error e = timedPass(row, reset, step))
        return fail(row.name + ": " + llvm::toString(std::move(e)));
      progress(row);
      rows.push_back(std::move(row));
    }
  }

  // resq's builds, sequential and parallel.
  for (auto &[name, path] : resqSpecs) {
    for (unsigned t : resqThreads) {
      runtime::SessionOptions sessionOptions;
      sessionOptions.threads = t;
      auto session = Session::create(path, sessionOptions);
      if (!session)
        return fail(session.takeError());
      if ((*session)->inputs().size() != 1 ||
          (*session)->inputs()[0].shape != inputs[0].shape ||
          (*session)->outputs().size() != outSpecs.size())
        return fail(path + ": takes or returns other tensors than " +
                    floatPath);
      Row row("resq " + name, t);
      std::vector<AlignedBuffer> buffers;
      std::vector<float *> ptrs;
      makeOutputs(buffers, ptrs);
      std::vector<void *> outs(ptrs.begin(), ptrs.end());
      const void *in[] = {input.data()};
      std::optional<Stream> stream((*session)->createStream());
      bool timed = false;
      int64_t macs = 0, bops = 0, blocks = 0, skippedBlocks = 0, keyframes = 0;
      auto reset = [&]() {
        stream.emplace((*session)->createStream());
        timed = true;
        return llvm::Error::success();
      };
      auto step = [&](size_t f) -> llvm::Error {
        if (llvm::Error e = (*session)->step(*stream, in, outs))
          return e;
        if (!timed)
          return llvm::Error::success();
        judge(row, f, ptrs);
        if ((*session)->isStateful()) {
          LayerStats s = stream->totals();
          if (stream->lastFrameWasKeyframe()) {
            ++keyframes;
          } else {
            macs += s.macs;
            bops += s.bops;
            blocks += s.blocks;
            skippedBlocks += s.bits[0];
          }
        }
        return llvm::Error::success();
      };
      if (llvm::Error e = timedPass(row, reset, step))
        return fail(row.name + ": " + llvm::toString(std::move(e)));
      row.bits = macs ? double(bops) / (8.0 * double(macs)) : 8.0;
      if (blocks)
        row.skipped = double(skippedBlocks) / double(blocks);
      if ((*session)->isStateful())
        row.keyframes = keyframes;
      size_t stateBytes = (*session)->isStateful() ? stream->size() : 0;
      size_t scratchBytes =
          (*session)->isStateful() ? stream->layout().scratchSize : 0;
      row.note =
          "stream state " + fixed(double(stateBytes) / (1 << 20), 1) +
          " MiB, " + fixed(double(stateBytes) / double(activationBytes), 2) +
          "x the float model's activations; " +
          fixed(double(scratchBytes) / (1 << 20), 1) + " MiB scratch per step";
      progress(row);
      rows.push_back(std::move(row));
    }
  }

  // The table.
  double peer = 0;
  for (const Row &r : rows)
    if (r.name == "XNNPACK fp32" && r.threads == 1)
      peer = r.median();
  std::string table;
  llvm::raw_string_ostream os(table);
  os << "| configuration | threads | ms/frame median | p90 | mean | x XNNPACK "
        "fp32 (1 thread) | "
     << (*task == Task::Segmentation ? "pooled IoU | mean IoU"
                                     : "landmark error px | frames counted")
     << " | bits/MAC | skipped | keyframes |\n"
     << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Row &r : rows) {
    os << "| " << r.name << " | " << r.threads << " | " << fixed(r.median(), 2)
       << " | " << fixed(r.p90(), 2) << " | " << fixed(r.mean(), 2) << " | "
       << (peer > 0 ? fixed(r.median() / peer, 2) + "x" : "-") << " | ";
    if (*task == Task::Segmentation)
      os << fixed(r.iou.pooledIoU(), 4) << " | " << fixed(r.iou.meanIoU(), 4);
    else
      os << fixed(r.landmarks.meanError(), 2) << " | " << r.landmarks.frames();
    os << " | " << fixed(r.bits, 2) << " | "
       << (r.skipped ? fixed(100 * *r.skipped, 1) + "%" : "-") << " | "
       << (r.keyframes >= 0 ? std::to_string(r.keyframes) : "-") << " |\n";
  }
  os << "\n";
  for (const Row &r : rows)
    if (!r.note.empty())
      os << "- " << r.name << " (" << r.threads << "t): " << r.note << "\n";
  os << "- the float model's activations (every tensor its ops compute): "
     << fixed(double(activationBytes) / (1 << 20), 1) << " MiB.\n";
  os << "- " << numFrames << " frames of "
     << llvm::sys::path::filename(videoPath) << " at " << width << "x" << height
     << ", " << warmupFrames
     << " warm-up frames per configuration; resq on 1 thread is sequential "
        "code, on more the OpenMP build of the same model.\n";
  llvm::outs() << "\n" << table;
  if (auto noise = noiseReference(videoPath, *task))
    llvm::outs() << "\n" << *noise;
  llvm::outs().flush();

  if (!reportDir.empty()) {
    auto write = [&](llvm::StringRef name, llvm::StringRef text) {
      return bench::writeReport(reportDir, name, text);
    };
    std::string json;
    llvm::raw_string_ostream js(json);
    js << "[\n";
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row &r = rows[i];
      js << "  {\"name\": \"" << r.name << "\", \"threads\": " << r.threads
         << ", \"median_ms\": " << fixed(r.median(), 4)
         << ", \"p90_ms\": " << fixed(r.p90(), 4)
         << ", \"mean_ms\": " << fixed(r.mean(), 4)
         << ", \"accuracy\": " << fixed(r.accuracy(*task), 5)
         << ", \"bits\": " << fixed(r.bits, 3) << "}"
         << (i + 1 < rows.size() ? "," : "") << "\n";
    }
    js << "]\n";
    if (!write("results.md", table) || !write("results.json", json) ||
        !write("plot.svg", plot(*task, rows)))
      return 1;
    llvm::outs() << kToolName << ": wrote " << reportDir
                 << "/{results.md,results.json,plot.svg}\n";
  }
  return 0;
}
