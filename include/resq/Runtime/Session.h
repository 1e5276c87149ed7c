//===- Session.h - JIT-compile and run a ResQ step function ------*- C++ -*-===//
//
// A Session parses an MLIR module (ResQ + TOSA, or plain TOSA), lowers it with
// the resq-to-llvm pipeline, JIT-compiles it with MLIR's ExecutionEngine and
// calls its step function one frame at a time. A Stream is the state of one
// video stream of a stateful step function; streams are independent.
//
// This header is deliberately free of MLIR includes: the tool and the tests
// only see plain data.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_RUNTIME_SESSION_H
#define RESQ_RUNTIME_SESSION_H

#include "resq/Runtime/Npy.h"
#include "resq/Support/StatsLayout.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace resq {
namespace runtime {

/// A statically shaped tensor the step function takes or returns.
struct TensorSpec {
  npy::DType dtype = npy::DType::Int8;
  std::vector<int64_t> shape;
  /// The MLIR spelling, e.g. "tensor<1x8x8x4xi8>", for messages.
  std::string mlirType;

  int64_t numElements() const { return npy::numElements(shape); }
  size_t byteSize() const {
    return static_cast<size_t>(numElements()) * npy::elementSize(dtype);
  }
};

/// Where one residualized layer keeps its state inside a stream buffer; an
/// entry of the `layers` list of the module attribute `resq.stream_layout`.
/// All offsets are in bytes from the start of the buffer.
struct LayerLayout {
  std::string name;
  std::string kind;
  /// 16 int64 statistics of the last frame (see LayerStats).
  int64_t statsOffset = 0;
  /// The reconstructed input R: int16 (int8 when `rBytes` is 1: a layer
  /// with step 1), shape `rShape`; the last dimension is the channel count
  /// padded to a multiple of 16, of which the first `inChannels` are real.
  int64_t rOffset = 0;
  int64_t rBytes = 2;
  std::vector<int64_t> rShape;
  /// The accumulator A: int32, shape `aShape`.
  int64_t aOffset = 0;
  std::vector<int64_t> aShape;
  /// Spatial blocks per frame (the unit of the bit-width choice).
  int64_t blocks = 0;
  int64_t inChannels = 0;
  /// False when every frame is a keyframe (keyframe interval 1): the
  /// stream then keeps no R and no A (offsets -1), only statistics.
  bool keepsState() const { return rOffset >= 0; }
};

/// The layout of one stream's state buffer (`resq.stream_layout`).
struct StreamLayout {
  /// Bytes per stream.
  int64_t size = 0;
  /// Bytes of the one scratch block each step allocates for its
  /// intermediate tensors (resq-plan-scratch); not part of the state.
  int64_t scratchSize = 0;
  std::vector<LayerLayout> layers;
};

/// The int64 fields of the state header at byte offset 0.
enum class StreamHeader : unsigned {
  FramesProcessed = 0,
  FramesSinceKeyframe = 1,
  /// The frame just processed was a keyframe.
  IsKeyframe = 2,
  /// Set to 1 by the caller: the next frame is a keyframe.
  ForceKeyframe = 3,
};
constexpr int64_t kStreamHeaderBytes = 4 * sizeof(int64_t);

/// What one layer did in the last frame of a stream.
struct LayerStats {
  bool keyframe = false;
  bool sceneCut = false;
  /// Number of blocks that used bit-width b, for b = 0..9.
  std::array<int64_t, kMaxBitWidth + 1> bits{};
  int64_t blocks = 0;
  int64_t macs = 0;
  int64_t bops = 0;

  /// Fraction of the blocks that were skipped (0 bits).
  double skippedFraction() const {
    return blocks ? double(bits[0]) / double(blocks) : 0.0;
  }
  /// Mean bit-width over all blocks, skipped ones counting as 0.
  double meanBits() const;
};

/// A zero-filled, 64-byte aligned heap buffer.
class AlignedBuffer {
public:
  static constexpr size_t kAlignment = 64;
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t size);
  uint8_t *data() { return ptr.get(); }
  const uint8_t *data() const { return ptr.get(); }
  size_t size() const { return bytes; }
  /// Sets every byte to zero.
  void clear();

private:
  struct Free {
    void operator()(uint8_t *p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> ptr;
  size_t bytes = 0;
};

/// The state of one video stream: one buffer of the layout's size. Create it
/// with Session::createStream; a fresh stream starts with a keyframe.
class Stream {
public:
  Stream(Stream &&) = default;
  Stream &operator=(Stream &&) = default;

  /// Forgets everything: the next frame is a keyframe, counters restart.
  void reset() { buffer.clear(); }
  /// Makes the next frame a keyframe (sets the header's force flag).
  void forceKeyframe();

  int64_t header(StreamHeader field) const;
  int64_t framesProcessed() const {
    return header(StreamHeader::FramesProcessed);
  }
  /// True when the frame just processed was a keyframe.
  bool lastFrameWasKeyframe() const {
    return header(StreamHeader::IsKeyframe) != 0;
  }

