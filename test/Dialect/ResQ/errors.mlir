// RUN: resq-opt %s -split-input-file -verify-diagnostics

func.func @bad_step(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<8x1x1x4xi8>,
                    %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  // expected-error @+3 {{residual step must be a positive integer, got 0}}
  %0 = resq.conv2d "c" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 0, bits = [8]>
      : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// -----

func.func @bad_bits(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<8x1x1x4xi8>,
                    %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  // expected-error @+3 {{bit-width 1 is not allowed (allowed: 0, 2, 3, ..., 9)}}
  %0 = resq.conv2d "c" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [0, 1, 8]>
      : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// -----

func.func @unsorted_bits(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<8x1x1x4xi8>,
                    %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  // expected-error @+3 {{bit-widths must be strictly increasing}}
  %0 = resq.conv2d "c" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [8, 4]>
      : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// -----

func.func @only_zero_bits(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<8x1x1x4xi8>,
                    %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  // expected-error @+3 {{the widest bit-width must not be 0}}
  %0 = resq.conv2d "c" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [0]>
      : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// -----

func.func @bad_block(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<8x1x1x4xi8>,
                    %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  // expected-error @+3 {{block size must be positive, got 0}}
  %0 = resq.conv2d "c" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [0, 8], block = 0>
      : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// -----

func.func @bad_scene_cut(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<8x1x1x4xi8>,
                    %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  // expected-error @+3 {{scene_cut must be in (0, 1], got 1.5}}
  %0 = resq.conv2d "c" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [0, 8], block = 2, scene_cut = 1.5>
      : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// -----

func.func @bad_dense_above(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<8x1x1x4xi8>,
                    %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  // expected-error @+3 {{dense_above must be in (0, 1], got 0}}
  %0 = resq.conv2d "c" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [0, 8], dense_above = 0.0>
      : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// -----

func.func @dense_above_before_scene_cut(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<8x1x1x4xi8>,
                    %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  %0 = resq.conv2d "c" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      // expected-error @+1 {{expected 'block', 'scene_cut', 'dense_above' or 'standard' (in this order, once each), got 'scene_cut'}}
      residual <step = 4, bits = [0, 8], dense_above = 0.5, scene_cut = 0.5>
      : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// -----

func.func @wrong_result(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<8x3x3x4xi8>,
                        %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  // expected-error @+1 {{accumulator shape must be [1, 6, 6, 8], got [1, 8, 8, 8]}}
  %0 = resq.conv2d "c" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [8]>
      : (tensor<1x8x8x4xi8>, tensor<8x3x3x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// -----

func.func @channel_mismatch(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<8x1x1x3xi8>,
                            %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  // expected-error @+1 {{weight input channels (3) must match the input's (4)}}
  %0 = resq.conv2d "c" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [8]>
      : (tensor<1x8x8x4xi8>, tensor<8x1x1x3xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// -----

func.func @bad_bias(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<8x1x1x4xi8>,
                    %b: tensor<5xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  // expected-error @+1 {{bias must have 8 elements (one per output channel) or 1, got 5}}
  %0 = resq.conv2d "c" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [8]>
      : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<5xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// -----

func.func @bad_stride(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<8x1x1x4xi8>,
                      %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  // expected-error @+1 {{'stride' values must be >= 1, got 0}}
  %0 = resq.conv2d "c" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 0, 1>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [8]>
      : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}

// -----

func.func @dynamic_shape(%s: !resq.stream, %x: tensor<?x8x8x4xi8>, %w: tensor<8x1x1x4xi8>,
                         %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<?x8x8x8xi32> {
  // expected-error @+1 {{input must have a static shape}}
  %0 = resq.conv2d "c" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [8]>
      : (tensor<?x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<?x8x8x8xi32>
  return %0 : tensor<?x8x8x8xi32>
}

// -----

func.func @depthwise_channels(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<3x3x5x1xi8>,
                              %b: tensor<5xi32>, %zp: tensor<1xi8>) -> tensor<1x6x6x5xi32> {
  // expected-error @+1 {{weight must be KH x KW x C x M with C = 4 input channels, got C = 5}}
  %0 = resq.depthwise_conv2d "d" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      residual <step = 4, bits = [8]>
      : (tensor<1x8x8x4xi8>, tensor<3x3x5x1xi8>, tensor<5xi32>, tensor<1xi8>) -> tensor<1x6x6x5xi32>
  return %0 : tensor<1x6x6x5xi32>
}

// -----

func.func @transpose_shape(%s: !resq.stream, %x: tensor<1x4x4x8xi8>, %w: tensor<4x2x2x8xi8>,
                           %b: tensor<4xi32>, %zp: tensor<1xi8>) -> tensor<1x9x9x4xi32> {
  // expected-error @+1 {{accumulator shape must be [1, 8, 8, 4], got [1, 9, 9, 4]}}
  %0 = resq.transpose_conv2d "t" %s, %x, %w, %b, %zp
      {out_pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>}
      residual <step = 4, bits = [8]>
      : (tensor<1x4x4x8xi8>, tensor<4x2x2x8xi8>, tensor<4xi32>, tensor<1xi8>) -> tensor<1x9x9x4xi32>
  return %0 : tensor<1x9x9x4xi32>
}

// -----

func.func @matmul_rows(%s: !resq.stream, %x: tensor<1x4x64xi8>, %w: tensor<1x32x10xi8>,
                       %zp: tensor<1xi8>) -> tensor<1x4x10xi32> {
  // expected-error @+1 {{weight rows (32) must match the input's columns (64)}}
  %0 = resq.matmul "fc" %s, %x, %w, %zp residual <step = 1, bits = [8]>
      : (tensor<1x4x64xi8>, tensor<1x32x10xi8>, tensor<1xi8>) -> tensor<1x4x10xi32>
  return %0 : tensor<1x4x10xi32>
}

// -----

func.func @empty_layer(%s: !resq.stream, %x: tensor<1x4x64xi8>, %w: tensor<1x64x10xi8>,
                       %zp: tensor<1xi8>) -> tensor<1x4x10xi32> {
  // expected-error @+1 {{layer name must not be empty}}
  %0 = resq.matmul "" %s, %x, %w, %zp residual <step = 1, bits = [8]>
      : (tensor<1x4x64xi8>, tensor<1x64x10xi8>, tensor<1xi8>) -> tensor<1x4x10xi32>
  return %0 : tensor<1x4x10xi32>
}

// -----

func.func @begin_after_layer(%s: !resq.stream, %x: tensor<1x4x64xi8>, %w: tensor<1x64x10xi8>,
                             %zp: tensor<1xi8>) -> tensor<1x4x10xi32> {
  %0 = resq.matmul "fc" %s, %x, %w, %zp residual <step = 1, bits = [8]>
      : (tensor<1x4x64xi8>, tensor<1x64x10xi8>, tensor<1xi8>) -> tensor<1x4x10xi32>
  // expected-error @+1 {{must come before every residualized layer of the frame}}
  resq.begin_frame %s
  return %0 : tensor<1x4x10xi32>
}

// -----

func.func @negative_interval(%s: !resq.stream) {
  // expected-error @+1 {{keyframe_interval must be >= 0 (0: no interval), got -1}}
  resq.begin_frame %s keyframe_interval -1
  return
}

// -----

func.func @float_input(%s: !resq.stream, %x: tensor<1x4x64xf32>, %w: tensor<1x64x10xi8>,
                       %zp: tensor<1xi8>) -> tensor<1x4x10xi32> {
  // expected-error @+1 {{operand #1 must be ranked tensor of 8-bit signless integer values}}
  %0 = resq.matmul "fc" %s, %x, %w, %zp residual <step = 1, bits = [8]>
      : (tensor<1x4x64xf32>, tensor<1x64x10xi8>, tensor<1xi8>) -> tensor<1x4x10xi32>
  return %0 : tensor<1x4x10xi32>
}

// -----

func.func @standard_not_last(%s: !resq.stream, %x: tensor<1x8x8x4xi8>, %w: tensor<8x1x1x4xi8>,
                    %b: tensor<8xi32>, %zp: tensor<1xi8>) -> tensor<1x8x8x8xi32> {
  %0 = resq.conv2d "c" %s, %x, %w, %b, %zp
      {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      // expected-error @+1 {{expected '>'}}
      residual <step = 4, bits = [0, 8], standard, block = 2>
      : (tensor<1x8x8x4xi8>, tensor<8x1x1x4xi8>, tensor<8xi32>, tensor<1xi8>) -> tensor<1x8x8x8xi32>
  return %0 : tensor<1x8x8x8xi32>
}
