//===- Npy.cpp - NumPy .npy files -----------------------------------------===//

#include "resq/Runtime/Npy.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace resq;
using namespace resq::npy;
using llvm::StringRef;

namespace {
constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

struct DTypeInfo {
  DType dtype;
  const char *name;
  const char *descr;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::Int8, "int8", "|i1", 1},    {DType::UInt8, "uint8", "|u1", 1},
    {DType::Int16, "int16", "<i2", 2},  {DType::Int32, "int32", "<i4", 4},
    {DType::Int64, "int64", "<i8", 8},  {DType::Float32, "float32", "<f4", 4},
};

const DTypeInfo &info(DType dtype) {
  for (const DTypeInfo &i : kDTypes)
    if (i.dtype == dtype)
      return i;
  llvm_unreachable("unknown dtype");
}

llvm::Error makeError(StringRef name, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 (name + ": " + message).str());
}

/// The values a .npy header dict can hold.
struct HeaderValue {
  enum Kind { String, Bool, Tuple } kind = String;
  std::string string;
  bool boolean = false;
  std::vector<int64_t> tuple;
};

/// A recursive-descent parser for the Python dict literal of the header. It
/// accepts exactly what numpy's writers produce (any key order, either quote
/// style, optional trailing commas, Python 2 'L' suffixes on integers).
class HeaderParser {
public:
  explicit HeaderParser(StringRef text) : text(text) {}

  /// Parses the whole dict into (key, value) pairs; on failure returns false
  /// and sets `error`.
  bool parseDict(std::vector<std::pair<std::string, HeaderValue>> &entries) {
    if (!consume('{'))
      return fail("expected '{'");
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (!parseString(key))
        return fail("expected a quoted key");
      if (!consume(':'))
        return fail("expected ':' after '" + key + "'");
      HeaderValue value;
      if (!parseValue(value))
        return false;
      entries.emplace_back(std::move(key), std::move(value));
      skipSpace();
      if (consume(','))
        continue;
      if (consume('}'))
        break;
      return fail("expected ',' or '}'");
    }
    skipSpace();
    if (pos != text.size())
      return fail("unexpected text after the dict");
    return true;
  }

  std::string error;

private:
  void skipSpace() {
    while (pos < text.size() && llvm::isSpace(text[pos]))
      ++pos;
  }
  bool consume(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool fail(const std::string &message) {
    error = message + " at offset " + std::to_string(pos);
    return false;
  }
  bool parseString(std::string &out) {
    skipSpace();
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
      return false;
    char quote = text[pos++];
    size_t end = text.find(quote, pos);
    if (end == StringRef::npos)
      return false;
    out = text.slice(pos, end).str();
    pos = end + 1;
    return true;
  }
  bool parseInteger(int64_t &out) {
    skipSpace();
    size_t start = pos;
    while (pos < text.size() && (llvm::isDigit(text[pos]) || text[pos] == '-'))
      ++pos;
    if (text.slice(start, pos).getAsInteger(10, out))
      return fail("expected an integer");
    if (pos < text.size() && (text[pos] == 'L' || text[pos] == 'l'))
      ++pos;
    return true;
  }
  bool parseValue(HeaderValue &value) {
    skipSpace();
    StringRef rest = text.substr(pos);
    if (rest.starts_with("True") || rest.starts_with("False")) {
      value.kind = HeaderValue::Bool;
      value.boolean = rest.starts_with("True");
      pos += value.boolean ? 4 : 5;
      return true;
    }
    if (consume('(')) {
      value.kind = HeaderValue::Tuple;
      while (true) {
        if (consume(')'))
          return true;
        int64_t dim;
        if (!parseInteger(dim))
          return false;
        value.tuple.push_back(dim);
        if (consume(','))
          continue;
        if (consume(')'))
          return true;
        return fail("expected ',' or ')' in the shape");
      }
    }
    value.kind = HeaderValue::String;
    if (!parseString(value.string))
      return fail("unsupported value");
    return true;
  }

  StringRef text;
  size_t pos = 0;
};

