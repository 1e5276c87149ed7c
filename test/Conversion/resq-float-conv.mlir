// RUN: resq-opt %s --split-input-file --resq-float-conv --canonicalize --cse | FileCheck %s

// A float conv2d with a constant filter: threads share output rows
// (scf.forall); per pixel the partial sums are vectors over the 16 output
// channels, one loop over the 32 input channels per kernel tap, in the
// named op's order (kernel rows, columns, input channels): each input value
// is broadcast and multiplied with a row of the filter, transposed at
// compile time to KH x KW x C x F (the values are checked bit for bit by
// e2e/float_conv.py). Strides (2, 3) and dilations (1, 2) show in the
// image's indices; the body is the named op's out + in * w.
// CHECK-LABEL: func.func @conv
// CHECK-SAME: (%[[X:.*]]: tensor<1x7x7x32xf32>, %[[INIT:.*]]: tensor<1x3x2x16xf32>)
// CHECK-DAG: %[[W:.*]] = arith.constant dense<1.500000e+00> : tensor<3x2x32x16xf32>
// CHECK: scf.forall (%[[OY:.*]]) in (3) shared_outs(%[[OUT:.*]] = %[[INIT]])
// CHECK: %[[ROW:.*]] = tensor.extract_slice %[[OUT]][0, %[[OY]], 0, 0] [1, 1, 2, 16]
// CHECK: scf.for %{{.*}} iter_args(%[[R:.*]] = %[[ROW]])
// CHECK: %[[OX:.*]] = arith.remui
// CHECK: %[[ACC:.*]] = vector.transfer_read %[[R]]{{.*}} : tensor<1x1x2x16xf32>, vector<16xf32>
// CHECK: %[[IY:.*]] = arith.muli %[[OY]], %c2
// CHECK: %[[IX:.*]] = arith.muli %[[OX]], %c3
// CHECK: %[[S0:.*]] = scf.for %[[C:.*]] = %c0 to %c32 step %c1 iter_args(%[[SUM:.*]] = %[[ACC]]) -> (vector<16xf32>)
// CHECK: %[[IN:.*]] = tensor.extract %[[X]][%{{.*}}, %[[IY]], %[[IX]], %[[C]]]
// CHECK: %[[B:.*]] = vector.broadcast %[[IN]] : f32 to vector<16xf32>
// CHECK: %[[WT:.*]] = vector.transfer_read %[[W]][%c0, %c0, %[[C]], %c0]
// CHECK: %[[P:.*]] = arith.mulf %[[B]], %[[WT]] : vector<16xf32>
// CHECK: %[[S:.*]] = arith.addf %[[SUM]], %[[P]] : vector<16xf32>
// CHECK: scf.yield %[[S]]
// The next tap: column 1, dilation 2.
// CHECK: %[[IX1:.*]] = arith.addi %[[IX]], %c2
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[S0]])
// CHECK: tensor.extract %[[X]][%{{.*}}, %[[IY]], %[[IX1]], %{{.*}}]
// CHECK: vector.transfer_read %[[W]][%c0, %c1,
// CHECK-COUNT-4: scf.for %{{.*}} = %c0 to %c32 step %c1
// CHECK: vector.transfer_write
// CHECK: tensor.parallel_insert_slice
// CHECK-NOT: linalg.conv_2d_nhwc_fhwc
func.func @conv(%x: tensor<1x7x7x32xf32>, %w0: tensor<1x3x2x16xf32>) -> tensor<1x3x2x16xf32> {
  %w = arith.constant dense<1.5> : tensor<16x3x2x32xf32>
  %y = linalg.conv_2d_nhwc_fhwc {dilations = dense<[1, 2]> : tensor<2xi64>, strides = dense<[2, 3]> : tensor<2xi64>} ins(%x, %w : tensor<1x7x7x32xf32>, tensor<16x3x2x32xf32>) outs(%w0 : tensor<1x3x2x16xf32>) -> tensor<1x3x2x16xf32>
  return %y : tensor<1x3x2x16xf32>
}

// -----

// 96 output channels: a pixel keeps 3 vectors of 16 partial sums (48
// channels, a divisor of 96 up to 4 x 16), so each input value loaded feeds
// all three; two such blocks per pixel.
// CHECK-LABEL: func.func @blocks
// CHECK: scf.for %[[CH:.*]] = %c0 to %c96 step %c48
// CHECK-COUNT-3: vector.transfer_read {{.*}} vector<16xf32>
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-3: arith.addf
// CHECK: scf.yield
// CHECK-COUNT-3: vector.transfer_write
func.func @blocks(%x: tensor<1x4x4x8xf32>, %init: tensor<1x4x4x96xf32>) -> tensor<1x4x4x96xf32> {
  %w = arith.constant dense<0.5> : tensor<96x1x1x8xf32>
  %y = linalg.conv_2d_nhwc_fhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x4x4x8xf32>, tensor<96x1x1x8xf32>) outs(%init : tensor<1x4x4x96xf32>) -> tensor<1x4x4x96xf32>
  return %y : tensor<1x4x4x96xf32>
}

// -----

