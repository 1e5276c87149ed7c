//===- OptimizeGlue.cpp - faster loops for the float glue -----------------===//
//
// The glue between linear layers (dequantization, activations, squeeze-
// excite, pooling) goes through upstream's TOSA lowering. Two of its
// patterns cost far more than their work on the real models: global
// average pooling (a serial, strided sum per channel) and the sigmoid's
// exp (a libm call per element, which keeps the loop scalar).
//
//===----------------------------------------------------------------------===//

#include "resq/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace resq {
#define GEN_PASS_DEF_RESQOPTIMIZEGLUE
#include "resq/Conversion/Passes.h.inc"
} // namespace resq

using namespace mlir;

namespace {

/// pooling_nhwc_sum over the whole 1xHxWxC input (output 1x1x1xC, unit
/// dilations) -> a generic over (n, h, w, c), c innermost, accumulating into
/// the 1xC view of the output. Per channel the additions run in the
/// pooling's own order (rows, then columns), so every bit is the same.
struct GlobalSumPooling : OpRewritePattern<linalg::PoolingNhwcSumOp> {
  using OpRewritePattern::OpRewritePattern;

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
    MLIRContext *ctx = rewriter.getContext();
    Type element = input.getElementType();
    auto flatType = RankedTensorType::get({1, in[3]}, element);
    SmallVector<ReassociationIndices> reassociation = {{0}, {1, 2, 3}};
    Value init = tensor::CollapseShapeOp::create(
        rewriter, loc, flatType, op.getOutputs()[0], reassociation);
    AffineExpr n, h, w, c;
    bindDims(ctx, n, h, w, c);
    SmallVector<AffineMap> maps = {AffineMap::get(4, 0, {n, h, w, c}, ctx),
                                   AffineMap::get(4, 0, {n, c}, ctx)};
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel, utils::IteratorType::reduction,
        utils::IteratorType::reduction, utils::IteratorType::parallel};
    auto sum = linalg::GenericOp::create(
        rewriter, loc, TypeRange{flatType}, ValueRange{op.getInputs()[0]},
        ValueRange{init}, maps, iterators,
        [](OpBuilder &b, Location loc, ValueRange args) {
          Value acc = arith::AddFOp::create(b, loc, args[1], args[0]);
          linalg::YieldOp::create(b, loc, acc);
        });
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
        op, output, sum.getResult(0), reassociation);
    return success();
  }
};

struct OptimizeGluePass
    : public resq::impl::ResQOptimizeGlueBase<OptimizeGluePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<GlobalSumPooling>(&getContext());
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) { return name == "math.exp"; });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
