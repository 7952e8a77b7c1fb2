/**
 * The per-image CAM the audit works from: quantised at the layer's resolution (what events
 * carry), and laid in the model input's frame (what the statistics need).
 */
import type { CompactCam } from '@camflow/contracts';
import { type CamGrid, type CellGrid, camToTensor } from '@camflow/imaging';

/** A CAM as the engine gives it (any scale; negative values count as 0). */
export interface RawCam {
  data: Float32Array | number[];
  width: number;
  height: number;
  grid?: CellGrid;
}

/** Normalises a CAM to its maximum and quantises it to bytes (base64) for events. */
export function compactCam(cam: RawCam, input: { width: number; height: number }): CompactCam {
  const n = cam.width * cam.height;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = cam.data[i];
    if (v > max && Number.isFinite(v)) max = v;
  }
  const bytes = new Uint8Array(n);
  if (max > 0) {
    for (let i = 0; i < n; i++) {
      const v = cam.data[i];
      bytes[i] = v > 0 && Number.isFinite(v) ? Math.round((255 * v) / max) : 0;
    }
  }
  return {
    width: cam.width,
    height: cam.height,
    data: Buffer.from(bytes).toString('base64'),
    ...(cam.grid && { grid: { origin: [...cam.grid.origin], stride: [...cam.grid.stride] } }),
    input: { width: input.width, height: input.height },
  };
}

/** The compact CAM back as values in [0, 1] (throws on a size mismatch). */
export function expandCam(c: CompactCam): CamGrid {
  const bytes = Buffer.from(c.data, 'base64');
  if (bytes.length !== c.width * c.height) {
    throw new RangeError(`compact CAM has ${bytes.length} bytes, expected ${c.width}x${c.height}`);
  }
  const data = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) data[i] = bytes[i] / 255;
  return { width: c.width, height: c.height, data, ...(c.grid && { grid: c.grid }) };
}

/** An image's CAM in the model input's frame. */
export interface FrameCam {
  /** `grid` x `grid` cells, each the mean of the normalised map over its pixels. */
  heat: Float32Array;
  grid: number;
  /** The hottest input pixel's centre, in input pixels. */
  peak: [number, number];
  /** The map at input resolution (row-major), normalised to its maximum. */
  full: Float32Array;
  /** True when the map is zero everywhere (no evidence anywhere). */
  empty: boolean;
  /** The CAM's cell size in input pixels (its resolution limit). */
  cell: [number, number];
}

/**
 * Lays the CAM in the model input's frame as the overlay draws it (bicubic, on the cell grid
 * when there is one), then pools it to `grid` x `grid` cells for the atlas.
 */
export function camInFrame(c: CompactCam, grid = 64): FrameCam {
  const cam = expandCam(c);
  const { width: W, height: H } = c.input;
  const full = camToTensor(cam, { width: W, height: H }).data;
  let best = 0;
  for (let i = 1; i < full.length; i++) if (full[i] > full[best]) best = i;
  const empty = !(full[best] > 0);
  const heat = new Float32Array(grid * grid);
  const count = new Float32Array(grid * grid);
  for (let y = 0; y < H; y++) {
    const gy = Math.min(grid - 1, Math.floor((y * grid) / H));
    for (let x = 0; x < W; x++) {
      const g = gy * grid + Math.min(grid - 1, Math.floor((x * grid) / W));
      heat[g] += full[y * W + x];
      count[g]++;
    }
  }
  for (let i = 0; i < heat.length; i++) heat[i] = count[i] > 0 ? heat[i] / count[i] : 0;
  const cell: [number, number] = c.grid
    ? [c.grid.stride[0], c.grid.stride[1]]
    : [W / c.width, H / c.height];
  return { heat, grid, peak: [(best % W) + 0.5, Math.floor(best / W) + 0.5], full, empty, cell };
}

/**
 * The hottest cell's centre in input pixels (cheap: no resampling), or undefined for an empty
 * map. Where the upsampled map peaks within that cell is below the CAM's resolution anyway.
 */
export function camPeak(c: CompactCam): [number, number] | undefined {
  const bytes = Buffer.from(c.data, 'base64');
  let best = 0;
  for (let i = 1; i < bytes.length; i++) if (bytes[i] > bytes[best]) best = i;
  if (!(bytes[best] > 0)) return undefined;
  const cx = best % c.width;
  const cy = Math.floor(best / c.width);
  if (c.grid)
    return [c.grid.origin[0] + c.grid.stride[0] * cx, c.grid.origin[1] + c.grid.stride[1] * cy];
  return [((cx + 0.5) * c.input.width) / c.width, ((cy + 0.5) * c.input.height) / c.height];
}
