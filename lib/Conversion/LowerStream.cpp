//===- LowerStream.cpp - stream state layout and residual kernels ---------===//
//
// Lowers a ResQ step function to loops of scf/memref/arith/vector ops:
//
//  * the per-stream state is one byte buffer (memref<Nxi8>) holding a frame
//    header, then per residualized layer its statistics, reconstructed input
//    R (int16), residual codes Q (int8), per-block bit-widths and int32
//    accumulator A;
//  * `resq.begin_frame` decides keyframe or residual frame on the header;
//  * a residualized layer quantizes its residual per block (choosing the
//    bit-width), updates R, and runs its linear op over the taps whose input
//    block changed, accumulating into A; a keyframe resets R and A.
//
// The numeric contract is RESQ-SEMANTICS.md; the comments name its terms.
//
//===----------------------------------------------------------------------===//

#include "resq/Conversion/Passes.h"
#include "resq/Conversion/StepFunction.h"
#include "resq/Support/StatsLayout.h"

#include "ResQ/IR/ResQ.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/TargetParser/X86TargetParser.h"

#include <limits>

namespace resq {
#define GEN_PASS_DEF_RESQLOWERSTREAM
#define GEN_PASS_DEF_RESQLOWERINTRINSICS
#include "resq/Conversion/Passes.h.inc"
} // namespace resq

using namespace mlir;
using namespace resq;

namespace {

/// Vector width of the kernels: 16 int32 lanes (one AVX-512 register).
constexpr int64_t kLanes = 16;
/// Every state region starts on a cache line.
constexpr int64_t kAlign = 64;
/// Output blocks of a dense layer computed together: independent
/// accumulators hide the dot product's latency; 8 of them plus the codes
/// and weights fit the 32 vector registers of AVX-512.
constexpr int64_t kOutputBlockGroup = 8;

/// Independent accumulator chains a dense pixel keeps at least (VNNI): the
/// dot product's latency over its throughput, about.
constexpr int64_t kMinChains = 4;

/// Accumulators of a 1x1 layer's chunk (pixels x output blocks): each
/// code broadcast (and flipped, on a keyframe reading X) serves a group of
/// blocks, each weight vector the chunk's pixels; with the codes and the
/// weights of the group they fill the 32 vector registers.
constexpr int64_t kPointwiseAccumulators = 24;

/// Output blocks per group for a layer with `blocks` of them: all if at
/// most `most`, else the largest divisor from `most` down to `least`, so
/// that one copy of the loop covers the layer (each remainder group is
/// another copy for LLVM to compile), else `most` and a remainder group.
int64_t blockGroup(int64_t blocks, int64_t most, int64_t least) {
  if (blocks <= most)
    return blocks;
  for (int64_t g = most; g >= least; --g)
    if (blocks % g == 0)
      return g;
  return most;
}

/// A dense layer's pixel: no fewer than 4 chains per group.
int64_t outputBlockGroup(int64_t blocks) {
  return blockGroup(blocks, kOutputBlockGroup, 4);
}

/// A 1x1 layer's chunk of `pixels`: up to kPointwiseAccumulators / pixels.
int64_t pointwiseGroup(int64_t blocks, int64_t pixels) {
  return blockGroup(blocks,
                    std::max<int64_t>(1, kPointwiseAccumulators / pixels), 3);
}

/// Stream header, int64 slots at byte offset 0.
enum HeaderSlot : int64_t {
  kFrames = 0,     // frames processed by the stream
  kSinceKey = 1,   // frames since the last keyframe
  kIsKey = 2,      // the current frame is a keyframe
  kForceKey = 3,   // the caller asks for a keyframe (reset)
  kDenseRest = 4,  // this frame's remaining layers run dense (keyframe path)
  kHeaderSlots = 8
};

int64_t roundUp(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

/// The largest |Q| a bit-width holds, 2^(b-1) - 1 (symmetric; 0 bits hold
/// only 0).
int64_t largestCode(int64_t width) {
  return width == 0 ? 0 : (int64_t(1) << (width - 1)) - 1;
}

/// Channels of a layer's R and Q per input pixel: whole vectors of 16, or 4
/// (8) for a convolution with at most 4 (8) input channels (a network's
/// first layer, RGB; pose's 8-channel high-resolution layers), whose passes
/// over X, R and Q would otherwise move 16 bytes per pixel for 3 (8) real
/// ones. The kernels read Q in quads of channels either way; depthwise
/// layers keep 16 (their lanes are the channels).
int64_t paddedChannels(const LinearGeometry &g) {
  if (g.kind == LinearGeometry::Kind::Conv && g.ic <= 8)
    return g.ic <= 4 ? 4 : 8;
  return roundUp(g.ic, kLanes);
}

/// Where one layer's state lives in the stream buffer (byte offsets).
struct LayerState {
  int64_t stats = 0, r = 0, a = 0;
  /// Bytes per element of R: 1 when the step is 1 (R + Q then lies between
  /// R and X, so it stays an int8 code), 2 otherwise (R + s * Q may step
  /// past the int8 range by up to s / 2).
  int64_t rBytes = 2;
  /// Every frame is a keyframe (keyframe interval 1), or the layer is
  /// `standard`: nothing reads R or A in a later frame, so the stream keeps
  /// only the statistics; A is a step intermediate (the step's scratch) and
  /// R is not written. (Q and the bit-widths are step intermediates in every
  /// stream.)
  bool keyframeOnly = false;
  int64_t channels = 0;         // input channels padded (see paddedChannels)
  int64_t blocksY = 0, blocksX = 0;
  int64_t numBlocks() const { return blocksY * blocksX; }
};

/// Small helpers over an ImplicitLocOpBuilder that keep the kernel code
/// readable: constants, loops with carried values, conditionals.
class Emitter {
public:
  explicit Emitter(ImplicitLocOpBuilder &b) : b(b) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value i8(int64_t v) { return arith::ConstantIntOp::create(b, v, 8); }
  Value i32(int64_t v) { return arith::ConstantIntOp::create(b, v, 32); }
  Value i64(int64_t v) { return arith::ConstantIntOp::create(b, v, 64); }
  Value splat(Value scalar, int64_t lanes = kLanes) {
    return vector::BroadcastOp::create(
        b, VectorType::get({lanes}, scalar.getType()), scalar);
  }
  Value splatI32(int64_t v, int64_t lanes = kLanes) {
    return splat(i32(v), lanes);
  }
  /// A vector of `v` shaped like `like` (a vector of integers).
  Value splatLike(Value like, int64_t v) {
    auto type = cast<VectorType>(like.getType());
    return splat(arith::ConstantIntOp::create(b, type.getElementType(), v),
                 type.getNumElements());
  }

  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, p, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, c, x, y);
  }
  Value andI(Value x, Value y) { return arith::AndIOp::create(b, x, y); }
  Value orI(Value x, Value y) { return arith::OrIOp::create(b, x, y); }
  Value minS(Value x, Value y) { return arith::MinSIOp::create(b, x, y); }
  Value toIndex(Value v) {
    return arith::IndexCastOp::create(b, b.getIndexType(), v);
  }
  Value toI64(Value v) {
    if (v.getType().isIndex())
      return arith::IndexCastOp::create(b, b.getI64Type(), v);
    return arith::ExtSIOp::create(b, b.getI64Type(), v);
  }
  Value extS(Value v, Type elem) {
    Type t = elem;
    if (auto vt = dyn_cast<VectorType>(v.getType()))
      t = VectorType::get(vt.getShape(), elem);
    return arith::ExtSIOp::create(b, t, v);
  }
  Value trunc(Value v, Type elem) {
    Type t = elem;
    if (auto vt = dyn_cast<VectorType>(v.getType()))
      t = VectorType::get(vt.getShape(), elem);
    return arith::TruncIOp::create(b, t, v);
  }

  Value load(Value memref, ValueRange indices) {
    return memref::LoadOp::create(b, memref, indices);
  }
  void store(Value value, Value memref, ValueRange indices) {
    memref::StoreOp::create(b, value, memref, indices);
  }
  /// Adds `delta` (i64) to an int64 slot.
  void addToSlot(Value memref, int64_t slot, Value delta) {
    Value at = idx(slot);
    store(add(load(memref, at), delta), memref, at);
  }

  /// scf.for from lb to ub; `body` returns the values carried to the next
  /// iteration (none when `inits` is empty).
  SmallVector<Value>
  loop(Value lb, Value ub, ValueRange inits,
       function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto forOp = scf::ForOp::create(b, lb, ub, idx(1), inits);
    OpBuilder::InsertionGuard guard(b);
    Block *block = forOp.getBody();
    if (inits.empty()) {
      b.setInsertionPoint(block->getTerminator());
      body(forOp.getInductionVar(), {});
    } else {
      b.setInsertionPointToEnd(block);
      SmallVector<Value> next =
          body(forOp.getInductionVar(), block->getArguments().drop_front());
      scf::YieldOp::create(b, next);
    }
    return SmallVector<Value>(forOp.getResults());
  }
  void loop(int64_t lb, int64_t ub, function_ref<void(Value)> body) {
    loop(idx(lb), idx(ub), {}, [&](Value iv, ValueRange) {
      body(iv);
      return SmallVector<Value>();
    });
  }
  void loop(Value lb, Value ub, function_ref<void(Value)> body) {
    loop(lb, ub, {}, [&](Value iv, ValueRange) {
      body(iv);
      return SmallVector<Value>();
    });
  }

  /// A loop over rows: scf.parallel (marked for resq-outer-parallel-loops,
  /// threads share the rows) when `parallel`, else scf.for. The body must
  /// not write what another row reads or writes.
  void rows(int64_t lb, int64_t ub, bool parallel,
            function_ref<void(Value)> body) {
    if (!parallel || ub - lb < 2)
      return loop(lb, ub, body);
    auto par = scf::ParallelOp::create(b, ValueRange{idx(lb)},
                                       ValueRange{idx(ub)}, ValueRange{idx(1)});
    par->setAttr(resq::kParallelRowsAttr, b.getUnitAttr());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(par.getBody()->getTerminator());
    body(par.getInductionVars()[0]);
  }
  /// memref[slot] += delta, atomically when rows run in parallel.
  void addToSlot(Value memref, int64_t slot, Value delta, bool atomic) {
    if (!atomic)
      return addToSlot(memref, slot, delta);
    memref::AtomicRMWOp::create(b, arith::AtomicRMWKind::addi, delta, memref,
                                ValueRange{idx(slot)});
  }

