/**
 * HTML built with a tagged template that escapes every interpolated value unless it is already
 * `SafeHtml` (the result of `html` itself, or of an explicit `raw()`): the next interpolation
 * cannot forget to escape. Arrays are joined (each element escaped or kept as safe).
 */
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Escapes text for HTML and SVG, in element content and quoted attributes alike. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** Marks markup this code built itself as safe; never pass user data. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

function part(v: unknown): string {
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(part).join('');
  if (v === undefined || v === null || v === false) return '';
  return esc(v);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += part(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** A number for people: fixed digits, '–' when missing. */
export function fmt(v: number | null | undefined, digits = 3): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–';
}

/** A share as a percentage. */
export function pct(v: number | null | undefined, digits = 0): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(digits)}%` : '–';
}
