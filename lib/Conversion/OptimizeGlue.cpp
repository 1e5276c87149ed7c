//===- OptimizeGlue.cpp - faster loops for the float glue -----------------===//
//
// The glue between linear layers (dequantization, activations, squeeze-
// excite, pooling) goes through upstream's TOSA lowering. Some of its
// patterns cost far more than their work on the real models: global
// average pooling (a serial, strided sum per channel, and its input stored
// first), the sigmoid's exp (a libm call per element, which keeps the loop
// scalar), narrow elementwise loops and bilinear resizing (scalar or
// gathered; the resize's column arithmetic redone per pixel).
//
//===----------------------------------------------------------------------===//

#include "FiniteClamps.h"
#include "resq/Conversion/Passes.h"
#include "resq/Support/PadBorder.h"

#include "ResQ/IR/ResQ.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SetVector.h"

namespace resq {
#define GEN_PASS_DEF_RESQOPTIMIZEGLUE
#include "resq/Conversion/Passes.h.inc"
} // namespace resq

using namespace mlir;

namespace {

/// A 4-d elementwise generic with one result whose body is elementwise
/// arithmetic on its inputs (not its output), each input read at the pixel
/// (or broadcast: constant-0 dimensions, no channel dimension), channels
/// innermost.
bool isPixelElementwise(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumLoops() != 4 ||
      op.getNumDpsInits() != 1 || op.getNumParallelLoops() != 4 ||
      op.hasIndexSemantics())
    return false;
  if (!op.getIndexingMapsArray().back().isIdentity() ||
      op.payloadUsesValueFromOperand(op.getDpsInitOperand(0)))
    return false;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    if (!isa<RankedTensorType>(input->get().getType()))
      return false;
    for (auto [i, expr] : llvm::enumerate(map.getResults())) {
      auto dim = dyn_cast<AffineDimExpr>(expr);
      auto constant = dyn_cast<AffineConstantExpr>(expr);
      if (constant && constant.getValue() == 0)
        continue;
      // The channel dimension only innermost.
      if (!dim || (dim.getPosition() == 3 && i + 1 != map.getNumResults()))
        return false;
    }
  }
  return llvm::all_of(op.getBody()->without_terminator(), [](Operation &o) {
    return isa<arith::ConstantOp>(o) ||
           (o.getNumRegions() == 0 &&
            OpTrait::hasElementwiseMappableTraits(&o) &&
            isa<arith::ArithDialect, math::MathDialect>(o.getDialect()));
  });
}

/// An input of a pixel-elementwise generic (`map`, a tensor or a memref) at
/// `pixel` (n, y, x, first channel), as a vector of `type`'s lanes: read
/// along the channels, or one element broadcast where the input has no
/// channel dimension.
Value readAtPixel(OpBuilder &b, Location loc, Value operand, AffineMap map,
                  VectorType type, ArrayRef<Value> pixel, bool inBounds) {
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  SmallVector<Value> at;
  bool channels = false;
  for (AffineExpr expr : map.getResults()) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    at.push_back(dim ? pixel[dim.getPosition()] : zero);
    channels |= dim && dim.getPosition() == 3;
  }
  Type element = getElementTypeOrSelf(operand.getType());
  auto lanes = VectorType::get(type.getShape(), element);
  if (channels) {
    Value pad =
        arith::ConstantOp::create(b, loc, element, b.getZeroAttr(element));
    return vector::TransferReadOp::create(b, loc, lanes, operand, at, pad,
                                          ArrayRef<bool>{inBounds});
  }
  Value scalar = isa<TensorType>(operand.getType())
                     ? tensor::ExtractOp::create(b, loc, operand, at)
                           .getResult()
                     : memref::LoadOp::create(b, loc, operand, at).getResult();
  return vector::BroadcastOp::create(b, loc, lanes, scalar);
}

/// A pixel-elementwise generic's body, lane by lane, on vectors of `type`'s
/// lanes: `input` gives each input's vector.
Value vectorBody(OpBuilder &b, Location loc, linalg::GenericOp op,
                 VectorType type, function_ref<Value(OpOperand *)> input) {
  Block *body = op.getBody();
  IRMapping mapping;
  auto splat = [&](Value scalar) -> Value {
    return vector::BroadcastOp::create(
        b, loc, VectorType::get(type.getShape(), scalar.getType()), scalar);
  };
  for (OpOperand *in : op.getDpsInputOperands())
    mapping.map(body->getArgument(in->getOperandNumber()), input(in));
  for (Operation &o : body->without_terminator()) {
    if (isa<arith::ConstantOp>(o)) {
      mapping.map(o.getResult(0), splat(b.clone(o)->getResult(0)));
      continue;
    }
    SmallVector<Value> operands;
    for (Value v : o.getOperands())
      operands.push_back(mapping.contains(v) ? mapping.lookup(v) : splat(v));
    OperationState state(loc, o.getName());
    state.addOperands(operands);
    state.addAttributes(o.getAttrs());
    for (Type t : o.getResultTypes())
      state.addTypes(VectorType::get(type.getShape(), t));
    Operation *vectorOp = b.create(state);
    mapping.map(o.getResults(), vectorOp->getResults());
  }
  return mapping.lookup(body->getTerminator()->getOperand(0));
}

