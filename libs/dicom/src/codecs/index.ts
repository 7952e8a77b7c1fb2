/**
 * Compressed frame -> native little-endian samples, interleaved, with the codec chosen per
 * transfer syntax (docs: libs/dicom/README.md, "Codecs"):
 * - JPEG baseline: libjpeg-turbo (@cornerstonejs/codec-libjpeg-turbo-8bit)
 * - JPEG extended 12-bit, JPEG lossless (processes 14, SV1), RLE: IJG libjpeg and the RLE codec
 *   of dcmjs-codecs (the only maintained npm decoders of 12-bit JPEG; 2.6x faster than
 *   jpeg-lossless-decoder-js on 1024x1024x16 lossless frames)
 * - JPEG-LS: CharLS (@cornerstonejs/codec-charls); JPEG 2000: OpenJPEG
 *   (@cornerstonejs/codec-openjpeg); HTJ2K: OpenJPH (@cornerstonejs/codec-openjph)
 */
import { DicomError } from '../errors.js';
import type { PixelHeader } from '../header.js';
import type { CodecName } from '../syntaxes.js';
import {
  type CornerstoneCodec,
  cornerstoneDecoder,
  dcmjsCodecs,
  dropModule,
  type EmscriptenDecoder,
} from './wasm.js';

export interface DecodedFrame {
  /** Little-endian samples of bitsAllocated (8 or 16) each, interleaved when colour. */
  data: Uint8Array;
  /** The codec turned YBR colour into RGB (JPEG and JPEG 2000 colour transforms). */
  rgb: boolean;
}

const CORNERSTONE_OF: Partial<Record<CodecName, CornerstoneCodec>> = {
  'jpeg-baseline': 'libjpeg-turbo',
  'jpeg-ls': 'charls',
  j2k: 'openjpeg',
  htj2k: 'openjph',
};

const LABEL: Record<CodecName, string> = {
  'jpeg-baseline': 'JPEG baseline (libjpeg-turbo)',
  'jpeg-ijg': 'JPEG (IJG libjpeg)',
  'jpeg-ls': 'JPEG-LS (CharLS)',
  j2k: 'JPEG 2000 (OpenJPEG)',
  htj2k: 'HTJ2K (OpenJPH)',
  rle: 'RLE',
};

/** Decodes one compressed frame; every codec failure becomes a DicomError naming the codec. */
export async function decodeCompressed(
  codec: CodecName,
  encoded: Uint8Array,
  p: PixelHeader,
): Promise<DecodedFrame> {
  const expected = p.rows * p.columns * p.samplesPerPixel * (p.bitsAllocated > 8 ? 2 : 1);
  if (p.bitsAllocated > 16) {
    throw new DicomError(
      'unsupported',
      `DICOM ${LABEL[codec]} with ${p.bitsAllocated} bits allocated is not supported (8 or 16)`,
    );
  }
  let out: DecodedFrame;
  const cs = CORNERSTONE_OF[codec];
  try {
    out = cs ? await viaCornerstone(cs, encoded, p) : await viaDcmjsCodecs(codec, encoded, p);
  } catch (err) {
    if (err instanceof DicomError) throw err;
    // Emscripten throws numbers (C++ exception pointers) or aborts (RuntimeError).
    if ((err as Error)?.name === 'RuntimeError') dropModule(cs ?? 'dcmjs-codecs');
    const detail = err instanceof Error ? err.message : `codec error ${String(err)}`;
    throw new DicomError(
      'corrupt',
      `DICOM ${LABEL[codec]} frame does not decode (${detail}): the data is corrupt or truncated`,
    );
  }
  if (out.data.length < expected) {
    throw new DicomError(
      'corrupt',
      `DICOM ${LABEL[codec]} frame decoded to ${out.data.length} bytes, ${expected} expected for ${p.columns}x${p.rows}x${p.samplesPerPixel} at ${p.bitsAllocated} bits: the data is corrupt or truncated`,
    );
  }
  return { ...out, data: out.data.subarray(0, expected) };
}

