//===- QuantizeGraph.cpp - float linear layers -> int8 linear layers ------===//

#include "resq/Quantize/Quantize.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/Tosa/Utils/ConversionUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>

using namespace mlir;
using namespace resq;

namespace {

bool isLinear(Operation *op) {
  return isa<tosa::Conv2DOp, tosa::DepthwiseConv2DOp, tosa::TransposeConv2DOp,
             tosa::MatMulOp>(op);
}

bool isFloat(Value v) {
  return isa<FloatType>(getElementTypeOrSelf(v.getType()));
}

func::FuncOp findEntry(ModuleOp module, StringRef entry) {
  return module.lookupSymbol<func::FuncOp>(entry);
}

/// Which output channel each weight element belongs to.
int64_t channelAxisSize(Operation *op, ArrayRef<int64_t> w) {
  if (isa<tosa::DepthwiseConv2DOp>(op))
    return w[2] * w[3]; // KH, KW, C, M -> c * M + m
  if (isa<tosa::MatMulOp>(op))
    return w[2]; // N, C, W -> w
  return w[0];   // OHWI
}
int64_t channelOf(Operation *op, ArrayRef<int64_t> w, int64_t index) {
  if (isa<tosa::DepthwiseConv2DOp>(op))
    return index % (w[2] * w[3]);
  if (isa<tosa::MatMulOp>(op))
    return index % w[2];
  return index / (w[1] * w[2] * w[3]);
}

/// Which input channel a weight element reads (conv2d and depthwise), or
/// -1 when the op has no per-channel correspondence handled here.
int64_t inputChannelOf(Operation *op, ArrayRef<int64_t> w, int64_t index) {
  if (isa<tosa::DepthwiseConv2DOp>(op))
    return (index / w[3]) % w[2]; // KH, KW, C, M
  if (isa<tosa::Conv2DOp>(op))
    return index % w[3]; // OHWI
  return -1;
}

Value constTensor(OpBuilder &b, Location loc, RankedTensorType type,
                  DenseElementsAttr values) {
  return tosa::ConstOp::create(b, loc, type, values);
}

Value scalarConst(OpBuilder &b, Location loc, Type elem, int64_t rank,
                  Attribute value) {
  auto type = RankedTensorType::get(SmallVector<int64_t>(rank, 1), elem);
  return constTensor(b, loc, type, DenseElementsAttr::get(type, value));
}

/// A tensor<1xi8> zero point.
Value zeroPoint(OpBuilder &b, Location loc, int64_t value) {
  auto type = RankedTensorType::get({1}, b.getI8Type());
  return constTensor(b, loc, type,
                     DenseElementsAttr::get(
                         type, b.getIntegerAttr(b.getI8Type(), value)));
}

/// A transposed convolution whose kernel equals its stride, unpadded: every
/// output pixel reads exactly one input pixel through one tap.
bool isDepthToSpace(tosa::TransposeConv2DOp conv, ArrayRef<int64_t> w) {
  ArrayRef<int64_t> stride = conv.getStride(), outPad = conv.getOutPad();
  auto input = cast<RankedTensorType>(conv.getInput().getType());
  return input.hasStaticShape() && w[1] == stride[0] && w[2] == stride[1] &&
         llvm::all_of(outPad, [](int64_t p) { return p == 0; });
}

/// Such a transposed convolution as a 1x1 convolution to KH x KW x OC
/// channels (tap-major) and a depth-to-space: the same integer sums, but
/// computed once per input pixel for all taps and channels (selfie's
/// 2x2 stride-2 head has one output channel: per output pixel, its
/// kernel filled one lane of sixteen).
Value depthToSpaceConv(OpBuilder &b, Location loc,
                       tosa::TransposeConv2DOp conv, ArrayRef<int64_t> w,
                       ArrayRef<int8_t> wq, ArrayRef<int32_t> bias, Value xq,
                       Value inZp, Value wZp, RankedTensorType accType) {
  int64_t oc = w[0], kh = w[1], kw = w[2], ic = w[3], taps = kh * kw;
  // W'[(ky * KW + kx) * OC + o][0][0][c] = W[o][ky][kx][c].
  SmallVector<int8_t> packed(wq.size());
  for (int64_t o = 0; o < oc; ++o)
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t c = 0; c < ic; ++c)
        packed[(t * oc + o) * ic + c] = wq[(o * taps + t) * ic + c];
  auto wType = RankedTensorType::get({taps * oc, 1, 1, ic}, b.getI8Type());
  Value weights = constTensor(
      b, loc, wType, DenseElementsAttr::get(wType, ArrayRef<int8_t>(packed)));
  SmallVector<int32_t> perTap;
  for (int64_t t = 0; t < taps; ++t)
    perTap.append(bias.begin(), bias.end());
  auto bType = RankedTensorType::get({taps * oc}, b.getI32Type());
  Value tapBias = constTensor(
      b, loc, bType, DenseElementsAttr::get(bType, ArrayRef<int32_t>(perTap)));

