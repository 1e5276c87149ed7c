//===- XnnModel.cpp - a float TOSA graph run by XNNPACK -------------------===//

#include "XnnModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/Tosa/Utils/ConversionUtils.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

using namespace mlir;
using namespace resq::bench;

namespace {

constexpr uint32_t kInvalid = XNN_INVALID_VALUE_ID;
constexpr float kInf = std::numeric_limits<float>::infinity();

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string describe(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << op->getName() << " at ";
  op->getLoc().print(os);
  return text;
}

/// Affine int8 parameters of a range (the range is widened to hold 0).
struct QuantParams {
  float scale = 1;
  int32_t zeroPoint = 0;
};
QuantParams quantParams(ActivationRange range) {
  float lo = std::min(range.min, 0.0f), hi = std::max(range.max, 0.0f);
  QuantParams q;
  q.scale = hi > lo ? (hi - lo) / 255.0f : 1.0f;
  q.zeroPoint = int32_t(
      std::clamp(std::lround(-128.0 - double(lo) / q.scale), -128L, 127L));
  return q;
}

} // namespace

struct XnnModel::Impl {
  XnnOptions options;
  xnn_subgraph_t subgraph = nullptr;
  xnn_runtime_t runtime = nullptr;
  pthreadpool_t pool = nullptr;

  /// Per activation (after aliasing): its XNNPACK values.
  struct Tensor {
    uint32_t fp32 = kInvalid;
    uint32_t qs8 = kInvalid;
    QuantParams quant;
    std::vector<size_t> dims;
  };
  llvm::DenseMap<Value, Tensor> tensors;
  /// Results that are the same tensor as another value (folded clamps,
  /// slices XNNPACK's floor division makes unnecessary).
  llvm::DenseMap<Value, Value> aliases;
  /// Static data must outlive the runtime.
  std::vector<std::unique_ptr<std::vector<char>>> staticData;

  /// External values: the input, the outputs, and with exposeActivations
  /// every activation.
  uint32_t numExternal = 0;
  uint32_t nextExternal = 0;
  uint32_t inputId = kInvalid;
  std::vector<uint32_t> outputIds;
  std::vector<std::pair<Value, uint32_t>> exposed;
  std::vector<std::vector<float>> exposedData;
  /// The input of the last run, and its value (for forEachActivation).
  const float *lastInput = nullptr;
  size_t inputElements = 0;
  Value inputValue;
  llvm::DenseSet<Value> results;

  // Build statistics for the summary.
  std::map<std::string, int> int8Ops, fp32Ops;
  int conversions = 0;

  ~Impl() {
    if (runtime)
      xnn_delete_runtime(runtime);
    if (subgraph)
      xnn_delete_subgraph(subgraph);
    if (pool)
      pthreadpool_destroy(pool);
  }

  bool int8() const { return options.precision == XnnPrecision::Int8; }

  Value resolve(Value v) const {
    while (true) {
      auto it = aliases.find(v);
      if (it == aliases.end())
        return v;
      v = it->second;
    }
  }

  static std::vector<size_t> dimsOf(Value v) {
    std::vector<size_t> dims;
    for (int64_t d : cast<ShapedType>(v.getType()).getShape())
      dims.push_back(size_t(d));
    return dims;
  }

  ActivationRange rangeOf(Value v) const {
    if (!options.ranges)
      return {};
    auto it = options.ranges->find(resolve(v).getAsOpaquePointer());
    return it == options.ranges->end() ? ActivationRange{} : it->second;
  }

  const char *storeStatic(std::vector<char> bytes) {
    staticData.push_back(std::make_unique<std::vector<char>>(std::move(bytes)));
    return staticData.back()->data();
  }

  static std::optional<std::vector<float>> constantFloats(Value v) {
    auto op = v.getDefiningOp<tosa::ConstOp>();
    if (!op)
      return std::nullopt;
    auto dense = dyn_cast<DenseElementsAttr>(op.getValuesAttr());
    if (!dense || !dense.getElementType().isF32())
      return std::nullopt;
    std::vector<float> values;
    for (float x : dense.getValues<float>())
      values.push_back(x);
    return values;
  }

