//===- resq-compile.cpp - compile a model to an object and a C API --------===//
//
//   resq-compile model.mlir -o out --name net --residualize="step=4" \
//       --dynamic-bits="bit-set=0,2,4,8 block=4"
//
// Writes out/net.o, out/libnet.a and out/net.h. All the work is in
// lib/Compile; the tool parses options and reports.
//
//===----------------------------------------------------------------------===//

#include "resq/Compile/Compile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace resq;
using namespace resq::compile;
namespace cl = llvm::cl;
using llvm::StringRef;

static constexpr const char *kToolName = "resq-compile";

static cl::OptionCategory compileCategory("resq-compile options");

static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::desc("<model.mlir>"),
                                      cl::cat(compileCategory));

static cl::opt<std::string>
    outputDir("o", cl::Required,
              cl::desc("Output folder (created when missing)"),
              cl::value_desc("dir"), cl::cat(compileCategory));

static cl::opt<std::string>
    modelName("name",
              cl::desc("C prefix of every symbol and stem of the files "
                       "(default: the model's file name, made a C "
                       "identifier)"),
              cl::value_desc("NAME"), cl::cat(compileCategory));

static cl::opt<std::string>
    targetCpu("target-cpu",
              cl::desc("CPU the code is generated for: an LLVM x86-64 CPU "
                       "name, or 'native' for this machine (default x86-64: "
                       "runs on any x86-64)"),
              cl::value_desc("cpu"), cl::init("x86-64"),
              cl::cat(compileCategory));

static cl::opt<std::string> residualizeOptions(
    "residualize", cl::ValueOptional,
    cl::desc("Residualize the plain int8 graph first, with resq-residualize's "
             "options, e.g. \"step=4 bits=8 keyframe-interval=0 "
             "layer-steps=conv2d_0:2\""),
    cl::value_desc("options"), cl::cat(compileCategory));

static cl::opt<std::string> dynamicBitsOptions(
    "dynamic-bits", cl::ValueOptional,
    cl::desc("Apply resq-dynamic-bits with its options, e.g. "
             "\"bit-set=0,2,4,8 block=4 scene-cut=0.5\" (a plain graph is "
             "residualized with default options first)"),
    cl::value_desc("options"), cl::cat(compileCategory));

static cl::opt<std::string>
    entryName("entry",
              cl::desc("The step function (default: @main, or the only "
                       "public function)"),
              cl::value_desc("name"), cl::cat(compileCategory));

static cl::opt<bool> emitLLVM("emit-llvm",
                              cl::desc("Also write the optimized LLVM IR to "
                                       "DIR/NAME.ll"),
                              cl::init(false), cl::cat(compileCategory));

static cl::opt<unsigned> optLevel(
    "opt-level",
    cl::desc("LLVM optimization pipeline, 0-3 (default 2). Measured here: "
             "O2 compiles pose_landmark_lite's ResQ dynamic build in 16 s, "
             "O3 in 19.5 s; selfie's frames ran 20% faster at O2, pose's "
             "within 3%"),
    cl::init(2), cl::cat(compileCategory));

static cl::opt<bool> emitUnoptimizedLLVM(
    "emit-unoptimized-llvm", cl::Hidden,
    cl::desc("Also write the LLVM IR given to the optimization pipeline to "
             "DIR/NAME.unoptimized.ll"),
    cl::init(false), cl::cat(compileCategory));

static cl::opt<bool> quiet("quiet",
                           cl::desc("Print nothing but errors and warnings"),
                           cl::init(false), cl::cat(compileCategory));

static const char *const kOverview =
    R"(resq-compile: compile a ResQ model ahead of time into an object and a C API

Compiles MODEL.mlir (a plain int8 TOSA graph, or one residualized with
resq-residualize / resq-dynamic-bits) with the resq-to-llvm pipeline,
optimizes the LLVM IR (O2, --opt-level) for the target CPU and writes into DIR:

  NAME.o      x86-64 ELF object (position independent): the step function
  libNAME.a   the same object as a static library
  NAME.h      its C API (C99, also C++)
  NAME.ll     the optimized LLVM IR (with --emit-llvm)

A program using the model needs only NAME.h, NAME.o (or -LDIR -lNAME),
libc and libm; no LLVM or MLIR:

  cc -O2 -IDIR app.c DIR/NAME.o -lm

Every symbol starts with NAME_ and everything but the API is internal, so
several models (with different names) link into one program.

Residualizing:
  --residualize="OPTS" and --dynamic-bits="OPTS" run resq-residualize and
  resq-dynamic-bits with OPTS, written as for resq-opt (see resq-opt --help).
  --residualize alone uses the default options; --dynamic-bits on a plain
  graph residualizes it with the default options first. A module that is
  residualized already compiles as it is.

