// RUN: resq-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(resq-optimize-glue{target-cpu=skylake}))" | FileCheck %s
// RUN: resq-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(resq-optimize-glue{target-cpu=sapphirerapids}))" | FileCheck %s --check-prefix=AVX512
// x86-64-v4 has AVX-512F through the features it lists (BW, DQ, VL).
// RUN: resq-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(resq-optimize-glue{target-cpu=x86-64-v4}))" | FileCheck %s --check-prefix=AVX512
// RUN: resq-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(resq-optimize-glue{target-cpu=sapphirerapids}),resq-lower-intrinsics)" | FileCheck %s --check-prefix=INTRINSIC

// A requantization: an int32 accumulator dequantized by finite per-channel
// constants is finite, so never NaN. ReLU's clamp to the largest float
// goes (it returns its operand); the other clamps may ignore NaN (nnan)
// and the sign of zero (nsz: only the conversion to int8 follows).
// CHECK-LABEL: func.func @requantize
// CHECK-NOT: arith.minimumf %{{.*}}, %{{.*}} :
// CHECK: %[[F:.*]] = arith.sitofp
// CHECK: %[[M:.*]] = arith.mulf %[[F]]
// CHECK-NEXT: %[[R:.*]] = arith.maximumf %[[M]], %{{.*}} fastmath<nnan,nsz>
// CHECK-NEXT: arith.mulf %[[R]]
// CHECK: math.roundeven
// CHECK-NEXT: arith.minimumf %{{.*}} fastmath<nnan,nsz>
// CHECK-NEXT: arith.maximumf %{{.*}} fastmath<nnan,nsz>
// CHECK-NEXT: arith.fptosi
// CHECK-NOT: resq.round_to_int
// With AVX-512 the rounding, clamps and conversion to int8 become the
// clamp to 127, one rounding conversion to int32 (any value below -128
// gives -128 either way) and a saturating truncation.
// AVX512-LABEL: func.func @requantize
// AVX512: %[[A:.*]] = arith.addf
// AVX512-NEXT: %[[C:.*]] = arith.minimumf %[[A]], %{{.*}} fastmath<nnan,nsz> : vector<1x1x1x16xf32>
// AVX512-NEXT: %[[F:.*]] = vector.shape_cast %[[C]] : vector<1x1x1x16xf32> to vector<16xf32>
// AVX512-NEXT: %[[I:.*]] = resq.round_to_int %[[F]] : vector<16xf32> -> vector<16xi32>
// AVX512: %[[LO:.*]] = arith.maxsi %[[I]]
// AVX512: %[[HI:.*]] = arith.minsi %[[LO]]
// AVX512-NEXT: %[[B:.*]] = arith.trunci %[[HI]] : vector<16xi32> to vector<16xi8>
// AVX512-NEXT: vector.shape_cast %[[B]] : vector<16xi8> to vector<1x1x1x16xi8>
// AVX512-NOT: math.roundeven
// AVX512-NOT: arith.fptosi
// AVX512: return
// INTRINSIC-LABEL: func.func @requantize
// INTRINSIC: llvm.call_intrinsic "llvm.x86.avx512.mask.cvtps2dq.512"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xf32>, vector<16xi32>, i16, i32) -> vector<16xi32>
// INTRINSIC-NOT: resq.round_to_int
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#channel = affine_map<(d0, d1, d2, d3) -> (d3)>
func.func @requantize(%acc: tensor<1x2x2x16xi32>) -> tensor<1x2x2x16xi8> {
  %scale = arith.constant dense<[0.5, 0.25, 0.125, 1.0, 2.0, 0.5, 0.25, 0.125, 1.0, 2.0, 0.5, 0.25, 0.125, 1.0, 2.0, 4.0]> : tensor<16xf32>
  %max = arith.constant 3.40282347E+38 : f32
  %zero = arith.constant 0.0 : f32
  %k = arith.constant 4.5 : f32
  %zp = arith.constant -128.0 : f32
  %hi = arith.constant 127.0 : f32
  %e = tensor.empty() : tensor<1x2x2x16xi8>
  %r = linalg.generic {indexing_maps = [#map, #channel, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%acc, %scale : tensor<1x2x2x16xi32>, tensor<16xf32>) outs(%e : tensor<1x2x2x16xi8>) {
  ^bb0(%a: i32, %s: f32, %o: i8):
    %f = arith.sitofp %a : i32 to f32
    %m = arith.mulf %f, %s : f32
    %c0 = arith.minimumf %m, %max : f32
    %c1 = arith.maximumf %c0, %zero : f32
    %y = arith.mulf %c1, %k : f32
    %z = arith.addf %y, %zp : f32
    %n = math.roundeven %z : f32
    %c2 = arith.minimumf %n, %hi : f32
    %c3 = arith.maximumf %c2, %zp : f32
    %q = arith.fptosi %c3 : f32 to i8
    linalg.yield %q : i8
  } -> tensor<1x2x2x16xi8>
  return %r : tensor<1x2x2x16xi8>
}

// -----

// A float result is stored: the sign of a zero stays (no nsz), NaN cannot
// arise (nnan). A bound that is not beyond the operand's keeps the clamp.
// CHECK-LABEL: func.func @float_result
// CHECK: arith.minimumf %{{.*}} fastmath<nnan> :
// CHECK: arith.maximumf %{{.*}} fastmath<nnan> :
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @float_result(%acc: tensor<1x2x2x16xi8>) -> tensor<1x2x2x16xf32> {
  %six = arith.constant 6.0 : f32
  %zero = arith.constant 0.0 : f32
  %s = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<1x2x2x16xf32>
  %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%acc : tensor<1x2x2x16xi8>) outs(%e : tensor<1x2x2x16xf32>) {
  ^bb0(%a: i8, %o: f32):
    %f = arith.sitofp %a : i8 to f32
    %m = arith.mulf %f, %s : f32
    %c0 = arith.minimumf %m, %six : f32
    %c1 = arith.maximumf %c0, %zero : f32
    linalg.yield %c1 : f32
  } -> tensor<1x2x2x16xf32>
  return %r : tensor<1x2x2x16xf32>
}

