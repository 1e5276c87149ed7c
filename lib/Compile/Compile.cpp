//===- Compile.cpp - ahead-of-time compilation of a ResQ model ------------===//
//
// The MLIR half of resq-compile:
//
//  1. parse the model; apply resq-residualize / resq-dynamic-bits with the
//     user's options (in the passes' own syntax);
//  2. read the step function's interface (inputs, outputs, stateful or not)
//     before lowering erases the tensor types;
//  3. lower with resq-to-llvm for the target CPU, read the frozen stream
//     layout (`resq.stream_layout`) and check the C interface;
//  4. translate to LLVM IR and hand over to the backend (Backend.cpp);
//  5. write NAME.o, libNAME.a, NAME.h (and NAME.ll).
//
//===----------------------------------------------------------------------===//

#include "resq/Compile/Compile.h"
#include "resq/Conversion/StepFunction.h"
#include "resq/Support/StatsLayout.h"

#include "Backend.h"

#include "ResQ/IR/ResQ.h"
#include "resq/Conversion/Passes.h"
#include "resq/InitResQ.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/X86TargetParser.h"

#include <chrono>
#include <mutex>
#include <tuple>

using namespace resq;
using namespace resq::compile;
using llvm::StringRef;

namespace {

constexpr int64_t kStatsBytes = kStatSlots * 8;
/// The stream header (LowerStream's kHeaderSlots).
constexpr int64_t kHeaderBytes = 8 * 8;

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

std::string typeToString(mlir::Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

/// A statically shaped tensor of an element type C has a name for.
llvm::Expected<TensorInfo> toTensorInfo(mlir::Type type,
                                        const llvm::Twine &what) {
  auto tensor = llvm::dyn_cast<mlir::RankedTensorType>(type);
  auto unsupported = [&] {
    return makeError(what + " has type " + typeToString(type) +
                     "; the C API supports statically shaped tensors of i8, "
                     "i16, i32, i64 (signless, signed or unsigned), f32 and "
                     "f64");
  };
  if (!tensor || !tensor.hasStaticShape())
    return unsupported();
  TensorInfo info;
  mlir::Type elem = tensor.getElementType();
  if (auto i = llvm::dyn_cast<mlir::IntegerType>(elem)) {
    unsigned width = i.getWidth();
    if (width != 8 && width != 16 && width != 32 && width != 64)
      return unsupported();
    info.cType =
        (i.isUnsigned() ? "uint" : "int") + std::to_string(width) + "_t";
    info.elementBytes = width / 8;
  } else if (elem.isF32()) {
    info.cType = "float";
    info.elementBytes = 4;
  } else if (elem.isF64()) {
    info.cType = "double";
    info.elementBytes = 8;
  } else {
    return unsupported();
  }
  info.dtype = typeToString(elem);
  info.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  info.mlirType = typeToString(type);
  return info;
}

/// The `resq.name` of an argument or result, removed with every other
/// `resq.` attribute there: they are ResQ's notes, which the translation to
/// LLVM IR would warn about.
std::string takeTensorName(mlir::func::FuncOp func, unsigned index,
                           bool result) {
  mlir::DictionaryAttr attrs =
      result ? func.getResultAttrDict(index) : func.getArgAttrDict(index);
  if (!attrs)
    return "";
  std::string name;
  if (auto s = llvm::dyn_cast_or_null<mlir::StringAttr>(attrs.get("resq.name")))
    name = s.str();
  llvm::SmallVector<mlir::NamedAttribute> kept;
  for (mlir::NamedAttribute attr : attrs)
    if (!attr.getName().strref().starts_with("resq."))
      kept.push_back(attr);
  if (result)
    func.setResultAttrs(index, kept);
  else
    func.setArgAttrs(index, kept);
  return name;
}

enum class ModelKind { Plain, Residualized, Lowered };

ModelKind classify(mlir::ModuleOp module, mlir::func::FuncOp func) {
  llvm::ArrayRef<mlir::Type> args = func.getFunctionType().getInputs();
  if (!args.empty() && llvm::isa<resq::StreamType>(args.front()))
    return ModelKind::Residualized;
  if (!args.empty() && resq::isLoweredStateArgument(module, args.front()))
    return ModelKind::Lowered;
  return ModelKind::Plain;
}

/// Reads `resq.stream_layout` and checks that the statistics it points to
/// lie inside the state, so that NAME_layer_stats never reads out of
/// bounds.
llvm::Error readStreamLayout(mlir::ModuleOp module, ModelInterface &model) {
  auto dict = module->getAttrOfType<mlir::DictionaryAttr>(kStreamLayoutAttr);
  if (!dict)
    return makeError(llvm::Twine("the step function is stateful but the "
                                 "lowered module has no '") +
                     kStreamLayoutAttr + "' dictionary");
  auto size = llvm::dyn_cast_or_null<mlir::IntegerAttr>(dict.get("size"));
  auto layers = llvm::dyn_cast_or_null<mlir::ArrayAttr>(dict.get("layers"));
  if (!size || !layers)
    return makeError(llvm::Twine(kStreamLayoutAttr) +
                     ": missing 'size' or 'layers'");
  model.stateSize = size.getInt();
  if (auto scratch =
          llvm::dyn_cast_or_null<mlir::IntegerAttr>(dict.get("scratch_size")))
    model.scratchSize = scratch.getInt();
  if (model.stateSize < kHeaderBytes)
    return makeError(llvm::Twine(kStreamLayoutAttr) + ": size " +
                     llvm::Twine(model.stateSize) +
                     " is smaller than the stream header");
  for (auto [index, attr] : llvm::enumerate(layers)) {
    std::string at = std::string(kStreamLayoutAttr) + ".layers[" +
                     std::to_string(index) + "]";
    auto entry = llvm::dyn_cast<mlir::DictionaryAttr>(attr);
    if (!entry)
      return makeError(at + " is not a dictionary");
    auto str = [&](StringRef key) -> std::optional<std::string> {
      if (auto s = llvm::dyn_cast_or_null<mlir::StringAttr>(entry.get(key)))
        return s.str();
      return std::nullopt;
    };
    auto integer = [&](StringRef key) -> std::optional<int64_t> {
      if (auto i = llvm::dyn_cast_or_null<mlir::IntegerAttr>(entry.get(key)))
        return i.getInt();
      return std::nullopt;
    };
    auto name = str("name"), kind = str("kind");
    auto stats = integer("stats"), blocks = integer("blocks");
    if (!name || !kind || !stats || !blocks)
      return makeError(at + ": missing 'name', 'kind', 'stats' or 'blocks'");
    if (*stats < kHeaderBytes || *stats > model.stateSize - kStatsBytes)
      return makeError(at + " (" + *name + "): the statistics at byte " +
                       llvm::Twine(*stats) + " lie outside the state of " +
                       llvm::Twine(model.stateSize) + " bytes");
    LayerInfo layer;
    layer.name = *name;
    layer.kind = *kind;
    layer.statsOffset = *stats;
    layer.blocks = *blocks;
    layer.inChannels = integer("in_channels").value_or(0);
    layer.denseMacs = integer("dense_macs").value_or(0);
    model.layers.push_back(std::move(layer));
  }
  return llvm::Error::success();
}

/// Options in the passes' own syntax go inside `{...}`: braces would let
/// them escape into the pipeline.
llvm::Error checkPassOptions(StringRef flag,
                             const std::optional<std::string> &value) {
  if (value && StringRef(*value).find_first_of("{}") != StringRef::npos)
    return makeError("--" + flag + "=\"" + *value +
                     "\": options must not contain '{' or '}'");
  return llvm::Error::success();
}

/// The pass option parser's complaint on one line.
std::string oneLine(StringRef text) {
  llvm::SmallVector<StringRef> lines;
  text.split(lines, '\n', -1, /*KeepEmpty=*/false);
  std::string s;
  for (StringRef line : lines)
    s += (s.empty() ? "" : "; ") + line.trim().str();
  return s;
}

std::string pipelineFor(StringRef pass, StringRef options) {
  options = options.trim();
  if (options.empty())
    return pass.str();
  return (pass + "{" + options + "}").str();
}

void initializeOnce() {
  static std::once_flag once;
  std::call_once(once, [] { resq::registerAllPasses(); });
}

llvm::Error writeFile(StringRef path, StringRef contents) {
  return llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
    os << contents;
    return llvm::Error::success();
  });
}

} // namespace

