#include "resq/Conversion/Passes.h"
#include "ResQ/IR/ResQ.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
namespace resq {
#define GEN_PASS_DEF_RESQLOWERSTREAM
#include "resq/Conversion/Passes.h.inc"
}
namespace {
struct LowerStreamPass : public resq::impl::ResQLowerStreamBase<LowerStreamPass> {
  using ResQLowerStreamBase::ResQLowerStreamBase;
  void runOnOperation() override {}
};
}