/// pooling_nhwc_sum over the whole 1xHxWxC input (output 1x1x1xC, unit
/// dilations) -> loops over rows and columns that add one vector of
/// channels per pixel to sums held in registers (chunks of kPoolLanes
/// channels). Per channel the additions run in the pooling's own order
/// (rows, then columns), so every bit is the same; as a generic
/// accumulating into the output, LLVM kept it scalar, one store per add.
struct GlobalSumPooling : OpRewritePattern<linalg::PoolingNhwcSumOp> {
  using OpRewritePattern::OpRewritePattern;
  static constexpr int64_t kPoolLanes = 64;

  LogicalResult matchAndRewrite(linalg::PoolingNhwcSumOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(op, "not on tensors");
    auto input = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
    auto window = dyn_cast<RankedTensorType>(op.getInputs()[1].getType());
    auto output = dyn_cast<RankedTensorType>(op.getOutputs()[0].getType());
    if (!input || !window || !output || !input.hasStaticShape() ||
        !output.hasStaticShape() || !isa<FloatType>(input.getElementType()) ||
        input.getElementType() != output.getElementType())
      return rewriter.notifyMatchFailure(op, "not static float tensors");
    ArrayRef<int64_t> in = input.getShape(), out = output.getShape();
    if (in[0] != 1 || out[0] != 1 || out[1] != 1 || out[2] != 1 ||
        out[3] != in[3] || window.getDimSize(0) != in[1] ||
        window.getDimSize(1) != in[2])
      return rewriter.notifyMatchFailure(op, "not a whole-input window");
    if (!llvm::all_of(op.getDilations().getValues<int64_t>(),
                      [](int64_t d) { return d == 1; }))
      return rewriter.notifyMatchFailure(op, "dilated");

    Location loc = op.getLoc();
    Type element = input.getElementType();
    auto idx = [&](int64_t v) {
      return arith::ConstantIndexOp::create(rewriter, loc, v).getResult();
    };
    Value zero = idx(0), one = idx(1);
    Value pad = arith::ConstantOp::create(rewriter, loc, element,
                                          rewriter.getFloatAttr(element, 0));
    Value source = op.getInputs()[0];
    Value result = op.getOutputs()[0];
    // An elementwise producer read by the pooling alone (selfie: a skip
    // connection's sum) is computed in the pooling's loop, a vector per
    // pixel, and never stored.
    linalg::GenericOp producer = source.getDefiningOp<linalg::GenericOp>();
    if (producer && !isFusableProducer(producer))
      producer = nullptr;
    for (int64_t c0 = 0; c0 < in[3]; c0 += kPoolLanes) {
      auto type = VectorType::get({std::min(kPoolLanes, in[3] - c0)}, element);
      SmallVector<Value> at = {zero, zero, zero, idx(c0)};
      SmallVector<bool> inBounds = {true};
      Value sums = vector::TransferReadOp::create(rewriter, loc, type, result,
                                                  at, pad, inBounds);
      auto rows = scf::ForOp::create(
          rewriter, loc, zero, idx(in[1]), one, ValueRange{sums},
          [&](OpBuilder &b, Location loc, Value y, ValueRange rowSums) {
            auto columns = scf::ForOp::create(
                b, loc, zero, idx(in[2]), one, rowSums,
                [&](OpBuilder &b, Location loc, Value x, ValueRange acc) {
                  Value pixel =
                      producer
                          ? producerPixel(b, loc, producer, type,
                                          {zero, y, x, at.back()})
                          : vector::TransferReadOp::create(
                                b, loc, type, source,
                                ValueRange{zero, y, x, at.back()}, pad,
                                inBounds)
                                .getResult();
                  // out + in, as the pooling adds.
                  scf::YieldOp::create(
                      b, loc,
                      ValueRange{arith::AddFOp::create(b, loc, acc[0], pixel)
                                     .getResult()});
                });
            scf::YieldOp::create(b, loc, columns.getResults());
          });
      result = vector::TransferWriteOp::create(rewriter, loc,
                                               rows.getResult(0), result, at,
                                               inBounds)
                   .getResult();
    }
    rewriter.replaceOp(op, result);
    if (producer)
      rewriter.eraseOp(producer);
    return success();
  }

  static bool isFusableProducer(linalg::GenericOp producer) {
    return producer->hasOneUse() && isPixelElementwise(producer);
  }

  /// The producer's value at pixel (0, y, x) for the channels of `type`
  /// from `pixel[3]` on: its body, lane by lane, on vectors of its inputs.
  static Value producerPixel(OpBuilder &b, Location loc,
                             linalg::GenericOp producer, VectorType type,
                             ArrayRef<Value> pixel) {
    return vectorBody(b, loc, producer, type, [&](OpOperand *input) {
      return readAtPixel(b, loc, input->get(),
                         producer.getMatchingIndexingMap(input), type, pixel,
                         /*inBounds=*/true);
    });
  }
};

/// An f32 constant of `type` (a scalar or a splat vector).
Value f32Constant(OpBuilder &b, Location loc, Type type, float v) {
  TypedAttr attr = b.getF32FloatAttr(v);
  if (auto vec = dyn_cast<VectorType>(type))
    attr = DenseElementsAttr::get(vec, b.getF32FloatAttr(v));
  return arith::ConstantOp::create(b, loc, type, attr);
}