  const StreamLayout &layout() const { return *layoutPtr; }
  size_t numLayers() const { return layoutPtr->layers.size(); }
  /// Statistics of the last frame of layer `layer` (index into the layout).
  LayerStats stats(size_t layer) const;
  /// The last frame's statistics summed over every layer (keyframe and
  /// scene cut: any layer's).
  LayerStats totals() const;
  /// R of a layer with only its real input channels: int16 of shape
  /// rShape[:-1] + [inChannels]; empty (shape [0]) when the stream keeps
  /// no state (LayerLayout::keepsState), as is A below.
  npy::Array reconstructedInput(size_t layer) const;
  /// A of a layer: int32 of shape aShape.
  npy::Array accumulator(size_t layer) const;

  uint8_t *data() { return buffer.data(); }
  const uint8_t *data() const { return buffer.data(); }
  size_t size() const { return buffer.size(); }

private:
  friend class Session;
  explicit Stream(std::shared_ptr<const StreamLayout> layout);
  int64_t loadI64(int64_t byteOffset) const;

  std::shared_ptr<const StreamLayout> layoutPtr;
  AlignedBuffer buffer;
};

struct SessionOptions {
  /// The step function; empty: `main`, or else the only public function.
  std::string entry;
  /// CPU the residual kernels are generated for: an LLVM x86 CPU name or
  /// "native". The JIT always generates code this machine can run.
  std::string targetCpu = "native";
  /// Threads sharing the rows of every kernel and loop nest (OpenMP, from
  /// libomp). 1: sequential code that needs no OpenMP runtime.
  unsigned threads = 1;
  /// LLVM optimization level (0-3). Results do not depend on it (fast-
  /// math flags only where proven not to change a result). 2, as resq-compile's objects: O3 ran selfie's steps
  /// 20-40% slower and pose's no faster (docs/Rationale.md).
  unsigned optLevel = 2;
};

/// For programs that step models frame after frame: makes the C library
/// keep large freed blocks (up to 256 MiB) for reuse. Stateless models
/// and stateful models alike allocate one scratch block per step for their
/// intermediate tensors; glibc returns blocks above its mmap threshold
/// (128 KiB, raised as such blocks are freed, at most to 32 MiB) to the
/// kernel on free, and a frame then pays for page faults on fresh memory.
/// Process-wide; call once, early.
void reuseLargeAllocations();

/// One compiled module.
class Session {
public:
  /// Parses, lowers and JIT-compiles the module in `path`. Errors carry the
  /// MLIR diagnostics (with file:line:column locations).
  static llvm::Expected<std::unique_ptr<Session>>
  create(llvm::StringRef path, const SessionOptions &options = {});
  /// The same for a module held in memory; `bufferName` names it in
  /// diagnostics.
  static llvm::Expected<std::unique_ptr<Session>>
  createFromSource(llvm::StringRef source, llvm::StringRef bufferName,
                   const SessionOptions &options = {});
  ~Session();

  llvm::StringRef entry() const { return entryName; }
  /// True when the step function takes a stream state as first argument.
  bool isStateful() const { return stateful; }
  const std::vector<TensorSpec> &inputs() const { return inputSpecs; }
  const std::vector<TensorSpec> &outputs() const { return outputSpecs; }
  /// The state layout (size 0 and no layers for stateless modules).
  const StreamLayout &streamLayout() const { return *layout; }
  /// Seconds spent parsing, lowering and JIT-compiling.
  double compileSeconds() const { return compileTime; }

  /// A fresh, zero-filled stream state for this module.
  Stream createStream() const { return Stream(layout); }

  /// Runs the step function on one frame. `inputs[i]` points to the data of
  /// input i (inputs()[i].byteSize() bytes, C order) and `outputs[k]` to room
  /// for result k. Stateless modules ignore `stream`. 64-byte aligned
  /// buffers (AlignedBuffer) are best for the generated vector code.
  llvm::Error step(Stream &stream, llvm::ArrayRef<const void *> inputs,
                   llvm::ArrayRef<void *> outputs);
  /// Runs a stateless step function.
  llvm::Error step(llvm::ArrayRef<const void *> inputs,
                   llvm::ArrayRef<void *> outputs);

private:
  struct Impl;
  Session();
  llvm::Error call(Stream *stream, llvm::ArrayRef<const void *> inputs,
                   llvm::ArrayRef<void *> outputs);

  std::unique_ptr<Impl> impl;
  std::string entryName;
  bool stateful = false;
  std::vector<TensorSpec> inputSpecs, outputSpecs;
  std::shared_ptr<const StreamLayout> layout;
  double compileTime = 0;
};

} // namespace runtime
} // namespace resq

#endif // RESQ_RUNTIME_SESSION_H
