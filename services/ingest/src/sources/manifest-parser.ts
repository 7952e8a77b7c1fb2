import { keyViolation } from '@camflow/contracts';

/** One manifest entry. */
export interface ManifestEntry {
  key: string;
  label?: number | string;
  /** A ground-truth label set (multi-label): an empty list is an image with no finding. */
  labels?: (number | string)[];
}

/** What a line is: an entry, nothing (blank, comment, header), or a reason it was skipped. */
export type ParsedLine =
  | { entry: ManifestEntry }
  | { skip: 'blank' | 'header' }
  | { invalid: string };

/**
 * Parses manifest lines one at a time, in order: CSV (`key[,label]`, an optional header row
 * naming `key` and `label` columns, RFC 4180 quotes) or JSONL (`{"key", "label"?}`), decided by
 * the first non-blank line. Keys may also be written `s3://<run bucket>/<key>`. Multi-label
 * ground truth: a `labels` column of `|`-separated class names (an empty cell: no finding), or
 * a JSONL `"labels"` (or `"label"`) array.
 */
export class ManifestParser {
  private format: 'csv' | 'jsonl' | undefined;
  private keyCol = 0;
  private labelCol = 1;
  private labelsCol = -1;

  constructor(private readonly bucket: string) {}

  /** Parses the next line. */
  parse(raw: string): ParsedLine {
    const line = this.format === undefined ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '' || line.startsWith('#')) return { skip: 'blank' };
    if (this.format === undefined) {
      this.format = line.trimStart().startsWith('{') ? 'jsonl' : 'csv';
      if (this.format === 'csv' && this.readHeader(line)) return { skip: 'header' };
    }
    return this.format === 'jsonl' ? this.parseJson(line) : this.parseCsv(line);
  }

  private readHeader(line: string): boolean {
    const cols = splitCsv(line)?.map((c) => c.trim().toLowerCase());
    if (!cols?.includes('key')) return false;
    this.keyCol = cols.indexOf('key');
    this.labelCol = cols.indexOf('label');
    this.labelsCol = cols.indexOf('labels');
    return true;
  }

  private parseCsv(line: string): ParsedLine {
    const cols = splitCsv(line);
    if (!cols) return { invalid: 'unbalanced quotes' };
    const label = this.labelCol >= 0 ? cols[this.labelCol]?.trim() : undefined;
    const set = this.labelsCol >= 0 ? cols[this.labelsCol] : undefined;
    return this.entry(
      cols[this.keyCol] ?? '',
      label ? csvLabel(label) : undefined,
      set === undefined ? undefined : labelSet(set),
    );
  }

  private parseJson(line: string): ParsedLine {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return { invalid: 'not JSON' };
    }
    const o = v as { key?: unknown; label?: unknown; labels?: unknown };
    if (typeof o !== 'object' || o === null || typeof o.key !== 'string') {
      return { invalid: 'no "key" string' };
    }
    // A list under "label" is a label set as well.
    const set = o.labels ?? (Array.isArray(o.label) ? o.label : undefined);
    const label = Array.isArray(o.label) ? undefined : o.label;
    if (label !== undefined && label !== null && !isLabel(label)) {
      return { invalid: '"label" must be an integer or a string' };
    }
    if (set !== undefined && set !== null && !(Array.isArray(set) && set.every(isLabel))) {
      return { invalid: '"labels" must be a list of class names or integers' };
    }
    return this.entry(
      o.key,
      (label ?? undefined) as number | string | undefined,
      (set ?? undefined) as (number | string)[] | undefined,
    );
  }

  private entry(
    rawKey: string,
    label: number | string | undefined,
    labels?: (number | string)[],
  ): ParsedLine {
    let key = rawKey;
    const uri = /^s3:\/\/([^/]+)\/(.+)$/.exec(key);
    if (uri) {
      if (uri[1] !== this.bucket) return { invalid: `key in another bucket (${uri[1]})` };
      key = uri[2];
    }
    const unsafe = keyViolation(key);
    if (unsafe) return { invalid: unsafe.message };
    // The job schema's limits (labelSetSchema): caught here, the line is reported, not a job failure.
    if (labels && labels.length > MAX_LABELS) return { invalid: `more than ${MAX_LABELS} labels` };
    if (labels?.some((l) => typeof l === 'string' && l.length > MAX_LABEL_LENGTH)) {
      return { invalid: `a label longer than ${MAX_LABEL_LENGTH} characters` };
    }
    return {
      entry: {
        key,
        ...(label !== undefined && label !== '' && { label }),
        // A set: each label once, in the order first written.
        ...(labels && { labels: [...new Set(labels)] }),
      },
    };
  }
}

const MAX_LABELS = 1000;
const MAX_LABEL_LENGTH = 255;

/** A CSV cell of `|`-separated labels as a set (names trimmed, integers as numbers). */
function labelSet(cell: string): (number | string)[] {
  return cell
    .split('|')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(csvLabel);
}

function isLabel(v: unknown): v is number | string {
  return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
}

function csvLabel(s: string): number | string {
  return /^-?\d+$/.test(s) ? Number(s) : s;
}

/** Splits one CSV line; `undefined` when a quoted field is not closed. */
export function splitCsv(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let field = '';
      i++;
      for (;;) {
        if (i >= line.length) return undefined;
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      // Anything between the closing quote and the comma is kept, as lenient readers do.
      const comma = line.indexOf(',', i);
      field += line.slice(i, comma < 0 ? line.length : comma);
      out.push(field);
      if (comma < 0) return out;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      out.push(line.slice(i, comma < 0 ? line.length : comma));
      if (comma < 0) return out;
      i = comma + 1;
    }
  }
}
