// RUN: resq-opt %s --resq-lower-stream | FileCheck %s
// RUN: resq-opt %s --resq-lower-stream="target-cpu=sapphirerapids" | FileCheck %s --check-prefix=VNNI
// RUN: not resq-opt %s --resq-lower-stream="target-cpu=pentium-xyz" 2>&1 | FileCheck %s --check-prefix=BADCPU
// RUN: resq-opt %s --resq-lower-stream="parallel=true" | FileCheck %s --check-prefix=ROWS
// RUN: resq-opt %s --resq-lower-stream | FileCheck %s --check-prefix=NOROWS

// With parallel=true the row loops of the kernels, of the keyframe state
// copy and of the residual quantization are scf.parallel, marked for
// resq-outer-parallel-loops; without it there is none.
// ROWS-COUNT-4: } {resq.rows}
// NOROWS-NOT: resq.rows

// The stream state is laid out in one buffer; the layout is recorded for
// runners and C headers. With at most 4 input channels, R and Q hold 4
// channels per pixel (16 otherwise) and the passes over them use 4 lanes.
// CHECK: module attributes {resq.stream_layout = {layers = [{a = 704 : i64, a_shape = array<i64: 1, 8, 8, 8>, blocks = 4 : i64, dense_macs = 15488 : i64, in_channels = 4 : i64, kind = "conv2d", name = "conv0", r = 192 : i64, r_bytes = 2 : i64, r_shape = array<i64: 1, 8, 8, 4>, stats = 64 : i64}], size = [[SIZE:[0-9]+]] : i64}}
// Weights are packed at compile time (portable: 16 output lanes per input
// channel and tap), the bias padded to whole vectors.
// CHECK-DAG: memref.global "private" constant @__resq_conv0_bias : memref<16xi32>
// CHECK-DAG: memref.global "private" constant @__resq_conv0_weights : memref<576xi8>
// For the statistics, the (output pixel, tap) pairs that read each row and
// column of 4x4 blocks (rows 0-3 of the 8x8 input, 3x3 window, padding 1:
// 2 + 3 + 3 + 3; rows 4-7 likewise). A row's sums are i32 (they cannot
// overflow), the row's share of the totals i64.
// CHECK-DAG: memref.global "private" constant @__resq_conv0_block_row_uses : memref<2xi64> = dense<11>
// CHECK-DAG: memref.global "private" constant @__resq_conv0_block_column_uses : memref<2xi32> = dense<11>
// The bit-width of each largest rounded residual m of a block, tabulated
// for bits [0, 2, 4, 8]: 0 for m = 0, 2 for 1, 4 for 2..7, 8 from 8 on.
// CHECK-DAG: memref.global "private" constant @__resq_conv0_bit_widths : memref<256xi8> = dense<"0x00020404040404040808{{(08)+}}">
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[S:.*]]: memref<[[SIZE]]xi8>, %{{.*}}: tensor<1x8x8x4xi8>) -> tensor<1x8x8x8xi8>
// CHECK-SAME: attributes {llvm.emit_c_interface}
// The keyframe decision reads and writes the stream header.
// CHECK: %[[H:.*]] = memref.view %[[S]][%{{.*}}][] : memref<[[SIZE]]xi8> to memref<8xi64>
// The codes Q and the blocks' bit-widths live for one layer of one frame:
// step intermediates, not stream state.
// CHECK: memref.alloc() : memref<256xi8>
// CHECK: memref.view %[[S]]{{.*}} to memref<1x8x8x4xi16>
// CHECK: memref.alloc() : memref<1x2x2xi8>
// CHECK: %[[CHANGED:.*]] = memref.alloc() : memref<1x2xi8>
// CHECK: %[[AV:.*]] = memref.view %[[S]]{{.*}} to memref<1x8x8x8xi32>
// A first pass only reads: per block, the largest rounded residual picks
// the bit-width; nothing is stored before the keyframe decision.
// CHECK: %[[M:.*]] = vector.reduction <maxui>
// CHECK: %[[CAPPED:.*]] = arith.minui %[[M]], %c255_i32
// CHECK: %[[AT:.*]] = arith.index_cast %[[CAPPED]]
// CHECK: memref.load %{{.*}}[%[[AT]]] : memref<256xi8>
// CHECK-NOT: vector.store
// Each row of blocks is flagged when some block in it is not 0-bit.
// CHECK: memref.store %{{.*}}, %[[CHANGED]][%{{.*}}, %{{.*}}] : memref<1x2xi8>
// CHECK-NOT: vector.store
// Keyframe (R <- X, Q <- X) or residual frame (a second pass stores R and
// Q, unless every block is 0-bit).
// CHECK: scf.if
// CHECK: vector.store %{{.*}} : memref<1x8x8x4xi16>, vector<4xi16>
// CHECK: vector.store %{{.*}} : memref<1x8x8x4xi8>, vector<4xi8>
// CHECK: } else {
// CHECK: scf.if
// The second pass quantizes the flagged rows of blocks. A row without a
// change stores Q = 0 only when a row within reach is flagged (a 3x3
// window at blocks of 4 reads two rows of blocks), and never touches R.
// CHECK: %[[FLAG:.*]] = memref.load %[[CHANGED]][%{{.*}}, %{{.*}}] : memref<1x2xi8>
// CHECK: %[[ANY:.*]] = arith.cmpi ne, %[[FLAG]], %c0_i8
// CHECK: scf.if %[[ANY]] {
// CHECK: vector.store %{{.*}} : memref<1x8x8x4xi16>, vector<4xi16>
// CHECK: vector.store %{{.*}} : memref<1x8x8x4xi8>, vector<4xi8>
// CHECK: } else {
// CHECK-NOT: memref<1x8x8x4xi16>
// CHECK: memref.load %[[CHANGED]]
// CHECK: scf.if
// CHECK-NOT: memref<1x8x8x4xi16>
// CHECK: vector.store %{{.*}} : memref<1x8x8x4xi8>, vector<4xi8>
// The linear op runs the output rows whose taps read a flagged row; A's
// 8 channels per pixel are read and written as 8 lanes (A += s * acc), not
// a masked 16.
// CHECK: memref.load %[[CHANGED]]
// CHECK: %[[OLD:.*]] = vector.transfer_read %[[AV]][%{{.*}}], %{{.*}} {in_bounds = [true]} : memref<1x8x8x8xi32>, vector<8xi32>
// CHECK: %[[SCALED:.*]] = arith.muli %{{.*}} : vector<16xi32>
// CHECK: %[[PART:.*]] = vector.extract_strided_slice %[[SCALED]] {offsets = [0], sizes = [8], strides = [1]} : vector<16xi32> to vector<8xi32>
// CHECK: %[[NEW:.*]] = arith.addi %[[OLD]], %[[PART]] : vector<8xi32>
// CHECK: vector.transfer_write %[[NEW]], %[[AV]][%{{.*}}] {in_bounds = [true]} : vector<8xi32>, memref<1x8x8x8xi32>
// The accumulator is returned as a tensor; rescale stays TOSA.
// CHECK: %[[ACC:.*]] = bufferization.to_tensor %[[AV]] restrict
// CHECK: tosa.rescale %[[ACC]]
// CHECK-NOT: resq.

