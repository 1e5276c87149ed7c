//===- Residualize.cpp - standard int8 TOSA graph -> residual graph -------===//
//
// Turns the function that holds a network's int8 linear layers into a step
// function over a video stream (see the pass description in Passes.td).
//
//===----------------------------------------------------------------------===//

#include "ResQ/IR/ResQ.h"
#include "resq/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

namespace resq {
#define GEN_PASS_DEF_RESQRESIDUALIZE
#include "resq/Transforms/Passes.h.inc"
} // namespace resq

using namespace mlir;
using namespace resq;

namespace {

/// Ops that may appear in a residualized function besides the linear layers.
/// They run unchanged on the reconstructed activations.
bool isSupportedOtherOp(Operation *op) {
  return isa<func::ReturnOp, arith::ConstantOp, tosa::ConstOp,
             tosa::ConstShapeOp, tosa::IdentityOp, tosa::RescaleOp,
             tosa::ClampOp, tosa::AddOp, tosa::SubOp, tosa::MulOp,
             tosa::MaximumOp, tosa::MinimumOp, tosa::AvgPool2dOp,
             tosa::MaxPool2dOp, tosa::ResizeOp, tosa::ConcatOp,
             tosa::ReshapeOp, tosa::PadOp, tosa::TableOp, tosa::SigmoidOp,
             tosa::TanhOp, tosa::SliceOp, tosa::TransposeOp, tosa::CastOp,
             tosa::TileOp, tosa::ReduceSumOp, tosa::ReduceMaxOp,
             tosa::ArgMaxOp>(op);
}

/// Marks a linear layer that calibration left in float on purpose.
constexpr llvm::StringLiteral kKeepFloat = "resq.keep_float";

bool isLinearOp(Operation *op) {
  return isa<tosa::Conv2DOp, tosa::DepthwiseConv2DOp,
             tosa::TransposeConv2DOp, tosa::MatMulOp>(op);
}

std::optional<int64_t> getScalarConstant(Value v) {
  DenseElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || attr.getNumElements() != 1 ||
      !attr.getElementType().isInteger())
    return std::nullopt;
  return (*attr.getValues<APInt>().begin()).getSExtValue();
}

bool isInt(Value v, unsigned width) {
  return getElementTypeOrSelf(v.getType()).isSignlessInteger(width);
}

std::string kindName(Operation *op) {
  return op->getName().stripDialect().str();
}

/// Parses "LAYER:VALUE" entries of a per-layer option.
LogicalResult parseLayerValues(ModuleOp module, StringRef option,
                               ArrayRef<std::string> entries,
                               llvm::StringMap<int64_t> &out) {
  for (const std::string &entry : entries) {
    auto [name, value] = StringRef(entry).rsplit(':');
    int64_t parsed;
    if (name.empty() || value.empty() || value.getAsInteger(10, parsed))
      return module.emitError()
             << "resq-residualize: " << option << " entry '" << entry
             << "' must be LAYER:VALUE with an integer value";
    out[name] = parsed;
  }
  return success();
}

struct ResidualizePass
    : public resq::impl::ResQResidualizeBase<ResidualizePass> {
  using ResQResidualizeBase::ResQResidualizeBase;

  void runOnOperation() override;

  /// Checks one linear op; returns failure after emitting a diagnostic.
  LogicalResult checkLinearOp(Operation *op);
  Operation *rewriteLinearOp(OpBuilder &b, Value stream, Operation *op,
                             StringAttr layer, ResidualAttr residual);
};

LogicalResult ResidualizePass::checkLinearOp(Operation *op) {
  Value input = op->getOperand(0), weight = op->getOperand(1);
  if (!isInt(input, 8) || !isInt(weight, 8)) {
    return op->emitError()
           << "resq-residualize: '" << op->getName() << "' has "
           << getElementTypeOrSelf(input.getType()) << " input and "
           << getElementTypeOrSelf(weight.getType())
           << " weights; only int8 linear layers can be residualized "
              "(quantize the model to int8 first)";
  }
  if (!isInt(op->getResult(0), 32))
    return op->emitError() << "resq-residualize: '" << op->getName()
                           << "' must accumulate in i32";
  if (!matchPattern(weight, m_Constant()))
    return op->emitError() << "resq-residualize: '" << op->getName()
                           << "' weights must be constant";
  Value inputZp, weightZp;
  if (isa<tosa::MatMulOp>(op)) {
    inputZp = op->getOperand(2);
    weightZp = op->getOperand(3);
  } else {
    inputZp = op->getOperand(3);
    weightZp = op->getOperand(4);
    if (!matchPattern(op->getOperand(2), m_Constant()))
      return op->emitError() << "resq-residualize: '" << op->getName()
                             << "' bias must be constant";
  }
  if (!getScalarConstant(inputZp))
    return op->emitError() << "resq-residualize: '" << op->getName()
                           << "' input zero point must be a constant";
  std::optional<int64_t> wzp = getScalarConstant(weightZp);
  if (!wzp || *wzp != 0)
    return op->emitError() << "resq-residualize: '" << op->getName()
                           << "' weight zero point must be the constant 0";
  if (auto mm = dyn_cast<tosa::MatMulOp>(op)) {
    auto w = cast<RankedTensorType>(mm.getB().getType());
    auto a = cast<RankedTensorType>(mm.getA().getType());
    if (!w.hasStaticShape() || !a.hasStaticShape())
      return op->emitError() << "resq-residualize: 'tosa.matmul' needs static "
                                "shapes";
  }
  return success();
}

