//===- PadBorder.h - the border around a padded tensor's interior -*- C++ -*-===//
//
// Shared by the rewrites that fill only the border of a padded buffer (on
// tensors in resq-optimize-glue, on memrefs in resq-lower-copies).
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_SUPPORT_PADBORDER_H
#define RESQ_SUPPORT_PADBORDER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <utility>

namespace resq {

/// The border of the interior (`offsets`, `sizes`) of a `shape`, as
/// disjoint slabs: per dimension the one below and the one above the
/// interior, within the interior of the dimensions before it. Calls
/// `slab(offsets, sizes)` for each that is not empty.
inline void forEachBorderSlab(
    llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> offsets,
    llvm::ArrayRef<int64_t> sizes,
    llvm::function_ref<void(llvm::ArrayRef<int64_t>, llvm::ArrayRef<int64_t>)>
        slab) {
  int64_t rank = shape.size();
  for (int64_t d = 0; d < rank; ++d) {
    int64_t end = offsets[d] + sizes[d];
    for (auto [from, to] : {std::pair<int64_t, int64_t>{0, offsets[d]},
                            std::pair<int64_t, int64_t>{end, shape[d]}}) {
      if (from == to)
        continue;
      llvm::SmallVector<int64_t> slabOffsets, slabSizes;
      for (int64_t e = 0; e < rank; ++e) {
        bool before = e < d;
        slabOffsets.push_back(e == d ? from : before ? offsets[e] : 0);
        slabSizes.push_back(e == d ? to - from : before ? sizes[e] : shape[e]);
      }
      slab(slabOffsets, slabSizes);
    }
  }
}

} // namespace resq

#endif // RESQ_SUPPORT_PADBORDER_H
