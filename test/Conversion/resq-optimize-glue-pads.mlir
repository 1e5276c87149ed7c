// RUN: resq-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(resq-optimize-glue{target-cpu=skylake}))" | FileCheck %s

// The padded result of an elementwise generic: the generic writes the
// interior of the padded tensor (its init is that slice, which one-shot
// bufferization writes in place), and only the border is filled: rows 0
// and 5 whole, then columns 0 and 5 of the interior rows.
// CHECK-LABEL: func.func @pad_generic
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<1x6x6x8xf32>
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[EMPTY]][0, 0, 0, 0] [1, 1, 6, 8] [1, 1, 1, 1]
// CHECK: %[[F0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[S0]]
// CHECK: %[[P0:.*]] = tensor.insert_slice %[[F0]] into %[[EMPTY]][0, 0, 0, 0] [1, 1, 6, 8] [1, 1, 1, 1]
// CHECK: tensor.extract_slice %[[P0]][0, 5, 0, 0] [1, 1, 6, 8] [1, 1, 1, 1]
// CHECK: tensor.extract_slice %{{.*}}[0, 1, 0, 0] [1, 4, 1, 8] [1, 1, 1, 1]
// CHECK: %[[S3:.*]] = tensor.extract_slice %{{.*}}[0, 1, 5, 0] [1, 4, 1, 8] [1, 1, 1, 1]
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[S3]]
// CHECK: %[[PADDED:.*]] = tensor.insert_slice %{{.*}}[0, 1, 5, 0] [1, 4, 1, 8] [1, 1, 1, 1]
// CHECK: %[[INTERIOR:.*]] = tensor.extract_slice %[[PADDED]][0, 1, 1, 0] [1, 4, 4, 8] [1, 1, 1, 1]
// CHECK: %[[GLUE:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[INTERIOR]])
// CHECK: arith.sitofp %{{.*}} : vector<1x1x1x8xi32> to vector<1x1x1x8xf32>
// CHECK: %[[RESULT:.*]] = tensor.insert_slice %[[GLUE]] into %[[PADDED]][0, 1, 1, 0] [1, 4, 4, 8] [1, 1, 1, 1]
// CHECK-NOT: tensor.pad
// CHECK: return %[[RESULT]]
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#channel = affine_map<(d0, d1, d2, d3) -> (d3)>
func.func @pad_generic(%x: tensor<1x4x4x8xi32>, %s: tensor<8xf32>) -> tensor<1x6x6x8xf32> {
  %e = tensor.empty() : tensor<1x4x4x8xf32>
  %g = linalg.generic {indexing_maps = [#map, #channel, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %s : tensor<1x4x4x8xi32>, tensor<8xf32>) outs(%e : tensor<1x4x4x8xf32>) {
  ^bb0(%in: i32, %k: f32, %out: f32):
    %f = arith.sitofp %in : i32 to f32
    %m = arith.mulf %f, %k : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x8xf32>
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %g low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<1x4x4x8xf32> to tensor<1x6x6x8xf32>
  return %p : tensor<1x6x6x8xf32>
}

// -----

// A stateless layer's output as its kernel writes it (vector writes into
// a buffer of its own, then read as a tensor): the kernel writes the
// interior of the padded buffer, whose border is filled.
// CHECK-LABEL: func.func @pad_kernel_output
// CHECK: %[[PADDED:.*]] = memref.alloc() : memref<1x6x6x16xi8>
// CHECK: %[[TOP:.*]] = memref.subview %[[PADDED]][0, 0, 0, 0] [1, 1, 6, 16] [1, 1, 1, 1]
// CHECK: linalg.fill ins(%{{.*}} : i8) outs(%[[TOP]]
// CHECK-COUNT-3: linalg.fill
// CHECK: %[[INTERIOR:.*]] = memref.subview %[[PADDED]][0, 1, 1, 0] [1, 4, 4, 16] [1, 1, 1, 1]
// CHECK: scf.for
// CHECK: vector.transfer_write %{{.*}}, %[[INTERIOR]]
// CHECK-NOT: tensor.pad
// CHECK: %[[RESULT:.*]] = bufferization.to_tensor %[[PADDED]] restrict
// CHECK: return %[[RESULT]]
func.func @pad_kernel_output(%v: vector<16xi8>) -> tensor<1x6x6x16xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %out = memref.alloc() : memref<1x4x4x16xi8>
  scf.for %y = %c0 to %c4 step %c1 {
    scf.for %x = %c0 to %c4 step %c1 {
      vector.transfer_write %v, %out[%c0, %y, %x, %c0] {in_bounds = [true]} : vector<16xi8>, memref<1x4x4x16xi8>
    }
  }
  %t = bufferization.to_tensor %out restrict : memref<1x4x4x16xi8> to tensor<1x4x4x16xi8>
  %p = tensor.pad %t low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    %zp = arith.constant -128 : i8
    tensor.yield %zp : i8
  } : tensor<1x4x4x16xi8> to tensor<1x6x6x16xi8>
  return %p : tensor<1x6x6x16xi8>
}

// -----

// The generic's result is read elsewhere too: the pad stays.
// CHECK-LABEL: func.func @pad_shared
// CHECK: tensor.pad
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @pad_shared(%x: tensor<1x4x4x8xi32>) -> (tensor<1x6x6x8xf32>, tensor<1x4x4x8xf32>) {
  %e = tensor.empty() : tensor<1x4x4x8xf32>
  %g = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x4x4x8xi32>) outs(%e : tensor<1x4x4x8xf32>) {
  ^bb0(%in: i32, %out: f32):
    %f = arith.sitofp %in : i32 to f32
    linalg.yield %f : f32
  } -> tensor<1x4x4x8xf32>
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %g low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<1x4x4x8xf32> to tensor<1x6x6x8xf32>
  return %p, %g : tensor<1x6x6x8xf32>, tensor<1x4x4x8xf32>
}

// -----

// The same with the padding as constant operands (as the float
// convolutions' pads have it): the generic writes the interior in place.
// CHECK-LABEL: func.func @pad_constant_operands
// CHECK: %[[INTERIOR:.*]] = tensor.extract_slice %{{.*}}[0, 1, 1, 0] [1, 4, 4, 8] [1, 1, 1, 1]
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[INTERIOR]])
// CHECK-NOT: tensor.pad
// CHECK: return
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#channel = affine_map<(d0, d1, d2, d3) -> (d3)>
func.func @pad_constant_operands(%x: tensor<1x4x4x8xi32>, %s: tensor<8xf32>) -> tensor<1x6x6x8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %e = tensor.empty() : tensor<1x4x4x8xf32>
  %g = linalg.generic {indexing_maps = [#map, #channel, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %s : tensor<1x4x4x8xi32>, tensor<8xf32>) outs(%e : tensor<1x4x4x8xf32>) {
  ^bb0(%in: i32, %k: f32, %out: f32):
    %f = arith.sitofp %in : i32 to f32
    %m = arith.mulf %f, %k : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x8xf32>
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %g low[%c0, %c1, %c1, %c0] high[%c0, %c1, %c1, %c0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<1x4x4x8xf32> to tensor<1x6x6x8xf32>
  return %p : tensor<1x6x6x8xf32>
}
