// The Secondary Capture's caption: drawn into the pixels with sharp's text rendering (BurnedIn
// Annotation YES), or, where text cannot be rendered, left out of the pixels and declared so
// (NO), with the caption still in ImageComments.
import { decodeFrame, parseDicom, readSourceStudy, text } from '@camflow/dicom';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fixture } from '../../../libs/dicom/test/fixtures.js';
import { renderCaption, secondaryCapture } from '../src/dicom/secondary-capture.js';

describe('Secondary Capture caption', () => {
  const width = 160;
  const height = 120;
  const input = async () => ({
    source: readSourceStudy(fixture('ct16s.jpeg-ls.dcm')),
    overlay: new Uint8Array(
      await sharp({ create: { width, height, channels: 3, background: '#3080c0' } })
        .png()
        .toBuffer(),
    ),
    width,
    height,
    model: 'xray-clean@1',
    method: 'gradcam',
    jobId: 'job-1',
    prediction: 'pneumonia (score 0.910)',
  });
  const blue = [0x30, 0x80, 0xc0];
  const changedRows = (rgb: Uint8Array) =>
    Array.from({ length: height }, (_, y) => y).filter((y) =>
      Array.from({ length: width }, (_, x) => x).some((x) =>
        blue.some((v, c) => rgb[(y * width + x) * 3 + c] !== v),
      ),
    );

  it('burns the caption into the bottom band and says YES', async () => {
    expect(await renderCaption(width, 12)).toBeDefined();
    const sc = await secondaryCapture(await input());
    expect(sc.captioned).toBe(true);
    const ds = parseDicom(sc.bytes);
    expect(text(ds, 'x00280301')).toBe('YES');
    const rows = changedRows((await decodeFrame(sc.bytes)).data as Uint8Array);
    expect(rows.length).toBeGreaterThan(0);
    expect(Math.min(...rows)).toBeGreaterThanOrEqual(height - 12);
  });

  it('without text rendering: no caption in the pixels, BurnedInAnnotation NO, caption kept in ImageComments', async () => {
    const sc = await secondaryCapture(await input(), async () => undefined);
    expect(sc.captioned).toBe(false);
    const ds = parseDicom(sc.bytes);
    expect(text(ds, 'x00280301')).toBe('NO');
    expect(text(ds, 'x00204000')).toMatch(/pneumonia .*not a diagnosis/);
    expect(changedRows((await decodeFrame(sc.bytes)).data as Uint8Array)).toEqual([]);
  });
});
