// RUN: resq-opt %s --resq-lower-stream | FileCheck %s
// RUN: sed 's/1x2x64x16/1x2x48x16/g' %s | resq-opt --resq-lower-stream | FileCheck %s --check-prefix=NARROW
// RUN: sed -e 's/1x2x64x16xi8/1x2x64x8xi8/g' -e 's/16x1x1x16/16x1x1x8/g' %s | resq-opt --resq-lower-stream | FileCheck %s --check-prefix=EIGHT
// RUN: resq-opt %s --resq-lower-stream="target-cpu=sapphirerapids" | FileCheck %s --check-prefix=CHUNK

// Blocks of one pixel in rows of 64 pixels or more, 16 channels per
// vector: the first pass takes the widths of 16 pixels at a time. One
// loop over the channels keeps 16 per-pixel maxima of |X - R| ...
// CHECK-LABEL: func.func @main
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
// ... merged pairwise into one vector, pixel i in lane i: 8 + 4 + 2 + 1
// pairs, each two shuffles and a max.
// CHECK-COUNT-30: vector.shuffle
// CHECK-NOT: vector.shuffle
// The largest |D| rounded by the step (3: (m + 1) / 3), then the smallest
// allowed width whose range holds it, 16 widths stored at once.
// CHECK: arith.addi %{{.*}}, %{{.*}} : vector<16xi32>
// CHECK: arith.divui %{{.*}}, %{{.*}} : vector<16xi32>
// CHECK: arith.cmpi ule
// CHECK: vector.store %{{.*}} : memref<1x2x64xi8>, vector<16xi8>
// Narrower rows keep a reduction and a table lookup per pixel.
// NARROW-NOT: vector.shuffle
// NARROW: vector.reduction <maxui>
// NARROW: memref.load %{{.*}} : memref<256xi8>
// A convolution over 5 to 8 channels holds 8 per pixel in R and Q and
// runs its passes on 8 lanes (16 would be half padding).
// EIGHT: r_shape = array<i64: 1, 2, 64, 8>
// EIGHT-NOT: vector.shuffle
// EIGHT: vector<8xi8>
// With VNNI a keyframe's 1x1 chunk (4 pixels) starts each accumulator
// from the bias less the correction, weight sums x (128 + zero point -5),
// and writes the sums as they come out of the loop over input channels.
// CHUNK: %[[BIAS:.*]] = memref.get_global @__resq_conv0_bias
// CHUNK: %[[SUMS:.*]] = memref.get_global @__resq_conv0_weight_sums
// CHUNK: %[[WS:.*]] = vector.load %[[SUMS]]
// CHUNK: %[[K:.*]] = arith.constant 123 : i32
// CHUNK: %[[KV:.*]] = vector.broadcast %[[K]]
// CHUNK: %[[CORR:.*]] = arith.muli %[[WS]], %[[KV]] : vector<16xi32>
// CHUNK: %[[B:.*]] = vector.load %[[BIAS]]
// CHUNK: %[[START:.*]] = arith.subi %[[B]], %[[CORR]] : vector<16xi32>
// CHUNK: %[[ACC:.*]]:4 = scf.for {{.*}} iter_args(%{{.*}} = %[[START]], %{{.*}} = %[[START]], %{{.*}} = %[[START]], %{{.*}} = %[[START]])
// CHUNK-COUNT-4: resq.dot_bytes
// CHUNK: vector.transfer_write %[[ACC]]#0
// CHUNK: vector.transfer_write %[[ACC]]#1
// CHUNK: vector.transfer_write %[[ACC]]#2
// CHUNK: vector.transfer_write %[[ACC]]#3

func.func @main(%s: !resq.stream, %x: tensor<1x2x64x16xi8>) -> tensor<1x2x64x16xi32> {
  %w = "tosa.const"() {values = dense<3> : tensor<16x1x1x16xi8>} : () -> tensor<16x1x1x16xi8>
  %b = "tosa.const"() {values = dense<100> : tensor<16xi32>} : () -> tensor<16xi32>
  %zp = "tosa.const"() {values = dense<-5> : tensor<1xi8>} : () -> tensor<1xi8>
  resq.begin_frame %s
  %acc = resq.conv2d "conv0" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 3, bits = [0, 2, 4, 8], block = 1>
      : (tensor<1x2x64x16xi8>, tensor<16x1x1x16xi8>, tensor<16xi32>, tensor<1xi8>) -> tensor<1x2x64x16xi32>
  return %acc : tensor<1x2x64x16xi32>
}
