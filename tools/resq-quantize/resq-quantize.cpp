//===- resq-quantize.cpp - calibrate a float TOSA graph to int8 -----------===//
//
//   resq-quantize model.mlir --calibrate frames.npy -o model.int8.mlir
//
// Runs the float model over real frames, measures the range of every linear
// layer's input, and rewrites the linear layers to standard int8 (see
// resq/Quantize/Quantize.h). Prints what it chose per layer.
//
//===----------------------------------------------------------------------===//

#include "resq/InitResQ.h"
#include "resq/Quantize/Quantize.h"
#include "resq/Runtime/Npy.h"
#include "resq/Runtime/Session.h"
#include "resq/Transforms/Passes.h"
#include "resq/Video/Preprocess.h"
#include "resq/Video/VideoReader.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <optional>
#include <cstring>

using namespace mlir;
using namespace resq;
using namespace resq::npy;
namespace cl = llvm::cl;

static cl::OptionCategory category("resq-quantize options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string> calibrate(
    "calibrate",
    cl::desc("Calibration frames: a video file (decoded, fitted to the "
             "model input, RGB in [0, 1]) or a float32 .npy whose leading "
             "axis is frames ([F] + input shape, or [F] + shape[1:] when "
             "the batch is 1)"),
    cl::value_desc("frames"), cl::Required, cl::cat(category));
static cl::opt<std::string> fit("fit",
                                cl::desc("How video frames fill the model "
                                         "input: letterbox or stretch"),
                                cl::init("letterbox"), cl::cat(category));
static cl::opt<std::string> dumpFrames(
    "dump-frames",
    cl::desc("Also write the calibration frames as a float32 .npy (the "
             "input resq-run takes)"),
    cl::value_desc("frames.npy"), cl::init(""), cl::cat(category));
static cl::opt<int> videoStride("stride",
                                cl::desc("Use every K-th video frame (with "
                                         "K > 1 the residual steps stay 1: "
                                         "their search needs consecutive "
                                         "frames)"),
                                cl::init(1), cl::cat(category));
static cl::opt<std::string> outputFile("o", cl::desc("Output file (- for stdout)"),
                                       cl::value_desc("model.int8.mlir"),
                                       cl::init("-"), cl::cat(category));
static cl::opt<std::string>
    method("method",
           cl::desc("Activation range: mse (clipping that minimizes the "
                    "expected squared error; default), percentile, minmax"),
           cl::init("mse"), cl::cat(category));
static cl::opt<double> percentile("percentile",
                                  cl::desc("Central percentage kept by "
                                           "--method=percentile"),
                                  cl::init(99.99), cl::cat(category));
static cl::list<std::string>
    floatLayers("float-layers", cl::CommaSeparated,
                cl::desc("Layers to leave in float (mixed precision)"),
                cl::value_desc("name,..."), cl::cat(category));
static cl::opt<int> maxFrames("frames",
                              cl::desc("Use at most this many frames (0: all "
                                       "of an .npy, 48 of a video)"),
                              cl::init(0), cl::cat(category));
static cl::opt<std::string> entry("entry", cl::desc("Function to calibrate"),
                                  cl::init("main"), cl::cat(category));
static cl::opt<bool> sensitivity(
    "sensitivity",
    cl::desc("Measure each layer's sensitivity: the relative RMS error of "
             "the model's output with only that layer in int8, over the "
             "calibration frames (compiles the model once per layer)"),
    cl::init(false), cl::cat(category));
static cl::opt<double> keepFloatAbove(
    "keep-float-above",
    cl::desc("With --sensitivity: leave in float every layer whose error "
             "alone exceeds this (0: none)"),
    cl::init(0.0), cl::cat(category));
static cl::opt<int> keepFloatTop(
    "keep-float-top",
    cl::desc("With --sensitivity: also leave in float the N layers whose "
             "error alone is largest (0: none)"),
    cl::init(0), cl::cat(category));
static cl::opt<int> sensitivityFrames(
    "sensitivity-frames",
    cl::desc("With --sensitivity: measure on the first N calibration frames "
             "only (0: all); each layer compiles and runs the model once"),
    cl::init(0), cl::cat(category));
static cl::opt<bool> biasCorrection(
    "bias-correction",
    cl::desc("Fold the mean shift the rounded weights cause into each "
             "layer's bias, from the per-channel means of its input over "
             "the calibration frames (default on)"),
    cl::init(true), cl::cat(category));
