//===- FloatConv.cpp - float convolutions that vectorize, same sums ------===//
//
// Float layers (the float reference model, and layers a mixed-precision
// model keeps in float) reach the loops as linalg's named convolutions,
// whose innermost loop is the reduction over the window. Within a whole
// model LLVM keeps those sums in memory and scalar: the step's buffers are
// views of one scratch allocation it cannot tell apart. Here conv2d and
// depthwise conv become vector loops whose partial sums are SSA vectors
// over output channels. Every output element still sums the same products
// in the same order (its initial value, kernel rows, columns, input
// channels), so the results are bit for bit those of upstream's lowering.
//
//===----------------------------------------------------------------------===//

#include "resq/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace resq {
#define GEN_PASS_DEF_RESQFLOATCONV
#include "resq/Conversion/Passes.h.inc"
} // namespace resq

using namespace mlir;

namespace {

/// Partial sums are vectors of at most this many output channels (the
/// largest divisor of the channel count).
constexpr int64_t kMaxWidth = 16;
/// A conv2d pixel keeps up to this many vectors of partial sums in
/// registers, so that each input value loaded feeds that many vectors.
constexpr int64_t kMaxVectors = 4;

/// A static, non-empty float32 tensor (an empty one has nothing to sum).
bool isF32Tensor(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.hasStaticShape() && type.getNumElements() > 0 &&
         type.getElementType().isF32();
}

int64_t largestDivisorUpTo(int64_t n, int64_t limit) {
  int64_t d = std::min(n, limit);
  while (n % d != 0)
    --d;
  return d;
}

/// Builds the loops every rewritten convolution shares: threads take output
/// rows (scf.forall over oh), each row walks its pixels (n, ow) and blocks
/// of output channels. `block(b, n, oy, ox, channel, out)` emits one block
/// of a pixel into the row tensor `out` (N x 1 x OW x ...) and returns it.
using BlockBuilder = function_ref<Value(OpBuilder &, Location, Value n,
                                        Value oy, Value ox, Value channel,
                                        Value row)>;
Value buildRowLoops(OpBuilder &builder, Location loc, Value init,
                    int64_t blockChannels, BlockBuilder block) {
  auto initType = cast<RankedTensorType>(init.getType());
  int64_t rank = initType.getRank();
  int64_t batch = initType.getDimSize(0), oh = initType.getDimSize(1),
          ow = initType.getDimSize(2), channels = initType.getDimSize(3);
  SmallVector<int64_t> rowShape(initType.getShape());
  rowShape[1] = 1;
  auto rowType = RankedTensorType::get(rowShape, initType.getElementType());
  auto index = [&](OpBuilder &b, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto forall = scf::ForallOp::create(
      builder, loc, ArrayRef<OpFoldResult>{builder.getIndexAttr(oh)},
      ValueRange{init}, std::nullopt,
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value oy = args[0], out = args[1];
        SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
        offsets[1] = oy;
        SmallVector<OpFoldResult> sizes;
        for (int64_t size : rowShape)
          sizes.push_back(b.getIndexAttr(size));
        SmallVector<OpFoldResult> ones(rank, b.getIndexAttr(1));
        Value row = tensor::ExtractSliceOp::create(b, loc, rowType, out,
                                                   offsets, sizes, ones);
        auto pixels = scf::ForOp::create(
            b, loc, index(b, 0), index(b, batch * ow), index(b, 1),
            ValueRange{row},
            [&](OpBuilder &b, Location loc, Value pixel, ValueRange iter) {
              Value n = arith::DivUIOp::create(b, loc, pixel, index(b, ow));
              Value ox = arith::RemUIOp::create(b, loc, pixel, index(b, ow));
              auto blocks = scf::ForOp::create(
                  b, loc, index(b, 0), index(b, channels),
                  index(b, blockChannels), iter,
                  [&](OpBuilder &b, Location loc, Value ch, ValueRange iter) {
                    scf::YieldOp::create(
                        b, loc, block(b, loc, n, oy, ox, ch, iter[0]));
                  });
              scf::YieldOp::create(b, loc, blocks.getResults());
            });
        auto terminator = scf::InParallelOp::create(b, loc);
        b.setInsertionPointToStart(terminator.getBody());
        tensor::ParallelInsertSliceOp::create(b, loc, pixels.getResult(0), out,
                                              offsets, sizes, ones);
      });
  return forall.getResult(0);
}

/// Input coordinate `o * stride + k * dilation`.
Value inputCoordinate(OpBuilder &b, Location loc, Value o, int64_t stride,
                      int64_t k, int64_t dilation) {
  Value scaled = arith::MulIOp::create(
      b, loc, o, arith::ConstantIndexOp::create(b, loc, stride));
  return arith::AddIOp::create(
      b, loc, scaled, arith::ConstantIndexOp::create(b, loc, k * dilation));
}

/// Vectors of `width` floats along the innermost (channel) dimension of
/// the tensors the loops read and write: plain vector loads and stores.
struct ChannelVectors {
  VectorType type;
  Value zero; // padding of the reads, never used: they are in bounds

