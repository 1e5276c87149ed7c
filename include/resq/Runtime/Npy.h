//===- Npy.h - NumPy .npy files ----------------------------------*- C++ -*-===//
//
// Reading and writing NumPy's .npy format (versions 1.0, 2.0 and 3.0 of the
// header), restricted to what the runner moves around: little-endian,
// C-ordered arrays of int8, uint8, int16, int32, int64 and float32.
//
// Format reference: numpy/lib/format.py. A file is the magic "\x93NUMPY",
// a major and a minor version byte, the header length (uint16 in 1.0, uint32
// in 2.0/3.0, little-endian), an ASCII (3.0: UTF-8) Python dict literal
//   {'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }
// padded with spaces and a newline, and then the raw data.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_RUNTIME_NPY_H
#define RESQ_RUNTIME_NPY_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace resq {
namespace npy {

/// The element types the runner supports.
enum class DType { Int8, UInt8, Int16, Int32, Int64, Float32 };

/// Bytes per element.
size_t elementSize(DType dtype);
/// NumPy's name of the type: "int8", "uint8", ..., "float32".
llvm::StringRef dtypeName(DType dtype);
/// The `descr` NumPy writes for the type: "|i1", "|u1", "<i2", ... "<f4".
llvm::StringRef dtypeDescr(DType dtype);
/// Parses a `descr` string; std::nullopt for anything unsupported
/// (big-endian, float64, structured types, ...).
std::optional<DType> parseDescr(llvm::StringRef descr);

/// "(2, 3)" style shape text, as NumPy prints it ("()" for scalars).
std::string formatShape(llvm::ArrayRef<int64_t> shape);
/// Number of elements of a shape (1 for a scalar).
int64_t numElements(llvm::ArrayRef<int64_t> shape);

/// An n-dimensional, C-ordered array held as raw little-endian bytes.
struct Array {
  DType dtype = DType::Int8;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;

  Array() = default;
  /// A zero-filled array of the given type and shape.
  Array(DType dtype, llvm::ArrayRef<int64_t> shape);

  int64_t numElements() const { return npy::numElements(shape); }
  size_t byteSize() const { return data.size(); }

  /// Typed views; the caller must have checked `dtype`.
  template <typename T> T *as() { return reinterpret_cast<T *>(data.data()); }
  template <typename T> const T *as() const {
    return reinterpret_cast<const T *>(data.data());
  }
};

/// Parses the contents of a .npy file. `name` (usually the path) prefixes
/// error messages.
llvm::Expected<Array> parse(llvm::StringRef contents, llvm::StringRef name);
/// Reads a .npy file.
llvm::Expected<Array> read(llvm::StringRef path);

/// Serializes raw data of the given type and shape to .npy bytes (version 1.0
/// of the header, 2.0 when the header does not fit in 64 KiB).
/// `data` must hold exactly numElements(shape) * elementSize(dtype) bytes.
std::string serialize(DType dtype, llvm::ArrayRef<int64_t> shape,
                      llvm::ArrayRef<uint8_t> data);
inline std::string serialize(const Array &array) {
  return serialize(array.dtype, array.shape, array.data);
}
/// Writes a .npy file.
llvm::Error write(llvm::StringRef path, DType dtype,
                  llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<uint8_t> data);
inline llvm::Error write(llvm::StringRef path, const Array &array) {
  return write(path, array.dtype, array.shape, array.data);
}

} // namespace npy
} // namespace resq

#endif // RESQ_RUNTIME_NPY_H
