//===- SessionTest.cpp - JIT sessions and streams -------------------------===//
//
// These tests go through the whole lowering (resq-to-llvm) and the JIT, so
// they also fail when the lowering breaks the step-function ABI.
//
//===----------------------------------------------------------------------===//

#include "resq/Runtime/Session.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

using namespace resq;
using namespace resq::runtime;

namespace {

/// Elementwise add and subtract of two int32 tensors: two inputs, two results.
constexpr const char *kAddSub = R"mlir(
func.func @main(%a: tensor<2x3xi32>, %b: tensor<2x3xi32>)
    -> (tensor<2x3xi32>, tensor<2x3xi32>) {
  %s = tosa.add %a, %b : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
  %d = tosa.sub %a, %b : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
  return %s, %d : tensor<2x3xi32>, tensor<2x3xi32>
}
)mlir";

/// Two public functions and no @main.
constexpr const char *kTwoFunctions = R"mlir(
func.func @twice(%a: tensor<4xf32>) -> tensor<4xf32> {
  %s = tosa.add %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %s : tensor<4xf32>
}
func.func @same(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
)mlir";

/// One residualized 3x3 convolution with dynamic bit-widths over 4x4 blocks,
/// followed by a rescale to int8; the scene-cut rule is off.
constexpr const char *kResidualConv = R"mlir(
func.func @main(%s: !resq.stream, %x: tensor<1x8x8x4xi8>) -> tensor<1x8x8x8xi8> {
  resq.begin_frame %s
  %wt = "tosa.const"() <{values = dense<2> : tensor<8x3x3x4xi8>}> : () -> tensor<8x3x3x4xi8>
  %b = "tosa.const"() <{values = dense<10> : tensor<8xi32>}> : () -> tensor<8xi32>
  %zp = "tosa.const"() <{values = dense<-3> : tensor<1xi8>}> : () -> tensor<1xi8>
  %acc = resq.conv2d "conv2d_0" %s, %x, %wt, %b, %zp {dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} residual <step = 4, bits = [0, 2, 4, 8], block = 4> : (tensor<1x8x8x4xi8>, tensor<8x3x3x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
  %sh = "tosa.const"() <{values = dense<36> : tensor<1xi8>}> : () -> tensor<1xi8>
  %z32 = "tosa.const"() <{values = dense<0> : tensor<1xi32>}> : () -> tensor<1xi32>
  %z8 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %y = tosa.rescale %acc, %m, %sh, %z32, %z8 {input_unsigned = false, output_unsigned = false, per_channel = false, rounding_mode = DOUBLE_ROUND, scale32 = true} : (tensor<1x8x8x8xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi8>
  return %y : tensor<1x8x8x8xi8>
}
)mlir";

std::unique_ptr<Session> compile(const char *source,
                                 const SessionOptions &options = {}) {
  auto session = Session::createFromSource(source, "test.mlir", options);
  if (!session) {
    ADD_FAILURE() << llvm::toString(session.takeError());
    return nullptr;
  }
  return std::move(*session);
}

/// The error message of a failed compilation ("" if it compiled).
std::string compileError(const char *source,
                         const SessionOptions &options = {}) {
  auto session = Session::createFromSource(source, "test.mlir", options);
  return session ? std::string() : llvm::toString(session.takeError());
}

std::string errorText(llvm::Error error) {
  return error ? llvm::toString(std::move(error)) : std::string();
}

using Frame = std::vector<int8_t>;

/// A random frame, and one that differs from `base` by at most `delta`.
Frame randomFrame(std::mt19937 &rng, const Frame *base = nullptr,
                  int delta = 127) {
  Frame frame(8 * 8 * 4);
  std::uniform_int_distribution<int> dist(-delta, delta);
  for (size_t i = 0; i < frame.size(); ++i) {
    int v = (base ? (*base)[i] : 0) + dist(rng);
    frame[i] = static_cast<int8_t>(std::clamp(v, -128, 127));
  }
  return frame;
}

struct StepResult {
  std::vector<int8_t> output;
  LayerStats stats;
};

StepResult step(Session &session, Stream &stream, const Frame &frame) {
  AlignedBuffer in(frame.size()), out(session.outputs()[0].byteSize());
  std::memcpy(in.data(), frame.data(), frame.size());
  llvm::Error error = session.step(stream, {in.data()}, {out.data()});
  EXPECT_EQ(errorText(std::move(error)), "");
  return {std::vector<int8_t>(out.data(), out.data() + out.size()),
          stream.numLayers() ? stream.stats(0) : LayerStats()};
}

} // namespace