  void ifThen(Value cond, function_ref<void()> then) {
    auto ifOp = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    then();
  }
  void ifThenElse(Value cond, function_ref<void()> then,
                  function_ref<void()> otherwise) {
    auto ifOp = scf::IfOp::create(b, cond, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    then();
    b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
    otherwise();
  }
  /// Values of `then()` when `cond` holds, else `orElse`.
  SmallVector<Value> ifValues(Value cond, ValueRange orElse,
                              function_ref<SmallVector<Value>()> then) {
    auto ifOp = scf::IfOp::create(b, orElse.getTypes(), cond,
                                  /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    scf::YieldOp::create(b, then());
    b.setInsertionPointToStart(ifOp.elseBlock());
    scf::YieldOp::create(b, orElse);
    return SmallVector<Value>(ifOp.getResults());
  }

  ImplicitLocOpBuilder &b;
};

/// Everything needed to emit one residualized layer.
class LayerLowering {
public:
  LayerLowering(ImplicitLocOpBuilder &b, Operation *op, Value stream,
                const LayerState &state, bool vnni, bool parallel,
                ModuleOp module, SymbolTable &symbols)
      : b(b), e(b), op(op), stream(stream), st(state), vnni(vnni),
        parallel(parallel), module(module), symbols(symbols),
        g(getLinearGeometry(op)),
        residual(getResidual(op)) {}

  LogicalResult lower();

private:
  Type rElement() { return b.getIntegerType(8 * st.rBytes); }
  bool isDepthwise() const {
    return g.kind == LinearGeometry::Kind::Depthwise;
  }
  int64_t outBlocks() const { return roundUp(g.oc, kLanes) / kLanes; }
  /// Channels per vector in the passes over X, R and Q: 16, or 4 (8) for
  /// a layer whose input has at most 4 (8) channels (see paddedChannels).
  int64_t lanes() const { return std::min(kLanes, st.channels); }

  LogicalResult packConstants();
  Value global(StringRef suffix, DenseElementsAttr value);
  Value view(int64_t offset, ArrayRef<int64_t> shape, Type elem);

  /// Loads 16 channels of input X at (n, y, x, c0); lanes past the real
  /// channels read as 0.
  Value loadInput(Value n, Value y, Value x, Value c0);
  /// Indices of A for output pixel (n, oy, ox) and channel c0.
  SmallVector<Value> accIndices(Value n, Value oy, Value ox, Value c0);

  /// Input row (or column) of a window tap and whether it is inside.
  std::pair<Value, Value> tapInput(Value out, int64_t k, int64_t stride,
                                   int64_t dilation, int64_t pad,
                                   int64_t inSize, Value tap);
  /// The input row where output row oy's window starts (rows = true), or
  /// the column where output column ox's does; and whether all of the
  /// window's rows (columns) from `start` lie inside the input.
  Value windowStart(Value out, bool rows);
  Value windowInside(Value start, bool rows);
  /// The output columns [first, end) whose whole window lies inside the
  /// input (end >= first).
  std::pair<int64_t, int64_t> insideColumns() const;

  void emitResidualQuantization(Value key);
  /// Row `by`'s blocks' bit-widths into bitsView, from the largest rounded
  /// residual of each (see residualAt for `laterRound`).
  void emitBlockWidths(Value n, Value by, bool laterRound);
  /// The linear op of a residual frame, and the further rounds of a layer
  /// allowed 9 bits, while a block needs more than the 8 bits of a code.
  void emitRounds();
  void emitLaterQuantization();
  /// The rows of pixels [y0, y1) of row `by` of blocks.
  std::pair<Value, Value> pixelRowsOf(Value by);
  /// Runs `body(y, x, c0)` over the pixels (16 channels at a time) of row
  /// `by` of blocks.
  void forPixelsOfBlockRow(Value by,
                           function_ref<void(Value, Value, Value)> body);
  /// Q = 0 in row `by` of blocks if a row within reach of it is flagged in
  /// `rows` (changedRows, clampedRows): the linear op runs the output rows
  /// whose taps read a flagged row, and their taps may read `by` too.
  void emitZeroCodesNear(Value n, Value by, Value rows);
  void emitResidualOrKeyframe();
  void emitKeyframeState();
  void emitQuantize(Value n, Value y, Value x, Value c0, bool laterRound);
  /// The first round's quantization of row `by` of blocks: emitQuantize
  /// per pixel, or, where X, R and Q hold the same channels and X is
  /// contiguous, over each row of pixels as one run of elements in 16-bit
  /// lanes (kRunLanes per vector instead of 16).
  void emitQuantizeRows(Value n, Value by);
  void emitLinear(bool keyframe);
  /// Writes A at one output pixel (see writeAccumulator; on a residual
  /// frame acc is 0 where no tap changed: Q is 0 there).
  void emitOutputPixel(bool keyframe, Value n, Value oy, Value ox);
  /// Whether any row of blocks an output row's taps read changed
  /// (changedRows).
  Value emitRowChanged(Value n, Value oy);
  SmallVector<Value>
  emitTapLoop(Value oy, Value ox, int64_t count,
              function_ref<SmallVector<Value>(ValueRange, Value, Value, Value)>
                  tapBody);
  SmallVector<Value> emitDenseTaps(bool keyframe, Value n, Value oy, Value ox,
                                   Value ocb0, int64_t count);
  /// Offsets of batch n's packed weights and weight sums (matmuls with
  /// per-batch weights; 0 otherwise).
  std::pair<Value, Value> weightBatchOffsets(Value n);
  /// Stores 16 codes of Q. A dense layer with VNNI keeps them as unsigned
  /// bytes, code + 128 (sign bits flipped), the operand vpdpbusd takes: the
  /// flip is one vector op per 16 codes here, not a scalar op and a
  /// broadcast (which competes with the dot products for a port) per 4
  /// codes in the kernel.
  void storeCodes(Value codes, Value n, Value y, Value x, Value c0);
  /// Codes as the layer's kernel reads them (see storeCodes).
  Value kernelCodes(Value codes);
  /// VNNI: the four (unsigned) codes at (n, y, x, 4*c4), broadcast to the
  /// 16 lanes of a dot product: from Q, or on a keyframe of a layer whose
  /// kernel reads X (keyframeReadsInput) from keyframeCodes, flipped here.
  Value vnniCodes(bool keyframe, Value n, Value y, Value x, Value c4);
  /// Whether the keyframe kernel reads its codes from X itself rather than
  /// from a copy into Q: a dense VNNI convolution whose input channels are
  /// whole quads. Where X is not one run (a run-time check), it is copied
  /// into Q in X's own layout, so the kernel reads either the same way.
  bool keyframeReadsInput() const;
  /// X as one run of elements (memref<?xi8>, unit stride), and whether it
  /// is one: an i1 checked at run time (bufferization decides X's layout).
  /// Emitted once per layer, right after X.
  std::pair<Value, Value> inputAsRun();
  /// The n x ih x iw x ic bytes at `base` + `offset` as one run.
  Value runOf(Value base, OpFoldResult offset);
  /// Where pixel (n, y, x)'s channels start in such a run.
  Value runPixel(Value n, Value y, Value x);
  /// Bytes of codes with the sign bit of each flipped (code + 128, the
  /// unsigned operand of vpdpbusd), as i32 lanes.
  Value flipSigns(Value words);
  /// VNNI: what the +128 (and a keyframe's zero point) added to output
  /// block ocb through tap `tap`: weight sums x (128 + zp).
  Value vnniCorrection(bool keyframe, Value sBatch, Value ocb, Value tap);
  /// A at `at` (channels c0..c0+15) from a pixel's accumulator: keyframe
  /// A = acc + B (acc when `biased`: it started from B), residual frame
  /// A += s * acc.
  void writeAccumulator(bool keyframe, ArrayRef<Value> at, Value c0,
                        Value acc, bool biased = false);
  /// A keyframe row of a 1x1, stride-1 convolution (or a matmul) with VNNI:
  /// several pixels and output blocks per pass over the input channels.
  bool isPointwise() const;
  void emitPointwiseRow(bool keyframe, Value n, Value oy);
  /// A VNNI convolution with one output channel (pose's segmentation
  /// head), stride and dilation 1 along the row, whose keyframe reads X
  /// directly and whose Q holds exactly its channels: the 16 lanes of a
  /// dot product are kLanes / q pixels x q quads of input channels (16
  /// output-channel lanes would leave 15 empty). See emitPixelLaneRow.
  bool isPixelLane() const;
  void emitPixelLaneRow(bool keyframe, Value n, Value oy);
  void emitPixelLaneChunk(bool keyframe, Value n, Value oy, Value ox0,
                          int64_t groups);
  void emitPointwiseChunk(bool keyframe, Value n, Value oy, Value ox0,
                          int64_t pixels);
  Value emitDepthwiseTaps(bool keyframe, Value n, Value oy, Value ox,
                          Value cb);
  /// Depthwise, multiplier 1: the 16 codes at (n, y, x, c0) as i32 lanes,
  /// less the zero point on a keyframe (centered: for codes already
  /// loaded); and one tap's products added.
  Value depthwiseCodes(bool keyframe, Value n, Value y, Value x, Value c0);
  Value centered(bool keyframe, Value codes);
  Value depthwiseDot(Value acc, Value codes, Value tap, Value c0);
  /// A row of a depthwise layer (multiplier 1): on a keyframe, windows
  /// inside the input go in chunks of pixels that load each input column
  /// once for all their taps; the others pixel by pixel.
  void emitDepthwiseRow(bool keyframe, Value n, Value oy);
  void emitDepthwiseChunk(Value n, Value oy, Value ox0, int64_t pixels);
  void emitKeyframeStats();

  /// Residual of 16 channels: D = X - R as i32, |D| rounded by the step
  /// (half away from zero; half toward zero in a 9-bit block's later
  /// rounds), and R as i32.
  std::tuple<Value, Value, Value> residualAt(Value n, Value y, Value x,
                                             Value c0, bool laterRound);
  /// |D| rounded by the step, in D's lanes (i32, or i16 in runs).
  Value roundResidual(Value d, bool laterRound);
  Value magnitudeOf(Value d);
  /// A residual's magnitude |D| rounded by the step.
  Value roundMagnitude(Value magnitude, bool laterRound);
  /// Q = clamp(round(D / s)) to a byte code's range (from D and its
  /// rounded magnitude), and R + s * Q.
  std::pair<Value, Value> quantizeResidual(Value d, Value rounded, Value rs);
  /// Block index of an input pixel.
  Value blockOf(Value pixel) {
    return arith::DivUIOp::create(b, pixel, e.idx(residual.getBlock()));
  }

  ImplicitLocOpBuilder &b;
  Emitter e;
  Operation *op;
  Value stream;
  const LayerState &st;
  bool vnni;
  /// Rows of the kernels run as scf.parallel.
  bool parallel;
  ModuleOp module;
  SymbolTable &symbols;
  LinearGeometry g;
  ResidualAttr residual;

  int64_t inputZp = 0;
  Value input;                         // X as a strided memref
  Value inputRun, inputIsRun;          // see inputAsRun
  Value keyframeCodes; // the keyframe kernel's codes if keyframeReadsInput
  Value codesBuffer;   // Q's bytes
  Value header, stats, rView, qView, q32View, bitsView, aView;
  Value widthTable; // bit-width per largest rounded residual, 0..255
  Value changedRows; // per row of blocks: some block is not 0-bit
  Value clampedRows; // per row of blocks: it needs another round (9 bits)

  Value weights, weightSums, bias, channelOf;
  // isPixelLane: per tap, its quads of weights repeated over the 16 lanes,
  // and what comes off a pixel whose window is inside: on a keyframe the
  // weight sums x (128 + zero point) less the bias, on a residual frame
  // the weight sums x 128.
  Value pixelLaneWeights;
  int32_t pixelLaneKeyframeOffset = 0, pixelLaneResidualOffset = 0;
  int64_t weightBatchStride = 0;       // packed weights per matmul batch
  int64_t weightSumBatchStride = 0;
};

Value LayerLowering::view(int64_t offset, ArrayRef<int64_t> shape,
                          Type elem) {
  auto type = MemRefType::get(shape, elem);
  return memref::ViewOp::create(b, type, stream, e.idx(offset), ValueRange{});
}

Value LayerLowering::global(StringRef suffix, DenseElementsAttr value) {
  std::string name =
      ("__resq_" + getLayerName(op).getValue() + "_" + suffix).str();
  auto type = MemRefType::get(value.getType().getShape(),
                              value.getType().getElementType());
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    auto globalOp = memref::GlobalOp::create(
        b, name, b.getStringAttr("private"), type, value,
        /*constant=*/true, b.getI64IntegerAttr(kAlign));
    symbols.insert(globalOp); // renames on clash
    name = globalOp.getSymName().str();
  }
  return memref::GetGlobalOp::create(b, type, name);
}

/// Packs weights, weight sums and bias at compile time into the layouts the
/// kernels read:
///  * dense ops, VNNI: [batch][ocb][ky][kx][ic/4][16 lanes][4], so one
///    64-byte load feeds vpdpbusd with 4 input channels for 16 outputs;
///  * dense ops, portable: [batch][ocb][ky][kx][ic][16 lanes];
///  * depthwise: [ky][kx][oc padded to 16];
/// plus per-tap weight sums (VNNI: they undo the +128 that makes the codes
/// unsigned; depthwise: the zero point's share of a whole window) and the
/// bias padded to whole vectors.
LogicalResult LayerLowering::packConstants() {
  DenseElementsAttr w, zp;
  if (!matchPattern(op->getOperand(2), m_Constant(&w)))
    return op->emitError() << "resq lowering: weights of layer '"
                           << getLayerName(op).getValue()
                           << "' must be dense constants";
  Value zpValue = isa<MatMulOp>(op) ? op->getOperand(3) : op->getOperand(4);
  if (!matchPattern(zpValue, m_Constant(&zp)))
    return op->emitError() << "resq lowering: input zero point must be a "
                              "constant";
  inputZp = (*zp.getValues<APInt>().begin()).getSExtValue();
  SmallVector<int8_t> wv;
  for (const APInt &v : w.getValues<APInt>())
    wv.push_back(static_cast<int8_t>(v.getSExtValue()));

  int64_t ocp = roundUp(g.oc, kLanes), ocb = ocp / kLanes;
  int64_t taps = g.kh * g.kw;
  MLIRContext *ctx = b.getContext();
  Type i8 = IntegerType::get(ctx, 8), i32 = IntegerType::get(ctx, 32);

  // Bias (matmul has none).
  SmallVector<int32_t> biasValues(ocp, 0);
  if (!isa<MatMulOp>(op)) {
    DenseElementsAttr bAttr;
    if (!matchPattern(op->getOperand(3), m_Constant(&bAttr)))
      return op->emitError() << "resq lowering: bias must be a constant";
    SmallVector<int32_t> bv;
    for (const APInt &v : bAttr.getValues<APInt>())
      bv.push_back(static_cast<int32_t>(v.getSExtValue()));
    for (int64_t o = 0; o < g.oc; ++o)
      biasValues[o] = bv.size() == 1 ? bv[0] : bv[o];
  }
  bias = global("bias", DenseElementsAttr::get(
                            RankedTensorType::get({ocp}, i32),
                            ArrayRef<int32_t>(biasValues)));

  if (isDepthwise()) {
    // TOSA depthwise weights KH x KW x C x M: flat index (tap * OC + o).
    SmallVector<int8_t> packed(taps * ocp, 0);
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t o = 0; o < g.oc; ++o)
        packed[t * ocp + o] = wv[t * g.oc + o];
    if (vnni) {
      // One int32 per weight, the weight in its lower 16-bit word and 0 in
      // the upper one, so that vpdpwssd multiplies it with an int32 code
      // (which fits in its lower word) and adds one product per lane.
      SmallVector<int32_t> wide(llvm::map_range(packed, [](int8_t v) {
        return int32_t(uint16_t(int16_t(v)));
      }));
      weights = global("weights", DenseElementsAttr::get(
                                      RankedTensorType::get({taps * ocp}, i32),
                                      ArrayRef<int32_t>(wide)));
    } else {
      weights = global("weights", DenseElementsAttr::get(
                                      RankedTensorType::get({taps * ocp}, i8),
                                      ArrayRef<int8_t>(packed)));
    }
    // A keyframe window wholly inside the input: what the zero point adds,
    // zp x (the channel's weights summed over the taps), taken off once.
    SmallVector<int32_t> zpSums(ocp, 0);
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t o = 0; o < g.oc; ++o)
        zpSums[o] += int32_t(inputZp) * packed[t * ocp + o];
    weightSums = global("zp_sums", DenseElementsAttr::get(
                                       RankedTensorType::get({ocp}, i32),
                                       ArrayRef<int32_t>(zpSums)));
    if (g.multiplier > 1) {
      // Input channel of every output lane, for the gather.
      SmallVector<int32_t> channel(ocp, 0);
      for (int64_t o = 0; o < g.oc; ++o)
        channel[o] = static_cast<int32_t>(o / g.multiplier);
      channelOf = global("channel", DenseElementsAttr::get(
                                        RankedTensorType::get({ocp}, i32),
                                        ArrayRef<int32_t>(channel)));
    }
    return success();
  }

  // Dense ops: W(batch, oc, tap, ic) from the op's own layout.
  int64_t batches = 1;
  auto weightAt = [&](int64_t nb, int64_t o, int64_t t, int64_t c) -> int8_t {
    if (auto mm = dyn_cast<MatMulOp>(op)) {
      // N x C x W: output channel o = w, input channel c.
      (void)mm;
      return wv[(nb * g.ic + c) * g.oc + o];
    }
    return wv[(o * taps + t) * g.ic + c]; // OHWI
  };
  if (auto mm = dyn_cast<MatMulOp>(op))
    batches = cast<RankedTensorType>(mm.getWeight().getType()).getShape()[0];

  int64_t ic4 = roundUp(g.ic, 4) / 4;
  int64_t perBatch = vnni ? ocb * taps * ic4 * 64 : ocb * taps * g.ic * kLanes;
  SmallVector<int8_t> packed(batches * perBatch, 0);
  SmallVector<int32_t> sums(batches * ocb * taps * kLanes, 0);
  for (int64_t nb = 0; nb < batches; ++nb)
    for (int64_t o = 0; o < g.oc; ++o)
      for (int64_t t = 0; t < taps; ++t) {
        int64_t blk = o / kLanes, lane = o % kLanes;
        int32_t sum = 0;
        for (int64_t c = 0; c < g.ic; ++c) {
          int8_t v = weightAt(nb, o, t, c);
          sum += v;
          int64_t at =
              vnni ? (((blk * taps + t) * ic4 + c / 4) * kLanes + lane) * 4 +
                         c % 4
                   : ((blk * taps + t) * g.ic + c) * kLanes + lane;
          packed[nb * perBatch + at] = v;
        }
        sums[((nb * ocb + blk) * taps + t) * kLanes + lane] = sum;
      }
  weights = global("weights", DenseElementsAttr::get(
                                  RankedTensorType::get(
                                      {(int64_t)packed.size()}, i8),
                                  ArrayRef<int8_t>(packed)));
  weightSums = global("weight_sums", DenseElementsAttr::get(
                                         RankedTensorType::get(
                                             {(int64_t)sums.size()}, i32),
                                         ArrayRef<int32_t>(sums)));
  if (batches > 1) {
    weightBatchStride = perBatch;
    weightSumBatchStride = ocb * taps * kLanes;
  }
  if (isPixelLane()) {
    int64_t q = g.ic / 4;
    SmallVector<int8_t> repeated(taps * 64);
    int64_t sum = 0;
    for (int64_t t = 0; t < taps; ++t) {
      for (int64_t lane = 0; lane < kLanes; ++lane)
        for (int64_t j = 0; j < 4; ++j)
          repeated[(t * kLanes + lane) * 4 + j] =
              weightAt(0, 0, t, (lane % q) * 4 + j);
      sum += sums[t * kLanes];
    }
    pixelLaneWeights = global("pixel_lane_weights",
                              DenseElementsAttr::get(
                                  RankedTensorType::get({taps * 64}, i8),
                                  ArrayRef<int8_t>(repeated)));
    // Modulo 2^32, as the kernels' sums.
    auto wrap = [](int64_t v) { return int32_t(uint32_t(uint64_t(v))); };
    pixelLaneKeyframeOffset =
        wrap(sum * (128 + inputZp) - int64_t(biasValues[0]));
    pixelLaneResidualOffset = wrap(sum * 128);
  }
  return success();
}

