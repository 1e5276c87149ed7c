//===- tflite_import_fuzzer.cpp - libFuzzer target for the TFLite importer -===//
//
// Feeds arbitrary bytes to resq::importTFLite. The importer must either
// succeed (and then the module verifies and prints) or fail with
// diagnostics; AddressSanitizer and UBSan turn any out-of-bounds read,
// overflow or crash into a failure. Built with -fsanitize=fuzzer,address
// (see CMakeLists.txt); run by the `tflite-import-fuzz` ctest.
//
//===----------------------------------------------------------------------===//

#include "resq/Importer/TFLite.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A fresh context per input: uniqued attributes (weights) would otherwise
  // accumulate for the whole run.
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  // Diagnostics are the expected outcome for most inputs; swallow them.
  mlir::ScopedDiagnosticHandler handler(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  resq::TFLiteImportStats stats;
  auto module = resq::importTFLite(bytes, "fuzz.tflite", &context, &stats);
  if (mlir::succeeded(module)) {
    // Whatever was accepted must print (exercises every attribute).
    llvm::raw_null_ostream os;
    (**module)->print(os);
  }
  return 0;
}
