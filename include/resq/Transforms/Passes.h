//===- Passes.h - ResQ graph transformations ---------------------*- C++ -*-===//
#ifndef RESQ_TRANSFORMS_PASSES_H
#define RESQ_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

namespace resq {
class ResQDialect;

#define GEN_PASS_DECL
#include "resq/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "resq/Transforms/Passes.h.inc"

} // namespace resq

#endif // RESQ_TRANSFORMS_PASSES_H