std::pair<Value, Value> LayerLowering::inputAsRun() {
  if (inputRun)
    return {inputIsRun, inputRun};
  using P = arith::CmpIPredicate;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfterValue(input);
  auto metadata = memref::ExtractStridedMetadataOp::create(b, input);
  ValueRange strides = metadata.getStrides();
  int64_t expected = 1;
  inputIsRun = arith::ConstantIntOp::create(b, 1, 1);
  for (int64_t d = 3; d >= 0; --d) {
    inputIsRun =
        e.andI(inputIsRun, e.cmp(P::eq, strides[d], e.idx(expected)));
    expected *= d == 3 ? g.ic : d == 2 ? g.iw : g.ih;
  }
  inputRun = runOf(metadata.getBaseBuffer(), metadata.getOffset());
  return {inputIsRun, inputRun};
}

Value LayerLowering::runPixel(Value n, Value y, Value x) {
  return e.mul(e.add(e.mul(e.add(e.mul(n, e.idx(g.ih)), y), e.idx(g.iw)), x),
               e.idx(g.ic));
}

Value LayerLowering::flipSigns(Value words) {
  return arith::XOrIOp::create(b, words, e.splatI32(int32_t(0x80808080u)));
}

Value LayerLowering::runOf(Value base, OpFoldResult offset) {
  int64_t size = g.n * g.ih * g.iw * g.ic;
  auto type = MemRefType::get(
      {size}, b.getI8Type(),
      StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic, {1}));
  return memref::ReinterpretCastOp::create(
      b, type, base, offset, ArrayRef<OpFoldResult>{b.getIndexAttr(size)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
}

bool LayerLowering::keyframeReadsInput() const {
  return vnni && !isDepthwise() && g.kind != LinearGeometry::Kind::MatMul &&
         g.ic % 4 == 0;
}

Value LayerLowering::loadInput(Value n, Value y, Value x, Value c0) {
  auto type = VectorType::get({lanes()}, b.getI8Type());
  SmallVector<Value> indices = {n, y};
  if (g.kind != LinearGeometry::Kind::MatMul)
    indices.push_back(x);
  indices.push_back(c0);
  Value pad = arith::ConstantIntOp::create(b, 0, 8);
  bool inBounds = g.ic % lanes() == 0;
  return vector::TransferReadOp::create(b, type, input, indices, pad,
                                        ArrayRef<bool>{inBounds});
}

SmallVector<Value> LayerLowering::accIndices(Value n, Value oy, Value ox,
                                             Value c0) {
  if (g.kind == LinearGeometry::Kind::MatMul)
    return {n, oy, c0};
  return {n, oy, ox, c0};
}

std::pair<Value, Value> LayerLowering::tapInput(Value out, int64_t k,
                                                int64_t stride,
                                                int64_t dilation, int64_t pad,
                                                int64_t inSize, Value tap) {
  using P = arith::CmpIPredicate;
  Value zero = e.idx(0), size = e.idx(inSize);
  if (g.kind == LinearGeometry::Kind::Transpose) {
    // Output o gets input i through tap t when o = i * stride + pad + t.
    Value num = e.sub(e.sub(out, e.idx(pad)), tap);
    Value in = arith::DivSIOp::create(b, num, e.idx(stride));
    Value exact = e.cmp(P::eq, arith::RemSIOp::create(b, num, e.idx(stride)),
                        zero);
    Value valid = e.andI(e.andI(e.cmp(P::sge, num, zero), exact),
                         e.cmp(P::slt, in, size));
    return {in, valid};
  }
  Value in = e.add(e.sub(e.mul(out, e.idx(stride)), e.idx(pad)),
                   e.mul(tap, e.idx(dilation)));
  Value valid = e.andI(e.cmp(P::sge, in, zero), e.cmp(P::slt, in, size));
  return {in, valid};
}

Value LayerLowering::windowStart(Value out, bool rows) {
  return rows ? e.sub(e.mul(out, e.idx(g.strideY)), e.idx(g.padTop))
              : e.sub(e.mul(out, e.idx(g.strideX)), e.idx(g.padLeft));
}

std::pair<int64_t, int64_t> LayerLowering::insideColumns() const {
  int64_t span = (g.kw - 1) * g.dilationX;
  int64_t first = (g.padLeft + g.strideX - 1) / g.strideX;
  int64_t last = g.iw - 1 - span + g.padLeft; // Largest ox * strideX.
  int64_t end = last < 0 ? 0 : std::min(g.ow, last / g.strideX + 1);
  return {first, std::max(first, end)};
}

Value LayerLowering::windowInside(Value start, bool rows) {
  using P = arith::CmpIPredicate;
  int64_t span = rows ? (g.kh - 1) * g.dilationY : (g.kw - 1) * g.dilationX;
  Value last = e.add(start, e.idx(span));
  return e.andI(e.cmp(P::sge, start, e.idx(0)),
                e.cmp(P::slt, last, e.idx(rows ? g.ih : g.iw)));
}

std::tuple<Value, Value, Value>
LayerLowering::residualAt(Value n, Value y, Value x, Value c0,
                          bool laterRound) {
  Type i32 = b.getI32Type();
  Value xs = e.extS(loadInput(n, y, x, c0), i32);
  auto rType = VectorType::get({lanes()}, rElement());
  Value rs = e.extS(vector::LoadOp::create(b, rType, rView,
                                           ValueRange{n, y, x, c0}),
                    i32);
  Value d = e.sub(xs, rs);
  return {d, roundResidual(d, laterRound), rs};
}

Value LayerLowering::magnitudeOf(Value d) {
  return arith::MaxSIOp::create(b, d, e.sub(e.splatLike(d, 0), d));
}

Value LayerLowering::roundResidual(Value d, bool laterRound) {
  return roundMagnitude(magnitudeOf(d), laterRound);
}

Value LayerLowering::roundMagnitude(Value magnitude, bool laterRound) {
  // Round half away from zero: (|D| + floor(s/2)) div s. A later round
  // rounds half toward zero, (|D| + floor((s-1)/2)) div s: after a round
  // |D| <= s/2 wherever it did not clamp, and those pixels must stay.
  int64_t s = residual.getStep();
  int64_t half = laterRound ? (s - 1) / 2 : s / 2;
  if (half)
    magnitude = e.add(magnitude, e.splatLike(magnitude, half));
  return arith::DivUIOp::create(b, magnitude, e.splatLike(magnitude, s));
}

std::pair<Value, Value>
LayerLowering::quantizeResidual(Value d, Value rounded, Value rs) {
  using P = arith::CmpIPredicate;
  int64_t range =
      largestCode(std::min<int64_t>(residual.getMaxBits(), kCodeBits));
  Value clamped = arith::MinUIOp::create(b, rounded, e.splatLike(d, range));
  Value zero = e.splatLike(d, 0);
  Value q = e.select(e.cmp(P::slt, d, zero), e.sub(zero, clamped), clamped);
  Value updated = e.add(rs, e.mul(q, e.splatLike(d, residual.getStep())));
  return {q, updated};
}

/// Per-pixel largest |D| of kLanes pixels, as one vector: lane i holds
/// the largest lane of `pixels[i]`. Pairs of vectors are merged level by
/// level, each keeping the larger of the two halves of every pixel's
/// lanes (two shuffles and a max per pair), so that 16 pixels take 45
/// vector ops instead of a 16-lane reduction each.
static Value largestPerPixel(ImplicitLocOpBuilder &b,
                             SmallVector<Value> vectors) {
  int64_t lanes = kLanes;      // lanes per pixel in each vector
  int64_t perVector = 1;       // pixels per vector
  while (vectors.size() > 1) {
    SmallVector<Value> next;
    int64_t half = lanes / 2;
    SmallVector<int64_t> lo, hi;
    for (int64_t from = 0; from < 2; ++from)
      for (int64_t p = 0; p < perVector; ++p)
        for (int64_t l = 0; l < half; ++l) {
          lo.push_back(from * kLanes + p * lanes + l);
          hi.push_back(from * kLanes + p * lanes + half + l);
        }
    for (size_t i = 0; i + 1 < vectors.size(); i += 2) {
      Value a = vectors[i], c = vectors[i + 1];
      next.push_back(arith::MaxUIOp::create(
          b, vector::ShuffleOp::create(b, a, c, lo),
          vector::ShuffleOp::create(b, a, c, hi)));
    }
    vectors = next;
    lanes = half;
    perVector *= 2;
  }
  return vectors[0];
}

/// A residual frame's first pass over the layer's input: per block, the
/// largest rounded residual picks the bit-width (Dynamic ResQ). Blocks are
/// counted per width; when too many need the widest, the scene-cut rule
/// makes this a keyframe, and dense-above sends the rest of the frame down
/// the keyframe path. The pass only reads: where nothing changed, nothing
/// is written (the quantization follows in a second pass, see
/// emitResidualOrKeyframe).
void LayerLowering::emitBlockWidths(Value n, Value by, bool laterRound) {
  using P = arith::CmpIPredicate;
  int64_t bs = residual.getBlock();
  // Lane-wise maxima over a block's pixels and channels of f(pixel, c0).
  auto blockMaxima = [&](Value bx, auto f) -> Value {
    auto [y0, y1] = pixelRowsOf(by);
    Value x0 = e.mul(bx, e.idx(bs));
    Value x1 = e.minS(e.add(x0, e.idx(bs)), e.idx(g.iw));
    return e.loop(y0, y1, {e.splatI32(0, lanes())},
                  [&](Value y, ValueRange my) {
      return e.loop(x0, x1, {my[0]}, [&](Value x, ValueRange mx) {
        return e.loop(e.idx(0), e.idx(st.channels / lanes()), {mx[0]},
                      [&](Value cb, ValueRange mc) {
          Value v = f(y, x, e.mul(cb, e.idx(lanes())));
          return SmallVector<Value>{arith::MaxUIOp::create(b, mc[0], v)};
        });
      });
    })[0];
  };
  // Blocks of one pixel (the default), 16 channels per vector: the widths
  // of kLanes pixels at a time from a vector of their largest |D|, rounded
  // (rounding is monotonic: the largest rounded residual is the largest
  // residual rounded) and compared with each allowed width's range, stored
  // as one vector. A reduction, a table lookup and a byte store per pixel
  // made this pass as costly as the quantization.
  // Only rows of 64 pixels or more: the code is compile time in every
  // layer, the gain in the wide ones.
  int64_t chunks = 0;
  if (!laterRound && bs == 1 && lanes() == kLanes && st.blocksX >= 64)
    chunks = st.blocksX / kLanes;
  if (chunks > 0) {
    e.loop(0, chunks, [&](Value k) {
      Value bx0 = e.mul(k, e.idx(kLanes));
      // One loop over the channels for all kLanes pixels (a loop per pixel
      // took pose's resq-compile from 18 to 23 s).
      SmallVector<Value> zeros(kLanes, e.splatI32(0));
      SmallVector<Value> maxima = e.loop(
          e.idx(0), e.idx(st.channels / kLanes), zeros,
          [&](Value cb, ValueRange in) {
        SmallVector<Value> out;
        for (int64_t i = 0; i < kLanes; ++i) {
          Value d = std::get<0>(residualAt(n, by, e.add(bx0, e.idx(i)),
                                           e.mul(cb, e.idx(kLanes)),
                                           /*laterRound=*/false));
          out.push_back(arith::MaxUIOp::create(b, in[i], magnitudeOf(d)));
        }
        return out;
      });
      Value m =
          roundMagnitude(largestPerPixel(b, maxima), /*laterRound=*/false);
      ArrayRef<int64_t> widths = residual.getBits();
      Value width = e.splatI32(widths.back());
      for (int64_t w : llvm::reverse(widths.drop_back()))
        width = e.select(e.cmp(P::ule, m, e.splatI32(largestCode(w))),
                         e.splatI32(w), width);
      vector::StoreOp::create(b, e.trunc(width, b.getI8Type()), bitsView,
                              ValueRange{n, by, bx0});
    });
  }
  e.loop(e.idx(chunks * kLanes), e.idx(st.blocksX), [&](Value bx) {
    // Lane-wise maxima of the rounded residuals, reduced across lanes once
    // per block.
    Value maxima = blockMaxima(bx, [&](Value y, Value x, Value c0) {
      return std::get<1>(residualAt(n, y, x, c0, laterRound));
    });
    Value m =
        vector::ReductionOp::create(b, vector::CombiningKind::MAXUI, maxima);
    Value width;
    if (laterRound) {
      // What is left of a clamped residual: 0 where nothing is, 9 where a
      // byte code still cannot hold it (another round), 8 otherwise.
      width = e.select(
          e.cmp(P::eq, m, e.i32(0)), e.i8(0),
          e.select(e.cmp(P::ugt, m, e.i32(largestCode(kCodeBits))),
                   e.i8(kMaxBitWidth), e.i8(kCodeBits)));
    } else {
      Value capped = arith::MinUIOp::create(b, m, e.i32(255));
      width = e.load(widthTable, ValueRange{e.toIndex(capped)});
    }
    e.store(width, bitsView, ValueRange{n, by, bx});
  });
}

void LayerLowering::emitResidualQuantization(Value key) {
  using P = arith::CmpIPredicate;
  ArrayRef<int64_t> widths = residual.getBits();
  int64_t bs = residual.getBlock();
  // The statistics count the MACs of the taps that read a changed block:
  // per block, the (output pixel, tap) pairs that read it, a product of
  // its rows' and columns' uses, which the compiler tabulates.
  // A row's sums run in i32 lanes (twice as many per vector as i64) when
  // they cannot overflow: the widest width times all of a row's uses.
  int64_t rowTotal = 0;
  for (int64_t u : g.inputUses(/*rows=*/false))
    rowTotal += u;
  Type count = kMaxBitWidth * std::max(rowTotal, st.blocksX) <
                       std::numeric_limits<int32_t>::max()
                   ? b.getI32Type()
                   : b.getI64Type();
  auto blockUses = [&](bool rows, StringRef name, Type type) {
    std::vector<int64_t> uses = g.inputUses(rows);
    SmallVector<int64_t> perBlock((uses.size() + bs - 1) / bs, 0);
    for (size_t i = 0; i < uses.size(); ++i)
      perBlock[i / bs] += uses[i];
    auto tensor = RankedTensorType::get({int64_t(perBlock.size())}, type);
    SmallVector<APInt> values;
    for (int64_t u : perBlock)
      values.push_back(APInt(type.getIntOrFloatBitWidth(), u));
    return global(name, DenseElementsAttr::get(tensor, values));
  };
  Value rowUses = blockUses(true, "block_row_uses", b.getI64Type());
  Value columnUses = blockUses(false, "block_column_uses", count);
  // The bit-width of every largest rounded residual m, tabulated: the
  // smallest allowed width whose range 2^(b-1) - 1 holds m, else the widest.
  // m is capped at 255, which already needs 9 bits (the widest, as any
  // larger m). One load per block instead of a compare and select per
  // allowed width.
  SmallVector<int8_t> widthOf(256);
  for (int64_t m = 0; m < 256; ++m) {
    int64_t width = widths.back();
    for (int64_t w : llvm::reverse(widths.drop_back()))
      if (m <= largestCode(w))
        width = w;
    widthOf[m] = static_cast<int8_t>(width);
  }
  widthTable = global(
      "bit_widths",
      DenseElementsAttr::get(RankedTensorType::get({256}, b.getI8Type()),
                             ArrayRef<int8_t>(widthOf)));
  e.ifThen(arith::XOrIOp::create(b, key, arith::ConstantIntOp::create(b, 1, 1)),
           [&] {
    e.loop(0, g.n, [&](Value n) {
      e.rows(0, st.blocksY, parallel, [&](Value by) {
        emitBlockWidths(n, by, /*laterRound=*/false);
        // The row's statistics from its bit-widths, in a loop of its own
        // (it vectorizes): blocks per width, the taps that read a changed
        // block and their bits, added to the totals once per row.
        size_t costAt = widths.size(), changedAt = widths.size() + 2;
        auto countOf = [&](int64_t v) -> Value {
          return arith::ConstantIntOp::create(b, count, v);
        };
        SmallVector<Value> zeros(widths.size() + 2, countOf(0));
        zeros.push_back(e.i8(0));
        Value usesY = e.load(rowUses, ValueRange{by});
        SmallVector<Value> totals = e.loop(
            e.idx(0), e.idx(st.blocksX), zeros,
            [&](Value bx, ValueRange counts) -> SmallVector<Value> {
          Value width = arith::ExtUIOp::create(
              b, count, e.load(bitsView, ValueRange{n, by, bx}));
          SmallVector<Value> next;
          for (auto [i, w] : llvm::enumerate(widths))
            next.push_back(e.add(
                counts[i], arith::ExtUIOp::create(
                               b, count, e.cmp(P::eq, width, countOf(w)))));
          Value uses = e.load(columnUses, ValueRange{bx});
          next.push_back(e.add(counts[costAt],
                               e.select(e.cmp(P::ne, width, countOf(0)), uses,
                                        countOf(0))));
          next.push_back(e.add(counts[costAt + 1], e.mul(width, uses)));
          next.push_back(arith::OrIOp::create(
              b, counts[changedAt], e.load(bitsView, ValueRange{n, by, bx})));
          return next;
        });
        e.store(totals[changedAt], changedRows, ValueRange{n, by});
        auto total = [&](size_t i) -> Value {
          return count.isInteger(64)
                     ? totals[i]
                     : arith::ExtUIOp::create(b, b.getI64Type(), totals[i]);
        };
        for (auto [i, w] : llvm::enumerate(widths))
          e.addToSlot(stats, kStatHist + w, total(i), parallel);
        // BOPs: activation bits x 8 weight bits per executed MAC.
        Value macsPerTap = e.mul(usesY, e.i64(g.macsPerTap()));
        e.addToSlot(stats, kStatMacs, e.mul(total(costAt), macsPerTap),
                    parallel);
        e.addToSlot(stats, kStatBops,
                    e.mul(total(costAt + 1), e.mul(macsPerTap, e.i64(8))),
                    parallel);
      });
    });
    if (residual.isDynamic() && residual.getSceneCutFraction() < 1.0) {
      int64_t threshold = static_cast<int64_t>(
          residual.getSceneCutFraction() * g.n * st.numBlocks());
      Value widest = e.load(stats, e.idx(kStatHist + widths.back()));
      e.ifThen(e.cmp(P::sgt, widest, e.i64(threshold)), [&] {
        e.store(e.i64(1), header, e.idx(kIsKey));
        e.store(e.i64(0), header, e.idx(kSinceKey));
        e.store(e.i64(1), stats, e.idx(kStatSceneCut));
      });
    }
    // Dense above: where most blocks changed, the rest of the frame runs on
    // the keyframe path (see ResidualAttr), which is exact int8 and cheaper.
    if (residual.isDynamic() && residual.getDenseAboveFraction() < 1.0) {
      int64_t total = g.n * st.numBlocks();
      int64_t threshold = static_cast<int64_t>(
          residual.getDenseAboveFraction() * total);
      Value active = e.sub(e.i64(total), e.load(stats, e.idx(kStatHist)));
      e.ifThen(e.cmp(P::sgt, active, e.i64(threshold)),
               [&] { e.store(e.i64(1), header, e.idx(kDenseRest)); });
    }
  });
}

/// 16 channels of a residual frame: Q = clamp(round(D / s)), R += s * Q,
/// and Q is kept for the linear op. The clamp is the widest width's: a block
/// that fits a narrower width has no rounded residual beyond that width's
/// range, so its clamp would change nothing, and a 0-bit block's rounded
/// residuals are all 0 (Q is 0, R stays). That makes Q independent of the
/// width: every pixel is quantized the same way, without a branch or a look
/// at its block; a Q of zeros is what lets the linear op run densely over
/// changed rows. Codes are bytes: a 9-bit block clamps to 8 bits here and
/// takes the rest in later rounds (emitRounds).
void LayerLowering::emitQuantize(Value n, Value y, Value x, Value c0,
                                 bool laterRound) {
  auto [d, rounded, r] = residualAt(n, y, x, c0, laterRound);
  auto [q, updated] = quantizeResidual(d, rounded, r);
  vector::StoreOp::create(b, e.trunc(updated, rElement()), rView,
                          ValueRange{n, y, x, c0});
  storeCodes(e.trunc(q, b.getI8Type()), n, y, x, c0);
}

Value LayerLowering::kernelCodes(Value codes) {
  if (!vnni || isDepthwise())
    return codes;
  return arith::XOrIOp::create(b, codes, e.splatLike(codes, 0x80));
}

void LayerLowering::storeCodes(Value codes, Value n, Value y, Value x,
                               Value c0) {
  vector::StoreOp::create(b, kernelCodes(codes), qView,
                          ValueRange{n, y, x, c0});
}

/// Elements per vector of the quantization over runs of a row.
constexpr int64_t kRunLanes = 32;

void LayerLowering::emitQuantizeRows(Value n, Value by) {
  auto perPixel = [&] {
    forPixelsOfBlockRow(by, [&](Value y, Value x, Value c0) {
      emitQuantize(n, y, x, c0, /*laterRound=*/false);
    });
  };
  int64_t s = residual.getStep();
  int64_t row = g.iw * st.channels;
  // 16 bits hold every value on the way: |D| + s/2 <= 255 + s, and
  // R + s * Q within s/2 of the int8 range.
  bool runs = g.kind != LinearGeometry::Kind::MatMul &&
              g.ic == st.channels && row % kRunLanes == 0 && s <= 200;
  if (!runs)
    return perPixel();
  Value inputContiguous, inputRun;
  std::tie(inputContiguous, inputRun) = inputAsRun();
  auto flat = [&](Value view) -> Value {
    return memref::CollapseShapeOp::create(
        b, view, SmallVector<ReassociationIndices>{{0, 1, 2, 3}});
  };
  e.ifThenElse(
      inputContiguous,
      [&] {
        Value rRun = flat(rView), qRun = flat(qView);
        Type i16 = b.getI16Type();
        auto [y0, y1] = pixelRowsOf(by);
        e.loop(y0, y1, [&](Value y) {
          Value rowAt = e.mul(e.add(e.mul(n, e.idx(g.ih)), y), e.idx(row));
          e.loop(0, row / kRunLanes, [&](Value k) {
            Value at = e.add(rowAt, e.mul(k, e.idx(kRunLanes)));
            // As emitQuantize, in 16-bit lanes.
            Value xs = e.extS(
                vector::LoadOp::create(
                    b, VectorType::get({kRunLanes}, b.getI8Type()), inputRun,
                    ValueRange{at}),
                i16);
            Value r = vector::LoadOp::create(
                b, VectorType::get({kRunLanes}, rElement()), rRun,
                ValueRange{at});
            Value rs = st.rBytes == 2 ? r : e.extS(r, i16);
            Value d = e.sub(xs, rs);
            auto [q, updated] = quantizeResidual(
                d, roundResidual(d, /*laterRound=*/false), rs);
            vector::StoreOp::create(
                b, st.rBytes == 2 ? updated : e.trunc(updated, rElement()),
                rRun, ValueRange{at});
            vector::StoreOp::create(b, kernelCodes(e.trunc(q, b.getI8Type())),
                                    qRun, ValueRange{at});
          });
        });
      },
      perPixel);
}

/// Keyframe: R <- X, and the codes the linear op reads are X itself: a
/// copy in Q (flipped for VNNI, see storeCodes), or, where the kernel
/// reads X (keyframeReadsInput), nothing unless X is not one run.
void LayerLowering::emitKeyframeState() {
  auto overInput = [&](function_ref<void(Value, Value, Value, Value, Value)>
                           body) {
    e.loop(0, g.n, [&](Value n) {
      e.rows(0, g.ih, parallel, [&](Value y) {
        e.loop(0, g.iw, [&](Value x) {
          e.loop(0, st.channels / lanes(), [&](Value cb) {
            Value c0 = e.mul(cb, e.idx(lanes()));
            body(n, y, x, c0, loadInput(n, y, x, c0));
          });
        });
      });
    });
  };
  auto storeR = [&](Value n, Value y, Value x, Value c0, Value xv) {
    vector::StoreOp::create(b, st.rBytes == 1 ? xv : e.extS(xv, rElement()),
                            rView, ValueRange{n, y, x, c0});
  };
  if (!keyframeReadsInput()) {
    overInput([&](Value n, Value y, Value x, Value c0, Value xv) {
      if (!st.keyframeOnly)
        storeR(n, y, x, c0, xv);
      storeCodes(xv, n, y, x, c0);
    });
    return;
  }
  if (!st.keyframeOnly)
    overInput(storeR);
  // The kernel reads X; a copy in X's layout only where X is not one run.
  e.ifThen(e.cmp(arith::CmpIPredicate::eq, inputAsRun().first,
                 arith::ConstantIntOp::create(b, 0, 1)),
           [&] {
    Value copy = memref::ViewOp::create(
        b, MemRefType::get({g.n, g.ih, g.iw, g.ic}, b.getI8Type()),
        codesBuffer, e.idx(0), ValueRange{});
    overInput([&](Value n, Value y, Value x, Value c0, Value xv) {
      vector::TransferWriteOp::create(b, xv, copy, ValueRange{n, y, x, c0},
                                      ArrayRef<bool>{g.ic % lanes() == 0});
    });
  });
}

/// The window of one output pixel: runs `tapBody(acc, iy, ix, tap)` for
/// every tap inside the input and, on a residual frame, reading a block
/// whose bit-width is not 0; returns the 16-lane accumulator.
std::pair<Value, Value> LayerLowering::weightBatchOffsets(Value n) {
  if (!weightBatchStride)
    return {e.idx(0), e.idx(0)};
  return {e.mul(n, e.idx(weightBatchStride)),
          e.mul(n, e.idx(weightSumBatchStride))};
}

Value LayerLowering::vnniCodes(bool keyframe, Value n, Value y, Value x,
                               Value c4) {
  auto v64 = VectorType::get({64}, b.getI8Type());
  if (!keyframe || !keyframeReadsInput()) {
    Value quad = e.load(q32View, ValueRange{n, y, x, c4});
    return vector::BitCastOp::create(b, v64, e.splat(quad));
  }
  Value at = e.add(runPixel(n, y, x), e.mul(c4, e.idx(4)));
  Value quad = vector::LoadOp::create(b, VectorType::get({4}, b.getI8Type()),
                                      keyframeCodes, ValueRange{at});
  Value word = vector::BitCastOp::create(
      b, VectorType::get({1}, b.getI32Type()), quad);
  Value words = vector::BroadcastOp::create(
      b, VectorType::get({kLanes}, b.getI32Type()), word);
  // The sign bits of all four codes flipped (code + 128): one vector op per
  // broadcast, where a copy into Q moved X twice more through memory.
  return vector::BitCastOp::create(b, v64, flipSigns(words));
}

Value LayerLowering::vnniCorrection(bool keyframe, Value sBatch, Value ocb,
                                    Value tap) {
  int64_t taps = g.kh * g.kw;
  Value sumAt = e.add(
      e.mul(e.add(e.mul(ocb, e.idx(taps)), tap), e.idx(kLanes)), sBatch);
  Value sums = vector::LoadOp::create(
      b, VectorType::get({kLanes}, b.getI32Type()), weightSums,
      ValueRange{sumAt});
  return e.mul(sums, e.splatI32(128 + (keyframe ? inputZp : 0)));
}

void LayerLowering::writeAccumulator(bool keyframe, ArrayRef<Value> at,
                                     Value c0, Value acc, bool biased) {
  auto v16i32 = VectorType::get({kLanes}, b.getI32Type());
  bool inBounds = g.oc % kLanes == 0;
  // With fewer than 16 output channels (pose's 8, selfie's last layer's
  // 4) a pixel of A is narrower than a vector: a masked access of 16 lanes
  // spans the next pixel, whose load then waits for the masked store to
  // retire (the CPU does not forward it). Such a layer's pixels are read
  // and written as vectors of exactly their channels.
  int64_t lanes = kLanes;
  auto narrow = [&](Value v) -> Value {
    if (lanes == kLanes)
      return v;
    return vector::ExtractStridedSliceOp::create(
        b, v, ArrayRef<int64_t>{0}, ArrayRef<int64_t>{lanes},
        ArrayRef<int64_t>{1});
  };
  if (g.oc < kLanes) {
    lanes = g.oc;
    inBounds = true;
  }
  auto type = VectorType::get({lanes}, b.getI32Type());
  Value result;
  if (keyframe) {
    result = narrow(biased ? acc
                           : e.add(acc, vector::LoadOp::create(
                                            b, v16i32, bias, ValueRange{c0})));
  } else {
    Value old = vector::TransferReadOp::create(b, type, aView, at, e.i32(0),
                                               ArrayRef<bool>{inBounds});
    result =
        e.add(old, narrow(e.mul(acc, e.splatI32(residual.getStep()))));
  }
  vector::TransferWriteOp::create(b, result, aView, at,
                                  ArrayRef<bool>{inBounds});
}

SmallVector<Value> LayerLowering::emitTapLoop(
    Value oy, Value ox, int64_t count,
    function_ref<SmallVector<Value>(ValueRange, Value, Value, Value)>
        tapBody) {
  SmallVector<Value> accs0(count, e.splatI32(0));
  // Every tap, each checked against the input's bounds (padding).
  auto guardedTaps = [&]() {
    return e.loop(e.idx(0), e.idx(g.kh), accs0, [&](Value ky, ValueRange ay) {
      Value iy, validY;
      std::tie(iy, validY) = tapInput(oy, g.kh, g.strideY, g.dilationY,
                                      g.padTop, g.ih, ky);
      return e.loop(e.idx(0), e.idx(g.kw), ay, [&](Value kx, ValueRange ax) {
        Value ix, validX;
        std::tie(ix, validX) = tapInput(ox, g.kw, g.strideX, g.dilationX,
                                        g.padLeft, g.iw, kx);
        Value tap = e.add(e.mul(ky, e.idx(g.kw)), kx);
        return e.ifValues(e.andI(validY, validX), ax,
                          [&] { return tapBody(ax, iy, ix, tap); });
      });
    });
  };
  if (g.kind == LinearGeometry::Kind::Transpose || g.kh * g.kw == 1)
    return guardedTaps();
  // A window wholly inside the input (most pixels) needs no check per tap:
  // the loops then have constant bounds and no branch, which LLVM unrolls.
  Value y0 = windowStart(oy, /*rows=*/true);
  Value x0 = windowStart(ox, /*rows=*/false);
  Value inside = e.andI(windowInside(y0, /*rows=*/true),
                        windowInside(x0, /*rows=*/false));
  auto ifOp = scf::IfOp::create(b, ValueRange(accs0).getTypes(), inside,
                                /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  scf::YieldOp::create(
      b, e.loop(e.idx(0), e.idx(g.kh), accs0, [&](Value ky, ValueRange ay) {
        Value iy = e.add(y0, e.mul(ky, e.idx(g.dilationY)));
        return e.loop(e.idx(0), e.idx(g.kw), ay, [&](Value kx, ValueRange ax) {
          Value ix = e.add(x0, e.mul(kx, e.idx(g.dilationX)));
          return tapBody(ax, iy, ix, e.add(e.mul(ky, e.idx(g.kw)), kx));
        });
      }));
  b.setInsertionPointToStart(ifOp.elseBlock());
  scf::YieldOp::create(b, guardedTaps());
  return SmallVector<Value>(ifOp.getResults());
}

/// Dot products of one output pixel and 16 output channels over the taps
/// that read changed blocks (all valid taps on a keyframe).
///   VNNI:     acc += sum_c (V + 128) * W  - 128 * sum_c W   (vpdpbusd)
///   portable: acc += (V - corr) * W        lane by lane
/// with V the codes (X on a keyframe, Q on a residual frame) and the zero
/// point folded into the correction on keyframes.
SmallVector<Value> LayerLowering::emitDenseTaps(bool keyframe, Value n,
                                                Value oy, Value ox, Value ocb0,
                                                int64_t count) {
  Type i32 = b.getI32Type();
  int64_t taps = g.kh * g.kw, ic4 = roundUp(g.ic, 4) / 4;
  int64_t zp = keyframe ? inputZp : 0;
  Value wBatch, sBatch;
  std::tie(wBatch, sBatch) = weightBatchOffsets(n);
  auto v64 = VectorType::get({64}, b.getI8Type());
  auto v16i8 = VectorType::get({kLanes}, b.getI8Type());
  auto v16i32 = VectorType::get({kLanes}, i32);
  // `count` output blocks at once: each input code is loaded once for all
  // of them, and their accumulators are independent chains the CPU
  // overlaps (one chain waits on the previous dot product's latency).
  // With fewer than kMinChains blocks (pose's 3x3 head: one output
  // channel, 18 dot products per pixel in one chain), each block's sum is
  // split over `chains` partial accumulators taken in turn, added at the
  // end: the same integer sum, without the wait on each product.
  int64_t chains =
      vnni ? std::max<int64_t>(1, kMinChains / count) : int64_t(1);
  SmallVector<Value> partial = emitTapLoop(
      oy, ox, count * chains,
      [&](ValueRange accsIn, Value iy, Value ix, Value tap) {
    SmallVector<Value> tapBases;
    for (int64_t j = 0; j < count; ++j) {
      Value ocb = e.add(ocb0, e.idx(j));
      Value base = e.mul(e.add(e.mul(ocb, e.idx(taps)), tap),
                         e.idx(vnni ? ic4 * 64 : g.ic * kLanes));
      tapBases.push_back(e.add(base, wBatch));
    }
    SmallVector<Value> accs;
    if (vnni) {
      // Block j's chains are a[j * chains + i]; each dot product goes to
      // the first and the chains rotate, so the next one goes to another.
      accs = e.loop(e.idx(0), e.idx(ic4), accsIn,
                    [&](Value c4, ValueRange a) {
        Value codes = vnniCodes(keyframe, n, iy, ix, c4);
        SmallVector<Value> next;
        for (int64_t j = 0; j < count; ++j) {
          Value w = vector::LoadOp::create(
              b, v64, weights,
              ValueRange{e.add(tapBases[j], e.mul(c4, e.idx(64)))});
          for (int64_t i = 1; i < chains; ++i)
            next.push_back(a[j * chains + i]);
          next.push_back(
              DotBytesOp::create(b, v16i32, a[j * chains], codes, w));
        }
        return next;
      });
      for (int64_t j = 0; j < count; ++j)
        accs[j * chains] =
            e.sub(accs[j * chains],
                  vnniCorrection(keyframe, sBatch, e.add(ocb0, e.idx(j)),
                                 tap));
    } else {
      accs = e.loop(e.idx(0), e.idx(g.ic), accsIn,
                    [&](Value c, ValueRange a) {
        Value code = e.extS(e.load(qView, ValueRange{n, iy, ix, c}), i32);
        Value v = e.splat(e.sub(code, e.i32(zp)));
        SmallVector<Value> next;
        for (int64_t j = 0; j < count; ++j) {
          Value w = e.extS(
              vector::LoadOp::create(
                  b, v16i8, weights,
                  ValueRange{e.add(tapBases[j], e.mul(c, e.idx(kLanes)))}),
              i32);
          next.push_back(e.add(a[j], e.mul(v, w)));
        }
        return next;
      });
    }
    return accs;
  });
  SmallVector<Value> sums;
  for (int64_t j = 0; j < count; ++j) {
    Value sum = partial[j * chains];
    for (int64_t i = 1; i < chains; ++i)
      sum = e.add(sum, partial[j * chains + i]);
    sums.push_back(sum);
  }
  return sums;
}

Value LayerLowering::depthwiseCodes(bool keyframe, Value n, Value y, Value x,
                                    Value c0) {
  auto v16i8 = VectorType::get({kLanes}, b.getI8Type());
  return centered(keyframe, vector::LoadOp::create(b, v16i8, qView,
                                                   ValueRange{n, y, x, c0}));
}

Value LayerLowering::centered(bool keyframe, Value codes) {
  // |code - zero point| <= 255: the lower 16-bit word of each lane.
  return e.sub(e.extS(codes, b.getI32Type()),
               e.splatI32(keyframe ? inputZp : 0));
}

Value LayerLowering::depthwiseDot(Value acc, Value codes, Value tap,
                                  Value c0) {
  Type i32 = b.getI32Type();
  Value at = e.add(e.mul(tap, e.idx(roundUp(g.oc, kLanes))), c0);
  if (vnni) {
    auto v32i16 = VectorType::get({2 * kLanes}, b.getI16Type());
    Value w = vector::LoadOp::create(b, VectorType::get({kLanes}, i32),
                                     weights, ValueRange{at});
    return DotWordsOp::create(b, acc.getType(), acc,
                              vector::BitCastOp::create(b, v32i16, codes),
                              vector::BitCastOp::create(b, v32i16, w));
  }
  auto v16i8 = VectorType::get({kLanes}, b.getI8Type());
  Value w =
      e.extS(vector::LoadOp::create(b, v16i8, weights, ValueRange{at}), i32);
  return e.add(acc, e.mul(codes, w));
}

/// Depthwise: lanes are output channels c * M + m, each reading its own
/// input channel; no reduction over channels.
Value LayerLowering::emitDepthwiseTaps(bool keyframe, Value n, Value oy,
                                       Value ox, Value cb) {
  Type i32 = b.getI32Type();
  auto v16i8 = VectorType::get({kLanes}, b.getI8Type());
  Value c0 = e.mul(cb, e.idx(kLanes));
  return emitTapLoop(oy, ox, 1, [&](ValueRange accs, Value iy, Value ix,
                                    Value tap) -> SmallVector<Value> {
    if (g.multiplier == 1)
      return {depthwiseDot(accs[0], depthwiseCodes(keyframe, n, iy, ix, c0),
                           tap, c0)};
    auto v16i32 = VectorType::get({kLanes}, i32);
    Value channels =
        vector::LoadOp::create(b, v16i32, channelOf, ValueRange{c0});
    auto maskType = VectorType::get({kLanes}, b.getI1Type());
    Value mask = arith::ConstantOp::create(
        b, DenseElementsAttr::get(maskType, true));
    Value pass = vector::BroadcastOp::create(
        b, v16i8, arith::ConstantIntOp::create(b, 0, 8));
    Value codes = vector::GatherOp::create(
        b, v16i8, qView, ValueRange{n, iy, ix, e.idx(0)}, channels, mask,
        pass);
    return {depthwiseDot(accs[0], centered(keyframe, codes), tap, c0)};
  })[0];
}

void LayerLowering::emitDepthwiseRow(bool keyframe, Value n, Value oy) {
  constexpr int64_t kPixels = 4;
  auto pixels = [&](int64_t from, int64_t to) {
    e.loop(from, to, [&](Value ox) { emitOutputPixel(keyframe, n, oy, ox); });
  };
  int64_t xLo, xHi;
  std::tie(xLo, xHi) = insideColumns();
  int64_t chunks = (xHi - xLo) / kPixels;
  // Keyframes only (dense-above layers included): chunks on the residual
  // path too took pose's resq-compile from 17 to 20 s for little gain.
  if (g.multiplier != 1 || chunks == 0 || !keyframe)
    return pixels(0, g.ow);
  e.ifThenElse(
      windowInside(windowStart(oy, /*rows=*/true), /*rows=*/true),
      [&] {
        pixels(0, xLo);
        e.loop(0, chunks, [&](Value k) {
          emitDepthwiseChunk(n, oy,
                             e.add(e.idx(xLo), e.mul(k, e.idx(kPixels))),
                             kPixels);
        });
        pixels(xLo + chunks * kPixels, g.ow);
      },
      [&] { pixels(0, g.ow); });
}

/// A keyframe's `pixels` output pixels from (oy, ox0) on, their windows
/// inside the input: each input column a window of the chunk reads is
/// loaded (and widened) once per row of taps and serves every pixel whose
/// window holds it.
void LayerLowering::emitDepthwiseChunk(Value n, Value oy, Value ox0,
                                       int64_t pixels) {
  Value y0 = windowStart(oy, /*rows=*/true);
  Value x0 = windowStart(ox0, /*rows=*/false);
  int64_t columns = (pixels - 1) * g.strideX + (g.kw - 1) * g.dilationX + 1;
  e.loop(0, outBlocks(), [&](Value cb) {
    Value c0 = e.mul(cb, e.idx(kLanes));
    // A loop over the rows of taps (unrolled in C++, pose's depthwise
    // layers took 5 s more to compile); a row's columns unrolled.
    SmallVector<Value> zeros(pixels, e.splatI32(0));
    SmallVector<Value> accs = e.loop(
        e.idx(0), e.idx(g.kh), zeros, [&](Value ky, ValueRange in) {
          SmallVector<Value> acc(in);
          Value iy = e.add(y0, e.mul(ky, e.idx(g.dilationY)));
          SmallVector<Value> column(columns);
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            Value tap = e.add(e.mul(ky, e.idx(g.kw)), e.idx(kx));
            for (int64_t p = 0; p < pixels; ++p) {
              int64_t at = p * g.strideX + kx * g.dilationX;
              // The zero point comes off once per pixel, below.
              if (!column[at])
                column[at] = depthwiseCodes(/*keyframe=*/false, n, iy,
                                            e.add(x0, e.idx(at)), c0);
              acc[p] = depthwiseDot(acc[p], column[at], tap, c0);
            }
          }
          return acc;
        });
    Value zpSums = vector::LoadOp::create(
        b, VectorType::get({kLanes}, b.getI32Type()), weightSums,
        ValueRange{c0});
    for (int64_t p = 0; p < pixels; ++p)
      writeAccumulator(/*keyframe=*/true,
                       accIndices(n, oy, e.add(ox0, e.idx(p)), c0), c0,
                       e.sub(accs[p], zpSums));
  });
}

void LayerLowering::emitOutputPixel(bool keyframe, Value n, Value oy,
                                    Value ox) {
  // Output blocks of 16 channels go in groups (dense layers): see
  // emitDenseTaps.
  int64_t blocks = outBlocks();
  int64_t group = isDepthwise() ? 1 : outputBlockGroup(blocks);
  auto writeGroup = [&](Value ob0, int64_t count) {
    SmallVector<Value> accs;
    if (isDepthwise())
      accs = {emitDepthwiseTaps(keyframe, n, oy, ox, ob0)};
    else
      accs = emitDenseTaps(keyframe, n, oy, ox, ob0, count);
    for (int64_t j = 0; j < count; ++j) {
      Value c0 = e.mul(e.add(ob0, e.idx(j)), e.idx(kLanes));
      writeAccumulator(keyframe, accIndices(n, oy, ox, c0), c0, accs[j]);
    }
  };
  int64_t full = blocks / group, rest = blocks % group;
  e.loop(0, full, [&](Value k) { writeGroup(e.mul(k, e.idx(group)), group); });
  if (rest)
    writeGroup(e.idx(full * group), rest);
}

bool LayerLowering::isPointwise() const {
  return vnni &&
         (g.kind == LinearGeometry::Kind::Conv ||
          g.kind == LinearGeometry::Kind::MatMul) &&
         g.kh == 1 && g.kw == 1 && g.strideY == 1 && g.strideX == 1 &&
         g.padTop == 0 && g.padLeft == 0 && g.ih == g.oh && g.iw == g.ow;
}

void LayerLowering::emitPointwiseChunk(bool keyframe, Value n, Value oy,
                                       Value ox0, int64_t pixels) {
  int64_t ic4 = roundUp(g.ic, 4) / 4, blocks = outBlocks();
  auto v64 = VectorType::get({64}, b.getI8Type());
  auto v16i32 = VectorType::get({kLanes}, b.getI32Type());
  Value wBatch, sBatch;
  std::tie(wBatch, sBatch) = weightBatchOffsets(n);
  // pixels x group accumulators: the codes of a pixel serve every block,
  // the weights of a block every pixel.
  int64_t group = pointwiseGroup(blocks, pixels);
  auto emitGroup = [&](Value ocb0, int64_t count) {
    // Each accumulator starts from what comes off (the correction) and,
    // on a keyframe, what is added (the bias): two vector ops fewer per
    // accumulator, the same sums (modulo 2^32, as before).
    SmallVector<Value> starts, inits;
    for (int64_t j = 0; j < count; ++j) {
      Value ocb = e.add(ocb0, e.idx(j));
      Value correction = vnniCorrection(keyframe, sBatch, ocb, e.idx(0));
      Value base =
          keyframe ? vector::LoadOp::create(b, v16i32, bias,
                                            ValueRange{e.mul(ocb, e.idx(kLanes))})
                   : e.splatI32(0);
      starts.push_back(e.sub(base, correction));
    }
    for (int64_t p = 0; p < pixels; ++p)
      inits.append(starts);
    SmallVector<Value> accs = e.loop(
        e.idx(0), e.idx(ic4), inits, [&](Value c4, ValueRange a) {
          SmallVector<Value> codes, w, next;
          for (int64_t p = 0; p < pixels; ++p)
            codes.push_back(
                vnniCodes(keyframe, n, oy, e.add(ox0, e.idx(p)), c4));
          for (int64_t j = 0; j < count; ++j) {
            Value base = e.add(e.mul(e.add(ocb0, e.idx(j)), e.idx(ic4 * 64)),
                               wBatch);
            w.push_back(vector::LoadOp::create(
                b, v64, weights, ValueRange{e.add(base, e.mul(c4, e.idx(64)))}));
          }
          for (int64_t p = 0; p < pixels; ++p)
            for (int64_t j = 0; j < count; ++j)
              next.push_back(DotBytesOp::create(b, v16i32, a[p * count + j],
                                                codes[p], w[j]));
          return next;
        });
    for (int64_t j = 0; j < count; ++j) {
      Value c0 = e.mul(e.add(ocb0, e.idx(j)), e.idx(kLanes));
      for (int64_t p = 0; p < pixels; ++p)
        writeAccumulator(keyframe,
                         accIndices(n, oy, e.add(ox0, e.idx(p)), c0), c0,
                         accs[p * count + j], /*biased=*/true);
    }
  };
  int64_t full = blocks / group, rest = blocks % group;
  e.loop(0, full, [&](Value k) { emitGroup(e.mul(k, e.idx(group)), group); });
  if (rest)
    emitGroup(e.idx(full * group), rest);
}

void LayerLowering::emitPointwiseRow(bool keyframe, Value n, Value oy) {
  constexpr int64_t kPixels = 4;
  int64_t full = g.ow / kPixels, rest = g.ow % kPixels;
  e.loop(0, full, [&](Value k) {
    emitPointwiseChunk(keyframe, n, oy, e.mul(k, e.idx(kPixels)), kPixels);
  });
  if (rest)
    emitPointwiseChunk(keyframe, n, oy, e.idx(full * kPixels), rest);
}

bool LayerLowering::isPixelLane() const {
  return keyframeReadsInput() && g.kind == LinearGeometry::Kind::Conv &&
         g.oc == 1 && g.strideX == 1 && g.dilationX == 1 &&
         st.channels == g.ic && kLanes % (g.ic / 4) == 0;
}

/// The row's pixels whose windows lie inside the input go in chunks of
/// groups of kLanes / q consecutive pixels (q quads of input channels per
/// pixel), one accumulator per group; the others, and every pixel of a row
/// whose windows leave the input, take the per-pixel path.
void LayerLowering::emitPixelLaneRow(bool keyframe, Value n, Value oy) {
  constexpr int64_t kGroups = 8; // Independent accumulators per chunk.
  int64_t perGroup = kLanes / (g.ic / 4);
  auto pixels = [&](int64_t from, int64_t to) {
    e.loop(from, to,
           [&](Value ox) { emitOutputPixel(keyframe, n, oy, ox); });
  };
  int64_t xLo, xHi;
  std::tie(xLo, xHi) = insideColumns();
  int64_t groups = (xHi - xLo) / perGroup;
  int64_t chunks = groups / kGroups, rest = groups % kGroups;
  if (groups == 0)
    return pixels(0, g.ow);
  e.ifThenElse(
      windowInside(windowStart(oy, /*rows=*/true), /*rows=*/true),
      [&] {
        pixels(0, xLo);
        if (chunks)
          e.loop(0, chunks, [&](Value k) {
            emitPixelLaneChunk(
                keyframe, n, oy,
                e.add(e.idx(xLo), e.mul(k, e.idx(kGroups * perGroup))),
                kGroups);
          });
        if (rest)
          emitPixelLaneChunk(keyframe, n, oy,
                             e.idx(xLo + chunks * kGroups * perGroup), rest);
        pixels(xLo + groups * perGroup, g.ow);
      },
      [&] { pixels(0, g.ow); });
}

/// `groups` x kLanes / q pixels from (oy, ox0) on. For each tap, a group's
/// 64 bytes of codes (its pixels' channels, contiguous: X with the sign
/// bits flipped on a keyframe, Q as stored on a residual frame) go into one
/// vpdpbusd against the tap's weights repeated per pixel: lane p * q + c
/// sums quad c of pixel p. The q lanes of a pixel are then added up and
/// what the +128 (and a keyframe's zero point) added comes off; a keyframe
/// adds the bias, a residual frame adds step x the sum to A: the same
/// integers as the per-pixel path.
void LayerLowering::emitPixelLaneChunk(bool keyframe, Value n, Value oy,
                                       Value ox0, int64_t groups) {
  int64_t q = g.ic / 4, perGroup = kLanes / q;
  auto v64 = VectorType::get({64}, b.getI8Type());
  auto v16i32 = VectorType::get({kLanes}, b.getI32Type());
  Value y0 = windowStart(oy, /*rows=*/true);
  Value x0 = windowStart(ox0, /*rows=*/false);
  SmallVector<Value> zeros(groups, e.splatI32(0));
  SmallVector<Value> accs = e.loop(
      e.idx(0), e.idx(g.kh), zeros, [&](Value ky, ValueRange in) {
        SmallVector<Value> acc(in);
        Value iy = e.add(y0, e.mul(ky, e.idx(g.dilationY)));
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          Value tap = e.add(e.mul(ky, e.idx(g.kw)), e.idx(kx));
          Value w = vector::LoadOp::create(b, v64, pixelLaneWeights,
                                           ValueRange{e.mul(tap, e.idx(64))});
          for (int64_t k = 0; k < groups; ++k) {
            Value ix = e.add(x0, e.idx(k * perGroup + kx));
            Value codes = vector::LoadOp::create(
                b, v64, keyframe ? keyframeCodes : codesBuffer,
                ValueRange{runPixel(n, iy, ix)});
            if (keyframe)
              codes = vector::BitCastOp::create(
                  b, v64,
                  flipSigns(vector::BitCastOp::create(b, v16i32, codes)));
            acc[k] = DotBytesOp::create(b, v16i32, acc[k], codes, w);
          }
        }
        return acc;
      });
  // A view of A with a row's pixels (one channel each) contiguous.
  Value aRows = memref::CollapseShapeOp::create(
      b, aView, ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
  Value offset = e.splatI32(keyframe ? pixelLaneKeyframeOffset
                                     : pixelLaneResidualOffset);
  for (int64_t k = 0; k < groups; ++k) {
    Value sum = accs[k];
    // Lane p * q holds pixel p's sum after log2(q) rounds of adding the
    // lane `half` above.
    for (int64_t half = q / 2; half >= 1; half /= 2) {
      SmallVector<int64_t> shifted(kLanes);
      for (int64_t l = 0; l < kLanes; ++l)
        shifted[l] = (l + half) % kLanes;
      sum = e.add(sum, vector::ShuffleOp::create(b, sum, sum, shifted));
    }
    sum = e.sub(sum, offset);
    SmallVector<int64_t> firsts;
    for (int64_t p = 0; p < perGroup; ++p)
      firsts.push_back(p * q);
    Value values = perGroup == kLanes
                       ? sum
                       : vector::ShuffleOp::create(b, sum, sum, firsts).getResult();
    SmallVector<Value> indices{n, oy, e.add(ox0, e.idx(k * perGroup))};
    if (!keyframe) {
      auto type = cast<VectorType>(values.getType());
      Value old = vector::LoadOp::create(b, type, aRows, indices);
      values = e.add(old, e.mul(values, e.splatI32(residual.getStep(),
                                                   type.getNumElements())));
    }
    vector::StoreOp::create(b, values, aRows, indices);
  }
}

Value LayerLowering::emitRowChanged(Value n, Value oy) {
  Value none = arith::ConstantIntOp::create(b, 0, 8);
  return e.loop(e.idx(0), e.idx(g.kh), {none}, [&](Value ky, ValueRange any) {
    Value iy, validY;
    std::tie(iy, validY) = tapInput(oy, g.kh, g.strideY, g.dilationY,
                                    g.padTop, g.ih, ky);
    return e.ifValues(validY, any, [&]() -> SmallVector<Value> {
      return {arith::OrIOp::create(
          b, any[0], e.load(changedRows, ValueRange{n, blockOf(iy)}))};
    });
  })[0];
}

void LayerLowering::emitLinear(bool keyframe) {
  e.loop(0, g.n, [&](Value n) {
    e.rows(0, g.oh, parallel, [&](Value oy) {
      auto dense = [&] {
        if (isPointwise())
          return emitPointwiseRow(keyframe, n, oy);
        if (isPixelLane())
          return emitPixelLaneRow(keyframe, n, oy);
        if (isDepthwise())
          return emitDepthwiseRow(keyframe, n, oy);
        e.loop(0, g.ow,
               [&](Value ox) { emitOutputPixel(keyframe, n, oy, ox); });
      };
      if (keyframe)
        return dense();
      // A residual frame skips the rows none of whose taps read a changed
      // block, and runs the others densely: Q is 0 in unchanged blocks, so
      // their pixels add 0 to A, without a branch per pixel or tap.
      e.ifThen(e.cmp(arith::CmpIPredicate::ne, emitRowChanged(n, oy),
                     arith::ConstantIntOp::create(b, 0, 8)),
               [&] { dense(); });
    });
  });
}

/// A keyframe runs the whole layer at 8 bits: every block counts as 8-bit
/// and BOPs are MACs x 8 x 8.
void LayerLowering::emitKeyframeStats() {
  int64_t blocks = g.n * st.numBlocks();
  for (int64_t w = 0; w <= kMaxBitWidth; ++w)
    e.store(e.i64(w == 8 ? blocks : 0), stats, e.idx(kStatHist + w));
  e.store(e.i64(1), stats, e.idx(kStatKeyframe));
  e.store(e.i64(g.denseMacs()), stats, e.idx(kStatMacs));
  e.store(e.i64(g.denseMacs() * 64), stats, e.idx(kStatBops));
}

LogicalResult LayerLowering::lower() {
  if (failed(packConstants()))
    return failure();
  MLIRContext *ctx = b.getContext();
  Type i8 = IntegerType::get(ctx, 8),
       i32 = IntegerType::get(ctx, 32), i64 = IntegerType::get(ctx, 64);

  // X as a memref with whatever layout bufferization gives it.
  auto inputType = cast<RankedTensorType>(op->getOperand(1).getType());
  SmallVector<int64_t> dynStrides(inputType.getRank(), ShapedType::kDynamic);
  auto inputMemref = MemRefType::get(
      inputType.getShape(), i8,
      StridedLayoutAttr::get(ctx, ShapedType::kDynamic, dynStrides));
  input = bufferization::ToBufferOp::create(b, inputMemref, op->getOperand(1),
                                            /*read_only=*/true);

  header = view(0, {kHeaderSlots}, i64);
  SmallVector<int64_t> imageShape = {g.n, g.ih, g.iw, st.channels};
  SmallVector<int64_t> quadShape = {g.n, g.ih, g.iw, st.channels / 4};
  auto accType = cast<RankedTensorType>(op->getResult(0).getType());
  // The codes Q the linear op reads and the blocks' bit-widths live for one
  // layer of one frame: step intermediates, which resq-plan-scratch places
  // in the step's scratch (warm in the cache, unlike the stream state).
  Value codes = memref::AllocOp::create(
      b, MemRefType::get({g.n * g.ih * g.iw * st.channels}, i8));
  codesBuffer = codes;
  qView = memref::ViewOp::create(b, MemRefType::get(imageShape, i8), codes,
                                 e.idx(0), ValueRange{});
  q32View = memref::ViewOp::create(b, MemRefType::get(quadShape, i32), codes,
                                   e.idx(0), ValueRange{});
  if (keyframeReadsInput()) {
    // X itself where it is one run, else its copy in Q (an scf.if, not a
    // select: the scratch planner follows buffers through region yields).
    Value copy = runOf(codes, b.getIndexAttr(0));
    Value isRun, run;
    std::tie(isRun, run) = inputAsRun();
    keyframeCodes = e.ifValues(isRun, {copy}, [&]() -> SmallVector<Value> {
      return {run};
    })[0];
  }
  if (st.keyframeOnly) {
    aView = memref::AllocOp::create(
        b, MemRefType::get(accType.getShape(), i32));
  } else {
    rView = view(st.r, imageShape, rElement());
    bitsView = memref::AllocOp::create(
        b, MemRefType::get({g.n, st.blocksY, st.blocksX}, i8));
    changedRows = memref::AllocOp::create(
        b, MemRefType::get({g.n, st.blocksY}, i8));
    if (residual.getMaxBits() > kCodeBits)
      clampedRows = memref::AllocOp::create(
          b, MemRefType::get({g.n, st.blocksY}, i8));
    aView = view(st.a, accType.getShape(), i32);
  }

  // A layer's statistics start from constants, and a keyframe-only
  // layer's stay constants; no other layer reads them. The step's entry
  // writes these, so that no store sits between two parallel loop nests,
  // where it would cost the threads a barrier (91 of them in pose's
  // standard int8 step).
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(cast<BlockArgument>(stream).getOwner());
    stats = view(st.stats, {kStatSlots}, i64);
    for (int64_t slot = 0; slot < kStatSlots; ++slot)
      e.store(e.i64(0), stats, e.idx(slot));
    e.store(e.i64(g.n * st.numBlocks()), stats, e.idx(kStatBlocks));
    if (st.keyframeOnly)
      emitKeyframeStats();
  }

  if (st.keyframeOnly) {
    emitKeyframeState();
    emitLinear(/*keyframe=*/true);
  } else {
    emitResidualOrKeyframe();
  }

  Value acc = bufferization::ToTensorOp::create(b, accType, aView,
                                                /*restrict=*/true,
                                                /*writable=*/false);
  op->getResult(0).replaceAllUsesWith(acc);
  return success();
}

