//===- FloatConv.cpp - float convolutions that vectorize, same sums ------===//
//
// Float layers (the float reference model, and layers a mixed-precision
// model keeps in float) reach the loops as linalg's named convolutions,
// whose innermost loop is the reduction over the window. LLVM unrolls a
// short one and vectorizes over output channels around it; a long one (more
// than 27 products) stays a scalar float reduction, since LLVM may not
// reassociate it. Here such a conv2d becomes a linalg.generic that sums the
// input channels in chunks of up to 16 inside the loop over output channels:
// every output element still sums the same products in the same order, so
// the results are bit for bit those of upstream's lowering.
//
//===----------------------------------------------------------------------===//

#include "resq/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace resq {
#define GEN_PASS_DEF_RESQFLOATCONV
#include "resq/Conversion/Passes.h.inc"
} // namespace resq

using namespace mlir;

namespace {

/// Input channels are summed in chunks of at most this many (the largest
/// divisor of the channel count): LLVM unrolls a chunk and vectorizes the
/// loop over output channels around it, partial sums in registers.
constexpr int64_t kMaxChunk = 16;
/// Up to this many products per output LLVM already unrolls the named op's
/// reduction and vectorizes over output channels itself.
constexpr int64_t kUnrolledTaps = 27;

bool isF32Tensor(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.hasStaticShape() && type.getElementType().isF32();
}

/// conv2d NHWC x FHWC with a constant filter: loops (n, oh, ow, kh, kw,
/// c / chunk, f, c % chunk) over the filter transposed to
/// KH x KW x C/chunk x chunk x F.
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
  if (kh * kw * c <= kUnrolledTaps)
    return failure();
  int64_t width = kMaxChunk;
  while (c % width != 0)
    --width;
  SmallVector<float> values(weights.getValues<float>());
  SmallVector<float> transposed(values.size());
  for (int64_t o = 0; o < f; ++o)
    for (int64_t y = 0; y < kh; ++y)
      for (int64_t x = 0; x < kw; ++x)
        for (int64_t i = 0; i < c; ++i)
          transposed[((y * kw + x) * c + i) * f + o] =
              values[((o * kh + y) * kw + x) * c + i];

  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  // Chunks as dimensions of their own (linalg derives loop bounds from
  // operand shapes): the image viewed as N x H x W x C/chunk x chunk, the
  // filter as KH x KW x C/chunk x chunk x F.
  int64_t chunks = c / width;
  auto hwcfType = RankedTensorType::get({kh, kw, chunks, width, f},
                                        rewriter.getF32Type());
  Value hwcf = arith::ConstantOp::create(
      rewriter, loc,
      DenseElementsAttr::get(hwcfType, ArrayRef<float>(transposed)));
  auto imageType = cast<RankedTensorType>(image.getType());
  auto chunkedType = RankedTensorType::get(
      {imageType.getDimSize(0), imageType.getDimSize(1),
       imageType.getDimSize(2), chunks, width},
      rewriter.getF32Type());
  Value chunked = tensor::ExpandShapeOp::create(
      rewriter, loc, chunkedType, image,
      ArrayRef<ReassociationIndices>{{0}, {1}, {2}, {3, 4}});

  auto strides = llvm::to_vector(op.getStrides().getValues<int64_t>());
  auto dilations = llvm::to_vector(op.getDilations().getValues<int64_t>());
  MLIRContext *ctx = rewriter.getContext();
  AffineExpr n, oh, ow, y, x, chunk, o, lane;
  bindDims(ctx, n, oh, ow, y, x, chunk, o, lane);
  SmallVector<AffineMap> maps = {
      AffineMap::get(8, 0,
                     {n, oh * strides[0] + y * dilations[0],
                      ow * strides[1] + x * dilations[1], chunk, lane},
                     ctx),
      AffineMap::get(8, 0, {y, x, chunk, lane, o}, ctx),
      AffineMap::get(8, 0, {n, oh, ow, o}, ctx)};
  using utils::IteratorType;
  SmallVector<IteratorType> iterators = {
      IteratorType::parallel,  IteratorType::parallel,
      IteratorType::parallel,  IteratorType::reduction,
      IteratorType::reduction, IteratorType::reduction,
      IteratorType::parallel,  IteratorType::reduction};
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{init.getType()}, ValueRange{chunked, hwcf},
      ValueRange{init}, maps, iterators,
      [](OpBuilder &b, Location loc, ValueRange args) {
        // out + in * w, as the named op.
        Value product = arith::MulFOp::create(b, loc, args[0], args[1]);
        Value sum = arith::AddFOp::create(b, loc, args[2], product);
        linalg::YieldOp::create(b, loc, sum);
      });
  rewriter.replaceOp(op, generic.getResults());
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
  }
};

} // namespace
