// RUN: resq-opt %s | FileCheck %s
// Round trip: print, parse again, print the same.
// RUN: resq-opt %s | resq-opt | FileCheck %s
// RUN: resq-opt %s --mlir-print-op-generic | resq-opt | FileCheck %s

// CHECK-LABEL: func.func @conv
func.func @conv(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<8x3x3x4xi8>,
                %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x4x4x8xi32> {
  // CHECK: resq.begin_frame %{{.*}} keyframe_interval 16
  resq.begin_frame %s keyframe_interval 16
  // CHECK: resq.conv2d "conv0" %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 2, 2>} residual <step = 4, bits = [8]> : (tensor<1x8x8x4xi8>, tensor<8x3x3x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x4x4x8xi32>
  %0 = resq.conv2d "conv0" %s, %x, %w, %b, %zp
      {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 2, 2>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [8]>
      : (tensor<1x8x8x4xi8>, tensor<8x3x3x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x4x4x8xi32>
  return %0 : tensor<1x4x4x8xi32>
}

// CHECK-LABEL: func.func @depthwise
func.func @depthwise(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<3x3x4x2xi8>,
                     %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  // CHECK: resq.begin_frame %{{[^ ]*}}{{$}}
  resq.begin_frame %s
  // CHECK: resq.depthwise_conv2d "dw" {{.*}} residual <step = 2, bits = [0, 2, 4, 8], block = 4, scene_cut = 0.5>
  %0 = resq.depthwise_conv2d "dw" %s, %x, %w, %b, %zp
      {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 2, bits = [0, 2, 4, 8], block = 4, scene_cut = 0.5>
      : (tensor<1x8x8x4xi8>, tensor<3x3x4x2xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// CHECK-LABEL: func.func @dense_above
func.func @dense_above(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<3x3x4x2xi8>,
                       %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  resq.begin_frame %s
  // CHECK: resq.depthwise_conv2d "dw" {{.*}} residual <step = 1, bits = [0, 2, 4, 8], dense_above = 0.25>
  %0 = resq.depthwise_conv2d "dw" %s, %x, %w, %b, %zp
      {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 1, bits = [0, 2, 4, 8], block = 1, scene_cut = 1.0, dense_above = 0.25>
      : (tensor<1x8x8x4xi8>, tensor<3x3x4x2xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// CHECK-LABEL: func.func @standard
func.func @standard(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<8x1x1x4xi8>,
                    %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  resq.begin_frame %s
  // CHECK: resq.conv2d "c" {{.*}} residual <step = 3, bits = [0, 2, 4, 8], dense_above = 0.5, standard>
  %0 = resq.conv2d "c" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 3, bits = [0, 2, 4, 8], dense_above = 0.5, standard>
      : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// CHECK-LABEL: func.func @transpose
func.func @transpose(%s: !resq.stream, %x: tensor<1x4x4x8xi8>, %w: tensor<4x2x2x8xi8>,
                     %b: tensor<4xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x4xi32> {
  resq.begin_frame %s
  // CHECK: resq.transpose_conv2d "up" {{.*}} {out_pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} residual <step = 8, bits = [0, 3, 5, 7], block = 2>
  %0 = resq.transpose_conv2d "up" %s, %x, %w, %b, %zp
      {out_pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>}
      residual <step = 8, bits = [0, 3, 5, 7], block = 2>
      : (tensor<1x4x4x8xi8>, tensor<4x2x2x8xi8>, tensor<4xi32>, tensor<1xi8>) -> tensor<1x8x8x4xi32>
  return %0 : tensor<1x8x8x4xi32>
}

// CHECK-LABEL: func.func @matmul
func.func @matmul(%s: !resq.stream, %x: tensor<1x4x64xi8>, %w: tensor<1x64x10xi8>,
                  %zp: tensor<1xi8>) -> tensor<1x4x10xi32> {
  resq.begin_frame %s
  // CHECK: resq.matmul "fc" {{.*}} residual <step = 1, bits = [2]> : (tensor<1x4x64xi8>, tensor<1x64x10xi8>, tensor<1xi8>) -> tensor<1x4x10xi32>
  %0 = resq.matmul "fc" %s, %x, %w, %zp residual <step = 1, bits = [2]>
      : (tensor<1x4x64xi8>, tensor<1x64x10xi8>, tensor<1xi8>) -> tensor<1x4x10xi32>
  return %0 : tensor<1x4x10xi32>
}

// CHECK-LABEL: func.func @dot_words
func.func @dot_words(%acc: vector<16xi32>, %a: vector<32xi16>, %b: vector<32xi16>) -> vector<16xi32> {
  // CHECK: resq.dot_words %{{.*}}, %{{.*}}, %{{.*}} : vector<32xi16> -> vector<16xi32>
  %0 = resq.dot_words %acc, %a, %b : vector<32xi16> -> vector<16xi32>
  return %0 : vector<16xi32>
}

// CHECK-LABEL: func.func @dot_bytes
func.func @dot_bytes(%acc: vector<16xi32>, %a: vector<64xi8>, %b: vector<64xi8>) -> vector<16xi32> {
  // CHECK: resq.dot_bytes %{{.*}}, %{{.*}}, %{{.*}} : vector<64xi8> -> vector<16xi32>
  %0 = resq.dot_bytes %acc, %a, %b : vector<64xi8> -> vector<16xi32>
  return %0 : vector<16xi32>
}

// CHECK-LABEL: func.func @round_to_int
func.func @round_to_int(%x: vector<16xf32>) -> vector<16xi32> {
  // CHECK: resq.round_to_int %{{.*}} : vector<16xf32> -> vector<16xi32>
  %0 = resq.round_to_int %x : vector<16xf32> -> vector<16xi32>
  return %0 : vector<16xi32>
}