  llvm::Expected<uint32_t> defineFp32(const std::vector<size_t> &dims,
                                      const void *data, uint32_t externalId,
                                      uint32_t flags) {
    uint32_t id = kInvalid;
    if (xnn_define_tensor_value(subgraph, xnn_datatype_fp32, dims.size(),
                                dims.data(), data, externalId, flags,
                                &id) != xnn_status_success)
      return error("XNNPACK rejected an fp32 tensor");
    return id;
  }

  llvm::Expected<uint32_t> defineQs8(const std::vector<size_t> &dims,
                                     QuantParams q, const void *data) {
    uint32_t id = kInvalid;
    if (xnn_define_quantized_tensor_value(
            subgraph, xnn_datatype_qint8, q.zeroPoint, q.scale, dims.size(),
            dims.data(), data, kInvalid, 0, &id) != xnn_status_success)
      return error("XNNPACK rejected a qint8 tensor");
    return id;
  }

  /// The fp32 value of `v`: a static tensor for a constant, a conversion
  /// when only its int8 value exists.
  llvm::Expected<uint32_t> fp32Of(Value v) {
    v = resolve(v);
    auto it = tensors.find(v);
    if (it != tensors.end() && it->second.fp32 != kInvalid)
      return it->second.fp32;
    if (auto values = constantFloats(v)) {
      std::vector<char> bytes(values->size() * sizeof(float));
      std::memcpy(bytes.data(), values->data(), bytes.size());
      auto id = defineFp32(dimsOf(v), storeStatic(std::move(bytes)), kInvalid,
                           0);
      if (id)
        tensors[v].fp32 = *id;
      return id;
    }
    if (it == tensors.end() || it->second.qs8 == kInvalid)
      return error("no value for an operand (unsupported producer)");
    auto id = defineFp32(it->second.dims, nullptr, kInvalid, 0);
    if (!id)
      return id.takeError();
    if (xnn_define_convert(subgraph, it->second.qs8, *id, 0) !=
        xnn_status_success)
      return error("XNNPACK rejected a qs8 -> fp32 conversion");
    ++conversions;
    tensors[v].fp32 = *id;
    return *id;
  }

  /// The int8 value of `v`: a static quantized tensor for a constant, a
  /// conversion with the calibrated range otherwise.
  llvm::Expected<uint32_t> qs8Of(Value v) {
    v = resolve(v);
    auto it = tensors.find(v);
    if (it != tensors.end() && it->second.qs8 != kInvalid)
      return it->second.qs8;
    if (auto values = constantFloats(v)) {
      ActivationRange range;
      for (float x : *values) {
        range.min = std::min(range.min, x);
        range.max = std::max(range.max, x);
      }
      QuantParams q = quantParams(range);
      std::vector<char> bytes(values->size());
      for (size_t i = 0; i < values->size(); ++i)
        bytes[i] = char(std::clamp<long>(
            std::lround((*values)[i] / q.scale) + q.zeroPoint, -128, 127));
      auto id = defineQs8(dimsOf(v), q, storeStatic(std::move(bytes)));
      if (id) {
        tensors[v].qs8 = *id;
        tensors[v].quant = q;
      }
      return id;
    }
    if (it == tensors.end() || it->second.fp32 == kInvalid)
      return error("no value for an operand (unsupported producer)");
    QuantParams q = quantParams(rangeOf(v));
    auto id = defineQs8(it->second.dims, q, nullptr);
    if (!id)
      return id.takeError();
    if (xnn_define_convert(subgraph, it->second.fp32, *id, 0) !=
        xnn_status_success)
      return error("XNNPACK rejected an fp32 -> qs8 conversion");
    ++conversions;
    tensors[v].qs8 = *id;
    tensors[v].quant = q;
    return *id;
  }

  /// Defines the result `v` of an op. An fp32 result that is a function
  /// result or, when calibrating, any fp32 result, is external.
  llvm::Expected<uint32_t> defineResult(Value v, bool quantized,
                                        std::optional<QuantParams> q = {}) {
    Tensor &t = tensors[v];
    t.dims = dimsOf(v);
    if (quantized) {
      t.quant = q ? *q : quantParams(rangeOf(v));
      auto id = defineQs8(t.dims, t.quant, nullptr);
      if (id)
        t.qs8 = *id;
      return id;
    }
    bool external = options.exposeActivations || results.contains(v);
    uint32_t externalId = external ? nextExternal++ : kInvalid;
    auto id = defineFp32(t.dims, nullptr, externalId,
                         external ? XNN_VALUE_FLAG_EXTERNAL_OUTPUT : 0);
    if (!id)
      return id;
    t.fp32 = *id;
    if (options.exposeActivations) {
      exposed.push_back({v, externalId});
      size_t n = 1;
      for (size_t d : t.dims)
        n *= d;
      exposedData.emplace_back(n);
    }
    return id;
  }

