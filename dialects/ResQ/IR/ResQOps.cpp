//===- ResQOps.cpp - ResQ operations --------------------------------------===//

#include "ResQ/IR/ResQ.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

using namespace mlir;
using namespace resq;

#define GET_OP_CLASSES
#include "ResQ/IR/ResQOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

/// Checks that `v` is a statically shaped tensor of rank `rank`.
static LogicalResult checkStatic(Operation *op, Value v, int64_t rank,
                                 StringRef what) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getRank() != rank)
    return op->emitOpError() << what << " must have rank " << rank << ", got "
                             << type;
  if (!type.hasStaticShape())
    return op->emitOpError() << what << " must have a static shape, got "
                             << type;
  return success();
}

static LogicalResult checkZeroPoint(Operation *op, Value zp) {
  auto type = cast<RankedTensorType>(zp.getType());
  if (type.getNumElements() != 1)
    return op->emitOpError() << "input_zp must hold exactly one element, got "
                             << type;
  return success();
}

static LogicalResult checkArray(Operation *op, ArrayRef<int64_t> values,
                                size_t size, StringRef name, int64_t min) {
  if (values.size() != size)
    return op->emitOpError() << "'" << name << "' must have " << size
                             << " elements, got " << values.size();
  for (int64_t v : values)
    if (v < min)
      return op->emitOpError() << "'" << name << "' values must be >= " << min
                               << ", got " << v;
  return success();
}

static LogicalResult checkBias(Operation *op, Value bias, int64_t oc) {
  if (failed(checkStatic(op, bias, 1, "bias")))
    return failure();
  int64_t size = shapeOf(bias)[0];
  if (size != oc && size != 1)
    return op->emitOpError() << "bias must have " << oc
                             << " elements (one per output channel) or 1, got "
                             << size;
  return success();
}

static LogicalResult checkResult(Operation *op, ArrayRef<int64_t> expected) {
  ArrayRef<int64_t> actual = shapeOf(op->getResult(0));
  if (actual != expected) {
    auto diag = op->emitOpError() << "accumulator shape must be [";
    llvm::interleaveComma(expected, diag);
    diag << "], got [";
    llvm::interleaveComma(actual, diag);
    return diag << "]";
  }
  return success();
}

static LogicalResult checkLayer(Operation *op, StringAttr layer) {
  if (layer.getValue().empty())
    return op->emitOpError() << "layer name must not be empty";
  return success();
}

//===----------------------------------------------------------------------===//
// Geometry
//===----------------------------------------------------------------------===//

std::vector<int64_t> LinearGeometry::inputUses(bool rows) const {
  int64_t outSize = rows ? oh : ow, inSize = rows ? ih : iw;
  int64_t k = rows ? kh : kw, stride = rows ? strideY : strideX;
  int64_t dilation = rows ? dilationY : dilationX;
  int64_t pad = rows ? padTop : padLeft;
  std::vector<int64_t> uses(inSize, 0);
  for (int64_t o = 0; o < outSize; ++o)
    for (int64_t t = 0; t < k; ++t) {
      if (kind == Kind::Transpose) {
        int64_t num = o - pad - t;
        if (num >= 0 && num % stride == 0 && num / stride < inSize)
          ++uses[num / stride];
      } else {
        int64_t i = o * stride - pad + t * dilation;
        if (i >= 0 && i < inSize)
          ++uses[i];
      }
    }
  return uses;
}

int64_t LinearGeometry::denseMacs() const {
  auto total = [](const std::vector<int64_t> &uses) {
    int64_t sum = 0;
    for (int64_t u : uses)
      sum += u;
    return sum;
  };
  return n * total(inputUses(true)) * total(inputUses(false)) * macsPerTap();
}

