//===- TFLiteImporter.cpp - TFLite FlatBuffer to TOSA v1.0 ----------------===//
//
// Builds `func.func @main` operator by operator. Every TFLite tensor maps to
// one SSA value; constant tensors become `tosa.const` at their first use.
// Each converter checks the shapes and options it relies on before creating
// any operation, so that malformed models end in a diagnostic, not in an
// invalid operation; `mlir::verify` runs on the result as a last check.
//
// Numeric conventions follow the TFLite reference kernels:
//  - SAME padding: total = max((out - 1) * stride + (k - 1) * dilation + 1
//    - in, 0), before = total / 2. TOSA wants (in - 1 + pads - (k - 1) *
//    dilation) divisible by the stride: unused trailing rows/columns are
//    taken off the bottom/right padding first and then sliced off the input.
//  - int8: value = scale * (q - zero_point); per-channel weight scales along
//    the TFLite quantized dimension; conv/FC accumulators are int32 with
//    int32 biases and are rescaled with multiplier/shift pairs computed as in
//    TFLite's QuantizeMultiplier (DOUBLE_ROUND). ADD/SUB use TFLite's
//    20-bit left shift scheme, MUL one rescale of the int32 product.
//  - RESIZE_BILINEAR maps to tosa.resize with scale/offset/border chosen so
//    that TOSA's sample position (oy * scale_d + offset) / scale_n equals
//    TFLite's (oy + 0.5) * in/out - 0.5 (half_pixel_centers), oy * (in - 1) /
//    (out - 1) (align_corners) or oy * in / out.
//
//===----------------------------------------------------------------------===//

#include "resq/Importer/TFLite.h"

#include "TFLiteModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <array>
#include <cfloat>
#include <cstring>
#include <tuple>
#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir;
using namespace resq;
using namespace resq::tflite;

