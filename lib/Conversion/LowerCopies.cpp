//===- LowerCopies.cpp - memref.copy as loops around contiguous runs ------===//
//
// Bufferization leaves `memref.copy` where a padded tensor is filled (the
// target is a strided view of the padded buffer) and, inside the glue's
// tiled loops, copies of a view onto an identical view of the same buffer.
// Upstream lowers a copy that is not contiguous on both sides to a call of
// `memrefCopy` from the C runner utilities, which moves one element at a
// time: 1.8 ms of a 10.8 ms pose_landmark_lite step. Here a copy becomes
// loops over its outer dimensions around one contiguous run (a 1-D view the
// LLVM lowering turns into a memcpy), and a copy onto itself disappears.
//
//===----------------------------------------------------------------------===//

#include "resq/Conversion/Passes.h"
#include "resq/Support/PadBorder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace resq {
#define GEN_PASS_DEF_RESQLOWERCOPIES
#include "resq/Conversion/Passes.h.inc"
} // namespace resq

using namespace mlir;

namespace {

/// True when the copy reads and writes the same elements.
bool isSelfCopy(memref::CopyOp copy) {
  Value source = copy.getSource(), target = copy.getTarget();
  if (source == target)
    return true;
  auto from = source.getDefiningOp<memref::SubViewOp>();
  auto to = target.getDefiningOp<memref::SubViewOp>();
  return from && to && from.getSource() == to.getSource() &&
         from.getType() == to.getType() &&
         isEqualConstantIntOrValueArray(from.getMixedOffsets(),
                                        to.getMixedOffsets()) &&
         isEqualConstantIntOrValueArray(from.getMixedSizes(),
                                        to.getMixedSizes()) &&
         isEqualConstantIntOrValueArray(from.getMixedStrides(),
                                        to.getMixedStrides());
}

/// The first dimension from which on both memrefs are one contiguous run
/// (unit dimensions fit anywhere); the rank when even the innermost
/// dimension is strided or a shape or stride is not static.
int64_t firstRunDim(MemRefType a, MemRefType b) {
  int64_t rank = a.getRank();
  SmallVector<int64_t> stridesA, stridesB;
  int64_t offset;
  if (!a.hasStaticShape() || failed(a.getStridesAndOffset(stridesA, offset)) ||
      failed(b.getStridesAndOffset(stridesB, offset)))
    return rank;
  int64_t first = rank, run = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    int64_t size = a.getDimSize(d);
    if (size != 1 && (stridesA[d] != run || stridesB[d] != run))
      break;
    run *= size;
    first = d;
  }
  return first;
}

/// A stride or the offset of a memref: the constant of its type where
/// static, else the value its metadata holds.
Value staticOr(ImplicitLocOpBuilder &b, int64_t known, Value dynamic) {
  return ShapedType::isDynamic(known)
             ? dynamic
             : arith::ConstantIndexOp::create(b, known).getResult();
}

