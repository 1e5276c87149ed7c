//===- Session.cpp - JIT-compile and run a ResQ step function -------------===//
//
// The only file of the runtime that sees MLIR: parsing, the resq-to-llvm
// pipeline, the ExecutionEngine and the C ABI of the compiled step function.
//
//===----------------------------------------------------------------------===//

#include "resq/Runtime/Session.h"
#include "resq/Conversion/StepFunction.h"

#include "ResQ/IR/ResQ.h"
#include "resq/Conversion/Passes.h"
#include "resq/InitResQ.h"
#include "resq/Support/OutlineLoops.h"
#include "resq/Support/VectorWidth.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/X86TargetParser.h"

#include <chrono>
#include <malloc.h>
#include <cstring>
#include <functional>
#include <mutex>

using namespace resq;
using namespace resq::runtime;
using llvm::StringRef;

/// The OpenMP runtime parallel step functions call.
static constexpr const char *kOpenMPRuntime = "/usr/lib/llvm-22/lib/libomp.so";

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 message.str());
}

void resq::runtime::reuseLargeAllocations() {
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
}

//===----------------------------------------------------------------------===//
// AlignedBuffer, LayerStats, Stream
//===----------------------------------------------------------------------===//

AlignedBuffer::AlignedBuffer(size_t size) : bytes(size) {
  // aligned_alloc wants a multiple of the alignment and may return null for 0.
  size_t rounded = std::max<size_t>(llvm::alignTo(size, kAlignment), kAlignment);
  ptr.reset(static_cast<uint8_t *>(std::aligned_alloc(kAlignment, rounded)));
  if (!ptr)
    llvm::report_bad_alloc_error("resq: cannot allocate an aligned buffer");
  std::memset(ptr.get(), 0, rounded);
}

void AlignedBuffer::clear() {
  if (ptr)
    std::memset(ptr.get(), 0, bytes);
}

double LayerStats::meanBits() const {
  if (!blocks)
    return 0.0;
  int64_t sum = 0;
  for (size_t b = 0; b < bits.size(); ++b)
    sum += int64_t(b) * bits[b];
  return double(sum) / double(blocks);
}

Stream::Stream(std::shared_ptr<const StreamLayout> layout)
    : layoutPtr(std::move(layout)),
      buffer(static_cast<size_t>(layoutPtr->size)) {}

int64_t Stream::loadI64(int64_t byteOffset) const {
  // Offsets were validated against the buffer size when the layout was read;
  // memcpy because the lowering need not align them.
  int64_t value;
  std::memcpy(&value, buffer.data() + byteOffset, sizeof(value));
  return value;
}

int64_t Stream::header(StreamHeader field) const {
  if (buffer.size() < static_cast<size_t>(kStreamHeaderBytes))
    return 0; // stateless module: no header
  return loadI64(int64_t(field) * int64_t(sizeof(int64_t)));
}

void Stream::forceKeyframe() {
  if (buffer.size() < static_cast<size_t>(kStreamHeaderBytes))
    return;
  int64_t one = 1;
  std::memcpy(buffer.data() +
                  int64_t(StreamHeader::ForceKeyframe) * sizeof(int64_t),
              &one, sizeof(one));
}

LayerStats Stream::stats(size_t layer) const {
  const LayerLayout &l = layoutPtr->layers[layer];
  auto slot = [&](int64_t i) { return loadI64(l.statsOffset + 8 * i); };
  LayerStats s;
  s.keyframe = slot(kStatKeyframe) != 0;
  s.sceneCut = slot(kStatSceneCut) != 0;
  for (int64_t b = 0; b <= kMaxBitWidth; ++b)
    s.bits[b] = slot(kStatHist + b);
  s.blocks = slot(kStatBlocks);
  s.macs = slot(kStatMacs);
  s.bops = slot(kStatBops);
  return s;
}

LayerStats Stream::totals() const {
  LayerStats total;
  for (size_t l = 0; l < numLayers(); ++l) {
    LayerStats s = stats(l);
    total.keyframe |= s.keyframe;
    total.sceneCut |= s.sceneCut;
    for (size_t b = 0; b < s.bits.size(); ++b)
      total.bits[b] += s.bits[b];
    total.blocks += s.blocks;
    total.macs += s.macs;
    total.bops += s.bops;
  }
  return total;
}