/// A frame of a stream that keeps residual state: the keyframe path or the
/// residual one, decided at run time.
void LayerLowering::emitResidualOrKeyframe() {
  auto isKey = [&]() {
    return e.cmp(arith::CmpIPredicate::ne,
                 e.orI(e.load(header, e.idx(kIsKey)),
                       e.load(header, e.idx(kDenseRest))),
                 e.i64(0));
  };
  emitResidualQuantization(isKey());
  e.ifThenElse(
      isKey(),
      [&] {
        emitKeyframeState();
        emitLinear(/*keyframe=*/true);
        emitKeyframeStats();
      },
      [&] {
        // A layer whose every block is 0-bit has nothing to do.
        Value skipped = e.load(stats, e.idx(kStatHist));
        Value allSkipped = e.cmp(arith::CmpIPredicate::eq, skipped,
                                 e.i64(g.n * st.numBlocks()));
        e.ifThen(arith::XOrIOp::create(b, allSkipped,
                                       arith::ConstantIntOp::create(b, 1, 1)),
                 [&] {
          // Rows of blocks where something changed are quantized; rows
          // without a change only need Q = 0 where the linear op reads
          // them (its rows whose taps read a changed row), and are
          // otherwise not touched: not X, nor R, nor Q.
          e.loop(0, g.n, [&](Value n) {
            e.rows(0, st.blocksY, parallel, [&](Value by) {
              Value changed = e.cmp(arith::CmpIPredicate::ne,
                                    e.load(changedRows, ValueRange{n, by}),
                                    e.i8(0));
              e.ifThenElse(
                  changed,
                  [&] { emitQuantizeRows(n, by); },
                  [&] { emitZeroCodesNear(n, by, changedRows); });
            });
          });
          emitRounds();
        });
      });
}

