//===- OutlineLoops.cpp - one function per loop nest before O2 ------------===//

#include "resq/Support/OutlineLoops.h"

#include "llvm/Passes/PassBuilder.h"
#include "llvm/Transforms/IPO/LoopExtractor.h"
#include "llvm/Transforms/Utils/LoopSimplify.h"

void resq::outlineLoopNests(llvm::Module &module) {
  using namespace llvm;
  LoopAnalysisManager lam;
  FunctionAnalysisManager fam;
  CGSCCAnalysisManager cgam;
  ModuleAnalysisManager mam;
  PassBuilder pb;
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);

  DenseSet<Function *> before;
  for (Function &f : module)
    before.insert(&f);
  // The extractor wants loops in simplified form (preheader, one latch).
  ModulePassManager mpm;
  mpm.addPass(createModuleToFunctionPassAdaptor(LoopSimplifyPass()));
  mpm.addPass(LoopExtractorPass());
  mpm.run(module, mam);
  for (Function &f : module)
    if (!before.contains(&f) && !f.isDeclaration())
      f.addFnAttr(Attribute::NoInline);
}
