//===- StepFunction.h - finding a module's step function ---------*- C++ -*-===//
//
// What the JIT runtime and the ahead-of-time compiler both need to know about
// a module before and after `--resq-to-llvm`.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_CONVERSION_STEPFUNCTION_H
#define RESQ_CONVERSION_STEPFUNCTION_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace resq {

/// The module attribute where `--resq-lower-stream` records the layout of
/// the stream state.
inline constexpr llvm::StringLiteral kStreamLayoutAttr = "resq.stream_layout";

/// The step function: `requested` when given, else @main, else the only
/// public function; an error that lists the public functions otherwise.
llvm::Expected<mlir::func::FuncOp> findStepFunction(mlir::ModuleOp module,
                                                    llvm::StringRef requested);

/// A state argument the lowering already rewrote (a module saved after
/// `--resq-lower-stream`): `memref<Nxi8>` in a module with a layout.
bool isLoweredStateArgument(mlir::ModuleOp module, mlir::Type type);

} // namespace resq

#endif // RESQ_CONVERSION_STEPFUNCTION_H
