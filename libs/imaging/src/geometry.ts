/**
 * How an original image maps onto the model's input tensor, for each resize mode of the card.
 * Coordinates are continuous with pixel i spanning [i, i + 1): original -> resized scales by
 * resized/original (Pillow maps edges to edges), resized -> tensor subtracts the crop offset and
 * adds the letterbox padding.
 */
import type { ModelCard, ResizeMode } from './card.js';

export interface Size {
  width: number;
  height: number;
}

export interface Rect extends Size {
  left: number;
  top: number;
}

/** The preprocessing geometry of one image; enough to map a CAM back onto the original. */
export interface Geometry {
  mode: ResizeMode;
  /** The decoded image (after EXIF orientation). */
  original: Size;
  /** The size the whole original is resized to. */
  resized: Size;
  /** The window of the resized image that lands in the tensor (all of it unless cropping). */
  crop: Rect;
  /** Letterbox bars in tensor pixels (zero unless letterboxing). */
  padding: { left: number; top: number; right: number; bottom: number };
  /** The tensor's spatial size. */
  tensor: Size;
}

/** Python's round(): halves go to the even neighbour, as torchvision's CenterCrop relies on. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // "+ 0" turns -0 into 0.
  return (Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0;
}

/**
 * torchvision `Resize(size: int)`: the shorter side becomes `size`, the longer side
 * `int(size * long / short)` (truncated), orientation kept.
 */
export function shorterSideSize(width: number, height: number, size: number): Size {
  if (width <= height) return { width: size, height: Math.trunc((size * height) / width) };
  return { width: Math.trunc((size * width) / height), height: size };
}

/** torchvision `CenterCrop`: `top = int(round((H - h) / 2))`, `left` likewise. */
export function centerCropOffsets(
  width: number,
  height: number,
  cropWidth: number,
  cropHeight: number,
): { left: number; top: number } {
  return {
    left: roundHalfEven((width - cropWidth) / 2),
    top: roundHalfEven((height - cropHeight) / 2),
  };
}

/** The geometry the card's resize mode gives an image of `width` x `height`. */
export function computeGeometry(width: number, height: number, card: ModelCard): Geometry {
  const [th, tw] = card.input.size;
  const original = { width, height };
  const tensor = { width: tw, height: th };
  const noPadding = { left: 0, top: 0, right: 0, bottom: 0 };
  switch (card.input.resize) {
    case 'shorter-side-center-crop': {
      const resized = shorterSideSize(width, height, card.input.resizeTo);
      const { left, top } = centerCropOffsets(resized.width, resized.height, tw, th);
      return {
        mode: 'shorter-side-center-crop',
        original,
        resized,
        crop: { left, top, width: tw, height: th },
        padding: noPadding,
        tensor,
      };
    }
    case 'stretch':
      return {
        mode: 'stretch',
        original,
        resized: { ...tensor },
        crop: { left: 0, top: 0, ...tensor },
        padding: noPadding,
        tensor,
      };
    case 'letterbox': {
      const scale = Math.min(tw / width, th / height);
      const rw = Math.min(tw, Math.max(1, Math.round(width * scale)));
      const rh = Math.min(th, Math.max(1, Math.round(height * scale)));
      const left = Math.floor((tw - rw) / 2);
      const top = Math.floor((th - rh) / 2);
      return {
        mode: 'letterbox',
        original,
        resized: { width: rw, height: rh },
        crop: { left: 0, top: 0, width: rw, height: rh },
        padding: { left, top, right: tw - rw - left, bottom: th - rh - top },
        tensor,
      };
    }
  }
}
