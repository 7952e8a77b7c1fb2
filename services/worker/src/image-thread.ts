/**
 * An image thread of the pool (see image-work.ts; piscina runs this module's default export):
 * decode + preprocess, and render. Results go back as transferred buffers; errors as a wire
 * error (name, message, code), because piscina would pass a thrown error through structured
 * cloning, which keeps only the standard error names and the name decides permanent vs
 * transient (job-errors.ts).
 */
import { renderExplanation } from '@camflow/imaging';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { type ImageReply, type ImageRequest, prepareImage, renderMany } from './image-work.js';
import { toWire, transferable } from './thread-rpc.js';

/** The reply with its buffers moved, not copied. */
function moved(value: ImageReply, transfer: ArrayBuffer[]) {
  return move({
    get [transferableSymbol]() {
      return transfer;
    },
    get [valueSymbol]() {
      return value;
    },
  });
}

export default async function handle(req: ImageRequest): Promise<unknown> {
  try {
    if (req.type === 'prepare') {
      const p = await prepareImage(req.bytes, req.card, req.options);
      const image = { ...p.image, data: transferable(p.image.data) };
      const tensor = transferable(p.tensor);
      return moved({ ok: true, value: { ...p, image, tensor } }, [
        image.data.buffer as ArrayBuffer,
        tensor.buffer as ArrayBuffer,
      ]);
    }
    if (req.type === 'render-many') {
      const all = await renderMany(req.image, req.geometry, req.cams, req.options);
      const value = all.map((r) => ({
        ...r,
        overlay: transferable(r.overlay),
        heatmap: transferable(r.heatmap),
      }));
      return moved(
        { ok: true, value },
        value.flatMap((r) => [r.overlay.buffer as ArrayBuffer, r.heatmap.buffer as ArrayBuffer]),
      );
    }
    const r = await renderExplanation(req.image, req.geometry, req.cam, req.options);
    const overlay = transferable(r.overlay);
    const heatmap = transferable(r.heatmap);
    return moved({ ok: true, value: { ...r, overlay, heatmap } }, [
      overlay.buffer as ArrayBuffer,
      heatmap.buffer as ArrayBuffer,
    ]);
  } catch (err) {
    return { ok: false, error: toWire(err) } satisfies ImageReply;
  }
}
