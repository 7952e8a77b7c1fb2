import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DicomError, type DicomFrame, decodeFrame, describeDicom, isPart10 } from '@camflow/dicom';
import { decodeImage, ImageDecodeError, sniffFormat, writeNpy } from '@camflow/imaging';
import { usage } from '../args.js';
import { UsageError } from '../usage.js';

/** What `camflow inspect` reports per file (no patient data: only how the pixels are stored). */
interface Inspected {
  file: string;
  format?: string;
  width?: number;
  height?: number;
  channels?: number;
  /** Bits per sample as stored (DICOM: BitsStored). */
  bits?: number;
  bitsAllocated?: number;
  signed?: boolean;
  photometricInterpretation?: string;
  transferSyntax?: { uid: string; name: string };
  frames?: number;
  sopClassUID?: string;
  modality?: string;
  error?: string;
}

/**
 * `camflow inspect <file...> [--json] [--npy <out.npy>]`: what camflow sees in each file, after
 * decoding frame 0 the way the worker does (so a file it cannot decode says why, here).
 * `--npy` writes the first file's frame 0 as float32: `[H, W]` grey after the modality LUT
 * (rescale slope/intercept) and before windowing, or `[H, W, 3]` RGB. Exit 2 when any file fails.
 */
export async function inspectCommand(argv: string[]): Promise<number> {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, npy: { type: 'string' } },
    }),
  );
  if (positionals.length === 0) {
    throw new UsageError('usage: camflow inspect <file...> [--json] [--npy <out.npy>]');
  }
  const items: Inspected[] = [];
  let first: { data: Float32Array; shape: number[] } | undefined;
  for (const [i, file] of positionals.entries()) {
    const item = await inspectFile(file);
    items.push(item.report);
    if (i === 0) first = item.values;
  }
  if (values.npy) {
    if (!first) throw new UsageError(`--npy: ${positionals[0]} could not be decoded`);
    await writeFile(values.npy, writeNpy(first.data, first.shape));
  }
  if (values.json) process.stdout.write(`${JSON.stringify({ items })}\n`);
  else for (const item of items) process.stdout.write(`${describe(item)}\n`);
  const failed = items.filter((i) => i.error);
  for (const f of failed) if (values.json) process.stderr.write(`camflow: ${f.file}: ${f.error}\n`);
  return failed.length > 0 ? 2 : 0;
}

async function inspectFile(
  file: string,
): Promise<{ report: Inspected; values?: { data: Float32Array; shape: number[] } }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    return {
      report: {
        file,
        error: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      },
    };
  }
  if (isPart10(bytes)) {
    try {
      const d = describeDicom(bytes);
      const report: Inspected = {
        file,
        format: 'dicom',
        ...(d.width !== undefined && {
          width: d.width,
          height: d.height,
          channels: d.channels,
          bits: d.bitsStored,
          bitsAllocated: d.bitsAllocated,
          signed: d.signed,
          photometricInterpretation: d.photometricInterpretation,
        }),
        transferSyntax: d.transferSyntax,
        frames: d.frames ?? 0,
        ...(d.sopClassUID && { sopClassUID: d.sopClassUID }),
        ...(d.modality && { modality: d.modality }),
      };
      const frame = await decodeFrame(bytes);
      return { report, values: { data: frame.data, shape: shapeOf(frame) } };
    } catch (err) {
      if (err instanceof DicomError) {
        return { report: { ...safeDescribe(bytes), file, format: 'dicom', error: err.message } };
      }
      throw err;
    }
  }
  try {
    const image = await decodeImage(bytes);
    const report: Inspected = {
      file,
      format: image.format,
      width: image.width,
      height: image.height,
      channels: image.channels,
      bits: image.bitDepth,
      frames: 1,
    };
    const shape =
      image.channels === 1 ? [image.height, image.width] : [image.height, image.width, 3];
    return { report, values: { data: Float32Array.from(image.data), shape } };
  } catch (err) {
    if (err instanceof ImageDecodeError) {
      return {
        report: {
          file,
          ...(sniffFormat(bytes) && { format: sniffFormat(bytes) }),
          error: err.message,
        },
      };
    }
    throw err;
  }
}

// The header of a file whose pixels do not decode still says what it claims to be.
function safeDescribe(bytes: Uint8Array): Partial<Inspected> {
  try {
    const d = describeDicom(bytes);
    return {
      width: d.width,
      height: d.height,
      channels: d.channels,
      bits: d.bitsStored,
      photometricInterpretation: d.photometricInterpretation,
      transferSyntax: d.transferSyntax,
      frames: d.frames,
    };
  } catch {
    return {};
  }
}

function shapeOf(frame: DicomFrame): number[] {
  return frame.channels === 1 ? [frame.height, frame.width] : [frame.height, frame.width, 3];
}

function describe(i: Inspected): string {
  const parts: string[] = [];
  if (i.format) parts.push(i.format === 'dicom' ? 'DICOM' : i.format.toUpperCase());
  if (i.width !== undefined) parts.push(`${i.width}x${i.height}`);
  if (i.channels !== undefined) parts.push(`${i.channels} channel${i.channels === 1 ? '' : 's'}`);
  if (i.bits !== undefined) {
    const extra = [
      i.bitsAllocated !== undefined && i.bitsAllocated !== i.bits ? `in ${i.bitsAllocated}` : '',
      i.signed ? 'signed' : '',
    ].filter(Boolean);
    parts.push(`${i.bits} bits${extra.length ? ` (${extra.join(', ')})` : ''}`);
  }
  if (i.photometricInterpretation) parts.push(i.photometricInterpretation);
  if (i.frames !== undefined) parts.push(`${i.frames} frame${i.frames === 1 ? '' : 's'}`);
  if (i.transferSyntax)
    parts.push(`transfer syntax ${i.transferSyntax.uid} (${i.transferSyntax.name})`);
  const line = `${i.file}: ${parts.join(', ')}`;
  return i.error ? `${line}${parts.length ? '; ' : ''}error: ${i.error}` : line;
}
