//===- NpyTest.cpp - .npy reader and writer -------------------------------===//

#include "resq/Runtime/Npy.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include "gtest/gtest.h"

#include <cstring>

using namespace resq;
using npy::DType;

namespace {

/// The text of an error, or "" for success.
std::string errorText(llvm::Error error) {
  return error ? llvm::toString(std::move(error)) : std::string();
}

template <typename T>
npy::Array makeArray(DType dtype, std::vector<int64_t> shape,
                     std::vector<T> values) {
  npy::Array array(dtype, shape);
  EXPECT_EQ(array.byteSize(), values.size() * sizeof(T));
  std::memcpy(array.data.data(), values.data(), array.byteSize());
  return array;
}

/// A .npy file as numpy 1.24 writes it: version 1.0, header padded with
/// spaces to a 64-byte boundary and ended by a newline.
std::string numpyFile(const std::string &dict, llvm::StringRef data,
                      std::string version = std::string("\x01\x00", 2)) {
  size_t lengthBytes = version[0] == 1 ? 2 : 4;
  size_t prefix = 6 + 2 + lengthBytes;
  size_t headerLength = (prefix + dict.size() + 1 + 63) / 64 * 64 - prefix;
  std::string out = "\x93NUMPY" + version;
  for (size_t i = 0; i < lengthBytes; ++i)
    out += static_cast<char>((headerLength >> (8 * i)) & 0xff);
  out += dict + std::string(headerLength - dict.size() - 1, ' ') + "\n";
  return out + data.str();
}

std::string int32Data() {
  int32_t values[] = {0, 1, 2, 3, 4, 5};
  return std::string(reinterpret_cast<const char *>(values), sizeof(values));
}

} // namespace

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

TEST(NpyDType, DescrRoundTrip) {
  for (DType dtype : {DType::Int8, DType::UInt8, DType::Int16, DType::Int32,
                      DType::Int64, DType::Float32}) {
    std::optional<DType> parsed = npy::parseDescr(npy::dtypeDescr(dtype));
    ASSERT_TRUE(parsed.has_value()) << npy::dtypeDescr(dtype).str();
    EXPECT_EQ(*parsed, dtype);
  }
  EXPECT_EQ(npy::elementSize(DType::Int16), 2u);
  EXPECT_EQ(npy::dtypeName(DType::Float32), "float32");
  EXPECT_EQ(npy::dtypeDescr(DType::Int8), "|i1");
}

TEST(NpyDType, ByteOrder) {
  EXPECT_EQ(npy::parseDescr("<i1"), DType::Int8); // one byte: order is moot
  EXPECT_EQ(npy::parseDescr("=i4"), DType::Int32);
  EXPECT_FALSE(npy::parseDescr(">i4").has_value()); // big-endian
  EXPECT_FALSE(npy::parseDescr("|i4").has_value());
  EXPECT_FALSE(npy::parseDescr("<f8").has_value());
  EXPECT_FALSE(npy::parseDescr("<u2").has_value());
  EXPECT_FALSE(npy::parseDescr("").has_value());
}

TEST(NpyShape, Format) {
  EXPECT_EQ(npy::formatShape({}), "()");
  EXPECT_EQ(npy::formatShape({7}), "(7,)");
  EXPECT_EQ(npy::formatShape({2, 3}), "(2, 3)");
  EXPECT_EQ(npy::numElements({}), 1);
  EXPECT_EQ(npy::numElements({2, 0, 3}), 0);
}

//===----------------------------------------------------------------------===//
// Round trips
//===----------------------------------------------------------------------===//

TEST(NpyRoundTrip, EveryDType) {
  std::vector<npy::Array> arrays = {
      makeArray<int8_t>(DType::Int8, {2, 3}, {-128, -1, 0, 1, 2, 127}),
      makeArray<uint8_t>(DType::UInt8, {3, 2}, {0, 1, 2, 128, 254, 255}),
      makeArray<int16_t>(DType::Int16, {6}, {-32768, -300, 0, 1, 300, 32767}),
      makeArray<int32_t>(DType::Int32, {1, 2, 3},
                         {INT32_MIN, -70000, 0, 1, 70000, INT32_MAX}),
      makeArray<int64_t>(DType::Int64, {2, 3},
                         {INT64_MIN, -(int64_t(1) << 40), 0, 1,
                          int64_t(1) << 40, INT64_MAX}),
      makeArray<float>(DType::Float32, {3, 2},
                       {-1.5f, 0.0f, 0.25f, 3.0e38f, -1e-30f, 42.0f}),
  };
  for (const npy::Array &array : arrays) {
    SCOPED_TRACE(npy::dtypeName(array.dtype).str());
    std::string bytes = npy::serialize(array);
    // numpy's readers and mmap want the data 64-byte aligned.
    EXPECT_EQ((bytes.size() - array.byteSize()) % 64, 0u);
    auto parsed = npy::parse(bytes, "mem.npy");
    ASSERT_TRUE(bool(parsed)) << llvm::toString(parsed.takeError());
    EXPECT_EQ(parsed->dtype, array.dtype);
    EXPECT_EQ(parsed->shape, array.shape);
    EXPECT_EQ(parsed->data, array.data);
  }
}

