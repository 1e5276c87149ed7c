// RUN: resq-opt %s --split-input-file --resq-lower-copies --canonicalize | FileCheck %s

// Filling a padded tensor: the rows of (w, c) are contiguous on both sides,
// the target's rows are 18 elements apart. One loop over the rows, one
// 12-element run per row (a 1-D view the LLVM lowering turns into memcpy).
// CHECK-LABEL: func.func @pad
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C12:.*]] = arith.constant 12 : index
// CHECK-DAG: %[[C18:.*]] = arith.constant 18 : index
// CHECK-DAG: %[[C21:.*]] = arith.constant 21 : index
// CHECK: scf.for %[[H:.*]] = %{{.*}} to %[[C4]]
// CHECK: %[[FROM_AT:.*]] = arith.muli %[[H]], %[[C12]]
// CHECK: %[[FROM:.*]] = memref.reinterpret_cast %{{.*}} to offset: [%[[FROM_AT]]], sizes: [12], strides: [1]
// CHECK: %[[ROW:.*]] = arith.muli %[[H]], %[[C18]]
// CHECK: %[[TO_AT:.*]] = arith.addi %[[ROW]], %[[C21]]
// CHECK: %[[TO:.*]] = memref.reinterpret_cast %{{.*}} to offset: [%[[TO_AT]]], sizes: [12], strides: [1]
// CHECK: memref.copy %[[FROM]], %[[TO]] : memref<12xf32, strided<[1], offset: ?>> to memref<12xf32, strided<[1], offset: ?>>
// CHECK-NOT: memref.copy
func.func @pad(%src: memref<1x4x4x3xf32>, %dst: memref<1x6x6x3xf32>) {
  %v = memref.subview %dst[0, 1, 1, 0] [1, 4, 4, 3] [1, 1, 1, 1] : memref<1x6x6x3xf32> to memref<1x4x4x3xf32, strided<[108, 18, 3, 1], offset: 21>>
  memref.copy %src, %v : memref<1x4x4x3xf32> to memref<1x4x4x3xf32, strided<[108, 18, 3, 1], offset: 21>>
  return
}

// -----

// Two identical views of one buffer (what bufferization leaves of an
// extract_slice / insert_slice pair in a tiled loop): nothing to copy.
// CHECK-LABEL: func.func @self
// CHECK-NOT: memref.copy
// CHECK: return
func.func @self(%buf: memref<8x16xi8>, %i: index) {
  %a = memref.subview %buf[%i, 0] [1, 16] [1, 1] : memref<8x16xi8> to memref<1x16xi8, strided<[16, 1], offset: ?>>
  %b = memref.subview %buf[%i, 0] [1, 16] [1, 1] : memref<8x16xi8> to memref<1x16xi8, strided<[16, 1], offset: ?>>
  memref.copy %a, %b : memref<1x16xi8, strided<[16, 1], offset: ?>> to memref<1x16xi8, strided<[16, 1], offset: ?>>
  return
}

// -----

// Views of different rows are a real copy: one contiguous run of 16, at the
// views' dynamic offsets.
// CHECK-LABEL: func.func @other_row
// CHECK: %[[A:.*]] = memref.subview
// CHECK: %[[B:.*]] = memref.subview
// CHECK: %{{.*}}, %[[FROM_AT:.*]], %{{.*}}:2, %{{.*}}:2 = memref.extract_strided_metadata %[[A]]
// CHECK: %{{.*}}, %[[TO_AT:.*]], %{{.*}}:2, %{{.*}}:2 = memref.extract_strided_metadata %[[B]]
// CHECK: %[[FROM:.*]] = memref.reinterpret_cast %[[A]] to offset: [%[[FROM_AT]]], sizes: [16], strides: [1]
// CHECK: %[[TO:.*]] = memref.reinterpret_cast %[[B]] to offset: [%[[TO_AT]]], sizes: [16], strides: [1]
// CHECK: memref.copy %[[FROM]], %[[TO]]
func.func @other_row(%buf: memref<8x16xi8>, %i: index, %j: index) {
  %a = memref.subview %buf[%i, 0] [1, 16] [1, 1] : memref<8x16xi8> to memref<1x16xi8, strided<[16, 1], offset: ?>>
  %b = memref.subview %buf[%j, 0] [1, 16] [1, 1] : memref<8x16xi8> to memref<1x16xi8, strided<[16, 1], offset: ?>>
  memref.copy %a, %b : memref<1x16xi8, strided<[16, 1], offset: ?>> to memref<1x16xi8, strided<[16, 1], offset: ?>>
  return
}

// -----