//===----------------------------------------------------------------------===//
// Stateless modules
//===----------------------------------------------------------------------===//

TEST(Session, StatelessTwoInputsTwoResults) {
  auto session = compile(kAddSub);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->entry(), "main");
  EXPECT_FALSE(session->isStateful());
  ASSERT_EQ(session->inputs().size(), 2u);
  ASSERT_EQ(session->outputs().size(), 2u);
  EXPECT_EQ(session->inputs()[0].mlirType, "tensor<2x3xi32>");
  EXPECT_EQ(session->inputs()[0].dtype, npy::DType::Int32);
  EXPECT_EQ(session->outputs()[1].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(session->streamLayout().layers.empty());

  int32_t a[6] = {1, 2, 3, -4, 5, 1 << 30};
  int32_t b[6] = {10, 20, 30, 40, 50, 1 << 30};
  int32_t sum[6] = {}, diff[6] = {};
  // Run twice: results must not depend on earlier calls.
  for (int round = 0; round < 2; ++round) {
    ASSERT_EQ(errorText(session->step({a, b}, {sum, diff})), "");
    for (int i = 0; i < 6; ++i) {
      EXPECT_EQ(sum[i], int32_t(uint32_t(a[i]) + uint32_t(b[i])));
      EXPECT_EQ(diff[i], a[i] - b[i]);
    }
  }
  // A stream is accepted and ignored by a stateless module.
  Stream stream = session->createStream();
  EXPECT_EQ(stream.size(), 0u);
  EXPECT_EQ(errorText(session->step(stream, {b, a}, {sum, diff})), "");
  EXPECT_EQ(diff[0], 9);
}

/// A requantization as the glue between layers does it: int32 to float,
/// times per-channel scales, plus an offset, cast to int8 (rounding half
/// to even, clamped to [-128, 127]).
constexpr const char *kRequantize = R"mlir(
func.func @main(%a: tensor<1x2x16x40xi32>) -> tensor<1x2x16x40xi8> {
  %f = tosa.cast %a : (tensor<1x2x16x40xi32>) -> tensor<1x2x16x40xf32>
  %s = "tosa.const"() <{values = dense<[[[[0.5, 1.0, 0.25, 2.0e-3, 1.0e4, -1.0e4, 3.0e-9, -0.5, 0.5, 1.5, 0.125, 7.0e-6, 1.0e-2, -1.0, 65536.0, -2.5e-7, 0.5, 1.0, 0.25, 2.0e-3, 1.0e4, -1.0e4, 3.0e-9, -0.5, 0.5, 1.5, 0.125, 7.0e-6, 1.0e-2, -1.0, 65536.0, -2.5e-7, 0.5, 1.0, 0.25, 2.0e-3, 1.0e4, -1.0e4, 3.0e-9, -0.5]]]]> : tensor<1x1x1x40xf32>}> : () -> tensor<1x1x1x40xf32>
  %sh = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %m = tosa.mul %f, %s, %sh : (tensor<1x2x16x40xf32>, tensor<1x1x1x40xf32>, tensor<1xi8>) -> tensor<1x2x16x40xf32>
  %c = "tosa.const"() <{values = dense<-3.0> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %y = tosa.add %m, %c : (tensor<1x2x16x40xf32>, tensor<1x1x1x1xf32>) -> tensor<1x2x16x40xf32>
  %q = tosa.cast %y : (tensor<1x2x16x40xf32>) -> tensor<1x2x16x40xi8>
  return %q : tensor<1x2x16x40xi8>
}
)mlir";

