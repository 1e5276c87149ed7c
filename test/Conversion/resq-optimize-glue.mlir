// RUN: resq-opt %s --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,resq-optimize-glue))" | FileCheck %s
// RUN: resq-opt %s --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,linalg-fuse-elementwise-ops,resq-optimize-glue))" | FileCheck %s --check-prefix=FUSED
// RUN: resq-opt %s --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,resq-optimize-glue))" | FileCheck %s --check-prefix=EXP

// Global average pooling: the whole-input sum becomes loops over rows and
// columns adding one vector of channels per pixel to sums carried in
// registers, from the output's initial values; the division stays.
// CHECK-LABEL: func.func @global_pool
// CHECK-NOT: linalg.pooling_nhwc_sum
// CHECK: %[[INIT:.*]] = linalg.fill
// CHECK: %[[START:.*]] = vector.transfer_read %[[INIT]][%[[C0:.*]], %[[C0]], %[[C0]], %[[C0]]], %{{.*}} {in_bounds = [true]} : tensor<1x1x1x24xf32>, vector<24xf32>
// CHECK: %[[ROWS:.*]] = scf.for %[[Y:.*]] = %[[C0]] to %c16 step %c1 iter_args(%[[RS:.*]] = %[[START]]) -> (vector<24xf32>)
// CHECK: scf.for %[[X:.*]] = %[[C0]] to %c12 step %c1 iter_args(%[[ACC:.*]] = %[[RS]]) -> (vector<24xf32>)
// CHECK: %[[PIX:.*]] = vector.transfer_read %arg0[%[[C0]], %[[Y]], %[[X]], %[[C0]]]
// CHECK: %[[SUM:.*]] = arith.addf %[[ACC]], %[[PIX]] : vector<24xf32>
// CHECK: scf.yield %[[SUM]]
// CHECK: vector.transfer_write %[[ROWS]], %[[INIT]][%[[C0]], %[[C0]], %[[C0]], %[[C0]]]
// CHECK: arith.divf
func.func @global_pool(%x: tensor<1x16x12x24xf32>) -> tensor<1x1x1x24xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %r = tosa.avg_pool2d %x, %zp, %zp {acc_type = f32, kernel = array<i64: 16, 12>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 16, 12>} : (tensor<1x16x12x24xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x24xf32>
  return %r : tensor<1x1x1x24xf32>
}

// Wide layers: channels in chunks of 64, each its own loop nest.
// CHECK-LABEL: func.func @global_pool_wide
// CHECK: scf.for
// CHECK: vector.transfer_read %arg0[%{{.*}}, %{{.*}}, %{{.*}}, %c0], {{.*}} vector<64xf32>
// CHECK: %[[FIRST:.*]] = vector.transfer_write %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c0] {in_bounds = [true]} : vector<64xf32>, tensor<1x1x1x80xf32>
// CHECK: vector.transfer_read %[[FIRST]][%{{.*}}, %{{.*}}, %{{.*}}, %c64], {{.*}} vector<16xf32>
// CHECK: scf.for
// CHECK: vector.transfer_read %arg0[%{{.*}}, %{{.*}}, %{{.*}}, %c64], {{.*}} vector<16xf32>
// CHECK: vector.transfer_write %{{.*}}, %[[FIRST]][%{{.*}}, %{{.*}}, %{{.*}}, %c64] {in_bounds = [true]} : vector<16xf32>, tensor<1x1x1x80xf32>
func.func @global_pool_wide(%x: tensor<1x4x4x80xf32>) -> tensor<1x1x1x80xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %r = tosa.avg_pool2d %x, %zp, %zp {acc_type = f32, kernel = array<i64: 4, 4>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 4, 4>} : (tensor<1x4x4x80xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x80xf32>
  return %r : tensor<1x1x1x80xf32>
}