std::string supportedDTypes() {
  std::string s;
  for (const DTypeInfo &i : kDTypes) {
    if (!s.empty())
      s += ", ";
    s += std::string(i.name) + " '" + i.descr + "'";
  }
  return s;
}
} // namespace

size_t npy::elementSize(DType dtype) { return info(dtype).size; }
StringRef npy::dtypeName(DType dtype) { return info(dtype).name; }
StringRef npy::dtypeDescr(DType dtype) { return info(dtype).descr; }

std::optional<DType> npy::parseDescr(StringRef descr) {
  if (descr.size() < 3)
    return std::nullopt;
  char order = descr[0];
  StringRef kind = descr.drop_front();
  for (const DTypeInfo &i : kDTypes) {
    if (kind != StringRef(i.descr).drop_front())
      continue;
    // Single bytes have no byte order: NumPy writes '|', any marker is
    // harmless. Wider types must be little-endian ('=' is native, i.e.
    // little, on the x86 hosts this runs on).
    if (i.size == 1)
      return llvm::is_contained(StringRef("|<>="), order)
                 ? std::optional<DType>(i.dtype)
                 : std::nullopt;
    if (order == '<' || order == '=')
      return i.dtype;
    return std::nullopt;
  }
  return std::nullopt;
}

std::string npy::formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    s += ",";
  return s + ")";
}