  /// A clamp that only ever reads `v` folds into v's producer.
  std::optional<std::pair<float, float>> foldableClamp(Value v,
                                                       Operation *&clamp) {
    if (!v.hasOneUse())
      return std::nullopt;
    auto op = dyn_cast<tosa::ClampOp>(*v.getUsers().begin());
    if (!op)
      return std::nullopt;
    auto lo = dyn_cast<FloatAttr>(op.getMinValAttr());
    auto hi = dyn_cast<FloatAttr>(op.getMaxValAttr());
    if (!lo || !hi)
      return std::nullopt;
    clamp = op;
    return std::pair<float, float>(float(lo.getValueAsDouble()),
                                   float(hi.getValueAsDouble()));
  }

  llvm::Error translate(func::FuncOp func);
  llvm::Error translateOp(Operation *op, llvm::DenseSet<Operation *> &folded);
  llvm::Error convolution(Operation *op, llvm::DenseSet<Operation *> &folded);
};

static bool isStatelessShapeOp(Operation *op) {
  return isa<tosa::ConstOp, tosa::ConstShapeOp>(op);
}

static llvm::SmallVector<int64_t> shapeValues(Value v) {
  llvm::SmallVector<int64_t> values;
  if (Operation *op = v.getDefiningOp())
    tosa::getConstShapeValues(op, values);
  return values;
}

