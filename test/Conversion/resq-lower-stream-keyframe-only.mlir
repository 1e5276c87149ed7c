// RUN: resq-opt %s --resq-lower-stream | FileCheck %s
// RUN: resq-opt %s --resq-lower-stream --resq-to-llvm | FileCheck %s --check-prefix=LLVM
// RUN: resq-opt %s --resq-lower-stream | resq-opt --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith{include-apply-rescale=true},linalg-fuse-elementwise-ops,resq-optimize-glue))" | FileCheck %s --check-prefix=GLUE
// RUN: sed -e 's/ keyframe_interval 1//' -e 's/bits = \[8\]>/bits = [8], standard>/' %s | resq-opt --resq-lower-stream | FileCheck %s

// Every frame a keyframe (keyframe_interval 1): nothing reads R, Q or A in a
// later frame, so the stream keeps only the header and the statistics (r and
// a are -1 in the layout), Q and A are step intermediates (memref.alloc, for
// resq-plan-scratch), R is not written and no residual code is emitted.
// A `standard` layer in a stream with residual frames is lowered the same way.
// CHECK: module attributes {resq.stream_layout = {layers = [{a = -1 : i64, a_shape = array<i64: 1, 8, 8, 8>, blocks = 64 : i64, dense_macs = 15488 : i64, in_channels = 4 : i64, kind = "conv2d", name = "conv0", r = -1 : i64, r_bytes = 2 : i64, r_shape = array<i64: 1, 8, 8, 4>, stats = 64 : i64}], size = 192 : i64}}
// CHECK-LABEL: func.func @main
// Its statistics are constants: the step's entry writes them (16 slots
// cleared, the block count, a keyframe's histogram, flag, MACs and BOPs),
// not the code between two layers' parallel loop nests.
// CHECK-NEXT: %{{.*}} = arith.constant 64 : index
// CHECK-NEXT: %[[STATS:.*]] = memref.view %arg0[%{{.*}}][] : memref<192xi8> to memref<16xi64>
// CHECK-COUNT-30: memref.store %{{.*}}, %[[STATS]][%{{.*}}] : memref<16xi64>
// CHECK-NOT: memref.store %{{.*}}, %[[STATS]]{{\[}}
// CHECK-NOT: xi16>
// CHECK: %[[CODES:.*]] = memref.alloc() : memref<256xi8>
// CHECK: memref.view %[[CODES]]{{.*}} to memref<1x8x8x4xi8>
// CHECK: memref.view %[[CODES]]{{.*}} to memref<1x8x8x1xi32>
// CHECK: %[[AV:.*]] = memref.alloc() : memref<1x8x8x8xi32>
// CHECK-NOT: vector.reduction <maxui>
// CHECK-NOT: xi16>
// CHECK-NOT: memref.store %{{.*}}, %[[STATS]]{{\[}}
// Its 8 channels per pixel are written as 8 lanes, not a masked 16.
// CHECK: %[[A8:.*]] = vector.extract_strided_slice %{{.*}} {offsets = [0], sizes = [8], strides = [1]} : vector<16xi32> to vector<8xi32>
// CHECK: vector.transfer_write %[[A8]], %[[AV]][%{{.*}}] {in_bounds = [true]} : vector<8xi32>, memref<1x8x8x8xi32>
// CHECK: %[[ACC:.*]] = bufferization.to_tensor %[[AV]] restrict
// CHECK: tosa.rescale %[[ACC]]

// The rescale after the layer runs where the kernel writes A
// (resq-optimize-glue): the kernel writes int8 and A is never stored.
// GLUE: %[[OUT:.*]] = memref.alloc() : memref<1x8x8x8xi8>
// GLUE-NOT: memref<1x8x8x8xi32>
// GLUE: arith.trunci %{{.*}} : vector<8xi32> to vector<8xi8>
// GLUE: vector.transfer_write %{{.*}}, %[[OUT]]
// GLUE-NOT: linalg.generic
// GLUE: bufferization.to_tensor %[[OUT]] restrict

// Through the whole pipeline the codes are the step's one intermediate
// buffer, allocated once.
// LLVM: llvm.call @malloc
// LLVM-NOT: llvm.call @malloc

func.func @main(%s: !resq.stream, %x: tensor<1x8x8x4xi8>) -> tensor<1x8x8x8xi8> {
  %w = "tosa.const"() {values = dense<3> : tensor<8x3x3x4xi8>} : () -> tensor<8x3x3x4xi8>
  %b = "tosa.const"() {values = dense<100> : tensor<8xi32>} : () -> tensor<8xi32>
  %zp = "tosa.const"() {values = dense<-5> : tensor<1xi8>} : () -> tensor<1xi8>
  resq.begin_frame %s keyframe_interval 1
  %acc = resq.conv2d "conv0" %s, %x, %w, %b, %zp
      {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [8]>
      : (tensor<1x8x8x4xi8>, tensor<8x3x3x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  %m = "tosa.const"() {values = dense<1073741824> : tensor<1xi32>} : () -> tensor<1xi32>
  %sh = "tosa.const"() {values = dense<38> : tensor<1xi8>} : () -> tensor<1xi8>
  %z32 = "tosa.const"() {values = dense<0> : tensor<1xi32>} : () -> tensor<1xi32>
  %ozp = "tosa.const"() {values = dense<3> : tensor<1xi8>} : () -> tensor<1xi8>
  %y = tosa.rescale %acc, %m, %sh, %z32, %ozp {scale32 = true, rounding_mode = DOUBLE_ROUND, per_channel = false, input_unsigned = false, output_unsigned = false} : (tensor<1x8x8x8xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi8>
  return %y : tensor<1x8x8x8xi8>
}