// With VNNI the packed layout feeds vpdpbusd 4 input channels at a time,
// as unsigned bytes (sign bits flipped). A keyframe's kernel reads X
// itself, one run of bytes where X is one (checked at run time), else a
// copy of it in Q's buffer, and flips each broadcast quad.
// VNNI: memref.global "private" constant @__resq_conv0_weight_sums : memref<144xi32>
// VNNI: %[[XMEM:.*]] = bufferization.to_buffer %arg1
// VNNI: %[[XBASE:.*]], %{{.*}}, %{{.*}}:4, %{{.*}}:4 = memref.extract_strided_metadata %[[XMEM]]
// VNNI: %[[XFLAT:.*]] = memref.reinterpret_cast %[[XBASE]] to offset: [%{{.*}}], sizes: [256], strides: [1]
// VNNI: %[[QBUF:.*]] = memref.alloc() : memref<256xi8>
// VNNI: %[[QFLAT:.*]] = memref.reinterpret_cast %[[QBUF]] to offset: [0], sizes: [256], strides: [1]
// VNNI-NEXT: %[[KC:.*]] = scf.if %[[CONTIG:.*]] -> (memref<256xi8, strided<[1], offset: ?>>) {
// VNNI-NEXT: scf.yield %[[XFLAT]]
// VNNI-NEXT: } else {
// VNNI-NEXT: scf.yield %[[QFLAT]]
// Keyframe: R from X; the copy (not flipped) only where X is not a run.
// VNNI: vector.store %{{.*}} : memref<1x8x8x4xi16>, vector<4xi16>
// VNNI: %[[NOTFLAT:.*]] = arith.cmpi eq, %[[CONTIG]], %false
// VNNI-NEXT: scf.if %[[NOTFLAT]] {
// VNNI-NEXT: %{{.*}} = arith.constant 0 : index
// VNNI-NEXT: %[[COPY:.*]] = memref.view %[[QBUF]]
// VNNI-NOT: arith.xori
// VNNI: vector.transfer_write %{{.*}}, %[[COPY]]
// VNNI: %[[KQUAD:.*]] = vector.load %[[KC]][%{{.*}}] : memref<256xi8, strided<[1], offset: ?>>, vector<4xi8>
// VNNI-NEXT: %[[KWORD:.*]] = vector.bitcast %[[KQUAD]] : vector<4xi8> to vector<1xi32>
// VNNI-NEXT: %[[KWORDS:.*]] = vector.broadcast %[[KWORD]] : vector<1xi32> to vector<16xi32>
// VNNI-NEXT: %[[SIGNS:.*]] = arith.constant -2139062144 : i32
// VNNI-NEXT: %[[SPLAT:.*]] = vector.broadcast %[[SIGNS]] : i32 to vector<16xi32>
// VNNI-NEXT: %[[KFLIP:.*]] = arith.xori %[[KWORDS]], %[[SPLAT]] : vector<16xi32>
// VNNI-NEXT: %[[KBYTES:.*]] = vector.bitcast %[[KFLIP]] : vector<16xi32> to vector<64xi8>
// VNNI: resq.dot_bytes %{{.*}}, %[[KBYTES]], %{{.*}} : vector<64xi8> -> vector<16xi32>
// A residual frame's Q holds the codes flipped when stored, so its kernel
// broadcasts four of them as they are.
// VNNI: %[[FLIPR:.*]] = vector.broadcast %c-128_i8{{.*}} : i8 to vector<4xi8>
// VNNI-NEXT: %[[UR:.*]] = arith.xori %{{.*}}, %[[FLIPR]] : vector<4xi8>
// VNNI-NEXT: vector.store %[[UR]], %{{.*}} : memref<1x8x8x4xi8>, vector<4xi8>
// One output block (8 channels): its sum goes to four accumulator chains
// in turn (the first takes the product, the others move up), added at the
// end, so that consecutive dot products do not wait on each other.
// VNNI: scf.for {{.*}} iter_args(%{{.*}} = %[[Z:.*]], %{{.*}} = %[[Z]], %{{.*}} = %[[Z]], %{{.*}} = %[[Z]]) -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
// VNNI: scf.for {{.*}} -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
// VNNI: scf.for {{.*}} iter_args(%[[C0:[^ ]*]] = %{{.*}}, %[[C1:[^ ]*]] = %{{.*}}, %[[C2:[^ ]*]] = %{{.*}}, %[[C3:[^ ]*]] = %{{.*}}) -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
// VNNI: %[[QUAD:.*]] = memref.load %{{.*}} : memref<1x8x8x1xi32>
// VNNI-NEXT: %[[CODES:.*]] = vector.broadcast %[[QUAD]] : i32 to vector<16xi32>
// VNNI-NEXT: %[[BYTES:.*]] = vector.bitcast %[[CODES]] : vector<16xi32> to vector<64xi8>
// VNNI: %[[DOT:.*]] = resq.dot_bytes %[[C0]], %[[BYTES]], %{{.*}} : vector<64xi8> -> vector<16xi32>
// VNNI-NEXT: scf.yield %[[C1]], %[[C2]], %[[C3]], %[[DOT]]
// VNNI: %[[S01:.*]] = arith.addi %[[CH:.*]]#0, %[[CH]]#1 : vector<16xi32>
// VNNI-NEXT: %[[S012:.*]] = arith.addi %[[S01]], %[[CH]]#2 : vector<16xi32>
// VNNI-NEXT: arith.addi %[[S012]], %[[CH]]#3 : vector<16xi32>

