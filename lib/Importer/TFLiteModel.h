//===- TFLiteModel.h - the parts of a TFLite model the importer reads -*- C++ -*-===//
//
// Plain C++ structs for the TFLite schema (tensorflow/lite/schema/schema.fbs,
// schema version 3): the model, its first subgraph, tensors, buffers,
// operator codes and operators. `parseModel` fills them from a FlatBuffer
// with every read bounds-checked; builtin options stay as FlatBuffer tables
// and are read on demand through the same Reader.
//
// Field ids below follow the upstream schema's field order exactly.
//
//===----------------------------------------------------------------------===//
#ifndef RESQ_LIB_IMPORTER_TFLITEMODEL_H
#define RESQ_LIB_IMPORTER_TFLITEMODEL_H

#include "FlatBuffer.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace resq {
namespace tflite {

/// enum TensorType : byte
enum TensorType : int8_t {
  kFloat32 = 0,
  kFloat16 = 1,
  kInt32 = 2,
  kUInt8 = 3,
  kInt64 = 4,
  kString = 5,
  kBool = 6,
  kInt16 = 7,
  kComplex64 = 8,
  kInt8 = 9,
  kFloat64 = 10,
};
const char *tensorTypeName(int type);
/// Bytes per element of a tensor type, or 0 for types the importer does not
/// read data of.
unsigned tensorTypeSize(int type);

/// enum BuiltinOperator (the codes the importer refers to by name).
enum BuiltinOp : int32_t {
  kAdd = 0,
  kAveragePool2D = 1,
  kConcatenation = 2,
  kConv2D = 3,
  kDepthwiseConv2D = 4,
  kDequantize = 6,
  kFullyConnected = 9,
  kLogistic = 14,
  kMaxPool2D = 17,
  kMul = 18,
  kRelu = 19,
  kReluN1To1 = 20,
  kRelu6 = 21,
  kReshape = 22,
  kResizeBilinear = 23,
  kTanh = 28,
  kCustom = 32,
  kPad = 34,
  kTranspose = 39,
  kMean = 40,
  kSub = 41,
  kSqueeze = 43,
  kPadV2 = 60,
  kTransposeConv = 67,
  kExpandDims = 70,
  kQuantize = 114,
  kHardSwish = 117,
};
/// The upstream name of a builtin operator code ("CONV_2D"), or
/// "BUILTIN_<n>" for codes this table does not know.
std::string builtinOpName(int32_t code);

/// union BuiltinOptions: the type tags of the option tables the importer
/// reads (0 is NONE).
enum OptionsType : uint8_t {
  kNoOptions = 0,
  kConv2DOptions = 1,
  kDepthwiseConv2DOptions = 2,
  kPool2DOptions = 5,
  kFullyConnectedOptions = 8,
  kConcatenationOptions = 10,
  kAddOptions = 11,
  kResizeBilinearOptions = 15,
  kReshapeOptions = 17,
  kMulOptions = 21,
  kReducerOptions = 27,
  kSubOptions = 28,
  kSqueezeOptions = 30,
  kTransposeConvOptions = 49,
};

/// enum ActivationFunctionType : byte
enum Activation : int8_t {
  kActNone = 0,
  kActRelu = 1,
  kActReluN1To1 = 2,
  kActRelu6 = 3,
  kActTanh = 4,
  kActSignBit = 5,
};

/// enum Padding : byte
enum Padding : int8_t { kPaddingSame = 0, kPaddingValid = 1 };

/// table QuantizationParameters
struct Quantization {
  std::vector<float> scale;
  std::vector<int64_t> zeroPoint;
  int32_t dimension = 0;
  bool hasDetails = false;
  bool present() const { return !scale.empty(); }
  bool perChannel() const { return scale.size() > 1; }
};

/// table Tensor
struct Tensor {
  std::vector<int64_t> shape;
  bool hasShape = false;
  /// shape_signature holds a -1 (a dimension unknown when converting).
  bool dynamicSignature = false;
  int8_t type = kFloat32;
  uint32_t buffer = 0;
  std::string name;
  Quantization quant;
  bool isVariable = false;
  bool isSparse = false;
};

/// table OperatorCode, with the builtin code resolved from
/// deprecated_builtin_code and builtin_code as the TFLite runtime does.
struct OperatorCode {
  int32_t builtin = 0;
  std::string custom;
  int32_t version = 1;
};

/// table Operator
struct Operator {
  uint32_t opcodeIndex = 0;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  uint8_t optionsType = kNoOptions;
  fb::Table options;
  llvm::ArrayRef<uint8_t> customOptions;
};

/// table SubGraph
struct Subgraph {
  std::vector<Tensor> tensors;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  std::vector<Operator> operators;
  std::string name;
};

/// table Model (only the first subgraph is parsed).
struct Model {
  uint32_t version = 0;
  std::vector<OperatorCode> operatorCodes;
  Subgraph main;
  uint32_t numSubgraphs = 0;
  std::string description;
  /// The data of every buffer (empty when the buffer has none).
  std::vector<llvm::ArrayRef<uint8_t>> buffers;
};

/// Parses `reader`'s buffer into `model`. On failure returns false and the
/// reader holds the message.
bool parseModel(fb::Reader &reader, Model &model);

/// Accessors for builtin option fields; `field` ids as in the schema.
struct Options {
  fb::Reader &reader;
  fb::Table table;
  template <typename T> T get(unsigned field, T def, const char *what) {
    return reader.scalar<T>(table, field, def, what);
  }
};

} // namespace tflite
} // namespace resq

#endif // RESQ_LIB_IMPORTER_TFLITEMODEL_H
