import type { ZodError, ZodType, ZodTypeDef } from 'zod';

/** An error answered as `{"error": code, "message": ...}` with its HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** One line per zod issue, naming the field (`source.keys.3: ...`, `unknown field "colour"`). */
export function describeIssues(err: ZodError): { path: string; message: string }[] {
  return err.issues.map((issue) => {
    const path = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      const fields = issue.keys.map((k) => (path ? `${path}.${k}` : k));
      return {
        path: fields[0],
        message: `unknown field${fields.length > 1 ? 's' : ''} ${fields.map((f) => `"${f}"`).join(', ')}`,
      };
    }
    return { path: path || '(body)', message: `${path || 'body'}: ${issue.message}` };
  });
}

/** Parses a request body with a zod schema, or throws a 400 naming the offending fields. */
export function parseBody<T>(schema: ZodType<T, ZodTypeDef, unknown>, body: unknown): T {
  if (body === undefined || body === null) {
    throw new HttpError(400, 'validation', 'a JSON body is required');
  }
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issues = describeIssues(r.error);
  throw new HttpError(400, 'validation', issues.map((i) => i.message).join('; '), { issues });
}
