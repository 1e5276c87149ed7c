//===- Modes.h - resq-bench's other measurements --------------------------===//
//
// Besides the side-by-side run (resq-bench.cpp): the generated kernels of
// every linear layer shape against the CPU's measured VNNI peak
// (Kernels.cpp), and a ResQ build on a synthetic sequence where a given
// share of the input changes per frame (Sweep.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_BENCH_MODES_H
#define RESQ_BENCH_MODES_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace resq {
namespace bench {

/// Times the keyframe kernel of every distinct linear layer of the int8
/// model at `path` and prints GMAC/s against the measured peak; writes
/// kernels.md into `reportDir` when given. Returns the exit code.
int runKernelBenchmark(llvm::StringRef path, llvm::StringRef reportDir,
                       int64_t repeats);

/// Plays a synthetic sequence through the ResQ model at `path`: a frame of
/// `videoPath`, then frames where p% of the 16x16 input blocks change, for
/// p = 0, 1, 5, 10, 25, 50, 100. Prints ms per frame against p; writes
/// sweep.md into `reportDir` when given. Returns the exit code.
int runChangeSweep(llvm::StringRef path, llvm::StringRef videoPath,
                   llvm::StringRef reportDir, int64_t framesPerPoint);

/// Writes `text` to reportDir/name; false (and an error printed) on failure.
bool writeReport(llvm::StringRef reportDir, llvm::StringRef name,
                 llvm::StringRef text);

/// "%.*f".
std::string fixed(double value, int digits);

} // namespace bench
} // namespace resq

#endif // RESQ_BENCH_MODES_H
