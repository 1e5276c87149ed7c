// RUN: resq-opt %s --resq-lower-stream | FileCheck %s

// With step 1, R + Q lies between R and X, so R stays an int8 code: the
// stream keeps it as int8 (r_bytes = 1), half the bytes of int16.
// CHECK: resq.stream_layout = {layers = [{{{.*}}r_bytes = 1 : i64{{.*}}}]
// CHECK-LABEL: func.func @main
// A residual frame quantizes a changed row of pixels as one run of 32
// elements at a time when X is contiguous (checked at run time, once per
// layer): X, R and Q hold the same 4 channels.
// CHECK: %[[BASE:[^,]*]], %{{.*}} = memref.extract_strided_metadata
// CHECK: %[[XFLAT:.*]] = memref.reinterpret_cast %[[BASE]] {{.*}} to memref<256xi8, strided<[1], offset: ?>>
// CHECK: %[[R:.*]] = memref.view %arg0{{.*}} to memref<1x8x8x4xi8>
// CHECK: vector.load %[[R]]{{.*}} : memref<1x8x8x4xi8>, vector<4xi8>
// CHECK: vector.store %{{.*}}, %[[R]]{{.*}} : memref<1x8x8x4xi8>, vector<4xi8>
// CHECK-NOT: memref<{{.*}}xi16>
// 16-bit lanes hold |X - R|; R stays int8.
// CHECK: %[[RFLAT:.*]] = memref.collapse_shape %[[R]] {{.*}} into memref<256xi8>
// CHECK: vector.load %[[XFLAT]][%{{.*}}] : memref<256xi8, strided<[1], offset: ?>>, vector<32xi8>
// CHECK: vector.load %[[RFLAT]][%{{.*}}] : memref<256xi8>, vector<32xi8>
// CHECK: arith.subi %{{.*}} : vector<32xi16>
// CHECK: vector.store %{{.*}}, %[[RFLAT]][%{{.*}}] : memref<256xi8>, vector<32xi8>
// Otherwise pixel by pixel.
// CHECK: } else {
// CHECK: vector.store %{{.*}}, %[[R]]{{.*}} : memref<1x8x8x4xi8>, vector<4xi8>
// CHECK-NOT: memref<{{.*}}xi16>

func.func @main(%s: !resq.stream, %x: tensor<1x8x8x4xi8>) -> tensor<1x8x8x8xi32> {
  %w = "tosa.const"() {values = dense<3> : tensor<8x3x3x4xi8>} : () -> tensor<8x3x3x4xi8>
  %b = "tosa.const"() {values = dense<100> : tensor<8xi32>} : () -> tensor<8xi32>
  %zp = "tosa.const"() {values = dense<-5> : tensor<1xi8>} : () -> tensor<1xi8>
  resq.begin_frame %s
  %acc = resq.conv2d "conv0" %s, %x, %w, %b, %zp
      {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 1, bits = [0, 2, 4, 8], block = 2>
      : (tensor<1x8x8x4xi8>, tensor<8x3x3x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %acc : tensor<1x8x8x8xi32>
}