  ChannelVectors(OpBuilder &b, Location loc, int64_t width)
      : type(VectorType::get({width}, b.getF32Type())),
        zero(arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0))) {}

  Value read(OpBuilder &b, Location loc, Value tensor,
             ValueRange indices) const {
    return vector::TransferReadOp::create(b, loc, type, tensor, indices, zero,
                                          ArrayRef<bool>{true});
  }
  Value write(OpBuilder &b, Location loc, Value vector, Value tensor,
              ValueRange indices) const {
    return vector::TransferWriteOp::create(b, loc, vector, tensor, indices,
                                           ArrayRef<bool>{true})
        .getResult();
  }
};

/// sum + in * w, the named ops' body: same rounding, no fused multiply-add.
Value multiplyAdd(OpBuilder &b, Location loc, Value sum, Value in, Value w) {
  Value product = arith::MulFOp::create(b, loc, in, w);
  return arith::AddFOp::create(b, loc, sum, product);
}

/// conv2d NHWC x FHWC with a constant filter. Per pixel and block of up to
/// 4 x 16 output channels, the partial sums are vectors over output
/// channels; each input value is broadcast and multiplied with a row of the
/// filter, transposed at compile time to KH x KW x C x F.
LogicalResult rewriteConv(IRRewriter &rewriter, linalg::Conv2DNhwcFhwcOp op) {
  Value image = op.getInputs()[0], filter = op.getInputs()[1];
  Value init = op.getOutputs()[0];
  if (!isF32Tensor(image) || !isF32Tensor(filter) || !isF32Tensor(init))
    return failure();
  DenseElementsAttr weights;
  if (!matchPattern(filter, m_Constant(&weights)))
    return failure();
  auto filterType = cast<RankedTensorType>(filter.getType());
  int64_t f = filterType.getDimSize(0), kh = filterType.getDimSize(1),
          kw = filterType.getDimSize(2), c = filterType.getDimSize(3);
  SmallVector<float> values(weights.getValues<float>());
  SmallVector<float> transposed(values.size());
  for (int64_t o = 0; o < f; ++o)
    for (int64_t y = 0; y < kh; ++y)
      for (int64_t x = 0; x < kw; ++x)
        for (int64_t i = 0; i < c; ++i)
          transposed[((y * kw + x) * c + i) * f + o] =
              values[((o * kh + y) * kw + x) * c + i];
  int64_t width = largestDivisorUpTo(f, kMaxWidth);
  int64_t vectors = largestDivisorUpTo(f / width, kMaxVectors);
  auto strides = llvm::to_vector(op.getStrides().getValues<int64_t>());
  auto dilations = llvm::to_vector(op.getDilations().getValues<int64_t>());

  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  Value hwcf = arith::ConstantOp::create(
      rewriter, loc,
      DenseElementsAttr::get(
          RankedTensorType::get({kh, kw, c, f}, rewriter.getF32Type()),
          ArrayRef<float>(transposed)));
  ChannelVectors lanes(rewriter, loc, width);
  Value result = buildRowLoops(
      rewriter, loc, init, width * vectors,
      [&](OpBuilder &b, Location loc, Value n, Value oy, Value ox, Value ch,
          Value row) -> Value {
        Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
        SmallVector<Value> channel, sums;
        for (int64_t v = 0; v < vectors; ++v) {
          channel.push_back(arith::AddIOp::create(
              b, loc, ch, arith::ConstantIndexOp::create(b, loc, v * width)));
          sums.push_back(
              lanes.read(b, loc, row, ValueRange{n, c0, ox, channel[v]}));
        }
        // Kernel rows, columns, then input channels: the named op's order.
        for (int64_t y = 0; y < kh; ++y) {
          for (int64_t x = 0; x < kw; ++x) {
            Value iy = inputCoordinate(b, loc, oy, strides[0], y, dilations[0]);
            Value ix = inputCoordinate(b, loc, ox, strides[1], x, dilations[1]);
            Value cy = arith::ConstantIndexOp::create(b, loc, y);
            Value cx = arith::ConstantIndexOp::create(b, loc, x);
            auto inputs = scf::ForOp::create(
                b, loc, c0, arith::ConstantIndexOp::create(b, loc, c),
                arith::ConstantIndexOp::create(b, loc, 1), sums,
                [&](OpBuilder &b, Location loc, Value i, ValueRange iter) {
                  Value in = tensor::ExtractOp::create(
                      b, loc, image, ValueRange{n, iy, ix, i});
                  Value broadcast =
                      vector::BroadcastOp::create(b, loc, lanes.type, in);
                  SmallVector<Value> next;
                  for (int64_t v = 0; v < vectors; ++v) {
                    Value w = lanes.read(b, loc, hwcf,
                                         ValueRange{cy, cx, i, channel[v]});
                    next.push_back(multiplyAdd(b, loc, iter[v], broadcast, w));
                  }
                  scf::YieldOp::create(b, loc, next);
                });
            sums.assign(inputs.getResults().begin(), inputs.getResults().end());
          }
        }
        for (int64_t v = 0; v < vectors; ++v)
          row = lanes.write(b, loc, sums[v], row,
                            ValueRange{n, c0, ox, channel[v]});
        return row;
      });
  rewriter.replaceOp(op, result);
  return success();
}

