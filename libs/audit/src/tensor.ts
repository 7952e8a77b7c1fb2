/** One preprocessed image tensor (no batch axis) and where its axes are. */
export interface ImageTensor {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
  /** NCHW cards store channel planes; NHWC cards interleave channels per pixel. */
  layout: 'NCHW' | 'NHWC';
}

/** The index of pixel (x, y), channel c. */
export function at(t: ImageTensor, c: number, x: number, y: number): number {
  return t.layout === 'NCHW'
    ? (c * t.height + y) * t.width + x
    : (y * t.width + x) * t.channels + c;
}
