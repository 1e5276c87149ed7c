// RUN: resq-opt %s --split-input-file --resq-merge-parallel-regions | FileCheck %s

// Three loop nests, one fork: the constant between them moves in front, the
// statistics store runs once in an omp.single, the loop of one iteration
// around the third region goes.
// CHECK-LABEL: func.func @run
// CHECK: arith.constant 7
// CHECK: omp.parallel {
// CHECK: omp.wsloop {
// CHECK: memref.store %{{.*}}, %[[A:.*]][%{{.*}}] : memref<8xf32>
// CHECK: omp.single {
// CHECK-NEXT: memref.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<4xi64>
// CHECK-NEXT: omp.terminator
// CHECK: omp.wsloop {
// CHECK: omp.wsloop {
// CHECK: omp.terminator
// CHECK-NOT: omp.parallel
// CHECK-NOT: scf.for
// CHECK: return
func.func @run(%a: memref<8xf32>, %b: memref<8xf32>, %stats: memref<4xi64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %x = arith.constant 1.0 : f32
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        memref.store %x, %a[%i] : memref<8xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  %n = arith.constant 7 : i64
  memref.store %n, %stats[%c0] : memref<4xi64>
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        %v = memref.load %a[%i] : memref<8xf32>
        memref.store %v, %b[%i] : memref<8xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  scf.for %k = %c0 to %c1 step %c1 {
    omp.parallel {
      omp.wsloop {
        omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
          %j = arith.addi %i, %k : index
          memref.store %x, %b[%j] : memref<8xf32>
          omp.yield
        }
      }
      omp.terminator
    }
  }
  return
}

// -----

// A value read between two regions and used by the second ends the run; so
// does a loop without its barrier (nowait).
// CHECK-LABEL: func.func @kept_apart
// CHECK: omp.parallel
// CHECK: memref.load
// CHECK: omp.parallel
// CHECK: omp.parallel
// CHECK: omp.wsloop nowait
// CHECK-NOT: omp.single
func.func @kept_apart(%a: memref<8xf32>, %n: memref<index>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %x = arith.constant 1.0 : f32
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        memref.store %x, %a[%i] : memref<8xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  %end = memref.load %n[] : memref<index>
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%end) step (%c1) {
        memref.store %x, %a[%i] : memref<8xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  omp.parallel {
    omp.wsloop nowait {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        memref.store %x, %a[%i] : memref<8xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  return
}
