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
  return llvm::is_contained(features, feature);
}

bool resq::cpuHasAvx512Vnni(llvm::StringRef cpu) {
  return cpuHasFeature(cpu, "avx512vnni");
}
