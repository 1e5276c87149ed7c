//===- DynamicBits.cpp - choose residual bit-widths at run time -----------===//

#include "ResQ/IR/ResQ.h"
#include "resq/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

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
    if (block <= 0) {
      module.emitError() << "resq-dynamic-bits: block size must be positive, "
                            "got "
                         << static_cast<int64_t>(block);
      return signalPassFailure();
    }

    // Reuse the attribute verifier for the option values, so the messages
    // match those of hand-written IR.
    auto emitOptionError = [&]() -> InFlightDiagnostic {
      InFlightDiagnostic diag = module.emitError();
      diag << "resq-dynamic-bits: ";
      return diag;
    };
    // Fractions in (0, 1]; the message names the option as written.
    auto checkFraction = [&](llvm::StringRef name, double value) {
      if (value > 0.0 && value <= 1.0)
        return true;
      std::string text;
      llvm::raw_string_ostream os(text);
      os << llvm::format("%g", value);
      module.emitError() << "resq-dynamic-bits: " << name
                         << " must be in (0, 1], got " << text;
      return false;
    };
    if (!checkFraction("scene_cut", sceneCut) ||
        !checkFraction("dense-above", denseAbove))
      return signalPassFailure();
    if (sceneCutLayers != "first" && sceneCutLayers != "all") {
      module.emitError() << "resq-dynamic-bits: scene-cut-layers must be "
                            "'first' or 'all', got '"
                         << sceneCutLayers << "'";
      return signalPassFailure();
    }
    bool sawLayer = false, sawChangeCheck = false;
    WalkResult result = module.walk([&](Operation *op) {
      if (!isResidualLinearOp(op))
        return WalkResult::advance();
      ResidualAttr old = getResidual(op);
      // A standard layer checks no change, so it applies neither rule; the
      // scene cut of 'first' goes to the first layer that does.
      bool checksChange = !old.getStandard();
      bool firstLayer = checksChange && !sawChangeCheck;
      sawChangeCheck |= checksChange;
      sawLayer = true;
      LinearGeometry g = getLinearGeometry(op);
      int64_t blocks = g.n * ((g.ih + block - 1) / block) *
                       ((g.iw + block - 1) / block);
      // A handful of blocks says as little about how much changed as it
      // does about the scene: the same minimum applies to both rules.
      bool enoughBlocks = checksChange && blocks >= sceneCutMinBlocks;
      // Out-of-range values reach the attribute verifier below unchanged.
      bool applies =
          enoughBlocks && (sceneCutLayers == "all" || firstLayer);
      double layerSceneCut = applies ? sceneCut : 1.0;
      double layerDenseAbove =
          enoughBlocks ? static_cast<double>(denseAbove) : 1.0;
      ResidualAttr attr = ResidualAttr::getChecked(
          emitOptionError, op->getContext(), old.getStep(),
          ArrayRef<int64_t>(widths), static_cast<int64_t>(block),
          llvm::APFloat(layerSceneCut), llvm::APFloat(layerDenseAbove),
          old.getStandard());
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
