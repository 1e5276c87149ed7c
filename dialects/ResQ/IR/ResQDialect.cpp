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

LogicalResult
ResidualAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     int64_t step, ArrayRef<int64_t> bits, int64_t block,
                     llvm::APFloat sceneCutValue) {
  double sceneCut = sceneCutValue.convertToDouble();
  if (step <= 0)
    return emitError() << "residual step must be a positive integer, got "
                       << step;
  if (bits.empty())
    return emitError() << "residual needs at least one bit-width";
  for (size_t i = 0; i < bits.size(); ++i) {
    if (!isAllowedBitWidth(bits[i]))
      return emitError() << "bit-width " << bits[i]
                         << " is not allowed (allowed: 0, 2, 3, ..., 8)";
    if (i > 0 && bits[i] <= bits[i - 1])
      return emitError() << "bit-widths must be strictly increasing";
  }
  if (bits.back() == 0)
    return emitError() << "the widest bit-width must not be 0";
  if (block <= 0)
    return emitError() << "block size must be positive, got " << block;
  if (!(sceneCut > 0.0 && sceneCut <= 1.0))
  {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << llvm::format("%g", sceneCut);
    return emitError() << "scene_cut must be in (0, 1], got " << text;
  }
  return success();
}
