/**
 * The explanation as a DICOM Secondary Capture: the rendered overlay brought to the source's
 * resolution as RGB, a caption burned in (an explanation, not a diagnosis), encoded by
 * @camflow/dicom with the source's patient and study.
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

const CAPTION = 'Grad-CAM explanation - not a diagnosis';

/** Renders and encodes the Secondary Capture. */
export async function secondaryCapture(input: CaptureInput): Promise<SecondaryCapture> {
  const { width, height } = input;
  const base = sharp(input.overlay).resize(width, height, { fit: 'fill' }).removeAlpha();
  // The caption: white text on a dark band along the bottom, scaled with the image.
  const band = Math.max(12, Math.round(height * 0.06));
  const caption = await sharp({
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
  const composed = caption
    ? base.composite([
        { input: caption.data, top: Math.max(0, height - caption.info.height), left: 0 },
      ])
    : base;
  const { data, info } = await composed.raw().toBuffer({ resolveWithObject: true });
  const rgb =
    info.channels === 3 ? data : await sharp(data, { raw: info }).removeAlpha().raw().toBuffer();
  return encodeSecondaryCapture({
    source: input.source,
    rgb: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength),
    width,
    height,
    model: input.model,
    jobId: input.jobId,
    frame: input.frame,
    seriesDescription: `Grad-CAM ${input.model} ${input.method}`,
    imageComments: `camflow ${input.model} ${input.method}: ${input.prediction}. ${CAPTION}.`,
  });
}