llvm::Error XnnModel::Impl::convolution(Operation *op,
                                        llvm::DenseSet<Operation *> &folded) {
  Value input = op->getOperand(0), weight = op->getOperand(1),
        bias = op->getOperand(2), result = op->getResult(0);
  auto weights = constantFloats(weight);
  auto biases = constantFloats(bias);
  if (!weights || !biases)
    return error(describe(op) + ": weights and bias must be constants");
  std::vector<size_t> wDims = dimsOf(weight);
  const size_t outChannels = cast<ShapedType>(result.getType()).getDimSize(3);
  if (biases->size() == 1 && outChannels > 1)
    biases->assign(outChannels, (*biases)[0]);

  float outMin = -kInf, outMax = kInf;
  Operation *clamp = nullptr;
  Value out = result;
  if (auto range = foldableClamp(result, clamp)) {
    std::tie(outMin, outMax) = *range;
    folded.insert(clamp);
    aliases[result] = clamp->getResult(0);
    out = clamp->getResult(0);
  }

  // XNNPACK's filters: OHWI for conv and deconv ([O, KH, KW, I], as TOSA's),
  // [1, KH, KW, C*M] for depthwise (TOSA's [KH, KW, C, M], same order).
  size_t channelDim = 0;
  if (isa<tosa::DepthwiseConv2DOp>(op)) {
    wDims = {1, wDims[0], wDims[1], wDims[2] * wDims[3]};
    channelDim = 3;
  }
  std::string kind = op->getName().stripDialect().str();
  const bool quantized = int8() && !isa<tosa::TransposeConv2DOp>(op);

  uint32_t inId, weightId, biasId, outId;
  if (quantized) {
    auto in = qs8Of(input);
    if (!in)
      return in.takeError();
    inId = *in;
    float inScale = tensors[resolve(input)].quant.scale;
    // Per-channel symmetric weights, int32 bias at input x weight scale.
    size_t channels = wDims[channelDim];
    size_t inner = 1;
    for (size_t d = channelDim + 1; d < wDims.size(); ++d)
      inner *= wDims[d];
    std::vector<float> wScale(channels, 0.0f), bScale(channels);
    for (size_t i = 0; i < weights->size(); ++i) {
      size_t c = (i / inner) % channels;
      wScale[c] = std::max(wScale[c], std::fabs((*weights)[i]));
    }
    for (size_t c = 0; c < channels; ++c) {
      wScale[c] = wScale[c] > 0 ? wScale[c] / 127.0f : 1.0f;
      bScale[c] = inScale * wScale[c];
    }
    std::vector<char> wBytes(weights->size());
    for (size_t i = 0; i < weights->size(); ++i)
      wBytes[i] = char(std::clamp<long>(
          std::lround((*weights)[i] / wScale[(i / inner) % channels]), -127,
          127));
    std::vector<char> bBytes(channels * sizeof(int32_t));
    for (size_t c = 0; c < channels; ++c) {
      int32_t b = int32_t(std::lround((*biases)[c] / bScale[c]));
      std::memcpy(bBytes.data() + c * sizeof(int32_t), &b, sizeof b);
    }
    // The scale arrays must outlive the subgraph as well.
    auto keep = [&](const std::vector<float> &v) {
      std::vector<char> bytes(v.size() * sizeof(float));
      std::memcpy(bytes.data(), v.data(), bytes.size());
      return reinterpret_cast<const float *>(storeStatic(std::move(bytes)));
    };
    const float *wScales = keep(wScale), *bScales = keep(bScale);
    std::vector<size_t> bDims = {channels};
    if (xnn_define_channelwise_quantized_tensor_value(
            subgraph, xnn_datatype_qcint8, wScales, wDims.size(), channelDim,
            wDims.data(), storeStatic(std::move(wBytes)), kInvalid, 0,
            &weightId) != xnn_status_success ||
        xnn_define_channelwise_quantized_tensor_value(
            subgraph, xnn_datatype_qcint32, bScales, 1, 0, bDims.data(),
            storeStatic(std::move(bBytes)), kInvalid, 0, &biasId) !=
            xnn_status_success)
      return error(describe(op) + ": XNNPACK rejected the int8 weights");
    auto o = defineResult(out, /*quantized=*/true);
    if (!o)
      return o.takeError();
    outId = *o;
    ++int8Ops[kind];
  } else {
    auto in = fp32Of(input);
    if (!in)
      return in.takeError();
    inId = *in;
    std::vector<char> wBytes(weights->size() * sizeof(float));
    std::memcpy(wBytes.data(), weights->data(), wBytes.size());
    std::vector<char> bBytes(biases->size() * sizeof(float));
    std::memcpy(bBytes.data(), biases->data(), bBytes.size());
    auto w = defineFp32(wDims, storeStatic(std::move(wBytes)), kInvalid, 0);
    auto b = defineFp32({biases->size()}, storeStatic(std::move(bBytes)),
                        kInvalid, 0);
    if (!w || !b)
      return error(describe(op) + ": XNNPACK rejected the weights");
    weightId = *w;
    biasId = *b;
    auto o = defineResult(out, /*quantized=*/false);
    if (!o)
      return o.takeError();
    outId = *o;
    ++fp32Ops[kind];
  }

  xnn_status status = xnn_status_invalid_parameter;
  if (auto conv = dyn_cast<tosa::Conv2DOp>(op)) {
    auto pad = conv.getPad(), stride = conv.getStride(),
         dilation = conv.getDilation();
    status = xnn_define_convolution_2d(
        subgraph, pad[0], pad[3], pad[1], pad[2], wDims[1], wDims[2],
        stride[0], stride[1], dilation[0], dilation[1], /*groups=*/1,
        wDims[3], wDims[0], outMin, outMax, inId, weightId, biasId, outId, 0);
  } else if (auto dw = dyn_cast<tosa::DepthwiseConv2DOp>(op)) {
    auto pad = dw.getPad(), stride = dw.getStride(),
         dilation = dw.getDilation();
    std::vector<size_t> tosaDims = dimsOf(weight);
    status = xnn_define_depthwise_convolution_2d(
        subgraph, pad[0], pad[3], pad[1], pad[2], tosaDims[0], tosaDims[1],
        stride[0], stride[1], dilation[0], dilation[1], tosaDims[3],
        tosaDims[2], outMin, outMax, inId, weightId, biasId, outId, 0);
  } else if (auto tc = dyn_cast<tosa::TransposeConv2DOp>(op)) {
    auto outPad = tc.getOutPad(), stride = tc.getStride();
    // TOSA's negative out_pad crops (XNNPACK's padding); a positive one at
    // the bottom / right grows the output (XNNPACK's adjustment).
    if (outPad[0] > 0 || outPad[2] > 0)
      return error(describe(op) +
                   ": out_pad growing the top or left is not expressible");
    status = xnn_define_deconvolution_2d(
        subgraph, uint32_t(-outPad[0]),
        uint32_t(outPad[3] < 0 ? -outPad[3] : 0),
        uint32_t(outPad[1] < 0 ? -outPad[1] : 0), uint32_t(-outPad[2]),
        uint32_t(outPad[1] > 0 ? outPad[1] : 0),
        uint32_t(outPad[3] > 0 ? outPad[3] : 0), wDims[1], wDims[2],
        stride[0], stride[1], 1, 1, /*groups=*/1, wDims[3], wDims[0], outMin,
        outMax, inId, weightId, biasId, outId, 0);
  }
  if (status != xnn_status_success)
    return error(describe(op) + ": XNNPACK rejected the node (" +
                 (quantized ? "int8" : "fp32") + ")");
  return llvm::Error::success();
}

