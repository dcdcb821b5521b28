/**
 * A request the collector refuses: an HTTP status, a stable code and a message that names the
 * fix. Turned into a JSON response by the router; never a 5xx for bad input.
 *
 * @example
 * throw new HttpError(413, 'body_too_large', 'send at most 500 KB per request: split the batch');
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** A JSON response. */
export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/** The JSON body of every error: `{ success: false, error: { code, message, ... } }`. */
export function errorResponse(error: HttpError): Response {
  return json(
    error.status,
    { success: false, error: { code: error.code, message: error.message, ...error.details } },
    error.headers,
  );
}