LinearGeometry resq::getLinearGeometry(Operation *op) {
  LinearGeometry g;
  auto setImages = [&](Value input, Value result) {
    ArrayRef<int64_t> in = shapeOf(input), out = shapeOf(result);
    g.n = in[0];
    g.ih = in[1];
    g.iw = in[2];
    g.ic = in[3];
    g.oh = out[1];
    g.ow = out[2];
    g.oc = out[3];
  };
  llvm::TypeSwitch<Operation *>(op)
      .Case([&](Conv2DOp conv) {
        g.kind = LinearGeometry::Kind::Conv;
        setImages(conv.getInput(), conv.getAccumulator());
        g.kh = shapeOf(conv.getWeight())[1];
        g.kw = shapeOf(conv.getWeight())[2];
        g.strideY = conv.getStride()[0];
        g.strideX = conv.getStride()[1];
        g.dilationY = conv.getDilation()[0];
        g.dilationX = conv.getDilation()[1];
        g.padTop = conv.getPad()[0];
        g.padLeft = conv.getPad()[2];
      })
      .Case([&](DepthwiseConv2DOp conv) {
        g.kind = LinearGeometry::Kind::Depthwise;
        setImages(conv.getInput(), conv.getAccumulator());
        g.kh = shapeOf(conv.getWeight())[0];
        g.kw = shapeOf(conv.getWeight())[1];
        g.multiplier = shapeOf(conv.getWeight())[3];
        g.strideY = conv.getStride()[0];
        g.strideX = conv.getStride()[1];
        g.dilationY = conv.getDilation()[0];
        g.dilationX = conv.getDilation()[1];
        g.padTop = conv.getPad()[0];
        g.padLeft = conv.getPad()[2];
      })
      .Case([&](TransposeConv2DOp conv) {
        g.kind = LinearGeometry::Kind::Transpose;
        setImages(conv.getInput(), conv.getAccumulator());
        g.kh = shapeOf(conv.getWeight())[1];
        g.kw = shapeOf(conv.getWeight())[2];
        g.strideY = conv.getStride()[0];
        g.strideX = conv.getStride()[1];
        g.padTop = conv.getOutPad()[0];
        g.padLeft = conv.getOutPad()[2];
      })
      .Case([&](MatMulOp mm) {
        g.kind = LinearGeometry::Kind::MatMul;
        ArrayRef<int64_t> in = shapeOf(mm.getInput());
        ArrayRef<int64_t> out = shapeOf(mm.getAccumulator());
        g.n = in[0];
        g.ih = in[1];
        g.iw = 1;
        g.ic = in[2];
        g.oh = out[1];
        g.ow = 1;
        g.oc = out[2];
      });
  return g;
}

StringAttr resq::getLayerName(Operation *op) {
  return op ? op->getAttrOfType<StringAttr>("layer") : StringAttr();
}

ResidualAttr resq::getResidual(Operation *op) {
  return op ? op->getAttrOfType<ResidualAttr>("residual") : ResidualAttr();
}

void resq::setResidual(Operation *op, ResidualAttr attr) {
  op->setAttr("residual", attr);
}

bool resq::isResidualLinearOp(Operation *op) {
  return isa<Conv2DOp, DepthwiseConv2DOp, TransposeConv2DOp, MatMulOp>(op);
}

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

LogicalResult BeginFrameOp::verify() {
  // I64Attr reads back unsigned: look at the signed value.
  int64_t interval = static_cast<int64_t>(getKeyframeInterval());
  if (interval < 0)
    return emitOpError() << "keyframe_interval must be >= 0 (0: no interval), "
                            "got "
                         << interval;
  Block *block = (*this)->getBlock();
  for (Operation &op : *block) {
    if (&op == getOperation())
      break;
    if (isResidualLinearOp(&op))
      return emitOpError() << "must come before every residualized layer of "
                              "the frame";
  }
  return success();
}

/// Output size of a convolution along one axis (TOSA's formula).
static int64_t convOutSize(int64_t in, int64_t k, int64_t stride,
                           int64_t dilation, int64_t padBefore,
                           int64_t padAfter) {
  return (in - 1 + padBefore + padAfter - (k - 1) * dilation) / stride + 1;
}

