export {
  type AttrValue,
  attrFloat,
  attrInt,
  attrInts,
  attrString,
  attrTensor,
  makeAttributes,
} from './attributes.js';
export { GraphBuilder } from './builder.js';
export { GraphIndex, topologicalOrder } from './graph.js';
export { type IntLike, toNumber, toNumbers } from './ints.js';
export {
  closeMatches,
  type LayerRef,
  modulePaths,
  nodeScopes,
  resolveLayer,
  UnknownLayerError,
} from './layers.js';
export {
  type AxisDim,
  type CamView,
  camView,
  type InputLayout,
  inferInputLayout,
  type Layout,
  LayoutError,
  type NamedLayout,
  type NodeFacts,
  namedLayout,
  type Part,
  reshapeParts,
  tensorLayouts,
} from './layout/index.js';
export { type Dim, type ModelSpec, makeModel, untypedOutput, valueInfo } from './model.js';
export {
  type AttributeProto,
  cloneModel,
  decodeModel,
  defaultOpset,
  encodeModel,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  OnnxFormatError,
  onnx,
  type TensorProto,
  type ValueInfoProto,
} from './proto.js';
export { type CellGrid, cellGrid } from './receptive-field.js';
export { DataType, floatTensor, int64Tensor, tensorDims, tensorValues } from './tensor.js';
export { normalSampler } from './zoo/random.js';
export { buildXRayClassifier, type XRayClassifierOptions } from './zoo/xray-classifier.js';
