// multipart/related as STOW-RS clients write it: quoted parameters, a preamble, parts without
// headers, bytes that look like a boundary without the line break before it.
import { describe, expect, test } from 'vitest';
import { MultipartError, parseMediaType, splitMultipart } from '../src/dicomweb/multipart.js';

describe('parseMediaType', () => {
  test('type, quoted and bare parameters, any order and case', () => {
    expect(
      parseMediaType('Multipart/Related; Boundary="a b;c"; type="application/dicom"; start=x'),
    ).toEqual({
      type: 'multipart/related',
      params: { boundary: 'a b;c', type: 'application/dicom', start: 'x' },
    });
    expect(parseMediaType('not a type')).toBeUndefined();
    expect(parseMediaType(undefined)).toBeUndefined();
  });
});

describe('splitMultipart', () => {
  const b = 'XyZ';
  test('preamble, headers, a part without headers, CRLF-less look-alikes kept', () => {
    const body = Buffer.from(
      'preamble\r\n--XyZ\r\nContent-Type: application/dicom\r\nX-Note: a\r\n  folded\r\n\r\nAB--XyZC\r\n' +
        '--XyZ  \r\n\r\n\x00\x01\r\n--XyZ--\r\nepilogue',
      'latin1',
    );
    const parts = splitMultipart(body, b);
    expect(parts.map((p) => p.headers)).toEqual([
      { 'content-type': 'application/dicom', 'x-note': 'a folded' },
      {},
    ]);
    expect(parts.map((p) => p.body.toString('latin1'))).toEqual(['AB--XyZC', '\x00\x01']);
  });

  test('what is wrong is named', () => {
    expect(() => splitMultipart(Buffer.from('no boundary here'), b)).toThrow(
      /the body has no boundary "--XyZ"/,
    );
    expect(() => splitMultipart(Buffer.from('--XyZ\r\n\r\nabc'), b)).toThrow(
      /part 1 is not closed/,
    );
    expect(() => splitMultipart(Buffer.from('--XyZ\r\nContent-Type: x'), b)).toThrow(
      MultipartError,
    );
    expect(() => splitMultipart(Buffer.from(''), 'x'.repeat(257))).toThrow(/1-256 characters/);
  });
});