namespace {

/// Tensors above this many elements are rejected (far above real models;
/// keeps every size computation well inside int64).
constexpr int64_t kMaxElements = int64_t(1) << 31;

/// Per-tensor quantization as the converters use it.
struct QParams {
  std::vector<double> scale; // one, or one per channel along `dim`
  int64_t zp = 0;            // per-tensor zero point
  int32_t dim = 0;
};

/// One spatial axis of a windowed operator, in TOSA terms.
struct Window {
  int64_t padBefore = 0, padAfter = 0;
  /// Trailing input rows/columns no window reaches (sliced off).
  int64_t crop = 0;
};

/// IEEE half to float, exact.
float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else { // subnormal: renormalize
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400));
      mant &= 0x3ff;
      bits = sign | uint32_t(127 - 15 - e) << 23 | mant << 13;
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// TFLite's QuantizeMultiplier in TOSA's multiplier/shift convention:
/// value * scale ~= (value * multiplier) >> shift, multiplier in [2^30, 2^31).
bool computeMultiplierShift(double scale, int32_t &multiplier, int8_t &shift) {
  if (!(scale > 0) || !std::isfinite(scale))
    return false;
  int exponent = 0;
  double q = std::frexp(scale, &exponent);
  int64_t m = int64_t(std::llround(q * double(int64_t(1) << 31)));
  if (m == (int64_t(1) << 31)) {
    m /= 2;
    ++exponent;
  }
  int64_t s = 31 - int64_t(exponent);
  if (s < 2)
    return false; // scale >= 2^29: no valid TOSA encoding
  if (s > 62) {
    // Tiny scale: give up precision as TFLite does (multiplier may reach 0).
    int64_t drop = s - 62;
    m = drop >= 63 ? 0 : (m + (int64_t(1) << (drop - 1))) >> drop;
    s = 62;
  }
  multiplier = int32_t(m);
  shift = int8_t(s);
  return true;
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

class Importer {
public:
  Importer(MLIRContext *ctx, fb::Reader &reader, const Model &model,
           StringRef fileName)
      : ctx(ctx), b(ctx), reader(reader), model(model), sg(model.main),
        fileLoc(FileLineColLoc::get(ctx, fileName, 0, 0)),
        currentLoc(UnknownLoc::get(ctx)) {
    constantBudget = 16 * uint64_t(reader.bytes().size()) + (16u << 20);
  }

  FailureOr<OwningOpRef<ModuleOp>> run(TFLiteImportStats *stats);

private:
  //===--- diagnostics ----------------------------------------------------===//
  std::string opLabel() const {
    return "operator #" + std::to_string(opIndex) + " (" + opName + ")";
  }
  InFlightDiagnostic opError() {
    return emitError(errorLoc) << opLabel() << ": ";
  }

  //===--- tensors --------------------------------------------------------===//
  bool validTensor(int64_t idx) const {
    return idx >= 0 && idx < int64_t(sg.tensors.size());
  }
  const Tensor &tensor(int64_t idx) const { return sg.tensors[idx]; }
  std::string tensorLabel(int64_t idx) const {
    const std::string &name = tensor(idx).name;
    return name.empty() ? "#" + std::to_string(idx) : "'" + name + "'";
  }
  StringAttr tensorNameAttr(int64_t idx) const {
    const std::string &name = tensor(idx).name;
    return StringAttr::get(ctx, name.empty() ? "tensor_" + std::to_string(idx)
                                             : name);
  }
  FailureOr<RankedTensorType> tensorType(int64_t idx, Location where);
  llvm::ArrayRef<uint8_t> constantData(int64_t idx) const {
    uint32_t buf = tensor(idx).buffer;
    if (buf == 0 || buf >= model.buffers.size())
      return {};
    return model.buffers[buf];
  }
  bool isConstant(int64_t idx) const { return !constantData(idx).empty(); }
  /// Counts `bytes` of constant data against the budget.
  LogicalResult chargeConstantBytes(uint64_t bytes);
  FailureOr<Value> materializeConstant(int64_t idx);
  FailureOr<QParams> quantParams(int64_t idx, bool perChannelAllowed);

  //===--- current operator ----------------------------------------------===//
  /// Whether optional input k is given (not -1); inputIndex()/input() check
  /// that it names an existing tensor.
  bool hasInput(unsigned k) const {
    return k < op->inputs.size() && op->inputs[k] >= 0;
  }
  /// The tensor index of input/output k, or -1 with an error.
  int64_t inputIndex(unsigned k);
  int64_t outputIndex(unsigned k);
  FailureOr<Value> input(unsigned k);
  FailureOr<RankedTensorType> outputType(unsigned k);
  LogicalResult setOutput(unsigned k, Value v);
  LogicalResult expectCounts(unsigned minInputs, unsigned maxInputs,
                             unsigned outputs);
  FailureOr<SmallVector<int64_t>> constantInts(unsigned k, const char *what);
  FailureOr<Options> options(uint8_t expected);

  //===--- building blocks -----------------------------------------------===//
  Value constOp(DenseElementsAttr attr, Location loc) {
    return tosa::ConstOp::create(b, loc, attr.getType(), attr);
  }
  Value zeroPoint(Type elementType, int64_t zp);
  Value floatSplat(ArrayRef<int64_t> shape, float value);
  Value constShape(ArrayRef<int64_t> values);
  Value reshape(Value v, ArrayRef<int64_t> shape);
  Value slice(Value v, ArrayRef<int64_t> sizes);
  Value mul(Value a, Value c);
  Value clampFloat(Value v, float lo, float hi);
  Value clampInt(Value v, int64_t lo, int64_t hi);
  FailureOr<Value> rescale(Value v, Type outElem, ArrayRef<double> scales,
                           int64_t inZp, int64_t outZp);
  FailureOr<Value> applyFloatActivation(Value v, int8_t act);
  FailureOr<Value> applyQuantActivation(Value v, int8_t act,
                                        const QParams &out);
  FailureOr<Value> requantize(Value v, const QParams &in, const QParams &out);
  FailureOr<Window> window(int64_t in, int64_t kernel, int64_t stride,
                           int64_t dilation, int8_t padding, int64_t out,
                           const char *axis);
  FailureOr<Value> broadcastTo(Value v, unsigned rank, ArrayRef<int64_t> out,
                               const char *which);

  //===--- operators -----------------------------------------------------===//
  LogicalResult convertOperator();
  LogicalResult convertConvLike(int kind);
  LogicalResult convertTransposeConv(bool mediapipe);
  LogicalResult convertPool(bool average);
  LogicalResult convertBinary(int32_t code);
  LogicalResult convertUnary(int32_t code);
  LogicalResult convertPad(bool v2);
  LogicalResult convertReshape();
  LogicalResult convertResize();
  LogicalResult convertConcat();
  LogicalResult convertMean();
  LogicalResult convertTranspose();
  LogicalResult convertQuantize();
  LogicalResult convertDequantize();

  MLIRContext *ctx;
  OpBuilder b;
  fb::Reader &reader;
  const Model &model;
  const Subgraph &sg;
  Location fileLoc;
  std::vector<Value> values;
  /// Constants by (buffer, type): tensors sharing a buffer share the value.
  llvm::DenseMap<std::pair<uint32_t, Type>, Value> constantCache;
  /// Bytes of constant data materialized so far, and the limit (a multiple
  /// of the file size: real models stay far below; malformed ones that
  /// reuse one large buffer under many shapes are stopped).
  uint64_t constantBytes = 0, constantBudget = 0;

  // The operator being converted.
  unsigned opIndex = 0;
  const Operator *op = nullptr;
  std::string opName;
  Location currentLoc; // NameLoc(output tensor name), for the ops built
  Location errorLoc = fileLoc;
};

//===----------------------------------------------------------------------===//
// Tensors and operands
//===----------------------------------------------------------------------===//

FailureOr<RankedTensorType> Importer::tensorType(int64_t idx, Location where) {
  const Tensor &t = tensor(idx);
  auto fail = [&]() {
    return emitError(where) << "tensor " << tensorLabel(idx) << ": ";
  };
  if (t.isSparse)
    return fail() << "sparse tensors are not supported", failure();
  int64_t elements = 1;
  for (int64_t d : t.shape) {
    if (d <= 0)
      return fail() << "dimension " << d
                    << " is not supported (shapes must be static and "
                       "non-empty)",
             failure();
    elements *= d;
    if (elements > kMaxElements)
      return fail() << "more than 2^31 elements", failure();
  }
  Type elem;
  switch (t.type) {
  case kFloat32: elem = b.getF32Type(); break;
  case kFloat16: elem = b.getF16Type(); break;
  case kInt32: elem = b.getI32Type(); break;
  case kInt64: elem = b.getI64Type(); break;
  case kInt16: elem = b.getI16Type(); break;
  case kInt8: elem = b.getI8Type(); break;
  case kBool: elem = b.getI1Type(); break;
  default:
    return fail() << "element type " << tensorTypeName(t.type) << " ("
                  << int(t.type) << ") is not supported",
           failure();
  }
  return RankedTensorType::get(t.shape, elem);
}

FailureOr<Value> Importer::materializeConstant(int64_t idx) {
  FailureOr<RankedTensorType> type = tensorType(idx, errorLoc);
  if (failed(type))
    return failure();
  llvm::ArrayRef<uint8_t> data = constantData(idx);
  int64_t elements = type->getNumElements();
  unsigned size = tensorTypeSize(tensor(idx).type);
  if (uint64_t(data.size()) != uint64_t(elements) * size)
    return emitError(errorLoc)
               << "constant tensor " << tensorLabel(idx) << " holds "
               << data.size() << " bytes, expected " << elements * size
               << " for " << *type,
           failure();
  auto key = std::make_pair(tensor(idx).buffer, Type(*type));
  if (Value cached = constantCache.lookup(key)) {
    values[idx] = cached;
    return cached;
  }
  if (failed(chargeConstantBytes(data.size())))
    return failure();
  DenseElementsAttr attr;
  if (type->getElementType().isInteger(1)) {
    SmallVector<bool> bits(data.begin(), data.end());
    attr = DenseElementsAttr::get(*type, ArrayRef<bool>(bits));
  } else {
    attr = DenseElementsAttr::getFromRawBuffer(
        *type, ArrayRef<char>(reinterpret_cast<const char *>(data.data()),
                              data.size()));
  }
  Value v = constOp(attr, NameLoc::get(tensorNameAttr(idx)));
  values[idx] = v;
  constantCache[key] = v;
  return v;
}

LogicalResult Importer::chargeConstantBytes(uint64_t bytes) {
  constantBytes += bytes;
  if (constantBytes > constantBudget)
    return emitError(errorLoc)
           << "constant data exceeds " << constantBudget
           << " bytes (16 times the file size): tensors reuse buffers "
              "excessively";
  return success();
}

FailureOr<QParams> Importer::quantParams(int64_t idx, bool perChannelAllowed) {
  const Tensor &t = tensor(idx);
  const Quantization &q = t.quant;
  auto fail = [&]() {
    return opError() << "tensor " << tensorLabel(idx) << ": ";
  };
  if (!q.present())
    return fail() << tensorTypeName(t.type)
                  << " tensor without quantization parameters",
           failure();
  if (q.hasDetails)
    return fail() << "custom quantization is not supported", failure();
  QParams p;
  p.dim = q.dimension;
  for (float s : q.scale) {
    if (!(s > 0) || !std::isfinite(s))
      return fail() << "invalid quantization scale " << double(s), failure();
    p.scale.push_back(s);
  }
  if (!q.zeroPoint.empty() && q.zeroPoint.size() != 1 &&
      q.zeroPoint.size() != q.scale.size())
    return fail() << q.scale.size() << " scales but " << q.zeroPoint.size()
                  << " zero points",
           failure();
  p.zp = q.zeroPoint.empty() ? 0 : q.zeroPoint[0];
  for (int64_t z : q.zeroPoint)
    if (z != p.zp)
      return fail() << "per-channel zero points are not supported", failure();
  int64_t lo = -128, hi = 127;
  if (t.type == kInt16)
    lo = -32768, hi = 32767;
  else if (t.type == kInt32)
    lo = std::numeric_limits<int32_t>::min(),
    hi = std::numeric_limits<int32_t>::max();
  if (p.zp < lo || p.zp > hi)
    return fail() << "zero point " << p.zp << " is out of range", failure();
  if (p.scale.size() > 1) {
    if (!perChannelAllowed)
      return fail() << "per-channel quantization is only supported for "
                       "weights and biases",
             failure();
    if (p.dim < 0 || p.dim >= int64_t(t.shape.size()) ||
        t.shape[p.dim] != int64_t(p.scale.size()))
      return fail() << p.scale.size()
                    << " per-channel scales do not match dimension "
                    << p.dim << " of the tensor",
             failure();
  }
  return p;
}

int64_t Importer::inputIndex(unsigned k) {
  if (k >= op->inputs.size()) {
    opError() << "expects an input #" << k << ", has " << op->inputs.size()
              << " inputs";
    return -1;
  }
  int64_t idx = op->inputs[k];
  if (!validTensor(idx)) {
    opError() << "input #" << k << " refers to tensor " << idx
              << (idx < 0 ? " (absent)" : " which does not exist");
    return -1;
  }
  return idx;
}

int64_t Importer::outputIndex(unsigned k) {
  if (k >= op->outputs.size()) {
    opError() << "expects an output #" << k;
    return -1;
  }
  int64_t idx = op->outputs[k];
  if (!validTensor(idx)) {
    opError() << "output #" << k << " refers to tensor " << idx
              << " which does not exist";
    return -1;
  }
  return idx;
}

FailureOr<Value> Importer::input(unsigned k) {
  int64_t idx = inputIndex(k);
  if (idx < 0)
    return failure();
  if (values[idx])
    return values[idx];
  if (isConstant(idx))
    return materializeConstant(idx);
  return opError() << "input #" << k << " (tensor " << tensorLabel(idx)
                   << ") is read before any operator produces it",
         failure();
}

FailureOr<RankedTensorType> Importer::outputType(unsigned k) {
  int64_t idx = outputIndex(k);
  if (idx < 0)
    return failure();
  return tensorType(idx, errorLoc);
}

LogicalResult Importer::setOutput(unsigned k, Value v) {
  int64_t idx = outputIndex(k);
  if (idx < 0)
    return failure();
  if (values[idx])
    return opError() << "output tensor " << tensorLabel(idx)
                     << " is already defined (by a constant, an input or "
                        "an earlier operator)";
  FailureOr<RankedTensorType> type = tensorType(idx, errorLoc);
  if (failed(type))
    return failure();
  if (v.getType() != *type)
    return opError() << "computed result type " << v.getType()
                     << " does not match output tensor " << tensorLabel(idx)
                     << " of type " << *type;
  values[idx] = v;
  return success();
}

LogicalResult Importer::expectCounts(unsigned minInputs, unsigned maxInputs,
                                     unsigned outputs) {
  size_t n = op->inputs.size();
  if (n < minInputs || n > maxInputs) {
    auto diag = opError() << "expects ";
    if (minInputs == maxInputs)
      diag << minInputs;
    else
      diag << minInputs << " to " << maxInputs;
    diag << " inputs, has " << n;
    return failure();
  }
  if (op->outputs.size() != outputs)
    return opError() << "expects " << outputs << " output(s), has "
                     << op->outputs.size();
  return success();
}

FailureOr<SmallVector<int64_t>> Importer::constantInts(unsigned k,
                                                       const char *what) {
  int64_t idx = inputIndex(k);
  if (idx < 0)
    return failure();
  const Tensor &t = tensor(idx);
  llvm::ArrayRef<uint8_t> data = constantData(idx);
  if (data.empty())
    return opError() << "the " << what << " (input #" << k
                     << ") must be a constant tensor",
           failure();
  if (t.type != kInt32 && t.type != kInt64)
    return opError() << "the " << what << " must be INT32 or INT64, not "
                     << tensorTypeName(t.type),
           failure();
  int64_t elements = 1;
  for (int64_t d : t.shape) {
    if (d < 0 || d > 4096)
      return opError() << "the " << what << " has an invalid shape",
             failure();
    elements *= d;
    if (elements > 4096)
      return opError() << "the " << what << " is too large", failure();
  }
  unsigned size = t.type == kInt32 ? 4 : 8;
  if (uint64_t(data.size()) != uint64_t(elements) * size)
    return opError() << "the " << what << " holds " << data.size()
                     << " bytes, expected " << elements * size,
           failure();
  SmallVector<int64_t> result;
  for (int64_t i = 0; i < elements; ++i) {
    if (size == 4) {
      int32_t v;
      std::memcpy(&v, data.data() + 4 * i, 4);
      result.push_back(v);
    } else {
      int64_t v;
      std::memcpy(&v, data.data() + 8 * i, 8);
      result.push_back(v);
    }
  }
  return result;
}

FailureOr<Options> Importer::options(uint8_t expected) {
  if (op->optionsType != kNoOptions && op->optionsType != expected)
    return opError() << "builtin options of type " << int(op->optionsType)
                     << ", expected " << int(expected),
           failure();
  return Options{reader, op->optionsType == expected ? op->options
                                                     : fb::Table()};
}

//===----------------------------------------------------------------------===//
// Building blocks
//===----------------------------------------------------------------------===//

Value Importer::zeroPoint(Type elementType, int64_t zp) {
  auto type = RankedTensorType::get({1}, elementType);
  Attribute value;
  if (isa<FloatType>(elementType))
    value = b.getFloatAttr(elementType, double(zp));
  else
    value = b.getIntegerAttr(elementType, zp);
  return constOp(DenseElementsAttr::get(type, value), currentLoc);
}

Value Importer::floatSplat(ArrayRef<int64_t> shape, float value) {
  auto type = RankedTensorType::get(shape, b.getF32Type());
  return constOp(DenseElementsAttr::get(type, value), currentLoc);
}

Value Importer::constShape(ArrayRef<int64_t> v) {
  auto type = RankedTensorType::get({int64_t(v.size())}, b.getIndexType());
  auto attr = DenseIntElementsAttr::get(type, v);
  return tosa::ConstShapeOp::create(
      b, currentLoc, tosa::shapeType::get(ctx, v.size()), attr);
}

Value Importer::reshape(Value v, ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getShape() == shape)
    return v;
  auto newType = RankedTensorType::get(shape, type.getElementType());
  if (auto c = v.getDefiningOp<tosa::ConstOp>())
    if (auto dense = dyn_cast<DenseElementsAttr>(c.getValues()))
      return constOp(dense.reshape(newType), c.getLoc());
  return tosa::ReshapeOp::create(b, currentLoc, newType, v, constShape(shape));
}