npy::Array Stream::reconstructedInput(size_t layer) const {
  const LayerLayout &l = layoutPtr->layers[layer];
  if (!l.keepsState())
    return npy::Array(npy::DType::Int16, {0});
  std::vector<int64_t> shape(l.rShape.begin(), l.rShape.end());
  int64_t padded = shape.back();
  shape.back() = l.inChannels;
  npy::Array r(npy::DType::Int16, shape);
  // Copy the real channels of every pixel, dropping the padding.
  int64_t rows = npy::numElements(shape) / std::max<int64_t>(l.inChannels, 1);
  const uint8_t *src = buffer.data() + l.rOffset;
  auto *dst = reinterpret_cast<int16_t *>(r.data.data());
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t c = 0; c < l.inChannels; ++c) {
      int64_t at = row * padded + c;
      int16_t v;
      if (l.rBytes == 1)
        v = static_cast<int8_t>(src[at]);
      else
        std::memcpy(&v, src + at * sizeof(int16_t), sizeof(int16_t));
      dst[row * l.inChannels + c] = v;
    }
  return r;
}

npy::Array Stream::accumulator(size_t layer) const {
  const LayerLayout &l = layoutPtr->layers[layer];
  if (!l.keepsState())
    return npy::Array(npy::DType::Int32, {0});
  npy::Array a(npy::DType::Int32, l.aShape);
  std::memcpy(a.data.data(), buffer.data() + l.aOffset, a.byteSize());
  return a;
}

//===----------------------------------------------------------------------===//
// Reading the module
//===----------------------------------------------------------------------===//

