//===- ResQBase.td - ResQ dialect, attributes and types ----*- tablegen -*-===//

#ifndef RESQ_BASE_TD
#define RESQ_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

def ResQ_Dialect : Dialect {
  let name = "resq";
  let cppNamespace = "::resq";
  let summary = "Residual quantization of linear layers over video frames";
  let description = [{
    The ResQ dialect expresses temporally stateful, residual-quantized
    execution of a standard int8 network (Abati et al., "ResQ: Residual
    Quantization for Video Perception", ICCV 2023).

    A function that carries a `!resq.stream` argument is a *step function*:
    it processes one frame of one video stream. Every residualized linear
    layer owns, per stream, a reconstructed input `R` (int16) and an int32
    accumulator `A`. On a keyframe the layer computes the standard int8
    accumulator and resets its state. On a residual frame it quantizes the
    residual `X - R` with a step `s` and a bit-width `b`, updates
    `R += s * Q` and `A += s * L(Q, W)`, and returns `A`. Because `L` is
    linear and all arithmetic is integer, `A == ACC(R)` after every frame:
    the output is bit-identical to the standard op applied to `R`.

    Only linear layers are residualized. Every other op (TOSA rescale, clamp,
    add, pooling, ...) stays as it is and consumes the reconstructed
    accumulators, so there is one definition of every non-linear op.

    With more than one allowed bit-width the layer chooses, per frame and per
    spatial block of its input, the smallest width that represents the
    block's residual (Dynamic ResQ); a 0-bit block does no work at all.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
    void registerTypes();
  }];
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

class ResQ_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<ResQ_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def ResQ_StreamType : ResQ_Type<"Stream", "stream"> {
  let summary = "Handle to the state of one video stream";
  let description = [{
    The per-stream state of a step function: the reconstructed inputs and
    accumulators of every residualized layer, the keyframe bookkeeping and
    the per-frame statistics. The compiler lays the state out in one buffer
    (`--resq-to-llvm` turns this type into `memref<Nxi8>`); a caller creates
    one zero-filled buffer per stream and passes it to every step of that
    stream, so streams never share state.

    Example:

    ```mlir
    func.func @main(%stream: !resq.stream, %frame: tensor<1x64x64x8xi8>) -> ...
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def ResQ_FractionParameter
    : AttrOrTypeParameter<"::llvm::APFloat", "a fraction in (0, 1]"> {
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
    double value;
    if ($_parser.parseFloat(value))
      return ::mlir::failure();
    return ::llvm::APFloat(value);
  }() }];
  let printer = [{ $_printer.getStream() << ::llvm::format("%g", $_self.convertToDouble()) }];
  let defaultValue = "::llvm::APFloat(1.0)";
}

class ResQ_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<ResQ_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def ResQ_ResidualAttr : ResQ_Attr<"Residual", "residual"> {
  let summary = "How a layer quantizes its input residual";
  let description = [{
    `step` is the residual step `s` (a positive integer, in input codes).
    `bits` lists the allowed bit-widths, each in {0, 2, 3, ..., 9}, strictly
    increasing. One entry is static ResQ: every block uses that width. More
    than one entry is Dynamic ResQ: per frame and per spatial block of
    `block` x `block` input pixels (all channels), the smallest width whose
    range `2^(b-1) - 1` holds the block's largest rounded residual is chosen,
    the largest one when none does (the residual then clamps). A 0-bit block
    is skipped. 9 bits hold any difference of two int8 codes, so a layer
    allowed 9 never clamps; the linear op takes 8-bit codes, and a 9-bit
    block runs in rounds: the first takes `Q` clamped to 8 bits, each next
    one quantizes again against the updated `R`, rounding half toward zero,
    while some block still needs more than 8 bits (with an odd step this is
    exactly the unclamped residual). When more than `scene_cut` of the blocks need the largest
    width, the frame becomes a keyframe from this layer on (`scene_cut = 1.0`
    disables the rule). When more than `dense_above` of the blocks need a
    non-zero width, this layer and every later one run the frame on the
    keyframe path (`R <- X`, `A <- ACC(X)`: dense int8, exact), because dense
    code is cheaper than residual code where most of the input changed; the
    frame stays a residual frame for the layers before (`dense_above = 1.0`
    disables the rule).

    `standard` makes the layer run the standard int8 op on every frame, like
    a keyframe, and keep no state (no `R`, no `A`): for a layer whose input
    changes nearly everywhere on every frame (calibration measures it), the
    residual path could skip nothing and would only add its passes and
    state traffic. Its output is the standard int8 one on the current input,
    as on the keyframe path; its statistics count every block at 8 bits.

    Examples:

    ```mlir
    #resq.residual<step = 4, bits = [8]>
    #resq.residual<step = 4, bits = [0, 2, 4, 8], block = 4, scene_cut = 0.5>
    #resq.residual<step = 1, bits = [0, 2, 4, 8], scene_cut = 0.5, dense_above = 0.5>
    #resq.residual<step = 1, bits = [0, 2, 4, 8], standard>
    ```
  }];
  let parameters = (ins
    "int64_t":$step,
    ArrayRefParameter<"int64_t", "allowed bit-widths">:$bits,
    DefaultValuedParameter<"int64_t", "1">:$block,
    ResQ_FractionParameter:$scene_cut,
    ResQ_FractionParameter:$dense_above,
    DefaultValuedParameter<"bool", "false">:$standard
  );
  // Custom: `block`, `scene_cut`, `dense_above` and `standard` are optional,
  // in this order.
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// True when the bit-width is chosen at run time (more than one width).
    bool isDynamic() const { return getBits().size() > 1; }
    /// The widest allowed bit-width.
    int64_t getMaxBits() const { return getBits().back(); }
    /// The scene-cut fraction as a double.
    double getSceneCutFraction() const {
      return getSceneCut().convertToDouble();
    }
    /// The dense-above fraction as a double.
    double getDenseAboveFraction() const {
      return getDenseAbove().convertToDouble();
    }
  }];
}

#endif // RESQ_BASE_TD
