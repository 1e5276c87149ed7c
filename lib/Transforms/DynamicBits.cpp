//===- DynamicBits.cpp - choose residual bit-widths at run time -----------===//

#include "ResQ/IR/ResQ.h"
#include "resq/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"

namespace resq {
#define GEN_PASS_DEF_RESQDYNAMICBITS
#include "resq/Transforms/Passes.h.inc"
} // namespace resq

using namespace mlir;
using namespace resq;

namespace {
struct DynamicBitsPass
    : public resq::impl::ResQDynamicBitsBase<DynamicBitsPass> {
  using ResQDynamicBitsBase::ResQDynamicBitsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<int64_t> widths(bitSet.begin(), bitSet.end());
    if (widths.empty())
      widths = {0, 2, 4, 8};
    llvm::sort(widths);
    // Reuse the attribute verifier for the option values, so the messages
    // match those of hand-written IR.
    auto emitOptionError = [&]() -> InFlightDiagnostic {
      InFlightDiagnostic diag = module.emitError();
      diag << "resq-dynamic-bits: ";
      return diag;
    };
    bool sawLayer = false;
    WalkResult result = module.walk([&](Operation *op) {
      if (!isResidualLinearOp(op))
        return WalkResult::advance();
      sawLayer = true;
      ResidualAttr old = getResidual(op);
      ResidualAttr attr = ResidualAttr::getChecked(
          emitOptionError, op->getContext(), old.getStep(), ArrayRef<int64_t>(widths), static_cast<int64_t>(block),
          llvm::APFloat(static_cast<double>(sceneCut)));
      if (!attr)
        return WalkResult::interrupt();
      setResidual(op, attr);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    if (!sawLayer) {
      module.emitError() << "resq-dynamic-bits: no residualized layer found; "
                            "run --resq-residualize first";
      return signalPassFailure();
    }
  }
};
} // namespace
