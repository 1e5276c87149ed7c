//===- Sweep.cpp - ms per frame against the share of the input that changes ===//
//
// A synthetic sequence on one real frame: after the keyframe, every frame
// repaints p% of the 16x16 input blocks (chosen at random, a new random
// colour each), so exactly p% of the input differs from the previous frame.
// Skipping that really skips makes ms per frame close to a line through a
// small constant at p = 0.
//
//===----------------------------------------------------------------------===//

#include "Modes.h"

#include "resq/Runtime/Session.h"
#include "resq/Video/Metrics.h"
#include "resq/Video/Preprocess.h"
#include "resq/Video/VideoReader.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <numeric>
#include <random>

using namespace resq;
using namespace resq::video;

int bench::runChangeSweep(llvm::StringRef path, llvm::StringRef videoPath,
                          llvm::StringRef reportDir, int64_t framesPerPoint) {
  auto fail = [](const llvm::Twine &message) {
    llvm::WithColor::error(llvm::errs(), "resq-bench") << message << "\n";
    return 1;
  };
  auto session = runtime::Session::create(path);
  if (!session)
    return fail(llvm::toString(session.takeError()));
  if (!(*session)->isStateful())
    return fail(path + ": the sweep needs a residualized (stateful) model");
  const auto &inputs = (*session)->inputs();
  if (inputs.size() != 1 || inputs[0].shape.size() != 4 ||
      inputs[0].shape[3] != 3 || inputs[0].dtype != npy::DType::Float32)
    return fail(path + ": must take one tensor<1xHxWx3xf32>");
  const int height = int(inputs[0].shape[1]), width = int(inputs[0].shape[2]);

  auto reader = VideoReader::open(videoPath);
  if (!reader)
    return fail(llvm::toString(reader.takeError()));
  Frame frame;
  auto got = (*reader)->next(frame);
  if (!got || !*got)
    return fail(videoPath + ": no frame");
  Resizer resizer;
  RgbImage base;
  if (llvm::Error e = fitToModel(resizer, frame.image, width, height,
                                 Fit::Letterbox, base))
    return fail(llvm::toString(std::move(e)));

  constexpr int kBlock = 16;
  const int blocksX = width / kBlock, blocksY = height / kBlock;
  const int numBlocks = blocksX * blocksY;
  runtime::AlignedBuffer input(inputs[0].byteSize());
  float *inputData = reinterpret_cast<float *>(input.data());
  const void *inPtrs[] = {input.data()};
  std::vector<runtime::AlignedBuffer> outs;
  std::vector<void *> outPtrs;
  for (const auto &spec : (*session)->outputs()) {
    outs.emplace_back(spec.byteSize());
    outPtrs.push_back(outs.back().data());
  }

  struct Point {
    std::string label;
    double share = 0; // of blocks changing per frame, in %
    double median = 0, p90 = 0, skipped = 0, bits = 0;
  };
  std::vector<Point> points;
  auto measure = [&](const std::string &label, double p,
                     bool keyframes) -> llvm::Error {
    std::mt19937 rng(7);
    RgbImage image = base;
    runtime::Stream stream = (*session)->createStream();
    toModelInput(image, inputData);
    if (llvm::Error e = (*session)->step(stream, inPtrs, outPtrs))
      return e;
    std::vector<int> order(numBlocks);
    std::iota(order.begin(), order.end(), 0);
    const int changed = int(std::lround(p / 100.0 * numBlocks));
    std::vector<double> ms;
    int64_t macs = 0, bops = 0, blocks = 0, skipped = 0;
    for (int64_t t = 0; t < framesPerPoint; ++t) {
      std::shuffle(order.begin(), order.end(), rng);
      for (int k = 0; k < changed; ++k) {
        int bx = order[k] % blocksX, by = order[k] / blocksX;
        uint8_t color[3] = {uint8_t(rng()), uint8_t(rng()), uint8_t(rng())};
        for (int y = by * kBlock; y < (by + 1) * kBlock; ++y)
          for (int x = bx * kBlock; x < (bx + 1) * kBlock; ++x)
            for (int c = 0; c < 3; ++c)
              image.pixels[(size_t(y) * width + x) * 3 + c] = color[c];
      }
      toModelInput(image, inputData);
      if (keyframes)
        stream.forceKeyframe();
      auto start = std::chrono::steady_clock::now();
      if (llvm::Error e = (*session)->step(stream, inPtrs, outPtrs))
        return e;
      ms.push_back(std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - start)
                       .count());
      runtime::LayerStats s = stream.totals();
      if (!stream.lastFrameWasKeyframe()) {
        macs += s.macs;
        bops += s.bops;
        blocks += s.blocks;
        skipped += s.bits[0];
      }
    }
    Point point;
    point.label = label;
    point.share = p;
    point.median = percentile(ms, 50);
    point.p90 = percentile(ms, 90);
    point.skipped = blocks ? double(skipped) / double(blocks) : 0;
    point.bits = macs ? double(bops) / (8.0 * double(macs)) : 0;
    llvm::outs() << llvm::format("resq-bench: %-10s %7.3f ms median\n",
                                 label.c_str(), point.median);
    llvm::outs().flush();
    points.push_back(point);
    return llvm::Error::success();
  };
  for (double p : {0.0, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0})
    if (llvm::Error e = measure(fixed(p, 0) + "%", p, false))
      return fail(llvm::toString(std::move(e)));
  if (llvm::Error e = measure("keyframes", 100, true))
    return fail(llvm::toString(std::move(e)));

  // Least-squares line through the residual points.
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const Point &pt : points) {
    if (pt.label == "keyframes")
      continue;
    n += 1;
    sx += pt.share;
    sy += pt.median;
    sxx += pt.share * pt.share;
    sxy += pt.share * pt.median;
  }
  double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  double intercept = (sy - slope * sx) / n;
  double keyframeMs = points.back().median;

  std::string table;
  llvm::raw_string_ostream os(table);
  os << "| input blocks changing per frame | ms/frame median | p90 | x "
        "keyframe | line fit | skipped blocks (all layers) | bits/MAC |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n";
  for (const Point &pt : points) {
    bool key = pt.label == "keyframes";
    os << "| " << (key ? "every frame a keyframe" : pt.label) << " | "
       << fixed(pt.median, 3) << " | " << fixed(pt.p90, 3) << " | "
       << fixed(pt.median / keyframeMs, 2) << " | "
       << (key ? "-" : fixed(intercept + slope * pt.share, 3)) << " | "
       << (key ? "-" : fixed(100 * pt.skipped, 1) + "%") << " | "
       << (key ? "8.00" : fixed(pt.bits, 2)) << " |\n";
  }
  os << "\nLine fit over the residual points: " << fixed(intercept, 3)
     << " ms + " << fixed(slope, 4) << " ms per % of changed blocks; at p = 0 "
     << fixed(100 * points.front().median / keyframeMs, 1)
     << "% of a keyframe. " << framesPerPoint << " frames per point, "
     << kBlock << "x" << kBlock << " input blocks (" << numBlocks
     << "), one frame of " << videoPath << ".\n";
  llvm::outs() << "\n" << table;
  // One report per swept build: sweep-dynamic.md for model.dynamic.mlir.
  llvm::StringRef stem = llvm::sys::path::stem(path);
  stem.consume_front("model.");
  if (!reportDir.empty() &&
      !writeReport(reportDir, ("sweep-" + stem + ".md").str(), table))
    return 1;
  return 0;
}