template <typename ConvOp>
static LogicalResult verifyConvLike(ConvOp op, bool depthwise) {
  Operation *o = op.getOperation();
  if (failed(checkLayer(o, op.getLayerAttr())) ||
      failed(checkStatic(o, op.getInput(), 4, "input")) ||
      failed(checkStatic(o, op.getWeight(), 4, "weight")) ||
      failed(checkZeroPoint(o, op.getInputZp())) ||
      failed(checkArray(o, op.getPad(), 4, "pad", 0)) ||
      failed(checkArray(o, op.getStride(), 2, "stride", 1)) ||
      failed(checkArray(o, op.getDilation(), 2, "dilation", 1)))
    return failure();
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  ArrayRef<int64_t> w = shapeOf(op.getWeight());
  int64_t kh, kw, oc;
  if (depthwise) {
    if (w[2] != in[3])
      return op.emitOpError() << "weight must be KH x KW x C x M with C = "
                              << in[3] << " input channels, got C = " << w[2];
    kh = w[0];
    kw = w[1];
    oc = w[2] * w[3];
  } else {
    if (w[3] != in[3])
      return op.emitOpError() << "weight input channels (" << w[3]
                              << ") must match the input's (" << in[3] << ")";
    kh = w[1];
    kw = w[2];
    oc = w[0];
  }
  if (failed(checkBias(o, op.getBias(), oc)))
    return failure();
  ArrayRef<int64_t> pad = op.getPad(), stride = op.getStride(),
                    dil = op.getDilation();
  int64_t oh = convOutSize(in[1], kh, stride[0], dil[0], pad[0], pad[1]);
  int64_t ow = convOutSize(in[2], kw, stride[1], dil[1], pad[2], pad[3]);
  if (oh <= 0 || ow <= 0)
    return op.emitOpError() << "window does not fit the padded input";
  return checkResult(o, {in[0], oh, ow, oc});
}

LogicalResult Conv2DOp::verify() { return verifyConvLike(*this, false); }

LogicalResult DepthwiseConv2DOp::verify() {
  return verifyConvLike(*this, true);
}

LogicalResult TransposeConv2DOp::verify() {
  Operation *o = getOperation();
  if (failed(checkLayer(o, getLayerAttr())) ||
      failed(checkStatic(o, getInput(), 4, "input")) ||
      failed(checkStatic(o, getWeight(), 4, "weight")) ||
      failed(checkZeroPoint(o, getInputZp())) ||
      // TOSA allows negative out_pad: it crops the full transposed output.
      failed(checkArray(o, getOutPad(), 4, "out_pad",
                        std::numeric_limits<int64_t>::min())) ||
      failed(checkArray(o, getStride(), 2, "stride", 1)))
    return failure();
  ArrayRef<int64_t> in = shapeOf(getInput());
  ArrayRef<int64_t> w = shapeOf(getWeight());
  if (w[3] != in[3])
    return emitOpError() << "weight input channels (" << w[3]
                         << ") must match the input's (" << in[3] << ")";
  if (failed(checkBias(o, getBias(), w[0])))
    return failure();
  ArrayRef<int64_t> pad = getOutPad(), stride = getStride();
  int64_t oh = (in[1] - 1) * stride[0] + pad[0] + pad[1] + w[1];
  int64_t ow = (in[2] - 1) * stride[1] + pad[2] + pad[3] + w[2];
  return checkResult(o, {in[0], oh, ow, w[0]});
}

LogicalResult MatMulOp::verify() {
  Operation *o = getOperation();
  if (failed(checkLayer(o, getLayerAttr())) ||
      failed(checkStatic(o, getInput(), 3, "input")) ||
      failed(checkStatic(o, getWeight(), 3, "weight")) ||
      failed(checkZeroPoint(o, getInputZp())))
    return failure();
  ArrayRef<int64_t> in = shapeOf(getInput());
  ArrayRef<int64_t> w = shapeOf(getWeight());
  if (w[0] != 1 && w[0] != in[0])
    return emitOpError() << "weight batch (" << w[0]
                         << ") must be 1 or match the input's (" << in[0]
                         << ")";
  if (w[1] != in[2])
    return emitOpError() << "weight rows (" << w[1]
                         << ") must match the input's columns (" << in[2]
                         << ")";
  return checkResult(o, {in[0], in[1], w[2]});
}
