//===- OutlineLoops.cpp - one function per loop nest before O2 ------------===//

#include "resq/Support/OutlineLoops.h"

#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/Instructions.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Transforms/Utils/CodeExtractor.h"
#include "llvm/Transforms/Utils/LoopSimplify.h"

using namespace llvm;

namespace {

/// The loops LLVM's loop extractor would take from `f`: every top-level
/// loop, or where one loop is all the function is, its subloops.
SmallVector<Loop *> loopsToExtract(Function &f, LoopInfo &li) {
  if (std::next(li.begin()) != li.end())
    return SmallVector<Loop *>(li.begin(), li.end());
  Loop *only = *li.begin();
  if (only->isLoopSimplifyForm()) {
    auto *entry = dyn_cast<BranchInst>(f.getEntryBlock().getTerminator());
    bool wrapper = entry && entry->isUnconditional() &&
                   entry->getSuccessor(0) == only->getHeader();
    SmallVector<BasicBlock *, 8> exits;
    only->getExitBlocks(exits);
    for (BasicBlock *exit : exits)
      wrapper &= isa<ReturnInst>(exit->getTerminator());
    if (!wrapper)
      return {only};
  }
  return SmallVector<Loop *>(only->begin(), only->end());
}

} // namespace

void resq::outlineLoopNests(Module &module) {
  // The extractor wants loops in simplified form (preheader, one latch).
  {
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
    ModulePassManager mpm;
    mpm.addPass(createModuleToFunctionPassAdaptor(LoopSimplifyPass()));
    mpm.run(module, mam);
  }
  SmallVector<Function *> functions;
  for (Function &f : module)
    if (!f.isDeclaration() && !f.hasOptNone())
      functions.push_back(&f);
  // What LLVM's LoopExtractorPass does, but with one analysis cache per
  // function: extracting a region keeps it valid, and the pass building
  // it anew for each of a step's hundreds of loops (a walk over the whole
  // function each time) took seconds of pose's compile.
  for (Function *f : functions) {
    DominatorTree dt(*f);
    LoopInfo li(dt);
    if (li.empty())
      continue;
    CodeExtractorAnalysisCache cache(*f);
    for (Loop *loop : loopsToExtract(*f, li)) {
      if (!loop->isLoopSimplifyForm())
        continue;
      CodeExtractor extractor(loop->getBlocks(), &dt);
      if (Function *outlined = extractor.extractCodeRegion(cache)) {
        li.erase(loop);
        outlined->addFnAttr(Attribute::NoInline);
      }
    }
  }
}
