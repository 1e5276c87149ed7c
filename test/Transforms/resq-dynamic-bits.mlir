// RUN: resq-opt %s --resq-dynamic-bits | FileCheck %s --check-prefix=DEFAULT
// RUN: resq-opt %s --resq-dynamic-bits="scene-cut-min-blocks=1 scene-cut-layers=all" | FileCheck %s --check-prefix=SMALL
// RUN: resq-opt %s --resq-dynamic-bits="scene-cut-min-blocks=1" | FileCheck %s --check-prefix=FIRST
// RUN: not resq-opt %s --resq-dynamic-bits="scene-cut-layers=some" 2>&1 | FileCheck %s --check-prefix=BADLAYERS
// RUN: resq-opt %s --resq-dynamic-bits="bit-set=0,2,3,4,5,6,7,8 block=1 scene-cut=1.0" | FileCheck %s --check-prefix=FULL
// RUN: resq-opt %s --resq-dynamic-bits="bit-set=8,0,4 block=8 scene-cut=0.25 scene-cut-min-blocks=1" | FileCheck %s --check-prefix=SORTED
// RUN: not resq-opt %s --resq-dynamic-bits="bit-set=0,1,8" 2>&1 | FileCheck %s --check-prefix=BADBITS
// RUN: not resq-opt %s --resq-dynamic-bits="block=0" 2>&1 | FileCheck %s --check-prefix=BADBLOCK
// RUN: not resq-opt %s --resq-dynamic-bits="scene-cut=0" 2>&1 | FileCheck %s --check-prefix=BADCUT
// RUN: resq-opt %s --resq-dynamic-bits="dense-above=0.5 scene-cut-min-blocks=1" | FileCheck %s --check-prefix=DENSE
// RUN: resq-opt %s --resq-dynamic-bits="dense-above=0.5 scene-cut-min-blocks=5" | FileCheck %s --check-prefix=DENSEBIG
// RUN: not resq-opt %s --resq-dynamic-bits="dense-above=1.5" 2>&1 | FileCheck %s --check-prefix=BADDENSE
// RUN: not resq-opt %t.does-not-exist.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: sed -e 's/step = 4, bits = \[8\]/step = 4, bits = [8], standard/' %s | resq-opt --resq-dynamic-bits="dense-above=0.5 scene-cut-min-blocks=1" | FileCheck %s --check-prefix=STANDARD

// Every residualized layer keeps its step and gets the run-time bit set.
// Layers this small (4 blocks) do not apply the scene-cut rule by default.
// DEFAULT: resq.conv2d "a" {{.*}} residual <step = 4, bits = [0, 2, 4, 8], block = 4>
// DEFAULT: resq.matmul "b" {{.*}} residual <step = 2, bits = [0, 2, 4, 8], block = 4>
// SMALL: resq.conv2d "a" {{.*}} residual <step = 4, bits = [0, 2, 4, 8], block = 4, scene_cut = 0.5>
// SMALL: resq.matmul "b" {{.*}} residual <step = 2, bits = [0, 2, 4, 8], block = 4, scene_cut = 0.5>
// By default only the first layer, which sees the input, applies the rule.
// FIRST: resq.conv2d "a" {{.*}} residual <step = 4, bits = [0, 2, 4, 8], block = 4, scene_cut = 0.5>
// FIRST: resq.matmul "b" {{.*}} residual <step = 2, bits = [0, 2, 4, 8], block = 4>
// BADLAYERS: error: resq-dynamic-bits: scene-cut-layers must be 'first' or 'all', got 'some'
// FULL: resq.conv2d "a" {{.*}} residual <step = 4, bits = [0, 2, 3, 4, 5, 6, 7, 8]>
// SORTED: resq.conv2d "a" {{.*}} residual <step = 4, bits = [0, 4, 8], block = 8, scene_cut = 0.25>
// BADBITS: error: resq-dynamic-bits: bit-width 1 is not allowed (allowed: 0, 2, 3, ..., 9)
// BADBLOCK: error: resq-dynamic-bits: block size must be positive, got 0
// BADCUT: error: resq-dynamic-bits: scene_cut must be in (0, 1], got 0
// Dense above applies to every layer with enough blocks (not only the first).
// DENSE: resq.conv2d "a" {{.*}} residual <step = 4, bits = [0, 2, 4, 8], block = 4, scene_cut = 0.5, dense_above = 0.5>
// DENSE: resq.matmul "b" {{.*}} residual <step = 2, bits = [0, 2, 4, 8], block = 4, dense_above = 0.5>
// DENSEBIG: resq.conv2d "a" {{.*}} residual <step = 4, bits = [0, 2, 4, 8], block = 4>
// DENSEBIG: resq.matmul "b" {{.*}} residual <step = 2, bits = [0, 2, 4, 8], block = 4>
// BADDENSE: error: resq-dynamic-bits: dense-above must be in (0, 1], got 1.5
// MISSING: cannot open input file
// A standard layer keeps `standard` and checks no change (no scene cut, no
// dense above); the scene cut of 'first' goes to the next layer.
// STANDARD: resq.conv2d "a" {{.*}} residual <step = 4, bits = [0, 2, 4, 8], block = 4, standard>
// STANDARD: resq.matmul "b" {{.*}} residual <step = 2, bits = [0, 2, 4, 8], block = 4, scene_cut = 0.5, dense_above = 0.5>

func.func @main(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %v: tensor<1x4x64xi8>) -> (tensor<1x8x8x8xi32>, tensor<1x4x10xi32>) {
  %w = "tosa.const"() {values = dense<1> : tensor<8x1x1x4xi8>} : () -> tensor<8x1x1x4xi8>
  %b = "tosa.const"() {values = dense<0> : tensor<8xi32>} : () -> tensor<8xi32>
  %zp = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %fw = "tosa.const"() {values = dense<1> : tensor<1x64x10xi8>} : () -> tensor<1x64x10xi8>
  resq.begin_frame %s
  %0 = resq.conv2d "a" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [8]>
      : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  %1 = resq.matmul "b" %s, %v, %fw, %zp residual <step = 2, bits = [8]>
      : (tensor<1x4x64xi8>, tensor<1x64x10xi8>, tensor<1xi8>) -> tensor<1x4x10xi32>
  return %0, %1 : tensor<1x8x8x8xi32>, tensor<1x4x10xi32>
}