Value Importer::slice(Value v, ArrayRef<int64_t> sizes) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getShape() == sizes)
    return v;
  SmallVector<int64_t> start(sizes.size(), 0);
  auto newType = RankedTensorType::get(sizes, type.getElementType());
  return tosa::SliceOp::create(b, currentLoc, newType, v, constShape(start),
                               constShape(sizes));
}

/// a * c where c is a constant of equal rank (broadcast along size-1 dims).
Value Importer::mul(Value a, Value c) {
  auto shift = constOp(
      DenseElementsAttr::get(RankedTensorType::get({1}, b.getI8Type()),
                             b.getI8IntegerAttr(0)),
      currentLoc);
  return tosa::MulOp::create(b, currentLoc, a.getType(), a, c, shift);
}

Value Importer::clampFloat(Value v, float lo, float hi) {
  return tosa::ClampOp::create(b, currentLoc, v.getType(), v,
                               b.getF32FloatAttr(lo), b.getF32FloatAttr(hi));
}

Value Importer::clampInt(Value v, int64_t lo, int64_t hi) {
  Type elem = cast<RankedTensorType>(v.getType()).getElementType();
  return tosa::ClampOp::create(b, currentLoc, v.getType(), v,
                               b.getIntegerAttr(elem, lo),
                               b.getIntegerAttr(elem, hi));
}

FailureOr<Value> Importer::rescale(Value v, Type outElem,
                                   ArrayRef<double> scales, int64_t inZp,
                                   int64_t outZp) {
  auto inType = cast<RankedTensorType>(v.getType());
  SmallVector<int32_t> multipliers;
  SmallVector<int8_t> shifts;
  for (double s : scales) {
    int32_t m;
    int8_t sh;
    if (!computeMultiplierShift(s, m, sh))
      return opError() << "rescale factor " << s
                       << " cannot be expressed as a TOSA multiplier/shift",
             failure();
    multipliers.push_back(m);
    shifts.push_back(sh);
  }
  int64_t n = int64_t(scales.size());
  bool perChannel = n > 1;
  if (perChannel && (inType.getRank() == 0 || inType.getShape().back() != n))
    return opError() << "per-channel rescale needs " << n
                     << " channels in the last dimension",
           failure();
  Value m = constOp(DenseElementsAttr::get(
                        RankedTensorType::get({n}, b.getI32Type()),
                        ArrayRef<int32_t>(multipliers)),
                    currentLoc);
  Value s = constOp(
      DenseElementsAttr::get(RankedTensorType::get({n}, b.getI8Type()),
                             ArrayRef<int8_t>(shifts)),
      currentLoc);
  Value izp = zeroPoint(inType.getElementType(), inZp);
  Value ozp = zeroPoint(outElem, outZp);
  auto outType = RankedTensorType::get(inType.getShape(), outElem);
  return tosa::RescaleOp::create(b, currentLoc, outType, v, m, s, izp, ozp,
                                 /*scale32=*/true,
                                 tosa::RoundingMode::DOUBLE_ROUND, perChannel,
                                 /*input_unsigned=*/false,
                                 /*output_unsigned=*/false)
      .getResult();
}

FailureOr<Value> Importer::applyFloatActivation(Value v, int8_t act) {
  switch (act) {
  case kActNone:
    return v;
  case kActRelu:
    return clampFloat(v, 0.0f, FLT_MAX);
  case kActRelu6:
    return clampFloat(v, 0.0f, 6.0f);
  case kActReluN1To1:
    return clampFloat(v, -1.0f, 1.0f);
  case kActTanh:
    return tosa::TanhOp::create(b, currentLoc, v.getType(), v).getResult();
  default:
    return opError() << "fused activation " << int(act)
                     << " is not supported",
           failure();
  }
}

/// TFLite's CalculateActivationRangeQuantized for int8 outputs.
FailureOr<Value> Importer::applyQuantActivation(Value v, int8_t act,
                                                const QParams &out) {
  auto quantize = [&](double x) {
    return out.zp + int64_t(std::round(x / out.scale[0]));
  };
  int64_t lo = -128, hi = 127;
  switch (act) {
  case kActNone:
    return v; // the rescale saturates already
  case kActRelu:
    lo = std::max<int64_t>(lo, quantize(0));
    break;
  case kActRelu6:
    lo = std::max<int64_t>(lo, quantize(0));
    hi = std::min<int64_t>(hi, quantize(6));
    break;
  case kActReluN1To1:
    lo = std::max<int64_t>(lo, quantize(-1));
    hi = std::min<int64_t>(hi, quantize(1));
    break;
  default:
    return opError() << "fused activation " << int(act)
                     << " is not supported on int8 tensors",
           failure();
  }
  if (lo > hi)
    lo = hi;
  return clampInt(v, lo, hi);
}

FailureOr<Value> Importer::requantize(Value v, const QParams &in,
                                      const QParams &out) {
  if (in.scale[0] == out.scale[0] && in.zp == out.zp)
    return v;
  Type elem = cast<RankedTensorType>(v.getType()).getElementType();
  return rescale(v, elem, {in.scale[0] / out.scale[0]}, in.zp, out.zp);
}

FailureOr<Window> Importer::window(int64_t in, int64_t kernel, int64_t stride,
                                   int64_t dilation, int8_t padding,
                                   int64_t out, const char *axis) {
  if (kernel < 1 || stride < 1 || dilation < 1 || kernel > (1 << 16) ||
      stride > (1 << 16) || dilation > (1 << 16))
    return opError() << "invalid " << axis << " window: kernel " << kernel
                     << ", stride " << stride << ", dilation " << dilation,
           failure();
  if (padding != kPaddingSame && padding != kPaddingValid)
    return opError() << "unknown padding " << int(padding), failure();
  int64_t eff = (kernel - 1) * dilation + 1;
  int64_t expected = padding == kPaddingSame
                         ? ceilDiv(in, stride)
                         : (in >= eff ? (in - eff) / stride + 1 : 0);
  if (expected < 1 || expected != out)
    return opError() << "output " << axis << " " << out << " does not match "
                     << (padding == kPaddingSame ? "SAME" : "VALID")
                     << " padding (input " << in << ", kernel " << kernel
                     << ", stride " << stride << ", dilation " << dilation
                     << ": expected " << expected << ")",
           failure();
  Window w;
  int64_t total = padding == kPaddingSame
                      ? std::max<int64_t>((out - 1) * stride + eff - in, 0)
                      : 0;
  w.padBefore = total / 2;
  w.padAfter = total - w.padBefore;
  int64_t rem = (in - 1 + total - (eff - 1)) % stride;
  int64_t fromPad = std::min(rem, w.padAfter);
  w.padAfter -= fromPad;
  w.crop = rem - fromPad;
  return w;
}

FailureOr<Value> Importer::broadcastTo(Value v, unsigned rank,
                                       ArrayRef<int64_t> out,
                                       const char *which) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getRank() > int64_t(rank))
    return opError() << which << " operand has rank " << type.getRank()
                     << ", more than the result's " << rank,
           failure();
  SmallVector<int64_t> shape(rank - type.getRank(), 1);
  llvm::append_range(shape, type.getShape());
  for (unsigned d = 0; d < rank; ++d)
    if (shape[d] != out[d] && shape[d] != 1)
      return opError() << which << " operand of type " << type
                       << " does not broadcast to the result shape",
             failure();
  return reshape(v, shape);
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

enum ConvKind { kKindConv, kKindDepthwise, kKindFC };

/// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (as a 1x1 conv2d over
/// [batch, 1, 1, features]).
LogicalResult Importer::convertConvLike(int kind) {
  if (failed(expectCounts(2, 3, 1)))
    return failure();
  int8_t act = kActNone, padding = kPaddingValid;
  int64_t strideH = 1, strideW = 1, dilH = 1, dilW = 1;
  bool keepNumDims = false;
  if (kind == kKindConv || kind == kKindDepthwise) {
    FailureOr<Options> o =
        options(kind == kKindConv ? kConv2DOptions : kDepthwiseConv2DOptions);
    if (failed(o))
      return failure();
    unsigned shift = kind == kKindDepthwise ? 1 : 0; // depth_multiplier field
    padding = o->get<int8_t>(0, 0, "padding");
    strideW = o->get<int32_t>(1, 0, "stride_w");
    strideH = o->get<int32_t>(2, 0, "stride_h");
    act = o->get<int8_t>(3 + shift, 0, "fused_activation_function");
    dilW = o->get<int32_t>(4 + shift, 1, "dilation_w_factor");
    dilH = o->get<int32_t>(5 + shift, 1, "dilation_h_factor");
  } else {
    FailureOr<Options> o = options(kFullyConnectedOptions);
    if (failed(o))
      return failure();
    act = o->get<int8_t>(0, 0, "fused_activation_function");
    if (o->get<int8_t>(1, 0, "weights_format") != 0)
      return opError() << "shuffled FULLY_CONNECTED weights are not supported";
    keepNumDims = o->get<uint8_t>(2, 0, "keep_num_dims");
  }
  if (reader.failed())
    return opError() << reader.error();

  FailureOr<Value> x = input(0), w = input(1);
  if (failed(x) || failed(w))
    return failure();
  FailureOr<RankedTensorType> outType = outputType(0);
  if (failed(outType))
    return failure();
  auto xType = cast<RankedTensorType>(x->getType());
  auto wType = cast<RankedTensorType>(w->getType());
  Type xElem = xType.getElementType(), wElem = wType.getElementType(),
       oElem = outType->getElementType();
  bool quantized = xElem.isInteger(8);
  if (!(xElem.isF32() && wElem.isF32() && oElem.isF32()) &&
      !(quantized && wElem.isInteger(8) && oElem.isInteger(8)))
    return opError() << "unsupported element types: input " << xElem
                     << ", weights " << wElem << ", output " << oElem
                     << " (supported: all f32, or all int8)";

  Value in = *x, weight = *w;
  SmallVector<int64_t> pad(4, 0), stride = {1, 1}, dilation = {1, 1};
  SmallVector<int64_t> convShape;
  int64_t outChannels;
  int wQuantDim = 0;
  if (kind == kKindFC) {
    if (wType.getRank() != 2)
      return opError() << "weights must be 2-D [outputs, inputs], got "
                       << wType;
    outChannels = wType.getDimSize(0);
    int64_t depth = wType.getDimSize(1);
    if (xType.getRank() < 1 || xType.getNumElements() % depth != 0)
      return opError() << "input " << xType << " is not a multiple of "
                       << depth << " features";
    int64_t batch = xType.getNumElements() / depth;
    SmallVector<int64_t> expected = {batch, outChannels};
    if (keepNumDims) {
      if (xType.getShape().back() != depth)
        return opError() << "keep_num_dims needs the input's last dimension "
                            "to be "
                         << depth;
      expected.assign(xType.getShape().begin(), xType.getShape().end());
      expected.back() = outChannels;
    }
    if (outType->getShape() != ArrayRef<int64_t>(expected))
      return opError() << "output " << *outType
                       << " does not match input " << xType
                       << " and weights " << wType;
    in = reshape(in, {batch, 1, 1, depth});
    weight = reshape(weight, {outChannels, 1, 1, depth});
    convShape = {batch, 1, 1, outChannels};
  } else {
    if (xType.getRank() != 4 || wType.getRank() != 4 ||
        outType->getRank() != 4)
      return opError() << "input, weights and output must be 4-D, got "
                       << xType << ", " << wType << ", " << *outType;
    int64_t n = xType.getDimSize(0), h = xType.getDimSize(1),
            wd = xType.getDimSize(2), c = xType.getDimSize(3);
    int64_t kh = wType.getDimSize(1), kw = wType.getDimSize(2);
    if (kind == kKindConv) {
      outChannels = wType.getDimSize(0);
      if (wType.getDimSize(3) != c)
        return opError() << "weights " << wType << " do not match the " << c
                         << " input channels (grouped convolutions are not "
                            "supported)";
    } else {
      outChannels = wType.getDimSize(3);
      if (wType.getDimSize(0) != 1 || outChannels % c != 0)
        return opError() << "depthwise weights must be [1, KH, KW, C*M] with "
                            "C = "
                         << c << ", got " << wType;
      weight = reshape(weight, {kh, kw, c, outChannels / c});
      wQuantDim = 3;
    }
    if (outType->getDimSize(0) != n || outType->getDimSize(3) != outChannels)
      return opError() << "output " << *outType << " does not match input "
                       << xType << " and weights " << wType;
    FailureOr<Window> wy = window(h, kh, strideH, dilH, padding,
                                  outType->getDimSize(1), "height");
    if (failed(wy))
      return failure();
    FailureOr<Window> wx = window(wd, kw, strideW, dilW, padding,
                                  outType->getDimSize(2), "width");
    if (failed(wx))
      return failure();
    in = slice(in, {n, h - wy->crop, wd - wx->crop, c});
    pad = {wy->padBefore, wy->padAfter, wx->padBefore, wx->padAfter};
    stride = {strideH, strideW};
    dilation = {dilH, dilW};
    convShape.assign(outType->getShape().begin(), outType->getShape().end());
  }

  Value bias;
  RankedTensorType biasType;
  if (hasInput(2)) {
    FailureOr<Value> bv = input(2);
    if (failed(bv))
      return failure();
    bias = *bv;
    biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getRank() != 1 || biasType.getDimSize(0) != outChannels)
      return opError() << "bias " << biasType << " does not match the "
                       << outChannels << " output channels";
    if (biasType.getElementType() != (quantized ? Type(b.getI32Type())
                                                : Type(b.getF32Type())))
      return opError() << "bias must be " << (quantized ? "i32" : "f32")
                       << ", got " << biasType;
  }

  auto buildConv = [&](Value izp, Value wzp, Type acc) -> Value {
    auto t = RankedTensorType::get(convShape, acc);
    if (kind == kKindDepthwise)
      return tosa::DepthwiseConv2DOp::create(b, currentLoc, t, in, weight,
                                             bias, izp, wzp, pad, stride,
                                             dilation, acc);
    return tosa::Conv2DOp::create(b, currentLoc, t, in, weight, bias, izp,
                                  wzp, pad, stride, dilation, acc);
  };

  Value result;
  if (!quantized) {
    if (!bias)
      bias = floatSplat({outChannels}, 0.0f);
    Value conv = buildConv(zeroPoint(b.getF32Type(), 0),
                           zeroPoint(b.getF32Type(), 0), b.getF32Type());
    FailureOr<Value> r = applyFloatActivation(conv, act);
    if (failed(r))
      return failure();
    result = *r;
  } else {
    FailureOr<QParams> qx = quantParams(op->inputs[0], false);
    FailureOr<QParams> qw = quantParams(op->inputs[1], true);
    FailureOr<QParams> qo = quantParams(op->outputs[0], false);
    if (failed(qx) || failed(qw) || failed(qo))
      return failure();
    if (qw->zp != 0)
      return opError() << "int8 weights must have zero point 0, got "
                       << qw->zp;
    if (qw->scale.size() > 1 &&
        (qw->dim != wQuantDim || int64_t(qw->scale.size()) != outChannels))
      return opError() << "per-channel weight scales must run along the "
                          "output channels (dimension "
                       << wQuantDim << ")";
    if (!bias)
      bias = constOp(DenseElementsAttr::get(
                         RankedTensorType::get({outChannels}, b.getI32Type()),
                         b.getI32IntegerAttr(0)),
                     currentLoc);
    Value conv = buildConv(zeroPoint(b.getI8Type(), qx->zp),
                           zeroPoint(b.getI8Type(), 0), b.getI32Type());
    SmallVector<double> scales;
    for (int64_t c = 0; c < outChannels; ++c) {
      double ws = qw->scale.size() > 1 ? qw->scale[c] : qw->scale[0];
      // As TFLite's PopulateConvolutionQuantizationParams, in double.
      scales.push_back(qx->scale[0] * ws / qo->scale[0]);
    }
    if (llvm::all_equal(scales))
      scales.resize(1);
    FailureOr<Value> r = rescale(conv, b.getI8Type(), scales, 0, qo->zp);
    if (failed(r))
      return failure();
    FailureOr<Value> a = applyQuantActivation(*r, act, *qo);
    if (failed(a))
      return failure();
    result = *a;
  }
  if (kind == kKindFC)
    result = reshape(result, outType->getShape());
  return setOutput(0, result);
}

