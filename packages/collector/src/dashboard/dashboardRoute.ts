import { HttpError } from '../http/errors';
import type { DashboardAssets } from './dashboardAssets';

/** Set by the build (tsup.config.ts) to the bundled page; undefined when running from source. */
declare const __SIGHTLINE_DASHBOARD__: DashboardAssets | undefined;

const bundled: DashboardAssets | undefined =
  typeof __SIGHTLINE_DASHBOARD__ === 'undefined' ? undefined : __SIGHTLINE_DASHBOARD__;

/**
 * Only this origin: no inline script or style, no other hosts, no framing. uPlot sets element
 * styles through the CSSOM, which `style-src 'self'` allows.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const FILES = {
  '/dashboard': {
    type: 'text/html; charset=utf-8',
    body: (assets: DashboardAssets) => assets.html,
  },
  '/dashboard/app.js': {
    type: 'text/javascript; charset=utf-8',
    body: (assets: DashboardAssets) => assets.js,
  },
  '/dashboard/app.css': {
    type: 'text/css; charset=utf-8',
    body: (assets: DashboardAssets) => assets.css,
  },
} as const;

/** Whether `path` (trailing slashes removed) is the dashboard's. */
export function isDashboardPath(path: string): boolean {
  return path === '/dashboard' || path.startsWith('/dashboard/');
}

/**
 * Serves the dashboard: the page at `/dashboard` (never cached, so a new build shows at once)
 * and its script and styles (cached for a year when asked for with the current `?v=`), each
 * with a Content-Security-Policy of this origin only. `/dashboard/` redirects to `/dashboard`,
 * since the page's relative URLs (assets, API) are resolved against it.
 *
 * @example
 * if (isDashboardPath(path)) return serveDashboard(request, url, path);
 */
export function serveDashboard(
  request: Request,
  url: URL,
  path: string,
  assets: DashboardAssets | undefined = bundled,
): Response {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    throw new HttpError(405, 'method_not_allowed', `use GET for ${path}`, { allow: 'GET' });
  }
  if (path === '/dashboard' && url.pathname.endsWith('/')) {
    // `<mount>/dashboard/` → `<mount>/dashboard`, relative so it holds under any mount point.
    return new Response(null, { status: 308, headers: { location: `../dashboard${url.search}` } });
  }
  const file = FILES[path as keyof typeof FILES];
  if (!file) {
    throw new HttpError(404, 'not_found', `no dashboard file ${path}: open /dashboard`);
  }
  if (!assets) {
    throw new HttpError(
      503,
      'dashboard_not_built',
      'the dashboard is bundled by the build: run `pnpm --filter @sightline/collector build` and use the built collector',
    );
  }
  const immutable = path !== '/dashboard' && url.searchParams.get('v') === assets.version;
  const etag = `"${assets.version}"`;
  const headers = {
    'content-type': file.type,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    etag,
    ...SECURITY_HEADERS,
  };
  if (request.headers.get('if-none-match') === etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === 'HEAD' ? null : file.body(assets), {
    status: 200,
    headers,
  });
}
