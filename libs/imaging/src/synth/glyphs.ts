/**
 * Hand-drawn 5x7 bitmap glyphs ('#' = stroke) for the laterality markers and the burned-in text
 * bands ("PORTABLE", "AP SUPINE"). No fonts.
 */
const BITMAPS = {
  R: ['####.', '#...#', '#...#', '####.', '#.#..', '#..#.', '#...#'],
  L: ['#....', '#....', '#....', '#....', '#....', '#....', '#####'],
  A: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  B: ['####.', '#...#', '#...#', '####.', '#...#', '#...#', '####.'],
  E: ['#####', '#....', '#....', '####.', '#....', '#....', '#####'],
  I: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '#####'],
  N: ['#...#', '##..#', '#.#.#', '#.#.#', '#..##', '#...#', '#...#'],
  O: ['.###.', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  P: ['####.', '#...#', '#...#', '####.', '#....', '#....', '#....'],
  S: ['.####', '#....', '#....', '.###.', '....#', '....#', '####.'],
  T: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '..#..'],
  U: ['#...#', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  ' ': ['.....', '.....', '.....', '.....', '.....', '.....', '.....'],
} as const;

/** Every drawable character. */
export type Glyph = keyof typeof BITMAPS;

/** The marker's letters. Their order decides which letter a seed draws: do not change it. */
export type MarkerGlyph = 'R' | 'L';

export const MARKER_GLYPHS: readonly MarkerGlyph[] = ['R', 'L'];

export const GLYPH_COLS = 5;
export const GLYPH_ROWS = 7;

/** True where glyph `g` has a stroke at (row, col) of its 5x7 grid. */
export function glyphCell(g: Glyph, row: number, col: number): boolean {
  return BITMAPS[g][row][col] === '#';
}

/** Whether every character of `text` has a glyph. */
export function isDrawable(text: string): boolean {
  return [...text].every((ch) => Object.hasOwn(BITMAPS, ch));
}
