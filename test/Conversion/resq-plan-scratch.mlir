// RUN: resq-opt %s --split-input-file --resq-plan-scratch | FileCheck %s

// Three intermediate buffers of one step: %a (4 KiB) and %b (256 B) are
// live at the same time (through %a's aliases) and get disjoint bytes; %c
// (1 KiB) is allocated after %a's last use and reuses %a's bytes. One
// 4352-byte scratch allocation holds them; the state is untouched and the
// stream layout records the scratch size.
// CHECK: resq.stream_layout = {layers = [], scratch_size = 4352 : i64, size = 200 : i64}
// CHECK-LABEL: func.func @main
// CHECK-SAME: %[[S:.*]]: memref<200xi8>
// CHECK: %[[SCRATCH:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4352xi8>
// CHECK-NOT: memref.alloc
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[A:.*]] = memref.view %[[SCRATCH]][%[[C0]]][] : memref<4352xi8> to memref<32x32xf32>
// CHECK: memref.collapse_shape
// CHECK: %[[C4096:.*]] = arith.constant 4096 : index
// CHECK: %[[B:.*]] = memref.view %[[SCRATCH]][%[[C4096]]][] : memref<4352xi8> to memref<64xf32>
// CHECK: linalg.copy ins(%{{.*}}) outs(%[[B]]
// CHECK: %[[AT:.*]] = arith.constant 0 : index
// CHECK: %[[C:.*]] = memref.view %[[SCRATCH]][%[[AT]]][] : memref<4352xi8> to memref<256xf32>
// CHECK-NOT: memref.alloc
// CHECK: return
module attributes {resq.stream_layout = {layers = [], size = 200 : i64}} {
  func.func @main(%state: memref<200xi8>, %in: memref<32x32xf32>,
                  %out: memref<256xf32>, %out2: memref<64xf32>) {
    %a = memref.alloc() {alignment = 64 : i64} : memref<32x32xf32>
    linalg.copy ins(%in : memref<32x32xf32>) outs(%a : memref<32x32xf32>)
    // Aliases keep %a alive: its last use is through the collapsed subview,
    // after %b is allocated.
    %sub = memref.subview %a[0, 0] [2, 32] [1, 1]
        : memref<32x32xf32> to memref<2x32xf32, strided<[32, 1]>>
    %flat = memref.collapse_shape %sub [[0, 1]]
        : memref<2x32xf32, strided<[32, 1]>> into memref<64xf32, strided<[1]>>
    %b = memref.alloc() {alignment = 64 : i64} : memref<64xf32>
    linalg.copy ins(%flat : memref<64xf32, strided<[1]>>)
                outs(%b : memref<64xf32>)
    %c = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
    %zero = arith.constant 0.0 : f32
    linalg.fill ins(%zero : f32) outs(%c : memref<256xf32>)
    memref.copy %c, %out : memref<256xf32> to memref<256xf32>
    memref.copy %b, %out2 : memref<64xf32> to memref<64xf32>
    return
  }
}

// -----

// Stateless functions (a plain int8 graph) get one scratch allocation too.
// CHECK-LABEL: func.func @plain
// CHECK: %[[SCRATCH:.*]] = memref.alloc() {alignment = 64 : i64} : memref<128xi8>
// CHECK: memref.view %[[SCRATCH]]
// CHECK: memref.view %[[SCRATCH]]
// CHECK-NOT: memref.alloc
func.func @plain(%in: memref<16xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  memref.copy %a, %b : memref<16xf32> to memref<16xf32>
  memref.copy %b, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// A buffer of dynamic shape or one the function deallocates itself keeps
// its allocation; a single placeable buffer is one allocation already.
// CHECK-LABEL: func.func @kept
// CHECK: memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: memref.alloc() : memref<8xf32>
// CHECK: memref.dealloc
// CHECK: memref.alloc() : memref<16xf32>
// CHECK-NOT: memref.view
func.func @kept(%n: index, %out: memref<16xf32>) {
  %d = memref.alloc(%n) : memref<?xf32>
  %own = memref.alloc() : memref<8xf32>
  memref.dealloc %own : memref<8xf32>
  %p = memref.alloc() : memref<16xf32>
  memref.copy %p, %out : memref<16xf32> to memref<16xf32>
  return
}
