import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NpyFormatError, npyToFloat32, readNpy, writeNpy } from '../src/npy.js';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./fixtures/npy/${name}`, import.meta.url)));

describe('readNpy on files numpy wrote', () => {
  it('reads <f4 in format 1.0 with a 3-D shape', () => {
    const npy = readNpy(fixture('f4-v1.npy'));
    expect(npy.dtype).toBe('<f4');
    expect(npy.shape).toEqual([2, 3, 4]);
    expect(npy.data).toBeInstanceOf(Float32Array);
    expect(npy.data.length).toBe(24);
    expect(npy.data[0]).toBe(0);
    expect(npy.data[23]).toBe(Math.fround(23 / 7));
  });

  it('reads format 2.0 and 3.0 headers', () => {
    const v2 = readNpy(fixture('f4-v2.npy'));
    expect(v2.shape).toEqual([3]);
    expect(Array.from(v2.data as Float32Array)).toEqual([1, 2, 3]);
    const v3 = readNpy(fixture('f4-v3.npy'));
    expect(v3.shape).toEqual([1, 1]);
    expect(v3.data[0]).toBe(0.25);
  });

  it('keeps <f8 as Float64Array with full precision', () => {
    const npy = readNpy(fixture('f8.npy'));
    expect(npy.dtype).toBe('<f8');
    expect(npy.data).toBeInstanceOf(Float64Array);
    expect(npy.shape).toEqual([2, 3]);
    expect(Array.from(npy.data as Float64Array)).toEqual([1.5, -2.25, 3e300, 1e-300, 0, -0]);
  });

  it('reads <i8, <i4 and |u1', () => {
    const i8 = readNpy(fixture('i8.npy'));
    expect(i8.data).toBeInstanceOf(BigInt64Array);
    expect(Array.from(i8.data as BigInt64Array)).toEqual([1n, -2n, 2n ** 40n, -(2n ** 62n)]);
    const i4 = readNpy(fixture('i4.npy'));
    expect(i4.dtype).toBe('<i4');
    expect(Array.from(i4.data as Int32Array)).toEqual([7, -8, 2147483647]);
    const u1 = readNpy(fixture('u1.npy'));
    expect(u1.dtype).toBe('|u1');
    expect(u1.shape).toEqual([2, 2]);
    expect(Array.from(u1.data as Uint8Array)).toEqual([0, 1, 254, 255]);
  });

  it('reads a 0-d array as shape [] with one element', () => {
    const npy = readNpy(fixture('scalar.npy'));
    expect(npy.shape).toEqual([]);
    expect(Array.from(npy.data as Float32Array)).toEqual([3.5]);
  });

  it('reads from a Uint8Array view at an odd offset', () => {
    const bytes = fixture('f4-v1.npy');
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    const npy = readNpy(padded.subarray(3));
    expect(npy.data[23]).toBe(Math.fround(23 / 7));
  });
});

describe('readNpy errors', () => {
  const expectError = (bytes: Uint8Array, pattern: RegExp) => {
    expect(() => readNpy(bytes)).toThrow(NpyFormatError);
    expect(() => readNpy(bytes)).toThrow(pattern);
  };

  it('rejects Fortran order with a hint', () => {
    expectError(fixture('fortran.npy'), /Fortran order.*C order/);
  });

  it('rejects big-endian and unknown dtypes, naming them', () => {
    expectError(fixture('big-endian.npy'), /unsupported \.npy dtype '>f4'/);
  });

  it('rejects bytes that are not .npy', () => {
    expectError(new Uint8Array(0), /magic/);
    expectError(new TextEncoder().encode('hello, this is text'), /magic/);
  });

  it('rejects truncated data and headers', () => {
    const bytes = fixture('f4-v1.npy');
    expectError(
      bytes.subarray(0, bytes.length - 1),
      /truncated \.npy data.*needs 96 bytes, file has 95/,
    );
    expectError(bytes.subarray(0, 40), /truncated \.npy header/);
  });

  it('rejects malformed header dictionaries', () => {
    const make = (header: string) => {
      const out = new Uint8Array(10 + header.length);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length, 0]);
      out.set(new TextEncoder().encode(header), 10);
      return out;
    };
    expectError(make("{'descr': '<f4', 'fortran_order': False, 'shape': (2,}\n"), /malformed/);
    expectError(make("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}\n"), /malformed/);
    expectError(make("{'fortran_order': False, 'shape': (2,)}\n"), /descr/);
    expectError(make("{'descr': '<f4', 'fortran_order': False}\n"), /shape/);
    expectError(make("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}\n"), /malformed/);
  });

  it('rejects an unknown format version', () => {
    const bytes = fixture('f4-v1.npy').slice();
    bytes[6] = 9;
    expectError(bytes, /version 9\.0/);
  });
});

describe('writeNpy', () => {
  it('writes the same array numpy wrote for the same float32 data', () => {
    const expected = fixture('f4-v2.npy');
    const written = writeNpy(new Float32Array([1, 2, 3]), [3]);
    // numpy pads headers further than the spec requires, so compare parsed content, not bytes.
    const back = readNpy(written);
    const ref = readNpy(expected);
    expect(back).toEqual(ref);
  });

  it('aligns the data to 64 bytes and ends the header with a newline', () => {
    const written = writeNpy(new Float32Array(5), [5]);
    const headerLength = written[8] | (written[9] << 8);
    expect((10 + headerLength) % 64).toBe(0);
    expect(written[10 + headerLength - 1]).toBe(0x0a);
    expect(written.length).toBe(10 + headerLength + 20);
  });

  it('round-trips every supported dtype and shape', () => {
    const cases = [
      { data: new Float32Array([0.5, -1, 3.25, 1e-8, 7, 8]), shape: [1, 2, 3] },
      { data: new Float64Array([Math.PI, -Math.E]), shape: [2] },
      { data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]), shape: [2, 1] },
      { data: new Int32Array([-5, 6, 7, 8]), shape: [2, 2] },
      { data: new Uint8Array([9]), shape: [] },
      { data: new Float32Array(0), shape: [0, 4] },
    ];
    for (const { data, shape } of cases) {
      const back = readNpy(writeNpy(data, shape));
      expect(back.shape).toEqual(shape);
      expect(back.data).toEqual(data);
    }
  });

  it('rejects a shape that does not match the data', () => {
    expect(() => writeNpy(new Float32Array(6), [2, 2])).toThrow(/holds 4 elements, data has 6/);
  });
});

describe('npyToFloat32', () => {
  it('returns float32 data unchanged', () => {
    const { shape, data } = npyToFloat32(fixture('f4-v1.npy'));
    expect(shape).toEqual([2, 3, 4]);
    expect(data[7]).toBe(Math.fround(1));
  });

  it('converts other dtypes to float32', () => {
    expect(Array.from(npyToFloat32(fixture('i8.npy')).data)).toEqual([1, -2, 2 ** 40, -(2 ** 62)]);
    expect(Array.from(npyToFloat32(fixture('u1.npy')).data)).toEqual([0, 1, 254, 255]);
    const f8 = npyToFloat32(readNpy(fixture('f8.npy')));
    expect(f8.data).toBeInstanceOf(Float32Array);
    expect(f8.data[0]).toBe(1.5);
    expect(f8.data[2]).toBe(Number.POSITIVE_INFINITY); // 3e300 overflows float32, as in numpy
  });
});