  ArrayRef<int64_t> in =
      cast<RankedTensorType>(conv.getInput().getType()).getShape();
  Type i32 = b.getI32Type();
  auto convType = RankedTensorType::get({in[0], in[1], in[2], taps * oc}, i32);
  Value sums = tosa::Conv2DOp::create(
      b, loc, convType, xq, weights, tapBias, inZp, wZp,
      b.getDenseI64ArrayAttr({0, 0, 0, 0}), b.getDenseI64ArrayAttr({1, 1}),
      b.getDenseI64ArrayAttr({1, 1}), TypeAttr::get(i32));
  // [N, H, W, KH, KW, OC] -> [N, H, KH, W, KW, OC] -> [N, H*KH, W*KW, OC].
  Location d2s = NameLoc::get(
      StringAttr::get(b.getContext(), "depth_to_space"), loc);
  ImplicitLocOpBuilder at(d2s, b);
  auto shape = [&](ArrayRef<int64_t> dims) {
    return tosa::getTosaConstShape(at, dims);
  };
  SmallVector<int64_t> split = {in[0], in[1], in[2], kh, kw, oc};
  Value taps6 = tosa::ReshapeOp::create(
      b, d2s, RankedTensorType::get(split, i32), sums, shape(split));
  SmallVector<int64_t> moved = {in[0], in[1], kh, in[2], kw, oc};
  Value interleaved = tosa::TransposeOp::create(
      b, d2s, RankedTensorType::get(moved, i32), taps6,
      b.getDenseI32ArrayAttr({0, 1, 3, 2, 4, 5}));
  return tosa::ReshapeOp::create(b, d2s, accType, interleaved,
                                 shape(accType.getShape()));
}

std::string layerName(Operation *op, unsigned index,
                      llvm::StringSet<> &used) {
  std::string name;
  if (auto nameLoc = dyn_cast<NameLoc>(op->getLoc()))
    name = nameLoc.getName().str();
  if (name.empty())
    name = op->getName().stripDialect().str() + "_" + std::to_string(index);
  std::string unique = name;
  for (int suffix = 1; used.contains(unique); ++suffix)
    unique = name + "_" + std::to_string(suffix);
  used.insert(unique);
  return unique;
}

} // namespace

SmallVector<FloatLayer> resq::findFloatLayers(ModuleOp module,
                                              StringRef entry) {
  SmallVector<FloatLayer> layers;
  func::FuncOp func = findEntry(module, entry);
  if (!func || func.isExternal())
    return layers;
  llvm::StringSet<> used;
  llvm::DenseMap<Value, unsigned> inputs;
  unsigned index = 0;
  for (Operation &op : func.getBody().getOps()) {
    if (!isLinear(&op))
      continue;
    std::string name = layerName(&op, index++, used);
    Value input = op.getOperand(0);
    if (!isFloat(input) || !matchPattern(op.getOperand(1), m_Constant()))
      continue;
    auto [it, inserted] = inputs.try_emplace(input, inputs.size());
    layers.push_back({&op, name, it->second});
  }
  return layers;
}

