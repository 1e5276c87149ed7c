//===- TargetCpu.cpp - what the target CPU offers the generated kernels ---===//

#include "resq/Conversion/Passes.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/X86TargetParser.h"

bool resq::cpuHasFeature(llvm::StringRef cpu, llvm::StringRef feature) {
  if (cpu == "native")
    return llvm::sys::getHostCPUFeatures().lookup(feature);
  llvm::SmallVector<llvm::StringRef> features;
  llvm::X86::getFeaturesForCPU(cpu, features);
  // A CPU lists some features only through others (x86-64-v4's AVX-512F
  // through AVX-512BW, DQ, VL): add what each implies.
  llvm::StringMap<bool> enabled;
  for (llvm::StringRef f : features) {
    enabled[f] = true;
    llvm::X86::updateImpliedFeatures(f, true, enabled);
  }
  return enabled.lookup(feature);
}

bool resq::cpuHasAvx512Vnni(llvm::StringRef cpu) {
  return cpuHasFeature(cpu, "avx512vnni");
}
