/**
 * `multipart/related` bodies (RFC 2046 5.1, RFC 2387), as STOW-RS sends them: the boundary from
 * the request's Content-Type, each part's headers and bytes. Written here because the maintained
 * Node parsers (busboy, @fastify/multipart) take only multipart/form-data, and dcmjs's
 * `multipartDecode` guesses the boundary from the body and ignores part headers. Buffer.indexOf
 * does the searching (native), and parts are views into the request body (no copies).
 */

export class MultipartError extends Error {
  override name = 'MultipartError';
}

export interface MediaType {
  /** Lower-cased `type/subtype`. */
  type: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
}

/** Parses a Content-Type value (`type/subtype; name=value; name="quoted value"`). */
export function parseMediaType(value: string | undefined): MediaType | undefined {
  if (!value) return undefined;
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  if (!/^[\w.+-]+\/[\w.+-]+$/.test(type)) return undefined;
  const params: Record<string, string> = {};
  // name=token or name="quoted-string" (with \-escapes), separated by semicolons.
  const re = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
  for (const m of (semi < 0 ? '' : value.slice(semi)).matchAll(re)) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  }
  return { type, params };
}

export interface Part {
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: Buffer;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Splits a multipart body on `boundary`. Throws MultipartError naming what is wrong: no opening
 * boundary, a part cut off before the next boundary, or no closing `--boundary--`.
 */
export function splitMultipart(body: Buffer, boundary: string): Part[] {
  // RFC 2046 says 1-70 characters; Orthanc's STOW-RS client sends 73, so only absurd ones fail.
  if (!boundary || boundary.length > 256) {
    throw new MultipartError('the boundary parameter must be 1-256 characters');
  }
  const opening = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // The first boundary may open the body, or follow a preamble (ignored).
  let pos: number;
  if (body.subarray(0, opening.length).equals(opening)) pos = opening.length;
  else {
    const i = body.indexOf(delimiter);
    if (i < 0) throw new MultipartError(`the body has no boundary "--${boundary}"`);
    pos = i + delimiter.length;
  }
  const parts: Part[] = [];
  for (;;) {
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts; // "--": the closing boundary
    const eol = body.indexOf(CRLF, pos);
    if (eol < 0 || body.toString('latin1', pos, eol).trim() !== '') {
      throw new MultipartError('a boundary line is not followed by a line break');
    }
    const headersStart = eol + 2;
    let contentStart: number;
    let headerText = '';
    if (body[headersStart] === 0x0d && body[headersStart + 1] === 0x0a) {
      contentStart = headersStart + 2; // no headers
    } else {
      const end = body.indexOf(HEADER_END, headersStart);
      if (end < 0) throw new MultipartError(`part ${parts.length + 1} has no end of headers`);
      headerText = body.toString('latin1', headersStart, end);
      contentStart = end + 4;
    }
    const next = body.indexOf(delimiter, contentStart);
    if (next < 0) {
      throw new MultipartError(
        `part ${parts.length + 1} is not closed: the body ends before the next "--${boundary}"`,
      );
    }
    parts.push({ headers: parseHeaders(headerText), body: body.subarray(contentStart, next) });
    pos = next + delimiter.length;
  }
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  // Folded lines (obsolete, but legal in MIME) continue the previous header.
  for (const line of text.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}
