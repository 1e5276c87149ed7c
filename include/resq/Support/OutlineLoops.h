//===- OutlineLoops.h - one function per loop nest before O2 ------*- C++ -*-===//
//
// Shared by resq-compile's backend and the tools' JIT, so both optimize the
// same way.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_SUPPORT_OUTLINELOOPS_H
#define RESQ_SUPPORT_OUTLINELOOPS_H

#include "llvm/ADT/DenseSet.h"
#include "llvm/IR/Module.h"

namespace resq {

/// A model's step is one function with a loop nest per kernel and per
/// glue operation (pose_landmark_lite: ~117k lines of LLVM IR). Several of
/// LLVM's function passes grow faster than linearly with the function
/// (LoopRotate alone took 3.1 s of pose's 15 s at O2). Every top-level loop
/// nest becomes a function of its own (noinline, so that the inliner does
/// not undo it; one call per nest and frame) before the pipeline runs; the
/// loops themselves are optimized as before. New functions keep the
/// attributes of the step (CPU, features, vector width).
void outlineLoopNests(llvm::Module &module);

} // namespace resq

#endif // RESQ_SUPPORT_OUTLINELOOPS_H
