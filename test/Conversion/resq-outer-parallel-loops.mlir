// RUN: resq-opt %s --pass-pipeline="builtin.module(func.func(resq-outer-parallel-loops))" --split-input-file | FileCheck %s

// An elementwise loop nest (n, h, w, c): the threads share n and h (n has
// one iteration); w and c become sequential loops inside.
// CHECK-LABEL: func.func @glue
// CHECK: scf.parallel (%[[N:.*]], %[[H:.*]]) = (%c0, %c0) to (%c1, %c64) step (%c1, %c1)
// CHECK-NEXT: scf.for %[[W:.*]] = %c0 to %c64 step %c1
// CHECK-NEXT: scf.for %[[C:.*]] = %c0 to %c16 step %c1
// CHECK-NEXT: memref.load %arg0[%[[N]], %[[H]], %[[W]], %[[C]]]
// CHECK-NOT: scf.parallel
func.func @glue(%in: memref<1x64x64x16xf32>, %out: memref<1x64x64x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%n, %h, %w, %c) = (%c0, %c0, %c0, %c0) to (%c1, %c64, %c64, %c16) step (%c1, %c1, %c1, %c1) {
    %v = memref.load %in[%n, %h, %w, %c] : memref<1x64x64x16xf32>
    memref.store %v, %out[%n, %h, %w, %c] : memref<1x64x64x16xf32>
  }
  return
}

// -----

// Too little work to fork for (16 iterations), or inside a loop that
// repeats (a fork per outer iteration): sequential loops only.
// CHECK-LABEL: func.func @small_or_nested
// CHECK-NOT: scf.parallel
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
func.func @small_or_nested(%m: memref<64x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%c) = (%c0) to (%c16) step (%c1) {
    memref.store %f, %m[%c0, %c] : memref<64x16xf32>
  }
  scf.for %r = %c0 to %c64 step %c1 {
    scf.parallel (%c) = (%c0) to (%c16) step (%c1) {
      memref.store %f, %m[%r, %c] : memref<64x16xf32>
    }
  }
  return
}

// -----

// A kernel's row loop (resq.rows) stays parallel with few iterations, also
// inside a loop of one iteration (the batch).
// CHECK-LABEL: func.func @rows
// CHECK: scf.for
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c8) step (%c1)
func.func @rows(%m: memref<8x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
  scf.for %n = %c0 to %c1 step %c1 {
    scf.parallel (%y) = (%c0) to (%c8) step (%c1) {
      memref.store %f, %m[%y, %c0] : memref<8x16xf32>
    } {resq.rows}
  }
  return
}

// -----

// A 9-bit layer's rounds (resq.fork_each): the row loops inside fork once
// per round; in an unmarked loop of three iterations they do not.
// CHECK-LABEL: func.func @rounds
// CHECK: scf.for
// CHECK-NEXT: scf.parallel (%{{.*}}) = (%c0) to (%c8) step (%c1)
// CHECK: resq.fork_each
// CHECK: scf.for
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @rounds(%m: memref<8x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
  scf.for %round = %c0 to %c3 step %c1 {
    scf.parallel (%y) = (%c0) to (%c8) step (%c1) {
      memref.store %f, %m[%y, %c0] : memref<8x16xf32>
    } {resq.rows}
  } {resq.fork_each}
  scf.for %round = %c0 to %c3 step %c1 {
    scf.parallel (%y) = (%c0) to (%c8) step (%c1) {
      memref.store %f, %m[%y, %c0] : memref<8x16xf32>
    } {resq.rows}
  }
  return
}

// -----

// Few parallel iterations (32 rows) around sequential loops with enough
// work (32 x 64 x 3 iterations in all: the larger of the two nests counts):
// the threads share the rows. With inner loops of 2 x 3 iterations
// (32 x 6 in all) the nest stays sequential.
// CHECK-LABEL: func.func @work_inside
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c32) step (%c1)
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @work_inside(%m: memref<32x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%r) = (%c0) to (%c32) step (%c1) {
    scf.for %i = %c0 to %c2 step %c1 {
      memref.store %f, %m[%r, %i] : memref<32x64xf32>
    }
    scf.for %j = %c0 to %c64 step %c1 {
      scf.for %k = %c0 to %c3 step %c1 {
        memref.store %f, %m[%r, %j] : memref<32x64xf32>
      }
    }
  }
  scf.parallel (%r) = (%c0) to (%c32) step (%c1) {
    scf.for %i = %c0 to %c2 step %c1 {
      scf.for %k = %c0 to %c3 step %c1 {
        memref.store %f, %m[%r, %i] : memref<32x64xf32>
      }
    }
  }
  return
}