static cl::list<std::string> errorOutputs(
    "error-outputs", cl::CommaSeparated,
    cl::desc("Results (by name) the output error is measured on, for "
             "--sensitivity and --residual-target (default: every float "
             "result). A model with several heads is judged by the one "
             "that matters, e.g. pose landmarks rather than its mask"),
    cl::value_desc("name,..."), cl::cat(category));
static cl::opt<unsigned> candidateOptLevel(
    "candidate-opt-level",
    cl::desc("LLVM optimization level (0-3) of the models compiled to "
             "measure output errors (sensitivity, residual steps); results "
             "are the same at every level, only compile and run times "
             "differ"),
    cl::init(3), cl::cat(category));
static cl::opt<int> refineSteps(
    "refine-steps",
    cl::desc("After the global search, try up to this many single-layer "
             "step increases (to the next odd step), in rounds over the "
             "layers, costliest (by BOPs) first, keeping each that stays "
             "within --residual-target and lowers the bits per MAC; a layer "
             "whose increase is rejected is not tried again (one compile "
             "each)"),
    cl::init(0), cl::cat(category));
static cl::opt<int> changeFrames(
    "change-frames",
    cl::desc("With --residual-target: consecutive frames from the start of "
             "the clip (of the .npy: its first ones) on which each layer's "
             "share of changed input pixels is measured with the calibrated "
             "steps, recorded as resq.changed for --resq-residualize's "
             "standard-above (0: not measured)"),
    cl::init(32), cl::cat(category));
static cl::opt<double> residualTarget(
    "residual-target",
    cl::desc("Calibrate each layer's residual step (recorded as resq.step "
             "for --resq-residualize): the coarsest steps whose Dynamic ResQ "
             "output error against the float model, over the calibration "
             "frames, exceeds the int8 model's by at most this fraction "
             "(0.25: 25% more error than int8; 0: skip)"),
    cl::init(0.25), cl::cat(category));