OwningOpRef<ModuleOp> resq::instrumentLayerInputs(ModuleOp module,
                                                  StringRef entry) {
  OwningOpRef<ModuleOp> copy(cast<ModuleOp>(module->clone()));
  func::FuncOp func = findEntry(*copy, entry);
  SmallVector<FloatLayer> layers = findFloatLayers(*copy, entry);
  SmallVector<Value> observed;
  for (const FloatLayer &layer : layers)
    if (layer.inputIndex == observed.size())
      observed.push_back(layer.op->getOperand(0));
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  SmallVector<Value> results(ret.getOperands());
  results.append(observed.begin(), observed.end());
  ret->setOperands(results);
  SmallVector<Type> types;
  for (Value v : results)
    types.push_back(v.getType());
  func.setType(FunctionType::get(module.getContext(),
                                 func.getArgumentTypes(), types));
  // The extra results carry no names; the original ones keep theirs.
  SmallVector<DictionaryAttr> resultAttrs;
  for (unsigned i = 0; i < results.size(); ++i)
    resultAttrs.push_back(i < func.getNumResults() - observed.size()
                              ? func.getResultAttrDict(i)
                              : DictionaryAttr::get(module.getContext()));
  func.setAllResultAttrs(resultAttrs);
  return copy;
}

LogicalResult resq::quantizeFloatLayers(ModuleOp module, StringRef entry,
                                        ArrayRef<QuantParams> inputParams,
                                        const QuantizeOptions &options,
                                        std::vector<LayerQuantization> &report) {
  llvm::StringSet<> keepFloat;
  for (const std::string &name : options.floatLayers)
    keepFloat.insert(name);
  SmallVector<FloatLayer> layers = findFloatLayers(module, entry);
  llvm::StringSet<> seen;
  for (const FloatLayer &layer : layers)
    seen.insert(layer.name);
  for (const std::string &name : options.floatLayers)
    if (!seen.contains(name))
      return module.emitError() << "resq-quantize: --float-layers names "
                                   "unknown layer '"
                                << name << "'";

  // Quantized inputs are shared by the layers that read the same tensor.
  llvm::DenseMap<unsigned, Value> quantizedInputs;
  for (const FloatLayer &layer : layers) {
    Operation *op = layer.op;
    LayerQuantization entry;
    entry.name = layer.name;
    entry.kind = op->getName().stripDialect().str();
    if (keepFloat.contains(layer.name)) {
      // Mixed precision: this layer stays float, and the residual graph
      // runs it in float on every frame.
      op->setAttr("resq.keep_float", UnitAttr::get(op->getContext()));
      entry.keptFloat = true;
      report.push_back(entry);
      continue;
    }
    if (layer.inputIndex >= inputParams.size())
      return op->emitError() << "resq-quantize: no calibration data for "
                                "layer '"
                             << layer.name << "'";
    const QuantParams &in = inputParams[layer.inputIndex];
    entry.input = in;

    DenseElementsAttr weightAttr;
    if (!matchPattern(op->getOperand(1), m_Constant(&weightAttr)))
      return op->emitError() << "resq-quantize: weights must be constant";
    auto weightType = cast<RankedTensorType>(weightAttr.getType());
    ArrayRef<int64_t> wShape = weightType.getShape();
    SmallVector<float> w(weightAttr.getValues<float>());
    int64_t channels = channelAxisSize(op, wShape);
    // Per-channel symmetric weights: max |w| / 127.
    std::vector<double> wScale(channels, 0.0);
    for (int64_t i = 0; i < (int64_t)w.size(); ++i) {
      int64_t c = channelOf(op, wShape, i);
      wScale[c] = std::max(wScale[c], std::fabs(double(w[i])) / 127.0);
    }
    for (double &s : wScale)
      if (s == 0)
        s = 1.0; // an all-zero channel: any scale, the codes are 0
    SmallVector<int8_t> wq(w.size());
    for (int64_t i = 0; i < (int64_t)w.size(); ++i) {
      double q = std::nearbyint(w[i] / wScale[channelOf(op, wShape, i)]);
      wq[i] = static_cast<int8_t>(std::clamp(q, -127.0, 127.0));
    }
    // Bias correction: the rounded weights shift each output's mean by
    // sum (W_q - W) * E[x] over its taps.
    std::vector<double> meanShift(channels, 0.0);
    if (layer.inputIndex < options.inputChannelMeans.size()) {
      const std::vector<double> &mean =
          options.inputChannelMeans[layer.inputIndex];
      for (int64_t i = 0; i < (int64_t)w.size(); ++i) {
        int64_t ic = inputChannelOf(op, wShape, i);
        if (ic < 0 || ic >= (int64_t)mean.size())
          continue;
        int64_t c = channelOf(op, wShape, i);
        meanShift[c] += (wq[i] * wScale[c] - double(w[i])) * mean[ic];
      }
    }
    entry.minWeightScale = *std::min_element(wScale.begin(), wScale.end());
    entry.maxWeightScale = *std::max_element(wScale.begin(), wScale.end());

    OpBuilder b(op);
    Location loc = op->getLoc();
    MLIRContext *ctx = op->getContext();
    auto nameLoc = [&](StringRef suffix) {
      return NameLoc::get(StringAttr::get(ctx, layer.name + "." + suffix),
                          loc);
    };
    Value input = op->getOperand(0);
    auto inputType = cast<RankedTensorType>(input.getType());
    int64_t rank = inputType.getRank();

    // Quantize the input once per distinct tensor: code = x / s + zp,
    // rounded half to even and saturated by the cast.
    Value xq = quantizedInputs.lookup(layer.inputIndex);
    if (!xq) {
      OpBuilder::InsertionGuard guard(b);
      if (Operation *def = input.getDefiningOp())
        b.setInsertionPointAfter(def);
      else
        b.setInsertionPointToStart(input.getParentBlock());
      Location qloc = nameLoc("quantize");
      Value shift = scalarConst(b, qloc, b.getI8Type(), 1,
                                b.getIntegerAttr(b.getI8Type(), 0));
      Value inv = scalarConst(b, qloc, b.getF32Type(), rank,
                              b.getF32FloatAttr(1.0 / in.scale));
      Value zp = scalarConst(b, qloc, b.getF32Type(), rank,
                             b.getF32FloatAttr(in.zeroPoint));
      Value scaled = tosa::MulOp::create(b, qloc, inputType, input, inv, shift);
      Value shifted = tosa::AddOp::create(b, qloc, inputType, scaled, zp);
      xq = tosa::CastOp::create(
          b, qloc, RankedTensorType::get(inputType.getShape(), b.getI8Type()),
          shifted);
      quantizedInputs[layer.inputIndex] = xq;
    }

    auto i8Weights = RankedTensorType::get(wShape, b.getI8Type());
    Value weights = constTensor(b, loc, i8Weights,
                                DenseElementsAttr::get(
                                    i8Weights, ArrayRef<int8_t>(wq)));
    Value inZp = zeroPoint(b, loc, in.zeroPoint);
    Value wZp = zeroPoint(b, loc, 0);
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    auto accType = RankedTensorType::get(resultType.getShape(), b.getI32Type());
    TypeAttr i32Acc = TypeAttr::get(b.getI32Type());

    // Bias in accumulator units: b / (s_x * s_w).
    auto biasCodes = [&](Value floatBias) -> FailureOr<SmallVector<int32_t>> {
      DenseElementsAttr biasAttr;
      if (!matchPattern(floatBias, m_Constant(&biasAttr)))
        return op->emitError() << "resq-quantize: bias must be constant";
      SmallVector<float> bf(biasAttr.getValues<float>());
      SmallVector<int32_t> bq(channels);
      for (int64_t c = 0; c < channels; ++c) {
        double v = ((bf.size() == 1 ? bf[0] : bf[c]) - meanShift[c]) /
                   (in.scale * wScale[c]);
        bq[c] = static_cast<int32_t>(std::clamp(std::nearbyint(v), -2147483648.0,
                                                2147483647.0));
      }
      return bq;
    };
    auto biasFor = [&](Value floatBias) -> FailureOr<Value> {
      FailureOr<SmallVector<int32_t>> bq = biasCodes(floatBias);
      if (failed(bq))
        return failure();
      auto type = RankedTensorType::get({channels}, b.getI32Type());
      return constTensor(b, loc, type,
                         DenseElementsAttr::get(type, ArrayRef<int32_t>(*bq)));
    };

    Value acc;
    if (auto conv = dyn_cast<tosa::Conv2DOp>(op)) {
      FailureOr<Value> bias = biasFor(conv.getBias());
      if (failed(bias))
        return failure();
      acc = tosa::Conv2DOp::create(b, loc, accType, xq, weights, *bias, inZp,
                                   wZp, conv.getPadAttr(), conv.getStrideAttr(),
                                   conv.getDilationAttr(), i32Acc);
    } else if (auto conv = dyn_cast<tosa::DepthwiseConv2DOp>(op)) {
      FailureOr<Value> bias = biasFor(conv.getBias());
      if (failed(bias))
        return failure();
      acc = tosa::DepthwiseConv2DOp::create(
          b, loc, accType, xq, weights, *bias, inZp, wZp, conv.getPadAttr(),
          conv.getStrideAttr(), conv.getDilationAttr(), i32Acc);
    } else if (auto conv = dyn_cast<tosa::TransposeConv2DOp>(op)) {
      if (isDepthToSpace(conv, wShape)) {
        FailureOr<SmallVector<int32_t>> bias = biasCodes(conv.getBias());
        if (failed(bias))
          return failure();
        acc = depthToSpaceConv(b, loc, conv, wShape, wq, *bias, xq, inZp, wZp,
                               accType);
      } else {
        FailureOr<Value> bias = biasFor(conv.getBias());
        if (failed(bias))
          return failure();
        acc = tosa::TransposeConv2DOp::create(
            b, loc, accType, xq, weights, *bias, inZp, wZp,
            conv.getOutPadAttr(), conv.getStrideAttr(), i32Acc);
      }
    } else {
      acc = tosa::MatMulOp::create(b, loc, accType, xq, weights, inZp, wZp);
    }

    // Dequantize: float = acc * s_x * s_w[channel].
    Location dloc = nameLoc("dequantize");
    Value accFloat = tosa::CastOp::create(b, dloc, resultType, acc);
    SmallVector<int64_t> scaleShape(resultType.getRank(), 1);
    scaleShape.back() = channels;
    auto scaleType = RankedTensorType::get(scaleShape, b.getF32Type());
    SmallVector<float> scales(channels);
    for (int64_t c = 0; c < channels; ++c)
      scales[c] = static_cast<float>(in.scale * wScale[c]);
    Value scale = constTensor(b, dloc, scaleType,
                              DenseElementsAttr::get(scaleType,
                                                     ArrayRef<float>(scales)));
    Value shift = scalarConst(b, dloc, b.getI8Type(), 1,
                              b.getIntegerAttr(b.getI8Type(), 0));
    Value result =
        tosa::MulOp::create(b, dloc, resultType, accFloat, scale, shift);
    op->getResult(0).replaceAllUsesWith(result);
    op->erase();
    report.push_back(entry);
  }
  return success();
}
