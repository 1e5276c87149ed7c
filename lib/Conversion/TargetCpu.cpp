//===- TargetCpu.cpp - what the target CPU offers the generated kernels ---===//

#include "resq/Conversion/Passes.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/X86TargetParser.h"

bool resq::cpuHasAvx512Vnni(llvm::StringRef cpu) {
  if (cpu == "native")
    return llvm::sys::getHostCPUFeatures().lookup("avx512vnni");
  llvm::SmallVector<llvm::StringRef> features;
  llvm::X86::getFeaturesForCPU(cpu, features);
  return llvm::is_contained(features, "avx512vnni");
}
