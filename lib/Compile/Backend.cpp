//===- Backend.cpp - from LLVM IR to an x86-64 object ---------------------===//
//
//  1. symbols: the step function's C interface becomes NAME_step_memrefs;
//     every other definition becomes internal and gets the NAME_ prefix, so
//     that several models link into one program;
//  2. helpers: NAME_stream_create / NAME_stream_destroy (aligned_alloc and
//     free);
//  3. O2 (or --opt-level) with the target machine (the loop and SLP
//     vectorizers need the target's vector ISA; this is what turns i8 dot
//     products into VNNI);
//  4. code generation into an ELF object.
//
//===----------------------------------------------------------------------===//

#include "Backend.h"

#include "resq/Compile/Compile.h"
#include "resq/Support/OutlineLoops.h"
#include "resq/Support/VectorWidth.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <chrono>
#include <mutex>

using namespace llvm;
using namespace resq::compile;
using namespace resq::compile::detail;

namespace {

constexpr const char *kTriple = "x86_64-pc-linux-gnu";
constexpr uint64_t kStateAlignment = 64;

Error makeError(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message.str());
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

void initializeX86() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
  });
}

/// What a program linking the object may be expected to have: libc's
/// allocation and memory functions and libm.
bool isLibcOrLibm(StringRef name) {
  static const StringSet<> libc = {
      "malloc", "free",    "calloc", "realloc", "aligned_alloc",
      "memcpy", "memmove", "memset", "memcmp",  "abort"};
  static const StringSet<> libm = {
      "acos",      "asin",   "atan",    "atan2",     "cos",    "sin",
      "tan",       "cosh",   "sinh",    "tanh",      "acosh",  "asinh",
      "atanh",     "exp",    "exp2",    "expm1",     "log",    "log2",
      "log10",     "log1p",  "pow",     "sqrt",      "cbrt",   "fabs",
      "floor",     "ceil",   "round",   "roundeven", "trunc",  "rint",
      "nearbyint", "fmod",   "erf",     "erfc",      "tgamma", "lgamma",
      "fma",       "fmin",   "fmax",    "copysign",  "ldexp",  "frexp",
      "hypot",     "lround", "llround", "lrint",     "llrint"};
  if (libc.contains(name) || libm.contains(name))
    return true;
  // The float variants of libm (expf, ...).
  return name.ends_with("f") && libm.contains(name.drop_back());
}

std::unique_ptr<TargetMachine> createTargetMachine(const TargetCpu &cpu,
                                                   std::string &error) {
  initializeX86();
  Triple triple(kTriple);
  const Target *target = TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  TargetOptions options;
  return std::unique_ptr<TargetMachine>(target->createTargetMachine(
      triple, cpu.name, cpu.features, options, Reloc::PIC_, std::nullopt,
      CodeGenOptLevel::Aggressive));
}

/// Gives `gv` the name `name`, moving any other holder of the name aside.
void claimName(Module &module, GlobalValue *gv, StringRef name) {
  if (GlobalValue *other = module.getNamedValue(name); other && other != gv)
    other->setName(name + ".displaced");
  gv->setName(name);
}

