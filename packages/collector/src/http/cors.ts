const ALLOW_HEADERS = 'authorization, content-type, content-encoding';
const ALLOW_METHODS = 'GET, POST, DELETE, OPTIONS';

function allowed(
  origin: string | null,
  allowedOrigins: '*' | readonly string[],
): string | undefined {
  if (!origin) return undefined;
  if (allowedOrigins === '*') return '*';
  return allowedOrigins.includes(origin) ? origin : undefined;
}

/**
 * CORS headers for a response to `origin`. `text/plain` ingest bodies (the browser SDK's
 * default) need no preflight; JSON bodies and Authorization headers get one through {@link preflight}.
 *
 * @example
 * corsHeaders('https://app.example.com', ['https://app.example.com']);
 */
export function corsHeaders(
  origin: string | null,
  allowedOrigins: '*' | readonly string[],
): Record<string, string> {
  const allow = allowed(origin, allowedOrigins);
  if (!allow) return {};
  return allow === '*'
    ? { 'access-control-allow-origin': '*' }
    : { 'access-control-allow-origin': allow, vary: 'Origin' };
}

/** The answer to an `OPTIONS` preflight: 204 with the CORS grant, or 403 for a foreign origin. */
export function preflight(
  origin: string | null,
  allowedOrigins: '*' | readonly string[],
): Response {
  const headers = corsHeaders(origin, allowedOrigins);
  if (origin && !headers['access-control-allow-origin']) {
    return new Response(null, { status: 403 });
  }
  return new Response(null, {
    status: 204,
    headers: {
      ...headers,
      'access-control-allow-methods': ALLOW_METHODS,
      'access-control-allow-headers': ALLOW_HEADERS,
      'access-control-max-age': '86400',
    },
  });
}
