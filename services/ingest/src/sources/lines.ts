import { StringDecoder } from 'node:string_decoder';
import { PermanentError } from '@camflow/contracts';

/** Longest manifest line accepted (a key is at most 1024 bytes; labels are short). */
export const MAX_LINE_CHARS = 64 * 1024;

/**
 * Splits a byte stream into lines (LF or CRLF), pulling one chunk at a time so a consumer that
 * stops to wait also stops the download. Multi-byte UTF-8 characters split across chunks are
 * reassembled.
 */
export async function* readLines(
  stream: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of stream) {
    rest += typeof chunk === 'string' ? chunk : decoder.write(Buffer.from(chunk));
    let nl = rest.indexOf('\n');
    while (nl >= 0) {
      yield stripCr(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
      nl = rest.indexOf('\n');
    }
    if (rest.length > MAX_LINE_CHARS) {
      throw new PermanentError(
        'manifest-line-too-long',
        `a manifest line exceeds ${MAX_LINE_CHARS} characters`,
      );
    }
  }
  rest += decoder.end();
  if (rest.length > 0) yield stripCr(rest);
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
