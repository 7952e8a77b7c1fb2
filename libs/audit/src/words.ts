import type { Box } from '@camflow/contracts';

/** Where a normalised box lies, in words: "top-right corner", "bottom centre", "centre". */
export function placeOf(b: Box): string {
  const cx = b.x + b.width / 2;
  const cy = b.y + b.height / 2;
  const v = cy < 1 / 3 ? 'top' : cy > 2 / 3 ? 'bottom' : 'middle';
  const h = cx < 1 / 3 ? 'left' : cx > 2 / 3 ? 'right' : 'centre';
  if (v === 'middle' && h === 'centre') return 'centre';
  if (v === 'middle') return `${h} side`;
  if (h === 'centre') return `${v} centre`;
  return `${v}-${h} corner`;
}
