import Ajv2020 from 'ajv/dist/2020';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, createCollector } from '../collector';
import { DASHBOARD_CSP, serveDashboard } from '../dashboard/dashboardRoute';
import { openApiDocument } from '../openapi';
import { basic } from './httpCollector';

/**
 * The dashboard's server side in-process: `GET /v1/tenants` (the admin tenant picker) against
 * its OpenAPI schema, and how the page is served. The page itself is tested in Chromium by
 * e2e/dashboard.e2e.test.ts, on the built collector that bundles it.
 */

const ADMIN_KEY = 'rk_dash_admin_0001';
const TENANT_KEY = 'rk_dash_acme_00001';
const WRITE_KEY = 'wk_dash_acme_00001';
const ORPHAN_WRITE_KEY = 'wk_dash_other_0001';

let collector: Collector;

beforeAll(async () => {
  collector = createCollector({
    store: 'duckdb::memory:',
    writeKeys: [`${WRITE_KEY}=acme`, `${ORPHAN_WRITE_KEY}=initech`],
    readKeys: [`${ADMIN_KEY}=*`, `${TENANT_KEY}=acme`, 'rk_dash_beta_00001=beta'],
  });
  await collector.ready();
});

afterAll(async () => {
  await collector.close();
});

const get = (path: string, key?: string, method = 'GET') =>
  collector.fetch(
    new Request(`http://collector.test${path}`, {
      method,
      headers: key ? { authorization: `Bearer ${key}` } : {},
    }),
  );

describe('GET /v1/tenants', () => {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
  const validate = ajv.compile(openApiDocument.components.schemas.Tenants);

  it('lists configured and stored tenants, sorted, for an admin key', async () => {
    const stored = await collector.fetch(
      new Request('http://collector.test/v1/batch', {
        method: 'POST',
        headers: { authorization: basic(WRITE_KEY), 'content-type': 'application/json' },
        body: JSON.stringify({ batch: [{ type: 'track', event: 'opened', userId: 'u-1' }] }),
      }),
    );
    expect(stored.status).toBe(200);
    const response = await get('/v1/tenants', ADMIN_KEY);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = await response.json();
    expect(validate(body), ajv.errorsText(validate.errors)).toBe(true);
    expect(body).toEqual({
      tenants: [
        { tenant: 'acme', configured: true, stored: true },
        { tenant: 'beta', configured: true, stored: false },
        { tenant: 'initech', configured: true, stored: false },
      ],
    });
  });

  it('refuses tenant keys (403), missing or unknown keys (401) and other methods (405)', async () => {
    const refused = await get('/v1/tenants', TENANT_KEY);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      'admin_key_required',
    );
    expect((await get('/v1/tenants')).status).toBe(401);
    expect((await get('/v1/tenants', 'rk_unknown_00000')).status).toBe(401);
    const post = await get('/v1/tenants', ADMIN_KEY, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('is documented with its statuses', () => {
    const operation = openApiDocument.paths['/v1/tenants'].get;
    expect(Object.keys(operation.responses).sort()).toEqual(['200', '401', '403', '405', '503']);
  });
});

describe('the dashboard page', () => {
  const assets = { html: '<!doctype html>page', js: 'app()', css: 'body{}', version: 'abc123' };
  const request = (path: string, init?: RequestInit) => {
    const url = new URL(`http://collector.test${path}`);
    return serveDashboard(new Request(url, init), url, url.pathname.replace(/\/+$/, ''), assets);
  };

  it('serves the page uncached and its assets immutable for the current version, all with the CSP', async () => {
    const page = request('/dashboard');
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(assets.html);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const script = request('/dashboard/app.js?v=abc123');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(request('/dashboard/app.css?v=old').headers.get('cache-control')).toBe('no-cache');
    for (const response of [page, script]) {
      expect(response.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect(DASHBOARD_CSP).toMatch(/default-src 'self'/);
    expect(DASHBOARD_CSP).not.toMatch(/unsafe|\*/);
  });

  it('answers 304 to a matching If-None-Match and redirects /dashboard/ relatively', () => {
    expect(request('/dashboard', { headers: { 'if-none-match': '"abc123"' } }).status).toBe(304);
    const redirect = request('/dashboard/?x=1');
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('../dashboard?x=1');
  });

  it('refuses other methods and unknown files', () => {
    expect(() => request('/dashboard', { method: 'POST' })).toThrow(/use GET/);
    expect(() => request('/dashboard/other.js')).toThrow(/no dashboard file/);
  });

  it('answers 503 dashboard_not_built when running from source, where nothing bundled it', async () => {
    const response = await get('/dashboard');
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'dashboard_not_built',
    );
  });
});
