//===- FiniteClamps.cpp - clamps of values that cannot be NaN -------------===//

#include "FiniteClamps.h"

#include "ResQ/IR/ResQ.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <cmath>
#include <optional>

using namespace mlir;

namespace {

/// The smallest and largest element of a float constant; nothing if any
/// is NaN or infinite.
struct ElementRange {
  double lo, hi;
  double magnitude() const { return std::max(-lo, hi); }
};

std::optional<ElementRange> rangeOf(Attribute attr) {
  std::optional<ElementRange> range;
  auto add = [&](const APFloat &value) {
    if (!value.isFinite())
      return false;
    double v = value.convertToDouble();
    range = range ? ElementRange{std::min(range->lo, v), std::max(range->hi, v)}
                  : ElementRange{v, v};
    return true;
  };
  if (auto f = dyn_cast<FloatAttr>(attr))
    return add(f.getValue()) ? range : std::nullopt;
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense || !isa<FloatType>(dense.getElementType()))
    return std::nullopt;
  if (dense.isSplat())
    return add(dense.getSplatValue<APFloat>()) ? range : std::nullopt;
  for (const APFloat &value : dense.getValues<APFloat>())
    if (!add(value))
      return std::nullopt;
  return range;
}

/// The range of the constant that `v` is, or whose data `v` views or
/// reads (slices and buffers of an arith.constant).
std::optional<ElementRange> constantRange(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto constant = dyn_cast<arith::ConstantOp>(def))
      return rangeOf(constant.getValue());
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(def))
      v = slice.getSource();
    else if (auto buffer = dyn_cast<bufferization::ToBufferOp>(def))
      v = buffer.getTensor();
    else if (auto view = dyn_cast<memref::SubViewOp>(def))
      v = view.getSource();
    else if (auto broadcast = dyn_cast<vector::BroadcastOp>(def))
      v = broadcast.getSource();
    else
      return std::nullopt;
  }
  return std::nullopt;
}

/// Bounds on the magnitude of every element of float values, from the ops
/// that compute them (real-valued: a result may exceed its bound by
/// rounding, less than kMargin of it): a value with a bound is finite, so
/// never NaN.
constexpr double kMargin = 1e-3;

class MagnitudeBounds {
public:
  std::optional<double> of(Value v) {
    auto [it, inserted] = memo.try_emplace(v, std::nullopt);
    if (!inserted)
      return it->second;
    std::optional<double> bound = compute(v);
    // Rounding takes a result a little past the real-valued bound (at
    // most 2^-24 of it per f32 op; kMargin covers thousands of ops): far
    // from the largest float is required, and f32 or f64.
    Type type = getElementTypeOrSelf(v.getType());
    if (bound && (!(type.isF32() || type.isF64()) ||
                  !(*bound * 2 < APFloat::getLargest(
                                     cast<FloatType>(type).getFloatSemantics())
                                     .convertToDouble())))
      bound = std::nullopt;
    memo[v] = bound;
    return bound;
  }

private:
  std::optional<double> compute(Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      // An input of a linalg.generic: its operand's elements.
      auto generic = dyn_cast<linalg::GenericOp>(arg.getOwner()->getParentOp());
      if (!generic || arg.getArgNumber() >= generic.getNumDpsInputs())
        return std::nullopt;
      return magnitude(constantRange(generic.getDpsInputs()[arg.getArgNumber()]));
    }
    Operation *def = v.getDefiningOp();
    auto operand = [&](unsigned i) { return of(def->getOperand(i)); };
    auto both = [&](auto combine) -> std::optional<double> {
      std::optional<double> a = operand(0), b = operand(1);
      if (!a || !b)
        return std::nullopt;
      return combine(*a, *b);
    };
    if (isa<arith::ConstantOp>(def))
      return magnitude(constantRange(v));
    if (isa<arith::SIToFPOp, arith::UIToFPOp>(def)) {
      unsigned width = getElementTypeOrSelf(def->getOperand(0).getType())
                           .getIntOrFloatBitWidth();
      return std::ldexp(1.0, isa<arith::SIToFPOp>(def) ? width - 1 : width);
    }
    if (isa<arith::MulFOp>(def))
      return both([](double a, double b) { return a * b; });
    if (isa<arith::AddFOp, arith::SubFOp>(def))
      return both([](double a, double b) { return a + b; });
    if (isa<arith::MinimumFOp, arith::MaximumFOp, arith::MinNumFOp,
            arith::MaxNumFOp>(def))
      return both([](double a, double b) { return std::max(a, b); });
    if (isa<arith::NegFOp, arith::ExtFOp, arith::TruncFOp, math::AbsFOp,
            vector::BroadcastOp, vector::ShapeCastOp, vector::ExtractOp,
            vector::TransposeOp>(def))
      return operand(0);
    if (isa<math::RoundEvenOp, math::RoundOp, math::FloorOp, math::CeilOp,
            math::TruncOp>(def)) {
      std::optional<double> a = operand(0);
      return a ? std::optional<double>(*a + 1) : std::nullopt;
    }
    if (auto select = dyn_cast<arith::SelectOp>(def)) {
      std::optional<double> a = of(select.getTrueValue()),
                            b = of(select.getFalseValue());
      return a && b ? std::optional<double>(std::max(*a, *b)) : std::nullopt;
    }
    if (auto read = dyn_cast<vector::TransferReadOp>(def)) {
      std::optional<double> data = magnitude(constantRange(read.getBase()));
      // The padding only where the read may leave its base.
      bool inBounds = llvm::all_of(read.getInBoundsValues(),
                                   [](bool in) { return in; });
      std::optional<double> padding =
          inBounds ? std::optional<double>(0) : of(read.getPadding());
      return data && padding ? std::optional<double>(std::max(*data, *padding))
                             : std::nullopt;
    }
    if (auto load = dyn_cast<vector::LoadOp>(def))
      return magnitude(constantRange(load.getBase()));
    if (auto load = dyn_cast<memref::LoadOp>(def))
      return magnitude(constantRange(load.getMemRef()));
    if (auto extract = dyn_cast<tensor::ExtractOp>(def))
      return magnitude(constantRange(extract.getTensor()));
    return std::nullopt;
  }

  static std::optional<double> magnitude(std::optional<ElementRange> range) {
    return range ? std::optional<double>(range->magnitude()) : std::nullopt;
  }

  DenseMap<Value, std::optional<double>> memo;
};