namespace {

int fail(const llvm::Twine &message) {
  llvm::errs() << "resq-quantize: error: " << message << "\n";
  return 1;
}

/// One line of progress, rewritten in place on a terminal.
void progress(const char *what, int done, int total) {
  // On a terminal one line redrawn in place; in a log, a line per 25%.
  if (!llvm::errs().is_displayed()) {
    if (done == total || (done * 4 / total) != ((done - 1) * 4 / total))
      llvm::errs() << "  " << what << " " << done << "/" << total << "\n";
    return;
  }
  constexpr int kWidth = 30;
  int filled = total ? done * kWidth / total : kWidth;
  llvm::errs() << "\r  " << what << " [" << std::string(filled, '#')
               << std::string(kWidth - filled, '.') << "] " << done << "/"
               << total;
  if (done == total)
    llvm::errs() << "\n";
}

RangeMethod parseMethod(llvm::StringRef name, bool &ok) {
  ok = true;
  if (name == "mse")
    return RangeMethod::Mse;
  if (name == "percentile")
    return RangeMethod::Percentile;
  if (name == "minmax")
    return RangeMethod::MinMax;
  ok = false;
  return RangeMethod::Mse;
}

/// Runs `source` over the frames (one stream when stateful) and returns the
/// concatenated float outputs; also the mean bits per MAC and skipped
/// fraction of residual frames when stateful.
struct RunResult {
  std::vector<float> outputs;
  double bitsPerMac = 0, skipped = 0;
  int64_t keyframes = 0;
  /// BOPs, blocks and 0-bit blocks per residualized layer over the
  /// residual frames.
  std::vector<double> layerBops, layerBlocks, layerSkipped;
};

/// Dynamic bits as the main job's builds use them: every width 0, 2..9,
/// chosen per pixel. Step calibration measures error and bits with these.
resq::ResQDynamicBitsOptions perPixelWidths() {
  resq::ResQDynamicBitsOptions options;
  options.bitSet = {0, 2, 3, 4, 5, 6, 7, 8, 9};
  options.block = 1;
  return options;
}

/// Indices of the results named by --error-outputs (empty: all).
std::vector<bool> measuredResults;

llvm::Expected<RunResult> runFrames(llvm::StringRef source,
                                    const resq::npy::Array &frames,
                                    int64_t count, size_t frameBytes) {
  runtime::SessionOptions options;
  options.entry = entry;
  options.optLevel = candidateOptLevel;
  auto created = runtime::Session::createFromSource(source, "calibration",
                                                    options);
  if (!created)
    return created.takeError();
  runtime::Session &session = **created;
  runtime::Stream stream = session.createStream();
  std::vector<runtime::AlignedBuffer> outputs;
  std::vector<void *> ptrs;
  for (const runtime::TensorSpec &spec : session.outputs()) {
    outputs.emplace_back(spec.byteSize());
    ptrs.push_back(outputs.back().data());
  }
  runtime::AlignedBuffer frame(frameBytes);
  RunResult result;
  double macs = 0, bops = 0, blocks = 0, skippedBlocks = 0;
  for (int64_t f = 0; f < count; ++f) {
    std::memcpy(frame.data(), frames.data.data() + f * frameBytes, frameBytes);
    if (llvm::Error e = session.isStateful()
                            ? session.step(stream, {frame.data()}, ptrs)
                            : session.step({frame.data()}, ptrs))
      return std::move(e);
    for (size_t k = 0; k < outputs.size(); ++k) {
      if (session.outputs()[k].dtype != resq::npy::DType::Float32 ||
          (k < measuredResults.size() && !measuredResults[k]))
        continue;
      auto *v = reinterpret_cast<const float *>(outputs[k].data());
      result.outputs.insert(result.outputs.end(), v,
                            v + session.outputs()[k].numElements());
    }
    if (!session.isStateful())
      continue;
    if (stream.lastFrameWasKeyframe()) {
      ++result.keyframes;
      continue;
    }
    result.layerBops.resize(stream.numLayers(), 0.0);
    result.layerBlocks.resize(stream.numLayers(), 0.0);
    result.layerSkipped.resize(stream.numLayers(), 0.0);
    for (size_t l = 0; l < stream.numLayers(); ++l) {
      runtime::LayerStats st = stream.stats(l);
      result.layerBops[l] += st.bops;
      result.layerBlocks[l] += st.blocks;
      result.layerSkipped[l] += st.bits[0];
      macs += st.macs;
      bops += st.bops;
      blocks += st.blocks;
      skippedBlocks += st.bits[0];
    }
  }
  result.bitsPerMac = macs ? bops / (8.0 * macs) : 0.0;
  result.skipped = blocks ? skippedBlocks / blocks : 0.0;
  return result;
}

double relativeRmsError(const std::vector<float> &a,
                        const std::vector<float> &reference) {
  double mean = 0;
  for (float v : reference)
    mean += v;
  mean /= std::max<size_t>(reference.size(), 1);
  double err = 0, var = 0;
  for (size_t i = 0; i < reference.size() && i < a.size(); ++i) {
    err += (a[i] - reference[i]) * double(a[i] - reference[i]);
    var += (reference[i] - mean) * (reference[i] - mean);
  }
  return var > 0 ? std::sqrt(err / var) : std::sqrt(err);
}

/// Decodes up to `limit` frames (every `stride`-th) of a video and fits
/// them to the model's NHWC float input.
llvm::Expected<resq::npy::Array>
readVideoFrames(llvm::StringRef path, const runtime::TensorSpec &input,
                int64_t limit, int stride) {
  if (input.shape.size() != 4 || input.shape[0] != 1 || input.shape[3] != 3)
    return llvm::createStringError(
        "video calibration needs a 1xHxWx3 RGB model input, the model "
        "takes " + input.mlirType);
  std::optional<video::Fit> fitMode = video::parseFit(fit);
  if (!fitMode)
    return llvm::createStringError("unknown --fit '" + fit +
                                   "' (letterbox or stretch)");
  auto reader = video::VideoReader::open(path);
  if (!reader)
    return reader.takeError();
  int height = input.shape[1], width = input.shape[2];
  video::Resizer resizer;
  video::Frame frame;
  video::RgbImage fitted;
  resq::npy::Array frames;
  frames.dtype = resq::npy::DType::Float32;
  int64_t taken = 0;
  for (int64_t index = 0; taken < limit; ++index) {
    auto more = (*reader)->next(frame);
    if (!more)
      return more.takeError();
    if (!*more)
      break;
    if (index % std::max(1, stride) != 0)
      continue;
    if (llvm::Error e = video::fitToModel(resizer, frame.image, width, height,
                                          *fitMode, fitted))
      return std::move(e);
    size_t offset = frames.data.size();
    frames.data.resize(offset + input.byteSize());
    video::toModelInput(fitted,
                        reinterpret_cast<float *>(frames.data.data() + offset));
    ++taken;
  }
  if (taken == 0)
    return llvm::createStringError(path + ": no frames decoded");
  frames.shape = {taken};
  frames.shape.insert(frames.shape.end(), input.shape.begin(),
                      input.shape.end());
  llvm::errs() << "resq-quantize: " << taken << " frames of " << path << " ("
               << (*reader)->width() << "x" << (*reader)->height() << ", "
               << fit << " to " << width << "x" << height << ")\n";
  return frames;
}

/// A linear layer that resq-residualize turns into a stream layer: int8,
/// not kept in float. In program order they are the stream's layers.
bool isStreamLayer(Operation *op) {
  return isa<tosa::Conv2DOp, tosa::DepthwiseConv2DOp, tosa::TransposeConv2DOp,
             tosa::MatMulOp>(op) &&
         !op->hasAttr("resq.keep_float") &&
         getElementTypeOrSelf(op->getOperand(0).getType()).isInteger(8);
}

std::string printModule(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os, OpPrintingFlags().enableDebugInfo());
  return text;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "resq-quantize: calibrate a float TOSA model to standard int8\n\n"
      "Runs the float model over the calibration frames, chooses every\n"
      "linear layer's input range (--method), quantizes weights per output\n"
      "channel (symmetric int8) and biases to int32 (corrected for the\n"
      "mean shift of the rounded weights), and rewrites conv2d,\n"
      "depthwise_conv2d, transpose_conv2d and matmul to int8. The model keeps\n"
      "its float inputs and outputs: each int8 layer quantizes its input and\n"
      "dequantizes its accumulator, everything else stays as it was.\n"
      "--float-layers keeps chosen layers in float (mixed precision).\n\n"
      "Example:\n"
      "  resq-quantize selfie.mlir --calibrate frames.npy -o selfie.int8.mlir\n");
  resq::runtime::reuseLargeAllocations();

  bool methodOk;
  RangeMethod rangeMethod = parseMethod(method, methodOk);
  if (!methodOk)
    return fail("unknown --method '" + method + "' (mse, percentile, minmax)");
  if (percentile <= 50 || percentile > 100)
    return fail("--percentile must be in (50, 100]");
  if (changeFrames < 0 || changeFrames == 1)
    return fail("--change-frames takes 0 (not measured) or at least 2 "
                "frames (change is measured between consecutive ones)");
  if (keepFloatTop < 0 || sensitivityFrames < 0)
    return fail("--keep-float-top and --sensitivity-frames take counts >= 0");
  if ((keepFloatTop > 0 || keepFloatAbove > 0 || sensitivityFrames > 0) &&
      !sensitivity)
    return fail("--keep-float-top, --keep-float-above and "
                "--sensitivity-frames need --sensitivity");

  DialectRegistry registry;
  resq::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  std::string error;
  auto file = openInputFile(inputFile, &error);
  if (!file)
    return fail(error);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;

  if (!errorOutputs.empty()) {
    auto func = module->lookupSymbol<func::FuncOp>(entry);
    if (!func)
      return fail("no function @" + entry);
    llvm::StringSet<> wanted;
    for (const std::string &name : errorOutputs)
      wanted.insert(name);
    std::string known;
    for (unsigned k = 0; k < func.getNumResults(); ++k) {
      auto name = func.getResultAttrOfType<StringAttr>(k, "resq.name");
      std::string text = name ? name.str() : "#" + std::to_string(k);
      measuredResults.push_back(wanted.erase(text));
      known += (k ? ", " : "") + text;
    }
    if (!wanted.empty())
      return fail("--error-outputs names unknown result '" +
                  wanted.begin()->getKey().str() + "' (results of @" + entry +
                  ": " + known + ")");
  }
  SmallVector<FloatLayer> layers = findFloatLayers(*module, entry);
  if (layers.empty())
    return fail("no float linear layer (conv2d, depthwise_conv2d, "
                "transpose_conv2d, matmul with constant weights) in @" +
                entry);
  unsigned numInputs = 0;
  for (const FloatLayer &layer : layers)
    numInputs = std::max(numInputs, layer.inputIndex + 1);

  // Run the float model with every layer input as an extra result.
  OwningOpRef<ModuleOp> instrumented = instrumentLayerInputs(*module, entry);
  std::string text;
  llvm::raw_string_ostream os(text);
  instrumented->print(os);
  runtime::SessionOptions sessionOptions;
  sessionOptions.entry = entry;
  auto start = std::chrono::steady_clock::now();
  auto created = runtime::Session::createFromSource(text, inputFile,
                                                    sessionOptions);
  if (!created)
    return fail(llvm::toString(created.takeError()));
  runtime::Session &session = **created;
  if (session.inputs().size() != 1)
    return fail("calibration supports models with one input, @" + entry +
                " has " + llvm::Twine(session.inputs().size()));
  const runtime::TensorSpec &in = session.inputs()[0];
  if (in.dtype != resq::npy::DType::Float32)
    return fail("the model input is " + in.mlirType +
                "; calibration expects a float model");

  auto frames = llvm::StringRef(calibrate).ends_with(".npy")
                    ? resq::npy::read(calibrate)
                    : readVideoFrames(calibrate, in,
                                      maxFrames > 0 ? maxFrames : 48,
                                      videoStride);
  if (!frames)
    return fail(llvm::toString(frames.takeError()));
  int64_t frameElements = in.numElements();
  if (frames->dtype != resq::npy::DType::Float32 ||
      frames->shape.empty() ||
      frames->numElements() % frameElements != 0 ||
      frames->numElements() / frameElements != frames->shape[0])
    return fail(calibrate + ": expected float32 frames of " + in.mlirType +
                " along the leading axis");
  int64_t count = frames->shape[0];
  if (!dumpFrames.empty()) {
    std::string bytes = resq::npy::serialize(*frames);
    auto out = openOutputFile(dumpFrames, &error);
    if (!out)
      return fail(error);
    out->os() << bytes;
    out->keep();
  }
  if (maxFrames > 0)
    count = std::min<int64_t>(count, maxFrames);

  std::vector<runtime::AlignedBuffer> outputs;
  std::vector<void *> outputPtrs;
  for (const runtime::TensorSpec &spec : session.outputs()) {
    outputs.emplace_back(spec.byteSize());
    outputPtrs.push_back(outputs.back().data());
  }
  size_t firstObserved = session.outputs().size() - numInputs;
  std::vector<Histogram> histograms(numInputs);
  // Per input and channel (the last dimension): sums for the means.
  std::vector<std::vector<double>> channelSums(numInputs);
  std::vector<int64_t> channelCounts(numInputs, 0);
  runtime::AlignedBuffer frame(in.byteSize());
  for (int pass = 0; pass < 2; ++pass) {
    const char *what = pass == 0 ? "ranges    " : "histograms";
    for (int64_t f = 0; f < count; ++f) {
      std::memcpy(frame.data(), frames->data.data() + f * in.byteSize(),
                  in.byteSize());
      if (llvm::Error e = session.step({frame.data()}, outputPtrs))
        return fail(llvm::toString(std::move(e)));
      for (unsigned i = 0; i < numInputs; ++i) {
        const runtime::TensorSpec &spec = session.outputs()[firstObserved + i];
        auto *values = reinterpret_cast<const float *>(
            outputs[firstObserved + i].data());
        if (pass == 0) {
          histograms[i].observe(values, spec.numElements());
          int64_t channels =
              std::max<int64_t>(spec.shape.empty() ? 1 : spec.shape.back(), 1);
          int64_t positions = spec.numElements() / channels;
          std::vector<double> &sums = channelSums[i];
          sums.resize(channels, 0.0);
          for (int64_t p = 0; p < positions; ++p)
            for (int64_t c = 0; c < channels; ++c)
              sums[c] += values[p * channels + c];
          channelCounts[i] += positions;
        } else
          histograms[i].add(values, spec.numElements());
      }
      progress(what, f + 1, count);
    }
  }

  std::vector<QuantParams> params;
  for (const Histogram &h : histograms)
    params.push_back(h.choose(rangeMethod, percentile));
  QuantizeOptions options;
  options.floatLayers.assign(floatLayers.begin(), floatLayers.end());
  if (biasCorrection) {
    options.inputChannelMeans.resize(numInputs);
    for (unsigned i = 0; i < numInputs; ++i)
      for (double sum : channelSums[i])
        options.inputChannelMeans[i].push_back(
            sum / std::max<int64_t>(channelCounts[i], 1));
  }

  // The float model's outputs: what int8 and ResQ are measured against.
  std::optional<RunResult> floatOutputs;
  if (sensitivity || (residualTarget > 0 && count > 1)) {
    auto run = runFrames(printModule(*module), *frames, count, in.byteSize());
    if (!run)
      return fail(llvm::toString(run.takeError()));
    floatOutputs = std::move(*run);
  }

  // Sensitivity: each layer alone in int8 against the float model. A layer
  // that alone costs much accuracy (a regression head, say) is a candidate
  // for float.
  if (sensitivity) {
    int64_t measured = sensitivityFrames > 0
                           ? std::min<int64_t>(sensitivityFrames, count)
                           : count;
    llvm::errs() << "sensitivity (relative RMS output error, one layer in "
                    "int8, "
                 << measured << " frames):\n";
    // The float model's outputs on those frames: its first outputs.
    std::vector<float> reference(
        floatOutputs->outputs.begin(),
        floatOutputs->outputs.begin() +
            floatOutputs->outputs.size() / count * measured);
    std::vector<std::pair<double, size_t>> errors;
    auto keepFloat = [&](const std::string &name) {
      if (!llvm::is_contained(options.floatLayers, name))
        options.floatLayers.push_back(name);
    };
    for (size_t i = 0; i < layers.size(); ++i) {
      OwningOpRef<ModuleOp> candidate(cast<ModuleOp>((*module)->clone()));
      QuantizeOptions alone;
      for (size_t j = 0; j < layers.size(); ++j)
        if (j != i)
          alone.floatLayers.push_back(layers[j].name);
      std::vector<LayerQuantization> unused;
      if (failed(quantizeFloatLayers(*candidate, entry, params, alone,
                                     unused)))
        return 1;
      auto run = runFrames(printModule(*candidate), *frames, measured,
                           in.byteSize());
      if (!run)
        return fail(llvm::toString(run.takeError()));
      double e = relativeRmsError(run->outputs, reference);
      errors.push_back({e, i});
      bool keep = keepFloatAbove > 0 && e > keepFloatAbove;
      llvm::errs() << llvm::format("  %3zu/%zu %-44s %10.5f%s\n", i + 1,
                                   layers.size(), layers[i].name.c_str(), e,
                                   keep ? "  -> float" : "");
      if (keep)
        keepFloat(layers[i].name);
    }
    if (keepFloatTop > 0) {
      llvm::sort(errors, [](const auto &a, const auto &b) {
        return a.first > b.first;
      });
      llvm::errs() << "kept in float, the " << keepFloatTop
                   << " most sensitive layers:\n";
      for (int k = 0; k < keepFloatTop && k < int(errors.size()); ++k) {
        const std::string &name = layers[errors[k].second].name;
        llvm::errs() << llvm::format("  %10.5f  %s\n", errors[k].first,
                                     name.c_str());
        keepFloat(name);
      }
    }
  }
  std::vector<LayerQuantization> report;
  if (failed(quantizeFloatLayers(*module, entry, params, options, report)))
    return 1;
  if (failed(verify(*module)))
    return fail("the quantized module does not verify");
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();

  // What was chosen, per layer: a reader can spot a layer whose range
  // clips too much or whose weights span many scales.
  llvm::errs() << llvm::format("%-44s %-18s %11s %5s %9s %9s\n", "layer",
                               "kind", "input scale", "zp", "clipped",
                               "rel. err");
  for (size_t i = 0; i < report.size(); ++i) {
    const LayerQuantization &r = report[i];
    if (r.keptFloat) {
      llvm::errs() << llvm::format("%-44s %-18s %s\n", r.name.c_str(),
                                   r.kind.c_str(), "float (kept)");
      continue;
    }
    const Histogram &h = histograms[layers[i].inputIndex];
    double lo = r.input.dequantize(-128), hi = r.input.dequantize(127);
    int64_t clipped = 0;
    for (int b = 0; b < Histogram::kBins; ++b) {
      double v = h.binCenter(b);
      if (v < lo || v > hi)
        clipped += h.bins()[b];
    }
    double var = h.variance();
    llvm::errs() << llvm::format(
        "%-44s %-18s %11.3e %5d %8.4f%% %9.2e\n", r.name.c_str(),
        r.kind.c_str(), r.input.scale, r.input.zeroPoint,
        100.0 * clipped / std::max<int64_t>(h.count(), 1),
        var > 0 ? h.expectedError(r.input) / var : 0.0);
  }
  llvm::errs() << "resq-quantize: " << report.size() << " layers, "
               << count << " calibration frames, " << method << " ranges, "
               << (biasCorrection ? "bias correction, " : "")
               << llvm::format("%.1f", seconds) << " s\n";

  // Residual steps: per layer in proportion to the spread of its input
  // codes (a layer whose codes vary more tolerates a coarser step), with
  // one global factor searched on the calibration frames, which should be
  // consecutive video frames.
  if (residualTarget > 0 && count > 1) {
    std::vector<double> spread(report.size(), 0.0);
    for (size_t i = 0; i < report.size(); ++i) {
      const Histogram &h = histograms[layers[i].inputIndex];
      spread[i] = std::sqrt(h.variance()) / report[i].input.scale; // codes
    }
    auto int8Run = runFrames(printModule(*module), *frames, count,
                             in.byteSize());
    if (!int8Run)
      return fail(llvm::toString(int8Run.takeError()));
    auto stepsFor = [&](double factor) {
      std::vector<int64_t> steps;
      // Odd steps only: with rounding half away from zero, an even step
      // lets a residual of exactly s/2 flip R between X - s/2 and X + s/2
      // on every frame, which keeps blocks awake and costs accuracy
      // (selfie on the webcam clip: mean IoU 0.80 at step 2, 0.95 at 3).
      for (size_t i = 0; i < report.size(); ++i) {
        int64_t half = static_cast<int64_t>(factor * spread[i] / 2.0);
        steps.push_back(2 * std::max<int64_t>(half, 0) + 1);
      }
      return steps;
    };
    auto setSteps = [&](ModuleOp m, const std::vector<int64_t> &steps) {
      size_t i = 0;
      m.walk([&](Operation *op) {
        if (!isStreamLayer(op))
          return;
        while (i < report.size() && report[i].keptFloat)
          ++i;
        if (i < report.size())
          op->setAttr("resq.step", IntegerAttr::get(
                                       IntegerType::get(m.getContext(), 64),
                                       steps[i++]));
      });
    };
    double int8Error =
        relativeRmsError(int8Run->outputs, floatOutputs->outputs);
    double allowed = int8Error * (1.0 + residualTarget);
    llvm::errs() << "residual steps: output error against float at most "
                 << llvm::format("%.4f", allowed) << " (int8: "
                 << llvm::format("%.4f", int8Error) << ", + "
                 << llvm::format("%g", 100.0 * residualTarget) << "%), "
                 << count << " frames\n";
    // Residualizes the int8 model with the given steps (and dynamic bits,
    // by default every width per pixel) and runs the frames (by default the
    // calibration frames).
    auto evaluate = [&](const std::vector<int64_t> &candidateSteps,
                        const resq::ResQDynamicBitsOptions &dynamic =
                            perPixelWidths(),
                        const resq::npy::Array *on = nullptr,
                        int64_t onCount = 0) -> llvm::Expected<RunResult> {
      OwningOpRef<ModuleOp> candidate(cast<ModuleOp>((*module)->clone()));
      setSteps(*candidate, candidateSteps);
      PassManager pm(&context);
      pm.addPass(resq::createResQResidualize());
      pm.addPass(resq::createResQDynamicBits(dynamic));
      if (failed(pm.run(*candidate)))
        return llvm::createStringError("residualizing the calibrated model "
                                       "failed");
      return runFrames(printModule(*candidate), on ? *on : *frames,
                       on ? onCount : count, in.byteSize());
    };
    double chosen = 0;
    std::optional<RunResult> chosenRun;
    // Strided video frames are not what a stream plays: their residuals
    // are far larger, and a step judged on them does not carry to
    // consecutive frames (selfie on vtest: steps that stayed within the
    // target on every 16th frame lost 0.024 pooled IoU against int8 on the
    // clip, for no fewer bits). Steps of 1 then: with 9-bit residuals
    // every frame is exact.
    bool strided =
        !llvm::StringRef(calibrate).ends_with(".npy") && videoStride > 1;
    if (strided)
      llvm::errs() << "  calibration frames are " << videoStride
                   << " apart in the clip, not consecutive: no step "
                      "search\n";
    else
      llvm::errs() << llvm::format("  %8s %10s %12s %9s %9s\n", "factor",
                                   "rel. error", "bits per MAC", "skipped",
                                   "keyframes");
    for (double factor : {0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0}) {
      if (strided)
        break;
      auto run = evaluate(stepsFor(factor));
      if (!run)
        return fail(llvm::toString(run.takeError()));
      double e = relativeRmsError(run->outputs, floatOutputs->outputs);
      llvm::errs() << llvm::format("  %8.2f %10.4f %12.2f %8.1f%% %9lld\n",
                                   factor, e, run->bitsPerMac,
                                   100 * run->skipped,
                                   (long long)run->keyframes);
      if (e > allowed)
        break;
      chosen = factor;
      chosenRun = std::move(*run);
    }
    if (chosen == 0 && !strided) {
      llvm::errs() << "  no factor meets the target: steps of 1 "
                      "(residual frames exact)\n";
    }
    std::vector<int64_t> steps = stepsFor(chosen);
    // Per-layer refinement: a coarser step where the layer costs most and
    // the output error allows it, starting from the chosen run's costs.
    if (refineSteps > 0 && !strided) {
      if (!chosenRun) {
        auto run = evaluate(steps);
        if (!run)
          return fail(llvm::toString(run.takeError()));
        chosenRun = std::move(*run);
      }
      const RunResult *base = &*chosenRun;
      // Stream layers are the report's layers that were not kept in float.
      std::vector<size_t> reportIndex;
      for (size_t i = 0; i < report.size(); ++i)
        if (!report[i].keptFloat)
          reportIndex.push_back(i);
      std::vector<size_t> order(base->layerBops.size());
      for (size_t l = 0; l < order.size(); ++l)
        order[l] = l;
      llvm::sort(order, [&](size_t a, size_t b) {
        if (base->layerBops[a] != base->layerBops[b])
          return base->layerBops[a] > base->layerBops[b];
        return a < b;
      });
      if (base->layerBops.empty())
        llvm::errs() << "  no residual frames at these steps (the scene-cut "
                        "rule made every frame a keyframe): nothing to "
                        "refine\n";
      else
        llvm::errs() << "  refining steps, costliest layers first:\n";
      // Rounds over the layers, each trying the next odd step of every
      // layer not yet rejected; a step stays when the error stays within
      // the target and the bits per MAC drop (a coarser step early can
      // wake later layers: selfie's first layer at step 7 cost bits).
      int trials = 0;
      double bits = base->bitsPerMac;
      std::vector<bool> rejected(order.size(), false);
      for (bool progress = true; progress && trials < refineSteps;) {
        progress = false;
        for (size_t l : order) {
          if (trials >= refineSteps)
            break;
          if (l >= reportIndex.size() || rejected[l])
            continue;
          size_t i = reportIndex[l];
          std::vector<int64_t> trial = steps;
          trial[i] = steps[i] + 2;
          auto run = evaluate(trial);
          if (!run)
            return fail(llvm::toString(run.takeError()));
          ++trials;
          double e = relativeRmsError(run->outputs, floatOutputs->outputs);
          bool keep = e <= allowed && run->bitsPerMac < bits;
          llvm::errs() << llvm::format(
              "    %-40.40s step %3lld -> %3lld: error %.4f, %.2f bits per "
              "MAC%s\n",
              report[i].name.c_str(), (long long)steps[i],
              (long long)trial[i], e, run->bitsPerMac,
              keep ? "" : " (rejected)");
          if (!keep) {
            rejected[l] = true;
            continue;
          }
          steps = std::move(trial);
          bits = run->bitsPerMac;
          progress = true;
        }
      }
    }
    setSteps(*module, steps);
    llvm::errs() << "  chosen factor " << llvm::format("%g", chosen)
                 << ": steps";
    for (int64_t step : steps)
      llvm::errs() << " " << step;
    llvm::errs() << "\n";

    // How much of each layer's input changes from one frame to the next,
    // with these steps: pixels (1-pixel blocks) with a non-zero rounded
    // residual, on consecutive frames (strided calibration frames would
    // overstate it). No scene cut, so that every frame after the first
    // counts.
    if (changeFrames > 1) {
      const resq::npy::Array *changeInput = &*frames;
      int64_t changeCount = std::min<int64_t>(count, changeFrames);
      std::optional<resq::npy::Array> consecutive;
      if (!llvm::StringRef(calibrate).ends_with(".npy") && videoStride > 1) {
        auto read = readVideoFrames(calibrate, in, changeFrames, 1);
        if (!read)
          return fail(llvm::toString(read.takeError()));
        consecutive = std::move(*read);
        changeInput = &*consecutive;
        changeCount = consecutive->shape[0];
      }
      resq::ResQDynamicBitsOptions pixels = perPixelWidths();
      pixels.sceneCut = 1.0;
      auto run = evaluate(steps, pixels, changeInput, changeCount);
      if (!run)
        return fail(llvm::toString(run.takeError()));
      std::vector<double> changed;
      for (size_t l = 0; l < run->layerBlocks.size(); ++l)
        changed.push_back(run->layerBlocks[l] > 0
                              ? 1.0 - run->layerSkipped[l] /
                                          run->layerBlocks[l]
                              : 1.0);
      llvm::errs() << "changed input pixels per layer (resq.changed), "
                   << changeCount << " consecutive frames:";
      size_t l = 0;
      module->walk([&](Operation *op) {
        if (!isStreamLayer(op) || l >= changed.size())
          return;
        llvm::errs() << llvm::format(" %.0f%%", 100 * changed[l]);
        op->setAttr("resq.changed",
                    FloatAttr::get(Float64Type::get(&context), changed[l]));
        ++l;
      });
      llvm::errs() << "\n";
    }
  }

  auto output = openOutputFile(outputFile, &error);
  if (!output)
    return fail(error);
  // Keep locations: they carry the layer names later passes use.
  module->print(output->os(), OpPrintingFlags().enableDebugInfo());
  output->os() << "\n";
  output->keep();
  return 0;
}