int64_t npy::numElements(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Array::Array(DType dtype, llvm::ArrayRef<int64_t> shape)
    : dtype(dtype), shape(shape.begin(), shape.end()),
      data(static_cast<size_t>(npy::numElements(shape)) * elementSize(dtype)) {}

llvm::Expected<Array> npy::parse(StringRef contents, StringRef name) {
  if (contents.size() < kMagicSize + 2 ||
      contents.substr(0, kMagicSize) != StringRef(kMagic, kMagicSize))
    return makeError(name, "not a .npy file (bad magic; expected "
                           "\"\\x93NUMPY\")");
  auto major = static_cast<uint8_t>(contents[kMagicSize]);
  auto minor = static_cast<uint8_t>(contents[kMagicSize + 1]);
  size_t lengthSize;
  if (major == 1)
    lengthSize = 2;
  else if (major == 2 || major == 3)
    lengthSize = 4;
  else
    return makeError(name, "unsupported .npy format version " +
                               llvm::Twine(unsigned(major)) + "." +
                               llvm::Twine(unsigned(minor)) +
                               " (supported: 1.0, 2.0, 3.0)");
  size_t lengthAt = kMagicSize + 2;
  if (contents.size() < lengthAt + lengthSize)
    return makeError(name, "truncated .npy header");
  uint64_t headerLength = 0;
  for (size_t i = 0; i < lengthSize; ++i)
    headerLength |= uint64_t(static_cast<uint8_t>(contents[lengthAt + i]))
                    << (8 * i);
  size_t headerAt = lengthAt + lengthSize;
  if (contents.size() - headerAt < headerLength)
    return makeError(name, "truncated .npy header (" + llvm::Twine(headerLength) +
                               " bytes announced, " +
                               llvm::Twine(contents.size() - headerAt) +
                               " present)");
  StringRef header = contents.substr(headerAt, headerLength);

  HeaderParser parser(header.trim());
  std::vector<std::pair<std::string, HeaderValue>> entries;
  if (!parser.parseDict(entries))
    return makeError(name, "malformed .npy header: " + parser.error + " in " +
                               header.trim());
  const HeaderValue *descr = nullptr, *fortran = nullptr, *shape = nullptr;
  for (auto &[key, value] : entries) {
    if (key == "descr")
      descr = &value;
    else if (key == "fortran_order")
      fortran = &value;
    else if (key == "shape")
      shape = &value;
  }
  if (!descr || descr->kind != HeaderValue::String)
    return makeError(name, "malformed .npy header: no 'descr' string");
  if (!fortran || fortran->kind != HeaderValue::Bool)
    return makeError(name, "malformed .npy header: no 'fortran_order' flag");
  if (!shape || shape->kind != HeaderValue::Tuple)
    return makeError(name, "malformed .npy header: no 'shape' tuple");

  std::optional<DType> dtype = parseDescr(descr->string);
  if (!dtype)
    return makeError(name, "unsupported dtype '" + descr->string +
                               "' (supported: " + supportedDTypes() + ")");
  if (fortran->boolean)
    return makeError(name, "Fortran-ordered (column-major) arrays are not "
                           "supported; save a C-ordered array, e.g. with "
                           "np.ascontiguousarray");

  // The element count, guarded against negative dimensions and overflow.
  int64_t bytes = elementSize(*dtype);
  for (int64_t d : shape->tuple) {
    if (d < 0)
      return makeError(name, "negative dimension in shape " +
                                 formatShape(shape->tuple));
    int64_t product;
    if (llvm::MulOverflow(bytes, d, product) || product > (int64_t(1) << 48))
      return makeError(name, "shape " + formatShape(shape->tuple) +
                                 " is too large");
    bytes = product;
  }

  size_t dataAt = headerAt + headerLength;
  int64_t available = contents.size() - dataAt;
  if (available < bytes)
    return makeError(name, "truncated data: shape " +
                               formatShape(shape->tuple) + " of " +
                               dtypeName(*dtype) + " needs " +
                               llvm::Twine(bytes) + " bytes, the file has " +
                               llvm::Twine(available));
  if (available > bytes)
    return makeError(name, llvm::Twine(available - bytes) +
                               " unexpected bytes after the data of shape " +
                               formatShape(shape->tuple) + " of " +
                               dtypeName(*dtype));

  Array array;
  array.dtype = *dtype;
  array.shape = shape->tuple;
  array.data.assign(contents.bytes_begin() + dataAt,
                    contents.bytes_begin() + dataAt + bytes);
  return array;
}

llvm::Expected<Array> npy::read(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(path, "cannot read: " + buffer.getError().message());
  return parse((*buffer)->getBuffer(), path);
}

std::string npy::serialize(DType dtype, llvm::ArrayRef<int64_t> shape,
                           llvm::ArrayRef<uint8_t> data) {
  assert(data.size() == static_cast<size_t>(numElements(shape)) *
                            elementSize(dtype) &&
         "data size does not match the shape");
  std::string dict = "{'descr': '" + dtypeDescr(dtype).str() +
                     "', 'fortran_order': False, 'shape': " +
                     formatShape(shape) + ", }";
  // Pad with spaces so that the data starts 64-byte aligned, ending in '\n'.
  size_t lengthSize = 2;
  unsigned major = 1;
  auto padded = [&](size_t prefix) {
    return llvm::alignTo(prefix + dict.size() + 1, 64) - prefix;
  };
  size_t headerLength = padded(kMagicSize + 2 + lengthSize);
  if (headerLength > 0xffff) {
    lengthSize = 4;
    major = 2;
    headerLength = padded(kMagicSize + 2 + lengthSize);
  }
  std::string out(kMagic, kMagicSize);
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < lengthSize; ++i)
    out += static_cast<char>((headerLength >> (8 * i)) & 0xff);
  out += dict;
  out.append(headerLength - dict.size() - 1, ' ');
  out += '\n';
  out.append(reinterpret_cast<const char *>(data.data()), data.size());
  return out;
}

llvm::Error npy::write(StringRef path, DType dtype,
                       llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<uint8_t> data) {
  if (data.size() !=
      static_cast<size_t>(numElements(shape)) * elementSize(dtype))
    return makeError(path, "internal error: " + llvm::Twine(data.size()) +
                               " bytes do not match shape " +
                               formatShape(shape) + " of " + dtypeName(dtype));
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return makeError(path, "cannot write: " + ec.message());
  os << serialize(dtype, shape, data);
  os.close();
  if (os.has_error()) {
    std::string message = os.error().message();
    os.clear_error();
    return makeError(path, "cannot write: " + message);
  }
  return llvm::Error::success();
}