Operation *ResidualizePass::rewriteLinearOp(OpBuilder &b, Value stream,
                                            Operation *op, StringAttr layer,
                                            ResidualAttr residual) {
  b.setInsertionPoint(op);
  Location loc = op->getLoc();
  Type type = op->getResult(0).getType();
  if (auto conv = dyn_cast<tosa::Conv2DOp>(op))
    return Conv2DOp::create(b, loc, type, stream, conv.getInput(),
                            conv.getWeight(), conv.getBias(),
                            conv.getInputZp(), conv.getPadAttr(),
                            conv.getStrideAttr(), conv.getDilationAttr(),
                            layer, residual);
  if (auto conv = dyn_cast<tosa::DepthwiseConv2DOp>(op))
    return DepthwiseConv2DOp::create(
        b, loc, type, stream, conv.getInput(), conv.getWeight(),
        conv.getBias(), conv.getInputZp(), conv.getPadAttr(),
        conv.getStrideAttr(), conv.getDilationAttr(), layer, residual);
  if (auto conv = dyn_cast<tosa::TransposeConv2DOp>(op))
    return TransposeConv2DOp::create(
        b, loc, type, stream, conv.getInput(), conv.getWeight(),
        conv.getBias(), conv.getInputZp(), conv.getOutPadAttr(),
        conv.getStrideAttr(), layer, residual);
  auto mm = cast<tosa::MatMulOp>(op);
  return MatMulOp::create(b, loc, type, stream, mm.getA(), mm.getB(),
                          mm.getAZp(), layer, residual);
}