/// The linear op on the codes Q, and for a 9-bit block's residual beyond
/// the 127 of a byte code, further rounds: the layer repeats its residual
/// update (block widths, quantization, linear op) against the R the last
/// round left, while some block still needs more than 8 bits. Every round
/// runs the same linear op code (one copy per layer: compile time), its
/// row loops forking for the threads (resq.fork_each). Pixels that did not
/// clamp are within s/2 of X and round to 0 (half toward zero), so only the
/// rest of a clamped residual moves; with an odd step every pixel ends
/// where the unclamped 9-bit Q puts it. The statistics stay the first
/// round's: the block counts once, at 9 bits.
void LayerLowering::emitRounds() {
  using P = arith::CmpIPredicate;
  if (residual.getMaxBits() <= kCodeBits)
    return emitLinear(/*keyframe=*/false);
  // The largest rounded residual a step allows: |D| <= 255 + floor(s/2)
  // (R may leave the int8 range by s/2); each round takes 127 of it.
  int64_t s = residual.getStep();
  int64_t largest = (255 + 2 * (s / 2)) / s;
  int64_t rounds =
      (largest + largestCode(kCodeBits) - 1) / largestCode(kCodeBits);
  if (rounds < 2)
    return emitLinear(/*keyframe=*/false);
  // The first round's 9-bit blocks (all of them a static 9-bit layer's,
  // which then runs one round more than it needs).
  e.store(e.load(stats, e.idx(kStatHist + kMaxBitWidth)), stats,
          e.idx(kStatRoundsLeft));
  e.loop(0, rounds, [&](Value round) {
    // The rounds' row loops are the layer's: they fork like any other.
    cast<BlockArgument>(round).getOwner()->getParentOp()->setAttr(
        resq::kForkEachIterationAttr, b.getUnitAttr());
    Value first = e.cmp(P::eq, round, e.idx(0));
    Value left = e.load(stats, e.idx(kStatRoundsLeft));
    e.ifThen(e.orI(first, e.cmp(P::ne, left, e.i64(0))), [&] {
      e.ifThen(arith::XOrIOp::create(b, first,
                                     arith::ConstantIntOp::create(b, 1, 1)),
               [&] { emitLaterQuantization(); });
      emitLinear(/*keyframe=*/false);
    });
  });
}

