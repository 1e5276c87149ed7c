//===- OuterParallelLoops.cpp - loop nests and regions for threads -------===//
//
// convert-linalg-to-parallel-loops makes every parallel dimension of the
// glue an scf.parallel dimension, and convert-scf-to-openmp would collapse
// them all into one shared iteration space: the channel loop, contiguous in
// memory, would no longer be a loop LLVM vectorizes. Here the threads share
// rows; everything inside them is sequential. After convert-scf-to-openmp,
// consecutive parallel regions merge so that a step forks once per run of
// loop nests rather than once per loop nest.
//
//===----------------------------------------------------------------------===//

#include "resq/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace resq {
#define GEN_PASS_DEF_RESQINLINEALLOCASCOPES
#define GEN_PASS_DEF_RESQMERGEPARALLELREGIONS
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
  /// iteration (a fork per outer iteration costs more than it saves),
  /// unless the scf.for is marked to fork each iteration.
  static bool mayFork(scf::ParallelOp op) {
    for (Operation *p = op->getParentOp(); p && !isa<func::FuncOp>(p);
         p = p->getParentOp()) {
      if (isa<scf::ParallelOp, scf::WhileOp>(p))
        return false;
      if (p->hasAttr(resq::kForkEachIterationAttr))
        continue;
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

/// An omp.parallel that holds one omp.wsloop (with its barrier) and
/// otherwise only operations without memory effects: its body can follow
/// another region's body in one region.
bool isMergeable(omp::ParallelOp region) {
  if (region->getNumOperands() != 0 || !region.getRegion().hasOneBlock())
    return false;
  Block &body = region.getRegion().front();
  if (body.getNumArguments() != 0)
    return false;
  int loops = 0;
  for (Operation &op : body.without_terminator()) {
    if (auto loop = dyn_cast<omp::WsloopOp>(op)) {
      if (loop.getNowait() || loop->getNumOperands() != 0)
        return false;
      ++loops;
    } else if (op.getNumRegions() != 0 || !isMemoryEffectFree(&op)) {
      return false;
    }
  }
  return loops == 1;
}

/// Replaces an `scf.for` of one iteration (no loop-carried values) around
/// omp.parallel regions by its body, so that the regions can join a run.
void inlineSingleIterationLoops(func::FuncOp func) {
  SmallVector<scf::ForOp> loops;
  func.walk([&](scf::ForOp loop) {
    if (loop.getNumResults() == 0 &&
        tripCount(loop.getLowerBound(), loop.getUpperBound(),
                  loop.getStep()) == 1 &&
        llvm::any_of(*loop.getBody(), llvm::IsaPred<omp::ParallelOp>))
      loops.push_back(loop);
  });
  IRRewriter rewriter(func.getContext());
  for (scf::ForOp loop : loops) {
    Block *body = loop.getBody();
    rewriter.eraseOp(body->getTerminator());
    rewriter.inlineBlockBefore(body, loop, {loop.getLowerBound()});
    rewriter.eraseOp(loop);
  }
}

/// Merges the runs of omp.parallel regions in `block` (see the pass
/// description).
void mergeRegions(Block &block) {
  omp::ParallelOp merged; // The region of the current run.
  SmallVector<Operation *> between;
  for (Operation &op : llvm::make_early_inc_range(block)) {
    auto region = dyn_cast<omp::ParallelOp>(op);
    if (!region) {
      if (merged)
        between.push_back(&op);
      continue;
    }
    if (!isMergeable(region)) {
      merged = nullptr;
      between.clear();
      continue;
    }
    if (!merged) {
      merged = region;
      continue;
    }
    // Operations without memory effects (and not depending on the others)
    // go in front of the run; the rest into an omp.single, if nothing after
    // the single needs their results.
    llvm::SetVector<Operation *> single;
    SmallVector<Operation *> hoisted;
    for (Operation *o : between) {
      bool dependsOnSingle = llvm::any_of(o->getOperands(), [&](Value v) {
        return single.contains(v.getDefiningOp());
      });
      if (o->getNumRegions() == 0 && isMemoryEffectFree(o) &&
          !dependsOnSingle)
        hoisted.push_back(o);
      else
        single.insert(o);
    }
    bool closed = llvm::all_of(single, [&](Operation *o) {
      bool forks = false;
      o->walk([&](omp::ParallelOp) { forks = true; });
      return !forks && llvm::all_of(o->getUsers(), [&](Operation *user) {
        Operation *top = block.findAncestorOpInBlock(*user);
        return top && single.contains(top);
      });
    });
    between.clear();
    if (!closed) {
      merged = region;
      continue;
    }
    for (Operation *o : hoisted)
      o->moveBefore(merged);
    Block &into = merged.getRegion().front();
    OpBuilder b = OpBuilder::atBlockTerminator(&into);
    if (!single.empty()) {
      auto once = omp::SingleOp::create(b, region.getLoc(),
                                        omp::SingleOperands{});
      Block *onceBody = b.createBlock(&once.getRegion());
      b.setInsertionPointToEnd(onceBody);
      auto end = omp::TerminatorOp::create(b, region.getLoc());
      for (Operation *o : single)
        o->moveBefore(end);
    }
    Block &from = region.getRegion().front();
    into.getOperations().splice(into.getTerminator()->getIterator(),
                                from.getOperations(), from.begin(),
                                from.getTerminator()->getIterator());
    region.erase();
  }
}

struct MergeParallelRegionsPass
    : public resq::impl::ResQMergeParallelRegionsBase<
          MergeParallelRegionsPass> {
  void runOnOperation() override {
    inlineSingleIterationLoops(getOperation());
    SetVector<Block *> blocks;
    getOperation().walk([&](omp::ParallelOp region) {
      blocks.insert(region->getBlock());
    });
    for (Block *block : blocks)
      mergeRegions(*block);
  }
};

} // namespace
