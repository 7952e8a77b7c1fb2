import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeFrame } from '@camflow/dicom';
import { readNpy } from '@camflow/imaging';
import { describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

const dicom = join(import.meta.dirname, '../../../test/fixtures/dicom');
const tmp = mkdtempSync(join(tmpdir(), 'camflow-inspect-'));

describe('camflow inspect', () => {
  test('--json: format, size, bits, photometric, transfer syntax and frames per file', async () => {
    const r = await runCli([
      'inspect',
      join(dicom, 'dx1.jpeg-ls.dcm'),
      join(dicom, 'rgb8.jpeg-baseline.dcm'),
      '--json',
    ]);
    expect(r.code).toBe(0);
    const { items } = JSON.parse(r.stdout);
    expect(items[0]).toMatchObject({
      format: 'dicom',
      width: 56,
      height: 40,
      channels: 1,
      bits: 12,
      bitsAllocated: 16,
      photometricInterpretation: 'MONOCHROME1',
      transferSyntax: { uid: '1.2.840.10008.1.2.4.80', name: 'JPEG-LS Lossless' },
      frames: 2,
    });
    expect(items[1]).toMatchObject({
      channels: 3,
      bits: 8,
      photometricInterpretation: 'YBR_FULL_422',
      transferSyntax: { uid: '1.2.840.10008.1.2.4.50' },
    });
    // No patient data on stdout.
    expect(r.stdout).not.toMatch(/PHANTOM|PHI-/);
  });

  test('--npy writes frame 0 as float32: modality values [H, W], RGB [H, W, 3]', async () => {
    const grey = join(tmp, 'ct.npy');
    const r = await runCli(['inspect', join(dicom, 'ct16s.j2k.dcm'), '--npy', grey]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /ct16s\.j2k\.dcm: DICOM, 64x48, 1 channel, 16 bits \(signed\), MONOCHROME2, 1 frame, transfer syntax 1\.2\.840\.10008\.1\.2\.4\.90/,
    );
    const npy = readNpy(new Uint8Array(readFileSync(grey)));
    expect(npy.dtype).toBe('<f4');
    expect(npy.shape).toEqual([48, 64]);
    const ref = await decodeFrame(
      new Uint8Array(readFileSync(join(dicom, 'ct16s.explicit-le.dcm'))),
    );
    expect(npy.data).toEqual(ref.data);
    // Hounsfield units: intercept -1024 applied, no window.
    expect(Math.min(...(npy.data as Float32Array))).toBeLessThan(-1000);

    const colour = join(tmp, 'rgb.npy');
    expect((await runCli(['inspect', join(dicom, 'rgb8.rle.dcm'), '--npy', colour])).code).toBe(0);
    expect(readNpy(new Uint8Array(readFileSync(colour))).shape).toEqual([40, 64, 3]);
  });

  test('a file camflow cannot decode says why, and the exit code is 2', async () => {
    const bad = join(tmp, 'cut.dcm');
    const bytes = readFileSync(join(dicom, 'mr12.explicit-le.dcm'));
    writeFileSync(bad, bytes.subarray(0, bytes.length - 2000));
    const r = await runCli(['inspect', join(dicom, 'xa8.rle.dcm'), bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(
      /xa8\.rle\.dcm: DICOM, 48x40, 1 channel, 8 bits, MONOCHROME2, 3 frames/,
    );
    expect(r.stdout).toMatch(/cut\.dcm: .*error: DICOM pixel data is truncated/);
    expect((await runCli(['inspect'])).code).toBe(2);
  });
});