/// A later round's block widths and codes: only rows of blocks that
/// clamped in the last round are quantized again (rounding half toward
/// zero), and only they are the round's changed rows; the others keep
/// their widths (none of them 9) and get Q = 0 where an output row's taps
/// read them together with a clamped row.
void LayerLowering::emitLaterQuantization() {
  using P = arith::CmpIPredicate;
  e.store(e.i64(0), stats, e.idx(kStatRoundsLeft));
  // Blocks of row `by` that need 9 bits (more than a byte code holds).
  auto clampedIn = [&](Value n, Value by) {
    return e.loop(e.idx(0), e.idx(st.blocksX), {e.i64(0)},
                  [&](Value bx, ValueRange count) -> SmallVector<Value> {
      Value width = e.load(bitsView, ValueRange{n, by, bx});
      return {e.add(count[0],
                    arith::ExtUIOp::create(
                        b, b.getI64Type(),
                        e.cmp(P::eq, width, e.i8(kMaxBitWidth))))};
    })[0];
  };
  e.loop(0, g.n, [&](Value n) {
    // First which rows of blocks clamped in the last round, so that
    // the second pass reads flags no other row rewrites.
    e.rows(0, st.blocksY, parallel, [&](Value by) {
      Value any = arith::ExtUIOp::create(
          b, b.getI8Type(), e.cmp(P::ne, clampedIn(n, by), e.i64(0)));
      e.store(any, clampedRows, ValueRange{n, by});
    });
    e.rows(0, st.blocksY, parallel, [&](Value by) {
      Value clamped = e.cmp(P::ne, e.load(clampedRows, ValueRange{n, by}),
                            e.i8(0));
      // Only rows of blocks that clamped have anything left.
      e.ifThenElse(
          clamped,
          [&] {
            emitBlockWidths(n, by, /*laterRound=*/true);
            e.addToSlot(stats, kStatRoundsLeft, clampedIn(n, by), parallel);
            forPixelsOfBlockRow(by, [&](Value y, Value x, Value c0) {
              emitQuantize(n, y, x, c0, /*laterRound=*/true);
            });
          },
          [&] { emitZeroCodesNear(n, by, clampedRows); });
      // The round's changed rows: the clamped ones (each has a block left
      // with more than 8 bits), for the linear op.
      e.store(e.load(clampedRows, ValueRange{n, by}), changedRows,
              ValueRange{n, by});
    });
  });
}

