// RUN: resq-opt %s --resq-lower-copies=parallel=true --canonicalize | FileCheck %s

// With threads: a copy of 256 KiB or more (a float layer's 128 x 128 x 24
// input into its padded buffer, 1.5 MiB) gets its outer loops as one
// scf.parallel over the rows marked resq.rows, which
// resq-outer-parallel-loops keeps (the batch of one stays a loop of one
// iteration, so canonicalization keeps the mark); each row is one
// contiguous run. A smaller copy (16 KiB) stays
// sequential.
// CHECK-LABEL: func.func @pads
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c128) step (%c1)
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<3072xf32, strided<[1], offset: ?>> to memref<3072xf32, strided<[1], offset: ?>>
// CHECK: } {resq.rows}
// CHECK: scf.for
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<512xf32
// CHECK-NOT: scf.parallel
func.func @pads(%src: memref<1x128x128x24xf32>, %dst: memref<1x130x130x24xf32>,
                %small: memref<1x8x16x32xf32>, %smalldst: memref<1x10x18x32xf32>) {
  %v = memref.subview %dst[0, 1, 1, 0] [1, 128, 128, 24] [1, 1, 1, 1] : memref<1x130x130x24xf32> to memref<1x128x128x24xf32, strided<[405600, 3120, 24, 1], offset: 3144>>
  memref.copy %src, %v : memref<1x128x128x24xf32> to memref<1x128x128x24xf32, strided<[405600, 3120, 24, 1], offset: 3144>>
  %w = memref.subview %smalldst[0, 1, 1, 0] [1, 8, 16, 32] [1, 1, 1, 1] : memref<1x10x18x32xf32> to memref<1x8x16x32xf32, strided<[5760, 576, 32, 1], offset: 608>>
  memref.copy %small, %w : memref<1x8x16x32xf32> to memref<1x8x16x32xf32, strided<[5760, 576, 32, 1], offset: 608>>
  return
}
