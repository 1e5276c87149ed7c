//===- Kernels.cpp - generated kernels against the measured VNNI peak -----===//
//
// Every distinct linear layer of an int8 model (kind, shapes, stride, pad)
// becomes a module of its own, is residualized with a keyframe every frame
// and JIT-compiled: its step is the generated dense int8 kernel (a stream
// of keyframes only keeps no residual state). Its MACs per second are
// compared with the peak of the CPU's VNNI instruction, measured here with a
// loop of independent vpdpbusd. A layer whose accumulator goes through
// elementwise ops alone to the next layer's int8 input is timed a second
// time with them, as a model's standard int8 step runs it: the ops then run
// in the kernel, which writes int8.
//
//===----------------------------------------------------------------------===//

#include "Modes.h"

#include "resq/InitResQ.h"
#include "resq/Runtime/Session.h"
#include "resq/Video/Metrics.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/Tosa/Utils/ConversionUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <map>
#include <immintrin.h>
#include <random>

using namespace mlir;
using namespace resq;

namespace {

/// GMAC/s of back-to-back vpdpbusd on 12 independent accumulators (64 int8
/// MACs each), one thread; 0 without AVX-512 VNNI.
__attribute__((target("avx512f,avx512vnni"))) double measureVnni() {
  __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(5);
  __m512i acc[12];
  for (__m512i &x : acc)
    x = _mm512_setzero_si512();
  const int64_t iterations = 20'000'000;
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < iterations; ++i) {
    for (__m512i &x : acc) {
      x = _mm512_dpbusd_epi32(x, a, b);
      // Keeps the accumulators in registers and the loop from folding.
      asm volatile("" : "+v"(x));
    }
  }
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  int64_t sum = 0;
  for (__m512i &x : acc)
    sum += _mm512_reduce_add_epi32(x);
  asm volatile("" : : "r"(sum));
  return double(iterations) * 12 * 64 / seconds / 1e9;
}

/// Median milliseconds per call of `step` in steady state, as the layers
/// of a model's step run back to back: `step` runs for 50 ms (and at
/// least 3 times) first (a few steps of a small layer left it well below
/// its speed: the core's clock and caches were not there yet), then each
/// of `repeats` samples is a run of calls lasting at least 0.5 ms, its
/// mean per call. A failing call ends the measurement with its error.
llvm::Expected<double> steadyStateMs(llvm::function_ref<llvm::Error()> step,
                                     int64_t repeats) {
  using Clock = std::chrono::steady_clock;
  auto elapsedMs = [](Clock::time_point since) {
    return std::chrono::duration<double, std::milli>(Clock::now() - since)
        .count();
  };
  auto run = [&](int64_t count) -> llvm::Error {
    for (int64_t i = 0; i < count; ++i)
      if (llvm::Error e = step())
        return e;
    return llvm::Error::success();
  };
  constexpr double kWarmupMs = 50, kSampleMs = 0.5;
  int64_t warmupSteps = 0;
  auto warmupStart = Clock::now();
  do {
    if (llvm::Error e = run(1))
      return std::move(e);
    ++warmupSteps;
  } while (warmupSteps < 3 || elapsedMs(warmupStart) < kWarmupMs);
  double stepMs = elapsedMs(warmupStart) / double(warmupSteps);
  int64_t perSample =
      std::max<int64_t>(1, int64_t(std::ceil(kSampleMs / stepMs)));
  std::vector<double> samples;
  for (int64_t r = 0; r < repeats; ++r) {
    auto start = Clock::now();
    if (llvm::Error e = run(perSample))
      return std::move(e);
    samples.push_back(elapsedMs(start) / double(perSample));
  }
  return video::percentile(samples, 50);
}

