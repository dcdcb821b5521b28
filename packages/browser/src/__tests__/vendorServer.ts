import { gunzipSync } from 'node:zlib';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

/** One request a vendor SDK made, with its body decoded. */
export interface VendorRequest {
  url: URL;
  body: unknown;
}

/** A route to intercept and what to answer it with (the real service's success body). */
export interface VendorRoute {
  url: string;
  respond: (body: unknown) => Response;
}

/** Amplitude's HTTP V2 API answer to an accepted batch. */
export const amplitudeAccepts = (body: unknown) =>
  HttpResponse.json({
    code: 200,
    events_ingested: (body as { events?: unknown[] }).events?.length ?? 0,
    payload_size_bytes: 0,
    server_upload_time: Date.now(),
  });

/** Mixpanel's answer to an accepted request (non-verbose mode): the text `1`. */
export const mixpanelAccepts = () => HttpResponse.text('1');

/**
 * Intercepts the vendor SDKs' real HTTP requests with msw for the tests of one file and records
 * them, decoded. Any other request fails the test that caused it, so an SDK phoning home
 * (remote config, diagnostics) is caught.
 */
export function interceptVendor(...routes: VendorRoute[]): VendorRequest[] {
  const requests: VendorRequest[] = [];
  const unexpected: string[] = [];
  const server = setupServer(
    ...routes.map((route) =>
      http.post(route.url, async ({ request }) => {
        // Recorded before the body is read, so the list keeps the order the requests were made.
        const sent: VendorRequest = { url: new URL(request.url), body: undefined };
        requests.push(sent);
        sent.body = await decodeBody(request);
        return route.respond(sent.body);
      }),
    ),
    // Anything else is answered with a network error, so no test ever reaches the real internet.
    http.all('*', ({ request }) => {
      unexpected.push(`${request.method} ${request.url}`);
      return HttpResponse.error();
    }),
  );
  beforeAll(() => server.listen());
  afterEach(() => {
    requests.length = 0;
    expect(unexpected.splice(0), 'requests no test expected').toEqual([]);
  });
  afterAll(() => server.close());
  return requests;
}

/**
 * Amplitude posts JSON, gzipped when large enough; Mixpanel posts a form whose `data` field holds
 * JSON, or base64 JSON when the host is not mixpanel.com.
 */
async function decodeBody(request: Request): Promise<unknown> {
  const raw = Buffer.from(await request.arrayBuffer());
  const text =
    request.headers.get('content-encoding') === 'gzip'
      ? gunzipSync(raw).toString('utf8')
      : raw.toString('utf8');
  if (!request.headers.get('content-type')?.includes('x-www-form-urlencoded')) {
    return JSON.parse(text);
  }
  const data = new URLSearchParams(text).get('data') ?? '';
  return JSON.parse(
    data.startsWith('{') || data.startsWith('[')
      ? data
      : Buffer.from(data, 'base64').toString('utf8'),
  );
}