// -----

// A float input may be NaN, and so may a product with a scale that is not
// a constant: their clamps keep NaN and the order of zeros.
// CHECK-LABEL: func.func @unknown_values
// CHECK-NOT: fastmath
// CHECK: arith.minimumf %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} : f32
// CHECK-NOT: fastmath
// CHECK: arith.minimumf %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} : vector<1x1x1x16xf32>
// CHECK-NOT: fastmath
// CHECK: return
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#channel = affine_map<(d0, d1, d2, d3) -> (d3)>
func.func @unknown_values(%x: tensor<1x2x2x16xf32>, %acc: tensor<1x2x2x16xi32>, %scale: tensor<16xf32>) -> (tensor<1x2x2x16xi8>, tensor<1x2x2x16xi8>) {
  %max = arith.constant 3.40282347E+38 : f32
  %hi = arith.constant 127.0 : f32
  %e = tensor.empty() : tensor<1x2x2x16xi8>
  %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x2x2x16xf32>) outs(%e : tensor<1x2x2x16xi8>) {
  ^bb0(%a: f32, %o: i8):
    %c = arith.minimumf %a, %hi : f32
    %q = arith.fptosi %c : f32 to i8
    linalg.yield %q : i8
  } -> tensor<1x2x2x16xi8>
  %s = linalg.generic {indexing_maps = [#map, #channel, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%acc, %scale : tensor<1x2x2x16xi32>, tensor<16xf32>) outs(%e : tensor<1x2x2x16xi8>) {
  ^bb0(%a: i32, %k: f32, %o: i8):
    %f = arith.sitofp %a : i32 to f32
    %m = arith.mulf %f, %k : f32
    %c = arith.minimumf %m, %max : f32
    %q = arith.fptosi %c : f32 to i8
    linalg.yield %q : i8
  } -> tensor<1x2x2x16xi8>
  return %r, %s : tensor<1x2x2x16xi8>, tensor<1x2x2x16xi8>
}

// -----