The C API (NAME.h), for a stateful (residualized) model:
  NAME_NUM_INPUTS, NAME_NUM_OUTPUTS, NAME_INPUTi_SIZE/_BYTES/_RANK,
  NAME_inputi_shape[], NAME_inputi_t (the element type, e.g. int8_t),
  the same for outputs, NAME_STATE_SIZE, NAME_NUM_LAYERS, NAME_layer_names[]
  NAME_stream *NAME_stream_create(void)      64-byte aligned, zero-filled
  void NAME_stream_destroy(NAME_stream *)
  void NAME_stream_reset(NAME_stream *)      next frame is a keyframe
  void NAME_force_keyframe(NAME_stream *)
  int  NAME_step(NAME_stream *, const T *in0, ..., T *out0, ...)   0: done
  int  NAME_layer_stats(const NAME_stream *, int layer, NAME_stats *)
       keyframe, scene cut, blocks per bit-width 0..9, blocks, MACs, BOPs of
       the last frame, plus frames processed and last-frame-was-keyframe
A stateless (plain) model has the same constants and NAME_step, which
ignores its stream argument (pass NULL), and no stream functions.

Target CPU:
  The default, x86-64, runs anywhere; 'native' or a CPU with AVX-512 VNNI
  (icelake-server, sapphirerapids, ...) selects the VNNI kernels. The object
  is generated for that CPU and may not run on older ones.

Example:
  resq-compile examples/tiny_segnet.mlir -o out --name segnet \
      --residualize="step=4" --dynamic-bits="bit-set=0,2,4,8 block=4"
  cc -O2 -Iout -DMODEL=segnet examples/c/stream_demo.c out/segnet.o -lm
)";

namespace {

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), kToolName) << message << "\n";
  return 1;
}

/// The default name: the model's file stem as a C identifier.
std::string defaultName(StringRef path) {
  StringRef stem = llvm::sys::path::stem(path);
  if (path == "-" || stem.empty())
    return "model";
  std::string name;
  for (char c : stem)
    name += llvm::isAlnum(c) ? c : '_';
  if (llvm::isDigit(name[0]) || name[0] == '_')
    name = "m_" + name;
  return name;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::HideUnrelatedOptions(compileCategory);
  cl::ParseCommandLineOptions(argc, argv, kOverview);

  CompileOptions options;
  options.inputPath = modelPath;
  options.outputDir = outputDir;
  options.name = modelName.getNumOccurrences() ? std::string(modelName)
                                               : defaultName(modelPath);
  options.targetCpu = targetCpu;
  options.entry = entryName;
  if (residualizeOptions.getNumOccurrences())
    options.residualize = residualizeOptions;
  if (dynamicBitsOptions.getNumOccurrences())
    options.dynamicBits = dynamicBitsOptions;
  options.emitLLVM = emitLLVM;
  options.emitUnoptimizedLLVM = emitUnoptimizedLLVM;
  if (optLevel > 3)
    return fail("--opt-level must be 0, 1, 2 or 3");
  options.optLevel = optLevel;

  auto compiled = compileModel(options);
  if (!compiled)
    return fail(llvm::toString(compiled.takeError()));
  const CompileReport &report = *compiled;
  for (const std::string &warning : report.warnings)
    llvm::WithColor::warning(llvm::errs(), kToolName) << warning << "\n";
  if (quiet)
    return 0;

  const ModelInterface &model = report.model;
  llvm::raw_ostream &os = llvm::outs();
  os << kToolName << ": " << model.name << ": @" << model.entry << " of "
     << model.source << ", ";
  if (model.stateful)
    os << "stateful (" << model.layers.size() << " residualized layer"
       << (model.layers.size() == 1 ? "" : "s") << ", " << model.stateSize
       << "-byte stream state)";
  else
    os << "stateless";
  os << ", target " << model.targetCpu << " ("
     << (report.vnni ? "VNNI" : "portable") << " kernels)\n";
  os << llvm::format("  compiled in %.2f s: parse %.2f, residualize %.2f, "
                     "lower %.2f, LLVM IR %.2f, optimize %.2f, codegen %.2f, "
                     "write %.2f\n",
                     report.totalSeconds, report.parseSeconds,
                     report.transformSeconds, report.lowerSeconds,
                     report.translateSeconds, report.optimizeSeconds,
                     report.codegenSeconds, report.writeSeconds);
  for (const std::string &file : report.files)
    os << "  wrote " << file << "\n";
  return 0;
}