namespace {

/// The tensor element types that have an .npy counterpart.
std::optional<npy::DType> toDType(mlir::Type type) {
  if (auto i = llvm::dyn_cast<mlir::IntegerType>(type)) {
    bool isUnsigned = i.isUnsigned();
    switch (i.getWidth()) {
    case 8:
      return isUnsigned ? npy::DType::UInt8 : npy::DType::Int8;
    case 16:
      return isUnsigned ? std::nullopt : std::optional(npy::DType::Int16);
    case 32:
      return isUnsigned ? std::nullopt : std::optional(npy::DType::Int32);
    case 64:
      return isUnsigned ? std::nullopt : std::optional(npy::DType::Int64);
    default:
      return std::nullopt;
    }
  }
  if (type.isF32())
    return npy::DType::Float32;
  return std::nullopt;
}

std::string typeToString(mlir::Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

llvm::Expected<TensorSpec> toTensorSpec(mlir::Type type,
                                        const llvm::Twine &what) {
  auto tensor = llvm::dyn_cast<mlir::RankedTensorType>(type);
  std::optional<npy::DType> dtype =
      tensor ? toDType(tensor.getElementType()) : std::nullopt;
  if (!tensor || !tensor.hasStaticShape() || !dtype)
    return makeError(what + " has type " + typeToString(type) +
                     "; only statically shaped tensors of i8, ui8, i16, i32, "
                     "i64 or f32 can be fed from and written to .npy files");
  TensorSpec spec;
  spec.dtype = *dtype;
  spec.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  spec.mlirType = typeToString(type);
  return spec;
}

llvm::Expected<int64_t> getInt(mlir::DictionaryAttr dict, StringRef key,
                               const llvm::Twine &where) {
  auto attr = llvm::dyn_cast_or_null<mlir::IntegerAttr>(dict.get(key));
  if (!attr)
    return makeError(where + ": missing integer '" + key + "'");
  return attr.getInt();
}

llvm::Expected<std::vector<int64_t>>
getShape(mlir::DictionaryAttr dict, StringRef key, const llvm::Twine &where) {
  mlir::Attribute attr = dict.get(key);
  std::vector<int64_t> shape;
  if (auto dense = llvm::dyn_cast_or_null<mlir::DenseI64ArrayAttr>(attr)) {
    shape.assign(dense.asArrayRef().begin(), dense.asArrayRef().end());
  } else if (auto array = llvm::dyn_cast_or_null<mlir::ArrayAttr>(attr)) {
    for (mlir::Attribute e : array) {
      auto i = llvm::dyn_cast<mlir::IntegerAttr>(e);
      if (!i)
        return makeError(where + ": '" + key + "' is not a list of integers");
      shape.push_back(i.getInt());
    }
  } else {
    return makeError(where + ": missing shape '" + key + "'");
  }
  if (shape.empty() || llvm::any_of(shape, [](int64_t d) { return d < 0; }))
    return makeError(where + ": invalid shape '" + key + "'");
  return shape;
}

llvm::Expected<std::string> getString(mlir::DictionaryAttr dict, StringRef key,
                                      const llvm::Twine &where) {
  auto attr = llvm::dyn_cast_or_null<mlir::StringAttr>(dict.get(key));
  if (!attr)
    return makeError(where + ": missing string '" + key + "'");
  return attr.str();
}

/// Reads `resq.stream_layout` and checks that everything it points to lies
/// inside the buffer, so that reading statistics and state can never go
/// out of bounds.
llvm::Expected<StreamLayout> readStreamLayout(mlir::ModuleOp module) {
  auto dict = module->getAttrOfType<mlir::DictionaryAttr>(kStreamLayoutAttr);
  if (!dict)
    return makeError(
        llvm::Twine("the step function is stateful but the lowered module has "
                    "no '") +
        kStreamLayoutAttr + "' dictionary (the lowering must record it)");
  std::string where = kStreamLayoutAttr.str();
  StreamLayout layout;
  auto size = getInt(dict, "size", where);
  if (!size)
    return size.takeError();
  layout.size = *size;
  if (layout.size < kStreamHeaderBytes)
    return makeError(where + ": size " + llvm::Twine(layout.size) +
                     " is smaller than the " + llvm::Twine(kStreamHeaderBytes) +
                     "-byte header");
  if (auto scratch =
          llvm::dyn_cast_or_null<mlir::IntegerAttr>(dict.get("scratch_size")))
    layout.scratchSize = scratch.getInt();
  if (layout.scratchSize < 0)
    return makeError(where + ": negative scratch_size " +
                     llvm::Twine(layout.scratchSize));
  auto layers = llvm::dyn_cast_or_null<mlir::ArrayAttr>(dict.get("layers"));
  if (!layers)
    return makeError(where + ": missing list 'layers'");

  auto checkRange = [&](int64_t offset, int64_t bytes,
                        const llvm::Twine &what) -> llvm::Error {
    if (offset < 0 || bytes < 0 || offset > layout.size ||
        bytes > layout.size - offset)
      return makeError(what + " (bytes " + llvm::Twine(offset) + ".." +
                       llvm::Twine(offset + bytes) +
                       ") lies outside the state of " +
                       llvm::Twine(layout.size) + " bytes");
    return llvm::Error::success();
  };

  for (auto [index, attr] : llvm::enumerate(layers)) {
    auto entry = llvm::dyn_cast<mlir::DictionaryAttr>(attr);
    std::string at = where + ".layers[" + std::to_string(index) + "]";
    if (!entry)
      return makeError(at + " is not a dictionary");
    LayerLayout l;
    auto name = getString(entry, "name", at);
    if (!name)
      return name.takeError();
    l.name = *name;
    at += " (" + l.name + ")";
    auto kind = getString(entry, "kind", at);
    auto stats = getInt(entry, "stats", at);
    auto r = getInt(entry, "r", at);
    auto a = getInt(entry, "a", at);
    auto blocks = getInt(entry, "blocks", at);
    auto inChannels = getInt(entry, "in_channels", at);
    auto rShape = getShape(entry, "r_shape", at);
    auto aShape = getShape(entry, "a_shape", at);
    if (llvm::Error e = llvm::joinErrors(
            llvm::joinErrors(
                llvm::joinErrors(kind.takeError(), stats.takeError()),
                llvm::joinErrors(r.takeError(), a.takeError())),
            llvm::joinErrors(
                llvm::joinErrors(blocks.takeError(), inChannels.takeError()),
                llvm::joinErrors(rShape.takeError(), aShape.takeError()))))
      return std::move(e);
    l.kind = *kind;
    l.statsOffset = *stats;
    l.rOffset = *r;
    l.aOffset = *a;
    l.blocks = *blocks;
    l.inChannels = *inChannels;
    l.rShape = std::move(*rShape);
    l.aShape = std::move(*aShape);
    // r_bytes: 1 (int8 R, a step-1 layer) or 2; absent in older modules.
    if (auto rBytes = getInt(entry, "r_bytes", at))
      l.rBytes = *rBytes;
    else
      llvm::consumeError(rBytes.takeError());
    if (l.rBytes != 1 && l.rBytes != 2)
      return makeError(at + ": r_bytes must be 1 or 2, got " +
                       llvm::Twine(l.rBytes));
    if (l.inChannels < 0 || l.inChannels > l.rShape.back())
      return makeError(at + ": in_channels " + llvm::Twine(l.inChannels) +
                       " exceeds the padded channel count " +
                       llvm::Twine(l.rShape.back()));
    if (auto e = checkRange(l.statsOffset, kStatSlots * 8,
                            at + ": the statistics"))
      return std::move(e);
    // -1 for both: a keyframe-only stream keeps no R and no A.
    bool stateless = l.rOffset == -1 && l.aOffset == -1;
    if (!stateless) {
      if (auto e = checkRange(l.rOffset,
                              npy::numElements(l.rShape) * l.rBytes,
                              at + ": R"))
        return std::move(e);
      if (auto e = checkRange(l.aOffset, npy::numElements(l.aShape) * 4,
                              at + ": A"))
        return std::move(e);
    }
    layout.layers.push_back(std::move(l));
  }
  return layout;
}

/// Rejects CPU names LLVM does not know, and CPUs whose VNNI kernels or
/// AVX-512 conversions (resq.round_to_int) this machine could not execute
/// (that would end in SIGILL or a failed instruction selection, not an
/// error).
llvm::Error checkTargetCpu(StringRef cpu) {
  if (cpu == "native")
    return llvm::Error::success();
  if (llvm::X86::parseArchX86(cpu) == llvm::X86::CK_None)
    return makeError("unknown target CPU '" + cpu +
                     "' (use an LLVM x86 CPU name such as x86-64, "
                     "skylake-avx512, icelake-server, sapphirerapids, or "
                     "'native')");
  if (resq::cpuHasAvx512Vnni(cpu) && !resq::cpuHasAvx512Vnni("native"))
    return makeError("target CPU '" + cpu +
                     "' has AVX-512 VNNI but this machine does not; the "
                     "generated code could not run here");
  if (resq::cpuHasFeature(cpu, "avx512f") &&
      !resq::cpuHasFeature("native", "avx512f"))
    return makeError("target CPU '" + cpu +
                     "' has AVX-512 but this machine does not; the "
                     "generated code could not run here");
  return llvm::Error::success();
}

void initializeOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    // The pipeline is partly built from textual pass names, which must be
    // registered.
    resq::registerAllPasses();
  });
}

