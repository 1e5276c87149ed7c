// RUN: resq-opt %s -split-input-file -verify-diagnostics --resq-residualize
// Bad option values are reported once, on the module, before any change.
// RUN: not resq-opt %s -split-input-file --resq-residualize="bits=10" 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not resq-opt %s -split-input-file --resq-residualize="step=0" 2>&1 | FileCheck %s --check-prefix=STEP
// RUN: not resq-opt %S/resq-residualize.mlir --resq-residualize="layer-steps=nosuchlayer:2" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not resq-opt %s -split-input-file --resq-residualize="layer-bits=conv2d_0" 2>&1 | FileCheck %s --check-prefix=SYNTAX
// RUN: not resq-opt %S/resq-residualize.mlir --resq-residualize="standard-layers=stem,nosuchlayer" 2>&1 | FileCheck %s --check-prefix=STDUNKNOWN
// RUN: not resq-opt %s -split-input-file --resq-residualize="standard-above=1.5" 2>&1 | FileCheck %s --check-prefix=STDRANGE

// BITS: error: resq-residualize: bits must be 2 to 9, got 10
// STEP: error: resq-residualize: step must be a positive integer, got 0
// UNKNOWN: error: resq-residualize: layer-steps names unknown layer 'nosuchlayer'; layers are: stem, depthwise_conv2d_1, transpose_conv2d_2, matmul_3
// SYNTAX: error: resq-residualize: layer-bits entry 'conv2d_0' must be LAYER:VALUE with an integer value
// STDUNKNOWN: error: resq-residualize: standard-layers names unknown layer 'nosuchlayer'; layers are: stem, depthwise_conv2d_1, transpose_conv2d_2, matmul_3
// STDRANGE: error: resq-residualize: standard-above must be in [0, 1], got 1.5

func.func @float_conv(%x: tensor<1x8x8x4xf32>) -> tensor<1x8x8x8xf32> {
  %w = "tosa.const"() {values = dense<1.0> : tensor<8x1x1x4xf32>} : () -> tensor<8x1x1x4xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<8xf32>} : () -> tensor<8xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // expected-error @+1 {{resq-residualize: 'tosa.conv2d' has 'f32' input and 'f32' weights; only int8 linear layers can be residualized (quantize the model to int8 first)}}
  %0 = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x8x8x4xf32>, tensor<8x1x1x4xf32>, tensor<8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x8x8x8xf32>
  return %0 : tensor<1x8x8x8xf32>
}

// -----

func.func @unsupported(%x: tensor<1x8x8x4xi8>) -> tensor<1x8x8x8xi32> {
  %w = "tosa.const"() {values = dense<1> : tensor<8x1x1x4xi8>} : () -> tensor<8x1x1x4xi8>
  %b = "tosa.const"() {values = dense<0> : tensor<8xi32>} : () -> tensor<8xi32>
  %zp = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %0 = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = i32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  // expected-error @+1 {{resq-residualize: 'tosa.abs' is not supported in a residual graph}}
  %1 = tosa.abs %0 : (tensor<1x8x8x8xi32>) -> tensor<1x8x8x8xi32>
  return %1 : tensor<1x8x8x8xi32>
}

// -----

func.func @weights_not_constant(%x: tensor<1x8x8x4xi8>, %w: tensor<8x1x1x4xi8>) -> tensor<1x8x8x8xi32> {
  %b = "tosa.const"() {values = dense<0> : tensor<8xi32>} : () -> tensor<8xi32>
  %zp = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  // expected-error @+1 {{resq-residualize: 'tosa.conv2d' weights must be constant}}
  %0 = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = i32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// -----

func.func @weight_zero_point(%x: tensor<1x8x8x4xi8>) -> tensor<1x8x8x8xi32> {
  %w = "tosa.const"() {values = dense<1> : tensor<8x1x1x4xi8>} : () -> tensor<8x1x1x4xi8>
  %b = "tosa.const"() {values = dense<0> : tensor<8xi32>} : () -> tensor<8xi32>
  %zp = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %wzp = "tosa.const"() {values = dense<3> : tensor<1xi8>} : () -> tensor<1xi8>
  // expected-error @+1 {{resq-residualize: 'tosa.conv2d' weight zero point must be the constant 0}}
  %0 = tosa.conv2d %x, %w, %b, %zp, %wzp {acc_type = i32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// -----

// expected-error @+1 {{resq-residualize: no linear layer (tosa.conv2d, depthwise_conv2d, transpose_conv2d, matmul) found}}
module {
  func.func @nothing(%x: tensor<1x8xi8>) -> tensor<1x8xi8> {
    return %x : tensor<1x8xi8>
  }
}

// -----

func.func @already(%s: !resq.stream) {
  // expected-error @+1 {{resq-residualize: the module is already residualized}}
  resq.begin_frame %s
  return
}
