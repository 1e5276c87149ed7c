// The whole pipeline down to machine code. Instruction selection is checked
// with pinned CPUs so the test means the same on every machine.
// RUN: resq-opt %S/resq-lower-stream.mlir --resq-to-llvm="target-cpu=sapphirerapids" | mlir-translate --mlir-to-llvmir | llc -O2 -mcpu=sapphirerapids | FileCheck %s --check-prefix=VNNI
// RUN: resq-opt %S/resq-lower-stream.mlir --resq-to-llvm="target-cpu=icelake-server" | mlir-translate --mlir-to-llvmir | llc -O2 -mcpu=icelake-server | FileCheck %s --check-prefix=VNNI
// RUN: resq-opt %S/resq-lower-stream.mlir --resq-to-llvm | mlir-translate --mlir-to-llvmir | llc -O2 -mcpu=x86-64 | FileCheck %s --check-prefix=PORTABLE
// RUN: resq-opt %S/resq-lower-stream.mlir --resq-to-llvm | FileCheck %s --check-prefix=ABI
// RUN: resq-opt %S/resq-lower-stream.mlir --resq-to-llvm="parallel=true" | FileCheck %s --check-prefix=OMP
// RUN: resq-opt %S/resq-lower-stream.mlir --resq-to-llvm="parallel=true" | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=OMPIR

// parallel=true: OpenMP worksharing loops, calls into libomp once translated.
// OMP: omp.parallel
// OMP: omp.wsloop
// OMPIR: call void {{.*}}@__kmpc_fork_call

// On a CPU with AVX-512 VNNI the residual and keyframe dot products use
// vpdpbusd on 512-bit registers.
// VNNI-LABEL: main:
// VNNI: vpdpbusd {{.*}}%zmm

// The default target is any x86-64: SSE only, no VNNI.
// PORTABLE-LABEL: main:
// PORTABLE-NOT: vpdpbusd
// PORTABLE-NOT: zmm
// PORTABLE: {{pmulld|pmaddwd}}

// One ABI for all step functions: state buffer, inputs, then outputs, as
// memref descriptors through the C interface.
// ABI: llvm.func @_mlir_ciface_main(%{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: !llvm.ptr) attributes