/// Depthwise conv NHWC x HWCM with multiplier 1. Per pixel and block of up
/// to 16 channels, the partial sums are one vector over the window.
LogicalResult rewriteDepthwise(IRRewriter &rewriter,
                               linalg::DepthwiseConv2DNhwcHwcmOp op) {
  Value image = op.getInputs()[0], filter = op.getInputs()[1];
  Value init = op.getOutputs()[0];
  if (!isF32Tensor(image) || !isF32Tensor(filter) || !isF32Tensor(init))
    return failure();
  auto filterType = cast<RankedTensorType>(filter.getType());
  int64_t kh = filterType.getDimSize(0), kw = filterType.getDimSize(1),
          c = filterType.getDimSize(2);
  if (filterType.getDimSize(3) != 1)
    return failure();
  int64_t width = largestDivisorUpTo(c, kMaxWidth);
  auto strides = llvm::to_vector(op.getStrides().getValues<int64_t>());
  auto dilations = llvm::to_vector(op.getDilations().getValues<int64_t>());

  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  // Without the multiplier dimension every vector runs along the innermost
  // dimension: plain vector loads and stores.
  SmallVector<ReassociationIndices> dropLast = {{0}, {1}, {2, 3}};
  Value hwc = tensor::CollapseShapeOp::create(rewriter, loc, filter, dropLast);
  SmallVector<ReassociationIndices> outputGroups = {{0}, {1}, {2}, {3, 4}};
  Value nhwc =
      tensor::CollapseShapeOp::create(rewriter, loc, init, outputGroups);
  ChannelVectors lanes(rewriter, loc, width);
  Value result = buildRowLoops(
      rewriter, loc, nhwc, width,
      [&](OpBuilder &b, Location loc, Value n, Value oy, Value ox, Value ch,
          Value row) -> Value {
        Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
        Value sum = lanes.read(b, loc, row, ValueRange{n, c0, ox, ch});
        for (int64_t y = 0; y < kh; ++y) {
          for (int64_t x = 0; x < kw; ++x) {
            Value iy = inputCoordinate(b, loc, oy, strides[0], y, dilations[0]);
            Value ix = inputCoordinate(b, loc, ox, strides[1], x, dilations[1]);
            Value in = lanes.read(b, loc, image, ValueRange{n, iy, ix, ch});
            Value w = lanes.read(
                b, loc, hwc,
                ValueRange{arith::ConstantIndexOp::create(b, loc, y),
                           arith::ConstantIndexOp::create(b, loc, x), ch});
            sum = multiplyAdd(b, loc, sum, in, w);
          }
        }
        return lanes.write(b, loc, sum, row, ValueRange{n, c0, ox, ch});
      });
  rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, init.getType(), result,
                                                     outputGroups);
  return success();
}

struct FloatConvPass : public resq::impl::ResQFloatConvBase<FloatConvPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::Conv2DNhwcFhwcOp> convs;
    getOperation()->walk(
        [&](linalg::Conv2DNhwcFhwcOp op) { convs.push_back(op); });
    for (linalg::Conv2DNhwcFhwcOp op : convs)
      (void)rewriteConv(rewriter, op);
    SmallVector<linalg::DepthwiseConv2DNhwcHwcmOp> depthwise;
    getOperation()->walk([&](linalg::DepthwiseConv2DNhwcHwcmOp op) {
      depthwise.push_back(op);
    });
    for (linalg::DepthwiseConv2DNhwcHwcmOp op : depthwise)
      (void)rewriteDepthwise(rewriter, op);
  }
};

} // namespace
