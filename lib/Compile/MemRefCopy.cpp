//===- MemRefCopy.cpp - memrefCopy without the MLIR runtime ---------------===//
//
// The lowering calls `memrefCopy` (normally from libmlir_c_runner_utils) for
// `memref.copy` between non-contiguous memrefs, e.g. when a padded tensor is
// filled. An ahead-of-time object must not need that library, so the object
// gets its own internal copy of the function, linked in only when used.
//
// The IR below is clang-22's output (-O2 -fno-strict-aliasing
// -fno-unroll-loops -fno-vectorize -fno-slp-vectorize, metadata and target
// attributes removed) for this C, which copies the same elements as MLIR's
// CRunnerUtils.cpp but moves whole rows when the innermost dimension is
// contiguous on both sides:
//
//   #include <stdint.h>
//   #include <string.h>
//
//   typedef struct {
//     int64_t rank;
//     void *descriptor;
//   } UnrankedMemRef;
//
//   typedef struct {
//     char *allocated;
//     char *aligned;
//     int64_t offset;
//     int64_t sizesAndStrides[];
//   } Descriptor;
//
//   void memrefCopy(int64_t elemSize, UnrankedMemRef *srcArg,
//                   UnrankedMemRef *dstArg) {
//     int64_t rank = srcArg->rank;
//     Descriptor *src = (Descriptor *)srcArg->descriptor;
//     Descriptor *dst = (Descriptor *)dstArg->descriptor;
//     const int64_t *sizes = src->sizesAndStrides;
//     const int64_t *srcStrides = src->sizesAndStrides + rank;
//     const int64_t *dstStrides = dst->sizesAndStrides + rank;
//     char *srcPtr = src->aligned + src->offset * elemSize;
//     char *dstPtr = dst->aligned + dst->offset * elemSize;
//     for (int64_t d = 0; d < rank; ++d)
//       if (sizes[d] == 0)
//         return;
//     if (rank == 0) {
//       memcpy(dstPtr, srcPtr, elemSize);
//       return;
//     }
//     int64_t inner = rank - 1;
//     int64_t run = elemSize;
//     int64_t count = sizes[inner];
//     if (srcStrides[inner] == 1 && dstStrides[inner] == 1) {
//       run = count * elemSize;
//       count = 1;
//     }
//     int64_t index[rank];
//     for (int64_t d = 0; d < rank; ++d)
//       index[d] = 0;
//     int64_t readAt = 0, writeAt = 0;
//     for (;;) {
//       if (count == 1) {
//         memmove(dstPtr + writeAt, srcPtr + readAt, run);
//       } else {
//         for (int64_t i = 0; i < count; ++i)
//           memmove(dstPtr + writeAt + i * dstStrides[inner] * elemSize,
//                   srcPtr + readAt + i * srcStrides[inner] * elemSize, run);
//       }
//       int64_t d = inner - 1;
//       for (; d >= 0; --d) {
//         readAt += srcStrides[d] * elemSize;
//         writeAt += dstStrides[d] * elemSize;
//         if (++index[d] != sizes[d])
//           break;
//         readAt -= sizes[d] * srcStrides[d] * elemSize;
//         writeAt -= sizes[d] * dstStrides[d] * elemSize;
//         index[d] = 0;
//       }
//       if (d < 0)
//         return;
//     }
//   }
//
//===----------------------------------------------------------------------===//

#include "Backend.h"

