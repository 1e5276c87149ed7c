// Two inputs (int8 image, float32 vector) and two outputs: the image padded,
// transposed and sliced (copies between strided buffers), the vector scaled.
func.func @main(%x: tensor<1x5x7x3xi8>, %y: tensor<2x3xf32>) -> (tensor<1x3x8x5xi8>, tensor<2x3xf32>) {
  %pad = tosa.const_shape {values = dense<[0, 0, 1, 2, 0, 1, 0, 0]> : tensor<8xindex>} : () -> !tosa.shape<8>
  %padv = "tosa.const"() {values = dense<-7> : tensor<1xi8>} : () -> tensor<1xi8>
  %p = tosa.pad %x, %pad, %padv : (tensor<1x5x7x3xi8>, !tosa.shape<8>, tensor<1xi8>) -> tensor<1x8x8x3xi8>
  %t = tosa.transpose %p {perms = array<i32: 0, 3, 2, 1>} : (tensor<1x8x8x3xi8>) -> tensor<1x3x8x8xi8>
  %start = tosa.const_shape {values = dense<[0, 0, 0, 2]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %size = tosa.const_shape {values = dense<[1, 3, 8, 5]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %s = tosa.slice %t, %start, %size : (tensor<1x3x8x8xi8>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x3x8x5xi8>
  %two = "tosa.const"() {values = dense<2.5> : tensor<2x3xf32>} : () -> tensor<2x3xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.mul %y, %two, %shift : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<1xi8>) -> tensor<2x3xf32>
  %one = "tosa.const"() {values = dense<1.0> : tensor<2x3xf32>} : () -> tensor<2x3xf32>
  %a = tosa.add %m, %one : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %s, %a : tensor<1x3x8x5xi8>, tensor<2x3xf32>
}
