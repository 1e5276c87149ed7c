//===- TFLiteModel.cpp - parse a TFLite FlatBuffer into plain structs -----===//

#include "TFLiteModel.h"

#include "llvm/ADT/Twine.h"

#include <algorithm>

using namespace resq;
using namespace resq::tflite;

namespace {

/// BuiltinOperator names in code order (schema.fbs); index = code.
const char *const kBuiltinNames[] = {
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "EMBEDDING_LOOKUP",
    "FLOOR",
    "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC",
    "LSH_PROJECTION",
    "LSTM",
    "MAX_POOL_2D",
    "MUL",
    "RELU",
    "RELU_N1_TO_1",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RNN",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "SVDF",
    "TANH",
    "CONCAT_EMBEDDINGS",
    "SKIP_GRAM",
    "CALL",
    "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE",
    "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN",
    "GATHER",
    "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND",
    "TRANSPOSE",
    "MEAN",
    "SUB",
    "DIV",
    "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE",
    "BIDIRECTIONAL_SEQUENCE_RNN",
    "EXP",
    "TOPK_V2",
    "SPLIT",
    "LOG_SOFTMAX",
    "DELEGATE",
    "BIDIRECTIONAL_SEQUENCE_LSTM",
    "CAST",
    "PRELU",
    "MAXIMUM",
    "ARG_MAX",
    "MINIMUM",
    "LESS",
    "NEG",
    "PADV2",
    "GREATER",
    "GREATER_EQUAL",
    "LESS_EQUAL",
    "SELECT",
    "SLICE",
    "SIN",
    "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE",
    "TILE",
    "EXPAND_DIMS",
    "EQUAL",
    "NOT_EQUAL",
    "LOG",
    "SUM",
    "SQRT",
    "RSQRT",
    "SHAPE",
    "POW",
    "ARG_MIN",
    "FAKE_QUANT",
    "REDUCE_PROD",
    "REDUCE_MAX",
    "PACK",
    "LOGICAL_OR",
    "ONE_HOT",
    "LOGICAL_AND",
    "LOGICAL_NOT",
    "UNPACK",
    "REDUCE_MIN",
    "FLOOR_DIV",
    "REDUCE_ANY",
    "SQUARE",
    "ZEROS_LIKE",
    "FILL",
    "FLOOR_MOD",
    "RANGE",
    "RESIZE_NEAREST_NEIGHBOR",
    "LEAKY_RELU",
    "SQUARED_DIFFERENCE",
    "MIRROR_PAD",
    "ABS",
    "SPLIT_V",
    "UNIQUE",
    "CEIL",
    "REVERSE_V2",
    "ADD_N",
    "GATHER_ND",
    "COS",
    "WHERE",
    "RANK",
    "ELU",
    "REVERSE_SEQUENCE",
    "MATRIX_DIAG",
    "QUANTIZE",
    "MATRIX_SET_DIAG",
    "ROUND",
    "HARD_SWISH",
    "IF",
    "WHILE",
    "NON_MAX_SUPPRESSION_V4",
    "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND",
    "SELECT_V2",
    "DENSIFY",
    "SEGMENT_SUM",
    "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES",
    "CUMSUM",
    "CALL_ONCE",
    "BROADCAST_TO",
    "RFFT2D",
    "CONV_3D",
    "IMAG",
    "REAL",
    "COMPLEX_ABS",
    "HASHTABLE",
    "HASHTABLE_FIND",
    "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE",
    "REDUCE_ALL",
    "CONV_3D_TRANSPOSE",
    "VAR_HANDLE",
    "READ_VARIABLE",
    "ASSIGN_VARIABLE",
    "BROADCAST_ARGS",
    "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE",
    "RANDOM_UNIFORM",
    "MULTINOMIAL",
    "GELU",
    "DYNAMIC_UPDATE_SLICE",
    "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD",
    "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM",
    "ATAN2",
    "UNSORTED_SEGMENT_MIN",
    "SIGN",
    "BITCAST",
    "BITWISE_XOR",
    "RIGHT_SHIFT",
};
constexpr int32_t kNumBuiltinNames =
    int32_t(sizeof(kBuiltinNames) / sizeof(kBuiltinNames[0]));

// Field ids (schema order).
namespace model_f {
enum { version, operator_codes, subgraphs, description, buffers };
}
namespace opcode_f {
enum { deprecated_builtin_code, custom_code, version, builtin_code };
}
namespace subgraph_f {
enum { tensors, inputs, outputs, operators, name };
}
namespace tensor_f {
enum {
  shape,
  type,
  buffer,
  name,
  quantization,
  is_variable,
  sparsity,
  shape_signature,
  has_rank
};
}
namespace quant_f {
enum {
  min,
  max,
  scale,
  zero_point,
  details_type,
  details,
  quantized_dimension
};
}
namespace operator_f {
enum {
  opcode_index,
  inputs,
  outputs,
  builtin_options_type,
  builtin_options,
  custom_options,
  custom_options_format,
  mutating_variable_inputs,
  intermediates,
  large_custom_options_offset,
  large_custom_options_size,
};
}
namespace buffer_f {
enum { data, offset, size };
}

/// Bounds on what the importer accepts, far above real models.
constexpr uint32_t kMaxRank = 8;
constexpr uint32_t kMaxListLength = 1u << 20;

std::vector<int32_t> readInts(fb::Reader &r, fb::Table t, unsigned field,
                              const char *what) {
  std::vector<int32_t> result;
  fb::Vector v = r.vector(t, field, 4, what);
  if (!v)
    return result;
  if (v.size() > kMaxListLength) {
    r.fail(llvm::Twine("'") + what + "' has too many entries (" +
           llvm::Twine(v.size()) + ")");
    return result;
  }
  result.reserve(v.size());
  for (uint32_t i = 0; i < v.size() && !r.failed(); ++i)
    result.push_back(r.element<int32_t>(v, i, what));
  return result;
}

void parseQuantization(fb::Reader &r, fb::Table t, Quantization &q) {
  fb::Vector scale = r.vector(t, quant_f::scale, 4, "QuantizationParameters.scale");
  fb::Vector zp =
      r.vector(t, quant_f::zero_point, 8, "QuantizationParameters.zero_point");
  if (r.failed())
    return;
  if (scale.size() > kMaxListLength || zp.size() > kMaxListLength) {
    r.fail("quantization parameters have too many entries");
    return;
  }
  for (uint32_t i = 0; i < scale.size() && !r.failed(); ++i)
    q.scale.push_back(r.element<float>(scale, i, "scale"));
  for (uint32_t i = 0; i < zp.size() && !r.failed(); ++i)
    q.zeroPoint.push_back(r.element<int64_t>(zp, i, "zero_point"));
  q.hasDetails =
      r.scalar<uint8_t>(t, quant_f::details_type, 0, "details_type") != 0;
  q.dimension = r.scalar<int32_t>(t, quant_f::quantized_dimension, 0,
                                  "quantized_dimension");
}

void parseTensor(fb::Reader &r, fb::Table t, Tensor &tensor) {
  fb::Vector shape = r.vector(t, tensor_f::shape, 4, "Tensor.shape");
  if (shape) {
    tensor.hasShape = true;
    if (shape.size() > kMaxRank) {
      r.fail("tensor rank " + llvm::Twine(shape.size()) +
             " exceeds the supported maximum of " + llvm::Twine(kMaxRank));
      return;
    }
    for (uint32_t i = 0; i < shape.size() && !r.failed(); ++i)
      tensor.shape.push_back(r.element<int32_t>(shape, i, "Tensor.shape"));
  }
  tensor.type = r.scalar<int8_t>(t, tensor_f::type, kFloat32, "Tensor.type");
  tensor.buffer = r.scalar<uint32_t>(t, tensor_f::buffer, 0, "Tensor.buffer");
  tensor.name = r.string(t, tensor_f::name, "Tensor.name");
  if (fb::Table q = r.table(t, tensor_f::quantization, "Tensor.quantization"))
    parseQuantization(r, q, tensor.quant);
  tensor.isVariable =
      r.scalar<uint8_t>(t, tensor_f::is_variable, 0, "Tensor.is_variable");
  tensor.isSparse = bool(r.table(t, tensor_f::sparsity, "Tensor.sparsity"));
  fb::Vector sig =
      r.vector(t, tensor_f::shape_signature, 4, "Tensor.shape_signature");
  for (uint32_t i = 0; sig && i < sig.size() && i < kMaxRank && !r.failed();
       ++i)
    if (r.element<int32_t>(sig, i, "Tensor.shape_signature") < 0)
      tensor.dynamicSignature = true;
}

void parseOperator(fb::Reader &r, fb::Table t, Operator &op) {
  op.opcodeIndex =
      r.scalar<uint32_t>(t, operator_f::opcode_index, 0, "Operator.opcode_index");
  op.inputs = readInts(r, t, operator_f::inputs, "Operator.inputs");
  op.outputs = readInts(r, t, operator_f::outputs, "Operator.outputs");
  op.optionsType = r.scalar<uint8_t>(t, operator_f::builtin_options_type, 0,
                                     "Operator.builtin_options_type");
  if (op.optionsType != kNoOptions)
    op.options =
        r.table(t, operator_f::builtin_options, "Operator.builtin_options");
  op.customOptions = r.bytesOf(
      r.vector(t, operator_f::custom_options, 1, "Operator.custom_options"));
  if (op.customOptions.empty()) {
    // Models over 2 GB keep custom options outside the FlatBuffer.
    uint64_t offset = r.scalar<uint64_t>(
        t, operator_f::large_custom_options_offset, 0, "large_custom_options");
    uint64_t size = r.scalar<uint64_t>(
        t, operator_f::large_custom_options_size, 0, "large_custom_options");
    if (offset > 1) {
      llvm::ArrayRef<uint8_t> all = r.bytes();
      if (offset > all.size() || size > all.size() - offset)
        r.fail("custom options of an operator lie outside the file");
      else
        op.customOptions = all.slice(offset, size);
    }
  }
}

} // namespace

