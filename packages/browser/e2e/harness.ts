import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Collector, createCollector, openStore } from '@sightline/collector';
import { createNodeListener } from '@sightline/collector/node';
import { type Browser, chromium } from 'playwright-core';

export const WRITE_KEY = 'wk_e2e_browser_0001';
const READ_KEY = 'rk_e2e_browser_0001';
/** Debian's Chromium (`apt-get install chromium`); `.ci/run` installs it. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface StoredEvent {
  messageId: string;
  type: string;
  event: string | null;
  anonymousId: string | null;
  userId: string | null;
  utmSource: string | null;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
}

export interface Harness {
  /** The site: test pages and the SDK's `<script>` build, on its own origin. */
  siteUrl: string;
  /** Our real collector, on another origin (cross-origin, as in production). */
  collectorUrl: string;
  browser: Browser;
  /** Every stored event, oldest first, through the read API. */
  events(): Promise<StoredEvent[]>;
  close(): Promise<void>;
}

const SDK = new URL('../dist/sightline.global.js', import.meta.url);

/**
 * A test page: the snippet from docs/browser.md loading the built `<script>` SDK, then `body`.
 * Options are JSON in the page; `script` runs after the snippet.
 */
function page(collectorUrl: string, body: string, options: Record<string, unknown> = {}): string {
  const settings = JSON.stringify({
    writeKey: WRITE_KEY,
    host: collectorUrl,
    flushAt: 1,
    ...options,
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>e2e</title>
<script>
((w, d, options, src) => {
  const s = w.sightline || [];
  w.sightline = s;
  if (s.options) return;
  s.options = options;
  for (const m of ['track', 'identify', 'page', 'screen', 'group', 'alias', 'reset', 'optOut', 'optIn']) {
    s[m] = (...args) => s.push([m, ...args]);
  }
  const t = d.createElement('script');
  t.async = true;
  t.src = src;
  d.head.appendChild(t);
})(window, document, ${settings}, '/sightline.global.js');
</script></head><body>${body}</body></html>`;
}

const PAGES: Record<string, string> = {
  '/app': `
    <nav>
      <a id="to-pricing" href="/app/pricing" onclick="event.preventDefault(); history.pushState(null, '', this.href)">Pricing</a>
    </nav>
    <button id="generate" data-analytics-track="feature_click" data-analytics-feature="generate">Generate</button>
    <form id="contact" data-analytics-form="contact_form" onsubmit="event.preventDefault()">
      <input name="email" type="email"><input name="message"><button type="submit">Send</button>
    </form>
    <a id="leave" href="/goodbye" data-analytics-track="outbound_click" data-analytics-prop-target="goodbye">Leave</a>`,
  '/goodbye': '<p>Another page, without the SDK.</p>',
};

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Starts our collector (in-memory DuckDB) and the test site on two loopback ports, and Chromium.
 *
 * @example
 * const harness = await startHarness();
 * const page = await harness.browser.newPage();
 * await page.goto(`${harness.siteUrl}/app`);
 */
export async function startHarness(pageOptions: Record<string, unknown> = {}): Promise<Harness> {
  const store = await openStore('duckdb::memory:');
  const collector: Collector = createCollector({
    store,
    writeKeys: [`${WRITE_KEY}=e2e`],
    readKeys: [`${READ_KEY}=e2e`],
    rateLimit: false,
    read: { cacheTtlMs: 0 },
  });
  await collector.ready();
  const collectorServer = createServer(createNodeListener(collector));
  const collectorUrl = await listen(collectorServer);
  const sdk = readFileSync(SDK, 'utf8');
  const site = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    if (path === '/sightline.global.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk);
      return;
    }
    const body = PAGES[path] ?? (path.startsWith('/app/') ? PAGES['/app'] : undefined);
    if (body === undefined) {
      response.writeHead(404).end();
      return;
    }
    const withSdk = path === '/goodbye' ? body : page(collectorUrl, body, pageOptions);
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(withSdk);
  });
  const siteUrl = await listen(site);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  return {
    siteUrl,
    collectorUrl,
    browser,
    async events() {
      const response = await fetch(`${collectorUrl}/v1/events?limit=1000`, {
        headers: { authorization: `Bearer ${READ_KEY}` },
      });
      if (!response.ok) throw new Error(`read API: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { events: StoredEvent[] }).events.reverse();
    },
    async close() {
      await browser.close();
      await close(site);
      await close(collectorServer);
      await collector.close();
    },
  };
}