// Depthwise, multiplier 1, 24 channels: vectors of 12 (the largest divisor
// up to 16), the multiplier dimension collapsed away so every vector is a
// plain load along channels; the window's 9 taps in the named op's order,
// stride 2 in the image's indices.
// CHECK-LABEL: func.func @depthwise
// CHECK-SAME: (%[[X:.*]]: tensor<1x9x9x24xf32>, %[[W:.*]]: tensor<3x3x24x1xf32>, %[[INIT:.*]]: tensor<1x4x4x24x1xf32>)
// CHECK-DAG: %[[HWC:.*]] = tensor.collapse_shape %[[W]] {{\[}}[0], [1], [2, 3]]
// CHECK-DAG: %[[NHWC:.*]] = tensor.collapse_shape %[[INIT]] {{\[}}[0], [1], [2], [3, 4]]
// CHECK: %[[R:.*]] = scf.forall (%[[OY:.*]]) in (4) shared_outs(%{{.*}} = %[[NHWC]])
// CHECK: scf.for %[[CH:.*]] = %c0 to %c24 step %c12
// CHECK: %[[ACC:.*]] = vector.transfer_read {{.*}} vector<12xf32>
// CHECK: %[[IY:.*]] = arith.muli %[[OY]], %c2
// CHECK: %[[IN:.*]] = vector.transfer_read %[[X]][%{{.*}}, %[[IY]], %{{.*}}, %[[CH]]]
// CHECK: %[[WT:.*]] = vector.transfer_read %[[HWC]][%c0, %c0, %[[CH]]]
// CHECK: %[[P:.*]] = arith.mulf %[[IN]], %[[WT]] : vector<12xf32>
// CHECK: %[[S:.*]] = arith.addf %[[ACC]], %[[P]] : vector<12xf32>
// CHECK: vector.transfer_read %[[HWC]][%c0, %c1, %[[CH]]]
// CHECK-COUNT-8: arith.addf
// CHECK: vector.transfer_write
// CHECK: tensor.expand_shape %[[R]] {{\[}}[0], [1], [2], [3, 4]]
// CHECK-NOT: linalg.depthwise_conv_2d_nhwc_hwcm
func.func @depthwise(%x: tensor<1x9x9x24xf32>, %w: tensor<3x3x24x1xf32>, %init: tensor<1x4x4x24x1xf32>) -> tensor<1x4x4x24x1xf32> {
  %y = linalg.depthwise_conv_2d_nhwc_hwcm {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<1x9x9x24xf32>, tensor<3x3x24x1xf32>) outs(%init : tensor<1x4x4x24x1xf32>) -> tensor<1x4x4x24x1xf32>
  return %y : tensor<1x4x4x24x1xf32>
}

// -----

// Left alone: a conv2d filter that is not a constant, integer convolutions
// (resq's own kernels or upstream's int8 lowering), a depthwise channel
// multiplier of 2 and a depthwise with no channels.
// CHECK-LABEL: func.func @unchanged
// CHECK-COUNT-2: linalg.conv_2d_nhwc_fhwc
// CHECK-COUNT-2: linalg.depthwise_conv_2d_nhwc_hwcm
// CHECK-NOT: scf.forall
func.func @unchanged(%c: tensor<1x4x4x32xf32>, %wc: tensor<16x1x1x32xf32>,
                     %ic: tensor<1x4x4x16xf32>,
                     %d: tensor<1x4x4x32xi8>, %id: tensor<1x4x4x16xi32>,
                     %e: tensor<1x4x4x8xf32>, %we: tensor<1x1x8x2xf32>,
                     %ie: tensor<1x4x4x8x2xf32>,
                     %z: tensor<1x4x4x0xf32>, %wz: tensor<1x1x0x1xf32>,
                     %iz: tensor<1x4x4x0x1xf32>)
    -> (tensor<1x4x4x16xf32>, tensor<1x4x4x16xi32>, tensor<1x4x4x8x2xf32>, tensor<1x4x4x0x1xf32>) {
  %yc = linalg.conv_2d_nhwc_fhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%c, %wc : tensor<1x4x4x32xf32>, tensor<16x1x1x32xf32>) outs(%ic : tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %wd = arith.constant dense<1> : tensor<16x1x1x32xi8>
  %yd = linalg.conv_2d_nhwc_fhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%d, %wd : tensor<1x4x4x32xi8>, tensor<16x1x1x32xi8>) outs(%id : tensor<1x4x4x16xi32>) -> tensor<1x4x4x16xi32>
  %ye = linalg.depthwise_conv_2d_nhwc_hwcm {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%e, %we : tensor<1x4x4x8xf32>, tensor<1x1x8x2xf32>) outs(%ie : tensor<1x4x4x8x2xf32>) -> tensor<1x4x4x8x2xf32>
  %yz = linalg.depthwise_conv_2d_nhwc_hwcm {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%z, %wz : tensor<1x4x4x0xf32>, tensor<1x1x0x1xf32>) outs(%iz : tensor<1x4x4x0x1xf32>) -> tensor<1x4x4x0x1xf32>
  return %yc, %yd, %ye, %yz : tensor<1x4x4x16xf32>, tensor<1x4x4x16xi32>, tensor<1x4x4x8x2xf32>, tensor<1x4x4x0x1xf32>
}