/// TRANSPOSE_CONV (inputs: output_shape, weights, input[, bias]) and
/// MediaPipe's Convolution2DTransposeBias (inputs: input, weights, bias;
/// custom options: TfLiteTransposeConvParams {padding, stride_w, stride_h}).
LogicalResult Importer::convertTransposeConv(bool mediapipe) {
  if (failed(mediapipe ? expectCounts(3, 3, 1) : expectCounts(3, 4, 1)))
    return failure();
  int64_t strideH = 1, strideW = 1;
  int8_t act = kActNone;
  bool same;
  if (mediapipe) {
    ArrayRef<uint8_t> opts = op->customOptions;
    if (opts.size() < 12)
      return opError() << "custom options hold " << opts.size()
                       << " bytes, expected at least 12 (padding, stride_w, "
                          "stride_h)";
    int32_t fields[3];
    std::memcpy(fields, opts.data(), 12);
    // TfLitePadding: 1 = SAME, 2 = VALID.
    if (fields[0] != 1 && fields[0] != 2)
      return opError() << "unknown padding " << fields[0]
                       << " in the custom options";
    same = fields[0] == 1;
    strideW = fields[1];
    strideH = fields[2];
  } else {
    FailureOr<Options> o = options(kTransposeConvOptions);
    if (failed(o))
      return failure();
    int8_t padding = o->get<int8_t>(0, 0, "padding");
    strideW = o->get<int32_t>(1, 0, "stride_w");
    strideH = o->get<int32_t>(2, 0, "stride_h");
    act = o->get<int8_t>(3, 0, "fused_activation_function");
    if (reader.failed())
      return opError() << reader.error();
    if (padding != kPaddingSame && padding != kPaddingValid)
      return opError() << "unknown padding " << int(padding);
    same = padding == kPaddingSame;
  }
  if (strideH < 1 || strideW < 1 || strideH > (1 << 16) ||
      strideW > (1 << 16))
    return opError() << "invalid strides " << strideH << "x" << strideW;

  unsigned xIdx = mediapipe ? 0 : 2, wIdx = 1;
  FailureOr<Value> x = input(xIdx), w = input(wIdx);
  if (failed(x) || failed(w))
    return failure();
  FailureOr<RankedTensorType> outType = outputType(0);
  if (failed(outType))
    return failure();
  auto xType = cast<RankedTensorType>(x->getType());
  auto wType = cast<RankedTensorType>(w->getType());
  if (!xType.getElementType().isF32() || !wType.getElementType().isF32() ||
      !outType->getElementType().isF32())
    return opError() << "only f32 transposed convolutions are supported";
  if (xType.getRank() != 4 || wType.getRank() != 4 || outType->getRank() != 4)
    return opError() << "input, weights and output must be 4-D, got " << xType
                     << ", " << wType << ", " << *outType;
  int64_t n = xType.getDimSize(0), h = xType.getDimSize(1),
          wd = xType.getDimSize(2), c = xType.getDimSize(3);
  int64_t oc = wType.getDimSize(0), kh = wType.getDimSize(1),
          kw = wType.getDimSize(2);
  int64_t oh = outType->getDimSize(1), ow = outType->getDimSize(2);
  if (wType.getDimSize(3) != c || outType->getDimSize(0) != n ||
      outType->getDimSize(3) != oc)
    return opError() << "weights " << wType << " do not match input " << xType
                     << " and output " << *outType;
  if (!mediapipe) {
    FailureOr<SmallVector<int64_t>> shape =
        constantInts(0, "output shape");
    if (failed(shape))
      return failure();
    if (ArrayRef<int64_t>(*shape) != outType->getShape())
      return opError() << "the output_shape operand does not match output "
                       << *outType;
  }

  // Padding before the first output row, as the reference kernels compute
  // it; the rest of TOSA's out_pad follows from the output size.
  int64_t padTop, padLeft;
  if (mediapipe) {
    int64_t totalH = same ? std::max<int64_t>(0, kh - (h - 1) % strideH - 1) : 0;
    int64_t totalW = same ? std::max<int64_t>(0, kw - (wd - 1) % strideW - 1) : 0;
    if (oh != strideH * (h - 1) + kh - totalH ||
        ow != strideW * (wd - 1) + kw - totalW)
      return opError() << "output " << *outType
                       << " does not match the transposed convolution of "
                       << xType << " (expected "
                       << strideH * (h - 1) + kh - totalH << "x"
                       << strideW * (wd - 1) + kw - totalW << ")";
    padTop = totalH / 2;
    padLeft = totalW / 2;
  } else {
    auto padding = [&](int64_t out, int64_t k, int64_t s) {
      int64_t steps = same ? ceilDiv(out, s) : (out - k + s) / s;
      return std::max<int64_t>((steps - 1) * s + k - out, 0) / 2;
    };
    padTop = padding(oh, kh, strideH);
    padLeft = padding(ow, kw, strideW);
  }
  SmallVector<int64_t> outPad = {-padTop, oh - (h - 1) * strideH - kh + padTop,
                                 -padLeft,
                                 ow - (wd - 1) * strideW - kw + padLeft};
  for (int64_t p : {outPad[0], outPad[1]})
    if (p <= -kh)
      return opError() << "output height " << oh
                       << " is inconsistent with the input and kernel";
  for (int64_t p : {outPad[2], outPad[3]})
    if (p <= -kw)
      return opError() << "output width " << ow
                       << " is inconsistent with the input and kernel";

  Value bias;
  unsigned biasIdx = mediapipe ? 2 : 3;
  if (hasInput(biasIdx)) {
    FailureOr<Value> bv = input(biasIdx);
    if (failed(bv))
      return failure();
    bias = *bv;
    auto bt = cast<RankedTensorType>(bias.getType());
    if (bt.getRank() != 1 || bt.getDimSize(0) != oc ||
        !bt.getElementType().isF32())
      return opError() << "bias " << bt << " does not match the " << oc
                       << " output channels";
  } else {
    bias = floatSplat({oc}, 0.0f);
  }
  Value conv = tosa::TransposeConv2DOp::create(
      b, currentLoc, *outType, *x, *w, bias, zeroPoint(b.getF32Type(), 0),
      zeroPoint(b.getF32Type(), 0), outPad,
      ArrayRef<int64_t>{strideH, strideW}, b.getF32Type());
  FailureOr<Value> r = applyFloatActivation(conv, act);
  if (failed(r))
    return failure();
  return setOutput(0, *r);
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

LogicalResult Importer::convertPool(bool average) {
  if (failed(expectCounts(1, 1, 1)))
    return failure();
  FailureOr<Options> o = options(kPool2DOptions);
  if (failed(o))
    return failure();
  int8_t padding = o->get<int8_t>(0, 0, "padding");
  int64_t strideW = o->get<int32_t>(1, 0, "stride_w");
  int64_t strideH = o->get<int32_t>(2, 0, "stride_h");
  int64_t fw = o->get<int32_t>(3, 0, "filter_width");
  int64_t fh = o->get<int32_t>(4, 0, "filter_height");
  int8_t act = o->get<int8_t>(5, 0, "fused_activation_function");
  if (reader.failed())
    return opError() << reader.error();
  FailureOr<Value> x = input(0);
  FailureOr<RankedTensorType> outType = outputType(0);
  if (failed(x) || failed(outType))
    return failure();
  auto xType = cast<RankedTensorType>(x->getType());
  Type elem = xType.getElementType();
  bool quantized = elem.isInteger(8);
  if (!(elem.isF32() || quantized) || outType->getElementType() != elem)
    return opError() << "unsupported element types " << xType << " -> "
                     << *outType;
  if (xType.getRank() != 4 || outType->getRank() != 4 ||
      outType->getDimSize(0) != xType.getDimSize(0) ||
      outType->getDimSize(3) != xType.getDimSize(3))
    return opError() << "input " << xType << " and output " << *outType
                     << " must be 4-D NHWC with equal N and C";
  int64_t n = xType.getDimSize(0), h = xType.getDimSize(1),
          wd = xType.getDimSize(2), c = xType.getDimSize(3);
  FailureOr<Window> wy =
      window(h, fh, strideH, 1, padding, outType->getDimSize(1), "height");
  if (failed(wy))
    return failure();
  FailureOr<Window> wx =
      window(wd, fw, strideW, 1, padding, outType->getDimSize(2), "width");
  if (failed(wx))
    return failure();
  Value in = slice(*x, {n, h - wy->crop, wd - wx->crop, c});
  SmallVector<int64_t> kernel = {fh, fw}, stride = {strideH, strideW},
                       pad = {wy->padBefore, wy->padAfter, wx->padBefore,
                              wx->padAfter};
  QParams q;
  if (quantized) {
    FailureOr<QParams> qi = quantParams(op->inputs[0], false);
    FailureOr<QParams> qo = quantParams(op->outputs[0], false);
    if (failed(qi) || failed(qo))
      return failure();
    if (qi->scale[0] != qo->scale[0] || qi->zp != qo->zp)
      return opError() << "int8 pooling needs equal input and output "
                          "quantization";
    q = *qo;
  }
  Value pooled;
  if (average) {
    Type acc = quantized ? Type(b.getI32Type()) : Type(b.getF32Type());
    pooled = tosa::AvgPool2dOp::create(
        b, currentLoc, *outType, in, zeroPoint(elem, q.zp),
        zeroPoint(elem, q.zp), b.getDenseI64ArrayAttr(kernel),
        b.getDenseI64ArrayAttr(stride), b.getDenseI64ArrayAttr(pad),
        TypeAttr::get(acc));
  } else {
    pooled = tosa::MaxPool2dOp::create(b, currentLoc, *outType, in, kernel,
                                       stride, pad);
  }
  FailureOr<Value> r = quantized ? applyQuantActivation(pooled, act, q)
                                 : applyFloatActivation(pooled, act);
  if (failed(r))
    return failure();
  return setOutput(0, *r);
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult Importer::convertBinary(int32_t code) {
  if (failed(expectCounts(2, 2, 1)))
    return failure();
  uint8_t expected = code == kAdd ? kAddOptions
                     : code == kSub ? kSubOptions
                                    : kMulOptions;
  FailureOr<Options> o = options(expected);
  if (failed(o))
    return failure();
  int8_t act = o->get<int8_t>(0, 0, "fused_activation_function");
  if (reader.failed())
    return opError() << reader.error();
  FailureOr<Value> x = input(0), y = input(1);
  FailureOr<RankedTensorType> outType = outputType(0);
  if (failed(x) || failed(y) || failed(outType))
    return failure();
  Type elem = outType->getElementType();
  auto xType = cast<RankedTensorType>(x->getType());
  auto yType = cast<RankedTensorType>(y->getType());
  if (xType.getElementType() != elem || yType.getElementType() != elem ||
      !(elem.isF32() || elem.isInteger(8)))
    return opError() << "unsupported element types " << xType << ", "
                     << yType << " -> " << *outType
                     << " (supported: f32, or int8)";
  unsigned rank = outType->getRank();
  FailureOr<Value> a = broadcastTo(*x, rank, outType->getShape(), "first");
  FailureOr<Value> c = broadcastTo(*y, rank, outType->getShape(), "second");
  if (failed(a) || failed(c))
    return failure();
  // The result must be the broadcast of the operands, not larger.
  auto aShape = cast<RankedTensorType>(a->getType()).getShape();
  auto cShape = cast<RankedTensorType>(c->getType()).getShape();
  for (unsigned d = 0; d < rank; ++d)
    if (std::max(aShape[d], cShape[d]) != outType->getDimSize(d))
      return opError() << "output " << *outType
                       << " is not the broadcast of " << xType << " and "
                       << yType;

  if (elem.isF32()) {
    Value r;
    if (code == kAdd)
      r = tosa::AddOp::create(b, currentLoc, *outType, *a, *c);
    else if (code == kSub)
      r = tosa::SubOp::create(b, currentLoc, *outType, *a, *c);
    else
      r = tosa::MulOp::create(b, currentLoc, *outType, *a, *c,
                              constOp(DenseElementsAttr::get(
                                          RankedTensorType::get(
                                              {1}, b.getI8Type()),
                                          b.getI8IntegerAttr(0)),
                                      currentLoc));
    FailureOr<Value> act2 = applyFloatActivation(r, act);
    if (failed(act2))
      return failure();
    return setOutput(0, *act2);
  }

  FailureOr<QParams> qa = quantParams(op->inputs[0], false);
  FailureOr<QParams> qb = quantParams(op->inputs[1], false);
  FailureOr<QParams> qo = quantParams(op->outputs[0], false);
  if (failed(qa) || failed(qb) || failed(qo))
    return failure();
  Type i32 = b.getI32Type();
  auto outI32 = RankedTensorType::get(outType->getShape(), i32);
  Value sum;
  double outScale;
  if (code == kMul) {
    FailureOr<Value> ra = rescale(*a, i32, {1.0}, qa->zp, 0);
    FailureOr<Value> rc = rescale(*c, i32, {1.0}, qb->zp, 0);
    if (failed(ra) || failed(rc))
      return failure();
    sum = tosa::MulOp::create(
        b, currentLoc, outI32, *ra, *rc,
        constOp(DenseElementsAttr::get(RankedTensorType::get({1}, b.getI8Type()),
                                       b.getI8IntegerAttr(0)),
                currentLoc));
    outScale = qa->scale[0] * qb->scale[0] / qo->scale[0];
  } else {
    // TFLite's quantized ADD/SUB: both sides scaled to 2 * max(scale) with a
    // 20-bit headroom shift.
    const double leftShift = double(1 << 20);
    double twiceMax = 2.0 * std::max(qa->scale[0], qb->scale[0]);
    FailureOr<Value> ra =
        rescale(*a, i32, {leftShift * qa->scale[0] / twiceMax}, qa->zp, 0);
    FailureOr<Value> rc =
        rescale(*c, i32, {leftShift * qb->scale[0] / twiceMax}, qb->zp, 0);
    if (failed(ra) || failed(rc))
      return failure();
    if (code == kAdd)
      sum = tosa::AddOp::create(b, currentLoc, outI32, *ra, *rc);
    else
      sum = tosa::SubOp::create(b, currentLoc, outI32, *ra, *rc);
    outScale = twiceMax / (qo->scale[0] * leftShift);
  }
  FailureOr<Value> r = rescale(sum, elem, {outScale}, 0, qo->zp);
  if (failed(r))
    return failure();
  FailureOr<Value> act2 = applyQuantActivation(*r, act, *qo);
  if (failed(act2))
    return failure();
  return setOutput(0, *act2);
}

LogicalResult Importer::convertUnary(int32_t code) {
  if (failed(expectCounts(1, 1, 1)))
    return failure();
  FailureOr<Value> x = input(0);
  FailureOr<RankedTensorType> outType = outputType(0);
  if (failed(x) || failed(outType))
    return failure();
  auto xType = cast<RankedTensorType>(x->getType());
  if (xType.getShape() != outType->getShape() ||
      xType.getElementType() != outType->getElementType())
    return opError() << "input " << xType << " and output " << *outType
                     << " must have the same type";
  Type elem = xType.getElementType();
  if (elem.isInteger(8)) {
    int8_t act;
    switch (code) {
    case kRelu: act = kActRelu; break;
    case kRelu6: act = kActRelu6; break;
    case kReluN1To1: act = kActReluN1To1; break;
    default:
      return opError() << "int8 " << opName << " is not supported";
    }
    FailureOr<QParams> qi = quantParams(op->inputs[0], false);
    FailureOr<QParams> qo = quantParams(op->outputs[0], false);
    if (failed(qi) || failed(qo))
      return failure();
    FailureOr<Value> r = requantize(*x, *qi, *qo);
    if (failed(r))
      return failure();
    FailureOr<Value> a = applyQuantActivation(*r, act, *qo);
    if (failed(a))
      return failure();
    return setOutput(0, *a);
  }
  if (!elem.isF32())
    return opError() << "unsupported element type " << elem;
  Value v = *x, r;
  switch (code) {
  case kRelu: r = clampFloat(v, 0.0f, FLT_MAX); break;
  case kRelu6: r = clampFloat(v, 0.0f, 6.0f); break;
  case kReluN1To1: r = clampFloat(v, -1.0f, 1.0f); break;
  case kTanh: r = tosa::TanhOp::create(b, currentLoc, *outType, v); break;
  case kLogistic: r = tosa::SigmoidOp::create(b, currentLoc, *outType, v); break;
  case kHardSwish: {
    // x * relu6(x + 3) / 6
    SmallVector<int64_t> ones(xType.getRank(), 1);
    Value t = tosa::AddOp::create(b, currentLoc, *outType, v,
                                  floatSplat(ones, 3.0f));
    t = clampFloat(t, 0.0f, 6.0f);
    t = mul(v, t);
    r = mul(t, floatSplat(ones, 1.0f / 6.0f));
    break;
  }
  default:
    return opError() << "internal: not a unary operator";
  }
  return setOutput(0, r);
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult Importer::convertPad(bool v2) {
  if (failed(v2 ? expectCounts(2, 3, 1) : expectCounts(2, 2, 1)))
    return failure();
  FailureOr<Value> x = input(0);
  FailureOr<RankedTensorType> outType = outputType(0);
  if (failed(x) || failed(outType))
    return failure();
  FailureOr<SmallVector<int64_t>> pads = constantInts(1, "paddings");
  if (failed(pads))
    return failure();
  auto xType = cast<RankedTensorType>(x->getType());
  int64_t rank = xType.getRank();
  if (int64_t(pads->size()) != 2 * rank || rank == 0)
    return opError() << "paddings must be [" << rank << ", 2]";
  if (outType->getRank() != rank ||
      outType->getElementType() != xType.getElementType())
    return opError() << "output " << *outType << " does not match input "
                     << xType;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t lo = (*pads)[2 * d], hi = (*pads)[2 * d + 1];
    if (lo < 0 || hi < 0 || lo > (1 << 20) || hi > (1 << 20) ||
        xType.getDimSize(d) + lo + hi != outType->getDimSize(d))
      return opError() << "paddings do not turn " << xType << " into "
                       << *outType;
  }
  Type elem = xType.getElementType();
  Value padConst;
  if (elem.isF32()) {
    float value = 0.0f;
    if (v2 && hasInput(2)) {
      int64_t idx = inputIndex(2);
      if (idx < 0)
        return failure();
      ArrayRef<uint8_t> data = constantData(idx);
      if (tensor(idx).type != kFloat32 || data.size() != 4)
        return opError() << "the padding value must be a constant f32 scalar";
      std::memcpy(&value, data.data(), 4);
    }
    padConst = constOp(DenseElementsAttr::get(
                           RankedTensorType::get({1}, elem), value),
                       currentLoc);
  } else if (elem.isInteger(8)) {
    FailureOr<QParams> qi = quantParams(op->inputs[0], false);
    FailureOr<QParams> qo = quantParams(op->outputs[0], false);
    if (failed(qi) || failed(qo))
      return failure();
    if (qi->scale[0] != qo->scale[0] || qi->zp != qo->zp)
      return opError() << "int8 PAD needs equal input and output "
                          "quantization";
    int64_t value = qo->zp;
    if (v2 && hasInput(2)) {
      int64_t idx = inputIndex(2);
      if (idx < 0)
        return failure();
      ArrayRef<uint8_t> data = constantData(idx);
      if (tensor(idx).type != kInt8 || data.size() != 1)
        return opError() << "the padding value must be a constant int8 scalar";
      value = int8_t(data[0]);
    }
    padConst = zeroPoint(elem, value);
  } else {
    return opError() << "unsupported element type " << elem;
  }
  Value r = tosa::PadOp::create(b, currentLoc, *outType, *x,
                                constShape(*pads), padConst);
  return setOutput(0, r);
}

/// RESHAPE, SQUEEZE, EXPAND_DIMS: the output tensor's static shape decides.
LogicalResult Importer::convertReshape() {
  if (failed(expectCounts(1, 2, 1)))
    return failure();
  FailureOr<Value> x = input(0);
  FailureOr<RankedTensorType> outType = outputType(0);
  if (failed(x) || failed(outType))
    return failure();
  auto xType = cast<RankedTensorType>(x->getType());
  if (xType.getElementType() != outType->getElementType() ||
      xType.getNumElements() != outType->getNumElements())
    return opError() << "cannot reshape " << xType << " into " << *outType;
  if (xType.getElementType().isInteger(8)) {
    FailureOr<QParams> qi = quantParams(op->inputs[0], true);
    FailureOr<QParams> qo = quantParams(op->outputs[0], true);
    if (failed(qi) || failed(qo))
      return failure();
    if (qi->scale != qo->scale || qi->zp != qo->zp)
      return opError() << "int8 reshape needs equal input and output "
                          "quantization";
  }
  Value r = tosa::ReshapeOp::create(b, currentLoc, *outType, *x,
                                    constShape(outType->getShape()));
  return setOutput(0, r);
}

/// Greatest common divisor of the four values (non-negative result).
int64_t gcd4(int64_t a, int64_t b, int64_t c, int64_t d) {
  int64_t g = std::gcd(std::gcd(a, b), std::gcd(c, d));
  return g == 0 ? 1 : g;
}

LogicalResult Importer::convertResize() {
  if (failed(expectCounts(1, 2, 1)))
    return failure();
  FailureOr<Options> o = options(kResizeBilinearOptions);
  if (failed(o))
    return failure();
  bool alignCorners = o->get<uint8_t>(2, 0, "align_corners");
  bool halfPixel = o->get<uint8_t>(3, 0, "half_pixel_centers");
  if (reader.failed())
    return opError() << reader.error();
  if (alignCorners && halfPixel)
    return opError() << "align_corners and half_pixel_centers cannot both "
                        "be set";
  FailureOr<Value> x = input(0);
  FailureOr<RankedTensorType> outType = outputType(0);
  if (failed(x) || failed(outType))
    return failure();
  auto xType = cast<RankedTensorType>(x->getType());
  if (!xType.getElementType().isF32() || !outType->getElementType().isF32())
    return opError() << "only f32 RESIZE_BILINEAR is supported";
  if (xType.getRank() != 4 || outType->getRank() != 4 ||
      outType->getDimSize(0) != xType.getDimSize(0) ||
      outType->getDimSize(3) != xType.getDimSize(3))
    return opError() << "input " << xType << " and output " << *outType
                     << " must be 4-D NHWC with equal N and C";
  if (hasInput(1)) {
    int64_t sizeIdx = inputIndex(1);
    if (sizeIdx < 0)
      return failure();
    if (!isConstant(sizeIdx))
      return opError() << "the size operand must be a constant";
    FailureOr<SmallVector<int64_t>> size = constantInts(1, "size");
    if (failed(size))
      return failure();
    if (size->size() != 2 || (*size)[0] != outType->getDimSize(1) ||
        (*size)[1] != outType->getDimSize(2))
      return opError() << "the size operand does not match output "
                       << *outType;
  }
  // Per axis: (scale_n, scale_d, offset, border) with
  // in_coord = (out * scale_d + offset) / scale_n.
  auto axis = [&](int64_t in, int64_t out) {
    std::array<int64_t, 4> p;
    if (halfPixel)
      p = {2 * out, 2 * in, in - out, out - in};
    else if (alignCorners && out > 1 && in > 1)
      p = {out - 1, in - 1, 0, 0};
    else
      p = {out, in, 0, out - in};
    int64_t g = gcd4(p[0], p[1], p[2], p[3]);
    for (int64_t &v : p)
      v /= g;
    return p;
  };
  int64_t ih = xType.getDimSize(1), iw = xType.getDimSize(2);
  int64_t oh = outType->getDimSize(1), ow = outType->getDimSize(2);
  if (oh > (1 << 24) || ow > (1 << 24))
    return opError() << "output too large";
  std::array<int64_t, 4> py = axis(ih, oh), px = axis(iw, ow);
  // tosa.resize limits: offset in [-n, 16n), border in [-16n, n).
  for (auto &p : {py, px})
    if (p[2] < -p[0] || p[2] >= 16 * p[0] || p[3] < -16 * p[0] ||
        p[3] >= p[0])
      return opError() << "resize from " << xType << " to " << *outType
                       << " is outside what tosa.resize can express "
                          "(downscaling by more than 16)";
  Value r = tosa::ResizeOp::create(
      b, currentLoc, *outType, *x, constShape({py[0], py[1], px[0], px[1]}),
      constShape({py[2], px[2]}), constShape({py[3], px[3]}),
      tosa::ResizeMode::BILINEAR);
  return setOutput(0, r);
}

LogicalResult Importer::convertConcat() {
  if (op->inputs.empty() || op->outputs.size() != 1)
    return opError() << "expects at least one input and one output";
  FailureOr<Options> o = options(kConcatenationOptions);
  if (failed(o))
    return failure();
  int64_t axis = o->get<int32_t>(0, 0, "axis");
  int8_t act = o->get<int8_t>(1, 0, "fused_activation_function");
  if (reader.failed())
    return opError() << reader.error();
  FailureOr<RankedTensorType> outType = outputType(0);
  if (failed(outType))
    return failure();
  int64_t rank = outType->getRank();
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return opError() << "axis " << axis << " is out of range for rank "
                     << rank;
  Type elem = outType->getElementType();
  bool quantized = elem.isInteger(8);
  if (!elem.isF32() && !quantized)
    return opError() << "unsupported element type " << elem;
  QParams qo;
  if (quantized) {
    FailureOr<QParams> q = quantParams(op->outputs[0], false);
    if (failed(q))
      return failure();
    qo = *q;
  }
  SmallVector<Value> operands;
  int64_t total = 0;
  for (unsigned k = 0; k < op->inputs.size(); ++k) {
    FailureOr<Value> v = input(k);
    if (failed(v))
      return failure();
    auto t = cast<RankedTensorType>(v->getType());
    if (t.getRank() != rank || t.getElementType() != elem)
      return opError() << "input #" << k << " " << t
                       << " does not match output " << *outType;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && t.getDimSize(d) != outType->getDimSize(d))
        return opError() << "input #" << k << " " << t
                         << " does not match output " << *outType;
    total += t.getDimSize(axis);
    Value in = *v;
    if (quantized) {
      FailureOr<QParams> qi = quantParams(op->inputs[k], false);
      if (failed(qi))
        return failure();
      FailureOr<Value> r = requantize(in, *qi, qo);
      if (failed(r))
        return failure();
      in = *r;
    }
    operands.push_back(in);
  }
  if (total != outType->getDimSize(axis))
    return opError() << "inputs add up to " << total << " along axis " << axis
                     << ", output has " << outType->getDimSize(axis);
  Value r = tosa::ConcatOp::create(b, currentLoc, *outType, operands,
                                   b.getI32IntegerAttr(axis));
  FailureOr<Value> a = quantized ? applyQuantActivation(r, act, qo)
                                 : applyFloatActivation(r, act);
  if (failed(a))
    return failure();
  return setOutput(0, *a);
}

LogicalResult Importer::convertMean() {
  if (failed(expectCounts(2, 2, 1)))
    return failure();
  FailureOr<Options> o = options(kReducerOptions);
  if (failed(o))
    return failure();
  bool keepDims = o->get<uint8_t>(0, 0, "keep_dims");
  if (reader.failed())
    return opError() << reader.error();
  FailureOr<Value> x = input(0);
  FailureOr<RankedTensorType> outType = outputType(0);
  if (failed(x) || failed(outType))
    return failure();
  FailureOr<SmallVector<int64_t>> axes = constantInts(1, "axes");
  if (failed(axes))
    return failure();
  auto xType = cast<RankedTensorType>(x->getType());
  if (!xType.getElementType().isF32() || !outType->getElementType().isF32())
    return opError() << "only f32 MEAN is supported";
  int64_t rank = xType.getRank();
  SmallVector<bool> reduced(rank, false);
  for (int64_t a : *axes) {
    int64_t d = a < 0 ? a + rank : a;
    if (d < 0 || d >= rank)
      return opError() << "axis " << a << " is out of range for rank " << rank;
    reduced[d] = true;
  }
  SmallVector<int64_t> shape(xType.getShape()), kept;
  int64_t count = 1;
  Value v = *x;
  for (int64_t d = 0; d < rank; ++d) {
    if (!reduced[d]) {
      kept.push_back(shape[d]);
      continue;
    }
    count *= shape[d];
    shape[d] = 1;
    v = tosa::ReduceSumOp::create(
        b, currentLoc, RankedTensorType::get(shape, b.getF32Type()), v,
        b.getI32IntegerAttr(d));
  }
  SmallVector<int64_t> expected = keepDims ? shape : kept;
  if (outType->getShape() != ArrayRef<int64_t>(expected))
    return opError() << "output " << *outType
                     << " does not match the reduced shape";
  SmallVector<int64_t> ones(rank, 1);
  v = mul(v, floatSplat(ones, float(1.0 / double(count))));
  return setOutput(0, reshape(v, outType->getShape()));
}

LogicalResult Importer::convertTranspose() {
  if (failed(expectCounts(2, 2, 1)))
    return failure();
  FailureOr<Value> x = input(0);
  FailureOr<RankedTensorType> outType = outputType(0);
  if (failed(x) || failed(outType))
    return failure();
  FailureOr<SmallVector<int64_t>> perm = constantInts(1, "permutation");
  if (failed(perm))
    return failure();
  auto xType = cast<RankedTensorType>(x->getType());
  int64_t rank = xType.getRank();
  if (int64_t(perm->size()) != rank || outType->getRank() != rank ||
      outType->getElementType() != xType.getElementType())
    return opError() << "permutation does not match " << xType << " -> "
                     << *outType;
  SmallVector<bool> seen(rank, false);
  SmallVector<int32_t> perms;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t p = (*perm)[d];
    if (p < 0 || p >= rank || seen[p] ||
        outType->getDimSize(d) != xType.getDimSize(p))
      return opError() << "invalid permutation for " << xType << " -> "
                       << *outType;
    seen[p] = true;
    perms.push_back(int32_t(p));
  }
  Value r = tosa::TransposeOp::create(b, currentLoc, *outType, *x, perms);
  return setOutput(0, r);
}