/// roundeven(x) for f32 without a rounding instruction, exactly: for
/// |x| < 2^23, |x| + 2^23 lies in [2^23, 2^24) where floats are the
/// integers, so the addition rounds |x| half to even; larger |x| (and
/// infinities) are integers already, NaN falls through.
Value exactRoundEven(OpBuilder &b, Location loc, Value x) {
  Value big = f32Constant(b, loc, x.getType(), 8388608.0f); // 2^23
  Value magnitude = math::AbsFOp::create(b, loc, x);
  Value rounded = arith::SubFOp::create(
      b, loc, arith::AddFOp::create(b, loc, magnitude, big), big);
  Value signed_ = math::CopySignOp::create(b, loc, rounded, x);
  Value small = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                                      magnitude, big);
  return arith::SelectOp::create(b, loc, small, signed_, x);
}

bool isF32(Type type) { return getElementTypeOrSelf(type).isF32(); }

struct ExactRoundEven : public OpRewritePattern<math::RoundEvenOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::RoundEvenOp op,
                                PatternRewriter &rewriter) const override {
    if (!isF32(op.getType()))
      return failure();
    rewriter.replaceOp(op, exactRoundEven(rewriter, op.getLoc(),
                                          op.getOperand()));
    return success();
  }
};

/// floor(x) = r - 1 where r = roundeven(x) > x, else r (|r - x| <= 1/2).
struct ExactFloor : public OpRewritePattern<math::FloorOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::FloorOp op,
                                PatternRewriter &rewriter) const override {
    if (!isF32(op.getType()))
      return failure();
    Location loc = op.getLoc();
    Value x = op.getOperand();
    Value r = exactRoundEven(rewriter, loc, x);
    Value one = f32Constant(rewriter, loc, x.getType(), 1.0f);
    Value above = arith::CmpFOp::create(rewriter, loc,
                                        arith::CmpFPredicate::OGT, r, x);
    rewriter.replaceOpWithNewOp<arith::SelectOp>(
        op, above, arith::SubFOp::create(rewriter, loc, r, one), r);
    return success();
  }
};

/// Up to this many channels innermost, an elementwise loop with per-channel
/// operands runs faster as a vector op per pixel than as LLVM vectorizes
/// it: scalar below 16 channels, across pixels with gathers and scatters
/// (its channel loop unrolled) at 16 to 32; measured on selfie, where more
/// than 128 gained nothing.
constexpr int64_t kNarrowChannels = 128;