llvm::Error
XnnModel::Impl::translateOp(Operation *op,
                            llvm::DenseSet<Operation *> &folded) {
  if (isStatelessShapeOp(op) || folded.contains(op))
    return llvm::Error::success();
  if (isa<tosa::Conv2DOp, tosa::DepthwiseConv2DOp, tosa::TransposeConv2DOp>(
          op))
    return convolution(op, folded);

  Value result = op->getNumResults() ? op->getResult(0) : Value();
  std::string kind = op->getName().stripDialect().str();

  // A slice from the origin that only feeds convolutions: XNNPACK's output
  // size (floor division) drops the same rows and columns.
  if (auto slice = dyn_cast<tosa::SliceOp>(op)) {
    llvm::SmallVector<int64_t> start = shapeValues(slice.getStart());
    bool origin = !start.empty() &&
                  llvm::all_of(start, [](int64_t s) { return s == 0; });
    bool convUsers = llvm::all_of(result.getUsers(), [](Operation *user) {
      return isa<tosa::Conv2DOp, tosa::DepthwiseConv2DOp>(user);
    });
    if (!origin || !convUsers)
      return error(describe(op) + ": only slices from the origin into "
                                  "convolutions are expressible");
    aliases[result] = slice.getInput1();
    return llvm::Error::success();
  }

  // Which ops run in int8 in this XNNPACK (2022-02): the rest runs in fp32.
  const bool quantized =
      int8() && isa<tosa::AddOp, tosa::MulOp, tosa::AvgPool2dOp,
                    tosa::MaxPool2dOp, tosa::PadOp, tosa::ReshapeOp,
                    tosa::ClampOp, tosa::SigmoidOp, tosa::ResizeOp>(op);
  auto operand = [&](Value v) {
    return quantized ? qs8Of(v) : fp32Of(v);
  };
  // Ops that move or select values keep their input's int8 parameters.
  std::optional<QuantParams> sameAsInput;
  if (quantized && isa<tosa::MaxPool2dOp, tosa::PadOp, tosa::ReshapeOp,
                       tosa::ClampOp, tosa::ResizeOp>(op)) {
    auto in = qs8Of(op->getOperand(0));
    if (!in)
      return in.takeError();
    sameAsInput = tensors[resolve(op->getOperand(0))].quant;
  }
  if (quantized && isa<tosa::SigmoidOp>(op))
    sameAsInput = QuantParams{1.0f / 256.0f, -128};

  // Binary ops and pooling can take a following clamp.
  float outMin = -kInf, outMax = kInf;
  Value out = result;
  if (isa<tosa::AddOp, tosa::MulOp, tosa::AvgPool2dOp>(op)) {
    Operation *clamp = nullptr;
    if (auto range = foldableClamp(result, clamp)) {
      std::tie(outMin, outMax) = *range;
      folded.insert(clamp);
      aliases[result] = clamp->getResult(0);
      out = clamp->getResult(0);
    }
  }

  auto in0 = op->getNumOperands() ? operand(op->getOperand(0))
                                  : llvm::Expected<uint32_t>(kInvalid);
  if (!in0)
    return error(describe(op) + ": " + llvm::toString(in0.takeError()));
  std::optional<uint32_t> in1;
  if (isa<tosa::AddOp, tosa::MulOp>(op)) {
    auto id = operand(op->getOperand(1));
    if (!id)
      return error(describe(op) + ": " + llvm::toString(id.takeError()));
    in1 = *id;
  }
  auto outId = defineResult(out, quantized, sameAsInput);
  if (!outId)
    return outId.takeError();
  (quantized ? int8Ops : fp32Ops)[kind]++;

  xnn_status status = xnn_status_invalid_parameter;
  if (isa<tosa::AddOp>(op)) {
    status = xnn_define_add2(subgraph, outMin, outMax, *in0, *in1, *outId, 0);
  } else if (auto mul = dyn_cast<tosa::MulOp>(op)) {
    status =
        xnn_define_multiply2(subgraph, outMin, outMax, *in0, *in1, *outId, 0);
  } else if (auto clamp = dyn_cast<tosa::ClampOp>(op)) {
    auto lo = dyn_cast<FloatAttr>(clamp.getMinValAttr());
    auto hi = dyn_cast<FloatAttr>(clamp.getMaxValAttr());
    if (!lo || !hi)
      return error(describe(op) + ": only float clamps are expressible");
    status = xnn_define_clamp(subgraph, float(lo.getValueAsDouble()),
                              float(hi.getValueAsDouble()), *in0, *outId, 0);
  } else if (isa<tosa::SigmoidOp>(op)) {
    status = xnn_define_sigmoid(subgraph, *in0, *outId, 0);
  } else if (auto pool = dyn_cast<tosa::AvgPool2dOp>(op)) {
    auto kernel = pool.getKernel(), stride = pool.getStride(),
         pad = pool.getPad();
    auto inDims = dimsOf(pool.getInput());
    bool global = size_t(kernel[0]) == inDims[1] &&
                  size_t(kernel[1]) == inDims[2] &&
                  llvm::all_of(pad, [](int64_t p) { return p == 0; });
    if (global)
      status = xnn_define_global_average_pooling_2d(subgraph, outMin, outMax,
                                                    *in0, *outId, 0);
    else
      status = xnn_define_average_pooling_2d(
          subgraph, pad[0], pad[3], pad[1], pad[2], kernel[0], kernel[1],
          stride[0], stride[1], outMin, outMax, *in0, *outId, 0);
  } else if (auto pool = dyn_cast<tosa::MaxPool2dOp>(op)) {
    auto kernel = pool.getKernel(), stride = pool.getStride(),
         pad = pool.getPad();
    status = xnn_define_max_pooling_2d(
        subgraph, pad[0], pad[3], pad[1], pad[2], kernel[0], kernel[1],
        stride[0], stride[1], 1, 1, -kInf, kInf, *in0, *outId, 0);
  } else if (auto pad = dyn_cast<tosa::PadOp>(op)) {
    llvm::SmallVector<int64_t> padding = shapeValues(pad.getPadding());
    auto padValue = constantFloats(pad.getPadConst());
    size_t rank = dimsOf(pad.getInput1()).size();
    if (padding.size() != 2 * rank || !padValue || padValue->size() != 1)
      return error(describe(op) + ": padding must be constant");
    std::vector<size_t> pre(rank), post(rank);
    for (size_t d = 0; d < rank; ++d) {
      pre[d] = size_t(padding[2 * d]);
      post[d] = size_t(padding[2 * d + 1]);
    }
    status = xnn_define_static_constant_pad(subgraph, pre.data(), post.data(),
                                            (*padValue)[0], *in0, *outId, 0);
  } else if (auto reshape = dyn_cast<tosa::ReshapeOp>(op)) {
    std::vector<size_t> dims = dimsOf(result);
    status = xnn_define_static_reshape(subgraph, dims.size(), dims.data(),
                                       *in0, *outId, 0);
  } else if (auto resize = dyn_cast<tosa::ResizeOp>(op)) {
    if (resize.getMode() != tosa::ResizeMode::BILINEAR)
      return error(describe(op) + ": only bilinear resizing is expressible");
    llvm::SmallVector<int64_t> scale = shapeValues(resize.getScale());
    llvm::SmallVector<int64_t> offset = shapeValues(resize.getOffset());
    auto inDims = dimsOf(resize.getInput()), outDims = dimsOf(result);
    if (scale.size() != 4 || offset.size() != 2)
      return error(describe(op) + ": scale and offset must be constants");
    // TOSA samples input (out * scale_d + offset) / scale_n.
    auto mode = [&](int axis) -> int {
      int64_t n = scale[2 * axis], d = scale[2 * axis + 1], o = offset[axis];
      int64_t in = int64_t(inDims[1 + axis]), outSize = int64_t(outDims[1 + axis]);
      if (2 * o == d - n)
        return 0; // half-pixel centers
      if (o == 0 && n * (in - 1) == d * (outSize - 1))
        return XNN_FLAG_ALIGN_CORNERS;
      if (o == 0)
        return XNN_FLAG_TENSORFLOW_LEGACY_MODE;
      return -1;
    };
    int flags = mode(0);
    if (flags < 0 || flags != mode(1))
      return error(describe(op) + ": this sampling grid is not expressible");
    status = xnn_define_static_resize_bilinear_2d(
        subgraph, outDims[1], outDims[2], *in0, *outId, uint32_t(flags));
  } else {
    return error(describe(op) + ": no XNNPACK equivalent in this benchmark");
  }
  if (status != xnn_status_success)
    return error(describe(op) + ": XNNPACK rejected the node (" +
                 (quantized ? "int8" : "fp32") + ")");
  return llvm::Error::success();
}

