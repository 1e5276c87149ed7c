//===- StepFunction.cpp - finding a module's step function ----------------===//

#include "resq/Conversion/StepFunction.h"

#include "mlir/IR/BuiltinTypes.h"

llvm::Expected<mlir::func::FuncOp>
resq::findStepFunction(mlir::ModuleOp module, llvm::StringRef requested) {
  llvm::SmallVector<mlir::func::FuncOp> publicFuncs;
  for (auto func : module.getOps<mlir::func::FuncOp>())
    if (func.isPublic() && !func.isExternal())
      publicFuncs.push_back(func);
  auto names = [&] {
    std::string s;
    for (auto func : publicFuncs)
      s += (s.empty() ? "@" : ", @") + func.getSymName().str();
    return s.empty() ? std::string("none") : s;
  };
  if (!requested.empty()) {
    auto func = module.lookupSymbol<mlir::func::FuncOp>(requested);
    if (!func || func.isExternal())
      return llvm::createStringError(
          "no function @" + requested +
          " with a body in the module (public functions: " + names() + ")");
    return func;
  }
  if (auto main = module.lookupSymbol<mlir::func::FuncOp>("main"))
    if (!main.isExternal())
      return main;
  if (publicFuncs.size() == 1)
    return publicFuncs.front();
  return llvm::createStringError(
      "cannot tell which function is the step function: no @main and " +
      llvm::Twine(publicFuncs.size()) + " public functions (" + names() +
      "); pass --entry");
}

bool resq::isLoweredStateArgument(mlir::ModuleOp module, mlir::Type type) {
  auto memref = llvm::dyn_cast<mlir::MemRefType>(type);
  return memref && memref.getRank() == 1 && memref.hasStaticShape() &&
         memref.getElementType().isInteger(8) &&
         module->hasAttr(kStreamLayoutAttr);
}