llvm::Error resq::compile::checkTargetCpu(StringRef cpu) {
  if (cpu == "native")
    return llvm::Error::success();
  if (llvm::X86::parseArchX86(cpu, /*Only64Bit=*/true) == llvm::X86::CK_None)
    return makeError("unknown target CPU '" + cpu +
                     "': use 'native' or an LLVM x86-64 CPU name such as "
                     "x86-64, x86-64-v3, skylake-avx512, icelake-server, "
                     "sapphirerapids, znver4 (llc-22 -march=x86-64 "
                     "-mcpu=help lists them)");
  return llvm::Error::success();
}

llvm::Expected<CompileReport>
resq::compile::compileModel(const CompileOptions &options) {
  auto start = Clock::now();
  CompileReport report;
  ModelInterface &model = report.model;
  model.name = options.name;
  model.source = options.inputPath;
  model.targetCpu = options.targetCpu;

  // Cheap checks first: a typo should not cost a compilation.
  if (llvm::Error e = checkName(options.name))
    return std::move(e);
  if (llvm::Error e = checkTargetCpu(options.targetCpu))
    return std::move(e);
  if (llvm::Error e = checkPassOptions("residualize", options.residualize))
    return std::move(e);
  if (llvm::Error e = checkPassOptions("dynamic-bits", options.dynamicBits))
    return std::move(e);
  if (options.outputDir.empty())
    return makeError("no output folder (-o DIR)");
  if (std::error_code ec = llvm::sys::fs::create_directories(options.outputDir))
    return makeError("-o " + options.outputDir +
                     ": cannot create the folder: " + ec.message());
  if (!llvm::sys::fs::is_directory(options.outputDir))
    return makeError("-o " + options.outputDir + ": not a folder");
  if (std::error_code ec = llvm::sys::fs::access(
          options.outputDir, llvm::sys::fs::AccessMode::Write))
    return makeError("-o " + options.outputDir +
                     ": the folder is not writable: " + ec.message());

  initializeOnce();
  mlir::DialectRegistry registry;
  resq::registerAllDialects(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::MLIRContext context(registry);
  // Diagnostics name the op by location; the whole module would bury them.
  context.printOpOnDiagnostic(false);

  // The pass options, before any file is read.
  for (auto [pass, flag, value] :
       {std::make_tuple("resq-residualize", "residualize",
                        &options.residualize),
        std::make_tuple("resq-dynamic-bits", "dynamic-bits",
                        &options.dynamicBits)}) {
    if (!*value)
      continue;
    mlir::OpPassManager scratch(mlir::ModuleOp::getOperationName());
    std::string errors;
    llvm::raw_string_ostream errs(errors);
    if (mlir::failed(
            mlir::parsePassPipeline(pipelineFor(pass, **value), scratch, errs)))
      return makeError(llvm::Twine("bad --") + flag + "=\"" + **value +
                       "\": " + oneLine(errors));
  }

  // Every diagnostic, from the parser to the translation, is collected with
  // its location and becomes part of the error message.
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(options.inputPath,
                                                   /*IsText=*/true);
  if (!buffer)
    return makeError(options.inputPath +
                     ": cannot read: " + buffer.getError().message());
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  std::string diagnostics;
  llvm::raw_string_ostream diagStream(diagnostics);
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, diagStream);
  auto fail = [&](const llvm::Twine &message) {
    std::string text = message.str();
    if (!diagnostics.empty())
      text += ":\n" + StringRef(diagnostics).rtrim().str();
    return makeError(text);
  };

  // 1. Parse and transform.
  auto phase = Clock::now();
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr,
                                            mlir::ParserConfig(&context));
  if (!module)
    return fail(options.inputPath + ": cannot parse the module");
  report.parseSeconds = secondsSince(phase);

  phase = Clock::now();
  auto entry = resq::findStepFunction(*module, options.entry);
  if (!entry)
    return entry.takeError();
  std::string entryName = entry->getSymName().str();
  model.entry = entryName;
  ModelKind kind = classify(*module, *entry);
  std::optional<std::string> residualize = options.residualize;
  if (residualize && kind != ModelKind::Plain)
    return makeError(options.inputPath + ": @" + entryName +
                     " is already residualized (it takes a stream state); "
                     "drop --residualize");
  if (options.dynamicBits && kind == ModelKind::Lowered)
    return makeError(options.inputPath + ": @" + entryName +
                     " is already lowered (resq-lower-stream ran); "
                     "--dynamic-bits cannot apply");
  // Dynamic bits act on residualized layers: a plain graph is residualized
  // with the default options first.
  if (options.dynamicBits && kind == ModelKind::Plain && !residualize)
    residualize = "";
  if (residualize || options.dynamicBits) {
    mlir::PassManager pm = mlir::PassManager::on<mlir::ModuleOp>(&context);
    std::string pipelineErrors;
    llvm::raw_string_ostream errs(pipelineErrors);
    if (residualize) {
      if (mlir::failed(mlir::parsePassPipeline(
              pipelineFor("resq-residualize", *residualize), pm, errs)))
        return makeError("bad --residualize=\"" + *residualize +
                         "\": " + oneLine(pipelineErrors));
      model.residualized = true;
      model.residualize = StringRef(*residualize).trim().str();
    }
    if (options.dynamicBits) {
      if (mlir::failed(mlir::parsePassPipeline(
              pipelineFor("resq-dynamic-bits", *options.dynamicBits), pm,
              errs)))
        return makeError("bad --dynamic-bits=\"" + *options.dynamicBits +
                         "\": " + oneLine(pipelineErrors));
      model.dynamicBitsApplied = true;
      model.dynamicBits = StringRef(*options.dynamicBits).trim().str();
    }
    if (mlir::failed(pm.run(*module)))
      return fail(
          options.inputPath + ": " +
          (residualize ? "resq-residualize" : "resq-dynamic-bits") +
          (residualize && options.dynamicBits ? " / resq-dynamic-bits" : "") +
          " failed");
  }
  report.transformSeconds = secondsSince(phase);

  // 2. The interface, before lowering erases the tensor types.
  auto func = module->lookupSymbol<mlir::func::FuncOp>(entryName);
  if (!func)
    return makeError("@" + entryName + " disappeared in the transformation");
  kind = classify(*module, func);
  model.stateful = kind != ModelKind::Plain;
  mlir::FunctionType type = func.getFunctionType();
  size_t numState = model.stateful ? 1 : 0;
  for (auto [i, argType] :
       llvm::enumerate(type.getInputs().drop_front(numState))) {
    auto info =
        toTensorInfo(argType, "input #" + llvm::Twine(i) + " of @" + entryName);
    if (!info)
      return info.takeError();
    info->name = takeTensorName(func, i + numState, /*result=*/false);
    model.inputs.push_back(std::move(*info));
    // The C API takes `const T *` inputs: bufferization must copy rather
    // than write into them.
    func.setArgAttr(i + numState, "bufferization.writable",
                    mlir::BoolAttr::get(&context, false));
  }
  for (auto [k, resultType] : llvm::enumerate(type.getResults())) {
    auto info = toTensorInfo(resultType,
                             "result #" + llvm::Twine(k) + " of @" + entryName);
    if (!info)
      return info.takeError();
    info->name = takeTensorName(func, k, /*result=*/true);
    model.outputs.push_back(std::move(*info));
  }
  func->setAttr(mlir::LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                mlir::UnitAttr::get(&context));
  std::optional<int64_t> loweredStateSize;
  if (kind == ModelKind::Lowered)
    loweredStateSize =
        llvm::cast<mlir::MemRefType>(type.getInput(0)).getNumElements();

  // 3. Lower to the LLVM dialect.
  phase = Clock::now();
  {
    mlir::PassManager pm = mlir::PassManager::on<mlir::ModuleOp>(&context);
    resq::ToLLVMOptions lowering;
    lowering.targetCpu = options.targetCpu;
    resq::buildResQToLLVMPipeline(pm, lowering);
    if (mlir::failed(pm.run(*module)))
      return fail(options.inputPath + ": lowering with resq-to-llvm failed");
  }
  report.lowerSeconds = secondsSince(phase);
  if (model.stateful) {
    if (llvm::Error e = readStreamLayout(*module, model))
      return std::move(e);
    if (loweredStateSize && *loweredStateSize != model.stateSize)
      return makeError("the state argument of @" + entryName + " has " +
                       llvm::Twine(*loweredStateSize) +
                       " bytes but resq.stream_layout says " +
                       llvm::Twine(model.stateSize));
  }
  // The C interface the header calls: void(state?, inputs..., outputs...),
  // every parameter a pointer to a descriptor.
  std::string ciface = "_mlir_ciface_" + entryName;
  auto llvmCiface = module->lookupSymbol<mlir::LLVM::LLVMFuncOp>(ciface);
  if (!llvmCiface || llvmCiface.isExternal())
    return makeError("the lowered module has no @" + ciface +
                     " (llvm.emit_c_interface was lost in the lowering)");
  mlir::LLVM::LLVMFunctionType cifaceType = llvmCiface.getFunctionType();
  size_t expected = numState + model.inputs.size() + model.outputs.size();
  if (!llvm::isa<mlir::LLVM::LLVMVoidType>(cifaceType.getReturnType()) ||
      cifaceType.getNumParams() != expected ||
      !llvm::all_of(cifaceType.getParams(), [](mlir::Type t) {
        return llvm::isa<mlir::LLVM::LLVMPointerType>(t);
      }))
    return makeError("@" + ciface +
                     " does not have the expected ABI "
                     "void(" +
                     (model.stateful ? "state*, " : "") +
                     llvm::Twine(model.inputs.size()) + " input*, " +
                     llvm::Twine(model.outputs.size()) +
                     " output*) after lowering");

  // 4. LLVM IR, optimization, object code.
  phase = Clock::now();
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(*module, llvmContext, options.name);
  if (!llvmModule)
    return fail("translation to LLVM IR failed");
  module = nullptr; // the MLIR module is no longer needed
  report.translateSeconds = secondsSince(phase);

  detail::BackendOptions backend;
  backend.name = options.name;
  backend.cpu = detail::resolveTargetCpu(options.targetCpu);
  backend.stepFunction = ciface;
  backend.stateSize = model.stateful ? model.stateSize : 0;
  backend.printIR = options.emitLLVM;
  backend.printUnoptimizedIR = options.emitUnoptimizedLLVM;
  backend.optLevel = options.optLevel;
  auto compiled = detail::runBackend(*llvmModule, backend);
  if (!compiled)
    return compiled.takeError();
  report.optimizeSeconds = compiled->optimizeSeconds;
  report.codegenSeconds = compiled->codegenSeconds;
  report.warnings = compiled->warnings;
  model.reentrant = compiled->reentrant;
  report.cpu = backend.cpu.name;
  report.vnni = resq::cpuHasAvx512Vnni(options.targetCpu);
  if (options.targetCpu == "native")
    model.targetCpu = "native (" + backend.cpu.name + ")";

  // 5. Files.
  phase = Clock::now();
  auto path = [&](const llvm::Twine &file) {
    llvm::SmallString<256> p(options.outputDir);
    llvm::sys::path::append(p, file);
    return std::string(p);
  };
  std::string objectPath = path(options.name + ".o");
  StringRef object(compiled->object.data(), compiled->object.size());
  if (llvm::Error e = writeFile(objectPath, object))
    return std::move(e);
  report.files.push_back(objectPath);
  std::string archivePath = path("lib" + options.name + ".a");
  if (llvm::Error e = detail::writeArchive(archivePath, options.name + ".o",
                                           compiled->object))
    return makeError(archivePath + ": " + llvm::toString(std::move(e)));
  report.files.push_back(archivePath);
  std::string headerPath = path(options.name + ".h");
  if (llvm::Error e = writeFile(headerPath, generateCHeader(model)))
    return std::move(e);
  report.files.push_back(headerPath);
  if (options.emitUnoptimizedLLVM) {
    std::string irPath = path(options.name + ".unoptimized.ll");
    if (llvm::Error e = writeFile(irPath, compiled->unoptimizedIR))
      return std::move(e);
    report.files.push_back(irPath);
  }
  if (options.emitLLVM) {
    std::string irPath = path(options.name + ".ll");
    if (llvm::Error e = writeFile(irPath, compiled->ir))
      return std::move(e);
    report.files.push_back(irPath);
  }
  report.writeSeconds = secondsSince(phase);
  if (!diagnostics.empty()) // warnings and remarks of a successful build
    report.warnings.push_back(StringRef(diagnostics).rtrim().str());
  report.totalSeconds = secondsSince(start);
  return std::move(report);
}
