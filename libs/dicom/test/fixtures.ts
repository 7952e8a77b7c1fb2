import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** test/fixtures/dicom: files made by make_fixtures.py with dcmtk, GDCM, OpenJPH and pydicom. */
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/dicom/', import.meta.url));

export interface FixtureEntry {
  original: string;
  transferSyntax: string;
  lossless: boolean;
  tolerance?: { maxAbs?: number; psnr?: number };
  /** Lossy files: the tools' own decoding (stored values, int32 .npy). */
  decoded?: string;
}

export const expected: Record<string, FixtureEntry> = JSON.parse(
  readFileSync(`${FIXTURES}expected.json`, 'utf8'),
);

export const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(FIXTURES + name));

/** Patient names and IDs in the fixtures: tests grep logs and errors for them. */
export const FIXTURE_PHI = [
  'PHANTOM^ALICE^CAMFLOW',
  'PHI-7731-ALICE',
  'PHANTOM^BORIS^CAMFLOW',
  'PHI-5520-BORIS',
  'PHANTOM^CLARA^CAMFLOW',
  'PHI-9034-CLARA',
  'PHANTOM^DARIO^CAMFLOW',
  'PHI-1188-DARIO',
  'PHANTOM^ELENA^CAMFLOW',
  'PHI-4402-ELENA',
  'PHANTOM^FELIX^CAMFLOW',
  'PHI-6617-FELIX',
];