llvm::StringRef resq::compile::detail::memrefCopyIR() {
  return R"IR(
define dso_local void @memrefCopy(i64 noundef %elemSize, ptr noundef readonly captures(none) %srcArg, ptr noundef readonly captures(none) %dstArg) local_unnamed_addr #0 {
entry:
  %0 = load i64, ptr %srcArg, align 8
  %descriptor = getelementptr inbounds nuw i8, ptr %srcArg, i64 8
  %1 = load ptr, ptr %descriptor, align 8
  %descriptor2 = getelementptr inbounds nuw i8, ptr %dstArg, i64 8
  %2 = load ptr, ptr %descriptor2, align 8
  %sizesAndStrides = getelementptr inbounds nuw i8, ptr %1, i64 24
  %add.ptr = getelementptr inbounds i64, ptr %sizesAndStrides, i64 %0
  %sizesAndStrides5 = getelementptr inbounds nuw i8, ptr %2, i64 24
  %add.ptr7 = getelementptr inbounds i64, ptr %sizesAndStrides5, i64 %0
  %aligned = getelementptr inbounds nuw i8, ptr %1, i64 8
  %3 = load ptr, ptr %aligned, align 8
  %offset = getelementptr inbounds nuw i8, ptr %1, i64 16
  %4 = load i64, ptr %offset, align 8
  %mul = mul nsw i64 %4, %elemSize
  %add.ptr8 = getelementptr inbounds i8, ptr %3, i64 %mul
  %aligned9 = getelementptr inbounds nuw i8, ptr %2, i64 8
  %5 = load ptr, ptr %aligned9, align 8
  %offset10 = getelementptr inbounds nuw i8, ptr %2, i64 16
  %6 = load i64, ptr %offset10, align 8
  %mul11 = mul nsw i64 %6, %elemSize
  %add.ptr12 = getelementptr inbounds i8, ptr %5, i64 %mul11
  %cmp.not181 = icmp sgt i64 %0, 0
  br i1 %cmp.not181, label %for.body, label %for.end

for.cond:
  %inc = add nuw nsw i64 %d.0182, 1
  %exitcond.not = icmp eq i64 %inc, %0
  br i1 %exitcond.not, label %if.end16, label %for.body

for.body:
  %d.0182 = phi i64 [ %inc, %for.cond ], [ 0, %entry ]
  %arrayidx = getelementptr inbounds nuw i64, ptr %sizesAndStrides, i64 %d.0182
  %7 = load i64, ptr %arrayidx, align 8
  %cmp13 = icmp eq i64 %7, 0
  br i1 %cmp13, label %cleanup99, label %for.cond

for.end:
  %cmp14 = icmp eq i64 %0, 0
  br i1 %cmp14, label %if.then15, label %if.end16

if.then15:
  tail call void @llvm.memcpy.p0.p0.i64(ptr align 1 %add.ptr12, ptr align 1 %add.ptr8, i64 %elemSize, i1 false)
  br label %cleanup99

if.end16:
  %sub = add nsw i64 %0, -1
  %arrayidx17 = getelementptr inbounds i64, ptr %sizesAndStrides, i64 %sub
  %8 = load i64, ptr %arrayidx17, align 8
  %arrayidx18 = getelementptr inbounds i64, ptr %add.ptr, i64 %sub
  %9 = load i64, ptr %arrayidx18, align 8
  %cmp19 = icmp eq i64 %9, 1
  br i1 %cmp19, label %land.lhs.true, label %if.end24

land.lhs.true:
  %arrayidx20 = getelementptr inbounds i64, ptr %add.ptr7, i64 %sub
  %10 = load i64, ptr %arrayidx20, align 8
  %cmp21 = icmp eq i64 %10, 1
  %mul23 = select i1 %cmp21, i64 %8, i64 1
  %spec.select = mul nsw i64 %mul23, %elemSize
  %spec.select178 = select i1 %cmp21, i64 1, i64 %8
  br label %if.end24

if.end24:
  %run.0 = phi i64 [ %elemSize, %if.end16 ], [ %spec.select, %land.lhs.true ]
  %count.0 = phi i64 [ %8, %if.end16 ], [ %spec.select178, %land.lhs.true ]
  %11 = tail call ptr @llvm.stacksave.p0()
  %vla = alloca i64, i64 %0, align 16
  br i1 %cmp.not181, label %for.body29.preheader, label %for.cond35.preheader

for.body29.preheader:
  %12 = shl nuw i64 %0, 3
  call void @llvm.memset.p0.i64(ptr nonnull align 16 %vla, i8 0, i64 %12, i1 false)
  br label %for.cond35.preheader

for.cond35.preheader:
  %cmp36 = icmp eq i64 %count.0, 1
  %sub60 = add nsw i64 %0, -2
  %cmp62187 = icmp sgt i64 %0, 1
  %cmp41185 = icmp sgt i64 %count.0, 0
  %arrayidx45 = getelementptr inbounds i64, ptr %add.ptr7, i64 %sub
  br label %for.cond35

for.cond35:
  %readAt.0 = phi i64 [ 0, %for.cond35.preheader ], [ %add, %for.body63 ]
  %writeAt.0 = phi i64 [ 0, %for.cond35.preheader ], [ %add68, %for.body63 ]
  br i1 %cmp36, label %if.then37, label %for.cond40.preheader

for.cond40.preheader:
  br i1 %cmp41185, label %for.body43.lr.ph, label %if.end58

for.body43.lr.ph:
  %add.ptr44 = getelementptr inbounds i8, ptr %add.ptr12, i64 %writeAt.0
  %add.ptr49 = getelementptr inbounds i8, ptr %add.ptr8, i64 %readAt.0
  br label %for.body43

if.then37:
  %add.ptr38 = getelementptr inbounds i8, ptr %add.ptr12, i64 %writeAt.0
  %add.ptr39 = getelementptr inbounds i8, ptr %add.ptr8, i64 %readAt.0
  tail call void @llvm.memmove.p0.p0.i64(ptr align 1 %add.ptr38, ptr align 1 %add.ptr39, i64 %run.0, i1 false)
  br label %if.end58

for.body43:
  %i.0186 = phi i64 [ 0, %for.body43.lr.ph ], [ %inc55, %for.body43 ]
  %13 = load i64, ptr %arrayidx45, align 8
  %mul46 = mul i64 %i.0186, %elemSize
  %mul47 = mul i64 %mul46, %13
  %add.ptr48 = getelementptr inbounds i8, ptr %add.ptr44, i64 %mul47
  %14 = load i64, ptr %arrayidx18, align 8
  %mul52 = mul i64 %mul46, %14
  %add.ptr53 = getelementptr inbounds i8, ptr %add.ptr49, i64 %mul52
  tail call void @llvm.memmove.p0.p0.i64(ptr align 1 %add.ptr48, ptr align 1 %add.ptr53, i64 %run.0, i1 false)
  %inc55 = add nuw nsw i64 %i.0186, 1
  %exitcond194.not = icmp eq i64 %inc55, %count.0
  br i1 %exitcond194.not, label %if.end58, label %for.body43

if.end58:
  br i1 %cmp62187, label %for.body63, label %cleanup93

for.body63:
  %d59.0190 = phi i64 [ %dec, %if.end74 ], [ %sub60, %if.end58 ]
  %writeAt.1189 = phi i64 [ %sub84, %if.end74 ], [ %writeAt.0, %if.end58 ]
  %readAt.1188 = phi i64 [ %sub79, %if.end74 ], [ %readAt.0, %if.end58 ]
  %arrayidx64 = getelementptr inbounds nuw i64, ptr %add.ptr, i64 %d59.0190
  %15 = load i64, ptr %arrayidx64, align 8
  %mul65 = mul i64 %15, %elemSize
  %add = add nsw i64 %mul65, %readAt.1188
  %arrayidx66 = getelementptr inbounds nuw i64, ptr %add.ptr7, i64 %d59.0190
  %16 = load i64, ptr %arrayidx66, align 8
  %mul67 = mul i64 %16, %elemSize
  %add68 = add nsw i64 %mul67, %writeAt.1189
  %arrayidx69 = getelementptr inbounds nuw i64, ptr %vla, i64 %d59.0190
  %17 = load i64, ptr %arrayidx69, align 8
  %inc70 = add nsw i64 %17, 1
  store i64 %inc70, ptr %arrayidx69, align 8
  %arrayidx71 = getelementptr inbounds nuw i64, ptr %sizesAndStrides, i64 %d59.0190
  %18 = load i64, ptr %arrayidx71, align 8
  %cmp72.not = icmp eq i64 %inc70, %18
  br i1 %cmp72.not, label %if.end74, label %for.cond35

if.end74:
  %mul78 = mul i64 %mul65, %inc70
  %sub79 = sub nsw i64 %add, %mul78
  %mul83 = mul i64 %mul67, %inc70
  %sub84 = sub nsw i64 %add68, %mul83
  store i64 0, ptr %arrayidx69, align 8
  %dec = add nsw i64 %d59.0190, -1
  %cmp62 = icmp sgt i64 %d59.0190, 0
  br i1 %cmp62, label %for.body63, label %cleanup93

cleanup93:
  call void @llvm.stackrestore.p0(ptr %11)
  br label %cleanup99

cleanup99:
  ret void
}

declare void @llvm.memcpy.p0.p0.i64(ptr noalias writeonly captures(none), ptr noalias readonly captures(none), i64, i1 immarg) #1

declare ptr @llvm.stacksave.p0() #2

declare void @llvm.memmove.p0.p0.i64(ptr writeonly captures(none), ptr readonly captures(none), i64, i1 immarg) #1

declare void @llvm.stackrestore.p0(ptr) #2

declare void @llvm.memset.p0.i64(ptr writeonly captures(none), i8, i64, i1 immarg) #3

attributes #0 = { nofree norecurse nosync nounwind }
attributes #1 = { mustprogress nocallback nofree nounwind willreturn memory(argmem: readwrite) }
attributes #2 = { mustprogress nocallback nofree nosync nounwind willreturn }
attributes #3 = { nocallback nofree nounwind willreturn memory(argmem: write) }
)IR";
}
