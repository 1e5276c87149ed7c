//===- OuterParallelLoops.cpp - one parallel dimension per loop nest ------===//
//
// convert-linalg-to-parallel-loops makes every parallel dimension of the
// glue an scf.parallel dimension, and convert-scf-to-openmp would collapse
// them all into one shared iteration space: the channel loop, contiguous in
// memory, would no longer be a loop LLVM vectorizes. Here the threads share
// rows; everything inside them is sequential.
//
//===----------------------------------------------------------------------===//

#include "resq/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

namespace resq {
#define GEN_PASS_DEF_RESQINLINEALLOCASCOPES
#define GEN_PASS_DEF_RESQOUTERPARALLELLOOPS
#include "resq/Conversion/Passes.h.inc"
} // namespace resq

using namespace mlir;

namespace {

std::optional<int64_t> tripCount(Value lb, Value ub, Value step) {
  auto l = getConstantIntValue(lb), u = getConstantIntValue(ub),
       s = getConstantIntValue(step);
  if (!l || !u || !s || *s <= 0)
    return std::nullopt;
  return std::max<int64_t>(0, (*u - *l + *s - 1) / *s);
}

/// Iterations of the innermost body per execution of `block`: the loop
/// nests it holds, the largest one counting (loops of unknown trip count
/// count once).
int64_t nestedIterations(Block &block) {
  int64_t most = 1;
  for (Operation &op : block) {
    int64_t n = 1;
    if (auto loop = dyn_cast<scf::ForOp>(op))
      n = tripCount(loop.getLowerBound(), loop.getUpperBound(),
                    loop.getStep())
              .value_or(1);
    else if (auto par = dyn_cast<scf::ParallelOp>(op))
      for (unsigned d = 0; d < par.getNumLoops(); ++d)
        n *= tripCount(par.getLowerBound()[d], par.getUpperBound()[d],
                       par.getStep()[d])
                 .value_or(1);
    else if (op.getNumRegions() == 0)
      continue;
    for (Region &region : op.getRegions())
      for (Block &inner : region)
        most = std::max(most, n * nestedIterations(inner));
  }
  return most;
}

/// Rebuilds `op` with dimensions [0, keep) parallel and the rest as nested
/// scf.for loops (keep == 0: no scf.parallel at all).
void rebuild(scf::ParallelOp op, unsigned keep) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto lbs = op.getLowerBound(), ubs = op.getUpperBound(),
       steps = op.getStep();
  IRMapping mapping;
  Block &body = *op.getBody();

  // The sequential dimensions around a copy of the body.
  auto buildFors = [&](OpBuilder &builder, unsigned from) {
    OpBuilder::InsertionGuard guard(builder);
    for (unsigned d = from; d < lbs.size(); ++d) {
      auto loop = scf::ForOp::create(builder, loc, lbs[d], ubs[d], steps[d]);
      mapping.map(op.getInductionVars()[d], loop.getInductionVar());
      builder.setInsertionPoint(loop.getBody()->getTerminator());
    }
    for (Operation &inner : body.without_terminator())
      builder.clone(inner, mapping);
  };
  if (keep == 0) {
    buildFors(b, 0);
  } else {
    auto outer = scf::ParallelOp::create(
        b, loc, lbs.take_front(keep), ubs.take_front(keep),
        steps.take_front(keep));
    for (unsigned d = 0; d < keep; ++d)
      mapping.map(op.getInductionVars()[d], outer.getInductionVars()[d]);
    OpBuilder inner(outer.getBody()->getTerminator());
    buildFors(inner, keep);
  }
  op.erase();
}

struct OuterParallelLoopsPass
    : public resq::impl::ResQOuterParallelLoopsBase<OuterParallelLoopsPass> {
  using Base::Base;

  /// A loop nest may fork only where nothing around it repeats: no
  /// enclosing scf.parallel, scf.while, or scf.for of more than one
  /// iteration (a fork per outer iteration costs more than it saves).
  static bool mayFork(scf::ParallelOp op) {
    for (Operation *p = op->getParentOp(); p && !isa<func::FuncOp>(p);
         p = p->getParentOp()) {
      if (isa<scf::ParallelOp, scf::WhileOp>(p))
        return false;
      if (auto loop = dyn_cast<scf::ForOp>(p)) {
        auto n = tripCount(loop.getLowerBound(), loop.getUpperBound(),
                           loop.getStep());
        if (!n || *n > 1)
          return false;
      }
    }
    return true;
  }

  void runOnOperation() override {
    // Post-order: inner loops are rebuilt before the loops that hold them
    // (which then copy the rebuilt inner loops).
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk([&](scf::ParallelOp op) { loops.push_back(op); });
    for (scf::ParallelOp op : loops) {
      if (op.getNumResults() != 0)
        continue; // A reduction: left to upstream.
      if (!mayFork(op)) {
        rebuild(op, 0);
        continue;
      }
      int64_t total = 1;
      std::optional<unsigned> keep;
      bool known = true;
      for (unsigned d = 0; d < op.getNumLoops(); ++d) {
        auto n = tripCount(op.getLowerBound()[d], op.getUpperBound()[d],
                           op.getStep()[d]);
        if (!n) {
          known = false;
          break;
        }
        total *= *n;
        if (!keep && *n > 1)
          keep = d + 1;
      }
      // The work of the whole nest: the parallel dimensions and the
      // sequential loops inside them (a float convolution's rows hold loops
      // over pixels, channels and the window).
      if (known)
        total *= nestedIterations(*op.getBody());
      bool rows = op->hasAttr(resq::kParallelRowsAttr);
      bool worthIt = known && keep && (rows || total >= minIterations);
      rebuild(op, worthIt ? *keep : 0);
    }
  }
};

struct InlineAllocaScopesPass
    : public resq::impl::ResQInlineAllocaScopesBase<InlineAllocaScopesPass> {
  void runOnOperation() override {
    SmallVector<memref::AllocaScopeOp> scopes;
    getOperation().walk([&](memref::AllocaScopeOp scope) {
      // An alloca of this scope (not of a nested one) keeps it.
      bool allocates = false;
      scope.getBodyRegion().walk([&](memref::AllocaOp alloca) {
        if (alloca->getParentOfType<memref::AllocaScopeOp>() == scope)
          allocates = true;
      });
      if (!allocates)
        scopes.push_back(scope);
    });
    for (memref::AllocaScopeOp scope : scopes) {
      Block &body = scope.getBodyRegion().front();
      auto ret = cast<memref::AllocaScopeReturnOp>(body.getTerminator());
      scope.replaceAllUsesWith(ret.getResults());
      Block *parent = scope->getBlock();
      ret.erase();
      parent->getOperations().splice(Block::iterator(scope),
                                     body.getOperations());
      scope.erase();
    }
  }
};

} // namespace