/// Replaces `copy` by loops over the dimensions before `first` around a copy
/// of one contiguous run of `run` elements (a 1-D view of each side), or,
/// when `first` is the rank, around one element's load and store.
/// With `parallel`, the outer loops are one scf.parallel whose rows the
/// threads share (resq-outer-parallel-loops keeps it).
void lowerCopy(memref::CopyOp copy, int64_t first, bool parallel) {
  ImplicitLocOpBuilder b(copy.getLoc(), copy);
  auto sourceType = cast<MemRefType>(copy.getSource().getType());
  auto targetType = cast<MemRefType>(copy.getTarget().getType());
  int64_t rank = sourceType.getRank();

  // Base buffers and strides are read once, outside the loops.
  memref::ExtractStridedMetadataOp sourceData, targetData;
  if (first < rank) {
    sourceData = memref::ExtractStridedMetadataOp::create(b, copy.getSource());
    targetData = memref::ExtractStridedMetadataOp::create(b, copy.getTarget());
  }

  SmallVector<Value> ivs;
  // Leading dimensions of one element stay loops of one iteration: the
  // parallel loop then keeps its shape (and mark) through canonicalization.
  int64_t unit = 0;
  while (unit < first && sourceType.getDimSize(unit) == 1)
    ++unit;
  auto forLoops = [&](int64_t end) {
    for (int64_t d = ivs.size(); d < end; ++d) {
      Value upper = memref::DimOp::create(b, copy.getSource(), d);
      auto loop =
          scf::ForOp::create(b, arith::ConstantIndexOp::create(b, 0), upper,
                             arith::ConstantIndexOp::create(b, 1));
      ivs.push_back(loop.getInductionVar());
      b.setInsertionPoint(loop.getBody()->getTerminator());
    }
  };
  if (parallel && unit < first) {
    forLoops(unit);
    SmallVector<Value> lower, upper, steps;
    for (int64_t d = unit; d < first; ++d) {
      lower.push_back(arith::ConstantIndexOp::create(b, 0));
      upper.push_back(memref::DimOp::create(b, copy.getSource(), d));
      steps.push_back(arith::ConstantIndexOp::create(b, 1));
    }
    auto loop = scf::ParallelOp::create(b, lower, upper, steps);
    loop->setAttr(resq::kParallelRowsAttr, b.getUnitAttr());
    llvm::append_range(ivs, loop.getInductionVars());
    b.setInsertionPoint(loop.getBody()->getTerminator());
  }
  forLoops(first);

  if (first == rank) {
    Value element = memref::LoadOp::create(b, copy.getSource(), ivs);
    memref::StoreOp::create(b, element, copy.getTarget(), ivs);
    copy.erase();
    return;
  }

  int64_t run = 1;
  for (int64_t d = first; d < rank; ++d)
    run *= sourceType.getDimSize(d);
  auto runView = [&](MemRefType type,
                     memref::ExtractStridedMetadataOp metadata) -> Value {
    auto [strides, offset] = type.getStridesAndOffset();
    Value at = staticOr(b, offset, metadata.getOffset());
    for (int64_t d = 0; d < first; ++d) {
      Value stride = staticOr(b, strides[d], metadata.getStrides()[d]);
      at = arith::AddIOp::create(b, at,
                                 arith::MulIOp::create(b, ivs[d], stride));
    }
    auto viewType = MemRefType::get(
        {run}, type.getElementType(),
        StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic, {1}),
        type.getMemorySpace());
    return memref::ReinterpretCastOp::create(
        b, viewType, metadata.getBaseBuffer(), OpFoldResult(at),
        ArrayRef<OpFoldResult>{b.getIndexAttr(run)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  };
  Value from = runView(sourceType, sourceData);
  Value to = runView(targetType, targetData);
  memref::CopyOp::create(b, from, to);
  copy.erase();
}

/// The value a fill of the whole of `buffer` writes: a linalg.fill, or the
/// linalg.map bufferization makes of a tensor.pad (it yields one value
/// defined outside it); null for anything else.
Value fillValue(Operation *op, Value buffer) {
  if (auto fill = dyn_cast<linalg::FillOp>(op))
    return fill.getOutputs().size() == 1 && fill.getOutputs()[0] == buffer
               ? fill.getInputs()[0]
               : Value();
  auto map = dyn_cast<linalg::MapOp>(op);
  if (!map || map.getInit() != buffer || !map.getInputs().empty())
    return Value();
  Value yielded = map.getMapper().front().getTerminator()->getOperand(0);
  Operation *owner = yielded.getParentBlock()->getParentOp();
  if (Operation *def = yielded.getDefiningOp())
    owner = def;
  return map->isAncestor(owner) ? Value() : yielded;
}

/// A padded buffer (tensor.pad after bufferization) was filled whole with
/// the padding value, then the copy into its interior overwrites most of
/// it: pose's float layers filled 7.5 MB per step that way. The fill is
/// narrowed to the border: per dimension, the slabs below and above the
/// interior (within the interior of the dimensions before it). The same
/// elements end up with the same values.
void fillBorderOnly(memref::CopyOp copy) {
  auto interior = copy.getTarget().getDefiningOp<memref::SubViewOp>();
  if (!interior || !interior.hasUnitStride())
    return;
  Value buffer = interior.getSource();
  auto type = dyn_cast<MemRefType>(buffer.getType());
  if (!type || !type.hasStaticShape())
    return;
  ArrayRef<int64_t> offsets = interior.getStaticOffsets(),
                    sizes = interior.getStaticSizes();
  if (ShapedType::isDynamicShape(offsets) || ShapedType::isDynamicShape(sizes))
    return;
  // The whole-buffer fill: before the copy in its block, and nothing else
  // touching the buffer in between.
  Block *block = copy->getBlock();
  Operation *fill = nullptr;
  Value value;
  for (Operation *user : buffer.getUsers()) {
    Value v = fillValue(user, buffer);
    if (v && user->getBlock() == block && user->isBeforeInBlock(copy)) {
      if (fill)
        return;
      fill = user;
      value = v;
    }
  }
  if (!fill)
    return;
  for (Operation *user : buffer.getUsers()) {
    Operation *at = block->findAncestorOpInBlock(*user);
    if (!at)
      return;
    if (user != fill && user != interior && fill->isBeforeInBlock(at) &&
        at->isBeforeInBlock(copy))
      return;
  }
  ImplicitLocOpBuilder b(fill->getLoc(), fill);
  SmallVector<int64_t> unit(type.getRank(), 1);
  resq::forEachBorderSlab(
      type.getShape(), offsets, sizes,
      [&](ArrayRef<int64_t> slabOffsets, ArrayRef<int64_t> slabSizes) {
        Value slab = memref::SubViewOp::create(b, buffer, slabOffsets,
                                               slabSizes, unit);
        linalg::FillOp::create(b, value, slab);
      });
  fill->erase();
}

/// Copies of at least this many bytes are shared among threads.
constexpr int64_t kParallelCopyBytes = 256 * 1024;

struct LowerCopiesPass
    : public resq::impl::ResQLowerCopiesBase<LowerCopiesPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation()->walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    for (memref::CopyOp copy : copies) {
      if (isSelfCopy(copy)) {
        copy.erase();
        continue;
      }
      auto sourceType = dyn_cast<MemRefType>(copy.getSource().getType());
      auto targetType = dyn_cast<MemRefType>(copy.getTarget().getType());
      if (!sourceType || !targetType) {
        copy.emitError("resq-lower-copies: unranked memref.copy");
        return signalPassFailure();
      }
      // Identity layouts on both sides: already one memcpy upstream.
      if (sourceType.getLayout().isIdentity() &&
          targetType.getLayout().isIdentity())
        continue;
      if (sourceType.hasStaticShape() && sourceType.getNumElements() == 0) {
        copy.erase();
        continue;
      }
      fillBorderOnly(copy);
      int64_t elementBits = sourceType.getElementType().isIntOrFloat()
                                ? sourceType.getElementTypeBitWidth()
                                : 0;
      bool large = sourceType.hasStaticShape() &&
                   sourceType.getNumElements() * elementBits / 8 >=
                       kParallelCopyBytes;
      lowerCopy(copy, firstRunDim(sourceType, targetType), parallel && large);
    }
  }
};

} // namespace
