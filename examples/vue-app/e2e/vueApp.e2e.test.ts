import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Collector, createCollector, openStore } from '@sightline/collector';
import { createNodeListener } from '@sightline/collector/node';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVueApp } from '../serve.mjs';

/**
 * The example app as a user gets it: built with Vite, served by serve.mjs (which injects the
 * collector URL and write key at runtime), driven in Debian's Chromium through signup, generate,
 * a form and pricing → payment, and checked through our real collector's read API (in-memory
 * DuckDB, on its own port).
 */
const APP_URL = new URL('../', import.meta.url);
const APP = fileURLToPath(APP_URL);
const WRITE_KEY = 'wk_e2e_vue_app_0001';
const READ_KEY = 'rk_e2e_vue_app_0001';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

interface StoredEvent {
  type: string;
  event: string | null;
  userId: string | null;
  anonymousId: string | null;
  revenue: number | null;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
}

let collector: Collector;
let collectorServer: Server;
let collectorUrl: string;
let app: Server;
let appUrl: string;
let browser: Browser;
let outDir: string;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function close(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function storedEvents(anonymousId: string): Promise<StoredEvent[]> {
  const response = await fetch(`${collectorUrl}/v1/events?limit=1000`, {
    headers: { authorization: `Bearer ${READ_KEY}` },
  });
  if (!response.ok) throw new Error(`read API: ${response.status} ${await response.text()}`);
  const { events } = (await response.json()) as { events: StoredEvent[] };
  return events.reverse().filter((event) => event.anonymousId === anonymousId);
}

/** What one stored event says, in a line: `page <name> <route>`, the event name, or the type. */
const label = (event: StoredEvent) =>
  event.type === 'page'
    ? `page ${event.event} ${event.properties.route}`
    : event.type === 'track'
      ? event.event
      : event.type;

/** Flushes the app's client (exposed as window.sightline for the console) and reads its events. */
async function flushAndRead(page: Page, anonymousId: string): Promise<StoredEvent[]> {
  await page.evaluate(() =>
    (window as unknown as { sightline: { flush(): Promise<void> } }).sightline.flush(),
  );
  return storedEvents(anonymousId);
}

beforeAll(async () => {
  for (const dist of ['../../packages/vue/dist/index.js', '../../packages/browser/dist/index.js']) {
    if (!existsSync(fileURLToPath(new URL(dist, APP_URL)))) {
      throw new Error(`${dist} is missing: run \`pnpm build\` at the repository root first`);
    }
  }
  outDir = mkdtempSync(join(tmpdir(), 'sightline-vue-app-'));
  const [store] = await Promise.all([
    openStore('duckdb::memory:'),
    build({
      root: APP,
      configFile: join(APP, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true, sourcemap: false },
    }),
  ]);
  collector = createCollector({
    store,
    writeKeys: [`${WRITE_KEY}=e2e`],
    readKeys: [`${READ_KEY}=e2e`],
    rateLimit: false,
    read: { cacheTtlMs: 0 },
  });
  await collector.ready();
  collectorServer = createServer(createNodeListener(collector));
  collectorUrl = await listen(collectorServer);
  app = await startVueApp({ port: 0, collectorUrl, writeKey: WRITE_KEY, dist: outDir });
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  await close(app);
  await close(collectorServer);
  await collector?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('the Vue example app in Chromium', () => {
  it('tracks signup, generate, a form and pricing → payment into the collector, each event once', async () => {
    const page = await (await browser.newContext()).newPage();
    const failures: string[] = [];
    page.on('pageerror', (error) => failures.push(error.message));

    await page.goto(`${appUrl}/`);
    await page.waitForFunction(() => 'sightline' in window);
    const anonymousId = await page.evaluate(
      () =>
        (window as unknown as { sightline: { user(): { anonymousId: string } } }).sightline.user()
          .anonymousId,
    );

    // Signup: the hero link (v-track), the form (data-analytics-form), then identify + track.
    await page.click('text=Get started');
    await page.fill('input[name="email"]', 'ada@example.com');
    await page.fill('input[name="password"]', 'correct horse battery');
    await page.click('button:has-text("Create account")');
    await page.waitForURL('**/generate');

    // Generate: trackFeatureUsage, then the data-attribute button submitting the form.
    await page.click('text=Suggest a prompt');
    await page.fill('textarea[name="prompt"]', 'a secret lighthouse at dawn');
    await page.selectOption('select[name="model"]', 'quality');
    await page.click('button:has-text("Generate")');
    await page.waitForSelector('#result');

    // Pricing → payment.
    await page.click('nav >> text=Pricing');
    await page.click('text=Choose Pro');
    await page.waitForURL('**/checkout/pro');
    await page.click('text=Pay $20');
    await page.waitForSelector('#paid');

    const events = await flushAndRead(page, anonymousId);
    expect(failures).toEqual([]);
    expect(events.map(label)).toEqual([
      'page home /',
      'signup_started',
      'page signup /signup',
      'form_started',
      'form_submitted',
      'identify',
      'signup_completed',
      'page generate /generate',
      'feature_used',
      'feature_click',
      'form_interaction',
      'generation_started',
      'generation_completed',
      'page pricing /pricing',
      'plan_selected',
      'page checkout /checkout/:plan',
      'payment_initiated',
      'payment_completed',
      'subscription_created',
    ]);
    const find = (name: string) => events.find((event) => label(event) === name)!;

    expect(find('signup_started').properties).toEqual({ source: 'home_hero' });
    expect(find('form_submitted').properties).toEqual({
      form: 'signup_form',
      field_names: ['email', 'password'],
      field_count: 2,
    });
    const userId = find('identify').userId;
    expect(userId).toMatch(/^user_/);
    expect(find('signup_completed')).toMatchObject({ userId, properties: { method: 'email' } });

    expect(find('feature_used').properties).toEqual({
      feature: 'prompt_suggestions',
      action: 'click',
      source: 'generate_page',
    });
    expect(find('feature_click').properties).toEqual({ feature: 'generate' });
    expect(find('form_interaction').properties).toEqual({
      form: 'generation_form',
      action: 'submit',
      prompt_length: 'a secret lighthouse at dawn'.length,
      selected_model: 'quality',
    });
    expect(find('generation_completed').properties).toMatchObject({
      generation_type: 'image',
      model: 'quality',
      duration_ms: expect.any(Number),
    });

    // Page views: the route's name and pattern, the real path and the previous page as referrer.
    expect(find('page checkout /checkout/:plan').properties).toMatchObject({
      path: '/checkout/pro',
      // The collector's PII filter redacts the loopback IP address in URLs.
      referrer: expect.stringMatching(/:\d+\/pricing$/),
    });
    expect(find('plan_selected').properties).toEqual({ plan: 'pro', billing_cycle: 'monthly' });
    expect(find('payment_completed')).toMatchObject({
      revenue: 20,
      properties: { plan: 'pro', amount: 20, currency: 'USD', revenue: 20 },
    });

    // Field values and the prompt's text never leave the page.
    const stored = JSON.stringify(events);
    for (const secret of ['ada@example.com', 'correct horse battery', 'secret lighthouse']) {
      expect(stored).not.toContain(secret);
    }
  });

  it('the consent toggle (useConsent) stops and resumes collection, and is remembered', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${appUrl}/pricing`);
    await page.waitForFunction(() => 'sightline' in window);
    const anonymousId = await page.evaluate(
      () =>
        (window as unknown as { sightline: { user(): { anonymousId: string } } }).sightline.user()
          .anonymousId,
    );
    await expect.poll(() => page.textContent('#consent')).toBe('granted');

    await page.click('#consent-toggle');
    await expect.poll(() => page.textContent('#consent')).toBe('denied');
    await page.click('text=Choose Team');
    await page.waitForURL('**/checkout/team');
    expect((await flushAndRead(page, anonymousId)).map(label)).toEqual(['page pricing /pricing']);

    await page.reload();
    await page.waitForFunction(() => 'sightline' in window);
    await expect.poll(() => page.textContent('#consent')).toBe('denied');
    await page.click('#consent-toggle');
    await page.click('nav >> text=Generate');
    await page.waitForURL('**/generate');
    expect((await flushAndRead(page, anonymousId)).map(label)).toEqual([
      'page pricing /pricing',
      'page generate /generate',
    ]);
  });
});
