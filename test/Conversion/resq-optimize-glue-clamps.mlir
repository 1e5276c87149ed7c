// RUN: resq-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(resq-optimize-glue{target-cpu=skylake}))" | FileCheck %s

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
