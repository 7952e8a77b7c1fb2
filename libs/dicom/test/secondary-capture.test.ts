import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeSecondaryCapture,
  parseDicom,
  readSourceStudy,
  text,
} from '../src/index.js';
import { fixture } from './fixtures.js';

describe('Secondary Capture', () => {
  const source = readSourceStudy(fixture('ct16s.jpeg-ls.dcm'));
  const width = 5;
  const height = 3;
  const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 17) % 256);
  const sc = encodeSecondaryCapture({
    source,
    rgb,
    width,
    height,
    model: 'xray-clean@1',
    jobId: 'xjob',
    seriesDescription: 'Grad-CAM xray-clean@1 gradcam',
    imageComments: 'predicted: pneumonia (0.91)',
    now: new Date('2026-12-03T10:00:00Z'),
  });

  it('keeps patient and study, references the source, and decodes to the same RGB', async () => {
    const ds = parseDicom(sc.bytes);
    expect(text(ds, 'x00080016')).toBe('1.2.840.10008.5.1.4.1.1.7');
    expect(text(ds, 'x0020000d')).toBe(source.studyInstanceUID);
    expect(text(ds, 'x00100010')).toBe('PHANTOM^ALICE^CAMFLOW');
    expect(text(ds, 'x00100020')).toBe('PHI-7731-ALICE');
    expect(text(ds, 'x00080050')).toBe('ACC0001');
    expect(text(ds, 'x00080020')).toBe('20261203');
    expect(text(ds, 'x0008103e')).toMatch(/^Grad-CAM xray-clean@1/);
    expect(text(ds, 'x00080060')).toBe('OT');
    expect(ds.string('x00080008')).toBe('DERIVED\\SECONDARY');
    expect(text(ds, 'x00280301')).toBe('YES');
    const ref = ds.elements.x00082112?.items?.[0]?.dataSet;
    expect(ref && text(ref, 'x00081155')).toBe(source.sopInstanceUID);
    expect(ref && text(ref, 'x00081150')).toBe(source.sopClassUID);
    expect(text(ds, 'x0020000e')).not.toBe(source.seriesInstanceUID);
    const frame = await decodeFrame(sc.bytes);
    expect(Array.from(frame.data)).toEqual(Array.from(rgb));
  });

  it('is the same instance for the same job, another for another job; dcmtk reads it', () => {
    const again = encodeSecondaryCapture({
      source,
      rgb,
      width,
      height,
      model: 'xray-clean@1',
      jobId: 'xjob',
      seriesDescription: 'Grad-CAM',
      imageComments: '',
    });
    const other = encodeSecondaryCapture({
      source,
      rgb,
      width,
      height,
      model: 'xray-clean@1',
      jobId: 'other',
      seriesDescription: 'Grad-CAM',
      imageComments: '',
    });
    expect(again.sopInstanceUID).toBe(sc.sopInstanceUID);
    expect(other.sopInstanceUID).not.toBe(sc.sopInstanceUID);
    expect(other.seriesInstanceUID).toBe(sc.seriesInstanceUID);
    // dcmtk (Debian) parses the file and its meta group without complaint.
    const dir = mkdtempSync(join(tmpdir(), 'camflow-sc-'));
    writeFileSync(join(dir, 'sc.dcm'), sc.bytes);
    const dump = execFileSync('dcmdump', ['-E', join(dir, 'sc.dcm')], { encoding: 'utf8' });
    expect(dump).toMatch(/\(0002,0010\) UI =LittleEndianExplicit/);
    expect(dump).toMatch(/\(0008,0016\) UI =SecondaryCaptureImageStorage/);
  });
});
