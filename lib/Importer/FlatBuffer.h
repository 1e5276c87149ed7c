//===- FlatBuffer.h - bounds-checked FlatBuffer table reader ----*- C++ -*-===//
//
// A small reader for the FlatBuffers binary format that checks every access
// against the buffer: a truncated or corrupt file yields an error message,
// never an out-of-bounds read. It implements only what the TFLite importer
// needs (tables, scalar fields, vectors of scalars, tables and strings,
// union type/value pairs) and has no dependency on the flatbuffers library.
//
// Errors are sticky: the first failed access records a message and every
// later access returns a default value; check `failed()` after a batch of
// reads.
//
// Format recap: the buffer starts with a uoffset (u32) to the root table. A
// table starts with an soffset (i32) to its vtable (vtable = table - soffset);
// the vtable holds u16 vtable size, u16 table size, then one u16 field offset
// per field id (0: absent). Reference fields (tables, vectors, strings) hold a
// uoffset relative to the field's own position. A vector is a u32 length
// followed by its elements; a string is a vector of bytes.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_LIB_IMPORTER_FLATBUFFER_H
#define RESQ_LIB_IMPORTER_FLATBUFFER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

namespace resq {
namespace fb {

/// A validated table: its vtable lies inside the buffer and its inline part
/// [pos, pos + size) too. A default-constructed Table means "absent".
struct Table {
  uint32_t pos = 0;
  uint32_t vtable = 0;
  uint16_t vtableSize = 0;
  uint16_t size = 0;
  bool present = false;
  explicit operator bool() const { return present; }
};

/// A validated vector: `length` elements of `elemSize` bytes from `data`.
struct Vector {
  uint32_t data = 0;
  uint32_t length = 0;
  uint32_t elemSize = 0;
  bool present = false;
  explicit operator bool() const { return present; }
  uint32_t size() const { return length; }
};

class Reader {
public:
  explicit Reader(llvm::ArrayRef<uint8_t> bytes) : buf(bytes) {}

  bool failed() const { return !errorMessage.empty(); }
  const std::string &error() const { return errorMessage; }
  llvm::ArrayRef<uint8_t> bytes() const { return buf; }

  /// Records the first error; later ones are dropped.
  void fail(const llvm::Twine &message) {
    if (errorMessage.empty())
      errorMessage = message.str();
  }

  /// The root table (the uoffset at the start of the buffer).
  Table root(const char *what) {
    uint32_t offset = 0;
    if (!readRaw(0, offset, what))
      return {};
    return tableAt(uint64_t(offset), what);
  }

  /// The bytes [4, 8) of the buffer: the file identifier, if any.
  llvm::StringRef identifier() const {
    if (buf.size() < 8)
      return {};
    return llvm::StringRef(reinterpret_cast<const char *>(buf.data()) + 4, 4);
  }

  /// A scalar field (integer, bool or float), or `def` when absent.
  template <typename T> T scalar(Table t, unsigned id, T def, const char *what) {
    static_assert(std::is_arithmetic<T>::value, "scalar fields only");
    uint16_t off = fieldOffset(t, id);
    if (!off)
      return def;
    if (uint32_t(off) + sizeof(T) > t.size) {
      fail(llvm::Twine("malformed flatbuffer: field '") + what +
           "' lies outside its table");
      return def;
    }
    T value = def;
    if (!readRaw(uint64_t(t.pos) + off, value, what))
      return def;
    return value;
  }

  /// A table field; an absent field gives an absent Table (no error).
  Table table(Table t, unsigned id, const char *what) {
    uint64_t target;
    if (!reference(t, id, what, target))
      return {};
    return tableAt(target, what);
  }

  /// A vector field of elements of `elemSize` bytes (scalars, or 4-byte
  /// uoffsets for vectors of tables/strings).
  Vector vector(Table t, unsigned id, uint32_t elemSize, const char *what) {
    uint64_t target;
    if (!reference(t, id, what, target))
      return {};
    return vectorAt(target, elemSize, what);
  }

  /// A string field; absent gives "".
  std::string string(Table t, unsigned id, const char *what) {
    Vector v = vector(t, id, 1, what);
    if (!v)
      return {};
    return std::string(reinterpret_cast<const char *>(buf.data()) + v.data,
                       v.length);
  }

