/**
 * Hand-drawn 5x7 bitmap glyphs for the laterality / hospital markers ('#' = stroke). No fonts.
 */
const BITMAPS = {
  R: ['####.', '#...#', '#...#', '####.', '#.#..', '#..#.', '#...#'],
  L: ['#....', '#....', '#....', '#....', '#....', '#....', '#####'],
} as const;

export type MarkerGlyph = keyof typeof BITMAPS;

export const MARKER_GLYPHS: readonly MarkerGlyph[] = ['R', 'L'];

export const GLYPH_COLS = 5;
export const GLYPH_ROWS = 7;

/** True where glyph `g` has a stroke at (row, col) of its 5x7 grid. */
export function glyphCell(g: MarkerGlyph, row: number, col: number): boolean {
  return BITMAPS[g][row][col] === '#';
}