/// Whether the sign of a zero in `v` cannot reach anything but the value
/// of its integer conversions and comparisons: its users compute with it
/// (a function of the real values alone, but for the sign of a zero
/// result) until it is converted to an integer or compared.
bool zeroSignUnobservable(Value v, unsigned depth = 0) {
  if (depth > 32)
    return false;
  for (Operation *user : v.getUsers()) {
    if (isa<arith::FPToSIOp, arith::FPToUIOp, arith::CmpFOp>(user))
      continue;
    if (!isa<arith::MulFOp, arith::AddFOp, arith::SubFOp, arith::NegFOp,
             arith::MinimumFOp, arith::MaximumFOp, arith::MinNumFOp,
             arith::MaxNumFOp, arith::SelectOp, math::RoundEvenOp,
             math::RoundOp, math::FloorOp, math::CeilOp, math::TruncOp,
             vector::BroadcastOp, vector::ShapeCastOp, vector::ExtractOp,
             vector::TransposeOp>(user))
      return false;
    if (!zeroSignUnobservable(user->getResult(0), depth + 1))
      return false;
  }
  return true;
}

} // namespace

void resq::relaxFiniteClamps(Operation *root) {
  SmallVector<Operation *> clamps;
  root->walk([&](Operation *op) {
    if (isa<arith::MinimumFOp, arith::MaximumFOp, arith::MinNumFOp,
            arith::MaxNumFOp>(op))
      clamps.push_back(op);
  });
  MagnitudeBounds bounds;
  for (Operation *op : clamps) {
    Value lhs = op->getOperand(0), rhs = op->getOperand(1);
    std::optional<double> lhsBound = bounds.of(lhs), rhsBound = bounds.of(rhs);
    std::optional<ElementRange> lhsRange = constantRange(lhs),
                                rhsRange = constantRange(rhs);
    // A clamp to a constant beyond the other operand's bound (and its
    // rounding) returns that operand (strictly beyond: min(+0, -0) is -0).
    bool isMin = isa<arith::MinimumFOp, arith::MinNumFOp>(op);
    auto beyond = [&](std::optional<double> bound,
                      std::optional<ElementRange> limit) {
      double reach = bound ? *bound * (1 + kMargin) : 0;
      return bound && limit && (isMin ? limit->lo > reach : limit->hi < -reach);
    };
    Value kept = beyond(lhsBound, rhsRange)   ? lhs
                 : beyond(rhsBound, lhsRange) ? rhs
                                              : Value();
    if (kept) {
      op->getResult(0).replaceAllUsesWith(kept);
      op->erase();
      continue;
    }
    // A finite constant (the largest float included) is not NaN either.
    if (!(lhsBound || lhsRange) || !(rhsBound || rhsRange))
      continue;
    auto fastMath = cast<arith::ArithFastMathInterface>(op);
    arith::FastMathFlags flags =
        fastMath.getFastMathFlagsAttr().getValue() | arith::FastMathFlags::nnan;
    if (zeroSignUnobservable(op->getResult(0)))
      flags = flags | arith::FastMathFlags::nsz;
    op->setAttr(fastMath.getFastMathAttrName(),
                arith::FastMathFlagsAttr::get(op->getContext(), flags));
  }
}

namespace {

/// Whether `op` (a clamp) may assume its operands are not NaN.
bool assumesNoNaN(Operation *op) {
  return arith::bitEnumContainsAll(
      cast<arith::ArithFastMathInterface>(op).getFastMathFlagsAttr().getValue(),
      arith::FastMathFlags::nnan);
}

/// Whether `v` is a constant whose every element is `value`.
bool isSplatOf(Value v, double value) {
  std::optional<ElementRange> range = constantRange(v);
  return range && range->lo == value && range->hi == value;
}

} // namespace

