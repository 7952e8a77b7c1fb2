import { badRequest } from '../http-errors.js';
import type { ZPosition } from './zset-scan.js';

/** An opaque page cursor: the last (score, member) of the previous page. */
export function encodeCursor(pos: ZPosition): string {
  return Buffer.from(JSON.stringify([pos.score, pos.member])).toString('base64url');
}

/** Reads a cursor from a query string; a malformed one is a 400. */
export function decodeCursor(cursor: string | undefined): ZPosition | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string')
      return { score: v[0], member: v[1] };
  } catch {
    // fall through
  }
  throw badRequest('cursor is not one this API returned');
}