llvm::Error XnnModel::Impl::translate(func::FuncOp func) {
  if (func.getNumArguments() != 1)
    return error("@" + func.getName() + " must take one input");
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());

  // Exact count of external values: XNNPACK reserves them up front.
  llvm::DenseSet<Operation *> planned;
  uint32_t emitted = 0;
  for (Operation &op : func.getBody().front()) {
    if (isStatelessShapeOp(&op) || isa<func::ReturnOp, tosa::SliceOp>(op) ||
        planned.contains(&op))
      continue;
    ++emitted;
    Operation *clamp = nullptr;
    if (op.getNumResults() &&
        isa<tosa::Conv2DOp, tosa::DepthwiseConv2DOp, tosa::TransposeConv2DOp,
            tosa::AddOp, tosa::MulOp, tosa::AvgPool2dOp>(op) &&
        foldableClamp(op.getResult(0), clamp))
      planned.insert(clamp);
  }
  for (Value v : ret.getOperands()) {
    if (!v.getDefiningOp() || isStatelessShapeOp(v.getDefiningOp()) ||
        isa<tosa::SliceOp>(v.getDefiningOp()))
      return error("@" + func.getName() +
                   ": a result that is an input, a constant or a slice is "
                   "not supported");
    if (results.contains(v))
      return error("@" + func.getName() + ": a value returned twice");
    results.insert(v);
  }
  numExternal = 1 + (options.exposeActivations ? emitted : 0) +
                (options.exposeActivations ? 0 : uint32_t(results.size()));
  if (xnn_create_subgraph(numExternal, 0, &subgraph) != xnn_status_success)
    return error("xnn_create_subgraph failed");

  Value arg = func.getArgument(0);
  auto in = defineFp32(dimsOf(arg), nullptr, nextExternal++,
                       XNN_VALUE_FLAG_EXTERNAL_INPUT);
  if (!in)
    return in.takeError();
  inputId = *in;
  tensors[arg].fp32 = inputId;
  tensors[arg].dims = dimsOf(arg);
  inputValue = arg;
  inputElements = 1;
  for (size_t d : dimsOf(arg))
    inputElements *= d;

  llvm::DenseSet<Operation *> folded;
  for (Operation &op : func.getBody().front()) {
    if (isa<func::ReturnOp>(op))
      continue;
    if (llvm::Error e = translateOp(&op, folded))
      return e;
  }

  // Results leave as fp32 external values; an int8 result is converted.
  for (Value v : ret.getOperands()) {
    Value r = resolve(v);
    Tensor &t = tensors[r];
    uint32_t id = t.fp32;
    if (id == kInvalid || !results.contains(r)) {
      if (t.qs8 == kInvalid)
        return error("a result has no value");
      uint32_t externalId = options.exposeActivations ? kInvalid : nextExternal++;
      auto out = defineFp32(t.dims, nullptr, externalId,
                            XNN_VALUE_FLAG_EXTERNAL_OUTPUT);
      if (!out)
        return out.takeError();
      if (xnn_define_convert(subgraph, t.qs8, *out, 0) != xnn_status_success)
        return error("XNNPACK rejected the output conversion");
      ++conversions;
      id = *out;
    }
    outputIds.push_back(id);
  }
  if (nextExternal != numExternal)
    return error(llvm::formatv("external value count: planned {0}, used {1}",
                               numExternal, nextExternal)
                     .str());

  if (options.threads > 1)
    pool = pthreadpool_create(options.threads);
  if (xnn_create_runtime_v2(subgraph, pool, 0, &runtime) != xnn_status_success)
    return error("xnn_create_runtime_v2 failed");
  return llvm::Error::success();
}

