import onnxProto from 'onnx-proto';

/** The generated protobuf classes for ONNX (ModelProto, GraphProto, NodeProto, ...). */
export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** Error raised for bytes that are not a readable ONNX model. */
export class OnnxFormatError extends Error {
  override name = 'OnnxFormatError';
}

/** Decodes ONNX model bytes; throws OnnxFormatError with a clear message on garbage. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  if (bytes.byteLength === 0) throw new OnnxFormatError('not an ONNX model: the file is empty');
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new OnnxFormatError(`not an ONNX model: ${(err as Error).message}`);
  }
  if (!model.graph?.node || model.graph.node.length === 0) {
    throw new OnnxFormatError('not an ONNX model: it has no graph nodes');
  }
  return model;
}

/** Encodes a model to bytes (what InferenceSession.create accepts). */
export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** A deep copy, so edits never touch the caller's model. */
export function cloneModel(model: ModelProto): ModelProto {
  return onnx.ModelProto.decode(encodeModel(model));
}

/** The version of the default ("ai.onnx") opset the model imports. */
export function defaultOpset(model: ModelProto): number {
  for (const imp of model.opsetImport ?? []) {
    if (!imp.domain || imp.domain === 'ai.onnx') return Number(imp.version);
  }
  return 1;
}
