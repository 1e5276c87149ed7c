//===- Passes.td - ResQ graph transformations --------------*- tablegen -*-===//
//
// Keep alphabetical.
//
//===----------------------------------------------------------------------===//

#ifndef RESQ_TRANSFORMS_PASSES_TD
#define RESQ_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ResQDynamicBits : Pass<"resq-dynamic-bits", "::mlir::ModuleOp"> {
  let summary = "Choose residual bit-widths at run time, per frame and block";
  let description = [{
    Turns every residualized layer into Dynamic ResQ: instead of one static
    bit-width, the generated code picks for each frame and each spatial block
    of the layer's input the smallest width in `bit-set` that represents the
    block's rounded residual. Blocks that need 0 bits are skipped: no MACs,
    no accumulator writes. When more than `scene-cut` of a layer's blocks
    need the widest width, the frame becomes a keyframe from that layer on.
    By default only the first residualized layer applies that rule
    (`scene-cut-layers=all` makes every layer apply it), and never a layer
    with fewer than `scene-cut-min-blocks` blocks. With `dense-above` below
    1.0, a layer where more than that fraction of the blocks changed runs
    the frame densely on the keyframe path (`R <- X`, `A <- ACC(X)`), and so
    do the layers after it: where most of the input moved, dense int8 code
    costs less than residual code, and its result is the standard int8 one.
    Off by default: it is an extension of RESQ-SEMANTICS.md's residual frame.
    The residual step of each layer is kept, and so is `standard` (see
    resq-residualize): a standard layer checks no change, so it applies
    neither rule, and the first layer for `scene-cut-layers=first` is the
    first one that is not standard.

    Before:

    ```mlir
    %acc = resq.conv2d "conv0" %s, %x, %w, %b, %zp {...}
        residual <step = 4, bits = [8]> : (...) -> tensor<1x16x16x16xi32>
    ```

    After `--resq-dynamic-bits="bit-set=0,2,4,8 block=4 scene-cut=0.5"`:

    ```mlir
    %acc = resq.conv2d "conv0" %s, %x, %w, %b, %zp {...}
        residual <step = 4, bits = [0, 2, 4, 8], block = 4, scene_cut = 0.5>
        : (...) -> tensor<1x16x16x16xi32>
    ```
  }];
  let dependentDialects = ["::resq::ResQDialect"];
  let options = [
    ListOption<"bitSet", "bit-set", "int64_t",
               "Allowed bit-widths, from {0, 2, 3, ..., 9} (default 0,2,4,8)">,
    Option<"block", "block", "int64_t", "4",
           "Spatial block size in input pixels (block x block, all channels)">,
    Option<"sceneCut", "scene-cut", "double", "0.5",
           "Fraction of blocks needing the widest bit-width above which the "
           "frame becomes a keyframe (1.0 disables the rule)">,
    Option<"sceneCutLayers", "scene-cut-layers", "std::string", "\"first\"",
           "Which layers apply the scene-cut rule: 'first' (the first "
           "residualized layer, which sees the input: a scene change shows "
           "there, while deeper layers can change densely in ordinary "
           "motion) or 'all'">,
    Option<"sceneCutMinBlocks", "scene-cut-min-blocks", "int64_t", "64",
           "Layers with fewer blocks than this apply neither the scene-cut "
           "nor the dense-above rule: a handful of blocks (a squeeze-excite "
           "layer after a global pool has one) says nothing about the scene">,
    Option<"denseAbove", "dense-above", "double", "1.0",
           "Fraction of a layer's blocks with a non-zero width above which "
           "this layer and the later ones run the frame densely on the "
           "keyframe path (1.0 disables the rule)">,
  ];
}

def ResQResidualize : Pass<"resq-residualize", "::mlir::ModuleOp"> {
  let summary = "Rewrite a standard int8 TOSA graph into a residual graph";
  let description = [{
    Makes the function that holds the network's int8 linear layers a step
    function over a video stream: it gains a leading `!resq.stream` argument,
    starts with `resq.begin_frame`, and each int8 `tosa.conv2d`,
    `tosa.depthwise_conv2d`, `tosa.transpose_conv2d` and `tosa.matmul` with
    constant weights becomes its residualized `resq` form, which returns the
    layer's reconstructed int32 accumulator. Every other op stays and
    consumes the reconstructed accumulators unchanged.

    A layer's step is, in order of precedence: `layer-steps`, the layer's
    calibrated `resq.step` attribute, `step`. Its bit-width: `layer-bits`,
    then `bits`. Layers are named by their location name when they have one,
    else `<op>_<index>` in program order.

    A layer named in `standard-layers`, or whose calibrated `resq.changed`
    attribute (the share of its input pixels that changed from frame to
    frame on the calibration clip, recorded by `resq-quantize`) exceeds
    `standard-above`, becomes `standard`: it runs the standard int8 op on
    every frame and keeps no state, because where nearly every pixel
    changes the residual path skips nothing and costs more than dense code.

    Before:

    ```mlir
    func.func @main(%x: tensor<1x16x16x8xi8>) -> tensor<1x16x16x16xi8> {
      %acc = tosa.conv2d %x, %w, %b, %xzp, %wzp {...}
      %y = tosa.rescale %acc, ...
      return %y
    }
    ```

    After `--resq-residualize="step=4 bits=8"`:

    ```mlir
    func.func @main(%s: !resq.stream, %x: tensor<1x16x16x8xi8>)
        -> tensor<1x16x16x16xi8> {
      resq.begin_frame %s
      %acc = resq.conv2d "conv2d_0" %s, %x, %w, %b, %xzp {...}
          residual <step = 4, bits = [8]> : (...) -> tensor<1x16x16x16xi32>
      %y = tosa.rescale %acc, ...
      return %y
    }
    ```

    Errors, each with the op's location: a linear layer that is not int8,
    weights that are not constant or have a non-zero zero point, ops the
    residual graph does not support (named), bad option values.
  }];
  let dependentDialects = ["::resq::ResQDialect"];
  let options = [
    Option<"step", "step", "int64_t", "4",
           "Residual step for every layer without a calibrated or explicit one">,
    Option<"bits", "bits", "int64_t", "8",
           "Static residual bit-width, 2 to 9">,
    Option<"keyframeInterval", "keyframe-interval", "int64_t", "0",
           "Force a keyframe every K frames (0: only the first frame, resets "
           "and scene cuts)">,
    ListOption<"layerSteps", "layer-steps", "std::string",
               "Per-layer steps, as LAYER:STEP entries">,
    ListOption<"layerBits", "layer-bits", "std::string",
               "Per-layer bit-widths, as LAYER:BITS entries">,
    ListOption<"standardLayers", "standard-layers", "std::string",
               "Layers that run the standard int8 op on every frame and keep "
               "no state">,
    Option<"standardAbove", "standard-above", "double", "1.0",
           "Layers whose calibrated share of changed input pixels "
           "(resq.changed) is above this run the standard int8 op on every "
           "frame (1.0: none)">,
  ];
}

#endif // RESQ_TRANSFORMS_PASSES_TD