XnnModel::XnnModel() : impl(std::make_unique<Impl>()) {}
XnnModel::~XnnModel() = default;

llvm::Expected<std::unique_ptr<XnnModel>>
XnnModel::create(func::FuncOp func, const XnnOptions &options) {
  static const xnn_status init = xnn_initialize(nullptr);
  if (init != xnn_status_success)
    return error("xnn_initialize failed (a CPU without SSE2?)");
  if (options.precision == XnnPrecision::Int8 &&
      (!options.ranges || options.exposeActivations))
    return error("an int8 model needs activation ranges and exposes none");
  std::unique_ptr<XnnModel> model(new XnnModel());
  model->impl->options = options;
  if (llvm::Error e = model->impl->translate(func))
    return std::move(e);

  Impl &impl = *model->impl;
  auto list = [](const std::map<std::string, int> &ops) {
    std::string text;
    for (auto &[name, count] : ops)
      text += (text.empty() ? "" : ", ") + name + " x" + std::to_string(count);
    return text.empty() ? std::string("none") : text;
  };
  if (options.precision == XnnPrecision::Int8)
    model->summaryText = "int8: " + list(impl.int8Ops) + "; fp32: " +
                         list(impl.fp32Ops) + "; " +
                         std::to_string(impl.conversions) + " conversions";
  else
    model->summaryText = "fp32: " + list(impl.fp32Ops);
  return std::move(model);
}