// BADCPU: error: resq-lower-stream: unknown target-cpu 'pentium-xyz'

func.func @main(%s: !resq.stream, %x: tensor<1x8x8x4xi8>) -> tensor<1x8x8x8xi8> {
  %w = "tosa.const"() {values = dense<3> : tensor<8x3x3x4xi8>} : () -> tensor<8x3x3x4xi8>
  %b = "tosa.const"() {values = dense<100> : tensor<8xi32>} : () -> tensor<8xi32>
  %zp = "tosa.const"() {values = dense<-5> : tensor<1xi8>} : () -> tensor<1xi8>
  resq.begin_frame %s
  %acc = resq.conv2d "conv0" %s, %x, %w, %b, %zp
      {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [0, 2, 4, 8], block = 4, scene_cut = 0.5>
      : (tensor<1x8x8x4xi8>, tensor<8x3x3x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  %m = "tosa.const"() {values = dense<1073741824> : tensor<1xi32>} : () -> tensor<1xi32>
  %sh = "tosa.const"() {values = dense<38> : tensor<1xi8>} : () -> tensor<1xi8>
  %z32 = "tosa.const"() {values = dense<0> : tensor<1xi32>} : () -> tensor<1xi32>
  %ozp = "tosa.const"() {values = dense<3> : tensor<1xi8>} : () -> tensor<1xi8>
  %y = tosa.rescale %acc, %m, %sh, %z32, %ozp {scale32 = true, rounding_mode = DOUBLE_ROUND, per_channel = false, input_unsigned = false, output_unsigned = false} : (tensor<1x8x8x8xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi8>
  return %y : tensor<1x8x8x8xi8>
}
