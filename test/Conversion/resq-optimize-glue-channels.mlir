// RUN: resq-opt %s --pass-pipeline="builtin.module(func.func(resq-optimize-glue{target-cpu=skylake}))" | FileCheck %s

#pixel = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#perChannel = affine_map<(d0, d1, d2, d3) -> (d0, 0, 0, d3)>
#channel = affine_map<(d0, d1, d2, d3) -> (d3)>

// Squeeze-excite's scale, fused into its consumer by upstream's elementwise
// fusion, depends on per-channel inputs alone: it is computed once per
// channel by a generic of its own (one dimension, the channel; the batch
// dimension of one element read at 0), and the consumer reads its table
// along the channels at every pixel, without the sigmoid's division.
// CHECK-DAG: #[[ONE:.*]] = affine_map<(d0) -> (0, 0, 0, d0)>
// CHECK-DAG: #[[ID1:.*]] = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func.func @squeeze_excite_scale
// CHECK: %[[TABLE:.*]] = linalg.generic {indexing_maps = [#[[ONE]], #[[ONE]], #[[ID1]]], iterator_types = ["parallel"]} ins(%arg1, %arg2 : tensor<1x1x1x16xi32>, tensor<1x1x1x16xf32>) outs(%{{.*}} : tensor<16xf32>)
// CHECK: arith.sitofp %{{.*}} : i32 to f32
// CHECK: arith.divf
// CHECK: scf.for
// CHECK: %[[SLICE:.*]] = tensor.extract_slice %[[TABLE]]
// CHECK: vector.transfer_read %[[SLICE]]
// CHECK-NOT: arith.divf
// CHECK: arith.mulf %{{.*}} : vector<1x1x1x16xf32>
// CHECK: math.roundeven %{{.*}} : vector<1x1x1x16xf32>
// CHECK-LABEL: func.func @dequantize_only
func.func @squeeze_excite_scale(%x: tensor<1x4x6x16xf32>, %se: tensor<1x1x1x16xi32>, %scale: tensor<1x1x1x16xf32>) -> tensor<1x4x6x16xi8> {
  %one = arith.constant 1.0 : f32
  %q = arith.constant 12.5 : f32
  %e = tensor.empty() : tensor<1x4x6x16xi8>
  %r = linalg.generic {indexing_maps = [#pixel, #perChannel, #perChannel, #pixel], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %se, %scale : tensor<1x4x6x16xf32>, tensor<1x1x1x16xi32>, tensor<1x1x1x16xf32>) outs(%e : tensor<1x4x6x16xi8>) {
  ^bb0(%a: f32, %s: i32, %k: f32, %o: i8):
    %0 = arith.sitofp %s : i32 to f32
    %1 = arith.mulf %0, %k : f32
    %2 = arith.negf %1 : f32
    %3 = math.exp %2 : f32
    %4 = arith.addf %3, %one : f32
    %5 = arith.divf %one, %4 : f32
    %6 = arith.mulf %a, %5 : f32
    %7 = arith.mulf %6, %q : f32
    %8 = math.roundeven %7 : f32
    %9 = arith.fptosi %8 : f32 to i8
    linalg.yield %9 : i8
  } -> tensor<1x4x6x16xi8>
  return %r : tensor<1x4x6x16xi8>
}

// A per-channel dequantization (a cast and a multiply) is not worth a
// table.
// CHECK-NOT: tensor<16xf32>
// CHECK-LABEL: func.func @bits_per_channel
func.func @dequantize_only(%x: tensor<1x4x6x16xf32>, %se: tensor<1x1x1x16xi32>, %scale: tensor<1x1x1x16xf32>) -> tensor<1x4x6x16xf32> {
  %e = tensor.empty() : tensor<1x4x6x16xf32>
  %r = linalg.generic {indexing_maps = [#pixel, #perChannel, #perChannel, #pixel], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %se, %scale : tensor<1x4x6x16xf32>, tensor<1x1x1x16xi32>, tensor<1x1x1x16xf32>) outs(%e : tensor<1x4x6x16xf32>) {
  ^bb0(%a: f32, %s: i32, %k: f32, %o: f32):
    %0 = arith.sitofp %s : i32 to f32
    %1 = arith.mulf %0, %k : f32
    %2 = arith.mulf %a, %1 : f32
    linalg.yield %2 : f32
  } -> tensor<1x4x6x16xf32>
  return %r : tensor<1x4x6x16xf32>
}

// A rescale's per-channel shift and its rounding flag (i1): vector code
// reads i1 in memory as packed bits, scalar code writes bytes, so no
// tables.
// CHECK-NOT: tensor<16xi1>
// CHECK-NOT: tensor<16xi64>
// CHECK-LABEL: func.func @epilogue
func.func @bits_per_channel(%x: tensor<1x4x6x16xi32>, %shift: tensor<16xi8>) -> tensor<1x4x6x16xi64> {
  %c1 = arith.constant 1 : i64
  %c31 = arith.constant 31 : i32
  %e = tensor.empty() : tensor<1x4x6x16xi64>
  %r = linalg.generic {indexing_maps = [#pixel, #channel, #pixel], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %shift : tensor<1x4x6x16xi32>, tensor<16xi8>) outs(%e : tensor<1x4x6x16xi64>) {
  ^bb0(%a: i32, %s: i8, %o: i64):
    %0 = arith.extui %s : i8 to i32
    %1 = arith.extui %s : i8 to i64
    %2 = arith.shli %c1, %1 : i64
    %3 = arith.shrui %2, %c1 : i64
    %4 = arith.cmpi sgt, %0, %c31 : i32
    %5 = arith.extsi %a : i32 to i64
    %6 = arith.addi %5, %3 : i64
    %7 = arith.select %4, %6, %5 : i64
    %8 = arith.shrsi %7, %1 : i64
    linalg.yield %8 : i64
  } -> tensor<1x4x6x16xi64>
  return %r : tensor<1x4x6x16xi64>
}

// A stateless layer's accumulator A, filled by its kernel's vector writes
// and read by the glue alone: the glue's body runs on each vector the
// kernel writes (its per-channel scale, a constant defined after the
// kernel, is cloned before it and read there), the kernel writes the glue's
// int8 result, and A is gone.
// CHECK: %[[SCALE:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<16xf32>
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<1x2x3x16xi8>
// CHECK-NOT: memref<1x2x3x16xi32>
// CHECK: scf.for %[[Y:.*]] =
// CHECK: scf.for %[[X:.*]] =
// CHECK: %[[ACC:.*]] = vector.load %arg0
// CHECK: %[[S:.*]] = vector.transfer_read %[[SCALE]][%{{.*}}], %{{.*}} {in_bounds = [true]}
// CHECK: %[[F:.*]] = arith.sitofp %[[ACC]] : vector<16xi32> to vector<16xf32>
// CHECK: %[[M:.*]] = arith.mulf %[[F]], %[[S]] : vector<16xf32>
// CHECK: %[[R:.*]] = math.roundeven %[[M]] : vector<16xf32>
// CHECK: %[[Q:.*]] = arith.fptosi %[[R]] : vector<16xf32> to vector<16xi8>
// CHECK: vector.transfer_write %[[Q]], %[[OUT]][%{{.*}}, %[[Y]], %[[X]], %{{.*}}] {in_bounds = [true]} : vector<16xi8>, memref<1x2x3x16xi8>
// CHECK-NOT: linalg.generic
// CHECK-NOT: xi32>
// CHECK: %[[RESULT:.*]] = bufferization.to_tensor %[[OUT]] restrict
// CHECK: return %[[RESULT]]
// CHECK-LABEL: func.func @epilogue_read_twice
func.func @epilogue(%bias: memref<16xi32>) -> tensor<1x2x3x16xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %acc = memref.alloc() : memref<1x2x3x16xi32>
  scf.for %y = %c0 to %c2 step %c1 {
    scf.for %x = %c0 to %c3 step %c1 {
      %v = vector.load %bias[%c0] : memref<16xi32>, vector<16xi32>
      vector.transfer_write %v, %acc[%c0, %y, %x, %c0] {in_bounds = [true]} : vector<16xi32>, memref<1x2x3x16xi32>
    }
  }
  %t = bufferization.to_tensor %acc restrict : memref<1x2x3x16xi32> to tensor<1x2x3x16xi32>
  %scale = arith.constant dense<[0.5, 0.25, 1.0, 2.0, 0.5, 0.25, 1.0, 2.0, 0.5, 0.25, 1.0, 2.0, 0.5, 0.25, 1.0, 2.0]> : tensor<16xf32>
  %e = tensor.empty() : tensor<1x2x3x16xi8>
  %r = linalg.generic {indexing_maps = [#pixel, #channel, #pixel], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%t, %scale : tensor<1x2x3x16xi32>, tensor<16xf32>) outs(%e : tensor<1x2x3x16xi8>) {
  ^bb0(%a: i32, %s: f32, %o: i8):
    %0 = arith.sitofp %a : i32 to f32
    %1 = arith.mulf %0, %s : f32
    %2 = math.roundeven %1 : f32
    %3 = arith.fptosi %2 : f32 to i8
    linalg.yield %3 : i8
  } -> tensor<1x2x3x16xi8>
  return %r : tensor<1x2x3x16xi8>
}

// A also read elsewhere (here by a load after the kernel): the glue stays
// apart and A is kept.
// CHECK: memref.alloc() : memref<1x2x3x16xi32>
// CHECK-NOT: memref<1x2x3x16xi8>
// CHECK: bufferization.to_tensor %{{.*}} restrict : memref<1x2x3x16xi32>
func.func @epilogue_read_twice(%bias: memref<16xi32>) -> (tensor<1x2x3x16xf32>, i32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %acc = memref.alloc() : memref<1x2x3x16xi32>
  scf.for %y = %c0 to %c2 step %c1 {
    scf.for %x = %c0 to %c3 step %c1 {
      %v = vector.load %bias[%c0] : memref<16xi32>, vector<16xi32>
      vector.transfer_write %v, %acc[%c0, %y, %x, %c0] {in_bounds = [true]} : vector<16xi32>, memref<1x2x3x16xi32>
    }
  }
  %first = memref.load %acc[%c0, %c0, %c0, %c0] : memref<1x2x3x16xi32>
  %t = bufferization.to_tensor %acc restrict : memref<1x2x3x16xi32> to tensor<1x2x3x16xi32>
  %e = tensor.empty() : tensor<1x2x3x16xf32>
  %r = linalg.generic {indexing_maps = [#pixel, #pixel], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%t : tensor<1x2x3x16xi32>) outs(%e : tensor<1x2x3x16xf32>) {
  ^bb0(%a: i32, %o: f32):
    %0 = arith.sitofp %a : i32 to f32
    linalg.yield %0 : f32
  } -> tensor<1x2x3x16xf32>
  return %r, %first : tensor<1x2x3x16xf32>, i32
}