const char *tflite::tensorTypeName(int type) {
  switch (type) {
  case kFloat32: return "FLOAT32";
  case kFloat16: return "FLOAT16";
  case kInt32: return "INT32";
  case kUInt8: return "UINT8";
  case kInt64: return "INT64";
  case kString: return "STRING";
  case kBool: return "BOOL";
  case kInt16: return "INT16";
  case kComplex64: return "COMPLEX64";
  case kInt8: return "INT8";
  case kFloat64: return "FLOAT64";
  default: return "UNKNOWN";
  }
}

unsigned tflite::tensorTypeSize(int type) {
  switch (type) {
  case kFloat32: return 4;
  case kFloat16: return 2;
  case kInt32: return 4;
  case kUInt8: return 1;
  case kInt64: return 8;
  case kBool: return 1;
  case kInt16: return 2;
  case kInt8: return 1;
  default: return 0;
  }
}

std::string tflite::builtinOpName(int32_t code) {
  if (code >= 0 && code < kNumBuiltinNames)
    return kBuiltinNames[code];
  return "BUILTIN_" + std::to_string(code);
}

bool tflite::parseModel(fb::Reader &r, Model &model) {
  if (r.bytes().size() < 8) {
    r.fail("file too small to be a TFLite model (" +
           llvm::Twine(uint64_t(r.bytes().size())) + " bytes)");
    return false;
  }
  if (r.bytes().size() >= (uint64_t(1) << 31)) {
    r.fail("file too large: FlatBuffers are limited to 2 GB");
    return false;
  }
  if (r.identifier() != "TFL3") {
    r.fail("not a TFLite model: the FlatBuffer identifier is not 'TFL3'");
    return false;
  }
  fb::Table root = r.root("Model");
  if (!root)
    return false;
  model.version = r.scalar<uint32_t>(root, model_f::version, 0, "Model.version");
  model.description = r.string(root, model_f::description, "Model.description");

  fb::Vector codes = r.vector(root, model_f::operator_codes, 4, "Model.operator_codes");
  for (uint32_t i = 0; codes && i < codes.size() && !r.failed(); ++i) {
    fb::Table t = r.tableElement(codes, i, "OperatorCode");
    OperatorCode code;
    int8_t deprecated = r.scalar<int8_t>(t, opcode_f::deprecated_builtin_code,
                                         0, "deprecated_builtin_code");
    int32_t extended =
        r.scalar<int32_t>(t, opcode_f::builtin_code, 0, "builtin_code");
    code.builtin = std::max<int32_t>(deprecated, extended);
    code.custom = r.string(t, opcode_f::custom_code, "custom_code");
    code.version = r.scalar<int32_t>(t, opcode_f::version, 1, "version");
    model.operatorCodes.push_back(std::move(code));
  }

  fb::Vector buffers = r.vector(root, model_f::buffers, 4, "Model.buffers");
  for (uint32_t i = 0; buffers && i < buffers.size() && !r.failed(); ++i) {
    fb::Table t = r.tableElement(buffers, i, "Buffer");
    llvm::ArrayRef<uint8_t> data =
        r.bytesOf(r.vector(t, buffer_f::data, 1, "Buffer.data"));
    if (data.empty()) {
      // Models over 2 GB keep buffer data outside the FlatBuffer.
      uint64_t offset = r.scalar<uint64_t>(t, buffer_f::offset, 0, "Buffer.offset");
      uint64_t size = r.scalar<uint64_t>(t, buffer_f::size, 0, "Buffer.size");
      if (offset > 1) {
        llvm::ArrayRef<uint8_t> all = r.bytes();
        if (offset > all.size() || size > all.size() - offset)
          r.fail("buffer #" + llvm::Twine(i) + " lies outside the file");
        else
          data = all.slice(offset, size);
      }
    }
    model.buffers.push_back(data);
  }

  fb::Vector subgraphs = r.vector(root, model_f::subgraphs, 4, "Model.subgraphs");
  if (r.failed())
    return false;
  if (!subgraphs || subgraphs.size() == 0) {
    r.fail("the model has no subgraph");
    return false;
  }
  model.numSubgraphs = subgraphs.size();
  fb::Table sg = r.tableElement(subgraphs, 0, "SubGraph");
  Subgraph &main = model.main;
  main.name = r.string(sg, subgraph_f::name, "SubGraph.name");
  main.inputs = readInts(r, sg, subgraph_f::inputs, "SubGraph.inputs");
  main.outputs = readInts(r, sg, subgraph_f::outputs, "SubGraph.outputs");
  fb::Vector tensors = r.vector(sg, subgraph_f::tensors, 4, "SubGraph.tensors");
  if (tensors.size() > kMaxListLength) {
    r.fail("too many tensors (" + llvm::Twine(tensors.size()) + ")");
    return false;
  }
  for (uint32_t i = 0; tensors && i < tensors.size() && !r.failed(); ++i) {
    Tensor tensor;
    parseTensor(r, r.tableElement(tensors, i, "Tensor"), tensor);
    main.tensors.push_back(std::move(tensor));
  }
  fb::Vector ops = r.vector(sg, subgraph_f::operators, 4, "SubGraph.operators");
  if (ops.size() > kMaxListLength) {
    r.fail("too many operators (" + llvm::Twine(ops.size()) + ")");
    return false;
  }
  for (uint32_t i = 0; ops && i < ops.size() && !r.failed(); ++i) {
    Operator op;
    parseOperator(r, r.tableElement(ops, i, "Operator"), op);
    main.operators.push_back(std::move(op));
  }
  return !r.failed();
}