TEST(Session, RequantizationRoundsHalfToEvenAndSaturates) {
  // 40 channels: two vectors of 16 lanes and one of 8.
  constexpr int kChannels = 40, kCount = 2 * 16 * kChannels;
  const float scales[16] = {0.5f,    1.0f,    0.25f,  2.0e-3f, 1.0e4f, -1.0e4f,
                            3.0e-9f, -0.5f,   0.5f,   1.5f,    0.125f, 7.0e-6f,
                            1.0e-2f, -1.0f,   65536.0f, -2.5e-7f};
  // Ties (odd values times 0.5, 1.5 and 0.125), values just beyond the
  // clamps, and the whole int32 range (far beyond it once scaled).
  std::mt19937 rng(7);
  std::vector<int32_t> input(kCount);
  for (int i = 0; i < kCount; ++i) {
    switch (i % 4) {
    case 0: input[i] = std::uniform_int_distribution<int32_t>(-600, 600)(rng) | 1; break;
    case 1: input[i] = std::uniform_int_distribution<int32_t>(INT32_MIN, INT32_MAX)(rng); break;
    case 2: input[i] = (i % 8 == 2) ? INT32_MIN : INT32_MAX; break;
    default: input[i] = std::uniform_int_distribution<int32_t>(-300, 300)(rng); break;
    }
  }
  std::vector<int8_t> expected(kCount);
  for (int i = 0; i < kCount; ++i) {
    float y = float(input[i]) * scales[i % kChannels % 16] + -3.0f;
    float r = std::nearbyint(y); // Half to even in the default mode.
    expected[i] = int8_t(std::clamp(r, -128.0f, 127.0f));
  }
  // The AVX-512 rounding conversion (native, where the CPU has it) and
  // the portable one.
  for (const char *cpu : {"native", "x86-64"}) {
    SessionOptions options;
    options.targetCpu = cpu;
    auto session = compile(kRequantize, options);
    ASSERT_TRUE(session) << cpu;
    std::vector<int8_t> output(kCount);
    ASSERT_EQ(errorText(session->step({input.data()}, {output.data()})), "");
    for (int i = 0; i < kCount; ++i)
      ASSERT_EQ(int(output[i]), int(expected[i]))
          << cpu << ": element " << i << ", input " << input[i] << " x "
          << scales[i % kChannels % 16];
  }
}

TEST(Session, WrongNumberOfBuffers) {
  auto session = compile(kAddSub);
  ASSERT_TRUE(session);
  int32_t a[6] = {}, out[6] = {};
  std::string e = errorText(session->step({a}, {out, out}));
  EXPECT_NE(e.find("takes 2 inputs and 2 outputs, got 1 and 2"),
            std::string::npos)
      << e;
}

TEST(Session, EntrySelection) {
  std::string e = compileError(kTwoFunctions);
  EXPECT_NE(e.find("cannot tell which function is the step function"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("@twice, @same"), std::string::npos) << e;

  SessionOptions options;
  options.entry = "twice";
  auto session = compile(kTwoFunctions, options);
  ASSERT_TRUE(session);
  float in[4] = {1.5f, -2.0f, 0.0f, 1e30f}, out[4] = {};
  ASSERT_EQ(errorText(session->step({in}, {out})), "");
  EXPECT_EQ(out[0], 3.0f);
  EXPECT_EQ(out[1], -4.0f);
  EXPECT_EQ(out[3], 2e30f);

  options.entry = "thrice";
  e = compileError(kTwoFunctions, options);
  EXPECT_NE(e.find("no function @thrice"), std::string::npos) << e;
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(SessionErrors, ParserDiagnosticHasLocation) {
  std::string e = compileError("func.func @main(%x: tensor<2xi8>) -> "
                               "tensor<2xi8> {\n"
                               "  %y = tosa.bogus %x : tensor<2xi8>\n"
                               "  return %y : tensor<2xi8>\n}\n");
  EXPECT_NE(e.find("test.mlir: cannot parse the module"), std::string::npos)
      << e;
  EXPECT_NE(e.find("test.mlir:2:8: error:"), std::string::npos) << e;
  EXPECT_NE(e.find("tosa.bogus"), std::string::npos) << e;
}

TEST(SessionErrors, UnsupportedSignature) {
  std::string e = compileError(R"mlir(
func.func @main(%a: tensor<?x3xi32>) -> tensor<?x3xi32> {
  return %a : tensor<?x3xi32>
})mlir");
  EXPECT_NE(e.find("input #0 of @main has type tensor<?x3xi32>"),
            std::string::npos)
      << e;
  e = compileError(R"mlir(
func.func @main(%a: tensor<3xi32>) -> tensor<3xf64> {
  %c = tosa.cast %a : (tensor<3xi32>) -> tensor<3xf64>
  return %c : tensor<3xf64>
})mlir");
  EXPECT_NE(e.find("result #0 of @main has type tensor<3xf64>"),
            std::string::npos)
      << e;
}

TEST(SessionErrors, TargetCpu) {
  SessionOptions options;
  options.targetCpu = "pentium-9000";
  std::string e = compileError(kAddSub, options);
  EXPECT_NE(e.find("unknown target CPU 'pentium-9000'"), std::string::npos)
      << e;
}

TEST(SessionErrors, Files) {
  auto missing = Session::create("/nonexistent/model.mlir");
  ASSERT_FALSE(bool(missing));
  std::string e = llvm::toString(missing.takeError());
  EXPECT_NE(e.find("/nonexistent/model.mlir: cannot read"), std::string::npos)
      << e;

  llvm::SmallString<128> path;
  int fd;
  ASSERT_FALSE(
      llvm::sys::fs::createTemporaryFile("resq-session", "mlir", fd, path));
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << kAddSub;
  }
  auto session = Session::create(path);
  EXPECT_TRUE(bool(session)) << llvm::toString(session.takeError());
  llvm::sys::fs::remove(path);
}

//===----------------------------------------------------------------------===//
// Stateful modules and streams
//===----------------------------------------------------------------------===//

TEST(Stream, LayoutAndKeyframe) {
  auto session = compile(kResidualConv);
  ASSERT_TRUE(session);
  ASSERT_TRUE(session->isStateful());
  ASSERT_EQ(session->inputs().size(), 1u); // the state is not an input
  const StreamLayout &layout = session->streamLayout();
  ASSERT_EQ(layout.layers.size(), 1u);
  const LayerLayout &layer = layout.layers[0];
  EXPECT_EQ(layer.name, "conv2d_0");
  EXPECT_EQ(layer.kind, "conv2d");
  EXPECT_EQ(layer.inChannels, 4);
  EXPECT_EQ(layer.blocks, 4); // 8x8 pixels in 4x4 blocks
  ASSERT_EQ(layer.rShape.size(), 4u);
  // R holds whole quads of channels: 4 for these 4 input channels.
  EXPECT_EQ(layer.rShape.back(), 4);
  EXPECT_EQ(layer.aShape, (std::vector<int64_t>{1, 8, 8, 8}));

  Stream stream = session->createStream();
  EXPECT_EQ(stream.size(), size_t(layout.size));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(stream.data()) % 64, 0u);
  std::mt19937 rng(1);
  Frame x = randomFrame(rng);
  StepResult first = step(*session, stream, x);
  EXPECT_TRUE(first.stats.keyframe);
  EXPECT_TRUE(stream.lastFrameWasKeyframe());
  EXPECT_EQ(first.stats.blocks, 4);
  EXPECT_GT(first.stats.macs, 0);
  // On a keyframe R takes the input as it is.
  npy::Array r = stream.reconstructedInput(0);
  EXPECT_EQ(r.dtype, npy::DType::Int16);
  EXPECT_EQ(r.shape, (std::vector<int64_t>{1, 8, 8, 4}));
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_EQ(r.as<int16_t>()[i], x[i]) << "element " << i;
  EXPECT_EQ(stream.accumulator(0).shape, layer.aShape);

  // The same frame again: nothing changed, every block is skipped.
  int64_t processed = stream.framesProcessed();
  StepResult again = step(*session, stream, x);
  EXPECT_EQ(stream.framesProcessed(), processed + 1);
  EXPECT_FALSE(again.stats.keyframe);
  EXPECT_EQ(again.stats.bits[0], again.stats.blocks);
  EXPECT_EQ(again.stats.macs, 0);
  EXPECT_DOUBLE_EQ(again.stats.skippedFraction(), 1.0);
  EXPECT_EQ(again.output, first.output);
}

