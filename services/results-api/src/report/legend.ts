import { colormapLut } from '@camflow/imaging';
import { html, type SafeHtml } from './template.js';

/** A colour bar for a colormap, 0 (no evidence) to 1 (the map's maximum), as inline SVG. */
export function legendSvg(label: string, colormap: 'jet' = 'jet'): SafeHtml {
  const lut = colormapLut(colormap);
  const steps = 9;
  const stops = Array.from({ length: steps }, (_, i) => {
    const k = Math.round((i / (steps - 1)) * 255) * 3;
    const rgb = [lut[k], lut[k + 1], lut[k + 2]].map((v) =>
      Math.round(255 * Math.min(1, Math.max(0, v))),
    );
    return html`<stop offset="${(i / (steps - 1)).toFixed(3)}" stop-color="rgb(${rgb.join(',')})"/>`;
  });
  return html`<svg xmlns="http://www.w3.org/2000/svg" width="260" height="44" viewBox="0 0 260 44" role="img" aria-label="${label}"><defs><linearGradient id="cmap" x1="0" x2="1">${stops}</linearGradient></defs><rect x="10" y="4" width="240" height="14" fill="url(#cmap)" stroke="#999"/><text x="10" y="32" class="k">0</text><text x="250" y="32" text-anchor="end" class="k">1</text><text x="130" y="42" text-anchor="middle" class="l">${label}</text></svg>`;
}