void ResidualizePass::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *ctx = &getContext();

  if (step <= 0) {
    module.emitError() << "resq-residualize: step must be a positive "
                          "integer, got "
                       << static_cast<int64_t>(step);
    return signalPassFailure();
  }
  if (bits < 2 || bits > kMaxBitWidth) {
    module.emitError() << "resq-residualize: bits must be 2 to 9, got "
                       << static_cast<int64_t>(bits);
    return signalPassFailure();
  }
  if (keyframeInterval < 0) {
    module.emitError() << "resq-residualize: keyframe-interval must be >= 0, "
                          "got "
                       << static_cast<int64_t>(keyframeInterval);
    return signalPassFailure();
  }
  if (!(standardAbove >= 0.0 && standardAbove <= 1.0)) {
    module.emitError() << "resq-residualize: standard-above must be in "
                          "[0, 1], got "
                       << static_cast<double>(standardAbove);
    return signalPassFailure();
  }
  llvm::StringMap<int64_t> stepOverrides, bitOverrides, standardOverrides;
  for (const std::string &name : standardLayers)
    standardOverrides[name] = 1;
  if (failed(parseLayerValues(module, "layer-steps", layerSteps,
                              stepOverrides)) ||
      failed(parseLayerValues(module, "layer-bits", layerBits,
                              bitOverrides)))
    return signalPassFailure();

  // Find the step function: the one function holding linear layers.
  SmallVector<func::FuncOp> candidates;
  bool failedCheck = false;
  module.walk([&](Operation *op) {
    if (op->getDialect() && isa<ResQDialect>(op->getDialect())) {
      op->emitError() << "resq-residualize: the module is already "
                         "residualized";
      failedCheck = true;
    }
  });
  if (failedCheck)
    return signalPassFailure();
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    bool hasLinear = false;
    func.walk([&](Operation *op) {
      if (isLinearOp(op))
        hasLinear = true;
    });
    if (hasLinear)
      candidates.push_back(func);
  }
  if (candidates.empty()) {
    module.emitError() << "resq-residualize: no linear layer (tosa.conv2d, "
                          "depthwise_conv2d, transpose_conv2d, matmul) found";
    return signalPassFailure();
  }
  if (candidates.size() > 1) {
    auto diag = candidates[1].emitError()
                << "resq-residualize: linear layers in more than one "
                   "function; a module holds one step function";
    diag.attachNote(candidates[0].getLoc()) << "first one here";
    return signalPassFailure();
  }
  func::FuncOp func = candidates.front();

  // Check every op before changing anything.
  for (Operation &op : func.getBody().getOps()) {
    if (isLinearOp(&op)) {
      // Calibration keeps some layers in float on purpose (mixed
      // precision); they run unchanged on every frame.
      if (op.hasAttr(kKeepFloat))
        continue;
      if (failed(checkLinearOp(&op)))
        failedCheck = true;
      continue;
    }
    if (!isSupportedOtherOp(&op)) {
      op.emitError() << "resq-residualize: '" << op.getName()
                     << "' is not supported in a residual graph";
      failedCheck = true;
    }
  }
  if (!llvm::hasSingleElement(func.getBody())) {
    func.emitError() << "resq-residualize: the step function must have a "
                        "single block";
    failedCheck = true;
  }
  if (failedCheck)
    return signalPassFailure();

  // The stream state becomes the first argument.
  auto streamType = StreamType::get(ctx);
  if (failed(func.insertArgument(0, streamType, {}, func.getLoc())))
    return signalPassFailure();
  Value stream = func.getArgument(0);
  OpBuilder b(ctx);
  b.setInsertionPointToStart(&func.getBody().front());
  BeginFrameOp::create(b, func.getLoc(), stream, keyframeInterval);

  SmallVector<Operation *> linearOps;
  for (Operation &op : func.getBody().getOps())
    if (isLinearOp(&op))
      linearOps.push_back(&op);

  llvm::StringSet<> usedNames;
  SmallVector<std::string> layerNames;
  llvm::StringSet<> matchedOverrides;
  for (size_t index = 0; index < linearOps.size(); ++index) {
    Operation *op = linearOps[index];
    std::string name;
    if (auto nameLoc = dyn_cast<NameLoc>(op->getLoc()))
      name = nameLoc.getName().str();
    if (name.empty())
      name = kindName(op) + "_" + std::to_string(index);
    std::string unique = name;
    for (int suffix = 1; usedNames.contains(unique); ++suffix)
      unique = name + "_" + std::to_string(suffix);
    usedNames.insert(unique);
    layerNames.push_back(unique);
    if (op->hasAttr(kKeepFloat))
      continue; // named like the others, so names match calibration's

    int64_t layerStep = step;
    if (auto calibrated = op->getAttrOfType<IntegerAttr>("resq.step"))
      layerStep = calibrated.getInt();
    int64_t layerBitWidth = bits;
    if (auto it = stepOverrides.find(unique); it != stepOverrides.end()) {
      layerStep = it->second;
      matchedOverrides.insert("step:" + unique);
    }
    if (auto it = bitOverrides.find(unique); it != bitOverrides.end()) {
      layerBitWidth = it->second;
      matchedOverrides.insert("bits:" + unique);
    }
    auto emitLayerError = [&]() -> InFlightDiagnostic {
      InFlightDiagnostic diag = op->emitError();
      diag << "resq-residualize: layer '" << unique << "': ";
      return diag;
    };
    if (layerBitWidth < 2 || layerBitWidth > kMaxBitWidth) {
      emitLayerError() << "bit-width must be 2 to 9, got " << layerBitWidth;
      return signalPassFailure();
    }
    bool standard = standardOverrides.contains(unique);
    if (standard)
      matchedOverrides.insert("standard:" + unique);
    if (auto changed = op->getAttrOfType<FloatAttr>("resq.changed"))
      standard |= changed.getValueAsDouble() > standardAbove;
    ResidualAttr residual = ResidualAttr::getChecked(
        emitLayerError, ctx, layerStep, ArrayRef<int64_t>{layerBitWidth},
        /*block=*/int64_t(1), /*scene_cut=*/llvm::APFloat(1.0),
        /*dense_above=*/llvm::APFloat(1.0), standard);
    if (!residual)
      return signalPassFailure();
    Operation *replacement = rewriteLinearOp(
        b, stream, op, StringAttr::get(ctx, unique), residual);
    op->getResult(0).replaceAllUsesWith(replacement->getResult(0));
    op->erase();
  }

  // An override that names no layer is a typo the user wants to hear about.
  auto checkMatched = [&](const llvm::StringMap<int64_t> &overrides,
                          StringRef kind, StringRef option) {
    for (auto &entry : overrides) {
      if (matchedOverrides.contains((kind + ":" + entry.getKey()).str()))
        continue;
      auto diag = module.emitError()
                  << "resq-residualize: " << option << " names unknown layer '"
                  << entry.getKey() << "'; layers are: ";
      llvm::interleaveComma(layerNames, diag);
      return false;
    }
    return true;
  };
  if (!checkMatched(stepOverrides, "step", "layer-steps") ||
      !checkMatched(bitOverrides, "bits", "layer-bits") ||
      !checkMatched(standardOverrides, "standard", "standard-layers"))
    return signalPassFailure();
}

} // namespace