/// Words of a ranked memref descriptor:
/// {allocated, aligned, offset, sizes[rank], strides[rank]}.
size_t descriptorWords(size_t rank) { return 3 + 2 * rank; }

/// A descriptor of a contiguous row-major buffer with null pointers.
std::vector<int64_t> descriptorTemplate(llvm::ArrayRef<int64_t> shape) {
  std::vector<int64_t> d(descriptorWords(shape.size()), 0);
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    d[3 + i] = shape[i];
    d[3 + shape.size() + i] = stride;
    stride *= shape[i];
  }
  return d;
}

void setPointers(std::vector<int64_t> &descriptor, const void *data) {
  auto word = static_cast<int64_t>(reinterpret_cast<uintptr_t>(data));
  descriptor[0] = word;
  descriptor[1] = word;
}

} // namespace

//===----------------------------------------------------------------------===//
// Session
//===----------------------------------------------------------------------===//

struct Session::Impl {
  // Declaration order matters: the engine refers to the transformer (a
  // function_ref) and the transformer to the target machine, so they must
  // outlive it.
  std::unique_ptr<llvm::TargetMachine> targetMachine;
  std::function<llvm::Error(llvm::Module *)> transformer;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  /// The packed wrapper of `_mlir_ciface_<entry>`: takes an array of
  /// pointers to the arguments.
  void (*packed)(void **) = nullptr;
  /// Descriptor templates (sizes and strides) of the state and of every input
  /// and output.
  std::vector<int64_t> stateTemplate;
  std::vector<std::vector<int64_t>> inputTemplates, outputTemplates;
  /// omp_set_num_threads and the count, for a parallel step function.
  void (*setThreads)(int) = nullptr;
  int threads = 1;
};

