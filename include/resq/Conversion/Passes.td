//===- Passes.td - ResQ lowering passes --------------------*- tablegen -*-===//

#ifndef RESQ_CONVERSION_PASSES_TD
#define RESQ_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// ResQToVector
//===----------------------------------------------------------------------===//

def ResQLowerStream : Pass<"resq-lower-stream", "::mlir::ModuleOp"> {
  let summary = "Lay out the stream state and lower ResQ ops to vector code";
  let description = [{
    Lays out the state of every residualized layer in one per-stream buffer
    and rewrites the step function's `!resq.stream` argument into
    `memref<Nxi8>`. The layout is recorded in the module attribute
    `resq.stream_layout` (offsets, shapes, statistics slots) for runners and
    generated C headers.

    Each `resq.begin_frame` becomes the keyframe decision on the state
    header; each residualized layer becomes loops over `scf`, `memref`,
    `arith` and `vector` ops: residual quantization with per-block bit-width
    selection, the update of `R`, and the linear op over the output rows
    whose taps read a changed block (densely within them: `Q` is 0 in
    unchanged blocks), accumulating into `A`. Dot products of int8 codes use AVX-512 VNNI
    (`llvm.x86.avx512.vpdpbusd.512`) when `target-cpu` has it, and portable
    16-lane int32 vector code otherwise. Weights are packed at compile time
    into the layout each path reads.

    All public functions get `llvm.emit_c_interface`, and the stream layout
    is frozen at this point: the step function's ABI is
    `step(state, inputs..., outputs...)` after `--resq-to-llvm`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"targetCpu", "target-cpu", "std::string", "\"x86-64\"",
           "CPU the code is generated for (an LLVM CPU name or 'native'); "
           "decides whether VNNI instructions are used">,
    Option<"parallel", "parallel", "bool", "false",
           "Emit the kernels' row loops as scf.parallel (threads share "
           "the rows)">,
  ];
}

def ResQLowerIntrinsics : Pass<"resq-lower-intrinsics", "::mlir::ModuleOp"> {
  let summary = "Turn ResQ kernel building blocks into LLVM intrinsics";
  let description = [{
    Rewrites `resq.dot_bytes` into `llvm.call_intrinsic
    "llvm.x86.avx512.vpdpbusd.512"`, `resq.dot_words` into
    `llvm.call_intrinsic "llvm.x86.avx512.vpdpwssd.512"` and
    `resq.round_to_int` into `llvm.call_intrinsic
    "llvm.x86.avx512.mask.cvtps2dq.512"` (all lanes, rounding to nearest
    even with exceptions suppressed). Runs after bufferization and buffer
    deallocation, which reject ops with unknown memory effects such as raw
    intrinsic calls.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def ResQOptimizeGlue : Pass<"resq-optimize-glue", "::mlir::func::FuncOp"> {
  let summary = "Faster loops for the float glue upstream's TOSA lowering "
                "leaves between linear layers";
  let description = [{
    Runs on linalg on tensors, after `tosa-to-linalg`:
    - a `linalg.pooling_nhwc_sum` whose window is its whole input (global
      average pooling) becomes loops over rows and columns that add one
      vector of channels (up to 64) per pixel to sums carried in registers,
      instead of one serial sum per channel striding through memory. Each
      channel is summed in the same order, so the results are identical.
      When its input is an elementwise generic that nothing else reads (a
      skip connection's sum), that generic's body runs in the pooling's
      loop on vectors of its inputs and its result is never stored.
    - what an elementwise generic computes from per-channel inputs alone
      (squeeze-excite's sigmoid of its scales and their dequantization,
      which upstream's elementwise fusion takes into the consumer, computed
      again at every pixel; LLVM cannot hoist it: its loads may alias the
      consumer's stores) is computed once per channel by a generic of its
      own into tables (at least four operations; whole-byte types only),
      which the consumer reads as per-channel inputs. Same operations,
      same results.
    - a stateless layer's accumulator (`resq-lower-stream` on a stream of
      keyframes or a `standard` layer: a `memref.alloc` filled by the
      kernel's vector writes, read through one `bufferization.to_tensor`)
      read by nothing but one elementwise generic of the pixel (the
      dequantization, activation and requantization after the layer):
      the generic's body runs on each vector where the kernel writes it,
      its other inputs read there (constants are cloned before the
      kernel; other values must be computed before it), and the kernel
      writes the generic's result instead of A, which is never stored.
      Same operations per element, same results.
    - a constant `tensor.pad` (padding sizes constant, as attributes or
      as constant operands) of an elementwise generic's result (or of a
      stateless layer's output as its kernel writes it, see above), which
      bufferization made a buffer filled whole and a copy into its
      interior, becomes the padded tensor with only its border filled,
      whose interior the generic (or the kernel) writes in place.
    - `math.exp` on f32 becomes upstream's polynomial approximation (no
      libm call per element, so the loop around it vectorizes); it is the
      sigmoid's cost. The result is within a few ulp of libm's `expf`.
    - on a `target-cpu` without SSE4.1 (plain x86-64), which has no
      rounding instruction, `math.roundeven` (every quantization to int8)
      and `math.floor` (resizing) on f32 become exact arithmetic:
      `copysign((|x| + 2^23) - 2^23, x)` for |x| < 2^23, `x` otherwise
      (adding 2^23 leaves no fraction bits; the FPU rounds half to even),
      and the floor from that. Same results, and the loops vectorize
      instead of calling libm per element.
    - an elementwise `linalg.generic` whose innermost dimension has at most
      128 elements (the channels of a layer, with per-channel scales)
      becomes loops over the outer dimensions around one vector op per
      pixel: LLVM's vectorizer leaves such loops scalar (under 16 channels)
      or vectorizes them across pixels with gathers and scatters. One whose
      operands are all indexed by the identity (no per-channel operand: a
      model's 3-channel input, its 1-channel output) becomes instead a
      generic over rows of N x H by W x C elements, a loop LLVM vectorizes.
      The same operations run per element, so the results are the same.
      With `parallel`, the loops are an `scf.forall`.
    - a generic that reads its input through `tensor.extract` at computed
      pixels (bilinear resizing: four neighbours per output pixel) becomes
      the same loops over output pixels around vector ops over the
      channels, its extracts contiguous vector reads (LLVM gathered and
      scattered). What its body computes from the output column alone
      (the resize's input columns and weights) goes into per-column tables
      that a generic of its own fills first. Same operations per element,
      same results.
    - last, the clamps (`arith.minimumf` / `maximumf`: ReLU, ReLU6, the
      requantization's [-128, 127]) of values proven finite: a bound on
      each value's magnitude follows from the ops that compute it
      (integers converted to float, finite constants and slices or reads of
      them, products, sums, roundings, other clamps). A clamp of two such
      values is marked `nnan`, and `nsz` where the sign of a zero cannot
      reach a result (only arithmetic follows it until a conversion to an
      integer or a comparison); on x86 each then is one vminps / vmaxps
      instead of a compare and blends for NaN and -0. A clamp to a
      constant beyond its operand's bound (ReLU's min with the largest
      float) is removed. Same results, bit for bit.
    - then, on a `target-cpu` with AVX-512, the requantization's rounding,
      clamp to [-128, 127] and conversion to int8 of such values
      (`math.roundeven`, `minimumf` 127, `maximumf` -128, `fptosi`: on x86
      vrndscaleps, vminps, vmaxps, vcvttps2dq, vpmovdb) on vectors of a
      multiple of 8 lanes becomes `minimumf` 127, `resq.round_to_int`
      per 16 lanes (8 in the lower half of one) and a saturating
      truncation (vminps, vcvtps2dq
      {rn-sae}, vpmovsdb): below -128 either way gives -128, and rounding
      commutes with the clamp at 127. Same results, bit for bit.
  }];
  let options = [
    Option<"targetCpu", "target-cpu", "std::string", "\"x86-64\"",
           "CPU the code is for (LLVM name or 'native')">,
    Option<"parallel", "parallel", "bool", "false",
           "Loops around narrow vector ops as scf.forall (for threads; "
           "scf-forall-to-parallel makes them scf.parallel) instead of scf.for">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect",
                           "::resq::ResQDialect"];
}

def ResQOuterParallelLoops
    : Pass<"resq-outer-parallel-loops", "::mlir::func::FuncOp"> {
  let summary = "Keep one parallel dimension per loop nest, the outermost "
                "one with work to share";
  let description = [{
    Prepares `scf.parallel` loops for `convert-scf-to-openmp`: in every
    outermost `scf.parallel`, the leading dimensions up to the first with a
    trip count above one stay parallel (the threads share its iterations);
    the other dimensions become nested `scf.for` loops, so that the
    innermost loop (channels, contiguous) stays a plain loop LLVM
    vectorizes. Loop nests with less than `min-iterations` iterations in
    all (the parallel dimensions times the largest nest of sequential loops
    inside them), `scf.parallel` nested in another, and loop nests in a
    loop of more than one iteration, become `scf.for` loops entirely: a
    fork costs more than they do. An `scf.for` marked `resq.fork_each` (a
    9-bit layer's rounds, each running the layer's rows) is the exception:
    the loop nests in it fork once per iteration. (An iteration of the
    glue is often a vector of channels, and after
    `resq-merge-parallel-regions` most loop nests share a fork; a
    sequential one there runs on one thread while the others wait, so the
    bar is low: 256.) The kernels' row loops of
    `resq-lower-stream` (marked `resq.rows`) stay parallel whenever they
    have two rows or more.
  }];
  let options = [
    Option<"minIterations", "min-iterations", "int64_t", "256",
           "Loop nests with fewer iterations in all stay sequential">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def ResQMergeParallelRegions
    : Pass<"resq-merge-parallel-regions", "::mlir::func::FuncOp"> {
  let summary = "One OpenMP fork for every run of parallel loop nests";
  let description = [{
    `convert-scf-to-openmp` gives every parallel loop nest an `omp.parallel`
    of its own: a fork and a join per loop nest, a few hundred per step of a
    real model, each costing microseconds on two threads. This pass merges
    consecutive `omp.parallel` regions of a block into one, their
    `omp.wsloop`s in order: the barrier at the end of each worksharing loop
    keeps the loops ordered as before. Between two regions, operations
    without memory effects move in front of the merged region; the others
    (statistics stores, sequential loops) run in an `omp.single`, whose
    barrier keeps them ordered with the loops around them. A region with
    anything but one `omp.wsloop` (and operations without memory effects),
    and an operation between regions whose results are needed outside that
    `omp.single`, end the run. `scf.for` loops of a single iteration around
    a region are inlined first.
  }];
  let dependentDialects = ["::mlir::omp::OpenMPDialect"];
}

def ResQInlineAllocaScopes
    : Pass<"resq-inline-alloca-scopes", "::mlir::ModuleOp"> {
  let summary = "Drop the memref.alloca_scope convert-scf-to-openmp puts "
                "around loop bodies that allocate nothing";
  let description = [{
    A `memref.alloca_scope` region must stay one block, so `scf.if` inside
    it cannot become branches. The scopes `convert-scf-to-openmp` wraps
    around parallel loop bodies hold no `memref.alloca` in the code
    `resq-to-llvm` lowers; their bodies move into the enclosing block.
    Scopes with an `memref.alloca` of their own are kept.
  }];
}

def ResQPlanScratch : Pass<"resq-plan-scratch", "::mlir::ModuleOp"> {
  let summary = "Place a function's intermediate buffers in one scratch "
                "allocation";
  let description = [{
    Runs after bufferization, before buffer deallocation. Every
    `memref.alloc` of static shape at the top level of a function (the
    intermediate tensors of one step) becomes a `memref.view` into one
    scratch `memref.alloc` at the start of the function: a step makes one
    allocation instead of dozens. Buffers whose live ranges (from the
    allocation to the last use of any alias, in program order) overlap get
    disjoint bytes; the others share them, larger buffers placed first, each
    at the lowest 64-byte aligned offset that fits.

    Many allocations per step made every frame pay `malloc`/`free` and, for
    blocks above glibc's mmap threshold, page faults on fresh memory; one
    block of the same size every step is what glibc's allocator keeps for
    reuse. The scratch stays a separate allocation rather than a region of
    the stream state: LLVM then knows it does not alias the state, and keeps
    the glue's loops vectorized without runtime overlap checks.

    A step function's scratch size is recorded in `resq.stream_layout`
    (`scratch_size`) for runners and generated headers to report.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def ResQLowerCopies : Pass<"resq-lower-copies", "::mlir::ModuleOp"> {
  let summary = "Lower memref.copy to loops around contiguous runs";
  let description = [{
    Runs after bufferization. A `memref.copy` whose two sides are views of
    the same buffer with the same offsets, sizes and strides is erased. Any
    other copy that does not have the identity layout on both sides becomes
    `scf.for` loops over its outer dimensions around a copy of the longest
    run of elements that is contiguous in both memrefs (a 1-D view of each
    side, which the LLVM lowering turns into a memcpy); when even the
    innermost dimension is strided, the loops move one element at a time.

    Upstream lowers such copies to calls of `memrefCopy` from the C runner
    utilities, which moves one element per iteration of a generic loop: on
    pose_landmark_lite the copies that fill its padded tensors took 1.8 ms
    of a 10.8 ms step that way. Generated code then needs no runtime
    library for copies.

    A copy into the interior of a buffer (a subview of a `memref.alloc`)
    that a `linalg.fill`, or the `linalg.map` of one value a
    bufferized `tensor.pad` becomes, fills whole just before (nothing else
    touching it in between) narrows that fill to the border: per
    dimension, the slabs below and above the interior, within the interior
    of the dimensions before it. The interior is written once, not twice
    (pose's float layers filled 7.5 MB per step of which the copies
    overwrote most). It runs before the linalg ops become loops.

    With `parallel`, a copy of 256 KiB or more has its outer loops as one
    `scf.parallel` marked `resq.rows`, so that threads share it (the pads
    of a float layer's input are otherwise serial work between parallel
    layers).
  }];
  let options = [
    Option<"parallel", "parallel", "bool", "false",
           "Share the outer loops of large copies among threads">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def ResQFloatConv : Pass<"resq-float-conv", "::mlir::func::FuncOp"> {
  let summary = "Float convolutions as vector loops, same sums";
  let description = [{
    Rewrites a float32 `linalg.conv_2d_nhwc_fhwc` with a constant filter,
    and a float32 `linalg.depthwise_conv_2d_nhwc_hwcm` with channel
    multiplier 1, into vector loops: threads share output rows
    (`scf.forall`); per pixel, the partial sums are vectors over output
    channels (width: the largest divisor of the channel count up to 16)
    carried as loop values. A conv2d keeps up to 4 such vectors per pixel
    and multiplies each input value, broadcast, with a row of the filter,
    transposed at compile time to KH x KW x C x F; a depthwise conv
    multiplies a vector of inputs with one of weights per tap.

    Upstream's loops keep the sums in memory; inside a whole model, whose
    buffers are views of one scratch allocation, LLVM cannot keep them in
    registers or vectorize them, so they stay scalar. Each output element
    sums the same products in the same order as the named op (its initial
    value, then kernel rows, columns and input channels), so the results
    are bit for bit upstream's. Float layers are the float reference model
    and the layers a mixed-precision model keeps in float: pose_landmark_lite
    with 12 float layers 17.9 -> 8.5 ms per frame, its float model 52.4 ->
    13.5 ms (JIT, 200 vtest frames, outputs bit-identical).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // RESQ_CONVERSION_PASSES_TD
