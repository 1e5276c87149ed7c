//===- VectorWidth.h - full-width vector loops for generated code -*- C++ -*-===//
//
// Shared by resq-compile's backend and the tools' JIT, so both optimize the
// same way.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_SUPPORT_VECTORWIDTH_H
#define RESQ_SUPPORT_VECTORWIDTH_H

#include "llvm/IR/Function.h"
#include "llvm/IR/Module.h"

namespace resq {

/// LLVM's x86 tuning caps vectorized loops at 256 bits on CPUs that
/// down-clock for 512-bit code; the glue between layers is float code whose
/// loops run measurably faster at the full AVX-512 width (selfie's standard
/// int8 step -10%). A no-op on CPUs without AVX-512; elementwise loops give
/// the same bits at any width.
inline void preferFullVectorWidth(llvm::Module &module) {
  for (llvm::Function &f : module.functions())
    if (!f.isDeclaration())
      f.addFnAttr("prefer-vector-width", "512");
}

} // namespace resq

#endif // RESQ_SUPPORT_VECTORWIDTH_H