Session::Session() : impl(std::make_unique<Impl>()) {}
Session::~Session() = default;

llvm::Expected<std::unique_ptr<Session>>
Session::create(StringRef path, const SessionOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(path, /*IsText=*/true);
  if (!buffer)
    return makeError(path + ": cannot read: " + buffer.getError().message());
  return createFromSource((*buffer)->getBuffer(), path, options);
}

llvm::Expected<std::unique_ptr<Session>>
Session::createFromSource(StringRef source, StringRef bufferName,
                          const SessionOptions &options) {
  auto start = std::chrono::steady_clock::now();
  initializeOnce();
  if (llvm::Error e = checkTargetCpu(options.targetCpu))
    return std::move(e);

  mlir::DialectRegistry registry;
  resq::registerAllDialects(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerOpenMPDialectTranslation(registry);
  mlir::MLIRContext context(registry);
  // A failing pass would otherwise attach the whole module to its message.
  context.printOpOnDiagnostic(false);

  // Every diagnostic, from the parser to the JIT, is collected with its
  // source location and source line and becomes part of the error message.
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(source, bufferName), llvm::SMLoc());
  std::string diagnostics;
  llvm::raw_string_ostream diagStream(diagnostics);
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, diagStream);
  auto fail = [&](const llvm::Twine &message) {
    std::string text = message.str();
    if (!diagnostics.empty())
      text += ":\n" + StringRef(diagnostics).rtrim().str();
    return makeError(text);
  };

  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr,
                                            mlir::ParserConfig(&context));
  if (!module)
    return fail(bufferName + ": cannot parse the module");

  auto session = std::unique_ptr<Session>(new Session());
  Impl &impl = *session->impl;

  // The step function and its signature, before lowering erases the types.
  auto entry = resq::findStepFunction(*module, options.entry);
  if (!entry)
    return entry.takeError();
  mlir::func::FuncOp func = *entry;
  session->entryName = func.getSymName().str();
  mlir::FunctionType type = func.getFunctionType();
  llvm::ArrayRef<mlir::Type> argTypes = type.getInputs();
  std::optional<int64_t> loweredStateSize;
  if (!argTypes.empty() && llvm::isa<resq::StreamType>(argTypes.front())) {
    session->stateful = true;
  } else if (!argTypes.empty() &&
             resq::isLoweredStateArgument(*module, argTypes.front())) {
    session->stateful = true;
    loweredStateSize =
        llvm::cast<mlir::MemRefType>(argTypes.front()).getNumElements();
  }
  for (auto [i, argType] :
       llvm::enumerate(argTypes.drop_front(session->stateful ? 1 : 0))) {
    auto spec = toTensorSpec(argType, "input #" + llvm::Twine(i) + " of @" +
                                          session->entryName);
    if (!spec)
      return spec.takeError();
    session->inputSpecs.push_back(std::move(*spec));
  }
  for (auto [k, resultType] : llvm::enumerate(type.getResults())) {
    auto spec = toTensorSpec(resultType, "result #" + llvm::Twine(k) + " of @" +
                                             session->entryName);
    if (!spec)
      return spec.takeError();
    session->outputSpecs.push_back(std::move(*spec));
  }
  // The runner calls the C wrapper; the lowering should request it for every
  // public function already, this makes sure the entry has one.
  func->setAttr(mlir::LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                mlir::UnitAttr::get(&context));

  // Lower to the LLVM dialect.
  mlir::PassManager pm = mlir::PassManager::on<mlir::ModuleOp>(&context);
  resq::ToLLVMOptions lowering;
  lowering.targetCpu = options.targetCpu;
  lowering.parallel = options.threads > 1;
  resq::buildResQToLLVMPipeline(pm, lowering);
  if (mlir::failed(pm.run(*module)))
    return fail(bufferName + ": lowering with resq-to-llvm failed");

  // The state layout the lowering froze.
  if (session->stateful) {
    auto layout = readStreamLayout(*module);
    if (!layout)
      return layout.takeError();
    if (loweredStateSize && *loweredStateSize != layout->size)
      return makeError("the state argument of @" + session->entryName +
                       " has " + llvm::Twine(*loweredStateSize) +
                       " bytes but resq.stream_layout says " +
                       llvm::Twine(layout->size));
    session->layout = std::make_shared<StreamLayout>(std::move(*layout));
  } else {
    session->layout = std::make_shared<StreamLayout>();
  }

  // Check the ABI of the lowered step function before calling into it: a
  // mismatch would otherwise be a crash.
  std::string ciface = "_mlir_ciface_" + session->entryName;
  auto llvmFunc = module->lookupSymbol<mlir::LLVM::LLVMFuncOp>(
      session->entryName);
  auto llvmCiface = module->lookupSymbol<mlir::LLVM::LLVMFuncOp>(ciface);
  if (!llvmFunc || !llvmCiface)
    return makeError("the lowered module has no @" + ciface +
                     " (llvm.emit_c_interface was lost in the lowering)");
  size_t numInputs = session->inputSpecs.size();
  size_t numOutputs = session->outputSpecs.size();
  size_t numState = session->stateful ? 1 : 0;
  if (!llvm::isa<mlir::LLVM::LLVMVoidType>(
          llvmFunc.getFunctionType().getReturnType()))
    return makeError("@" + session->entryName +
                     " still returns its results after lowering; the "
                     "pipeline must turn them into out-parameters "
                     "(buffer-results-to-out-params{modify-public-functions})");
  size_t expectedParams = numState + numInputs + numOutputs;
  size_t actualParams = llvmCiface.getFunctionType().getNumParams();
  if (actualParams != expectedParams)
    return makeError("@" + ciface + " takes " + llvm::Twine(actualParams) +
                     " parameters after lowering; expected " +
                     llvm::Twine(expectedParams) + " (" +
                     (session->stateful ? "state, " : "") +
                     llvm::Twine(numInputs) + " inputs, " +
                     llvm::Twine(numOutputs) + " outputs)");

  if (session->stateful)
    impl.stateTemplate = descriptorTemplate({session->layout->size});
  for (const TensorSpec &spec : session->inputSpecs)
    impl.inputTemplates.push_back(descriptorTemplate(spec.shape));
  for (const TensorSpec &spec : session->outputSpecs)
    impl.outputTemplates.push_back(descriptorTemplate(spec.shape));

  // JIT-compile for this machine (O2 by default). The optimizing
  // transformer gets the host's target machine so that LLVM's vectorizers
  // know the vector ISA (without one they assume a generic target).
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb)
    return jtmb.takeError();
  auto tm = jtmb->createTargetMachine();
  if (!tm)
    return tm.takeError();
  impl.targetMachine = std::move(*tm);
  auto optimizing = mlir::makeOptimizingTransformer(
      /*optLevel=*/std::min(options.optLevel, 3u), /*sizeLevel=*/0,
      impl.targetMachine.get());
  llvm::TargetMachine *hostTM = impl.targetMachine.get();
  impl.transformer = [optimizing, hostTM](llvm::Module *module) -> llvm::Error {
    // As resq-compile's backend does: the CPU on every function, and only
    // the C interface wrappers external.
    for (llvm::Function &f : module->functions())
      if (!f.isDeclaration()) {
        f.addFnAttr("target-cpu", hostTM->getTargetCPU());
        f.addFnAttr("target-features", hostTM->getTargetFeatureString());
        if (!f.getName().starts_with("_mlir_"))
          f.setLinkage(llvm::GlobalValue::InternalLinkage);
      }
    // Loops at the full vector width and a function per loop nest, as
    // resq-compile does.
    resq::preferFullVectorWidth(*module);
    resq::outlineLoopNests(*module);
    return optimizing(module);
  };
  // The lowered code needs no MLIR runtime library (resq-lower-copies), as
  // in resq-compile's objects; only threads need one.
  llvm::SmallVector<StringRef, 1> sharedLibs;
  if (options.threads > 1) {
    if (!llvm::sys::fs::exists(kOpenMPRuntime))
      return makeError(llvm::Twine("missing ") + kOpenMPRuntime +
                       " (package libomp-22-dev), needed for threads > 1");
    sharedLibs.push_back(kOpenMPRuntime);
  }
  mlir::ExecutionEngineOptions engineOptions;
  engineOptions.transformer = impl.transformer;
  engineOptions.jitCodeGenOptLevel =
      // The code generator as in resq-compile's objects.
      options.optLevel >= 2   ? llvm::CodeGenOptLevel::Aggressive
      : options.optLevel == 0 ? llvm::CodeGenOptLevel::None
                              : llvm::CodeGenOptLevel::Less;
  engineOptions.sharedLibPaths = sharedLibs;
  auto engine = mlir::ExecutionEngine::create(*module, engineOptions);
  if (!engine) {
    std::string message = llvm::toString(engine.takeError());
    return fail("JIT compilation failed: " + message);
  }
  impl.engine = std::move(*engine);
  impl.engine->initialize();
  auto packed = impl.engine->lookupPacked(ciface);
  if (!packed)
    return fail("JIT compilation failed: " +
                llvm::toString(packed.takeError()));
  impl.packed = *packed;
  if (options.threads > 1) {
    // The thread count is the calling thread's OpenMP setting: set before
    // every step, so sessions with different counts can share a process.
    impl.setThreads = reinterpret_cast<void (*)(int)>(
        llvm::sys::DynamicLibrary::SearchForAddressOfSymbol(
            "omp_set_num_threads"));
    if (!impl.setThreads)
      return fail("the OpenMP runtime has no omp_set_num_threads");
    impl.threads = int(options.threads);
  }

  if (!diagnostics.empty()) // warnings and remarks of a successful build
    llvm::errs() << diagnostics;
  session->compileTime = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - start)
                             .count();
  return std::move(session);
}

