// RUN: resq-opt %s --resq-lower-stream="target-cpu=sapphirerapids" | FileCheck %s

// A convolution to one output channel with VNNI: the 16 lanes of a dot
// product are 8 pixels x 2 quads of input channels. Per tap
// its 8 weights repeated for each pixel (tap 0: 1..8, tap 1: 1s, tap 2:
// 2s, the others 1s).
// CHECK: memref.global "private" constant @__resq_head_pixel_lane_weights : memref<576xi8> = dense<"0x010203040506070801020304050607080102030405060708010203040506070801020304050607080102030405060708010203040506070801020304050607080101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010102020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101">
// CHECK: %[[W:.*]] = memref.get_global @__resq_head_pixel_lane_weights
// The pixels whose windows are inside, columns 1 to 32: 4 groups of 8,
// each tap 64 bytes of X (8 pixels' 8 channels) with the sign bits
// flipped, one dot product per group.
// CHECK: scf.for
// CHECK: %[[TAPW:.*]] = vector.load %[[W]][%{{.*}}] : memref<576xi8>, vector<64xi8>
// CHECK: %[[X:.*]] = vector.load %{{.*}} : memref<1280xi8, strided<[1], offset: ?>>, vector<64xi8>
// CHECK-NEXT: %[[XW:.*]] = vector.bitcast %[[X]] : vector<64xi8> to vector<16xi32>
// CHECK: %[[FLIP:.*]] = arith.xori %[[XW]]
// CHECK-NEXT: %[[XB:.*]] = vector.bitcast %[[FLIP]] : vector<16xi32> to vector<64xi8>
// CHECK-NEXT: resq.dot_bytes %{{.*}}, %[[XB]], %[[TAPW]]
// CHECK-COUNT-11: resq.dot_bytes
// A pixel's two lanes added, the weight sums x (128 - 5) of all taps off
// and the bias on (108 x 123 - 100), the even lanes stored as 8 pixels of A.
// CHECK: %[[AROWS:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] : memref<1x4x40x1xi32> into memref<1x4x40xi32>
// CHECK: %[[OFF:.*]] = arith.constant 13184 : i32
// CHECK: %[[ROT:.*]] = vector.shuffle %[[ACC:.*]], %[[ACC]] [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0]
// CHECK-NEXT: %[[PAIR:.*]] = arith.addi %[[ACC]], %[[ROT]]
// CHECK-NEXT: %[[LESS:.*]] = arith.subi %[[PAIR]]
// CHECK-NEXT: %[[PIX:.*]] = vector.shuffle %[[LESS]], %[[LESS]] [0, 2, 4, 6, 8, 10, 12, 14]
// CHECK: vector.store %[[PIX]], %[[AROWS]][%{{.*}}] : memref<1x4x40xi32>, vector<8xi32>
// CHECK-COUNT-3: vector.store %{{.*}}, %[[AROWS]][{{.*}}] : memref<1x4x40xi32>, vector<8xi32>
// A residual frame: the codes of Q as stored (flipped already), the
// weight sums x 128 off (108 x 128), A += 3 x the sum.
// CHECK: %[[RW:.*]] = vector.load %{{.*}} : memref<576xi8>, vector<64xi8>
// CHECK: %[[Q:.*]] = vector.load %{{.*}} : memref<1280xi8>, vector<64xi8>
// CHECK-NEXT: resq.dot_bytes %{{.*}}, %[[Q]], %[[RW]]
// CHECK: %[[RROWS:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] : memref<1x4x40x1xi32> into memref<1x4x40xi32>
// CHECK: arith.constant 13824 : i32
// CHECK: %[[RPIX:.*]] = vector.shuffle %{{.*}} [0, 2, 4, 6, 8, 10, 12, 14]
// CHECK: %[[OLD:.*]] = vector.load %[[RROWS]][%{{.*}}] : memref<1x4x40xi32>, vector<8xi32>
// CHECK: %[[SCALED:.*]] = arith.muli %[[RPIX]], %{{.*}} : vector<8xi32>
// CHECK-NEXT: %[[NEW:.*]] = arith.addi %[[OLD]], %[[SCALED]] : vector<8xi32>
// CHECK-NEXT: vector.store %[[NEW]], %[[RROWS]]
func.func @main(%s: !resq.stream, %x: tensor<1x4x40x8xi8>) -> tensor<1x4x40x1xi32> {
  %w = "tosa.const"() {values = dense<[[[[1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 1, 1, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2, 2, 2]], [[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1]], [[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1]]]]> : tensor<1x3x3x8xi8>} : () -> tensor<1x3x3x8xi8>
  %b = "tosa.const"() {values = dense<100> : tensor<1xi32>} : () -> tensor<1xi32>
  %zp = "tosa.const"() {values = dense<-5> : tensor<1xi8>} : () -> tensor<1xi8>
  resq.begin_frame %s
  %acc = resq.conv2d "head" %s, %x, %w, %b, %zp
      {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 3, bits = [0, 2, 4, 8], block = 4>
      : (tensor<1x4x40x8xi8>, tensor<1x3x3x8xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x4x40x1xi32>
  return %acc : tensor<1x4x40x1xi32>
}