std::pair<Value, Value> LayerLowering::pixelRowsOf(Value by) {
  int64_t bs = residual.getBlock();
  Value y0 = e.mul(by, e.idx(bs));
  return {y0, e.minS(e.add(y0, e.idx(bs)), e.idx(g.ih))};
}

void LayerLowering::forPixelsOfBlockRow(
    Value by, function_ref<void(Value, Value, Value)> body) {
  auto [y0, y1] = pixelRowsOf(by);
  e.loop(y0, y1, [&](Value y) {
    e.loop(e.idx(0), e.idx(g.iw), [&](Value x) {
      e.loop(0, st.channels / lanes(), [&](Value cb) {
        body(y, x, e.mul(cb, e.idx(lanes())));
      });
    });
  });
}

void LayerLowering::emitZeroCodesNear(Value n, Value by, Value rows) {
  using P = arith::CmpIPredicate;
  // Rows of blocks within this many of a flagged one share an output
  // row's taps with it.
  int64_t span = (g.kh - 1) * g.dilationY;
  int64_t bs = residual.getBlock();
  int64_t reach = (span + bs - 1) / bs;
  if (reach == 0)
    return;
  Value lo = arith::MaxSIOp::create(b, e.sub(by, e.idx(reach)), e.idx(0));
  Value hi = e.minS(e.add(by, e.idx(reach + 1)), e.idx(st.blocksY));
  Value near = e.loop(lo, hi, {e.i8(0)},
                      [&](Value r, ValueRange acc) -> SmallVector<Value> {
    return {arith::OrIOp::create(b, acc[0], e.load(rows, ValueRange{n, r}))};
  })[0];
  Value zeros = e.splat(e.i8(0), lanes());
  e.ifThen(e.cmp(P::ne, near, e.i8(0)), [&] {
    forPixelsOfBlockRow(by, [&](Value y, Value x, Value c0) {
      storeCodes(zeros, n, y, x, c0);
    });
  });
}

