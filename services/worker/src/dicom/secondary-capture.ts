/**
 * The explanation as a DICOM Secondary Capture: the rendered overlay brought to the source's
 * resolution as RGB, a caption burned in (an explanation, not a diagnosis), encoded by
 * @camflow/dicom with the source's patient and study. When text cannot be rendered (libvips
 * without pango, no font), the capture goes without the caption in its pixels and says so
 * (BurnedInAnnotation NO); the caption stays in ImageComments either way.
 */
import { encodeSecondaryCapture, type SecondaryCapture, type SourceStudy } from '@camflow/dicom';
import sharp from 'sharp';

export interface CaptureInput {
  source: SourceStudy;
  /** The encoded overlay (PNG or JPEG) and the source image's size. */
  overlay: Uint8Array;
  width: number;
  height: number;
  model: string;
  method: string;
  jobId: string;
  frame?: number;
  /** E.g. "pneumonia 0.91 (class 1 of 2)". */
  prediction: string;
}

export const CAPTION = 'Grad-CAM explanation - not a diagnosis';

/** Draws the caption for an image `width` wide: a PNG band, or undefined when text cannot be drawn. */
export type CaptionRenderer = (
  width: number,
  band: number,
) => Promise<{ data: Buffer; info: { height: number } } | undefined>;

/** White text on a dark band (sharp's text input: libvips with pango and a font). */
export const renderCaption: CaptionRenderer = (width, band) =>
  sharp({
    text: {
      text: `<span foreground="white" background="#000000c0">${CAPTION}</span>`,
      rgba: true,
      height: band,
      width,
      font: 'sans',
    },
  })
    .png()
    .toBuffer({ resolveWithObject: true })
    .catch(() => undefined);

/** Renders and encodes the Secondary Capture; `caption` is replaceable for tests. */
export async function secondaryCapture(
  input: CaptureInput,
  caption: CaptionRenderer = renderCaption,
): Promise<SecondaryCapture & { captioned: boolean }> {
  const { width, height } = input;
  const base = sharp(input.overlay).resize(width, height, { fit: 'fill' }).removeAlpha();
  // The caption runs along the bottom, scaled with the image.
  const band = Math.max(12, Math.round(height * 0.06));
  const drawn = await caption(width, band);
  const composed = drawn
    ? base.composite([{ input: drawn.data, top: Math.max(0, height - drawn.info.height), left: 0 }])
    : base;
  const { data, info } = await composed.raw().toBuffer({ resolveWithObject: true });
  const rgb =
    info.channels === 3 ? data : await sharp(data, { raw: info }).removeAlpha().raw().toBuffer();
  const sc = encodeSecondaryCapture({
    source: input.source,
    rgb: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength),
    width,
    height,
    model: input.model,
    jobId: input.jobId,
    frame: input.frame,
    seriesDescription: `Grad-CAM ${input.model} ${input.method}`,
    imageComments: `camflow ${input.model} ${input.method}: ${input.prediction}. ${CAPTION}.`,
    captioned: drawn !== undefined,
  });
  return { ...sc, captioned: drawn !== undefined };
}
