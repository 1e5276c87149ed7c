// RUN: resq-opt %s --resq-inline-alloca-scopes | FileCheck %s

// A scope without allocas goes (its body stays, results included); one that
// allocates stays.
// CHECK-LABEL: func.func @scopes
// CHECK-NOT: memref.alloca_scope {
// CHECK: %[[X:.*]] = arith.addf
// CHECK: memref.alloca_scope
// CHECK: memref.alloca()
// CHECK: return %[[X]]
func.func @scopes(%a: f32, %m: memref<4xf32>) -> f32 {
  %x = memref.alloca_scope -> f32 {
    %s = arith.addf %a, %a : f32
    memref.alloca_scope.return %s : f32
  }
  memref.alloca_scope {
    %t = memref.alloca() : memref<4xf32>
    memref.copy %t, %m : memref<4xf32> to memref<4xf32>
  }
  return %x : f32
}
