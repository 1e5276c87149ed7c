//===- ResQDialect.cpp - ResQ dialect, attributes and types ---------------===//

#include "ResQ/IR/ResQ.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"

using namespace mlir;
using namespace resq;

#include "ResQ/IR/ResQDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "ResQ/IR/ResQAttrs.cpp.inc"
#define GET_TYPEDEF_CLASSES
#include "ResQ/IR/ResQTypes.cpp.inc"

void ResQDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ResQ/IR/ResQOps.cpp.inc"
      >();
  registerAttributes();
  registerTypes();
}

void ResQDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "ResQ/IR/ResQAttrs.cpp.inc"
      >();
}

void ResQDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "ResQ/IR/ResQTypes.cpp.inc"
      >();
}

/// Shortest round-trippable spelling of a fraction: 0.5, not 5.000000e-01.
static std::string formatFraction(double value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::format("%g", value);
  return text;
}

/// #resq.residual<step = S, bits = [B, ...](, block = K)?(, scene_cut = F)?>
Attribute ResidualAttr::parse(AsmParser &parser, Type) {
  MLIRContext *ctx = parser.getContext();
  int64_t step = 0, block = 1;
  double sceneCut = 1.0, denseAbove = 1.0;
  SmallVector<int64_t> bits;
  SMLoc start = parser.getCurrentLocation();
  if (parser.parseLess() || parser.parseKeyword("step") ||
      parser.parseEqual() || parser.parseInteger(step) ||
      parser.parseComma() || parser.parseKeyword("bits") ||
      parser.parseEqual() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&] {
        return parser.parseInteger(bits.emplace_back());
      }))
    return {};
  bool sawBlock = false, sawSceneCut = false, sawDenseAbove = false,
       standard = false;
  while (!standard && succeeded(parser.parseOptionalComma())) {
    StringRef key;
    SMLoc loc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key))
      return {};
    if (key == "standard") {
      standard = true;
      continue;
    }
    if (parser.parseEqual())
      return {};
    if (key == "block" && !sawBlock && !sawSceneCut && !sawDenseAbove) {
      sawBlock = true;
      if (parser.parseInteger(block))
        return {};
    } else if (key == "scene_cut" && !sawSceneCut && !sawDenseAbove) {
      sawSceneCut = true;
      if (parser.parseFloat(sceneCut))
        return {};
    } else if (key == "dense_above" && !sawDenseAbove) {
      sawDenseAbove = true;
      if (parser.parseFloat(denseAbove))
        return {};
    } else {
      parser.emitError(loc) << "expected 'block', 'scene_cut', "
                               "'dense_above' or 'standard' (in this order, "
                               "once each), got '"
                            << key << "'";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(start); },
                    ctx, step, ArrayRef<int64_t>(bits), block,
                    llvm::APFloat(sceneCut), llvm::APFloat(denseAbove),
                    standard);
}

void ResidualAttr::print(AsmPrinter &printer) const {
  printer << "<step = " << getStep() << ", bits = [";
  llvm::interleaveComma(getBits(), printer);
  printer << "]";
  if (getBlock() != 1)
    printer << ", block = " << getBlock();
  if (getSceneCutFraction() != 1.0)
    printer << ", scene_cut = "
            << formatFraction(getSceneCutFraction());
  if (getDenseAboveFraction() != 1.0)
    printer << ", dense_above = "
            << formatFraction(getDenseAboveFraction());
  if (getStandard())
    printer << ", standard";
  printer << ">";
}

LogicalResult
ResidualAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     int64_t step, ArrayRef<int64_t> bits, int64_t block,
                     llvm::APFloat sceneCutValue,
                     llvm::APFloat denseAboveValue, bool) {
  double sceneCut = sceneCutValue.convertToDouble();
  double denseAbove = denseAboveValue.convertToDouble();
  if (step <= 0)
    return emitError() << "residual step must be a positive integer, got "
                       << step;
  if (bits.empty())
    return emitError() << "residual needs at least one bit-width";
  for (size_t i = 0; i < bits.size(); ++i) {
    if (!isAllowedBitWidth(bits[i]))
      return emitError() << "bit-width " << bits[i]
                         << " is not allowed (allowed: 0, 2, 3, ..., 9)";
    if (i > 0 && bits[i] <= bits[i - 1])
      return emitError() << "bit-widths must be strictly increasing";
  }
  if (bits.back() == 0)
    return emitError() << "the widest bit-width must not be 0";
  if (block <= 0)
    return emitError() << "block size must be positive, got " << block;
  if (!(sceneCut > 0.0 && sceneCut <= 1.0))
    return emitError() << "scene_cut must be in (0, 1], got "
                       << formatFraction(sceneCut);
  if (!(denseAbove > 0.0 && denseAbove <= 1.0))
    return emitError() << "dense_above must be in (0, 1], got "
                       << formatFraction(denseAbove);
  return success();
}
