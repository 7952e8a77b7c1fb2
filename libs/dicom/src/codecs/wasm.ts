/**
 * Loads the WebAssembly codecs (npm packages, none written here) once per thread, on first use.
 * Emscripten modules print to stdout unless told otherwise: they get silent print hooks, so
 * `camflow inspect --json` keeps stdout to its JSON. A module that aborted (RuntimeError) is
 * dropped and loaded afresh next time: its memory may be in any state.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The decoder classes of @cornerstonejs/codec-* (Emscripten embind). */
export interface EmscriptenDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  readHeader?(): void;
  getFrameInfo(): {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
    isSigned?: boolean;
  };
  delete(): void;
}

type DecoderClass = new () => EmscriptenDecoder;

export interface DcmjsCodecs {
  NativeCodecs: {
    initializeAsync(opts?: object): Promise<void>;
    decodeJpeg(ctx: unknown, params?: object): { getDecodedBuffer(): Uint8Array };
    decodeRle(ctx: unknown, params?: object): { getDecodedBuffer(): Uint8Array };
  };
  Context: new (attrs: object) => unknown;
}

const loaded = new Map<string, Promise<unknown>>();

function once<T>(name: string, load: () => Promise<T>): Promise<T> {
  let p = loaded.get(name) as Promise<T> | undefined;
  if (!p) {
    p = load();
    loaded.set(name, p);
    p.catch(() => loaded.delete(name));
  }
  return p;
}

/** Forgets a module after it aborted, so the next call loads a fresh instance. */
export function dropModule(name: string): void {
  loaded.delete(name);
}

const emscripten = (pkg: string, cls: string) => async (): Promise<DecoderClass> => {
  const factory = require(pkg) as (opts: object) => Promise<Record<string, DecoderClass>>;
  // A fresh Module object per factory: Emscripten registers its bindings on the one it is given.
  const mod = await factory({ print: () => {}, printErr: () => {} });
  return mod[cls];
};

export const CORNERSTONE = {
  /** libjpeg-turbo: JPEG baseline, 8 bits per sample. */
  'libjpeg-turbo': emscripten(
    '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs',
    'JPEGDecoder',
  ),
  /** CharLS: JPEG-LS lossless and near-lossless. */
  charls: emscripten('@cornerstonejs/codec-charls/decodewasmjs', 'JpegLSDecoder'),
  /** OpenJPEG: JPEG 2000. */
  openjpeg: emscripten('@cornerstonejs/codec-openjpeg/decodewasmjs', 'J2KDecoder'),
  /** OpenJPH: High-Throughput JPEG 2000. */
  openjph: emscripten('@cornerstonejs/codec-openjph/wasmjs', 'HTJ2KDecoder'),
} as const;
export type CornerstoneCodec = keyof typeof CORNERSTONE;

export function cornerstoneDecoder(name: CornerstoneCodec): Promise<DecoderClass> {
  return once(name, CORNERSTONE[name]);
}

/** dcmjs-codecs: IJG libjpeg 8/12/16-bit (JPEG extended, lossless) and RLE. */
export function dcmjsCodecs(): Promise<DcmjsCodecs> {
  return once('dcmjs-codecs', async () => {
    const codecs = require('dcmjs-codecs') as DcmjsCodecs;
    await codecs.NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false });
    return codecs;
  });
}
