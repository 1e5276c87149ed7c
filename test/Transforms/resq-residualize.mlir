// RUN: resq-opt %s --resq-residualize | FileCheck %s
// RUN: resq-opt %s --resq-residualize="step=8 bits=4 keyframe-interval=30" | FileCheck %s --check-prefix=OPTS
// RUN: resq-opt %s --resq-residualize="layer-steps=stem:2 layer-bits=depthwise_conv2d_1:6" | FileCheck %s --check-prefix=LAYER
// RUN: resq-opt %s --resq-residualize="standard-layers=matmul_3" | FileCheck %s --check-prefix=STDLIST
// RUN: resq-opt %s --resq-residualize="standard-above=0.5" | FileCheck %s --check-prefix=STDABOVE
// RUN: resq-opt %s --resq-residualize="standard-above=0.95" | FileCheck %s --check-prefix=STDHIGH

// The function holding the int8 linear layers becomes a step function: a
// stream argument first, the keyframe decision, then each linear layer in
// its residual form; every other op is left as it was.

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[S:.*]]: !resq.stream, %[[X:.*]]: tensor<1x8x8x4xi8>) -> tensor<1x4x4x8xi8>
// CHECK: resq.begin_frame %[[S]]{{$}}
// CHECK: %[[C:.*]] = resq.conv2d "stem" %[[S]], %[[X]], {{.*}} residual <step = 4, bits = [8]>
// CHECK: %[[R:.*]] = tosa.rescale %[[C]]
// CHECK: %[[A:.*]] = tosa.clamp %[[R]]
// CHECK: %[[D:.*]] = resq.depthwise_conv2d "depthwise_conv2d_1" %[[S]], %[[A]], {{.*}} residual <step = 3, bits = [8]>
// CHECK: resq.transpose_conv2d "transpose_conv2d_2" %[[S]], {{.*}} residual <step = 4, bits = [8]>
// CHECK: resq.matmul "matmul_3" %[[S]], {{.*}} residual <step = 4, bits = [8]>
// CHECK-NOT: tosa.conv2d
// CHECK-NOT: tosa.depthwise_conv2d
// CHECK-NOT: tosa.transpose_conv2d
// CHECK-NOT: tosa.matmul

// OPTS: resq.begin_frame %{{.*}} keyframe_interval 30
// OPTS: resq.conv2d "stem" {{.*}} residual <step = 8, bits = [4]>
// The calibrated step of a layer wins over the pass option.
// OPTS: resq.depthwise_conv2d {{.*}} residual <step = 3, bits = [4]>

// LAYER: resq.conv2d "stem" {{.*}} residual <step = 2, bits = [8]>
// LAYER: resq.depthwise_conv2d "depthwise_conv2d_1" {{.*}} residual <step = 3, bits = [6]>
// LAYER: resq.transpose_conv2d {{.*}} residual <step = 4, bits = [8]>

// Standard layers: named, or whose calibrated share of changed input pixels
// (resq.changed; 0.9 for the depthwise layer, 0.2 for the transpose conv)
// is above standard-above.
// STDLIST: resq.conv2d "stem" {{.*}} residual <step = 4, bits = [8]>
// STDLIST: resq.depthwise_conv2d {{.*}} residual <step = 3, bits = [8]>
// STDLIST: resq.transpose_conv2d {{.*}} residual <step = 4, bits = [8]>
// STDLIST: resq.matmul "matmul_3" {{.*}} residual <step = 4, bits = [8], standard>
// STDABOVE: resq.conv2d "stem" {{.*}} residual <step = 4, bits = [8]>
// STDABOVE: resq.depthwise_conv2d {{.*}} residual <step = 3, bits = [8], standard>
// STDABOVE: resq.transpose_conv2d {{.*}} residual <step = 4, bits = [8]>
// STDABOVE: resq.matmul {{.*}} residual <step = 4, bits = [8]>
// STDHIGH-NOT: standard>

func.func @main(%x: tensor<1x8x8x4xi8>) -> tensor<1x4x4x8xi8> {
  %w0 = "tosa.const"() {values = dense<1> : tensor<8x3x3x4xi8>} : () -> tensor<8x3x3x4xi8>
  %b0 = "tosa.const"() {values = dense<0> : tensor<8xi32>} : () -> tensor<8xi32>
  %zp = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %c0 = tosa.conv2d %x, %w0, %b0, %zp, %zp {acc_type = i32, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x8x8x4xi8>, tensor<8x3x3x4xi8>, tensor<8xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x8x8x8xi32> loc("stem")
  %m = "tosa.const"() {values = dense<1073741824> : tensor<1xi32>} : () -> tensor<1xi32>
  %sh = "tosa.const"() {values = dense<36> : tensor<1xi8>} : () -> tensor<1xi8>
  %z32 = "tosa.const"() {values = dense<0> : tensor<1xi32>} : () -> tensor<1xi32>
  %r0 = tosa.rescale %c0, %m, %sh, %z32, %zp {scale32 = true, rounding_mode = DOUBLE_ROUND, per_channel = false, input_unsigned = false, output_unsigned = false} : (tensor<1x8x8x8xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi8>
  %a0 = tosa.clamp %r0 {min_val = 0 : i8, max_val = 127 : i8} : (tensor<1x8x8x8xi8>) -> tensor<1x8x8x8xi8>
  %w1 = "tosa.const"() {values = dense<2> : tensor<3x3x8x1xi8>} : () -> tensor<3x3x8x1xi8>
  %c1 = tosa.depthwise_conv2d %a0, %w1, %b0, %zp, %zp {acc_type = i32, pad = array<i64: 0, 1, 0, 1>, stride = array<i64: 2, 2>, dilation = array<i64: 1, 1>, resq.changed = 0.9 : f64, resq.step = 3 : i64} : (tensor<1x8x8x8xi8>, tensor<3x3x8x1xi8>, tensor<8xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x4x4x8xi32>
  %r1 = tosa.rescale %c1, %m, %sh, %z32, %zp {scale32 = true, rounding_mode = DOUBLE_ROUND, per_channel = false, input_unsigned = false, output_unsigned = false} : (tensor<1x4x4x8xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x4x4x8xi8>
  %w2 = "tosa.const"() {values = dense<1> : tensor<8x2x2x8xi8>} : () -> tensor<8x2x2x8xi8>
  %c2 = tosa.transpose_conv2d %r1, %w2, %b0, %zp, %zp {acc_type = i32, out_pad = array<i64: 0, 0, 0, 0>, resq.changed = 0.2 : f64, stride = array<i64: 2, 2>} : (tensor<1x4x4x8xi8>, tensor<8x2x2x8xi8>, tensor<8xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  %shape = tosa.const_shape {values = dense<[1, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %flat = tosa.reshape %r1, %shape : (tensor<1x4x4x8xi8>, !tosa.shape<3>) -> tensor<1x16x8xi8>
  %w3 = "tosa.const"() {values = dense<1> : tensor<1x8x8xi8>} : () -> tensor<1x8x8xi8>
  %c3 = tosa.matmul %flat, %w3, %zp, %zp : (tensor<1x16x8xi8>, tensor<1x8x8xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x16x8xi32>
  return %r1 : tensor<1x4x4x8xi8>
}
