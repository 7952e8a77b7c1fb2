/**
 * Image -> model input tensor, exactly as the model card says. For the seed card this is
 * torchvision's `Resize(256)`, `CenterCrop(256)`, `ToTensor()`, `Normalize(0.5, 0.5)` on a PIL
 * image; the resize is our Pillow-exact port (resample.ts), so pixels match to the last bit
 * before normalisation.
 */
import type { ModelCard } from './card.js';
import { type DecodedImage, type DecodeOptions, decodeImage } from './decode.js';
import { computeGeometry, type Geometry } from './geometry.js';
import { type Pixels, resizePixels } from './resample.js';

export interface Preprocessed {
  /** One image: CHW for NCHW cards, HWC for NHWC cards. */
  tensor: Float32Array;
  /** `[C, H, W]` or `[H, W, C]`, following the card's layout. */
  shape: [number, number, number];
  geometry: Geometry;
}

export interface PreprocessedBatch {
  /** N images back to back: `[N, C, H, W]` or `[N, H, W, C]`. */
  tensor: Float32Array;
  shape: [number, number, number, number];
  geometries: Geometry[];
}

/** PIL's `convert('L')`: ITU-R 601-2 luma in 16-bit fixed point, rounded. */
export function toGrey(pixels: Pixels): Pixels {
  if (pixels.channels === 1) return pixels;
  const n = pixels.width * pixels.height;
  const out = new Uint8Array(n);
  const d = pixels.data;
  for (let i = 0; i < n; i++) {
    out[i] = (d[i * 3] * 19595 + d[i * 3 + 1] * 38470 + d[i * 3 + 2] * 7471 + 0x8000) >>> 16;
  }
  return { width: pixels.width, height: pixels.height, channels: 1, data: out };
}

/**
 * Resizes (and crops) decoded pixels as the card says, returning the window that fills the
 * tensor (without letterbox bars) and the geometry.
 */
export function resizeForCard(
  image: Pixels,
  card: ModelCard,
): { pixels: Pixels; geometry: Geometry } {
  const geometry = computeGeometry(image.width, image.height, card);
  const source = card.input.colorSpace === 'grayscale' ? toGrey(image) : image;
  const { resized, crop } = geometry;
  const pixels =
    resized.width === image.width &&
    resized.height === image.height &&
    crop.width === image.width &&
    crop.height === image.height
      ? source
      : resizePixels(source, resized.width, resized.height, card.input.interpolation, crop);
  return { pixels, geometry };
}

/**
 * Writes one image's tensor into `out` at `offset`: `(pixel * scale - mean[c]) / std[c]`,
 * grey replicated to 3 channels when the card wants 3, BGR order for `bgr` cards, letterbox
 * bars filled with the card's `pad` value.
 */
function writeTensor(
  pixels: Pixels,
  geometry: Geometry,
  card: ModelCard,
  out: Float32Array,
  offset: number,
) {
  const { channels, scale, mean, std, layout, colorSpace, pad } = card.input;
  const { width: tw, height: th } = geometry.tensor;
  const { left: pl, top: pt } = geometry.padding;
  const plane = tw * th;
  // Per channel: which source channel feeds it, and the normalisation as one multiply-add.
  const sourceChannel = (c: number) =>
    pixels.channels === 1 ? 0 : colorSpace === 'bgr' ? 2 - c : c;
  const a = Array.from({ length: channels }, (_, c) => scale / std[c]);
  const b = Array.from({ length: channels }, (_, c) => -mean[c] / std[c]);
  for (let c = 0; c < channels; c++) {
    const padValue = pad * a[c] + b[c];
    const sc = sourceChannel(c);
    for (let y = 0; y < th; y++) {
      const sy = y - pt;
      for (let x = 0; x < tw; x++) {
        const sx = x - pl;
        const inside = sy >= 0 && sy < pixels.height && sx >= 0 && sx < pixels.width;
        const value = inside
          ? pixels.data[(sy * pixels.width + sx) * pixels.channels + sc] * a[c] + b[c]
          : padValue;
        const index = layout === 'NCHW' ? c * plane + y * tw + x : (y * tw + x) * channels + c;
        out[offset + index] = value;
      }
    }
  }
}

/**
 * The image the model sees, as 8-bit pixels at the tensor size (before scale/mean/std): the
 * resized, cropped or letterboxed picture (bars filled with the card's `pad`), grey for
 * grayscale cards, RGB otherwise. The seed draws its overlay on this.
 */
export async function tensorPixels(
  input: ImageInput,
  card: ModelCard,
  options?: DecodeOptions,
): Promise<Pixels> {
  const image = await toPixels(input, options);
  const { pixels, geometry } = resizeForCard(image, card);
  const channels = card.input.colorSpace === 'grayscale' ? 1 : 3;
  const { width, height } = geometry.tensor;
  const { left, top } = geometry.padding;
  const data = new Uint8Array(width * height * channels).fill(Math.round(card.input.pad));
  for (let y = 0; y < pixels.height; y++) {
    for (let x = 0; x < pixels.width; x++) {
      for (let c = 0; c < channels; c++) {
        const source = (y * pixels.width + x) * pixels.channels + (pixels.channels === 1 ? 0 : c);
        data[((y + top) * width + x + left) * channels + c] = pixels.data[source];
      }
    }
  }
  return { width, height, channels, data };
}

/** The input is either encoded bytes or pixels that were already decoded. */
export type ImageInput = Uint8Array | DecodedImage;

async function toPixels(input: ImageInput, options?: DecodeOptions): Promise<Pixels> {
  return input instanceof Uint8Array ? decodeImage(input, options) : input;
}

function tensorShape(card: ModelCard): [number, number, number] {
  const [h, w] = card.input.size;
  return card.input.layout === 'NCHW' ? [card.input.channels, h, w] : [h, w, card.input.channels];
}

/**
 * Decodes (if needed) and preprocesses one image as the card says. Throws `ImageDecodeError`
 * for input that cannot be decoded.
 */
export async function preprocess(
  input: ImageInput,
  card: ModelCard,
  options?: DecodeOptions,
): Promise<Preprocessed> {
  const image = await toPixels(input, options);
  const { pixels, geometry } = resizeForCard(image, card);
  const shape = tensorShape(card);
  const tensor = new Float32Array(shape[0] * shape[1] * shape[2]);
  writeTensor(pixels, geometry, card, tensor, 0);
  return { tensor, shape, geometry };
}

/**
 * Preprocesses several images into one batch tensor. Any undecodable image rejects the whole
 * call with its `ImageDecodeError`, prefixed with the image's index; callers that want to skip
 * bad images preprocess them one by one.
 */
export async function preprocessBatch(
  inputs: readonly ImageInput[],
  card: ModelCard,
  options?: DecodeOptions,
): Promise<PreprocessedBatch> {
  const shape = tensorShape(card);
  const size = shape[0] * shape[1] * shape[2];
  const tensor = new Float32Array(inputs.length * size);
  const geometries: Geometry[] = [];
  for (let i = 0; i < inputs.length; i++) {
    let image: Pixels;
    try {
      image = await toPixels(inputs[i], options);
    } catch (err) {
      if (err instanceof Error) err.message = `image ${i}: ${err.message}`;
      throw err;
    }
    const { pixels, geometry } = resizeForCard(image, card);
    writeTensor(pixels, geometry, card, tensor, i * size);
    geometries.push(geometry);
  }
  return { tensor, shape: [inputs.length, ...shape], geometries };
}
