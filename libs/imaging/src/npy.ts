/**
 * NumPy `.npy` reader and writer (format versions 1.0, 2.0 and 3.0).
 * Spec: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 * Only little-endian (or byte-order-free) numeric dtypes in C order are supported; that is what
 * `np.save` writes for the arrays this project exchanges (preprocessed batches, CAMs).
 */

/** The dtypes this module reads; `writeNpy` writes all of them too. */
export type NpyDtype = '<f4' | '<f8' | '<i8' | '<i4' | '|u1';

/** A typed array that can hold the data of a supported dtype. */
export type NpyData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

/** A parsed `.npy` array: dtype descriptor, shape (C order) and the flat data. */
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

/** Raised for anything that is not a well-formed, supported `.npy` file. Never worth retrying. */
export class NpyFormatError extends Error {
  readonly permanent = true;
  constructor(message: string) {
    super(message);
    this.name = 'NpyFormatError';
  }
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

const ITEM_SIZE: Record<NpyDtype, number> = { '<f4': 4, '<f8': 8, '<i8': 8, '<i4': 4, '|u1': 1 };

// Spellings numpy may write for the same dtype: single-byte types have no byte order, and
// a native-order '=' descriptor on a little-endian machine is little-endian.
const DTYPE_ALIASES: Record<string, NpyDtype> = {
  '<f4': '<f4',
  '=f4': '<f4',
  '<f8': '<f8',
  '=f8': '<f8',
  '<i8': '<i8',
  '=i8': '<i8',
  '<i4': '<i4',
  '=i4': '<i4',
  '|u1': '|u1',
  '<u1': '|u1',
  '>u1': '|u1',
  '=u1': '|u1',
};

/**
 * Parses the bytes of a `.npy` file. The returned data is a fresh, aligned copy.
 * Throws `NpyFormatError` for a bad magic string, a malformed header, an unsupported dtype,
 * Fortran order, or data shorter than the shape requires.
 */
export function readNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new NpyFormatError('not a .npy file: missing the \\x93NUMPY magic string');
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = 10;
    headerLength = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyFormatError('truncated .npy header');
    headerStart = 12;
    headerLength = view.getUint32(8, true);
  } else {
    throw new NpyFormatError(`unsupported .npy format version ${major}.${bytes[7]}`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) {
    throw new NpyFormatError(
      `truncated .npy header: needs ${headerLength} bytes, file has ${bytes.length - headerStart}`,
    );
  }
  // Version 3.0 allows UTF-8 in the header (field names); 1.0 and 2.0 are latin1.
  const headerBytes = bytes.subarray(headerStart, dataStart);
  const headerText = Buffer.from(headerBytes).toString(major === 3 ? 'utf8' : 'latin1');
  const header = parseHeader(headerText);

  const count = elementCount(header.shape);
  const itemSize = ITEM_SIZE[header.dtype];
  const byteLength = count * itemSize;
  if (dataStart + byteLength > bytes.length) {
    throw new NpyFormatError(
      `truncated .npy data: shape [${header.shape.join(', ')}] of ${header.dtype} needs ` +
        `${byteLength} bytes, file has ${bytes.length - dataStart}`,
    );
  }
  // slice() copies into a new ArrayBuffer, so the typed array is aligned whatever the header size.
  const buffer = bytes.slice(dataStart, dataStart + byteLength).buffer;
  assertLittleEndianHost();
  return { dtype: header.dtype, shape: header.shape, data: makeTypedArray(header.dtype, buffer) };
}

/**
 * Serialises a C-order array to `.npy` bytes (format 1.0, or 2.0 if the header needs it).
 * The dtype follows the typed array: Float32Array -> `<f4`, Float64Array -> `<f8`,
 * BigInt64Array -> `<i8`, Int32Array -> `<i4`, Uint8Array -> `|u1`.
 */
export function writeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  const count = elementCount(shape);
  if (count !== data.length) {
    throw new NpyFormatError(
      `shape [${shape.join(', ')}] holds ${count} elements, data has ${data.length}`,
    );
  }
  const dtype = dtypeOf(data);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad with spaces so magic + version + length + header is a multiple of 64, ending in '\n'.
  let major = 1;
  let prefix = 10;
  let total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  if (total - prefix > 0xffff) {
    major = 2;
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  }
  const headerLength = total - prefix;
  const header = dict.padEnd(headerLength - 1, ' ') + '\n';

  assertLittleEndianHost();
  const payload = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(total + payload.length);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(payload, total);
  return out;
}

/**
 * Reads (or takes an already parsed) `.npy` array and returns its values as float32,
 * converting other dtypes; int64 values beyond 2^53 lose precision, as they would in numpy.
 */
