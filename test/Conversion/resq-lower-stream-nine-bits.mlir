// RUN: resq-opt %s --resq-lower-stream | FileCheck %s
// RUN: sed 's/step = 2,/step = 1,/' %s | resq-opt --resq-lower-stream | FileCheck %s --check-prefix=STEP1
// RUN: sed 's/step = 2,/step = 3,/' %s | resq-opt --resq-lower-stream | FileCheck %s --check-prefix=STEP3
// RUN: sed 's/bits = \[0, 2, 4, 8, 9\]/bits = [0, 2, 4, 8]/' %s | resq-opt --resq-lower-stream | FileCheck %s --check-prefix=EIGHT

// 9 bits hold any difference of two int8 codes, but the linear op takes
// byte codes: the first round clamps Q to 127, and while some block still
// needs 9 bits (its count, slot 11, goes to slot 15) the layer runs
// another round against the updated R, rounding half toward zero. At step 2
// the largest rounded residual is 128: one more round.
// CHECK-LABEL: func.func @main
// Round one: round half away from zero (+ floor(s/2) = 1), clamp at 127.
// CHECK: %[[HALF:.*]] = vector.broadcast %c1_i32{{.*}} : i32 to vector<4xi32>
// CHECK-NEXT: arith.addi %{{.*}}, %[[HALF]] : vector<4xi32>
// CHECK: %[[CLAMP:.*]] = vector.broadcast %c127_i32{{.*}} : i32 to vector<4xi32>
// CHECK-NEXT: arith.minui %{{.*}}, %[[CLAMP]] : vector<4xi32>
// CHECK: %[[NINE:.*]] = memref.load %[[STATS:.*]][%c11{{.*}}] : memref<16xi64>
// CHECK-NEXT: %[[LEFT:.*]] = arith.constant 15 : index
// CHECK-NEXT: memref.store %[[NINE]], %[[STATS]][%[[LEFT]]] : memref<16xi64>
// The rounds share one copy of the linear op: round 0 runs it on the
// first quantization, a later round first quantizes again.
// CHECK: scf.for %[[ROUND:.*]] = %c0{{.*}} to %c2{{.*}} step
// CHECK: arith.cmpi eq, %[[ROUND]], %c0
// CHECK: memref.load %[[STATS]][%{{.*}}] : memref<16xi64>
// CHECK: arith.cmpi ne
// CHECK: scf.if
// First a flag per row of blocks: some block needed 9 bits. Only those
// rows run again (the round's changed rows); the others get Q = 0 where
// the 3x3 taps of an output row that reads a clamped row also read them. A block left
// with more than 127 counts for the next round.
// CHECK: arith.cmpi eq, %{{.*}}, %c9_i8
// CHECK: memref.store %{{.*}}, %[[ROWS:.*]][%{{.*}}, %{{.*}}] : memref<1x4xi8>
// CHECK: memref.load %[[ROWS]][%{{.*}}, %{{.*}}] : memref<1x4xi8>
// CHECK: scf.if
// Later rounds round half toward zero: |D| + floor((s-1)/2) = |D| + 0.
// CHECK: %[[MAG:.*]] = arith.maxsi %{{.*}} : vector<4xi32>
// CHECK-NEXT: %[[S:.*]] = arith.constant 2 : i32
// CHECK-NEXT: %[[SV:.*]] = vector.broadcast %[[S]] : i32 to vector<4xi32>
// CHECK-NEXT: arith.divui %[[MAG]], %[[SV]] : vector<4xi32>
// CHECK: arith.cmpi ugt, %{{.*}}, %c127_i32
// CHECK: memref.load %[[STATS]][%{{.*}}] : memref<16xi64>
// CHECK: memref.store %{{.*}}, %[[STATS]][%{{.*}}] : memref<16xi64>
// CHECK: vector.store %{{.*}} : memref<1x8x8x4xi8>, vector<4xi8>
// CHECK: } else {
// CHECK: memref.load %[[ROWS]][%{{.*}}, %{{.*}}] : memref<1x4xi8>
// CHECK: scf.if
// CHECK: vector.store %{{.*}} : memref<1x8x8x4xi8>, vector<4xi8>
// The round's linear op, accumulating s * L(Q) into A. The rounds loop
// is marked: its row loops fork for the threads once per round.
// CHECK: vector.transfer_write
// CHECK: } {resq.fork_each}
// CHECK: tosa.rescale

// Step 1: |D| <= 255 takes up to three rounds (127 + 127 + 1).
// STEP1: scf.for %{{.*}} = %c0{{.*}} to %c3{{.*}} step
// Step 3 and above: the largest rounded residual, 86, fits a byte code.
// STEP3-NOT: arith.cmpi ugt, %{{.*}}, %c127_i32
// STEP3: tosa.rescale
// A 1x1 convolution reads no neighbouring rows: nothing to clear there.
// RUN: sed -e 's/8x3x3x4xi8/8x1x1x4xi8/g' -e 's/pad = array<i64: 1, 1, 1, 1>/pad = array<i64: 0, 0, 0, 0>/' %s | resq-opt --resq-lower-stream | FileCheck %s --check-prefix=POINTWISE
// POINTWISE: arith.cmpi ugt, %{{.*}}, %c127_i32
// POINTWISE: } else {
// POINTWISE-NEXT: }
// The round's changed rows are its clamped rows.
// POINTWISE-NEXT: %[[FLAG:.*]] = memref.load %{{.*}} : memref<1x4xi8>
// POINTWISE-NEXT: memref.store %[[FLAG]], %{{.*}} : memref<1x4xi8>
// Without 9 bits there are no rounds.
// EIGHT-NOT: arith.cmpi ugt, %{{.*}}, %c127_i32
// EIGHT: tosa.rescale

func.func @main(%s: !resq.stream, %x: tensor<1x8x8x4xi8>) -> tensor<1x8x8x8xi8> {
  %w = "tosa.const"() {values = dense<3> : tensor<8x3x3x4xi8>} : () -> tensor<8x3x3x4xi8>
  %b = "tosa.const"() {values = dense<100> : tensor<8xi32>} : () -> tensor<8xi32>
  %zp = "tosa.const"() {values = dense<-5> : tensor<1xi8>} : () -> tensor<1xi8>
  resq.begin_frame %s
  %acc = resq.conv2d "conv0" %s, %x, %w, %b, %zp
      {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 2, bits = [0, 2, 4, 8, 9], block = 2>
      : (tensor<1x8x8x4xi8>, tensor<8x3x3x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  %m = "tosa.const"() {values = dense<1073741824> : tensor<1xi32>} : () -> tensor<1xi32>
  %sh = "tosa.const"() {values = dense<33> : tensor<1xi8>} : () -> tensor<1xi8>
  %izp = "tosa.const"() {values = dense<0> : tensor<1xi32>} : () -> tensor<1xi32>
  %ozp = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %y = tosa.rescale %acc, %m, %sh, %izp, %ozp {scale32 = true, rounding_mode = DOUBLE_ROUND, per_channel = false, input_unsigned = false, output_unsigned = false} : (tensor<1x8x8x8xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi8>
  return %y : tensor<1x8x8x8xi8>
}