// 32 channels: one rounding conversion per 16 lanes.
// AVX512-LABEL: func.func @two_vectors
// AVX512: vector.extract_strided_slice %{{.*}} {offsets = [0], sizes = [16], strides = [1]}
// AVX512-NEXT: resq.round_to_int
// AVX512: vector.extract_strided_slice %{{.*}} {offsets = [16], sizes = [16], strides = [1]}
// AVX512-NEXT: resq.round_to_int
// AVX512-NOT: resq.round_to_int
// AVX512: arith.trunci %{{.*}} : vector<32xi32> to vector<32xi8>
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#channel = affine_map<(d0, d1, d2, d3) -> (d3)>
func.func @two_vectors(%acc: tensor<1x2x2x32xi32>) -> tensor<1x2x2x32xi8> {
  %scale = arith.constant dense<0.25> : tensor<32xf32>
  %lo = arith.constant -128.0 : f32
  %hi = arith.constant 127.0 : f32
  %e = tensor.empty() : tensor<1x2x2x32xi8>
  %r = linalg.generic {indexing_maps = [#map, #channel, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%acc, %scale : tensor<1x2x2x32xi32>, tensor<32xf32>) outs(%e : tensor<1x2x2x32xi8>) {
  ^bb0(%a: i32, %s: f32, %o: i8):
    %f = arith.sitofp %a : i32 to f32
    %m = arith.mulf %f, %s : f32
    %n = math.roundeven %m : f32
    %c0 = arith.minimumf %n, %hi : f32
    %c1 = arith.maximumf %c0, %lo : f32
    %q = arith.fptosi %c1 : f32 to i8
    linalg.yield %q : i8
  } -> tensor<1x2x2x32xi8>
  return %r : tensor<1x2x2x32xi8>
}

// -----

// 8 channels: the lower half of one conversion of 16 lanes.
// AVX512-LABEL: func.func @eight_lanes
// AVX512: %[[F:.*]] = vector.shape_cast %{{.*}} : vector<1x1x1x8xf32> to vector<8xf32>
// AVX512: %[[WIDE:.*]] = vector.insert_strided_slice %[[F]], %{{.*}} {offsets = [0], strides = [1]} : vector<8xf32> into vector<16xf32>
// AVX512-NEXT: %[[I:.*]] = resq.round_to_int %[[WIDE]] : vector<16xf32> -> vector<16xi32>
// AVX512-NEXT: vector.extract_strided_slice %[[I]] {offsets = [0], sizes = [8], strides = [1]} : vector<16xi32> to vector<8xi32>
// AVX512: arith.trunci %{{.*}} : vector<8xi32> to vector<8xi8>
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#channel = affine_map<(d0, d1, d2, d3) -> (d3)>
func.func @eight_lanes(%acc: tensor<1x2x2x8xi32>) -> tensor<1x2x2x8xi8> {
  %scale = arith.constant dense<0.25> : tensor<8xf32>
  %lo = arith.constant -128.0 : f32
  %hi = arith.constant 127.0 : f32
  %e = tensor.empty() : tensor<1x2x2x8xi8>
  %r = linalg.generic {indexing_maps = [#map, #channel, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%acc, %scale : tensor<1x2x2x8xi32>, tensor<8xf32>) outs(%e : tensor<1x2x2x8xi8>) {
  ^bb0(%a: i32, %s: f32, %o: i8):
    %f = arith.sitofp %a : i32 to f32
    %m = arith.mulf %f, %s : f32
    %n = math.roundeven %m : f32
    %c0 = arith.minimumf %n, %hi : f32
    %c1 = arith.maximumf %c0, %lo : f32
    %q = arith.fptosi %c1 : f32 to i8
    linalg.yield %q : i8
  } -> tensor<1x2x2x8xi8>
  return %r : tensor<1x2x2x8xi8>
}

// -----

// int8 codes times 0.5 lie within 64 (as reals; rounding may take a
// result a little past): a clamp at 64.01 is kept, one at -65 goes.
// CHECK-LABEL: func.func @margin
// CHECK: arith.minimumf %{{.*}} fastmath<nnan> :
// CHECK-NOT: arith.maximumf
// CHECK: return
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @margin(%acc: tensor<1x2x2x16xi8>) -> tensor<1x2x2x16xf32> {
  %hi = arith.constant 64.01 : f32
  %lo = arith.constant -65.0 : f32
  %s = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<1x2x2x16xf32>
  %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%acc : tensor<1x2x2x16xi8>) outs(%e : tensor<1x2x2x16xf32>) {
  ^bb0(%a: i8, %o: f32):
    %f = arith.sitofp %a : i8 to f32
    %m = arith.mulf %f, %s : f32
    %c0 = arith.minimumf %m, %hi : f32
    %c1 = arith.maximumf %c0, %lo : f32
    linalg.yield %c1 : f32
  } -> tensor<1x2x2x16xf32>
  return %r : tensor<1x2x2x16xf32>
}