/// NAME_stream_create: a 64-byte aligned, zero-filled state (NULL when out
/// of memory); NAME_stream_destroy: free.
void addStreamHelpers(Module &module, StringRef name, int64_t stateSize) {
  LLVMContext &ctx = module.getContext();
  Type *i64 = Type::getInt64Ty(ctx);
  PointerType *ptr = PointerType::getUnqual(ctx);
  uint64_t bytes =
      alignTo(std::max<uint64_t>(uint64_t(stateSize), 1), kStateAlignment);
  FunctionCallee alignedAlloc =
      module.getOrInsertFunction("aligned_alloc", ptr, i64, i64);
  FunctionCallee freeFn =
      module.getOrInsertFunction("free", Type::getVoidTy(ctx), ptr);

  auto *create = Function::Create(FunctionType::get(ptr, false),
                                  GlobalValue::ExternalLinkage, "", module);
  claimName(module, create, streamCreateSymbol(name));
  create->addFnAttr(Attribute::NoUnwind);
  auto *entry = BasicBlock::Create(ctx, "entry", create);
  auto *clear = BasicBlock::Create(ctx, "clear", create);
  auto *done = BasicBlock::Create(ctx, "done", create);
  IRBuilder<> b(entry);
  Value *state = b.CreateCall(alignedAlloc,
                              {b.getInt64(kStateAlignment), b.getInt64(bytes)});
  b.CreateCondBr(b.CreateIsNull(state), done, clear);
  b.SetInsertPoint(clear);
  b.CreateMemSet(state, b.getInt8(0), bytes, MaybeAlign(kStateAlignment));
  b.CreateBr(done);
  b.SetInsertPoint(done);
  b.CreateRet(state);

  auto *destroy =
      Function::Create(FunctionType::get(Type::getVoidTy(ctx), {ptr}, false),
                       GlobalValue::ExternalLinkage, "", module);
  claimName(module, destroy, streamDestroySymbol(name));
  destroy->addFnAttr(Attribute::NoUnwind);
  b.SetInsertPoint(BasicBlock::Create(ctx, "entry", destroy));
  b.CreateCall(freeFn, {destroy->getArg(0)});
  b.CreateRetVoid();
}

/// The object must not need MLIR's runtime libraries: resq-lower-copies
/// leaves no call of the C runner utilities' memrefCopy.
Error requireNoRunnerUtils(Module &module) {
  if (module.getFunction("memrefCopy"))
    return makeError("internal error: the lowered code calls memrefCopy (a "
                     "memref.copy that resq-lower-copies did not lower)");
  return Error::success();
}

/// Only the API stays external; everything else is internal and prefixed.
void internalize(Module &module, StringRef name, const StringSet<> &api) {
  std::string prefix = (name + "_").str();
  auto rename = [&](GlobalValue &gv) {
    if (gv.isDeclaration() || api.contains(gv.getName()) ||
        gv.getName().starts_with("llvm."))
      return;
    if (!gv.hasLocalLinkage())
      gv.setLinkage(GlobalValue::InternalLinkage);
    gv.setVisibility(GlobalValue::DefaultVisibility);
    if (!gv.getName().starts_with(prefix))
      gv.setName(prefix + gv.getName());
  };
  for (Function &f : module.functions())
    rename(f);
  for (GlobalVariable &g : module.globals())
    rename(g);
  for (GlobalAlias &a : module.aliases())
    rename(a);
}

void optimize(Module &module, TargetMachine &tm, unsigned optLevel) {
  OptimizationLevel level = optLevel >= 3   ? OptimizationLevel::O3
                            : optLevel == 2 ? OptimizationLevel::O2
                            : optLevel == 1 ? OptimizationLevel::O1
                                            : OptimizationLevel::O0;
  LoopAnalysisManager lam;
  FunctionAnalysisManager fam;
  CGSCCAnalysisManager cgam;
  ModuleAnalysisManager mam;
  PipelineTuningOptions tuning;
  tuning.LoopUnrolling = true;
  tuning.LoopInterleaving = true;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  PassBuilder pb(&tm, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  ModulePassManager mpm =
      pb.buildPerModuleDefaultPipeline(level);
  mpm.run(module, mam);
}

} // namespace

TargetCpu resq::compile::detail::resolveTargetCpu(StringRef cpu) {
  TargetCpu result;
  if (cpu != "native") {
    result.name = cpu.str();
    return result;
  }
  result.name = sys::getHostCPUName().str();
  std::vector<std::string> features;
  for (const auto &feature : sys::getHostCPUFeatures())
    features.push_back((feature.second ? "+" : "-") + feature.first().str());
  llvm::sort(features);
  result.features = join(features, ",");
  return result;
}

