// RUN: resq-opt %s --resq-lower-stream="target-cpu=sapphirerapids" | FileCheck %s --check-prefix=VNNI
// RUN: resq-opt %s --resq-lower-stream="target-cpu=x86-64" | FileCheck %s --check-prefix=PORTABLE
// RUN: resq-opt %s --resq-lower-stream="target-cpu=sapphirerapids" --resq-lower-intrinsics | FileCheck %s --check-prefix=INTRINSIC

// Depthwise with AVX-512 VNNI, one int32 per weight (tap x 16 padded
// channels), the weight in the lower 16-bit word and 0 in the upper one:
// -3 is 0x0000FFFD (bytes FD FF 00 00 in the little-endian hex the
// printer writes), 5 stays 5; padded channels are 0. Per tap, the codes minus the zero
// point (int32 lanes, within 16 bits) and the weights as 32 words go to
// vpdpwssd, which adds one product per lane.
// VNNI: memref.global "private" constant @__resq_dw0_weights : memref<144xi32> = dense<"0xFDFF000005000000FDFF00000500000000000000
// VNNI: %[[C:.*]] = vector.load %{{.*}} : memref<1x8x8x16xi8>, vector<16xi8>
// VNNI-NEXT: %[[E:.*]] = arith.extsi %[[C]] : vector<16xi8> to vector<16xi32>
// VNNI: %[[V:.*]] = arith.subi %[[E]], %{{.*}} : vector<16xi32>
// VNNI: %[[W:.*]] = vector.load %{{.*}} : memref<144xi32>, vector<16xi32>
// VNNI: %[[VW:.*]] = vector.bitcast %[[V]] : vector<16xi32> to vector<32xi16>
// VNNI: %[[WW:.*]] = vector.bitcast %[[W]] : vector<16xi32> to vector<32xi16>
// VNNI: resq.dot_words %{{.*}}, %[[VW]], %[[WW]] : vector<32xi16> -> vector<16xi32>

// Portable x86-64: int8 weights, widened and multiplied lane by lane.
// PORTABLE: memref.global "private" constant @__resq_dw0_weights : memref<144xi8>
// PORTABLE-NOT: resq.dot_words
// PORTABLE: arith.muli {{.*}} : vector<16xi32>

// resq-lower-intrinsics: vpdpwssd.
// INTRINSIC-NOT: resq.dot_words
// INTRINSIC: llvm.call_intrinsic "llvm.x86.avx512.vpdpwssd.512"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xi32>, vector<32xi16>, vector<32xi16>) -> vector<16xi32>

func.func @main(%s: !resq.stream, %x: tensor<1x8x8x4xi8>) -> tensor<1x8x8x4xi32> {
  %w = "tosa.const"() {values = dense<[[[[-3], [5], [-3], [5]], [[-3], [5], [-3], [5]], [[-3], [5], [-3], [5]]], [[[-3], [5], [-3], [5]], [[-3], [5], [-3], [5]], [[-3], [5], [-3], [5]]], [[[-3], [5], [-3], [5]], [[-3], [5], [-3], [5]], [[-3], [5], [-3], [5]]]]> : tensor<3x3x4x1xi8>} : () -> tensor<3x3x4x1xi8>
  %b = "tosa.const"() {values = dense<7> : tensor<4xi32>} : () -> tensor<4xi32>
  %zp = "tosa.const"() {values = dense<-5> : tensor<1xi8>} : () -> tensor<1xi8>
  resq.begin_frame %s
  %acc = resq.depthwise_conv2d "dw0" %s, %x, %w, %b, %zp
      {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 2, bits = [0, 2, 4, 8], block = 4, scene_cut = 0.5>
      : (tensor<1x8x8x4xi8>, tensor<3x3x4x1xi8>, tensor<4xi32>, tensor<1xi8>) -> tensor<1x8x8x4xi32>
  return %acc : tensor<1x8x8x4xi32>
}