// A transposed source has no contiguous run: element by element.
// CHECK-LABEL: func.func @transposed
// CHECK: scf.for %[[I:.*]] =
// CHECK: scf.for %[[J:.*]] =
// CHECK: %[[V:.*]] = memref.load %{{.*}}[%[[I]], %[[J]]] : memref<4x5xi32, strided<[1, 4]>>
// CHECK: memref.store %[[V]], %{{.*}}[%[[I]], %[[J]]] : memref<4x5xi32>
// CHECK-NOT: memref.copy
func.func @transposed(%src: memref<4x5xi32, strided<[1, 4]>>, %dst: memref<4x5xi32>) {
  memref.copy %src, %dst : memref<4x5xi32, strided<[1, 4]>> to memref<4x5xi32>
  return
}

// -----

// Identity layouts on both sides are already one memcpy: left alone.
// CHECK-LABEL: func.func @identity
// CHECK-NEXT: memref.copy %{{.*}}, %{{.*}} : memref<4x5xi32> to memref<4x5xi32>
func.func @identity(%src: memref<4x5xi32>, %dst: memref<4x5xi32>) {
  memref.copy %src, %dst : memref<4x5xi32> to memref<4x5xi32>
  return
}

// -----

// A padded buffer (what bufferization makes of tensor.pad): filled whole
// with the padding value, then its interior overwritten by the copy. The
// fill covers the border only: rows 0 and 5 whole, then columns 0 and 5 of
// the interior rows.
// CHECK-LABEL: func.func @pad_border
// CHECK-NOT: linalg.map
// CHECK: %[[TOP:.*]] = memref.subview %[[BUF:.*]][0, 0, 0, 0] [1, 1, 6, 3] [1, 1, 1, 1]
// CHECK: linalg.fill ins(%[[PAD:.*]] : f32) outs(%[[TOP]]
// CHECK: %[[BOTTOM:.*]] = memref.subview %[[BUF]][0, 5, 0, 0] [1, 1, 6, 3] [1, 1, 1, 1]
// CHECK: linalg.fill ins(%[[PAD]] : f32) outs(%[[BOTTOM]]
// CHECK: %[[LEFT:.*]] = memref.subview %[[BUF]][0, 1, 0, 0] [1, 4, 1, 3] [1, 1, 1, 1]
// CHECK: linalg.fill ins(%[[PAD]] : f32) outs(%[[LEFT]]
// CHECK: %[[RIGHT:.*]] = memref.subview %[[BUF]][0, 1, 5, 0] [1, 4, 1, 3] [1, 1, 1, 1]
// CHECK: linalg.fill ins(%[[PAD]] : f32) outs(%[[RIGHT]]
// CHECK-NOT: linalg.fill
// CHECK: scf.for
// CHECK: memref.copy
func.func @pad_border(%src: memref<1x4x4x3xf32>, %pad: f32) -> memref<1x6x6x3xf32> {
  %dst = memref.alloc() : memref<1x6x6x3xf32>
  linalg.map outs(%dst : memref<1x6x6x3xf32>)
    (%init: f32) {
      linalg.yield %pad : f32
    }
  %v = memref.subview %dst[0, 1, 1, 0] [1, 4, 4, 3] [1, 1, 1, 1] : memref<1x6x6x3xf32> to memref<1x4x4x3xf32, strided<[108, 18, 3, 1], offset: 21>>
  memref.copy %src, %v : memref<1x4x4x3xf32> to memref<1x4x4x3xf32, strided<[108, 18, 3, 1], offset: 21>>
  return %dst : memref<1x6x6x3xf32>
}

// -----

// The filled buffer read between the fill and the copy: the fill stays
// whole.
// CHECK-LABEL: func.func @pad_read_between
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<1x6x6x3xf32>)
// CHECK-NOT: linalg.fill
func.func @pad_read_between(%src: memref<1x4x4x3xf32>, %pad: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %dst = memref.alloc() : memref<1x6x6x3xf32>
  linalg.fill ins(%pad : f32) outs(%dst : memref<1x6x6x3xf32>)
  %x = memref.load %dst[%c0, %c0, %c0, %c0] : memref<1x6x6x3xf32>
  %v = memref.subview %dst[0, 1, 1, 0] [1, 4, 4, 3] [1, 1, 1, 1] : memref<1x6x6x3xf32> to memref<1x4x4x3xf32, strided<[108, 18, 3, 1], offset: 21>>
  memref.copy %src, %v : memref<1x4x4x3xf32> to memref<1x4x4x3xf32, strided<[108, 18, 3, 1], offset: 21>>
  return %x : f32
}
