import { afterEach, describe, expect, it } from 'vitest';
import { type Collector, createCollector } from '../collector';

const WRITE_KEY = 'wk_cors_12345678';
const collectors: Collector[] = [];

function collector(options: Partial<Parameters<typeof createCollector>[0]> = {}) {
  const created = createCollector({ store: 'duckdb::memory:', writeKeys: [WRITE_KEY], ...options });
  collectors.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(collectors.splice(0).map((created) => created.close()));
});

const beacon = (origin: string) =>
  new Request('http://collector.test/v1/batch', {
    method: 'POST',
    // What browsers send from sendBeacon / fetch with a text/plain body: no preflight needed.
    headers: { origin, 'content-type': 'text/plain;charset=UTF-8' },
    body: JSON.stringify({
      writeKey: WRITE_KEY,
      batch: [{ type: 'track', event: 'page_hidden', anonymousId: 'a1' }],
    }),
  });

const preflight = (origin: string) =>
  new Request('http://collector.test/v1/batch', {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });

describe('CORS', () => {
  it('lets any origin ingest by default (write keys are public), without a preflight for text/plain', async () => {
    const response = await collector().fetch(beacon('https://shop.example'));
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('answers a preflight with the methods and headers the SDKs use', async () => {
    const response = await collector().fetch(preflight('https://shop.example'));
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    expect(response.headers.get('access-control-allow-headers')).toMatch(/content-type/);
  });

  it('with allowedOrigins, echoes an allowed origin (with Vary) and grants nothing to others', async () => {
    const strict = collector({ allowedOrigins: ['https://app.acme.example'] });
    const allowed = await strict.fetch(beacon('https://app.acme.example'));
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.acme.example');
    expect(allowed.headers.get('vary')).toBe('Origin');
    const foreign = await strict.fetch(beacon('https://evil.example'));
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect((await strict.fetch(preflight('https://evil.example'))).status).toBe(403);
    expect((await strict.fetch(preflight('https://app.acme.example'))).status).toBe(204);
  });
});

describe('body limit', () => {
  it('is configurable below 500 KB and answers 413 past it', async () => {
    const small = collector({ maxBodyBytes: 2048 });
    const big = JSON.stringify({
      writeKey: WRITE_KEY,
      batch: [
        { type: 'track', event: 'x', anonymousId: 'a', properties: { blob: 'x'.repeat(3000) } },
      ],
    });
    const response = await small.fetch(
      new Request('http://collector.test/v1/batch', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: big,
      }),
    );
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({
      error: { code: 'body_too_large', limitBytes: 2048 },
    });
  });

  it('refuses a limit above Segment’s 500 KB, naming the option', () => {
    expect(() => collector({ maxBodyBytes: 600 * 1024 })).toThrow(/maxBodyBytes/);
  });
});