/// One pass of 64-byte vector stores over `count` lines.
__attribute__((target("avx512f"))) void writeLines(void *data,
                                                   int64_t count) {
  auto *lines = reinterpret_cast<__m512i *>(data);
  __m512i value = _mm512_set1_epi32(1);
  for (int64_t i = 0; i < count; ++i) {
    _mm512_store_si512(lines + i, value);
    // One store per line, as a kernel writes its accumulator.
    asm volatile("" : "+v"(value));
  }
}

/// Milliseconds to write `bytes` (an int32 accumulator's size), timed as
/// the layers are: what a kernel that writes its accumulator cannot go
/// below.
double storeMs(int64_t bytes, int64_t repeats) {
  runtime::AlignedBuffer buffer(bytes);
  return llvm::cantFail(steadyStateMs(
      [&] {
        writeLines(buffer.data(), bytes / 64);
        return llvm::Error::success();
      },
      repeats));
}

double vnniPeak() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512vnni"))
    return 0;
  // The best of three: the first run also warms the core's clock up.
  double best = 0;
  for (int i = 0; i < 3; ++i)
    best = std::max(best, measureVnni());
  return best;
}

/// The shape as AxBxC, without the batch dimension unless `full`.
std::string shapeText(Type type, bool full = false) {
  std::string s;
  llvm::raw_string_ostream os(s);
  auto shaped = cast<ShapedType>(type);
  llvm::interleave(full ? shaped.getShape() : shaped.getShape().drop_front(),
                   os, "x");
  return s;
}

/// The ops that take a conv's int32 accumulator to the int8 tensor the
/// next layer reads (dequantization, activation, requantization: tosa
/// elementwise ops whose other operands are constants), in order; empty
/// when the accumulator goes anywhere else.
SmallVector<Operation *> requantization(Operation *conv) {
  SmallVector<Operation *> chain;
  Value value = conv->getResult(0);
  auto shape = cast<ShapedType>(value.getType()).getShape();
  while (!cast<ShapedType>(value.getType()).getElementType().isInteger(8)) {
    if (!value.hasOneUse())
      return {};
    Operation *user = *value.getUsers().begin();
    if (!isa<tosa::CastOp, tosa::MulOp, tosa::AddOp, tosa::SubOp,
             tosa::ClampOp, tosa::RescaleOp, tosa::MaximumOp,
             tosa::MinimumOp>(user) ||
        user->getNumResults() != 1 ||
        cast<ShapedType>(user->getResult(0).getType()).getShape() != shape)
      return {};
    for (Value operand : user->getOperands())
      if (operand != value &&
          !isa_and_present<tosa::ConstOp, tosa::ConstShapeOp>(
              operand.getDefiningOp()))
        return {};
    chain.push_back(user);
    value = user->getResult(0);
  }
  return chain;
}

} // namespace

