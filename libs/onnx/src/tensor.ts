import { toNumbers } from './ints.js';
import { onnx, type TensorProto } from './proto.js';

export const DataType = onnx.TensorProto.DataType;

/** Shape of a TensorProto as plain numbers. */
export function tensorDims(t: TensorProto): number[] {
  return toNumbers(t.dims);
}

function rawView(t: TensorProto): Buffer | undefined {
  if (!t.rawData || t.rawData.length === 0) return undefined;
  const raw = t.rawData;
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** Values of a float, double or integer tensor as numbers (small tensors: shapes, axes, pads). */
export function tensorValues(t: TensorProto): number[] {
  const raw = rawView(t);
  const count = tensorDims(t).reduce((a, b) => a * b, 1);
  switch (t.dataType) {
    case DataType.FLOAT:
      if (raw) return Array.from({ length: count }, (_, i) => raw.readFloatLE(i * 4));
      return [...(t.floatData ?? [])];
    case DataType.DOUBLE:
      if (raw) return Array.from({ length: count }, (_, i) => raw.readDoubleLE(i * 8));
      return [...(t.doubleData ?? [])];
    case DataType.INT64:
      if (raw) return Array.from({ length: count }, (_, i) => Number(raw.readBigInt64LE(i * 8)));
      return toNumbers(t.int64Data);
    case DataType.INT32:
      if (raw) return Array.from({ length: count }, (_, i) => raw.readInt32LE(i * 4));
      return [...(t.int32Data ?? [])];
    default:
      throw new Error(`cannot read tensor ${t.name ?? ''} of data type ${t.dataType}`);
  }
}

/** A float32 tensor (stored as raw little-endian bytes). */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorProto {
  const f = Float32Array.from(values as ArrayLike<number>);
  return {
    name,
    dims,
    dataType: DataType.FLOAT,
    rawData: new Uint8Array(f.buffer, f.byteOffset, f.byteLength),
  };
}

/** An int64 tensor (shapes, axes, indices). */
export function int64Tensor(name: string, dims: number[], values: readonly number[]): TensorProto {
  const b = new BigInt64Array(values.map((v) => BigInt(v)));
  return {
    name,
    dims,
    dataType: DataType.INT64,
    rawData: new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
  };
}