export function npyToFloat32(input: Uint8Array | NpyArray): {
  shape: number[];
  data: Float32Array;
} {
  const array = input instanceof Uint8Array ? readNpy(input) : input;
  const { data } = array;
  if (data instanceof Float32Array) return { shape: [...array.shape], data };
  const out = new Float32Array(data.length);
  if (data instanceof BigInt64Array) {
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  } else {
    out.set(data);
  }
  return { shape: [...array.shape], data: out };
}

interface Header {
  dtype: NpyDtype;
  shape: number[];
}

function parseHeader(text: string): Header {
  let dict: Map<string, PyValue>;
  try {
    dict = parsePyDict(text);
  } catch (err) {
    throw new NpyFormatError(
      `malformed .npy header ${JSON.stringify(text.trim())}: ${(err as Error).message}`,
    );
  }
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof descr !== 'string') {
    throw new NpyFormatError(
      'malformed .npy header: descr must be a string (structured dtypes are not supported)',
    );
  }
  if (typeof fortran !== 'boolean') {
    throw new NpyFormatError('malformed .npy header: fortran_order must be True or False');
  }
  if (!Array.isArray(shape)) {
    throw new NpyFormatError('malformed .npy header: shape must be a tuple of integers');
  }
  const dtype = DTYPE_ALIASES[descr];
  if (!dtype) {
    throw new NpyFormatError(
      `unsupported .npy dtype '${descr}': supported are <f4, <f8, <i8, <i4, |u1 (little-endian)`,
    );
  }
  if (fortran) {
    throw new NpyFormatError(
      '.npy array is in Fortran order: save it in C order (np.ascontiguousarray) and retry',
    );
  }
  return { dtype, shape };
}

function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new NpyFormatError(`invalid .npy shape [${shape.join(', ')}]`);
    }
    count *= dim;
  }
  if (!Number.isSafeInteger(count))
    throw new NpyFormatError(`.npy shape [${shape.join(', ')}] is too large`);
  return count;
}

function makeTypedArray(dtype: NpyDtype, buffer: ArrayBuffer): NpyData {
  switch (dtype) {
    case '<f4':
      return new Float32Array(buffer);
    case '<f8':
      return new Float64Array(buffer);
    case '<i8':
      return new BigInt64Array(buffer);
    case '<i4':
      return new Int32Array(buffer);
    case '|u1':
      return new Uint8Array(buffer);
  }
}

function dtypeOf(data: NpyData): NpyDtype {
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof BigInt64Array) return '<i8';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof Uint8Array) return '|u1';
  throw new NpyFormatError('writeNpy: unsupported typed array');
}

// Typed arrays use the host byte order; every platform Node supports today is little-endian,
// but fail loudly rather than return byte-swapped numbers if that ever changes.
function assertLittleEndianHost(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new NpyFormatError('big-endian hosts are not supported');
  }
}

/* A tiny parser for the Python literal numpy writes as the header: a dict of string keys to
 * strings, booleans and tuples of integers. Anything else is rejected with the position. */

type PyValue = string | boolean | number[];

function parsePyDict(text: string): Map<string, PyValue> {
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`expected ${what} at offset ${pos}`);
  };
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const eat = (ch: string): boolean => {
    skipSpace();
    if (text[pos] === ch) {
      pos++;
      return true;
    }
    return false;
  };
  const parseString = (): string => {
    skipSpace();
    const quote = text[pos];
    if (quote !== "'" && quote !== '"') fail('a quoted string');
    const end = text.indexOf(quote, pos + 1);
    if (end < 0) fail('a closing quote');
    const value = text.slice(pos + 1, end);
    pos = end + 1;
    return value;
  };
  const parseInteger = (): number => {
    skipSpace();
    const match = /^\d+L?/.exec(text.slice(pos));
    if (!match) fail('an integer');
    pos += match![0].length;
    return Number(match![0].replace('L', ''));
  };
  const parseValue = (): PyValue => {
    skipSpace();
    if (text.startsWith('True', pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith('False', pos)) {
      pos += 5;
      return false;
    }
    if (text[pos] === "'" || text[pos] === '"') return parseString();
    if (eat('(')) {
      const items: number[] = [];
      while (!eat(')')) {
        items.push(parseInteger());
        if (!eat(',')) {
          if (!eat(')')) fail("',' or ')'");
          break;
        }
      }
      return items;
    }
    return fail('a string, True, False or a tuple');
  };

  const dict = new Map<string, PyValue>();
  if (!eat('{')) fail("'{'");
  while (!eat('}')) {
    const key = parseString();
    if (!eat(':')) fail("':'");
    dict.set(key, parseValue());
    if (!eat(',')) {
      if (!eat('}')) fail("',' or '}'");
      break;
    }
  }
  skipSpace();
  if (pos !== text.length) fail('the end of the header');
  return dict;
}