TEST(NpyRoundTrip, ScalarAndEmpty) {
  for (std::vector<int64_t> shape :
       {std::vector<int64_t>{}, {0}, {4, 0, 2}, {1, 1, 1, 1, 1}}) {
    npy::Array array(DType::Int16, shape);
    auto parsed = npy::parse(npy::serialize(array), "mem.npy");
    ASSERT_TRUE(bool(parsed)) << llvm::toString(parsed.takeError());
    EXPECT_EQ(parsed->shape, shape);
    EXPECT_EQ(parsed->byteSize(), array.byteSize());
  }
}

TEST(NpyRoundTrip, Files) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("resq-npy", dir));
  llvm::SmallString<128> path(dir);
  llvm::sys::path::append(path, "a.npy");
  npy::Array array =
      makeArray<int32_t>(DType::Int32, {2, 2}, {1, -2, 3, -4});
  EXPECT_EQ(errorText(npy::write(path, array)), "");
  auto read = npy::read(path);
  ASSERT_TRUE(bool(read)) << llvm::toString(read.takeError());
  EXPECT_EQ(read->data, array.data);
  EXPECT_EQ(read->shape, array.shape);
  llvm::sys::fs::remove(path);
  llvm::sys::fs::remove(dir);
}

/// The writer produces exactly what np.save writes.
TEST(NpyCompat, SerializeMatchesNumpy) {
  std::string expected = numpyFile(
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }",
      int32Data());
  // numpy 1.24, np.save(np.arange(6, dtype='<i4').reshape(2, 3)): 152 bytes
  // with a header length field of 0x76.
  ASSERT_EQ(expected.size(), 152u);
  ASSERT_EQ(expected[8], '\x76');
  npy::Array array =
      makeArray<int32_t>(DType::Int32, {2, 3}, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(npy::serialize(array), expected);
}