/// The keyframe decision at the start of a frame (RESQ-SEMANTICS.md,
/// "Keyframe"): first frame, caller's request, or keyframe interval.
void lowerBeginFrame(ImplicitLocOpBuilder &b, BeginFrameOp op, Value stream) {
  using P = arith::CmpIPredicate;
  Emitter e(b);
  auto type = MemRefType::get({kHeaderSlots}, b.getI64Type());
  Value header =
      memref::ViewOp::create(b, type, stream, e.idx(0), ValueRange{});
  Value frames = e.load(header, e.idx(kFrames));
  Value since = e.add(e.load(header, e.idx(kSinceKey)), e.i64(1));
  Value force = e.load(header, e.idx(kForceKey));
  Value key =
      e.orI(e.cmp(P::eq, frames, e.i64(0)), e.cmp(P::ne, force, e.i64(0)));
  int64_t interval = op.getKeyframeInterval();
  if (interval > 0)
    key = e.orI(key, e.cmp(P::sge, since, e.i64(interval)));
  e.store(e.select(key, e.i64(0), since), header, e.idx(kSinceKey));
  e.store(arith::ExtUIOp::create(b, b.getI64Type(), key), header,
          e.idx(kIsKey));
  e.store(e.i64(0), header, e.idx(kForceKey));
  e.store(e.i64(0), header, e.idx(kDenseRest));
  e.store(e.add(frames, e.i64(1)), header, e.idx(kFrames));
}

struct LowerStreamPass
    : public resq::impl::ResQLowerStreamBase<LowerStreamPass> {
  using ResQLowerStreamBase::ResQLowerStreamBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (targetCpu != "native" && targetCpu != "x86-64" &&
        llvm::X86::parseArchX86(targetCpu) == llvm::X86::CK_None) {
      module.emitError() << "resq-lower-stream: unknown target-cpu '"
                         << targetCpu << "' (an LLVM x86 CPU name or 'native')";
      return signalPassFailure();
    }
    bool vnni = cpuHasAvx512Vnni(targetCpu);

    // One ABI for every step function: C-compatible memref descriptors.
    // The tensors' names (resq.name from the importer) have served their
    // purpose by now; LLVM would only warn about them.
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isPublic() && !func.isExternal())
        func->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
      for (unsigned i = 0; i < func.getNumArguments(); ++i)
        func.removeArgAttr(i, "resq.name");
      for (unsigned i = 0; i < func.getNumResults(); ++i)
        func.removeResultAttr(i, StringAttr::get(ctx, "resq.name"));
    }

    SmallVector<func::FuncOp> steps;
    for (auto func : module.getOps<func::FuncOp>())
      if (func.getNumArguments() > 0 &&
          isa<StreamType>(func.getArgument(0).getType()))
        steps.push_back(func);
    WalkResult stray = module.walk([&](Operation *op) {
      if (!isResidualLinearOp(op) && !isa<BeginFrameOp>(op))
        return WalkResult::advance();
      auto func = op->getParentOfType<func::FuncOp>();
      if (!func || !llvm::is_contained(steps, func) ||
          op->getOperand(0) != func.getArgument(0)) {
        op->emitError() << "resq-lower-stream: op must use the stream "
                           "argument of its step function";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (stray.wasInterrupted())
      return signalPassFailure();
    if (steps.empty())
      return; // A standard int8 graph: nothing stateful to lower.
    if (steps.size() > 1) {
      steps[1].emitError() << "resq-lower-stream: a module holds one step "
                              "function";
      return signalPassFailure();
    }
    if (failed(lowerStep(steps.front(), vnni)))
      return signalPassFailure();
  }

  LogicalResult lowerStep(func::FuncOp func, bool vnni) {
    MLIRContext *ctx = &getContext();
    ModuleOp module = getOperation();
    SymbolTable symbols(module);

    // Lay out the stream state: header, then each layer's regions.
    SmallVector<Operation *> layers;
    func.walk([&](Operation *op) {
      if (isResidualLinearOp(op))
        layers.push_back(op);
    });
    SmallVector<BeginFrameOp> begins;
    func.walk([&](BeginFrameOp op) { begins.push_back(op); });
    bool keyframeOnly =
        !begins.empty() && llvm::all_of(begins, [](BeginFrameOp op) {
          return op.getKeyframeInterval() == 1;
        });
    int64_t offset = kHeaderSlots * 8;
    auto allocate = [&](int64_t bytes) {
      int64_t at = roundUp(offset, kAlign);
      offset = at + bytes;
      return at;
    };
    SmallVector<LayerState> states;
    SmallVector<Attribute> layerInfo;
    Builder builder(ctx);
    for (Operation *op : layers) {
      LinearGeometry g = getLinearGeometry(op);
      int64_t bs = getResidual(op).getBlock();
      LayerState st;
      st.channels = paddedChannels(g);
      st.blocksY = (g.ih + bs - 1) / bs;
      st.blocksX = (g.iw + bs - 1) / bs;
      int64_t pixels = g.n * g.ih * g.iw;
      auto accType = cast<RankedTensorType>(op->getResult(0).getType());
      st.stats = allocate(kStatSlots * 8);
      // A standard layer runs like a keyframe-only stream's layers.
      st.keyframeOnly = keyframeOnly || getResidual(op).getStandard();
      if (st.keyframeOnly) {
        st.r = st.a = -1; // not in the stream (see LayerState)
      } else {
        st.rBytes = getResidual(op).getStep() == 1 ? 1 : 2;
        st.r = allocate(pixels * st.channels * st.rBytes);
        st.a = allocate(accType.getNumElements() * 4);
      }
      states.push_back(st);

      SmallVector<int64_t> rShape = {g.n, g.ih, g.iw, st.channels};
      if (g.kind == LinearGeometry::Kind::MatMul)
        rShape = {g.n, g.ih, st.channels};
      SmallVector<NamedAttribute> info = {
          builder.getNamedAttr("name", getLayerName(op)),
          builder.getNamedAttr(
              "kind", builder.getStringAttr(op->getName().stripDialect())),
          builder.getNamedAttr("stats", builder.getI64IntegerAttr(st.stats)),
          builder.getNamedAttr("r", builder.getI64IntegerAttr(st.r)),
          builder.getNamedAttr("r_bytes", builder.getI64IntegerAttr(st.rBytes)),
          builder.getNamedAttr("r_shape",
                               builder.getDenseI64ArrayAttr(rShape)),
          builder.getNamedAttr("a", builder.getI64IntegerAttr(st.a)),
          builder.getNamedAttr(
              "a_shape", builder.getDenseI64ArrayAttr(accType.getShape())),
          builder.getNamedAttr("blocks",
                               builder.getI64IntegerAttr(g.n *
                                                         st.numBlocks())),
          builder.getNamedAttr("in_channels", builder.getI64IntegerAttr(g.ic)),
          builder.getNamedAttr("dense_macs",
                               builder.getI64IntegerAttr(g.denseMacs())),
      };
      layerInfo.push_back(builder.getDictionaryAttr(info));
    }
    int64_t size = roundUp(offset, kAlign);
    module->setAttr(
        kStreamLayoutAttr,
        builder.getDictionaryAttr(
            {builder.getNamedAttr("size", builder.getI64IntegerAttr(size)),
             builder.getNamedAttr("layers",
                                  builder.getArrayAttr(layerInfo))}));

    // The stream becomes the state buffer.
    auto bufferType = MemRefType::get({size}, builder.getI8Type());
    Value stream = func.getArgument(0);
    stream.setType(bufferType);
    SmallVector<Type> inputs(func.getBody().getArgumentTypes());
    func.setType(FunctionType::get(ctx, inputs, func.getResultTypes()));

    for (BeginFrameOp op : begins) {
      ImplicitLocOpBuilder b(op.getLoc(), op);
      lowerBeginFrame(b, op, stream);
      op.erase();
    }
    for (auto [op, st] : llvm::zip(layers, states)) {
      ImplicitLocOpBuilder b(op->getLoc(), op);
      LayerLowering lowering(b, op, stream, st, vnni, parallel, module,
                             symbols);
      if (failed(lowering.lower()))
        return failure();
      op->erase();
    }
    return success();
  }
};

/// resq.dot_bytes -> vpdpbusd, resq.dot_words -> vpdpwssd,
/// resq.round_to_int -> vcvtps2dq {rn-sae}.
struct LowerIntrinsicsPass
    : public resq::impl::ResQLowerIntrinsicsBase<LowerIntrinsicsPass> {
  template <typename DotOp>
  void lower(StringRef intrinsic) {
    SmallVector<DotOp> dots;
    getOperation().walk([&](DotOp op) { dots.push_back(op); });
    for (DotOp op : dots) {
      ImplicitLocOpBuilder b(op.getLoc(), op);
      auto call = LLVM::CallIntrinsicOp::create(
          b, op.getType(), b.getStringAttr(intrinsic),
          ValueRange{op.getAcc(), op.getA(), op.getB()});
      op.replaceAllUsesWith(call.getResult(0));
      op.erase();
    }
  }

  void runOnOperation() override {
    lower<DotBytesOp>("llvm.x86.avx512.vpdpbusd.512");
    lower<DotWordsOp>("llvm.x86.avx512.vpdpwssd.512");
    SmallVector<RoundToIntOp> rounds;
    getOperation().walk([&](RoundToIntOp op) { rounds.push_back(op); });
    for (RoundToIntOp op : rounds) {
      ImplicitLocOpBuilder b(op.getLoc(), op);
      // All 16 lanes (mask -1), to nearest even with exceptions
      // suppressed (8: _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC).
      Value zeros = arith::ConstantOp::create(
          b, DenseElementsAttr::get(op.getType(), b.getI32IntegerAttr(0)));
      auto call = LLVM::CallIntrinsicOp::create(
          b, op.getType(), b.getStringAttr("llvm.x86.avx512.mask.cvtps2dq.512"),
          ValueRange{op.getX(), zeros,
                     arith::ConstantIntOp::create(b, -1, 16),
                     arith::ConstantIntOp::create(b, 8, 32)});
      op.replaceAllUsesWith(call.getResult(0));
      op.erase();
    }
  }
};

} // namespace