//===----------------------------------------------------------------------===//
// Quantization edges
//===----------------------------------------------------------------------===//

LogicalResult Importer::convertQuantize() {
  if (failed(expectCounts(1, 1, 1)))
    return failure();
  FailureOr<Value> x = input(0);
  FailureOr<RankedTensorType> outType = outputType(0);
  if (failed(x) || failed(outType))
    return failure();
  auto xType = cast<RankedTensorType>(x->getType());
  if (xType.getShape() != outType->getShape() ||
      !outType->getElementType().isInteger(8))
    return opError() << "only QUANTIZE to int8 of the same shape is "
                        "supported, got "
                     << xType << " -> " << *outType;
  FailureOr<QParams> qo = quantParams(op->outputs[0], false);
  if (failed(qo))
    return failure();
  if (xType.getElementType().isInteger(8)) {
    FailureOr<QParams> qi = quantParams(op->inputs[0], false);
    if (failed(qi))
      return failure();
    FailureOr<Value> r =
        rescale(*x, b.getI8Type(), {qi->scale[0] / qo->scale[0]}, qi->zp,
                qo->zp);
    if (failed(r))
      return failure();
    return setOutput(0, *r);
  }
  if (!xType.getElementType().isF32())
    return opError() << "unsupported input type " << xType;
  // q = saturate(round(x / scale) + zero_point); the zero point is an
  // integer, so adding it before the rounding cast gives the same result.
  SmallVector<int64_t> ones(xType.getRank(), 1);
  Value v = mul(*x, floatSplat(ones, float(1.0 / qo->scale[0])));
  v = tosa::AddOp::create(b, currentLoc, xType, v,
                          floatSplat(ones, float(qo->zp)));
  Value r = tosa::CastOp::create(b, currentLoc, *outType, v);
  return setOutput(0, r);
}

