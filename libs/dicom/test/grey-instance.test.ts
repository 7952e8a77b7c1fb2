// Grey instances written for the demo and the latency benchmark: our decoder and dcmtk read
// them back, values and identity as given.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeGreyInstance, parseDicom, readHeader, text } from '../src/index.js';

describe('encodeGreyInstance', () => {
  it('16-bit (12 stored) and 8-bit pixels decode to the values given', async () => {
    const w = 7;
    const h = 5;
    const wide = Uint16Array.from({ length: w * h }, (_, i) => (i * 97) % 4096);
    const a = encodeGreyInstance({
      pixels: wide,
      width: w,
      height: h,
      seed: 's1',
      patientName: 'DEMO^PATIENT',
      patientID: 'DEMO-1',
    });
    const frame = await decodeFrame(a.bytes);
    expect(Array.from(frame.data)).toEqual(Array.from(wide));
    const ds = parseDicom(a.bytes);
    const header = readHeader(ds);
    expect(header.sopInstanceUID).toBe(a.sopInstanceUID);
    expect(header.studyInstanceUID).toBe(a.studyInstanceUID);
    expect(header.pixels).toMatchObject({ bitsAllocated: 16, bitsStored: 12, rows: h, columns: w });
    expect(text(ds, 'x00100020')).toBe('DEMO-1');

    const narrow = Uint8Array.from({ length: w * h }, (_, i) => (i * 7) % 256);
    const b = encodeGreyInstance({
      pixels: narrow,
      width: w,
      height: h,
      seed: 's1',
      instanceNumber: 2,
      patientName: 'DEMO^PATIENT',
      patientID: 'DEMO-1',
    });
    expect(Array.from((await decodeFrame(b.bytes)).data)).toEqual(Array.from(narrow));
    expect(b.studyInstanceUID).toBe(a.studyInstanceUID);
    expect(b.sopInstanceUID).not.toBe(a.sopInstanceUID);
    const dir = mkdtempSync(join(tmpdir(), 'camflow-grey-'));
    writeFileSync(join(dir, 'b.dcm'), b.bytes);
    const dump = execFileSync('dcmdump', ['-E', join(dir, 'b.dcm')], { encoding: 'utf8' });
    expect(dump).toMatch(/\(0008,0016\) UI =DigitalXRayImageStorageForPresentation/);
  });
});
