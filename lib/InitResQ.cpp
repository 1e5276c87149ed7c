//===- InitResQ.cpp - register everything the resq tools use --------------===//

#include "resq/InitResQ.h"

#include "ResQ/IR/ResQ.h"
#include "resq/Conversion/Passes.h"
#include "resq/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"

void resq::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<resq::ResQDialect>();
  // The lowering goes through most of upstream (tosa, linalg, bufferization,
  // vector, llvm) and needs their interface models, so register them all;
  // this only declares them, dialects load when used.
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
}

void resq::registerAllPasses() {
  mlir::registerAllPasses();
  resq::registerResQTransformsPasses();
  resq::registerResQConversionPasses();
  resq::registerResQPipelines();
}
