/** An image thread (see image-work.ts): decode + preprocess, and render. */
import { renderExplanation } from '@camflow/imaging';
import { type ImageRequest, prepareImage } from './image-work.js';
import { serveThread, transferable } from './thread-rpc.js';

serveThread<ImageRequest>(async (req) => {
  if (req.type === 'prepare') {
    const p = await prepareImage(req.bytes, req.card);
    const image = { ...p.image, data: transferable(p.image.data) };
    const tensor = transferable(p.tensor);
    return {
      value: { ...p, image, tensor },
      transfer: [image.data.buffer as ArrayBuffer, tensor.buffer as ArrayBuffer],
    };
  }
  const r = await renderExplanation(req.image, req.geometry, req.cam);
  const overlay = transferable(r.overlay);
  const heatmap = transferable(r.heatmap);
  return {
    value: { ...r, overlay, heatmap },
    transfer: [overlay.buffer as ArrayBuffer, heatmap.buffer as ArrayBuffer],
  };
});