Expected<BackendResult>
resq::compile::detail::runBackend(Module &module,
                                  const BackendOptions &options) {
  BackendResult result;
  std::string error;
  std::unique_ptr<TargetMachine> tm = createTargetMachine(options.cpu, error);
  if (!tm)
    return makeError("cannot create the x86-64 target machine for CPU '" +
                     options.cpu.name + "': " + error);
  module.setTargetTriple(tm->getTargetTriple());
  module.setDataLayout(tm->createDataLayout());
  module.setPICLevel(PICLevel::BigPIC);

  // 1. Symbols.
  Function *step = module.getFunction(options.stepFunction);
  if (!step || step->isDeclaration())
    return makeError("the lowered module has no @" + options.stepFunction);
  claimName(module, step, stepSymbol(options.name));
  StringSet<> api = {stepSymbol(options.name)};
  // 2. Helpers.
  if (options.stateSize > 0) {
    addStreamHelpers(module, options.name, options.stateSize);
    api.insert(streamCreateSymbol(options.name));
    api.insert(streamDestroySymbol(options.name));
  }
  if (Error e = requireNoRunnerUtils(module))
    return std::move(e);
  internalize(module, options.name, api);
  for (Function &f : module.functions()) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", options.cpu.name);
    // Unwind tables: debuggers and profilers can walk through the model.
    f.setUWTableKind(UWTableKind::Async);
    if (!options.cpu.features.empty())
      f.addFnAttr("target-features", options.cpu.features);
  }
  {
    std::string problems;
    raw_string_ostream os(problems);
    if (verifyModule(module, &os))
      return makeError("internal error: invalid LLVM IR before optimization: " +
                       problems);
  }

  if (options.printUnoptimizedIR) {
    raw_string_ostream os(result.unoptimizedIR);
    module.print(os, nullptr);
  }

  // 3. One function per loop nest, then the optimization pipeline (O2 by
  // default).
  auto start = std::chrono::steady_clock::now();
  resq::preferFullVectorWidth(module);
  resq::outlineLoopNests(module);
  optimize(module, *tm, options.optLevel);
  result.optimizeSeconds = secondsSince(start);

  for (Function &f : module.functions())
    if (f.isDeclaration() && !f.isIntrinsic() && !f.use_empty() &&
        !isLibcOrLibm(f.getName()))
      result.warnings.push_back(
          "the object calls '" + f.getName().str() +
          "', which is neither in libc nor in libm: link it yourself");
  for (GlobalVariable &g : module.globals()) {
    if (g.isDeclaration() && !g.use_empty())
      result.warnings.push_back("the object refers to the external variable '" +
                                g.getName().str() + "'");
    if (!g.isDeclaration() && !g.isConstant() &&
        !g.getName().starts_with("llvm."))
      result.reentrant = false;
  }
  if (options.printIR) {
    raw_string_ostream os(result.ir);
    module.print(os, nullptr);
  }

  // 4. Code generation.
  start = std::chrono::steady_clock::now();
  {
    raw_svector_ostream os(result.object);
    legacy::PassManager pm;
    if (tm->addPassesToEmitFile(pm, os, nullptr, CodeGenFileType::ObjectFile))
      return makeError("the x86-64 target cannot emit object files");
    pm.run(module);
  }
  result.codegenSeconds = secondsSince(start);
  return std::move(result);
}

Error resq::compile::detail::writeArchive(StringRef path, StringRef memberName,
                                          ArrayRef<char> object) {
  NewArchiveMember member(
      MemoryBufferRef(StringRef(object.data(), object.size()), memberName));
  member.MemberName = memberName;
  std::vector<NewArchiveMember> members;
  members.push_back(std::move(member));
  return llvm::writeArchive(path, members, SymtabWritingMode::NormalSymtab,
                            object::Archive::K_GNU, /*Deterministic=*/true,
                            /*Thin=*/false);
}