async function viaCornerstone(
  name: CornerstoneCodec,
  encoded: Uint8Array,
  p: PixelHeader,
): Promise<DecodedFrame> {
  const Decoder = await cornerstoneDecoder(name);
  const d: EmscriptenDecoder = new Decoder();
  try {
    d.getEncodedBuffer(encoded.length).set(encoded);
    d.decode();
    const info = d.getFrameInfo();
    if (info.width !== p.columns || info.height !== p.rows) {
      throw new DicomError(
        'corrupt',
        `DICOM ${LABEL[codecOf(name)]} frame is ${info.width}x${info.height} but the header says ${p.columns}x${p.rows}`,
      );
    }
    if (info.componentCount !== p.samplesPerPixel) {
      throw new DicomError(
        'corrupt',
        `DICOM ${LABEL[codecOf(name)]} frame has ${info.componentCount} components but the header says ${p.samplesPerPixel} samples per pixel`,
      );
    }
    // The decoder owns its buffer: copy before delete().
    const data = d.getDecodedBuffer().slice();
    const rgb =
      p.samplesPerPixel === 3 &&
      (name === 'libjpeg-turbo' ||
        ((name === 'openjpeg' || name === 'openjph') &&
          (p.photometric === 'YBR_ICT' || p.photometric === 'YBR_RCT')));
    return { data, rgb };
  } finally {
    d.delete();
  }
}

function codecOf(name: CornerstoneCodec): CodecName {
  return (Object.keys(CORNERSTONE_OF) as CodecName[]).find((c) => CORNERSTONE_OF[c] === name)!;
}

async function viaDcmjsCodecs(
  codec: CodecName,
  encoded: Uint8Array,
  p: PixelHeader,
): Promise<DecodedFrame> {
  const { NativeCodecs, Context } = await dcmjsCodecs();
  const ctx = new Context({
    width: p.columns,
    height: p.rows,
    bitsAllocated: p.bitsAllocated,
    bitsStored: p.bitsStored,
    samplesPerPixel: p.samplesPerPixel,
    pixelRepresentation: p.signed ? 1 : 0,
    planarConfiguration: p.planar,
    photometricInterpretation: p.photometric,
    encodedBuffer: encoded,
  });
  if (codec === 'rle') {
    checkRleHeader(encoded, p);
    // RLE keeps one segment per sample plane; the codec hands back the data set's layout.
    const data = NativeCodecs.decodeRle(ctx).getDecodedBuffer().slice();
    return { data, rgb: false };
  }
  const data = NativeCodecs.decodeJpeg(ctx, { convertColorspaceToRgb: true })
    .getDecodedBuffer()
    .slice();
  return { data, rgb: p.samplesPerPixel === 3 && p.photometric.startsWith('YBR_') };
}

/**
 * PS3.5 G.5: a 64-byte header with the segment count (one per byte plane per sample) and 15
 * offsets. The codec decodes garbage to zeros without a word, so the header is checked here.
 */
function checkRleHeader(encoded: Uint8Array, p: PixelHeader): void {
  const want = p.samplesPerPixel * (p.bitsAllocated / 8);
  if (encoded.length < 64) {
    throw new DicomError(
      'truncated',
      `DICOM RLE frame is ${encoded.length} bytes, shorter than its 64-byte header`,
    );
  }
  const view = new DataView(encoded.buffer, encoded.byteOffset, 64);
  const segments = view.getUint32(0, true);
  if (segments !== want) {
    throw new DicomError(
      'corrupt',
      `DICOM RLE frame header says ${segments} segments, ${want} expected for ${p.samplesPerPixel} sample(s) of ${p.bitsAllocated} bits`,
    );
  }
  let previous = 63;
  for (let i = 0; i < segments; i++) {
    const offset = view.getUint32(4 + i * 4, true);
    if (offset <= previous || offset >= encoded.length) {
      throw new DicomError(
        'corrupt',
        `DICOM RLE frame header has segment ${i} at offset ${offset}, outside the ${encoded.length}-byte frame`,
      );
    }
    previous = offset;
  }
}
