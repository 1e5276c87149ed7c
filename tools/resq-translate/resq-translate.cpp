//===- resq-translate.cpp - model formats to and from MLIR ----------------===//
//
//   resq-translate --import-tflite model.tflite -o model.mlir
//
// Imports a TFLite FlatBuffer as a TOSA v1.0 module (see
// include/resq/Importer/TFLite.h) and prints it with its locations, which
// carry the TFLite tensor names the later passes use to name layers.
//
//===----------------------------------------------------------------------===//

#include "resq/Importer/TFLite.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <string>
#include <vector>

namespace cl = llvm::cl;
using llvm::StringRef;

static constexpr const char *kToolName = "resq-translate";

static cl::OptionCategory category("resq-translate options");

static cl::opt<std::string> inputPath(cl::Positional, cl::desc("<input file>"),
                                      cl::init("-"), cl::cat(category));

static cl::opt<std::string> outputPath("o",
                                       cl::desc("Output file ('-' for stdout, "
                                                "the default)"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(category));

static cl::opt<bool>
    importTFLite("import-tflite",
                 cl::desc("Import a TFLite FlatBuffer model as TOSA v1.0"),
                 cl::cat(category));

static cl::opt<bool> quiet("quiet",
                           cl::desc("Do not print the summary on stderr"),
                           cl::init(false), cl::cat(category));

static const char *const kOverview =
    R"(resq-translate: translate models into MLIR for the resq compiler

  resq-translate --import-tflite MODEL.tflite -o MODEL.mlir

--import-tflite reads a TFLite FlatBuffer (schema version 3; the first
subgraph) and writes one `func.func @main` in TOSA v1.0:
  - arguments and results are the subgraph's inputs and outputs in order,
    each tagged `resq.name = "<tflite tensor name>"`;
  - every operation is located at loc("<its TFLite output tensor name>"),
    which later passes use as the layer name (locations are printed);
  - float models give f32 TOSA, with fp16 weights behind DEQUANTIZE folded
    into f32 constants; int8-quantized models give int8 TOSA with zero-point
    operands and tosa.rescale;
  - shapes are static.

Supported operators: ADD, SUB, MUL (with broadcasting), CONV_2D,
DEPTHWISE_CONV_2D, FULLY_CONNECTED, TRANSPOSE_CONV, CUSTOM
Convolution2DTransposeBias (MediaPipe), AVERAGE_POOL_2D, MAX_POOL_2D, RELU,
RELU6, RELU_N1_TO_1, TANH, LOGISTIC, HARD_SWISH, PAD, PADV2, RESHAPE,
SQUEEZE, EXPAND_DIMS, RESIZE_BILINEAR, CONCATENATION, MEAN, TRANSPOSE,
QUANTIZE, DEQUANTIZE; fused activations NONE, RELU, RELU6, RELU_N1_TO_1,
TANH. int8 covers the convolutions, FULLY_CONNECTED, ADD, SUB, MUL, the
pools, PAD, RESHAPE, CONCATENATION, the RELUs and QUANTIZE/DEQUANTIZE.

A one-line summary (operators by type, TOSA operations, parameters) goes to
stderr unless --quiet. Errors (unreadable, truncated or corrupt files,
unsupported operators, inconsistent shapes) are reported with the file name
and the operator, and the exit status is 1.
)";

namespace {

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), kToolName) << message << "\n";
  return 1;
}

/// "model.tflite: error: message [tensor 'name']".
void printDiagnostic(mlir::Diagnostic &diag) {
  std::string file, tensor;
  diag.getLocation()->walk([&](mlir::Location loc) {
    if (auto f = llvm::dyn_cast<mlir::FileLineColLoc>(loc))
      file = f.getFilename().str();
    else if (auto n = llvm::dyn_cast<mlir::NameLoc>(loc))
      tensor = n.getName().str();
    return mlir::WalkResult::advance();
  });
  llvm::raw_ostream &os = llvm::errs();
  os << kToolName << ": " << (file.empty() ? std::string("<input>") : file)
     << ": ";
  switch (diag.getSeverity()) {
  case mlir::DiagnosticSeverity::Error:
    llvm::WithColor(os, llvm::HighlightColor::Error) << "error: ";
    break;
  case mlir::DiagnosticSeverity::Warning:
    llvm::WithColor(os, llvm::HighlightColor::Warning) << "warning: ";
    break;
  default:
    llvm::WithColor(os, llvm::HighlightColor::Note) << "note: ";
    break;
  }
  os << diag.str();
  if (!tensor.empty())
    os << " [at tensor '" << tensor << "']";
  os << "\n";
  for (mlir::Diagnostic &note : diag.getNotes())
    printDiagnostic(note);
}

