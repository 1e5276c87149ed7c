// RUN: resq-opt %s --split-input-file --resq-plan-scratch | FileCheck %s

// Three intermediate buffers of one step: %a (4 KiB) and %b (256 B) are
// live at the same time (through %a's aliases) and get disjoint bytes; %c (1 KiB) is allocated
// after %a's last use and reuses %a's bytes. The scratch region starts at
// the old state size rounded up to 64 (200 -> 256) and the state grows by
// the planned size (4096 + 256 = 4352 bytes).
// CHECK: resq.stream_layout = {layers = [], scratch = 256 : i64, scratch_size = 4352 : i64, size = 4608 : i64}
// CHECK-LABEL: func.func @main
// CHECK-SAME: %[[S:.*]]: memref<4608xi8>
// CHECK-NOT: memref.alloc
// CHECK: %[[C256:.*]] = arith.constant 256 : index
// CHECK: %[[A:.*]] = memref.view %[[S]][%[[C256]]][] : memref<4608xi8> to memref<32x32xf32>
// CHECK: memref.collapse_shape
// CHECK: %[[C4352:.*]] = arith.constant 4352 : index
// CHECK: %[[B:.*]] = memref.view %[[S]][%[[C4352]]][] : memref<4608xi8> to memref<64xf32>
// CHECK: linalg.copy ins(%{{.*}}) outs(%[[B]]
// CHECK: %[[AT:.*]] = arith.constant 256 : index
// CHECK: %[[C:.*]] = memref.view %[[S]][%[[AT]]][] : memref<4608xi8> to memref<256xf32>
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

// Without a stream state (a plain int8 graph) nothing changes.
// CHECK-LABEL: func.func @plain
// CHECK: memref.alloc()
func.func @plain(%in: memref<16xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  memref.copy %a, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// A buffer of dynamic shape or one the function deallocates itself keeps
// its allocation; the state grows only by what was placed.
// CHECK: scratch = 64 : i64, scratch_size = 64 : i64, size = 128 : i64
// CHECK-LABEL: func.func @main
// CHECK: memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: memref.alloc() : memref<8xf32>
// CHECK: memref.dealloc
// CHECK: memref.view
module attributes {resq.stream_layout = {layers = [], size = 64 : i64}} {
  func.func @main(%state: memref<64xi8>, %n: index, %out: memref<16xf32>) {
    %d = memref.alloc(%n) : memref<?xf32>
    %own = memref.alloc() : memref<8xf32>
    memref.dealloc %own : memref<8xf32>
    %p = memref.alloc() : memref<16xf32>
    memref.copy %p, %out : memref<16xf32> to memref<16xf32>
    return
  }
}