LogicalResult Importer::convertDequantize() {
  if (failed(expectCounts(1, 1, 1)))
    return failure();
  int64_t inIdx = inputIndex(0);
  if (inIdx < 0)
    return failure();
  FailureOr<RankedTensorType> outType = outputType(0);
  if (failed(outType))
    return failure();
  if (!outType->getElementType().isF32())
    return opError() << "only DEQUANTIZE to f32 is supported";
  const Tensor &t = tensor(inIdx);
  if (t.type != kFloat16 && t.type != kInt8)
    return opError() << "DEQUANTIZE from " << tensorTypeName(t.type)
                     << " is not supported";
  FailureOr<RankedTensorType> inType = tensorType(inIdx, errorLoc);
  if (failed(inType))
    return failure();
  if (inType->getShape() != outType->getShape())
    return opError() << "input " << *inType << " and output " << *outType
                     << " differ in shape";

  // Constant weights: fold into an f32 constant.
  if (!values[inIdx] && isConstant(inIdx)) {
    ArrayRef<uint8_t> data = constantData(inIdx);
    int64_t n = inType->getNumElements();
    if (uint64_t(data.size()) != uint64_t(n) * tensorTypeSize(t.type))
      return opError() << "constant tensor " << tensorLabel(inIdx) << " holds "
                       << data.size() << " bytes, expected "
                       << n * tensorTypeSize(t.type);
    if (failed(chargeConstantBytes(uint64_t(n) * 4)))
      return failure();
    std::vector<float> f(n);
    if (t.type == kFloat16) {
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, data.data() + 2 * i, 2);
        f[i] = halfToFloat(h);
      }
    } else {
      FailureOr<QParams> q = quantParams(inIdx, true);
      if (failed(q))
        return failure();
      // Per-channel: index i's channel along `dim` is (i / inner) % size.
      int64_t inner = 1, size = 1;
      if (q->scale.size() > 1) {
        for (int64_t d = q->dim + 1; d < inType->getRank(); ++d)
          inner *= inType->getDimSize(d);
        size = inType->getDimSize(q->dim);
      }
      for (int64_t i = 0; i < n; ++i) {
        int64_t c = q->scale.size() > 1 ? (i / inner) % size : 0;
        f[i] = float(q->scale[c] * double(int8_t(data[i]) - q->zp));
      }
    }
    int64_t outIdx = outputIndex(0);
    if (outIdx < 0)
      return failure();
    Value c = constOp(DenseElementsAttr::get(*outType, ArrayRef<float>(f)),
                      NameLoc::get(tensorNameAttr(outIdx)));
    return setOutput(0, c);
  }
  FailureOr<Value> x = input(0);
  if (failed(x))
    return failure();
  Value v = tosa::CastOp::create(b, currentLoc, *outType, *x);
  if (t.type == kInt8) {
    FailureOr<QParams> q = quantParams(inIdx, false);
    if (failed(q))
      return failure();
    SmallVector<int64_t> ones(outType->getRank(), 1);
    v = tosa::SubOp::create(b, currentLoc, *outType, v,
                            floatSplat(ones, float(q->zp)));
    v = mul(v, floatSplat(ones, float(q->scale[0])));
  }
  return setOutput(0, v);
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