void resq::roundToInt8(Operation *root) {
  SmallVector<arith::FPToSIOp> conversions;
  root->walk([&](arith::FPToSIOp op) { conversions.push_back(op); });
  for (arith::FPToSIOp op : conversions) {
    auto type = dyn_cast<VectorType>(op.getIn().getType());
    auto resultType = dyn_cast<VectorType>(op.getType());
    if (!type || type.isScalable() || !type.getElementType().isF32() ||
        !resultType.getElementType().isInteger(8) ||
        type.getNumElements() % 8 != 0)
      continue;
    // maximumf(minimumf(roundeven(x), 127), -128), or the clamps the
    // other way round, both free to assume no NaN.
    Operation *outer = op.getIn().getDefiningOp();
    Operation *inner =
        outer && isa<arith::MinimumFOp, arith::MaximumFOp>(outer)
            ? outer->getOperand(0).getDefiningOp()
            : nullptr;
    if (!inner || !isa<arith::MinimumFOp, arith::MaximumFOp>(inner) ||
        isa<arith::MinimumFOp>(inner) == isa<arith::MinimumFOp>(outer))
      continue;
    Operation *min = isa<arith::MinimumFOp>(outer) ? outer : inner;
    Operation *max = min == outer ? inner : outer;
    auto round = inner->getOperand(0).getDefiningOp<math::RoundEvenOp>();
    if (!round || !assumesNoNaN(min) || !assumesNoNaN(max) ||
        !isSplatOf(min->getOperand(1), 127) ||
        !isSplatOf(max->getOperand(1), -128))
      continue;

    // min(x, 127) rounded is min(roundeven(x), 127); below -128 the
    // saturation gives -128 as the clamp did (INT32_MIN included).
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value clamped = arith::MinimumFOp::create(
        b, loc, round.getOperand(), min->getOperand(1),
        cast<arith::ArithFastMathInterface>(min).getFastMathFlagsAttr());
    int64_t n = type.getNumElements();
    auto flatType = VectorType::get({n}, b.getF32Type());
    auto intType = VectorType::get({n}, b.getI32Type());
    auto laneType = VectorType::get({16}, b.getI32Type());
    Value flat = type == flatType
                     ? clamped
                     : vector::ShapeCastOp::create(b, loc, flatType, clamped)
                           .getResult();
    // 16 lanes per conversion; 8 (pose's 8-channel layers) in the lower
    // half of one, the upper half unused.
    auto roundLanes = [&](Value lanes) -> Value {
      int64_t width = cast<VectorType>(lanes.getType()).getNumElements();
      if (width == 16)
        return RoundToIntOp::create(b, loc, laneType, lanes);
      Value wide = vector::InsertStridedSliceOp::create(
          b, loc, lanes,
          arith::ConstantOp::create(
              b, loc,
              DenseElementsAttr::get(VectorType::get({16}, b.getF32Type()),
                                     b.getF32FloatAttr(0))),
          ArrayRef<int64_t>{0}, ArrayRef<int64_t>{1});
      return vector::ExtractStridedSliceOp::create(
          b, loc, RoundToIntOp::create(b, loc, laneType, wide),
          ArrayRef<int64_t>{0}, ArrayRef<int64_t>{width}, ArrayRef<int64_t>{1});
    };
    Value ints;
    if (n <= 16) {
      ints = roundLanes(flat);
    } else {
      ints = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(intType, b.getI32IntegerAttr(0)));
      for (int64_t k = 0; k < n; k += 16) {
        int64_t width = std::min<int64_t>(16, n - k);
        Value lanes = vector::ExtractStridedSliceOp::create(
            b, loc, flat, ArrayRef<int64_t>{k}, ArrayRef<int64_t>{width},
            ArrayRef<int64_t>{1});
        ints = vector::InsertStridedSliceOp::create(
            b, loc, roundLanes(lanes), ints, ArrayRef<int64_t>{k},
            ArrayRef<int64_t>{1});
      }
    }
    auto splat = [&](int32_t value) -> Value {
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(intType, b.getI32IntegerAttr(value)));
    };
    // A saturating truncation (vpmovsdb).
    Value saturated = arith::MinSIOp::create(
        b, loc, arith::MaxSIOp::create(b, loc, ints, splat(-128)), splat(127));
    Value bytes = arith::TruncIOp::create(
        b, loc, VectorType::get({n}, b.getI8Type()), saturated);
    if (resultType != bytes.getType())
      bytes = vector::ShapeCastOp::create(b, loc, resultType, bytes);
    op.replaceAllUsesWith(bytes);
    op.erase();
    for (Operation *dead : {outer, inner, round.getOperation()})
      if (dead->use_empty())
        dead->erase();
  }
}
