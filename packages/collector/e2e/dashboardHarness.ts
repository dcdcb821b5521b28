import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createNodeListener } from '../dist/adapters/node.js';
// The built collector: the dashboard page is bundled into it by the build (tsup.config.ts).
import { type Collector, createCollector, openStore } from '../dist/index.js';

/** Debian's Chromium (`apt-get install chromium`). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The collector is mounted under a prefix, as an app would mount it. */
export const MOUNT = '/analytics';
export const ADMIN_KEY = 'rk_e2e_admin_00001';
export const ACME_READ_KEY = 'rk_e2e_acme_000001';
const WRITE_KEYS = { acme: 'wk_e2e_acme_000001', globex: 'wk_e2e_globex_00001' } as const;
export type Tenant = keyof typeof WRITE_KEYS;
export const SCREENSHOTS = fileURLToPath(
  new URL('../../../test-results/dashboard/', import.meta.url),
);

const DAY_MS = 86_400_000;

/** A small deterministic PRNG (mulberry32): the same dataset on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const CHANNELS = [
  { utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'brand' },
  { utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'launch' },
  { referrer: 'https://news.ycombinator.com/item?id=1' },
  {},
] as const;

/**
 * Events of `users` users over the last `days` days up to now: page views, the signup funnel
 * (`signup_started` → `signup_completed` → `project_created` → `payment_completed` with
 * revenue), an identify linking the anonymous id, UTM or referrer on the first page view, and
 * repeat visits that thin out (so retention decays). Every timestamp is in the past.
 */
export function generateEvents(
  tenant: Tenant,
  users: number,
  days: number,
  now: number,
  seed: number,
) {
  const draw = random(seed);
  const events: Array<Record<string, unknown>> = [];
  let sequence = 0;
  const push = (at: number, event: Record<string, unknown>) => {
    events.push({
      messageId: `${tenant}-${++sequence}`,
      timestamp: new Date(Math.min(at, now - 60_000)).toISOString(),
      ...event,
    });
  };
  for (let index = 0; index < users; index++) {
    const anonymousId = `${tenant}-anon-${index}`;
    const userId = `${tenant}-user-${index}`;
    const firstDay = Math.floor(draw() * days);
    let at = now - (days - firstDay) * DAY_MS + Math.floor(draw() * 20 * 3_600_000);
    const channel = CHANNELS[index % CHANNELS.length]!;
    const search = 'utm_source' in channel ? `?${new URLSearchParams(channel)}` : '';
    push(at, {
      type: 'page',
      name: 'Home',
      anonymousId,
      properties: { path: '/' },
      context: {
        page: {
          path: '/',
          url: `https://${tenant}.example/${search}`,
          search,
          referrer: 'referrer' in channel ? channel.referrer : '',
        },
      },
    });
    /** The time `ms` after the previous event of this user. */
    const later = (ms: number) => {
      at += ms;
      return at;
    };
    const signs = draw() < 0.7;
    if (signs) {
      push(later(60_000), { type: 'track', event: 'signup_started', anonymousId });
      push(later(120_000), { type: 'track', event: 'signup_completed', anonymousId, userId });
      push(later(1_000), { type: 'identify', anonymousId, userId, traits: { plan: 'free' } });
      if (draw() < 0.7) push(later(600_000), { type: 'track', event: 'project_created', userId });
      if (draw() < 0.4) {
        const revenue = [19, 49, 99][index % 3]!;
        push(later(3_600_000), {
          type: 'track',
          event: 'payment_completed',
          userId,
          properties: { revenue, currency: 'USD' },
        });
      }
    }
    // Return visits, each less likely than the last.
    let visitAt = at;
    for (let visit = 0; visit < 12 && draw() < 0.75 - visit * 0.05; visit++) {
      visitAt += Math.ceil(draw() * 4) * DAY_MS;
      if (visitAt >= now) break;
      const who = signs ? { userId } : { anonymousId };
      push(visitAt, { type: 'page', name: 'Dashboard', ...who, properties: { path: '/app' } });
      push(visitAt + 30_000, {
        type: 'track',
        event: 'feature_used',
        ...who,
        properties: { feature: `f${visit % 3}` },
      });
    }
  }
  return events;
}

export interface DashboardHarness {
  /** The collector's mount point: `http://127.0.0.1:<port>/analytics`. */
  url: string;
  browser: Browser;
  /** JSON of a read request with `key` (and `?tenant=` for the admin key). */
  read<T>(path: string, key: string, init?: { method?: string; body?: unknown }): Promise<T>;
  close(): Promise<void>;
}

async function ingest(url: string, writeKey: string, events: Array<Record<string, unknown>>) {
  for (let start = 0; start < events.length; start += 1_000) {
    const response = await fetch(`${url}/v1/batch`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
      },
      body: JSON.stringify({ batch: events.slice(start, start + 1_000) }),
    });
    const text = await response.text();
    if (response.status !== 200 || text !== '{"success":true}') {
      throw new Error(`ingest answered ${response.status}: ${text.slice(0, 500)}`);
    }
  }
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * The built collector on an in-memory DuckDB store, mounted at {@link MOUNT} on a free loopback
 * port, with two tenants' generated events ingested over HTTP, and Debian's Chromium.
 */
export async function startDashboardHarness(): Promise<DashboardHarness> {
  const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  if (!existsSync(built)) {
    throw new Error(`${built} is missing: run \`pnpm --filter @sightline/collector build\` first`);
  }
  const store = await openStore('duckdb::memory:');
  const collector: Collector = createCollector({
    store,
    writeKeys: Object.entries(WRITE_KEYS).map(([tenant, key]) => `${key}=${tenant}`),
    readKeys: [`${ADMIN_KEY}=*`, `${ACME_READ_KEY}=acme`],
    rateLimit: false,
  });
  await collector.ready();
  const server = createServer(createNodeListener(collector, { basePath: MOUNT }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${MOUNT}`;
  const now = Date.now();
  await ingest(url, WRITE_KEYS.acme, generateEvents('acme', 240, 75, now, 1));
  await ingest(url, WRITE_KEYS.globex, generateEvents('globex', 60, 40, now, 2));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  return {
    url,
    browser,
    async read<T>(path: string, key: string, init: { method?: string; body?: unknown } = {}) {
      const response = await fetch(`${url}${path}`, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${path}: ${response.status} ${text}`);
      return JSON.parse(text) as T;
    },
    async close() {
      await browser.close();
      await closeServer(server);
      await collector.close();
    },
  };
}

/** Waits until every panel has rendered; fails with the panels' errors if one failed. */
export async function panelsReady(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const panels = [...document.querySelectorAll<HTMLElement>('[data-panel]')];
    return (
      panels.length > 0 &&
      panels.every((panel) => panel.dataset.state === 'ready' || panel.dataset.state === 'error')
    );
  });
  const errors = await page.$$eval('[data-panel][data-state="error"]', (panels) =>
    panels.map(
      (panel) =>
        `${panel.getAttribute('data-panel')}: ${panel.querySelector('.error')?.textContent}`,
    ),
  );
  if (errors.length > 0) throw new Error(`panels failed: ${errors.join('; ')}`);
}

/** Signs in on the open sign-in form. */
export async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('Read key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The text of every body cell of the table in `selector`, row by row. */
export function tableRows(page: Page, selector: string): Promise<string[][]> {
  // `.table-scroll`: the page's data tables, not uPlot's legend (a table too).
  return page.$$eval(`${selector} .table-scroll tbody tr`, (rows) =>
    rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? '')),
  );
}