/// Whether the importer has a converter for the operator code.
bool isSupported(const OperatorCode &code) {
  switch (code.builtin) {
  case kAdd: case kSub: case kMul:
  case kConv2D: case kDepthwiseConv2D: case kFullyConnected:
  case kTransposeConv:
  case kAveragePool2D: case kMaxPool2D:
  case kRelu: case kRelu6: case kReluN1To1: case kTanh: case kLogistic:
  case kHardSwish:
  case kPad: case kPadV2:
  case kReshape: case kSqueeze: case kExpandDims:
  case kResizeBilinear: case kConcatenation: case kMean: case kTranspose:
  case kQuantize: case kDequantize:
    return true;
  case kCustom:
    return code.custom == "Convolution2DTransposeBias";
  default:
    return false;
  }
}

std::string opDisplayName(const OperatorCode &code) {
  if (code.builtin == kCustom)
    return "CUSTOM:" + code.custom;
  return builtinOpName(code.builtin);
}

LogicalResult Importer::convertOperator() {
  const OperatorCode &code = model.operatorCodes[op->opcodeIndex];
  switch (code.builtin) {
  case kConv2D: return convertConvLike(kKindConv);
  case kDepthwiseConv2D: return convertConvLike(kKindDepthwise);
  case kFullyConnected: return convertConvLike(kKindFC);
  case kTransposeConv: return convertTransposeConv(false);
  case kCustom: return convertTransposeConv(true);
  case kAveragePool2D: return convertPool(true);
  case kMaxPool2D: return convertPool(false);
  case kAdd: case kSub: case kMul: return convertBinary(code.builtin);
  case kRelu: case kRelu6: case kReluN1To1: case kTanh: case kLogistic:
  case kHardSwish:
    return convertUnary(code.builtin);
  case kPad: return convertPad(false);
  case kPadV2: return convertPad(true);
  case kReshape: case kSqueeze: case kExpandDims: return convertReshape();
  case kResizeBilinear: return convertResize();
  case kConcatenation: return convertConcat();
  case kMean: return convertMean();
  case kTranspose: return convertTranspose();
  case kQuantize: return convertQuantize();
  case kDequantize: return convertDequantize();
  default:
    return opError() << "internal: no converter";
  }
}

/// Input operands that hold shapes, sizes, axes or permutations rather than
/// data (not counted as parameters).
bool isShapeOperand(int32_t code, unsigned k) {
  switch (code) {
  case kReshape: case kPad: case kPadV2: case kResizeBilinear:
  case kTranspose: case kMean: case kExpandDims:
    return k == 1;
  case kTransposeConv:
    return k == 0;
  default:
    return false;
  }
}

FailureOr<OwningOpRef<ModuleOp>> Importer::run(TFLiteImportStats *stats) {
  values.assign(sg.tensors.size(), Value());
  if (model.numSubgraphs > 1)
    emitWarning(fileLoc) << "the model has " << model.numSubgraphs
                         << " subgraphs; only the first one is imported";

  // Check the whole graph for unsupported operators first, to report all
  // of them at once.
  unsigned unsupported = 0;
  for (unsigned i = 0; i < sg.operators.size(); ++i) {
    const Operator &o = sg.operators[i];
    if (o.opcodeIndex >= model.operatorCodes.size()) {
      emitError(fileLoc) << "operator #" << i << " refers to operator code "
                         << o.opcodeIndex << " but the model has "
                         << model.operatorCodes.size();
      return failure();
    }
    const OperatorCode &code = model.operatorCodes[o.opcodeIndex];
    if (isSupported(code))
      continue;
    if (++unsupported <= 20) {
      std::string name = code.builtin == kCustom
                             ? "CUSTOM '" + code.custom + "'"
                             : "'" + builtinOpName(code.builtin) + "'";
      emitError(fileLoc) << "unsupported TFLite op " << name << " (operator #"
                         << i << ")";
    }
  }
  if (unsupported > 20)
    emitError(fileLoc) << "... " << unsupported - 20
                       << " more unsupported operators";
  if (unsupported)
    return failure();

  // The signature.
  SmallVector<Type> argTypes, resultTypes;
  for (auto [list, types, what] :
       {std::tuple(&sg.inputs, &argTypes, "input"),
        std::tuple(&sg.outputs, &resultTypes, "output")}) {
    for (int32_t idx : *list) {
      if (!validTensor(idx)) {
        emitError(fileLoc) << "subgraph " << what << " refers to tensor "
                           << idx << " which does not exist";
        return failure();
      }
      FailureOr<RankedTensorType> t = tensorType(idx, fileLoc);
      if (failed(t))
        return failure();
      types->push_back(*t);
    }
  }
  if (sg.outputs.empty()) {
    emitError(fileLoc) << "the subgraph has no outputs";
    return failure();
  }

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  b.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(b, fileLoc, "main",
                                   b.getFunctionType(argTypes, resultTypes));
  Block *body = func.addEntryBlock();
  for (unsigned i = 0; i < sg.inputs.size(); ++i) {
    func.setArgAttr(i, "resq.name", tensorNameAttr(sg.inputs[i]));
    if (values[sg.inputs[i]]) {
      emitError(fileLoc) << "tensor " << tensorLabel(sg.inputs[i])
                         << " is listed twice as a subgraph input";
      return failure();
    }
    body->getArgument(i).setLoc(NameLoc::get(tensorNameAttr(sg.inputs[i])));
    values[sg.inputs[i]] = body->getArgument(i);
  }
  for (unsigned i = 0; i < sg.outputs.size(); ++i)
    func.setResultAttr(i, "resq.name", tensorNameAttr(sg.outputs[i]));
  b.setInsertionPointToEnd(body);

  llvm::StringMap<unsigned> counts;
  std::vector<std::string> order;
  for (unsigned i = 0; i < sg.operators.size(); ++i) {
    op = &sg.operators[i];
    opIndex = i;
    const OperatorCode &code = model.operatorCodes[op->opcodeIndex];
    opName = opDisplayName(code);
    if (!counts.count(opName))
      order.push_back(opName);
    ++counts[opName];
    int64_t out = op->outputs.empty() ? -1 : op->outputs[0];
    StringAttr name =
        validTensor(out) ? tensorNameAttr(out)
                         : StringAttr::get(ctx, "operator_" + std::to_string(i));
    currentLoc = NameLoc::get(name);
    errorLoc = NameLoc::get(name, fileLoc);
    if (failed(convertOperator()))
      return failure();
  }

  SmallVector<Value> results;
  for (int32_t idx : sg.outputs) {
    Value v = values[idx];
    if (!v && isConstant(idx)) {
      errorLoc = fileLoc;
      currentLoc = NameLoc::get(tensorNameAttr(idx));
      FailureOr<Value> c = materializeConstant(idx);
      if (failed(c))
        return failure();
      v = *c;
    }
    if (!v) {
      emitError(fileLoc) << "subgraph output " << tensorLabel(idx)
                         << " is never produced";
      return failure();
    }
    results.push_back(v);
  }
  func::ReturnOp::create(b, fileLoc, results);

  // Constants superseded by reshaped or folded copies.
  SmallVector<Operation *> dead;
  for (Operation &o : llvm::reverse(*body))
    if (isa<tosa::ConstOp, tosa::ConstShapeOp>(o) && o.use_empty())
      dead.push_back(&o);
  for (Operation *o : dead)
    o->erase();

  if (failed(mlir::verify(*module)))
    return failure();

  if (stats) {
    // Most frequent first; ties in order of first appearance.
    std::vector<unsigned> rank(order.size());
    std::iota(rank.begin(), rank.end(), 0u);
    llvm::sort(rank, [&](unsigned x, unsigned y) {
      unsigned cx = counts[order[x]], cy = counts[order[y]];
      return cx != cy ? cx > cy : x < y;
    });
    stats->operatorCounts.clear();
    for (unsigned r : rank)
      stats->operatorCounts.push_back({order[r], counts[order[r]]});
    stats->numOperators = sg.operators.size();
    stats->numInputs = sg.inputs.size();
    stats->numOutputs = sg.outputs.size();
    std::vector<bool> counted(sg.tensors.size(), false);
    uint64_t params = 0;
    for (const Operator &o : sg.operators) {
      int32_t code = model.operatorCodes[o.opcodeIndex].builtin;
      for (unsigned k = 0; k < o.inputs.size(); ++k) {
        int32_t idx = o.inputs[k];
        if (!validTensor(idx) || counted[idx] || !isConstant(idx) ||
            isShapeOperand(code, k))
          continue;
        counted[idx] = true;
        uint64_t n = 1;
        for (int64_t d : tensor(idx).shape)
          n *= uint64_t(d);
        params += n;
      }
    }
    stats->numParameters = params;
  }
  return module;
}

} // namespace

FailureOr<OwningOpRef<ModuleOp>>
resq::importTFLite(StringRef bytes, StringRef fileName, MLIRContext *ctx,
                   TFLiteImportStats *stats) {
  ctx->loadDialect<func::FuncDialect, tosa::TosaDialect>();
  Location fileLoc = FileLineColLoc::get(ctx, fileName, 0, 0);
  fb::Reader reader(ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()));
  Model model;
  if (!parseModel(reader, model)) {
    emitError(fileLoc) << "cannot read the TFLite model: " << reader.error();
    return failure();
  }
  Importer importer(ctx, reader, model, fileName);
  return importer.run(stats);
}

FailureOr<OwningOpRef<ModuleOp>>
resq::importTFLite(StringRef bytes, StringRef fileName, MLIRContext *ctx) {
  return importTFLite(bytes, fileName, ctx, nullptr);
}