  /// Element `i` of a vector of scalars.
  template <typename T> T element(Vector v, uint32_t i, const char *what) {
    static_assert(std::is_arithmetic<T>::value, "scalar elements only");
    if (!v || i >= v.length || v.elemSize != sizeof(T)) {
      fail(llvm::Twine("malformed flatbuffer: bad element access in '") +
           what + "'");
      return T();
    }
    T value = T();
    readRaw(uint64_t(v.data) + uint64_t(i) * sizeof(T), value, what);
    return value;
  }

  /// Element `i` of a vector of tables.
  Table tableElement(Vector v, uint32_t i, const char *what) {
    if (!v || i >= v.length || v.elemSize != 4) {
      fail(llvm::Twine("malformed flatbuffer: bad element access in '") +
           what + "'");
      return {};
    }
    uint64_t at = uint64_t(v.data) + uint64_t(i) * 4;
    uint32_t offset = 0;
    if (!readRaw(at, offset, what))
      return {};
    return tableAt(at + offset, what);
  }

  /// The raw bytes of a vector of ubyte.
  llvm::ArrayRef<uint8_t> bytesOf(Vector v) const {
    if (!v || v.elemSize != 1)
      return {};
    return buf.slice(v.data, v.length);
  }

private:
  template <typename T>
  bool readRaw(uint64_t at, T &value, const char *what) {
    if (at > buf.size() || buf.size() - at < sizeof(T)) {
      fail(llvm::Twine("malformed flatbuffer: '") + what +
           "' reads past the end of the file (offset " + llvm::Twine(at) +
           ", file size " + llvm::Twine(uint64_t(buf.size())) + ")");
      return false;
    }
    std::memcpy(&value, buf.data() + at, sizeof(T));
    return true;
  }

  uint16_t fieldOffset(Table t, unsigned id) const {
    if (!t)
      return 0;
    uint64_t entry = 4 + 2 * uint64_t(id);
    if (entry + 2 > t.vtableSize)
      return 0;
    uint16_t off;
    std::memcpy(&off, buf.data() + t.vtable + entry, 2);
    return off;
  }

  /// Resolves a reference field to an absolute position; false if absent or
  /// invalid (then an error is recorded).
  bool reference(Table t, unsigned id, const char *what, uint64_t &target) {
    uint16_t off = fieldOffset(t, id);
    if (!off)
      return false;
    if (uint32_t(off) + 4 > t.size) {
      fail(llvm::Twine("malformed flatbuffer: field '") + what +
           "' lies outside its table");
      return false;
    }
    uint64_t at = uint64_t(t.pos) + off;
    uint32_t rel = 0;
    if (!readRaw(at, rel, what))
      return false;
    if (rel == 0) {
      fail(llvm::Twine("malformed flatbuffer: field '") + what +
           "' has a null offset");
      return false;
    }
    target = at + rel;
    return true;
  }

  Table tableAt(uint64_t pos, const char *what) {
    int32_t soffset = 0;
    if (!readRaw(pos, soffset, what))
      return {};
    int64_t vt = int64_t(pos) - int64_t(soffset);
    if (vt < 0 || uint64_t(vt) + 4 > buf.size()) {
      fail(llvm::Twine("malformed flatbuffer: vtable of '") + what +
           "' lies outside the file");
      return {};
    }
    uint16_t vtSize, tSize;
    std::memcpy(&vtSize, buf.data() + vt, 2);
    std::memcpy(&tSize, buf.data() + vt + 2, 2);
    if (vtSize < 4 || (vtSize & 1) || uint64_t(vt) + vtSize > buf.size() ||
        tSize < 4 || pos + tSize > buf.size()) {
      fail(llvm::Twine("malformed flatbuffer: table '") + what +
           "' has an invalid vtable");
      return {};
    }
    Table t;
    t.pos = uint32_t(pos);
    t.vtable = uint32_t(vt);
    t.vtableSize = vtSize;
    t.size = tSize;
    t.present = true;
    return t;
  }

  Vector vectorAt(uint64_t pos, uint32_t elemSize, const char *what) {
    uint32_t length = 0;
    if (!readRaw(pos, length, what))
      return {};
    uint64_t data = pos + 4;
    if (uint64_t(length) * elemSize > buf.size() - data) {
      fail(llvm::Twine("malformed flatbuffer: vector '") + what + "' of " +
           llvm::Twine(length) + " elements runs past the end of the file");
      return {};
    }
    Vector v;
    v.data = uint32_t(data);
    v.length = length;
    v.elemSize = elemSize;
    v.present = true;
    return v;
  }

  llvm::ArrayRef<uint8_t> buf;
  std::string errorMessage;
};

} // namespace fb
} // namespace resq

#endif // RESQ_LIB_IMPORTER_FLATBUFFER_H
