import { gunzipSync } from 'node:zlib';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

/** One request a destination made, as the provider received it. */
export interface ProviderRequest {
  url: URL;
  headers: Headers;
  /** Whether the body came gzipped (`Content-Encoding: gzip`). */
  gzipped: boolean;
  /** The body, gunzipped, as text. */
  text: string;
  /** The body parsed as JSON. */
  body: unknown;
}

/** How a provider answers a request. */
export type Answer = (request: ProviderRequest) => Response;

/** Amplitude HTTP V2's answer to an accepted batch. */
export const amplitudeAccepts: Answer = (request) =>
  HttpResponse.json({
    code: 200,
    events_ingested: (request.body as { events: unknown[] }).events.length,
    payload_size_bytes: request.text.length,
    server_upload_time: 1767323045678,
  });

/** Mixpanel `/import`'s answer to an accepted batch (strict mode). */
export const mixpanelImports: Answer = (request) =>
  HttpResponse.json({
    code: 200,
    num_records_imported: (request.body as unknown[]).length,
    status: 'OK',
  });

/** Mixpanel `/engage` and `/groups` with `verbose=1`, all updates applied. */
export const mixpanelUpdates: Answer = () => HttpResponse.json({ error: null, status: 1 });

/** Segment's HTTP Tracking API answer. */
export const segmentAccepts: Answer = () => HttpResponse.json({ success: true });

/**
 * Intercepts the providers' real URLs with msw for the tests of one file and records every
 * request, decoded. `routes` maps `origin + pathname` to the provider's normal answer;
 * `answerNext` queues one-off answers (a 429, a 500…) that come first. Any other request fails
 * the test that made it, so nothing ever reaches the real internet.
 */
export function interceptProviders(routes: Record<string, Answer>) {
  const requests: ProviderRequest[] = [];
  const next = new Map<string, Answer[]>();
  const unexpected: string[] = [];
  const server = setupServer(
    http.all('*', async ({ request }) => {
      const url = new URL(request.url);
      const route = routes[url.origin + url.pathname];
      if (!route || request.method !== 'POST') {
        unexpected.push(`${request.method} ${request.url}`);
        return HttpResponse.error();
      }
      const raw = Buffer.from(await request.arrayBuffer());
      const gzipped = request.headers.get('content-encoding') === 'gzip';
      const text = (gzipped ? gunzipSync(raw) : raw).toString('utf8');
      const recorded = { url, headers: request.headers, gzipped, text, body: JSON.parse(text) };
      requests.push(recorded);
      const answer = next.get(url.origin + url.pathname)?.shift() ?? route;
      return answer(recorded);
    }),
  );
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => {
    requests.length = 0;
    next.clear();
    expect(unexpected.splice(0), 'requests no test expected').toEqual([]);
  });
  afterAll(() => server.close());

  return {
    requests,
    /** Answers the next requests to `url` (origin + pathname) with these, in order. */
    answerNext(url: string, ...answers: Answer[]) {
      next.set(url, [...(next.get(url) ?? []), ...answers]);
    },
  };
}

/** The Basic credentials of a request, decoded (`user:password`). */
export function basicCredentials(request: ProviderRequest): string | undefined {
  const header = request.headers.get('authorization');
  if (!header?.startsWith('Basic ')) return undefined;
  return Buffer.from(header.slice(6), 'base64').toString('utf8');
}
