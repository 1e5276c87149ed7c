//===- ResQOps.td - ResQ operations ------------------------*- tablegen -*-===//

#ifndef RESQ_OPS_TD
#define RESQ_OPS_TD

include "ResQ/IR/ResQBase.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class ResQ_Op<string mnemonic, list<Trait> traits = []>
    : Op<ResQ_Dialect, mnemonic, traits>;

def ResQ_Int8Tensor : RankedTensorOf<[I8]>;
def ResQ_Int32Tensor : RankedTensorOf<[I32]>;

//===----------------------------------------------------------------------===//
// Keyframe control
//===----------------------------------------------------------------------===//

def ResQ_BeginFrameOp : ResQ_Op<"begin_frame", [
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Start a frame of a stream and decide whether it is a keyframe";
  let description = [{
    Must come first in a step function, before any residualized layer.
    The frame is a keyframe when it is the first frame of the stream, when
    the caller asked for one (reset or forced keyframe), or when
    `keyframe_interval` K > 0 frames have passed since the last keyframe.
    Residualized layers read the decision from the stream state; a layer
    whose scene-cut rule fires turns the rest of the frame into a keyframe.

    Example:

    ```mlir
    resq.begin_frame %stream keyframe_interval 16
    ```
  }];
  let arguments = (ins ResQ_StreamType:$stream,
                       DefaultValuedAttr<I64Attr, "0">:$keyframe_interval);
  let assemblyFormat = [{
    $stream (`keyframe_interval` $keyframe_interval^)? attr-dict
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Residualized linear layers
//===----------------------------------------------------------------------===//

class ResQ_LinearOp<string mnemonic, list<Trait> traits = []>
    : ResQ_Op<mnemonic, !listconcat(traits, [
        MemoryEffects<[MemRead, MemWrite]>])> {
  let results = (outs ResQ_Int32Tensor:$accumulator);
  let hasVerifier = 1;

  code commonDescription = [{
    Operands: the stream, int8 input codes `X` with zero point `input_zp`,
    constant int8 weight codes `W` (zero point 0) and, where the op has one,
    an int32 bias `B`. The result is the int32 accumulator of the layer for
    this frame: `ACC(X)` on a keyframe, `ACC(R)` on a residual frame (the
    exactness invariant). A `tosa.rescale` turns it into int8 codes exactly
    as in the standard graph.

    `layer` names the layer's state and statistics; it is unique in the
    function. `residual` sets the step and allowed bit-widths.
  }];
}

def ResQ_Conv2DOp : ResQ_LinearOp<"conv2d"> {
  let summary = "Residualized 2-D convolution (TOSA conv2d semantics)";
  let description = !strconcat([{
    Input NHWC, weights OHWI, TOSA padding (top, bottom, left, right),
    stride and dilation.
  }], commonDescription, [{

    Example:

    ```mlir
    %acc = resq.conv2d "conv0" %stream, %x, %w, %b, %x_zp
        {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>,
         dilation = array<i64: 1, 1>}
        residual <step = 4, bits = [8]>
        : (tensor<1x16x16x8xi8>, tensor<16x3x3x8xi8>, tensor<16xi32>,
           tensor<1xi8>) -> tensor<1x16x16x16xi32>
    ```
  }]);
  let arguments = (ins ResQ_StreamType:$stream, ResQ_Int8Tensor:$input,
                       ResQ_Int8Tensor:$weight, ResQ_Int32Tensor:$bias,
                       ResQ_Int8Tensor:$input_zp,
                       DenseI64ArrayAttr:$pad, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$dilation,
                       StrAttr:$layer, ResQ_ResidualAttr:$residual);
  let assemblyFormat = [{
    $layer $stream `,` $input `,` $weight `,` $bias `,` $input_zp attr-dict
    `residual` $residual `:` `(` type($input) `,` type($weight) `,`
    type($bias) `,` type($input_zp) `)` `->` type($accumulator)
  }];
}

def ResQ_DepthwiseConv2DOp : ResQ_LinearOp<"depthwise_conv2d"> {
  let summary = "Residualized depthwise 2-D convolution";
  let description = !strconcat([{
    Input NHWC with C channels, weights KH x KW x C x M (channel multiplier
    M), output channel `c * M + m`; TOSA padding, stride and dilation.
  }], commonDescription, [{

    Example:

    ```mlir
    %acc = resq.depthwise_conv2d "dw1" %stream, %x, %w, %b, %x_zp
        {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 2, 2>,
         dilation = array<i64: 1, 1>}
        residual <step = 2, bits = [0, 2, 4, 8], block = 4, scene_cut = 0.5>
        : (tensor<1x16x16x8xi8>, tensor<3x3x8x1xi8>, tensor<8xi32>,
           tensor<1xi8>) -> tensor<1x8x8x8xi32>
    ```
  }]);
  let arguments = (ins ResQ_StreamType:$stream, ResQ_Int8Tensor:$input,
                       ResQ_Int8Tensor:$weight, ResQ_Int32Tensor:$bias,
                       ResQ_Int8Tensor:$input_zp,
                       DenseI64ArrayAttr:$pad, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$dilation,
                       StrAttr:$layer, ResQ_ResidualAttr:$residual);
  let assemblyFormat = [{
    $layer $stream `,` $input `,` $weight `,` $bias `,` $input_zp attr-dict
    `residual` $residual `:` `(` type($input) `,` type($weight) `,`
    type($bias) `,` type($input_zp) `)` `->` type($accumulator)
  }];
}

def ResQ_TransposeConv2DOp : ResQ_LinearOp<"transpose_conv2d"> {
  let summary = "Residualized transposed 2-D convolution";
  let description = !strconcat([{
    TOSA `transpose_conv2d` semantics: input pixel (iy, ix) and tap (ky, kx)
    feed output pixel (iy * stride_y + out_pad_top + ky,
    ix * stride_x + out_pad_left + kx); weights OHWI; `out_pad` is
    (top, bottom, left, right).
  }], commonDescription, [{

    Example:

    ```mlir
    %acc = resq.transpose_conv2d "up0" %stream, %x, %w, %b, %x_zp
        {out_pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>}
        residual <step = 4, bits = [8]>
        : (tensor<1x8x8x16xi8>, tensor<8x2x2x16xi8>, tensor<8xi32>,
           tensor<1xi8>) -> tensor<1x16x16x8xi32>
    ```
  }]);
  let arguments = (ins ResQ_StreamType:$stream, ResQ_Int8Tensor:$input,
                       ResQ_Int8Tensor:$weight, ResQ_Int32Tensor:$bias,
                       ResQ_Int8Tensor:$input_zp,
                       DenseI64ArrayAttr:$out_pad, DenseI64ArrayAttr:$stride,
                       StrAttr:$layer, ResQ_ResidualAttr:$residual);
  let assemblyFormat = [{
    $layer $stream `,` $input `,` $weight `,` $bias `,` $input_zp attr-dict
    `residual` $residual `:` `(` type($input) `,` type($weight) `,`
    type($bias) `,` type($input_zp) `)` `->` type($accumulator)
  }];
}

def ResQ_MatMulOp : ResQ_LinearOp<"matmul"> {
  let summary = "Residualized matrix product with constant weights";
  let description = !strconcat([{
    TOSA `matmul` semantics with a constant right-hand side: input N x H x C,
    weights N x C x W, result N x H x W, no bias (a fully-connected layer).
    Blocks run along H: a block is `block` consecutive rows.
  }], commonDescription, [{

    Example:

    ```mlir
    %acc = resq.matmul "fc0" %stream, %x, %w, %x_zp
        residual <step = 4, bits = [8]>
        : (tensor<1x4x64xi8>, tensor<1x64x10xi8>, tensor<1xi8>)
        -> tensor<1x4x10xi32>
    ```
  }]);
  let arguments = (ins ResQ_StreamType:$stream, ResQ_Int8Tensor:$input,
                       ResQ_Int8Tensor:$weight, ResQ_Int8Tensor:$input_zp,
                       StrAttr:$layer, ResQ_ResidualAttr:$residual);
  let assemblyFormat = [{
    $layer $stream `,` $input `,` $weight `,` $input_zp attr-dict
    `residual` $residual `:` `(` type($input) `,` type($weight) `,`
    type($input_zp) `)` `->` type($accumulator)
  }];
}

//===----------------------------------------------------------------------===//
// Kernel building blocks
//===----------------------------------------------------------------------===//

def ResQ_DotBytesOp : ResQ_Op<"dot_bytes", [Pure,
    AllTypesMatch<["acc", "result"]>, AllTypesMatch<["a", "b"]>]> {
  let summary = "16 int32 lanes += 4-byte dot products (AVX-512 VNNI)";
  let description = [{
    For each of the 16 int32 lanes `i`:
    `result[i] = acc[i] + sum_{j<4} unsigned(a[4i+j]) * signed(b[4i+j])`,
    the semantics of `vpdpbusd` on a 512-bit register. The residual kernels
    emit it when the target CPU has AVX-512 VNNI; `--resq-lower-intrinsics`
    turns it into `llvm.x86.avx512.vpdpbusd.512` once bufferization is done
    (upstream's buffer analyses do not accept raw LLVM intrinsic calls).

    Example:

    ```mlir
    %r = resq.dot_bytes %acc, %a, %b : vector<64xi8> -> vector<16xi32>
    ```
  }];
  let arguments = (ins VectorOfLengthAndType<[16], [I32]>:$acc,
                       VectorOfLengthAndType<[64], [I8]>:$a,
                       VectorOfLengthAndType<[64], [I8]>:$b);
  let results = (outs VectorOfLengthAndType<[16], [I32]>:$result);
  let assemblyFormat = [{
    $acc `,` $a `,` $b attr-dict `:` type($a) `->` type($result)
  }];
}

def ResQ_DotWordsOp : ResQ_Op<"dot_words", [Pure,
    AllTypesMatch<["acc", "result"]>, AllTypesMatch<["a", "b"]>]> {
  let summary = "16 int32 lanes += 2-word dot products (AVX-512 VNNI)";
  let description = [{
    For each of the 16 int32 lanes `i`:
    `result[i] = acc[i] + a[2i] * b[2i] + a[2i+1] * b[2i+1]` (signed 16-bit
    words), the semantics of `vpdpwssd` on a 512-bit register. The
    depthwise kernels emit it when the target CPU has AVX-512 VNNI: with
    the weights' upper words zero, each lane is one 16-bit product added to
    its accumulator in one instruction. `--resq-lower-intrinsics` turns it
    into `llvm.x86.avx512.vpdpwssd.512`.

    Example:

    ```mlir
    %r = resq.dot_words %acc, %a, %b : vector<32xi16> -> vector<16xi32>
    ```
  }];
  let arguments = (ins VectorOfLengthAndType<[16], [I32]>:$acc,
                       VectorOfLengthAndType<[32], [I16]>:$a,
                       VectorOfLengthAndType<[32], [I16]>:$b);
  let results = (outs VectorOfLengthAndType<[16], [I32]>:$result);
  let assemblyFormat = [{
    $acc `,` $a `,` $b attr-dict `:` type($a) `->` type($result)
  }];
}

def ResQ_RoundToIntOp : ResQ_Op<"round_to_int", [Pure]> {
  let summary = "16 f32 lanes rounded half to even into int32 (AVX-512)";
  let description = [{
    For each of the 16 lanes: the integer nearest to `x[i]`, ties to even,
    as int32, whatever the CPU's rounding mode; outside the range of int32
    (and for NaN) the result is INT32_MIN. The semantics of `vcvtps2dq`
    with embedded rounding `{rn-sae}` on a 512-bit register, one
    instruction where `math.roundeven` and `arith.fptosi` take two.
    `resq-optimize-glue` emits it in the requantization to int8 on CPUs
    with AVX-512; `--resq-lower-intrinsics` turns it into
    `llvm.x86.avx512.mask.cvtps2dq.512`.

    Example:

    ```mlir
    %i = resq.round_to_int %x : vector<16xf32> -> vector<16xi32>
    ```
  }];
  let arguments = (ins VectorOfLengthAndType<[16], [F32]>:$x);
  let results = (outs VectorOfLengthAndType<[16], [I32]>:$result);
  let assemblyFormat = [{
    $x attr-dict `:` type($x) `->` type($result)
  }];
}

#endif // RESQ_OPS_TD