llvm::Error XnnModel::run(const float *input, llvm::ArrayRef<float *> outputs) {
  Impl &impl = *this->impl;
  if (outputs.size() != impl.outputIds.size())
    return error("wrong number of outputs");
  std::vector<xnn_external_value> values;
  values.push_back({impl.inputId, const_cast<float *>(input)});
  for (size_t e = 0; e < impl.exposed.size(); ++e)
    values.push_back({impl.exposed[e].second, impl.exposedData[e].data()});
  for (size_t k = 0; k < outputs.size(); ++k) {
    bool already = llvm::any_of(values, [&](const xnn_external_value &e) {
      return e.id == impl.outputIds[k];
    });
    if (!already)
      values.push_back({impl.outputIds[k], outputs[k]});
  }
  if (xnn_setup_runtime(impl.runtime, values.size(), values.data()) !=
      xnn_status_success)
    return error("xnn_setup_runtime failed");
  if (xnn_invoke_runtime(impl.runtime) != xnn_status_success)
    return error("xnn_invoke_runtime failed");
  impl.lastInput = input;
  // With exposed activations, results were written into their own buffers.
  for (size_t k = 0; k < outputs.size(); ++k)
    for (size_t e = 0; e < impl.exposed.size(); ++e)
      if (impl.exposed[e].second == impl.outputIds[k])
        std::copy(impl.exposedData[e].begin(), impl.exposedData[e].end(),
                  outputs[k]);
  return llvm::Error::success();
}

void XnnModel::forEachActivation(
    llvm::function_ref<void(void *, llvm::ArrayRef<float>)> fn) const {
  if (impl->lastInput)
    fn(impl->inputValue.getAsOpaquePointer(),
       {impl->lastInput, impl->inputElements});
  for (size_t e = 0; e < impl->exposed.size(); ++e)
    fn(impl->exposed[e].first.getAsOpaquePointer(), impl->exposedData[e]);
}