std::string withThousands(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, kOverview);

  if (!importTFLite)
    return fail("choose a translation: --import-tflite (see --help)");

  auto file = llvm::MemoryBuffer::getFileOrSTDIN(inputPath, /*IsText=*/false,
                                                 /*RequiresNullTerminator=*/false);
  if (std::error_code ec = file.getError())
    return fail("cannot read " + inputPath + ": " + ec.message());
  std::string displayName =
      inputPath == "-" ? std::string("<stdin>") : std::string(inputPath);

  mlir::MLIRContext context;
  // Diagnostics are printed as they come; the importer stops at the first
  // structural error but lists every unsupported operator.
  mlir::ScopedDiagnosticHandler handler(&context, [](mlir::Diagnostic &diag) {
    printDiagnostic(diag);
    return mlir::success();
  });

  resq::TFLiteImportStats stats;
  auto module = resq::importTFLite((*file)->getBuffer(), displayName, &context,
                                   &stats);
  if (mlir::failed(module))
    return fail("cannot import " + displayName);

  std::error_code ec;
  auto output = std::make_unique<llvm::ToolOutputFile>(outputPath, ec,
                                                       llvm::sys::fs::OF_None);
  if (ec)
    return fail("cannot write " + outputPath + ": " + ec.message());
  mlir::OpPrintingFlags flags;
  // Locations inline (loc("tensor name") after each operation): they carry
  // the layer names, and parse back.
  flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  flags.useLocalScope();
  (**module)->print(output->os(), flags);
  output->os() << "\n";
  output->os().flush();
  if (output->os().has_error())
    return fail("cannot write " + outputPath);
  output->keep();

  if (!quiet) {
    // TOSA operations by name, most frequent first (constants last).
    llvm::MapVector<StringRef, unsigned> tosaCounts;
    unsigned constants = 0, total = 0;
    (**module)->walk([&](mlir::Operation *op) {
      StringRef name = op->getName().getStringRef();
      if (!name.starts_with("tosa."))
        return;
      ++total;
      if (name == "tosa.const" || name == "tosa.const_shape")
        ++constants;
      else
        ++tosaCounts[name];
    });
    std::vector<std::pair<StringRef, unsigned>> sorted(tosaCounts.begin(),
                                                       tosaCounts.end());
    // Most frequent first; ties in order of first appearance.
    std::vector<size_t> rank(sorted.size());
    for (size_t i = 0; i < rank.size(); ++i)
      rank[i] = i;
    std::sort(rank.begin(), rank.end(), [&](size_t x, size_t y) {
      return sorted[x].second != sorted[y].second
                 ? sorted[x].second > sorted[y].second
                 : x < y;
    });
    std::vector<std::pair<StringRef, unsigned>> byCount;
    for (size_t r : rank)
      byCount.push_back(sorted[r]);
    sorted = std::move(byCount);
    llvm::raw_ostream &os = llvm::errs();
    os << kToolName << ": " << llvm::sys::path::filename(displayName) << ": "
       << stats.numOperators << " TFLite ops (";
    for (size_t i = 0; i < stats.operatorCounts.size(); ++i)
      os << (i ? ", " : "") << stats.operatorCounts[i].first << " "
         << stats.operatorCounts[i].second;
    os << ") -> " << total << " TOSA ops (";
    for (size_t i = 0; i < sorted.size(); ++i)
      os << sorted[i].first.drop_front(5) << " " << sorted[i].second << ", ";
    os << "constants " << constants << "); "
       << withThousands(stats.numParameters) << " parameters; "
       << stats.numInputs << " input" << (stats.numInputs == 1 ? "" : "s")
       << ", " << stats.numOutputs << " output"
       << (stats.numOutputs == 1 ? "" : "s") << "\n";
  }
  return 0;
}
