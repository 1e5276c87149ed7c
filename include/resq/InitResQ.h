//===- InitResQ.h - register everything the resq tools use -------*- C++ -*-===//
#ifndef RESQ_INITRESQ_H
#define RESQ_INITRESQ_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace resq {
/// The ResQ dialect plus the upstream dialects and interface extensions that
/// TOSA graphs and their lowering to LLVM need.
void registerAllDialects(mlir::DialectRegistry &registry);
/// ResQ's passes and pipelines plus the upstream passes they build on.
void registerAllPasses();
} // namespace resq

#endif // RESQ_INITRESQ_H
