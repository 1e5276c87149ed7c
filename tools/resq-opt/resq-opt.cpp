//===- resq-opt.cpp - the ResQ optimizer driver ---------------------------===//
//
// Runs ResQ's passes (and upstream's) on MLIR files:
//   resq-opt model.mlir --resq-residualize="step=4" --resq-dynamic-bits
//   resq-opt model.mlir --resq-residualize --resq-to-llvm="target-cpu=native"
//
//===----------------------------------------------------------------------===//

#include "resq/InitResQ.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  resq::registerAllDialects(registry);
  resq::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv,
      "resq-opt: residual quantization of int8 TOSA graphs for video\n\n"
      "  --resq-residualize   standard int8 graph -> residual step function\n"
      "  --resq-dynamic-bits  run-time bit-width per frame and block\n"
      "  --resq-to-llvm       lower ResQ + TOSA to the LLVM dialect\n",
      registry));
}
