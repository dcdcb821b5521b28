import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Collector, createCollector, openStore } from '@sightline/collector';
import { createNodeListener } from '@sightline/collector/node';
import { type Browser, chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startReactApp } from '../serve.mjs';

/**
 * The example as a visitor uses it: built by Vite, served by serve.mjs with its runtime
 * configuration, driven in Debian's Chromium, sending to our real collector (in-memory DuckDB);
 * what was stored is read back through the collector's read API. Twice: the production build
 * that serve.mjs serves, and React's development build, where <StrictMode> runs every effect
 * twice. Each build sends with its own write key, to its own tenant.
 */
const APP = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MODES = ['production', 'development'] as const;
type Mode = (typeof MODES)[number];
const writeKey = (mode: Mode) => `wk_e2e_react_app_${mode}`;
const readKey = (mode: Mode) => `rk_e2e_react_app_${mode}`;

interface StoredEvent {
  type: string;
  event: string | null;
  anonymousId: string | null;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  revenue: number | null;
  currency: string | null;
  properties: Record<string, unknown>;
  context: { page?: { path?: string } };
}

let outDir: string;
let collector: Collector;
let collectorServer: Server;
let collectorUrl: string;
const apps: Server[] = [];
const appUrls = new Map<Mode, string>();
let browser: Browser;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function close(server: Server | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Every event stored for one build's tenant, oldest first. */
async function storedEvents(mode: Mode): Promise<StoredEvent[]> {
  const response = await fetch(`${collectorUrl}/v1/events?limit=1000`, {
    headers: { authorization: `Bearer ${readKey(mode)}` },
  });
  if (!response.ok) throw new Error(`read API: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { events: StoredEvent[] }).events.reverse();
}

/** `vite build` with React's build for `mode` (vitest itself runs with NODE_ENV=test). */
async function buildApp(mode: Mode): Promise<string> {
  const dist = join(outDir, mode);
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = mode;
  try {
    await build({
      root: APP,
      mode,
      logLevel: 'warn',
      build: {
        outDir: dist,
        emptyOutDir: true,
        // React's development build is large: no chunk-size advice wanted.
        chunkSizeWarningLimit: 5_000,
      },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  return dist;
}

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'sightline-react-app-'));
  collector = createCollector({
    store: await openStore('duckdb::memory:'),
    writeKeys: MODES.map((mode) => `${writeKey(mode)}=${mode}`),
    readKeys: MODES.map((mode) => `${readKey(mode)}=${mode}`),
    rateLimit: false,
    read: { cacheTtlMs: 0 },
  });
  await collector.ready();
  collectorServer = createServer(createNodeListener(collector));
  collectorUrl = await listen(collectorServer);
  for (const mode of MODES) {
    const dist = await buildApp(mode);
    const app = await startReactApp({ port: 0, collectorUrl, writeKey: writeKey(mode), dist });
    apps.push(app);
    appUrls.set(mode, `http://127.0.0.1:${(app.address() as AddressInfo).port}`);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  for (const app of apps) await close(app);
  await close(collectorServer);
  await collector?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

it.each(MODES)(
  'a newsletter visitor views two assets and buys a license: every event stored once (%s build)',
  async (mode) => {
    const appUrl = appUrls.get(mode);
    const page = await (await browser.newContext()).newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'warning' || message.type() === 'error') problems.push(message.text());
    });

    await page.goto(`${appUrl}/?utm_source=newsletter&utm_medium=email&utm_campaign=spring_launch`);
    await page.getByRole('heading', { name: 'Licensable assets' }).waitFor();
    await page.getByText('Analytics: granted').waitFor();
    await page.getByRole('link', { name: 'Sunset over the bay' }).click();
    await page.getByRole('heading', { name: 'Sunset over the bay' }).waitFor();
    await page.getByRole('link', { name: 'Harbor at dawn' }).click();
    await page.getByRole('heading', { name: 'Harbor at dawn' }).waitFor();
    await page.getByRole('link', { name: 'Buy a license' }).click();
    await page.getByLabel(/Extended/).check();
    await page.getByRole('button', { name: 'Pay $149.00' }).click();
    await page.getByRole('heading', { name: 'License confirmed' }).waitFor();
    const licenseId = new URL(page.url()).pathname.split('/').at(-1);
    expect(licenseId).toMatch(/^lic_[0-9a-f]{8}$/);
    // Leaving the site: the SDK sends what is queued on page hide.
    await page.goto('about:blank');

    const expected = [
      'Asset',
      'Asset',
      'Gallery',
      'License checkout',
      'License confirmed',
      'asset_viewed',
      'asset_viewed',
      'license_created',
      'license_cta_clicked',
    ];
    await expect
      .poll(
        async () => (await storedEvents(mode)).map((event) => event.event ?? event.type).sort(),
        { timeout: 15_000 },
      )
      .toEqual(expected);
    const events = await storedEvents(mode);
    expect(problems).toEqual([]);

    // One visitor, and the newsletter campaign on every event (the SDK's last-touch attribution).
    expect(new Set(events.map((event) => event.anonymousId)).size).toBe(1);
    for (const event of events) {
      expect(event).toMatchObject({
        utmSource: 'newsletter',
        utmMedium: 'email',
        utmCampaign: 'spring_launch',
      });
    }

    // Exactly one page view per navigation, named by the route, in order.
    const pages = events.filter((event) => event.type === 'page');
    expect(pages.map((event) => [event.event, event.context.page?.path])).toEqual([
      ['Gallery', '/'],
      ['Asset', '/assets/a-sunset'],
      ['Asset', '/assets/a-harbor'],
      ['License checkout', '/assets/a-harbor/license'],
      ['License confirmed', `/licenses/${licenseId}`],
    ]);

    const tracked = (name: string) => events.filter((event) => event.event === name);
    expect(tracked('asset_viewed').map((event) => event.properties)).toEqual([
      { assetId: 'a-sunset', projectId: 'p-coastal' },
      { assetId: 'a-harbor', projectId: 'p-coastal' },
    ]);
    expect(tracked('license_cta_clicked').map((event) => event.properties)).toEqual([
      { assetId: 'a-harbor' },
    ]);
    expect(tracked('license_created')).toEqual([
      expect.objectContaining({
        revenue: 149,
        currency: 'USD',
        properties: {
          licenseId,
          assetId: 'a-harbor',
          projectId: 'p-coastal',
          licenseType: 'extended',
          revenueCents: 14_900,
          revenue: 149,
          currency: 'USD',
        },
      }),
    ]);
  },
);
