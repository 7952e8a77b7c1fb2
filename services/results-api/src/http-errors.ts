/** An error answered as JSON `{"error": code, "message"}` with its HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** 404 for runs and jobs that do not exist or that the caller may not see (same answer). */
export function notFound(what: string): HttpError {
  return new HttpError(404, 'not-found', `${what} not found`);
}

/** 400 for a request the API cannot make sense of. */
export function badRequest(message: string): HttpError {
  return new HttpError(400, 'bad-request', message);
}