struct OptimizeGluePass
    : public resq::impl::ResQOptimizeGlueBase<OptimizeGluePass> {
  using ResQOptimizeGlueBase::ResQOptimizeGlueBase;

  void runOnOperation() override {
    // Whole-input pooling first: it takes in an elementwise producer that
    // rewriteGlueLoops would otherwise turn into loops of its own.
    {
      RewritePatternSet pooling(&getContext());
      pooling.add<GlobalSumPooling>(&getContext());
      if (failed(applyPatternsGreedily(getOperation(), std::move(pooling))))
        return signalPassFailure();
    }
    {
      SmallVector<linalg::GenericOp> elementwise;
      getOperation().walk([&](linalg::GenericOp op) {
        elementwise.push_back(op);
      });
      IRRewriter rewriter(&getContext());
      for (linalg::GenericOp op : elementwise)
        tabulateChannels(rewriter, op);
    }
    fuseEpilogues();
    {
      SmallVector<tensor::PadOp> pads;
      getOperation().walk([&](tensor::PadOp op) { pads.push_back(op); });
      IRRewriter rewriter(&getContext());
      for (tensor::PadOp op : pads)
        padInPlace(rewriter, op);
    }
    rewriteGlueLoops();
    RewritePatternSet patterns(&getContext());
    if (!resq::cpuHasFeature(targetCpu, "sse4.1"))
      patterns.add<ExactRoundEven, ExactFloor>(&getContext());
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) { return name == "math.exp"; });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
    resq::relaxFiniteClamps(getOperation());
    if (resq::cpuHasFeature(targetCpu, "avx512f"))
      resq::roundToInt8(getOperation());
  }

  /// Upstream's elementwise fusion takes a producer of one value per
  /// channel (squeeze-excite's sigmoid of its scales, their
  /// dequantization) into its consumer, which then computes it again at
  /// every pixel: LLVM cannot hoist it, since its inputs' loads may alias
  /// the consumer's stores. What depends on per-channel inputs alone is
  /// computed once per channel into tables by a generic of its own, which
  /// the consumer reads as per-channel inputs: the same operations, so the
  /// same bits.
  static void tabulateChannels(IRRewriter &rewriter, linalg::GenericOp op) {
    if (!op.hasPureTensorSemantics() || op.getNumReductionLoops() != 0 ||
        op.hasIndexSemantics() || op.getNumDpsInits() != 1 ||
        op->getNumResults() != 1)
      return;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (ranges.size() < 2 || ShapedType::isDynamicShape(ranges))
      return;
    unsigned channel = ranges.size() - 1;
    // Inputs indexed by the channel alone (or by nothing: a scalar), and
    // dimensions of one element (the batch).
    auto perChannel = [&](AffineMap map) {
      return llvm::all_of(map.getResults(), [&](AffineExpr expr) {
        if (auto dim = dyn_cast<AffineDimExpr>(expr))
          return dim.getPosition() == channel ||
                 ranges[dim.getPosition()] == 1;
        auto constant = dyn_cast<AffineConstantExpr>(expr);
        return constant && constant.getValue() == 0;
      });
    };
    Block *body = op.getBody();
    SmallVector<OpOperand *> channelInputs;
    for (OpOperand *input : op.getDpsInputOperands())
      if (perChannel(op.getMatchingIndexingMap(input)))
        channelInputs.push_back(input);
    if (channelInputs.empty())
      return;
    auto isChannelArg = [&](Value v) {
      return llvm::any_of(channelInputs, [&](OpOperand *input) {
        return v == body->getArgument(input->getOperandNumber());
      });
    };
    // The body's ops that depend on nothing but per-channel inputs and
    // constants; `varies` those that do depend on such an input.
    Tabulation t = findTabulated(
        op, /*math=*/true, [&](Value v) { return isChannelArg(v); });
    llvm::SetVector<Operation *> &channelOps = t.ops;
    llvm::DenseSet<Operation *> &varies = t.varies;
    SmallVector<Value> &tabled = t.tabled;
    // Worth a table only where there is arithmetic to save (a
    // dequantization, a cast and a multiply, is not). Tables of whole
    // bytes: vector code reads i1 in memory as packed bits, scalar code
    // writes it as bytes.
    if (tabled.empty() || varies.size() < 4 ||
        llvm::any_of(tabled, [](Value v) {
          Type type = v.getType();
          return !type.isIntOrIndexOrFloat() ||
                 (type.isInteger() && type.getIntOrFloatBitWidth() % 8 != 0);
        }))
      return;

    Location loc = op.getLoc();
    int64_t channels = ranges[channel];
    rewriter.setInsertionPoint(op);
    // The tables' generic: one dimension, the channel.
    SmallVector<Value> tableInputs;
    SmallVector<AffineMap> tableMaps;
    for (OpOperand *input : channelInputs) {
      AffineMap map = op.getMatchingIndexingMap(input);
      SmallVector<AffineExpr> exprs;
      for (AffineExpr expr : map.getResults()) {
        auto dim = dyn_cast<AffineDimExpr>(expr);
        exprs.push_back(!dim ? expr
                        : dim.getPosition() == channel
                            ? rewriter.getAffineDimExpr(0)
                            : rewriter.getAffineConstantExpr(0));
      }
      tableInputs.push_back(input->get());
      tableMaps.push_back(
          AffineMap::get(1, 0, exprs, rewriter.getContext()));
    }
    SmallVector<Value> empties = emptyTables(rewriter, loc, tabled, channels);
    tableMaps.append(tabled.size(), rewriter.getMultiDimIdentityMap(1));
    auto tables = linalg::GenericOp::create(
        rewriter, loc, ValueRange(empties).getTypes(), tableInputs, empties,
        tableMaps,
        {utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange args) {
          IRMapping mapping;
          for (auto [input, arg] : llvm::zip(channelInputs, args))
            mapping.map(body->getArgument(input->getOperandNumber()), arg);
          for (Operation *o : channelOps)
            b.clone(*o, mapping);
          SmallVector<Value> results;
          for (Value v : tabled)
            results.push_back(mapping.lookup(v));
          linalg::YieldOp::create(b, l, results);
        });

    // The consumer reads the tables as per-channel inputs.
    SmallVector<Value> inputs = op.getDpsInputs();
    SmallVector<AffineMap> maps;
    for (OpOperand *input : op.getDpsInputOperands())
      maps.push_back(op.getMatchingIndexingMap(input));
    AffineMap channelMap = AffineMap::get(
        ranges.size(), 0, rewriter.getAffineDimExpr(channel),
        rewriter.getContext());
    for (Value table : tables.getResults()) {
      inputs.push_back(table);
      maps.push_back(channelMap);
    }
    maps.push_back(op.getIndexingMapsArray().back());
    auto consumer = linalg::GenericOp::create(
        rewriter, loc, op->getResultTypes(), inputs, op.getDpsInits(), maps,
        op.getIteratorTypesArray());
    rewriter.inlineRegionBefore(op.getRegion(), consumer.getRegion(),
                                consumer.getRegion().end());
    unsigned firstTable = op.getNumDpsInputs();
    for (auto [i, v] : llvm::enumerate(tabled)) {
      BlockArgument arg =
          body->insertArgument(firstTable + i, v.getType(), loc);
      rewriter.replaceUsesWithIf(v, arg, [&](OpOperand &use) {
        return !channelOps.contains(use.getOwner());
      });
    }
    for (Operation *o : llvm::reverse(channelOps.getArrayRef()))
      if (o->use_empty())
        rewriter.eraseOp(o);
    rewriter.replaceOp(op, consumer->getResults());
  }

  /// The output a stateless layer's kernel writes (resq-lower-stream, or
  /// fuseEpilogue): a memref.alloc filled by vector.transfer_write alone
  /// and read through `acc` (restrict) alone. Its writes, or nothing.
  static std::optional<SmallVector<vector::TransferWriteOp>>
  kernelWrites(bufferization::ToTensorOp acc) {
    auto buffer = acc.getBuffer().getDefiningOp<memref::AllocOp>();
    if (!buffer || !acc.getRestrict())
      return std::nullopt;
    SmallVector<vector::TransferWriteOp> writes;
    for (Operation *user : buffer->getUsers()) {
      if (user == acc)
        continue;
      auto write = dyn_cast<vector::TransferWriteOp>(user);
      if (!write || write.getBase() != buffer.getResult())
        return std::nullopt;
      writes.push_back(write);
    }
    if (writes.empty())
      return std::nullopt;
    return writes;
  }

  /// A layer that keeps no state (standard int8, every frame a keyframe)
  /// writes its int32 accumulator A into a buffer of its own, vector by
  /// vector, and the glue that follows (dequantization, activation,
  /// requantization: one elementwise generic) read it back. Where A feeds
  /// nothing else, the glue's body runs on each vector where the kernel
  /// writes it, and the kernel writes the glue's result instead (int8: a
  /// quarter of the bytes, and A is never stored). The same operations per
  /// element, so the same results.
  void fuseEpilogues() {
    SmallVector<bufferization::ToTensorOp> accumulators;
    getOperation().walk(
        [&](bufferization::ToTensorOp op) { accumulators.push_back(op); });
    DominanceInfo dominance(getOperation());
    for (bufferization::ToTensorOp op : accumulators)
      fuseEpilogue(op, dominance);
  }

  static void fuseEpilogue(bufferization::ToTensorOp acc,
                           DominanceInfo &dominance) {
    std::optional<SmallVector<vector::TransferWriteOp>> writes =
        kernelWrites(acc);
    if (!writes || !acc->hasOneUse())
      return;
    auto buffer = acc.getBuffer().getDefiningOp<memref::AllocOp>();
    auto glue = dyn_cast<linalg::GenericOp>(*acc->getUsers().begin());
    if (!glue || !isPixelElementwise(glue))
      return;
    OpOperand *accInput = nullptr;
    for (OpOperand *input : glue.getDpsInputOperands()) {
      if (input->get() != acc.getResult())
        continue;
      if (accInput)
        return; // Read twice.
      accInput = input;
    }
    // (A as the glue's output operand is not a read of it.)
    if (!accInput || !glue.getMatchingIndexingMap(accInput).isIdentity())
      return;
    // Whole-vector writes along the channels.
    if (llvm::any_of(*writes, [](vector::TransferWriteOp write) {
          return write.getMask() || write.getVectorType().getRank() != 1 ||
                 !write.getPermutationMap().isMinorIdentity();
        }))
      return;
    // The glue's other inputs are read in the kernel: constants (cloned
    // there) or values computed before it.
    for (OpOperand *input : glue.getDpsInputOperands()) {
      Value v = input->get();
      if (input != accInput && !matchPattern(v, m_Constant()) &&
          !dominance.properlyDominates(v, buffer))
        return;
    }

    Location loc = glue.getLoc();
    OpBuilder b(buffer);
    DenseMap<OpOperand *, Value> inputBuffers;
    for (OpOperand *input : glue.getDpsInputOperands()) {
      if (input == accInput)
        continue;
      Value v = input->get();
      if (!dominance.properlyDominates(v, buffer))
        v = b.clone(*v.getDefiningOp())->getResult(0);
      auto type = cast<RankedTensorType>(v.getType());
      SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
      auto memref = MemRefType::get(
          type.getShape(), type.getElementType(),
          StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic,
                                 strides));
      inputBuffers[input] = bufferization::ToBufferOp::create(
          b, loc, memref, v, /*read_only=*/true);
    }
    auto resultType = cast<RankedTensorType>(glue.getResult(0).getType());
    Value result = memref::AllocOp::create(
        b, loc,
        MemRefType::get(resultType.getShape(), resultType.getElementType()));
    for (vector::TransferWriteOp write : *writes) {
      b.setInsertionPoint(write);
      VectorType type = write.getVectorType();
      bool inBounds = write.getInBoundsValues()[0];
      SmallVector<Value> pixel(write.getIndices());
      Value value = vectorBody(b, loc, glue, type, [&](OpOperand *input) {
        if (input == accInput)
          return write.getVector();
        return readAtPixel(b, loc, inputBuffers[input],
                           glue.getMatchingIndexingMap(input), type, pixel,
                           inBounds);
      });
      vector::TransferWriteOp::create(b, write.getLoc(), value, result, pixel,
                                      ArrayRef<bool>{inBounds});
      write.erase();
    }
    b.setInsertionPoint(glue);
    Value fused = bufferization::ToTensorOp::create(
        b, loc, resultType, result, /*restrict=*/true, /*writable=*/false);
    glue.getResult(0).replaceAllUsesWith(fused);
    glue.erase();
    acc.erase();
    buffer.erase();
  }

  /// A constant tensor.pad of an elementwise generic's result (pose's float
  /// layers pad the glue's output) bufferized into a buffer filled whole
  /// with the padding value and a copy of the generic's result into its
  /// interior. Instead the generic writes the interior of the padded
  /// tensor itself (its init becomes that slice: one-shot bufferization
  /// then writes it in place), and only the border is filled. Same
  /// elements, same values, without the copy and the interior's fill.
  static void padInPlace(IRRewriter &rewriter, tensor::PadOp pad) {
    Value padValue = pad.getConstantPaddingValue();
    RankedTensorType type = pad.getResultType();
    auto sourceType = cast<RankedTensorType>(pad.getSource().getType());
    // Constant low padding, as attributes or as constant operands (the
    // float convolutions' pads have the latter).
    std::optional<SmallVector<int64_t>> constantLow =
        getConstantIntValues(pad.getMixedLowPad());
    if (!constantLow)
      return;
    ArrayRef<int64_t> low = *constantLow;
    if (!padValue || pad.getNofold() || !type.hasStaticShape() ||
        !sourceType.hasStaticShape() ||
        !pad.getSource().hasOneUse())
      return;
    // The padding value is needed where the producer runs: a constant is
    // cloned there, anything else must be defined before it.
    Operation *def = padValue.getDefiningOp();
    bool constant = def && def->hasTrait<OpTrait::ConstantLike>();
    if (!constant && pad.getRegion().isAncestor(padValue.getParentRegion()))
      return;
    ArrayRef<int64_t> shape = type.getShape(), sizes = sourceType.getShape();
    SmallVector<int64_t> unit(type.getRank(), 1);
    Location loc = pad.getLoc();
    auto attrs = [&](ArrayRef<int64_t> values) {
      return getAsIndexOpFoldResult(rewriter.getContext(), values);
    };
    auto padValueAt = [&](Operation *producer) -> Value {
      if (constant)
        return rewriter.clone(*def)->getResult(0);
      if (def && !(def->getBlock() == producer->getBlock() &&
                   def->isBeforeInBlock(producer)))
        return Value();
      return padValue;
    };

    // A stateless layer whose glue runs in its kernel (fuseEpilogue): the
    // kernel writes the padded buffer's interior.
    if (auto acc = pad.getSource().getDefiningOp<bufferization::ToTensorOp>()) {
      std::optional<SmallVector<vector::TransferWriteOp>> writes =
          kernelWrites(acc);
      if (!writes)
        return;
      auto buffer = acc.getBuffer().getDefiningOp<memref::AllocOp>();
      rewriter.setInsertionPoint(buffer);
      Value value = padValueAt(buffer);
      if (!value)
        return;
      auto paddedType = MemRefType::get(shape, type.getElementType());
      Value padded = memref::AllocOp::create(rewriter, loc, paddedType);
      resq::forEachBorderSlab(shape, low, sizes, [&](ArrayRef<int64_t> offsets,
                                                     ArrayRef<int64_t> slabSizes) {
        Value slab = memref::SubViewOp::create(rewriter, loc, padded, offsets,
                                               slabSizes, unit);
        linalg::FillOp::create(rewriter, loc, value, slab);
      });
      Value interior =
          memref::SubViewOp::create(rewriter, loc, padded, low, sizes, unit);
      for (vector::TransferWriteOp write : *writes)
        rewriter.modifyOpInPlace(
            write, [&] { write.getBaseMutable().set(interior); });
      rewriter.setInsertionPoint(pad);
      rewriter.replaceOpWithNewOp<bufferization::ToTensorOp>(
          pad, type, padded, /*restrict=*/true, /*writable=*/false);
      rewriter.eraseOp(acc);
      rewriter.eraseOp(buffer);
      return;
    }

    // An elementwise generic: its init becomes the padded tensor's
    // interior, which one-shot bufferization writes in place.
    auto source = pad.getSource().getDefiningOp<linalg::GenericOp>();
    if (!source || source->getNumResults() != 1 ||
        !source.hasPureTensorSemantics() || source.getNumReductionLoops())
      return;
    OpOperand *init = source.getDpsInitOperand(0);
    if (!init->get().getDefiningOp<tensor::EmptyOp>() ||
        source.payloadUsesValueFromOperand(init))
      return;
    rewriter.setInsertionPoint(source);
    Value value = padValueAt(source);
    if (!value)
      return;
    Value padded = tensor::EmptyOp::create(rewriter, loc, shape,
                                           type.getElementType());
    resq::forEachBorderSlab(shape, low, sizes, [&](ArrayRef<int64_t> offsets,
                                                   ArrayRef<int64_t> slabSizes) {
      Value slab = tensor::ExtractSliceOp::create(
          rewriter, loc, padded, attrs(offsets), attrs(slabSizes), attrs(unit));
      Value filled =
          linalg::FillOp::create(rewriter, loc, value, slab).getResult(0);
      padded = tensor::InsertSliceOp::create(rewriter, loc, filled, padded,
                                             attrs(offsets), attrs(slabSizes),
                                             attrs(unit));
    });
    Value interior = tensor::ExtractSliceOp::create(
        rewriter, loc, padded, attrs(low), attrs(sizes), attrs(unit));
    rewriter.modifyOpInPlace(source, [&] { init->set(interior); });
    rewriter.setInsertionPoint(pad);
    rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
        pad, source->getResult(0), padded, attrs(low), attrs(sizes),
        attrs(unit));
  }

  /// An elementwise generic whose innermost dimension is narrow (the
  /// channels of a layer, up to kNarrowChannels) is left scalar by LLVM
  /// (8 channels: its vectorizer finds the inner loop not worth it) or
  /// vectorized across pixels with gathers (16 channels), and the
  /// per-channel operands (scales, biases) keep it from merging dimensions.
  /// Such a generic becomes loops over the outer dimensions around one
  /// vector op per pixel (all its channels). The body's operations are the
  /// same, elementwise, so every result is the same.
  ///
  /// Where every operand is indexed by the identity (no per-channel
  /// operand: the model's input quantization, 3 channels, or its 1-channel
  /// sigmoid output), the dimensions merge instead: rows of N x H by
  /// W x C elements, a loop LLVM vectorizes (with one channel it otherwise
  /// ran one element per innermost loop).
  ///
  /// A generic that reads its input through tensor.extract at computed
  /// pixels (bilinear resizing: four neighbours per output pixel) was
  /// vectorized by LLVM with gathers and scatters. Per output pixel, its
  /// channels are contiguous in the input and the output: it gets the same
  /// loops over pixels around vector ops over the channels, the extracts
  /// contiguous vector reads. Same operations per element, same results.
  void rewriteGlueLoops() {
    SmallVector<linalg::GenericOp> narrow, gathers;
    getOperation().walk([&](linalg::GenericOp op) {
      if (isNarrowElementwise(op))
        narrow.push_back(op);
      else if (isPixelGather(op))
        gathers.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : narrow) {
      if (succeeded(mergeRows(rewriter, op)))
        continue;
      // One channel per pixel: a vector op per pixel would be scalar code.
      if (op.getStaticLoopRanges().back() >= 2)
        vectorizePerPixel(rewriter, op, /*gathers=*/false);
    }
    for (linalg::GenericOp op : gathers) {
      tabulateColumns(rewriter, op);
      vectorizePerPixel(rewriter, op, /*gathers=*/true);
    }
  }

  /// What a generic's body computes from `source` values alone (and values
  /// defined above the generic): `ops` in body order, `varies` those that
  /// depend on a source (the others are constants), `tabled` their results
  /// the rest of the body reads. Sources are block arguments or results of
  /// the body's ops; the ops are pure arith (and math, with `math`) ops.
  struct Tabulation {
    llvm::SetVector<Operation *> ops;
    llvm::DenseSet<Operation *> varies;
    SmallVector<Value> tabled;
  };
  static Tabulation findTabulated(linalg::GenericOp op, bool math,
                                  function_ref<bool(Value)> isSource) {
    Tabulation t;
    Block *body = op.getBody();
    for (Operation &o : body->without_terminator()) {
      if (o.getNumResults() == 1 && isSource(o.getResult(0))) {
        t.ops.insert(&o);
        t.varies.insert(&o);
        continue;
      }
      if (o.getNumRegions() != 0 || !isPure(&o) ||
          !(isa<arith::ArithDialect>(o.getDialect()) ||
            (math && isa<math::MathDialect>(o.getDialect()))))
        continue;
      bool depends = false;
      auto sourced = [&](Value v) {
        if (auto arg = dyn_cast<BlockArgument>(v)) {
          if (arg.getOwner() != body)
            return true;
          depends |= isSource(v);
          return isSource(v);
        }
        Operation *def = v.getDefiningOp();
        if (!op->isProperAncestor(def))
          return true; // Defined above the generic: the same everywhere.
        depends |= t.varies.contains(def);
        return t.ops.contains(def);
      };
      if (!llvm::all_of(o.getOperands(), sourced))
        continue;
      t.ops.insert(&o);
      if (depends)
        t.varies.insert(&o);
    }
    for (Operation *o : t.ops) {
      if (!t.varies.contains(o))
        continue;
      for (Value v : o->getResults())
        if (llvm::any_of(v.getUsers(), [&](Operation *user) {
              return !t.ops.contains(user);
            }))
          t.tabled.push_back(v);
    }
    return t;
  }

  /// An empty table of `size` elements per tabled value.
  static SmallVector<Value> emptyTables(IRRewriter &rewriter, Location loc,
                                        ArrayRef<Value> tabled, int64_t size) {
    SmallVector<Value> empties;
    for (Value v : tabled)
      empties.push_back(
          tensor::EmptyOp::create(rewriter, loc, {size}, v.getType()));
    return empties;
  }

  /// In a pixel gather, what depends on the column alone (bilinear
  /// resizing: the two input columns and the weight of an output column)
  /// was computed again for every pixel of every row: some twenty scalar
  /// and broadcast ops per pixel around a few vector ones. Those values are
  /// computed once per column into tables by a generic of their own and
  /// the gather reads them back, by the same operations, so with the same
  /// bits. (What depends on the row alone LLVM already hoists out of the
  /// column loop.)
  static void tabulateColumns(IRRewriter &rewriter, linalg::GenericOp op) {
    // Upstream's body computes some values twice (1 - the column weight):
    // one table each is enough.
    DominanceInfo dominance;
    eliminateCommonSubExpressions(rewriter, dominance, op);
    Block *body = op.getBody();
    int64_t column = op.getNumLoops() - 2;
    auto isColumnIndex = [&](Operation *o) {
      auto index = dyn_cast<linalg::IndexOp>(o);
      return index && int64_t(index.getDim()) == column;
    };
    // The body's ops that depend on nothing but the column index and
    // constants; `varies` those that do depend on it.
    Tabulation t = findTabulated(op, /*math=*/false, [&](Value v) {
      return v.getDefiningOp() && isColumnIndex(v.getDefiningOp());
    });
    llvm::SetVector<Operation *> &columnOps = t.ops;
    llvm::DenseSet<Operation *> &varies = t.varies;
    SmallVector<Value> &tabled = t.tabled;
    // Worth it only where there is arithmetic to save.
    if (tabled.empty() || varies.size() < 4 ||
        llvm::any_of(tabled, [](Value v) {
          return !v.getType().isIntOrIndexOrFloat();
        }))
      return;

    Location loc = op.getLoc();
    int64_t width = op.getStaticLoopRanges()[column];
    rewriter.setInsertionPoint(op);
    SmallVector<Value> empties = emptyTables(rewriter, loc, tabled, width);
    AffineMap identity = rewriter.getMultiDimIdentityMap(1);
    auto tables = linalg::GenericOp::create(
        rewriter, loc, ValueRange(empties).getTypes(), ValueRange{}, empties,
        SmallVector<AffineMap>(tabled.size(), identity),
        {utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange) {
          IRMapping mapping;
          for (Operation *o : columnOps) {
            if (isColumnIndex(o))
              mapping.map(o->getResult(0), linalg::IndexOp::create(b, l, 0));
            else
              b.clone(*o, mapping);
          }
          SmallVector<Value> results;
          for (Value v : tabled)
            results.push_back(mapping.lookup(v));
          linalg::YieldOp::create(b, l, results);
        });

    rewriter.setInsertionPointToStart(body);
    Value at = linalg::IndexOp::create(rewriter, loc, column);
    for (auto [v, table] : llvm::zip(tabled, tables.getResults())) {
      Value read = tensor::ExtractOp::create(rewriter, loc, table, at);
      rewriter.replaceUsesWithIf(v, read, [&](OpOperand &use) {
        return !columnOps.contains(use.getOwner());
      });
    }
    for (Operation *o : llvm::reverse(columnOps.getArrayRef()))
      if (o->use_empty())
        rewriter.eraseOp(o);
  }

  /// Rows of every dimension but the last two, each row width x channels,
  /// when every operand is indexed by the identity.
  static LogicalResult mergeRows(IRRewriter &rewriter, linalg::GenericOp op) {
    int64_t rank = op.getNumLoops();
    auto isIdentity = [](AffineMap m) { return m.isIdentity(); };
    if (rank < 3 || !llvm::all_of(op.getIndexingMapsArray(), isIdentity))
      return failure();
    ReassociationIndices rows, row = {rank - 2, rank - 1};
    for (int64_t d = 0; d < rank - 2; ++d)
      rows.push_back(d);
    rewriter.setInsertionPoint(op);
    FailureOr<linalg::CollapseResult> collapsed =
        linalg::collapseOpIterationDims(
            cast<linalg::LinalgOp>(op.getOperation()), {rows, row}, rewriter);
    if (failed(collapsed))
      return failure();
    rewriter.replaceOp(op, collapsed->results);
    return success();
  }

  /// Loops over all but the innermost dimension around one vector op over
  /// it; left alone when the vectorizer would not take the tile.
  void vectorizePerPixel(IRRewriter &rewriter, linalg::GenericOp op,
                         bool gathers) {
    if (failed(linalg::vectorizeOpPrecondition(op, {}, {}, gathers)))
      return;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<OpFoldResult> tile(ranges.size(), rewriter.getIndexAttr(1));
    tile.back() = rewriter.getIndexAttr(ranges.back());
    scf::SCFTilingOptions options;
    options.setTileSizes(tile);
    if (parallel)
      options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled))
      return;
    rewriter.replaceOp(op, tiled->replacements);
    for (Operation *pixel : tiled->tiledOps) {
      rewriter.setInsertionPoint(pixel);
      FailureOr<linalg::VectorizationResult> vectorized =
          linalg::vectorize(rewriter, pixel, {}, {}, gathers);
      if (succeeded(vectorized))
        rewriter.replaceOp(pixel, vectorized->replacements);
    }
  }

  static bool isPixelGather(linalg::GenericOp op) {
    if (!op.hasPureTensorSemantics() || op.getNumReductionLoops() != 0 ||
        !op.hasIndexSemantics() || op.getNumDpsInits() != 1)
      return false;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (ranges.size() < 2 || ShapedType::isDynamicShape(ranges) ||
        ranges.back() < 2)
      return false;
    bool extracts = false;
    for (Operation &o : op.getBody()->without_terminator()) {
      if (isa<tensor::ExtractOp>(o))
        extracts = true;
      else if (!isa<linalg::IndexOp>(o) &&
               !isa<arith::ArithDialect, math::MathDialect>(o.getDialect()))
        return false;
    }
    return extracts;
  }

  static bool isNarrowElementwise(linalg::GenericOp op) {
    if (!op.hasPureTensorSemantics() || op.getNumReductionLoops() != 0 ||
        op.hasIndexSemantics() || op.getNumDpsInits() != 1)
      return false;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (ranges.size() < 2 || ShapedType::isDynamicShape(ranges))
      return false;
    int64_t inner = ranges.back();
    if (inner > kNarrowChannels)
      return false;
    if (!llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) {
          return map.isProjectedPermutation(/*allowZeroInResults=*/true);
        }))
      return false;
    // Arithmetic only: no tensor.extract (a gather) in the body.
    return llvm::all_of(op.getBody()->without_terminator(), [](Operation &o) {
      return isa<arith::ArithDialect, math::MathDialect>(o.getDialect());
    });
  }
};

} // namespace