// An elementwise result that only the pooling reads (selfie: a skip
// connection's sum) is computed in the pooling's loop and never stored;
// a per-channel operand is read as a vector, a scalar one broadcast.
// FUSED-LABEL: func.func @global_pool_of_sum
// FUSED-NOT: linalg.generic
// FUSED: scf.for %[[Y:.*]] = %{{.*}} to %c16
// FUSED: scf.for %[[X:.*]] = %{{.*}} to %c12 step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<24xf32>)
// FUSED: %[[A:.*]] = vector.transfer_read %arg0[%{{.*}}, %[[Y]], %[[X]], %{{.*}}]{{.*}} vector<24xf32>
// FUSED: %[[B:.*]] = vector.transfer_read %arg1[%{{.*}}, %[[Y]], %[[X]], %{{.*}}]{{.*}} vector<24xf32>
// FUSED: %[[S:.*]] = vector.transfer_read %arg2[{{.*}} vector<24xf32>
// FUSED: %[[T:.*]] = tensor.extract %arg3
// FUSED: %[[TV:.*]] = vector.broadcast %[[T]] : f32 to vector<24xf32>
// FUSED: %[[BS:.*]] = arith.mulf %[[B]], %[[S]] : vector<24xf32>
// FUSED: %[[BST:.*]] = arith.mulf %[[BS]], %[[TV]] : vector<24xf32>
// FUSED: %[[SUM:.*]] = arith.addf %[[A]], %[[BST]] : vector<24xf32>
// FUSED: arith.addf %[[ACC]], %[[SUM]] : vector<24xf32>
// FUSED: arith.divf
// Unfused (no linalg-fuse-elementwise-ops), the sum's own producers stay
// loops that store their results; the sum itself still is not stored.
// CHECK-LABEL: func.func @global_pool_of_sum
// CHECK-NOT: linalg.pooling_nhwc_sum
// CHECK: scf.for
// CHECK: %[[ACC:.*]] = vector.transfer_read %arg0
// CHECK: %[[SUM:.*]] = arith.addf %[[ACC]], %{{.*}} : vector<24xf32>
// CHECK: arith.addf %{{.*}}, %[[SUM]] : vector<24xf32>
func.func @global_pool_of_sum(%a: tensor<1x16x12x24xf32>, %b: tensor<1x16x12x24xf32>, %s: tensor<1x1x1x24xf32>, %t: tensor<1x1x1x1xf32>) -> tensor<1x1x1x24xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %z8 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %bs = tosa.mul %b, %s, %z8 : (tensor<1x16x12x24xf32>, tensor<1x1x1x24xf32>, tensor<1xi8>) -> tensor<1x16x12x24xf32>
  %bst = tosa.mul %bs, %t, %z8 : (tensor<1x16x12x24xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x16x12x24xf32>
  %x = tosa.add %a, %bst : (tensor<1x16x12x24xf32>, tensor<1x16x12x24xf32>) -> tensor<1x16x12x24xf32>
  %r = tosa.avg_pool2d %x, %zp, %zp {acc_type = f32, kernel = array<i64: 16, 12>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 16, 12>} : (tensor<1x16x12x24xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x24xf32>
  return %r : tensor<1x1x1x24xf32>
}

// A window smaller than the input is left to upstream's pooling.
// CHECK-LABEL: func.func @local_pool
// CHECK: linalg.pooling_nhwc_sum
func.func @local_pool(%x: tensor<1x16x12x24xf32>) -> tensor<1x8x6x24xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %r = tosa.avg_pool2d %x, %zp, %zp {acc_type = f32, kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : (tensor<1x16x12x24xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x8x6x24xf32>
  return %r : tensor<1x8x6x24xf32>
}

// The sigmoid's exp becomes arithmetic (no libm call); with 8 channels and
// no per-channel operand the generic also runs over rows of 4 x 32
// elements (below).
// EXP-LABEL: func.func @sigmoid
// EXP-NOT: math.exp
// EXP: linalg.generic {{.*}} ins(%{{.*}} : tensor<4x32xf32>)
// EXP: math.fma %{{.*}} : f32
// EXP-NOT: math.exp
// EXP: return
func.func @sigmoid(%x: tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32> {
  %r = tosa.sigmoid %x : (tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  return %r : tensor<1x4x4x8xf32>
}

// At most 128 channels innermost (8 here, with a per-channel scale): LLVM
// would leave the loop scalar (or gather across pixels), so the generic
// becomes loops over (n, h, w) around one vector op over the pixel's
// channels. 160 channels stay a generic.
// RUN: resq-opt %s --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,resq-optimize-glue))" | FileCheck %s --check-prefix=NARROW
// NARROW-LABEL: func.func @narrow_channels
// NARROW-NOT: linalg.generic
// NARROW: scf.for
// NARROW: scf.for
// NARROW: scf.for
// NARROW: vector.transfer_read %{{.*}} : tensor<1x1x1x8xi32>, vector<1x1x1x8xi32>
// NARROW: arith.sitofp %{{.*}} : vector<1x1x1x8xi32> to vector<1x1x1x8xf32>
// NARROW: arith.mulf %{{.*}} : vector<1x1x1x8xf32>
// NARROW: vector.transfer_write
// NARROW-LABEL: func.func @wide_channels
// NARROW: linalg.generic
// NARROW-NOT: vector.transfer_read
// NARROW: return
#channel = affine_map<(d0, d1, d2, d3) -> (d3)>
#pixel = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @narrow_channels(%a: tensor<1x4x6x8xi32>, %s: tensor<8xf32>) -> tensor<1x4x6x8xf32> {
  %e = tensor.empty() : tensor<1x4x6x8xf32>
  %r = linalg.generic {indexing_maps = [#pixel, #channel, #pixel], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%a, %s : tensor<1x4x6x8xi32>, tensor<8xf32>) outs(%e : tensor<1x4x6x8xf32>) {
  ^bb0(%in: i32, %scale: f32, %out: f32):
    %f = arith.sitofp %in : i32 to f32
    %m = arith.mulf %f, %scale : f32
    linalg.yield %m : f32
  } -> tensor<1x4x6x8xf32>
  return %r : tensor<1x4x6x8xf32>
}
func.func @wide_channels(%a: tensor<1x4x6x160xi32>, %s: tensor<160xf32>) -> tensor<1x4x6x160xf32> {
  %e = tensor.empty() : tensor<1x4x6x160xf32>
  %r = linalg.generic {indexing_maps = [#pixel, #channel, #pixel], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%a, %s : tensor<1x4x6x160xi32>, tensor<160xf32>) outs(%e : tensor<1x4x6x160xf32>) {
  ^bb0(%in: i32, %scale: f32, %out: f32):
    %f = arith.sitofp %in : i32 to f32
    %m = arith.mulf %f, %scale : f32
    linalg.yield %m : f32
  } -> tensor<1x4x6x160xf32>
  return %r : tensor<1x4x6x160xf32>
}

// Narrow, but every operand indexed by the identity (the model's 3-channel
// input quantization, its 1-channel output): rows of N x H by W x C, one
// generic LLVM vectorizes along W x C.
// RUN: resq-opt %s --pass-pipeline="builtin.module(func.func(resq-optimize-glue))" | FileCheck %s --check-prefix=MERGED
// MERGED-LABEL: func.func @one_channel
// MERGED: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2, 3]] : tensor<1x4x6x1xi32> into tensor<4x6xi32>
// MERGED: linalg.generic {{.*}} ins(%{{.*}} : tensor<4x6xi32>) outs(%{{.*}} : tensor<4x6xf32>)
// MERGED: tensor.expand_shape
// MERGED-NOT: scf.for
// MERGED: return
func.func @one_channel(%a: tensor<1x4x6x1xi32>) -> tensor<1x4x6x1xf32> {
  %e = tensor.empty() : tensor<1x4x6x1xf32>
  %c = arith.constant 0.5 : f32
  %r = linalg.generic {indexing_maps = [#pixel, #pixel], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%a : tensor<1x4x6x1xi32>) outs(%e : tensor<1x4x6x1xf32>) {
  ^bb0(%in: i32, %out: f32):
    %f = arith.sitofp %in : i32 to f32
    %m = arith.mulf %f, %c : f32
    linalg.yield %m : f32
  } -> tensor<1x4x6x1xf32>
  return %r : tensor<1x4x6x1xf32>
}

// Bilinear resizing reads four input pixels per output pixel through
// tensor.extract; per output pixel it becomes contiguous vector reads of
// the channels instead (LLVM gathered and scattered). What depends on the
// output column alone (two input columns, the weight and 1 - the weight,
// computed once though upstream writes it twice) is tabulated per column
// first and read back per pixel.
// RUN: resq-opt %s --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,resq-optimize-glue))" | FileCheck %s --check-prefix=RESIZE
// RESIZE-LABEL: func.func @resize
// RESIZE: %[[T:.*]]:4 = linalg.generic {{.*}} iterator_types = ["parallel"]} outs({{.*}} : tensor<10xf32>, tensor<10xindex>, tensor<10xindex>, tensor<10xf32>)
// RESIZE: linalg.index 0
// RESIZE: arith.floordivsi
// RESIZE: linalg.yield
// RESIZE-NOT: tensor.extract
// RESIZE: scf.for
// RESIZE: scf.for
// RESIZE: scf.for
// RESIZE: vector.transfer_read %[[T]]#0
// RESIZE: vector.transfer_read %[[T]]#1
// RESIZE: vector.transfer_read %[[T]]#2
// RESIZE: vector.transfer_read %[[T]]#3
// Only the row's input rows are computed in the pixel loop.
// RESIZE: arith.floordivsi
// RESIZE-NOT: arith.floordivsi
// RESIZE-COUNT-4: vector.transfer_read %{{.*}} : tensor<1x4x5x24xf32>, vector<1x1x1x24xf32>
// RESIZE-NOT: tensor.extract
// RESIZE: return
func.func @resize(%x: tensor<1x4x5x24xf32>) -> tensor<1x8x10x24xf32> {
  %scale = tosa.const_shape {values = dense<[4, 2, 4, 2]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %offset = tosa.const_shape {values = dense<-1> : tensor<2xindex>} : () -> !tosa.shape<2>
  %border = tosa.const_shape {values = dense<1> : tensor<2xindex>} : () -> !tosa.shape<2>
  %r = tosa.resize %x, %scale, %offset, %border {mode = BILINEAR} : (tensor<1x4x5x24xf32>, !tosa.shape<4>, !tosa.shape<2>, !tosa.shape<2>) -> tensor<1x8x10x24xf32>
  return %r : tensor<1x8x10x24xf32>
}

// Without SSE4.1 (x86-64) rounding is exact arithmetic instead of a libm
// call per element; CPUs with a rounding instruction keep math.roundeven.
// RUN: resq-opt %s --pass-pipeline="builtin.module(func.func(resq-optimize-glue{target-cpu=x86-64}))" | FileCheck %s --check-prefix=PORTABLE
// RUN: resq-opt %s --pass-pipeline="builtin.module(func.func(resq-optimize-glue{target-cpu=skylake}))" | FileCheck %s --check-prefix=SSE41
// PORTABLE-LABEL: func.func @rounding
// PORTABLE-NOT: math.roundeven
// PORTABLE-NOT: math.floor
// PORTABLE-DAG: %[[BIG:.*]] = arith.constant 0x4B000000 : f32
// PORTABLE-DAG: %[[ABS:.*]] = math.absf %arg0
// PORTABLE: %[[ADD:.*]] = arith.addf %[[ABS]], %[[BIG]]
// PORTABLE: %[[SUB:.*]] = arith.subf %[[ADD]], %[[BIG]]
// PORTABLE: %[[SIGN:.*]] = math.copysign %[[SUB]], %arg0
// PORTABLE: %[[SMALL:.*]] = arith.cmpf olt, %[[ABS]], %[[BIG]]
// PORTABLE: %[[R:.*]] = arith.select %[[SMALL]], %[[SIGN]], %arg0
// PORTABLE: arith.cmpf ogt, %{{.*}}, %arg1
// PORTABLE: arith.subf
// PORTABLE: arith.select
// PORTABLE: return %[[R]]
// SSE41-LABEL: func.func @rounding
// SSE41: math.roundeven
// SSE41: math.floor
func.func @rounding(%x: f32, %y: f32) -> (f32, f32) {
  %r = math.roundeven %x : f32
  %f = math.floor %y : f32
  return %r, %f : f32, f32
}
