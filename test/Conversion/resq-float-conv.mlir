// RUN: resq-opt %s --split-input-file --resq-float-conv --canonicalize | FileCheck %s

// A float conv2d with a constant filter and 32 input channels (two chunks
// of 16): loops (n, oh, ow, kh, kw, c / 16, f, c % 16), so that LLVM unrolls
// a chunk and vectorizes the loop over output channels around it. The image
// is viewed as N x H x W x 2 x 16, the filter transposed at compile time to
// KH x KW x 2 x 16 x F (the values are checked bit for bit by
// e2e/float_conv.py). Strides and dilations stay in the image's map; the
// body is the named op's out + in * w.
// CHECK-DAG: #[[IMAGE:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1 * 2 + d3, d2 * 3 + d4 * 2, d5, d7)>
// CHECK-DAG: #[[FILTER:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d3, d4, d5, d7, d6)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>
// CHECK-LABEL: func.func @conv
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{.*}}> : tensor<3x2x2x16x16xf32>
// CHECK-DAG: %[[X:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2], [3, 4]] output_shape [1, 7, 7, 2, 16] : tensor<1x7x7x32xf32> into tensor<1x7x7x2x16xf32>
// CHECK: linalg.generic {indexing_maps = [#[[IMAGE]], #[[FILTER]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[X]], %[[W]] : tensor<1x7x7x2x16xf32>, tensor<3x2x2x16x16xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %[[WT:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK: %[[P:.*]] = arith.mulf %[[IN]], %[[WT]] : f32
// CHECK: %[[S:.*]] = arith.addf %[[ACC]], %[[P]] : f32
// CHECK: linalg.yield %[[S]] : f32
// CHECK-NOT: linalg.conv_2d_nhwc_fhwc
func.func @conv(%x: tensor<1x7x7x32xf32>, %w0: tensor<1x3x2x16xf32>) -> tensor<1x3x2x16xf32> {
  %w = arith.constant dense<1.5> : tensor<16x3x2x32xf32>
  %y = linalg.conv_2d_nhwc_fhwc {dilations = dense<[1, 2]> : tensor<2xi64>, strides = dense<[2, 3]> : tensor<2xi64>} ins(%x, %w : tensor<1x7x7x32xf32>, tensor<16x3x2x32xf32>) outs(%w0 : tensor<1x3x2x16xf32>) -> tensor<1x3x2x16xf32>
  return %y : tensor<1x3x2x16xf32>
}

// -----

// 56 input channels: chunks of 14, the largest divisor up to 16.
// CHECK-LABEL: func.func @chunks_of_14
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2], [3, 4]] output_shape [1, 4, 4, 4, 14] : tensor<1x4x4x56xf32> into tensor<1x4x4x4x14xf32>
// CHECK: linalg.generic
// CHECK-SAME: tensor<1x4x4x4x14xf32>, tensor<1x1x4x14x8xf32>
func.func @chunks_of_14(%x: tensor<1x4x4x56xf32>, %init: tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32> {
  %w = arith.constant dense<0.5> : tensor<8x1x1x56xf32>
  %y = linalg.conv_2d_nhwc_fhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x4x4x56xf32>, tensor<8x1x1x56xf32>) outs(%init : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  return %y : tensor<1x4x4x8xf32>
}

// -----

// Left alone: reductions LLVM unrolls itself (3x3x3 and 24 taps), a filter
// that is not a constant, and integer convolutions (resq's own kernels or
// upstream's int8 lowering).
// CHECK-LABEL: func.func @unchanged
// CHECK-COUNT-4: linalg.conv_2d_nhwc_fhwc
// CHECK-NOT: linalg.generic
func.func @unchanged(%a: tensor<1x5x5x3xf32>, %ia: tensor<1x3x3x16xf32>,
                     %b: tensor<1x4x4x24xf32>, %ib: tensor<1x4x4x16xf32>,
                     %c: tensor<1x4x4x32xf32>, %wc: tensor<16x1x1x32xf32>,
                     %d: tensor<1x4x4x32xi8>, %id: tensor<1x4x4x16xi32>)
    -> (tensor<1x3x3x16xf32>, tensor<1x4x4x16xf32>, tensor<1x4x4x16xf32>, tensor<1x4x4x16xi32>) {
  %wa = arith.constant dense<1.0> : tensor<16x3x3x3xf32>
  %ya = linalg.conv_2d_nhwc_fhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%a, %wa : tensor<1x5x5x3xf32>, tensor<16x3x3x3xf32>) outs(%ia : tensor<1x3x3x16xf32>) -> tensor<1x3x3x16xf32>
  %wb = arith.constant dense<1.0> : tensor<16x1x1x24xf32>
  %yb = linalg.conv_2d_nhwc_fhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%b, %wb : tensor<1x4x4x24xf32>, tensor<16x1x1x24xf32>) outs(%ib : tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %yc = linalg.conv_2d_nhwc_fhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%c, %wc : tensor<1x4x4x32xf32>, tensor<16x1x1x32xf32>) outs(%ib : tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %wd = arith.constant dense<1> : tensor<16x1x1x32xi8>
  %yd = linalg.conv_2d_nhwc_fhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%d, %wd : tensor<1x4x4x32xi8>, tensor<16x1x1x32xi8>) outs(%id : tensor<1x4x4x16xi32>) -> tensor<1x4x4x16xi32>
  return %ya, %yb, %yc, %yd : tensor<1x3x3x16xf32>, tensor<1x4x4x16xf32>, tensor<1x4x4x16xf32>, tensor<1x4x4x16xi32>
}