TEST(Stream, ResetAndForcedKeyframes) {
  auto session = compile(kResidualConv);
  ASSERT_TRUE(session);
  Stream stream = session->createStream();
  std::mt19937 rng(2);
  Frame x = randomFrame(rng);
  step(*session, stream, x);
  EXPECT_FALSE(step(*session, stream, x).stats.keyframe);

  stream.forceKeyframe();
  EXPECT_TRUE(step(*session, stream, x).stats.keyframe);
  EXPECT_FALSE(step(*session, stream, x).stats.keyframe);

  stream.reset();
  EXPECT_EQ(stream.framesProcessed(), 0);
  EXPECT_TRUE(step(*session, stream, x).stats.keyframe);
  EXPECT_EQ(stream.framesProcessed(), 1);
}

TEST(Stream, StreamsAreIndependent) {
  auto session = compile(kResidualConv);
  ASSERT_TRUE(session);
  // Two slowly changing sequences.
  std::mt19937 rng(3);
  std::vector<Frame> a = {randomFrame(rng)}, b = {randomFrame(rng)};
  for (int f = 1; f < 8; ++f) {
    a.push_back(randomFrame(rng, &a.back(), 6));
    b.push_back(randomFrame(rng, &b.back(), 6));
  }
  // Interleaved on two streams of one session...
  Stream sa = session->createStream(), sb = session->createStream();
  std::vector<StepResult> interleavedA, interleavedB;
  for (size_t f = 0; f < a.size(); ++f) {
    interleavedA.push_back(step(*session, sa, a[f]));
    interleavedB.push_back(step(*session, sb, b[f]));
  }
  // ... equal each sequence alone on a fresh stream.
  Stream aloneA = session->createStream(), aloneB = session->createStream();
  for (size_t f = 0; f < a.size(); ++f) {
    StepResult ra = step(*session, aloneA, a[f]);
    EXPECT_EQ(ra.output, interleavedA[f].output) << "frame " << f;
    EXPECT_EQ(ra.stats.bits, interleavedA[f].stats.bits) << "frame " << f;
  }
  for (size_t f = 0; f < b.size(); ++f)
    EXPECT_EQ(step(*session, aloneB, b[f]).output, interleavedB[f].output)
        << "frame " << f;
  EXPECT_EQ(std::memcmp(aloneA.data(), sa.data(), sa.size()), 0);
  EXPECT_EQ(std::memcmp(aloneB.data(), sb.data(), sb.size()), 0);
  // Residual frames did happen.
  EXPECT_FALSE(interleavedA.back().stats.keyframe);
}

