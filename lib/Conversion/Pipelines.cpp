//===- Pipelines.cpp - the resq-to-llvm pipeline --------------------------===//

#include "resq/Conversion/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

void resq::buildResQToLLVMPipeline(OpPassManager &pm,
                                   const ToLLVMOptions &options) {
  // 1. Stream state layout and the residual kernels (vector dialect).
  ResQLowerStreamOptions lowerOptions;
  lowerOptions.targetCpu = options.targetCpu;
  lowerOptions.parallel = options.parallel;
  pm.addPass(createResQLowerStream(lowerOptions));
  // 2. The rest of the graph is standard TOSA: upstream's lowering, the same
  //    one that defines the standard int8 graph the tests compare against.
  //    Results become out-parameters so every step function has one ABI.
  std::string toBuffers =
      "func.func(tosa-optional-decompositions, tosa-to-linalg-named,"
      "  tosa-to-linalg, tosa-to-arith{include-apply-rescale=true},"
      // Float convolutions as vector loops, partial sums in registers.
      "  resq-float-conv,"
      "  tosa-to-tensor, convert-elementwise-to-linalg,"
      // One loop nest per chain of elementwise ops (quantize, dequantize,
      // activations): less memory traffic, and LLVM's loop passes scale
      // badly with the number of loop nests in one function (IndVarSimplify
      // took 30 s on the int8 selfie model without this, 3 s with it).
      "  linalg-fuse-elementwise-ops, resq-optimize-glue{target-cpu=" +
      options.targetCpu + (options.parallel ? " parallel=true" : "") + "}),"
      "one-shot-bufferize{bufferize-function-boundaries"
      "  function-boundary-type-conversion=identity-layout-map},"
      "buffer-results-to-out-params{modify-public-functions hoist-static-allocs},"
      // One allocation per step for its intermediate buffers.
      "resq-plan-scratch,"
      "buffer-deallocation-pipeline,"
      "resq-lower-intrinsics";
  // Loops: sequential, or with the outermost dimension of every loop nest
  // shared by OpenMP threads.
  static constexpr const char *kSequentialLoops =
      "resq-lower-copies,"
      "func.func(convert-linalg-to-loops, scf-forall-to-for)";
  static constexpr const char *kParallelLoops =
      "resq-lower-copies{parallel=true},"
      "func.func(convert-linalg-to-parallel-loops, scf-forall-to-parallel,"
      "  resq-outer-parallel-loops),"
      "convert-scf-to-openmp, resq-inline-alloca-scopes,"
      "func.func(resq-merge-parallel-regions)";
  static constexpr const char *kToLLVM =
      "convert-vector-to-scf,"
      "convert-bufferization-to-memref,"
      // Copies become loops around memcpy of contiguous runs, not calls of
      // the C runner utilities' element-by-element memrefCopy.
      "resq-lower-copies,"
      "expand-strided-metadata,"
      "lower-affine,"
      "convert-scf-to-cf,"
      "convert-vector-to-llvm,"
      "convert-openmp-to-llvm,"
      "convert-to-llvm,"
      "reconcile-unrealized-casts";
  std::string pipeline = toBuffers + "," +
                         (options.parallel ? kParallelLoops : kSequentialLoops) +
                         "," + kToLLVM;
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("resq-to-llvm: upstream passes not registered");
}

namespace {
struct PipelineOptions : public PassPipelineOptions<PipelineOptions> {
  Option<std::string> targetCpu{
      *this, "target-cpu",
      llvm::cl::desc("CPU to generate code for (LLVM name or 'native'); "
                     "VNNI is used when it has AVX-512 VNNI"),
      llvm::cl::init("x86-64")};
  Option<bool> parallel{
      *this, "parallel",
      llvm::cl::desc("Share the outermost loop of every loop nest (kernels "
                     "and glue) among OpenMP threads; the code then needs "
                     "the OpenMP runtime (libomp)"),
      llvm::cl::init(false)};
};
} // namespace

void resq::registerResQPipelines() {
  PassPipelineRegistration<PipelineOptions>(
      "resq-to-llvm",
      "Lower ResQ + TOSA (or plain int8 TOSA) to the LLVM dialect with "
      "vectorized residual kernels",
      [](OpPassManager &pm, const PipelineOptions &opts) {
        ToLLVMOptions options;
        options.targetCpu = opts.targetCpu;
        options.parallel = opts.parallel;
        buildResQToLLVMPipeline(pm, options);
      });
}