int bench::runKernelBenchmark(llvm::StringRef path, llvm::StringRef reportDir,
                              int64_t repeats) {
  auto fail = [](const llvm::Twine &message) {
    llvm::WithColor::error(llvm::errs(), "resq-bench") << message << "\n";
    return 1;
  };
  DialectRegistry registry;
  resq::registerAllDialects(registry);
  resq::registerAllPasses();
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  auto module = parseSourceFile<ModuleOp>(path, sourceMgr, &context);
  if (!module)
    return fail(path + ": cannot parse");

  // Distinct layers, by everything that shapes the kernel.
  struct Layer {
    Operation *op;
    int count = 0;
  };
  // In the model's order; std::map only for the lookup by key.
  std::vector<std::pair<std::string, Layer>> layers;
  std::map<std::string, size_t> index;
  module->walk([&](Operation *op) {
    if (!isa<tosa::Conv2DOp, tosa::DepthwiseConv2DOp,
             tosa::TransposeConv2DOp>(op))
      return;
    auto in = cast<ShapedType>(op->getOperand(0).getType());
    if (!in.getElementType().isInteger(8))
      return;
    std::string key;
    llvm::raw_string_ostream os(key);
    os << op->getName() << " " << in << " " << op->getOperand(1).getType()
       << " " << op->getResult(0).getType();
    for (NamedAttribute attr : op->getAttrs())
      if (attr.getName() != "resq.step")
        os << " " << attr.getName() << "=" << attr.getValue();
    auto [it, inserted] = index.try_emplace(key, layers.size());
    if (inserted)
      layers.push_back({key, Layer{op, 0}});
    ++layers[it->second].second.count;
  });
  if (layers.empty())
    return fail(path + ": no int8 convolution");

  const double peak = vnniPeak();
  std::string table;
  llvm::raw_string_ostream os(table);
  if (peak > 0)
    os << llvm::format("VNNI peak (vpdpbusd, 12 accumulators, 1 thread): "
                       "%.1f GMAC/s\n\n",
                       peak);
  else
    os << "No AVX-512 VNNI on this CPU: no peak to compare with.\n\n";
  os << "| layer kind | input HxWxC | weights (TOSA layout) | output HxWxC | stride | "
        "layers | MMAC | ms median | ms writing A alone | GMAC/s | % of peak "
        "| ms requantized | % of peak requantized |\n"
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  llvm::outs() << table;
  llvm::outs().flush();
  size_t printed = table.size();

  std::mt19937 rng(1);
  double pointwiseMacs = 0, pointwiseSeconds = 0, pointwiseWriteSeconds = 0,
         pointwiseBoundSeconds = 0;
  // The 1x1 layers whose requantization runs in their kernel.
  double requantizedMacs = 0, requantizedSeconds = 0;
  int requantizedLayers = 0, pointwiseLayers = 0;
  for (const auto &entry : layers) {
    const std::string &key = entry.first;
    const Layer &layer = entry.second;
    Operation *op = layer.op;
    // A module with this layer alone (and, when `epilogue` is given, the
    // ops that requantize its output), its constants cloned along, run
    // with a keyframe every frame: the median ms per step; std::nullopt
    // when an operand is not a constant.
    auto timeLayer = [&](ArrayRef<Operation *> epilogue)
        -> llvm::Expected<std::optional<double>> {
      OpBuilder builder(&context);
      auto single = ModuleOp::create(builder.getUnknownLoc());
      builder.setInsertionPointToEnd(single.getBody());
      Value input = op->getOperand(0);
      Value result = epilogue.empty() ? op->getResult(0)
                                      : epilogue.back()->getResult(0);
      // The step returns one pixel of the result: returning them all would
      // time a copy of the output, not the kernel (which writes them into
      // the stream state).
      auto resultType = cast<RankedTensorType>(result.getType());
      auto pixelType = RankedTensorType::get(
          {1, 1, 1, resultType.getDimSize(3)}, resultType.getElementType());
      auto funcType = builder.getFunctionType({input.getType()}, {pixelType});
      auto func = func::FuncOp::create(builder, op->getLoc(), "main", funcType);
      Block *body = func.addEntryBlock();
      builder.setInsertionPointToStart(body);
      IRMapping mapping;
      mapping.map(input, body->getArgument(0));
      SmallVector<Operation *> ops{op};
      ops.append(epilogue.begin(), epilogue.end());
      for (Operation *o : ops) {
        for (Value operand : o->getOperands()) {
          if (mapping.contains(operand))
            continue;
          Operation *def = operand.getDefiningOp();
          if (!isa_and_present<tosa::ConstOp, tosa::ConstShapeOp>(def)) {
            single->erase();
            return std::nullopt;
          }
          builder.clone(*def, mapping);
        }
        builder.clone(*o, mapping);
      }
      ImplicitLocOpBuilder b(op->getLoc(), builder);
      Value pixel = tosa::SliceOp::create(
          b, pixelType, mapping.lookup(result),
          tosa::getTosaConstShape(b, {0, 0, 0, 0}),
          tosa::getTosaConstShape(b, pixelType.getShape()));
      func::ReturnOp::create(builder, op->getLoc(), pixel);

      PassManager pm(&context);
      if (failed(parsePassPipeline(
              "resq-residualize{keyframe-interval=1}", pm)) ||
          failed(pm.run(single))) {
        single->erase();
        return llvm::createStringError("cannot residualize " + key);
      }
      std::string source;
      llvm::raw_string_ostream src(source);
      single.print(src);
      single->erase();

      auto session = runtime::Session::createFromSource(source, key);
      if (!session)
        return session.takeError();
      if (!(*session)->isStateful())
        return llvm::createStringError("the layer was not residualized: " +
                                       key);
      const auto &inSpec = (*session)->inputs()[0];
      runtime::AlignedBuffer in(inSpec.byteSize());
      for (size_t i = 0; i < in.size(); ++i)
        in.data()[i] = uint8_t(rng());
      std::vector<runtime::AlignedBuffer> outs;
      std::vector<void *> outPtrs;
      for (const auto &spec : (*session)->outputs()) {
        outs.emplace_back(spec.byteSize());
        outPtrs.push_back(outs.back().data());
      }
      const void *inPtrs[] = {in.data()};
      runtime::Stream stream = (*session)->createStream();
      llvm::Expected<double> timed = steadyStateMs(
          [&] { return (*session)->step(stream, inPtrs, outPtrs); }, repeats);
      if (!timed)
        return timed.takeError();
      return std::optional<double>(*timed);
    };
    llvm::Expected<std::optional<double>> timed = timeLayer({});
    if (!timed)
      return fail(llvm::toString(timed.takeError()));
    if (!*timed)
      continue;
    double median = **timed;
    // MACs of the dense layer, from its shapes.
    Value input = op->getOperand(0);
    auto weight = cast<ShapedType>(op->getOperand(1).getType());
    auto inType = cast<ShapedType>(input.getType());
    auto outType = cast<ShapedType>(op->getResult(0).getType());
    int64_t macs = 0;
    if (isa<tosa::Conv2DOp>(op))
      macs = outType.getNumElements() * weight.getDimSize(1) *
             weight.getDimSize(2) * weight.getDimSize(3);
    else if (isa<tosa::DepthwiseConv2DOp>(op))
      macs = outType.getNumElements() * weight.getDimSize(0) *
             weight.getDimSize(1);
    else
      macs = inType.getNumElements() * weight.getDimSize(0) *
             weight.getDimSize(1) * weight.getDimSize(2);
    // The same layer with its requantization, as a model runs it: the
    // kernel writes int8 where the glue runs in it.
    std::optional<double> requantizedMs;
    SmallVector<Operation *> epilogue = requantization(op);
    if (!epilogue.empty()) {
      llvm::Expected<std::optional<double>> withEpilogue = timeLayer(epilogue);
      if (!withEpilogue)
        return fail(llvm::toString(withEpilogue.takeError()));
      requantizedMs = *withEpilogue;
    }
    double gmacs = double(macs) / (median * 1e-3) / 1e9;
    bool pointwise = isa<tosa::Conv2DOp>(op) && weight.getDimSize(1) == 1 &&
                     weight.getDimSize(2) == 1;
    double writeMs =
        peak > 0 ? storeMs(outType.getNumElements() * 4, repeats) : 0;
    if (pointwise) {
      pointwiseLayers += layer.count;
      if (requantizedMs) {
        requantizedLayers += layer.count;
        requantizedMacs += double(macs) * layer.count;
        requantizedSeconds += *requantizedMs * 1e-3 * layer.count;
      }
      pointwiseMacs += double(macs) * layer.count;
      pointwiseSeconds += median * 1e-3 * layer.count;
      pointwiseWriteSeconds += writeMs * 1e-3 * layer.count;
      if (peak > 0)
        pointwiseBoundSeconds +=
            std::max(writeMs * 1e-3, double(macs) / (peak * 1e9)) *
            layer.count;
    }
    llvm::ArrayRef<int64_t> stride;
    if (auto conv = dyn_cast<tosa::Conv2DOp>(op))
      stride = conv.getStride();
    else if (auto dw = dyn_cast<tosa::DepthwiseConv2DOp>(op))
      stride = dw.getStride();
    else if (auto tc = dyn_cast<tosa::TransposeConv2DOp>(op))
      stride = tc.getStride();
    os << "| " << op->getName().stripDialect() << (pointwise ? " 1x1" : "")
       << " | " << shapeText(input.getType()) << " | " << shapeText(weight, /*full=*/true)
       << " | " << shapeText(op->getResult(0).getType()) << " | "
       << (stride.empty() ? 1 : stride[0]) << " | " << layer.count << " | "
       << fixed(double(macs) / 1e6, 2) << " | " << fixed(median, 3) << " | "
       << (peak > 0 ? fixed(writeMs, 3) : "-") << " | " << fixed(gmacs, 1)
       << " | "
       << (peak > 0 ? fixed(100 * gmacs / peak, 1) + "%" : "-") << " | "
       << (requantizedMs ? fixed(*requantizedMs, 3) : "-") << " | "
       << (requantizedMs && peak > 0
               ? fixed(100 * double(macs) / (*requantizedMs * 1e6) / peak, 1) +
                     "%"
               : "-")
       << " |\n";
    llvm::outs() << llvm::StringRef(table).drop_front(printed);
    llvm::outs().flush();
    printed = table.size();
  }
  if (pointwiseSeconds > 0) {
    double gmacs = pointwiseMacs / pointwiseSeconds / 1e9;
    os << "\nDense 1x1 convolutions, all layers of the model (MAC-weighted): "
       << fixed(gmacs, 1) << " GMAC/s"
       << (peak > 0 ? ", " + fixed(100 * gmacs / peak, 1) + "% of the peak"
                    : "")
       << ".\n";
    if (peak > 0)
      os << "Writing their int32 accumulators alone (64-byte stores, no "
            "compute) takes "
         << fixed(100 * pointwiseWriteSeconds / pointwiseSeconds, 1)
         << "% of their time; with each layer taking the longer of that and "
            "its MACs at the peak, they would reach "
         << fixed(100 * pointwiseMacs / pointwiseBoundSeconds / 1e9 / peak, 1)
         << "% of the peak.\n";
    if (requantizedSeconds > 0) {
      double gmacs = requantizedMacs / requantizedSeconds / 1e9;
      os << "With their requantization in the kernel (int8 out, as a "
            "standard int8 step runs them), the "
         << requantizedLayers << " of " << pointwiseLayers
         << " layers whose glue is one elementwise chain: " << fixed(gmacs, 1)
         << " GMAC/s"
         << (peak > 0 ? ", " + fixed(100 * gmacs / peak, 1) + "% of the peak"
                      : "")
         << ".\n";
    }
  }
  os << "\nEach row: one layer alone, residualized with a keyframe every "
        "frame (the standard int8 kernel: such a stream keeps no residual "
        "state, its accumulator is a step intermediate), random int8 "
        "input; after 50 ms of warm-up steps, the median of "
     << repeats
     << " samples, each the mean step time over at least 0.5 ms of "
        "steps. Writing A alone: 64-byte vector stores over a buffer of "
        "the layer's int32 accumulator, timed the same way. Requantized: the "
        "layer with the elementwise ops that take its accumulator to the "
        "next layer's int8 input (dequantization, activation, "
        "requantization), which then run on each vector of the accumulator "
        "in the kernel, and the kernel writes int8; '-' where the "
        "accumulator goes anywhere else.\n";
  llvm::outs() << llvm::StringRef(table).drop_front(printed);
  if (!reportDir.empty() && !writeReport(reportDir, "kernels.md", table))
    return 1;
  return 0;
}