/// Headers as other writers produce them: version 2.0 and 3.0, other key
/// orders and quotes, no trailing comma, Python 2 long integers.
TEST(NpyCompat, HeaderVariants) {
  std::string data = int32Data();
  std::vector<std::string> files = {
      numpyFile("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }",
                data, std::string("\x02\x00", 2)),
      numpyFile("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }",
                data, std::string("\x03\x00", 2)),
      numpyFile("{'shape': (2, 3), 'fortran_order': False, 'descr': '<i4'}",
                data),
      numpyFile("{\"descr\": \"<i4\", \"fortran_order\": False, "
                "\"shape\": (2,3)}",
                data),
      numpyFile("{'descr': '<i4', 'fortran_order': False, 'shape': (2L, 3L), }",
                data),
  };
  for (const std::string &file : files) {
    auto parsed = npy::parse(file, "variant.npy");
    ASSERT_TRUE(bool(parsed)) << llvm::toString(parsed.takeError());
    EXPECT_EQ(parsed->dtype, DType::Int32);
    EXPECT_EQ(parsed->shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(parsed->as<int32_t>()[5], 5);
  }
}

TEST(NpyCompat, LargeHeaderUsesVersion2) {
  // More dimensions than a 16-bit header length can describe.
  std::vector<int64_t> shape(25000, 1);
  npy::Array array(DType::Int8, shape);
  array.data[0] = 42;
  std::string bytes = npy::serialize(array);
  EXPECT_EQ(bytes[6], '\x02');
  auto parsed = npy::parse(bytes, "big.npy");
  ASSERT_TRUE(bool(parsed)) << llvm::toString(parsed.takeError());
  EXPECT_EQ(parsed->shape.size(), shape.size());
  EXPECT_EQ(parsed->data[0], 42);
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

namespace {
/// Parses `contents` and returns the error message ("" if it parsed).
std::string parseError(const std::string &contents) {
  auto parsed = npy::parse(contents, "bad.npy");
  return parsed ? std::string() : llvm::toString(parsed.takeError());
}
} // namespace

TEST(NpyErrors, BadMagic) {
  std::string e = parseError("hello world, not an array at all");
  EXPECT_NE(e.find("bad.npy: not a .npy file (bad magic"), std::string::npos)
      << e;
  EXPECT_NE(parseError("").find("bad magic"), std::string::npos);
  EXPECT_NE(parseError("\x93NUMPX\x01\x00").find("bad magic"),
            std::string::npos);
}

TEST(NpyErrors, UnsupportedVersion) {
  std::string file = numpyFile(
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }",
      int32Data(), std::string("\x04\x00", 2));
  std::string e = parseError(file);
  EXPECT_NE(e.find("unsupported .npy format version 4.0"), std::string::npos)
      << e;
}

TEST(NpyErrors, UnsupportedDType) {
  for (const char *descr : {"<f8", ">i4", "<c8", "|b1", "<U4", "|O"}) {
    std::string e = parseError(numpyFile(
        std::string("{'descr': '") + descr +
            "', 'fortran_order': False, 'shape': (2, 3), }",
        std::string(48, '\0')));
    EXPECT_NE(e.find(std::string("unsupported dtype '") + descr + "'"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("int8 '|i1'"), std::string::npos) << e;
  }
  // Structured dtypes are lists, not strings.
  std::string e = parseError(numpyFile(
      "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,), }",
      std::string(8, '\0')));
  EXPECT_NE(e.find("malformed .npy header"), std::string::npos) << e;
}

TEST(NpyErrors, FortranOrder) {
  std::string e = parseError(numpyFile(
      "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }",
      int32Data()));
  EXPECT_NE(e.find("Fortran-ordered"), std::string::npos) << e;
}

TEST(NpyErrors, Truncated) {
  std::string file = numpyFile(
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }",
      int32Data());
  std::string e = parseError(file.substr(0, file.size() - 3));
  EXPECT_NE(e.find("bad.npy: truncated data: shape (2, 3) of int32 needs 24 "
                   "bytes, the file has 21"),
            std::string::npos)
      << e;
  // Cut inside the header and inside the header length.
  EXPECT_NE(parseError(file.substr(0, 40)).find("truncated .npy header"),
            std::string::npos);
  EXPECT_NE(parseError(file.substr(0, 9)).find("truncated .npy header"),
            std::string::npos);
}

TEST(NpyErrors, TrailingBytes) {
  std::string file = numpyFile(
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }",
      int32Data() + "xx");
  std::string e = parseError(file);
  EXPECT_NE(e.find("2 unexpected bytes after the data"), std::string::npos)
      << e;
}

TEST(NpyErrors, MalformedHeader) {
  for (const char *dict :
       {"not a dict", "{'descr': '<i4', 'fortran_order': False}",
        "{'descr': '<i4', 'shape': (2, 3)}",
        "{'fortran_order': False, 'shape': (2, 3)}",
        "{'descr': '<i4', 'fortran_order': False, 'shape': (2, x)}",
        "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3)",
        "{'descr': '<i4' 'fortran_order': False, 'shape': (2, 3)}"}) {
    std::string e = parseError(numpyFile(dict, int32Data()));
    EXPECT_NE(e.find("malformed .npy header"), std::string::npos)
        << dict << ": " << e;
  }
  std::string e = parseError(numpyFile(
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2, -3), }", ""));
  EXPECT_NE(e.find("negative dimension"), std::string::npos) << e;
  e = parseError(numpyFile("{'descr': '<i8', 'fortran_order': False, "
                           "'shape': (4294967296, 4294967296), }",
                           ""));
  EXPECT_NE(e.find("too large"), std::string::npos) << e;
}

TEST(NpyErrors, Files) {
  auto missing = npy::read("/nonexistent/dir/x.npy");
  ASSERT_FALSE(bool(missing));
  std::string e = llvm::toString(missing.takeError());
  EXPECT_NE(e.find("/nonexistent/dir/x.npy: cannot read"), std::string::npos)
      << e;
  e = errorText(npy::write("/nonexistent/dir/x.npy",
                           npy::Array(DType::Int8, {2})));
  EXPECT_NE(e.find("/nonexistent/dir/x.npy: cannot write"), std::string::npos)
      << e;
}
