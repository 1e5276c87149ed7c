//===- PlanScratch.cpp - one allocation per step --------------------------===//
//
// A step function runs once per frame and allocates the same intermediate
// buffers every time. Placing them at fixed offsets of one scratch block
// (planned once, at compile time, from their live ranges) leaves one
// allocation per step instead of dozens.
//
//===----------------------------------------------------------------------===//

#include "resq/Conversion/Passes.h"
#include "resq/Conversion/StepFunction.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/Transforms/BufferViewFlowAnalysis.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace resq {
#define GEN_PASS_DEF_RESQPLANSCRATCH
#include "resq/Conversion/Passes.h.inc"
} // namespace resq

using namespace mlir;

namespace {

constexpr int64_t kAlign = 64;

int64_t roundUp(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

/// One intermediate buffer: its bytes and the positions (in the step
/// function's top-level block) of its allocation and of its last use.
struct Buffer {
  memref::AllocOp alloc;
  int64_t bytes = 0;
  int64_t first = 0, last = 0;
  int64_t offset = -1;
};

/// Byte size of a statically shaped, identity-layout memref of a type whose
/// width is a whole number of bytes; 0 when the buffer cannot be placed.
int64_t placeableBytes(MemRefType type) {
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      type.getMemorySpace())
    return 0;
  Type elem = type.getElementType();
  if (!elem.isIntOrFloat() || elem.getIntOrFloatBitWidth() % 8 != 0)
    return 0;
  return type.getNumElements() * (elem.getIntOrFloatBitWidth() / 8);
}

struct PlanScratchPass
    : public resq::impl::ResQPlanScratchBase<PlanScratchPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.getBody().hasOneBlock())
        continue;
      int64_t scratchSize = planFunction(func);
      // Runners and generated headers report it beside the stream state.
      auto layout =
          module->getAttrOfType<DictionaryAttr>(resq::kStreamLayoutAttr);
      if (layout && scratchSize > 0 && func.getNumArguments() > 0 &&
          resq::isLoweredStateArgument(module,
                                       func.getArgument(0).getType())) {
        NamedAttrList entries(layout);
        entries.set("scratch_size",
                    Builder(&getContext()).getI64IntegerAttr(scratchSize));
        module->setAttr(resq::kStreamLayoutAttr,
                        entries.getDictionary(&getContext()));
      }
    }
  }

  /// Replaces the function's placeable allocations by views into one
  /// scratch allocation; returns its size (0: nothing placed).
  int64_t planFunction(func::FuncOp func) {
    Block &body = func.getBody().front();

    // Program order of the top-level ops; a use inside a loop counts at the
    // loop.
    llvm::DenseMap<Operation *, int64_t> position;
    int64_t index = 0;
    for (Operation &op : body)
      position[&op] = index++;
    auto topLevelPosition = [&](Operation *op) -> int64_t {
      Operation *top = body.findAncestorOpInBlock(*op);
      return top ? position.lookup(top) : index; // elsewhere: keep to the end
    };

    BufferViewFlowAnalysis aliases(func);
    SmallVector<Buffer> buffers;
    for (Operation &op : body) {
      auto alloc = dyn_cast<memref::AllocOp>(&op);
      if (!alloc)
        continue;
      Buffer buffer;
      buffer.alloc = alloc;
      buffer.bytes = placeableBytes(alloc.getType());
      if (buffer.bytes == 0)
        continue;
      buffer.first = buffer.last = position.lookup(&op);
      bool escapes = false;
      for (Value alias : aliases.resolve(alloc.getResult())) {
        for (Operation *user : alias.getUsers()) {
          // Returned or deallocated by hand: its lifetime is not ours.
          if (isa<func::ReturnOp, memref::DeallocOp>(user))
            escapes = true;
          buffer.last = std::max(buffer.last, topLevelPosition(user));
        }
      }
      if (!escapes)
        buffers.push_back(buffer);
    }
    if (buffers.size() < 2)
      return 0; // One allocation already.

    // Larger buffers first, each at the lowest offset that no buffer with
    // an overlapping live range occupies.
    SmallVector<Buffer *> order;
    for (Buffer &b : buffers)
      order.push_back(&b);
    llvm::sort(order, [](const Buffer *a, const Buffer *b) {
      if (a->bytes != b->bytes)
        return a->bytes > b->bytes;
      return a->first < b->first;
    });
    SmallVector<Buffer *> placed;
    int64_t scratchSize = 0;
    for (Buffer *b : order) {
      SmallVector<std::pair<int64_t, int64_t>> taken;
      for (Buffer *p : placed)
        if (p->first <= b->last && b->first <= p->last)
          taken.push_back({p->offset, p->offset + p->bytes});
      llvm::sort(taken);
      int64_t at = 0;
      for (auto [lo, hi] : taken) {
        if (at + b->bytes <= lo)
          break;
        at = std::max(at, roundUp(hi, kAlign));
      }
      b->offset = at;
      scratchSize = std::max(scratchSize, roundUp(at + b->bytes, kAlign));
      placed.push_back(b);
    }

    // One allocation at the top of the function; buffer deallocation frees
    // it at the end.
    OpBuilder top(&body, body.begin());
    auto scratchType =
        MemRefType::get({scratchSize}, IntegerType::get(&getContext(), 8));
    Value scratch = memref::AllocOp::create(top, func.getLoc(), scratchType,
                                            top.getI64IntegerAttr(kAlign));
    for (Buffer &b : buffers) {
      OpBuilder builder(b.alloc);
      Value offset = arith::ConstantIndexOp::create(builder, b.alloc.getLoc(),
                                                    b.offset);
      Value view = memref::ViewOp::create(builder, b.alloc.getLoc(),
                                          b.alloc.getType(), scratch, offset,
                                          ValueRange{});
      b.alloc.replaceAllUsesWith(view);
      b.alloc.erase();
    }
    return scratchSize;
  }
};

} // namespace