llvm::Error Session::step(Stream &stream, llvm::ArrayRef<const void *> inputs,
                          llvm::ArrayRef<void *> outputs) {
  if (stateful && stream.layoutPtr != layout)
    return makeError("the stream was created by another session");
  return call(stateful ? &stream : nullptr, inputs, outputs);
}

llvm::Error Session::step(llvm::ArrayRef<const void *> inputs,
                          llvm::ArrayRef<void *> outputs) {
  if (stateful)
    return makeError("@" + entryName + " is stateful: step it with a Stream");
  return call(nullptr, inputs, outputs);
}

llvm::Error Session::call(Stream *stream, llvm::ArrayRef<const void *> inputs,
                          llvm::ArrayRef<void *> outputs) {
  if (inputs.size() != inputSpecs.size() ||
      outputs.size() != outputSpecs.size())
    return makeError("@" + entryName + " takes " +
                     llvm::Twine(inputSpecs.size()) + " inputs and " +
                     llvm::Twine(outputSpecs.size()) + " outputs, got " +
                     llvm::Twine(inputs.size()) + " and " +
                     llvm::Twine(outputs.size()));
  Impl &im = *impl;
  if (im.setThreads)
    im.setThreads(im.threads);

  // The descriptors in ABI order: [state], inputs..., outputs...
  std::vector<std::vector<int64_t>> descriptors;
  if (stream) {
    descriptors.push_back(im.stateTemplate);
    setPointers(descriptors.back(), stream->data());
  }
  for (auto [i, input] : llvm::enumerate(inputs)) {
    descriptors.push_back(im.inputTemplates[i]);
    setPointers(descriptors.back(), input);
  }
  for (auto [k, output] : llvm::enumerate(outputs)) {
    descriptors.push_back(im.outputTemplates[k]);
    setPointers(descriptors.back(), output);
  }
  // Packed calling convention: args[i] points to the i-th argument, which
  // is itself a pointer to a descriptor.
  std::vector<void *> pointers;
  for (auto &d : descriptors)
    pointers.push_back(d.data());
  std::vector<void *> args;
  for (void *&p : pointers)
    args.push_back(&p);
  im.packed(args.data());
  return llvm::Error::success();
}
