import { esc, fmt } from './template.js';

const W = 440;
const H = 230;
const PAD = { l: 44, r: 12, t: 26, b: 38 };

/** Bin counts of `values` over [min, max] (values outside are clamped into the end bins). */
export function binCounts(values: number[], min: number, max: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  const span = max - min || 1;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    const i = Math.floor(((v - min) / span) * bins);
    counts[Math.min(bins - 1, Math.max(0, i))]++;
  }
  return counts;
}

/** The [min, max] a plot shows: [0, 1] when the values fit, else their own range. */
export function plotRange(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  const lo = Math.min(...finite.slice(0, 100_000));
  const hi = Math.max(...finite.slice(0, 100_000));
  if (lo >= 0 && hi <= 1) return [0, 1];
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

function frame(title: string, xLabel: string, yLabel: string, body: string, axis: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">` +
    `<text x="${W / 2}" y="16" text-anchor="middle" class="t">${esc(title)}</text>` +
    `<line x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${H - PAD.b}" class="ax"/>` +
    `<line x1="${PAD.l}" y1="${PAD.t}" x2="${PAD.l}" y2="${H - PAD.b}" class="ax"/>` +
    axis +
    `<text x="${(PAD.l + W - PAD.r) / 2}" y="${H - 6}" text-anchor="middle" class="l">${esc(xLabel)}</text>` +
    `<text x="12" y="${(PAD.t + H - PAD.b) / 2}" text-anchor="middle" class="l" transform="rotate(-90 12 ${(PAD.t + H - PAD.b) / 2})">${esc(yLabel)}</text>` +
    body +
    '</svg>'
  );
}

function xTicks(min: number, max: number): string {
  const plotW = W - PAD.l - PAD.r;
  let out = '';
  for (let i = 0; i <= 4; i++) {
    const x = PAD.l + (plotW * i) / 4;
    out += `<text x="${x}" y="${H - PAD.b + 14}" text-anchor="middle" class="k">${fmt(min + ((max - min) * i) / 4, 2)}</text>`;
  }
  return out;
}

function yTicks(min: number, max: number, digits: number): string {
  const plotH = H - PAD.t - PAD.b;
  let out = '';
  for (let i = 0; i <= 2; i++) {
    const y = H - PAD.b - (plotH * i) / 2;
    out += `<text x="${PAD.l - 4}" y="${y + 4}" text-anchor="end" class="k">${fmt(min + ((max - min) * i) / 2, digits)}</text>`;
  }
  return out;
}

/** An inline SVG histogram, with an optional dashed threshold line. */
export function histogramSvg(opts: {
  title: string;
  xLabel: string;
  values: number[];
  bins?: number;
  threshold?: number;
}): string {
  const bins = opts.bins ?? 20;
  const [min, max] = plotRange(opts.values);
  const counts = binCounts(opts.values, min, max, bins);
  const top = Math.max(1, ...counts);
  const plotW = W - PAD.l - PAD.r;
  const plotH = H - PAD.t - PAD.b;
  const bw = plotW / bins;
  let body = '';
  counts.forEach((c, i) => {
    const h = (c / top) * plotH;
    body += `<rect x="${(PAD.l + i * bw + 1).toFixed(1)}" y="${(H - PAD.b - h).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" class="bar"><title>${c}</title></rect>`;
  });
  if (opts.threshold !== undefined && opts.threshold >= min && opts.threshold <= max) {
    const x = PAD.l + ((opts.threshold - min) / (max - min)) * plotW;
    body += `<line x1="${x.toFixed(1)}" y1="${PAD.t}" x2="${x.toFixed(1)}" y2="${H - PAD.b}" class="th"/>`;
  }
  return frame(opts.title, opts.xLabel, 'images', body, xTicks(min, max) + yTicks(0, top, 0));
}

/** An inline SVG scatter plot; flagged points are drawn in the warning colour, on top. */
export function scatterSvg(opts: {
  title: string;
  xLabel: string;
  yLabel: string;
  points: { x: number; y: number; flagged: boolean }[];
  yThreshold?: number;
}): string {
  const pts = opts.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const [xMin, xMax] = plotRange(pts.map((p) => p.x));
  const [yMin, yMax] = plotRange(pts.map((p) => p.y));
  const plotW = W - PAD.l - PAD.r;
  const plotH = H - PAD.t - PAD.b;
  const px = (x: number) => PAD.l + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => H - PAD.b - ((y - yMin) / (yMax - yMin)) * plotH;
  let body = '';
  if (opts.yThreshold !== undefined && opts.yThreshold >= yMin && opts.yThreshold <= yMax) {
    const y = py(opts.yThreshold).toFixed(1);
    body += `<line x1="${PAD.l}" y1="${y}" x2="${W - PAD.r}" y2="${y}" class="th"/>`;
  }
  const sorted = [...pts.filter((p) => !p.flagged), ...pts.filter((p) => p.flagged)];
  for (const p of sorted) {
    body += `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="2.5" class="${p.flagged ? 'pf' : 'p'}"/>`;
  }
  return frame(
    opts.title,
    opts.xLabel,
    opts.yLabel,
    body,
    xTicks(xMin, xMax) + yTicks(yMin, yMax, 2),
  );
}