/// kResidualConv with varied weights, on X = columns 1..8 of a 1x8x10x4
/// input (a strided view, not one run of bytes) or on a 1x8x8x4 input, and
/// with every frame a keyframe (no residual state) or not.
std::string windowConv(bool strided, bool keyframesOnly) {
  std::string weights = "0x";
  for (int i = 0; i < 8 * 3 * 3 * 4; ++i) {
    char byte[3];
    std::snprintf(byte, sizeof(byte), "%02X", uint8_t(i * 7 % 11 - 5));
    weights += byte;
  }
  std::string source = kResidualConv;
  auto replace = [&](const std::string &from, const std::string &to) {
    size_t at = source.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos)
      source.replace(at, from.size(), to);
  };
  replace("dense<2> : tensor<8x3x3x4xi8>",
          "dense<\"" + weights + "\"> : tensor<8x3x3x4xi8>");
  std::string begin = "resq.begin_frame %s";
  if (keyframesOnly)
    replace(begin, begin + " keyframe_interval 1");
  if (strided) {
    replace("%x: tensor<1x8x8x4xi8>", "%wide: tensor<1x8x10x4xi8>");
    replace("  %wt =", R"(  %start = tosa.const_shape {values = dense<[0, 0, 1, 0]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %size = tosa.const_shape {values = dense<[1, 8, 8, 4]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %x = tosa.slice %wide, %start, %size : (tensor<1x8x10x4xi8>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x8x8x4xi8>
  %wt =)");
  }
  return source;
}

TEST(Stream, StridedInputEqualsContiguous) {
  // Where X is not one run of bytes, keyframes copy it for the kernel and
  // residual frames quantize it pixel by pixel: the same numbers as the
  // paths that read a contiguous X.
  for (bool keyframesOnly : {false, true}) {
    SCOPED_TRACE(keyframesOnly ? "every frame a keyframe" : "residual frames");
    auto strided = compile(windowConv(true, keyframesOnly).c_str());
    auto contiguous = compile(windowConv(false, keyframesOnly).c_str());
    ASSERT_TRUE(strided && contiguous);
    Stream ss = strided->createStream(), sc = contiguous->createStream();
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> any(-128, 127), change(-6, 6);
    Frame wide(8 * 10 * 4);
    for (int8_t &v : wide)
      v = static_cast<int8_t>(any(rng));
    bool residualFrames = false;
    for (int f = 0; f < 8; ++f) {
      if (f > 0)
        for (int8_t &v : wide)
          v = static_cast<int8_t>(std::clamp(v + change(rng), -128, 127));
      Frame window;
      for (int y = 0; y < 8; ++y)
        window.insert(window.end(), wide.begin() + (y * 10 + 1) * 4,
                      wide.begin() + (y * 10 + 9) * 4);
      StepResult a = step(*strided, ss, wide), b = step(*contiguous, sc, window);
      EXPECT_EQ(a.output, b.output) << "frame " << f;
      EXPECT_EQ(a.stats.bits, b.stats.bits) << "frame " << f;
      EXPECT_EQ(a.stats.keyframe, b.stats.keyframe) << "frame " << f;
      residualFrames |= !a.stats.keyframe;
    }
    EXPECT_EQ(residualFrames, !keyframesOnly);
  }
}

TEST(Stream, Misuse) {
  auto session = compile(kResidualConv);
  auto other = compile(kResidualConv);
  ASSERT_TRUE(session && other);
  int8_t in[8 * 8 * 4] = {}, out[8 * 8 * 8] = {};
  std::string e = errorText(session->step({in}, {out}));
  EXPECT_NE(e.find("is stateful: step it with a Stream"), std::string::npos)
      << e;
  Stream foreign = other->createStream();
  e = errorText(session->step(foreign, {in}, {out}));
  EXPECT_NE(e.find("created by another session"), std::string::npos) << e;
}
