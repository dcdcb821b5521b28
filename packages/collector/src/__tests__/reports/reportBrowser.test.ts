import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HttpCollector,
  ingest,
  readApi,
  readJson,
  startHttpCollector,
} from '../httpCollector';
import { generateEvents, toBatches } from '../synthetic/generator';

/**
 * The weekly HTML report in Debian's Chromium: it loads nothing from anywhere, runs no script even
 * with markup in user data, shows the API's numbers, and fits a phone's width. With
 * UPDATE_DOC_IMAGES=1 its screenshot replaces docs/images/report-weekly.png.
 */

const WRITE_KEY = 'wk_report_browser_12';
const READ_KEY = 'rk_report_browser_12';
const NOW = Date.parse('2024-04-17T10:00:00Z');
const DOC_IMAGE = fileURLToPath(
  new URL('../../../../../docs/images/report-weekly.png', import.meta.url),
);

let http: HttpCollector;
let browser: Browser;
let html: string;

beforeAll(async () => {
  http = await startHttpCollector({
    writeKeys: [`${WRITE_KEY}=acme`],
    readKeys: [`${READ_KEY}=acme`],
    read: { cacheTtlMs: 0 },
    now: () => NOW,
  });
  const events = generateEvents({ seed: 7, users: 400, days: 56, start: '2024-02-19' });
  for (const batch of toBatches(events, 500))
    await ingest(
      http.url,
      WRITE_KEY,
      batch.map((event) => ({ ...event })),
    );
  // Enough visitors for a campaign with markup in its name to make the top channels.
  await ingest(
    http.url,
    WRITE_KEY,
    Array.from({ length: 80 }, (_, index) => ({
      type: 'page',
      anonymousId: `hostile-${index}`,
      name: 'Home',
      timestamp: '2024-04-09T12:00:00.000Z',
      context: {
        campaign: {
          source: '<img src=x onerror="window.__pwned=1">',
          medium: '<script>window.__pwned=2</script>',
        },
      },
    })),
  );
  const response = await readApi(
    http.url,
    '/v1/reports/generate?template=weekly&format=html',
    READ_KEY,
  );
  expect(response.status).toBe(200);
  html = await response.text();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  await http?.close();
});

describe('the weekly HTML report in Chromium', () => {
  it('makes no request, runs no script, and shows the dashboard API’s DAU', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const requests: string[] = [];
    const dialogs: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.setContent(html, { waitUntil: 'load' });
    expect(requests.filter((url) => !url.startsWith('about:') && !url.startsWith('data:'))).toEqual(
      [],
    );
    expect(dialogs).toEqual([]);
    expect(
      await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned),
    ).toBeUndefined();
    // The hostile source is shown as text.
    expect(await page.locator('section[aria-labelledby="channels"] table').textContent()).toContain(
      '<img src=x onerror="window.__pwned=1">',
    );
    const dashboard = await readJson<{ dau: number }>(
      http.url,
      '/v1/dashboard?from=2024-04-08&to=2024-04-14',
      READ_KEY,
    );
    expect(await page.locator('[data-kpi="dau"].value').getAttribute('data-value')).toBe(
      String(dashboard.dau),
    );
    expect(await page.locator('svg[role="img"]').count()).toBeGreaterThanOrEqual(8);
    expect(await page.title()).toBe('Weekly performance — acme');

    const screenshot = await page.screenshot({ fullPage: true });
    expect(screenshot.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    if (process.env.UPDATE_DOC_IMAGES === '1') {
      mkdirSync(fileURLToPath(new URL('.', `file://${DOC_IMAGE}`)), { recursive: true });
      writeFileSync(
        DOC_IMAGE,
        await page.screenshot({ clip: { x: 0, y: 0, width: 1000, height: 1500 }, fullPage: true }),
      );
    }
    await page.close();
  });

  it('fits a phone: nothing wider than the viewport but the charts’ own scroll boxes', async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 700 } });
    await page.setContent(html, { waitUntil: 'load' });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.close();
  });
});
