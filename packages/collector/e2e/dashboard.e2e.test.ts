import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACME_READ_KEY,
  ADMIN_KEY,
  type DashboardHarness,
  panelsReady,
  SCREENSHOTS,
  signIn,
  startDashboardHarness,
  tableRows,
} from './dashboardHarness';

/**
 * The built collector's dashboard in Debian's Chromium, against two tenants' events ingested
 * over HTTP. Every number the page shows is compared with the read API's answer to the same
 * query, fetched by the test itself; formats are re-implemented here, not imported.
 */

interface Dashboard {
  dau: number;
  wau: number;
  mau: number;
  newUsers: number;
  revenue: number;
  conversion: number;
  churn: number | null;
  ltvCac: number | null;
}

const count = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 0 });
const money = (value: number) =>
  value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const share = (value: number) => `${(value * 100).toFixed(1)}%`;
const shift = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** The KPI cards the page should show for `now`, each as [value text, change text]. */
function expectedCards(now: Dashboard, before: Dashboard): Record<string, [string, string]> {
  const relative = (current: number | null, previous: number | null) => {
    if (current === null || previous === null || previous === 0) return '–';
    const percent = ((current - previous) / Math.abs(previous)) * 100;
    return `${percent >= 0 ? '+' : '−'}${Math.abs(percent).toFixed(1)}%`;
  };
  const points = (current: number | null, previous: number | null) => {
    if (current === null || previous === null) return '–';
    const value = (current - previous) * 100;
    return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(1)} pts`;
  };
  const stickiness = (d: Dashboard) => (d.mau > 0 ? d.dau / d.mau : null);
  const orDash = (value: number | null, format: (v: number) => string) =>
    value === null ? '–' : format(value);
  return {
    dau: [count(now.dau), relative(now.dau, before.dau)],
    wau: [count(now.wau), relative(now.wau, before.wau)],
    mau: [count(now.mau), relative(now.mau, before.mau)],
    stickiness: [orDash(stickiness(now), share), points(stickiness(now), stickiness(before))],
    newUsers: [count(now.newUsers), relative(now.newUsers, before.newUsers)],
    revenue: [money(now.revenue), relative(now.revenue, before.revenue)],
    conversion: [share(now.conversion), points(now.conversion, before.conversion)],
    churn: [orDash(now.churn, share), points(now.churn, before.churn)],
    ltvCac: [
      orDash(now.ltvCac, (v) => v.toLocaleString('en-US', { maximumFractionDigits: 2 })),
      relative(now.ltvCac, before.ltvCac),
    ],
  };
}

async function shownCards(page: Page): Promise<Record<string, [string, string]>> {
  const cards = await page.$$eval('[data-kpi]', (items) =>
    items.map((item) => [
      item.getAttribute('data-kpi') ?? '',
      item.querySelector('.kpi-value')?.textContent ?? '',
      item.querySelector('.change-value')?.textContent ?? '',
    ]),
  );
  return Object.fromEntries(cards.map(([id, value, change]) => [id, [value, change]]));
}

/** The page's current scope: range and time zone from its controls, tenant from its picker. */
async function scopeOf(page: Page) {
  const value = (name: string) => page.locator(`.scope [name="${name}"]`).inputValue();
  return { from: await value('from'), to: await value('to'), tz: await value('tz') };
}

let harness: DashboardHarness;
let context: BrowserContext;
const problems: string[] = [];

async function openPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content.Security.Policy/i.test(message.text())) {
      // Chromium logs the sign-in check's 401 (wrong key) and 403 (a tenant's key, not an
      // admin's) as failed resources: both are expected answers.
      if (!/status of 40[13]/.test(message.text())) problems.push(`console: ${message.text()}`);
    }
  });
  await page.goto(`${harness.url}/dashboard`);
  return page;
}

async function signedIn(key = ADMIN_KEY, viewport?: { width: number; height: number }) {
  const page = await openPage(viewport);
  await signIn(page, key);
  await panelsReady(page);
  return page;
}

const adminRead = <T>(path: string, tenant: string, init?: { method?: string; body?: unknown }) =>
  harness.read<T>(`${path}${path.includes('?') ? '&' : '?'}tenant=${tenant}`, ADMIN_KEY, init);

async function expectKpisMatch(page: Page, tenant: string) {
  const { from, to, tz } = await scopeOf(page);
  const length = Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000) + 1;
  const query = (a: string, b: string) =>
    `/v1/dashboard?from=${a}&to=${b}&tz=${encodeURIComponent(tz)}`;
  const now = await adminRead<Dashboard>(query(from, to), tenant);
  const before = await adminRead<Dashboard>(query(shift(from, -length), shift(from, -1)), tenant);
  expect(await shownCards(page)).toEqual(expectedCards(now, before));
  return now;
}

beforeAll(async () => {
  harness = await startDashboardHarness();
  await mkdir(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await harness?.close();
});

describe('the dashboard', () => {
  beforeAll(async () => {
    context = await harness.browser.newContext({ timezoneId: 'UTC', locale: 'en-US' });
  });
  afterAll(async () => {
    await context.close();
    expect(problems).toEqual([]);
  });

  it('is served with a self-only Content-Security-Policy under the mount point', async () => {
    const page = await fetch(`${harness.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe');
    const html = await page.text();
    const script = /src="(dashboard\/app\.js\?v=\w+)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${harness.url}/${script}`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(asset.headers.get('content-security-policy')).toBe(csp);
    const slash = await fetch(`${harness.url}/dashboard/`, { redirect: 'manual' });
    expect(slash.status).toBe(308);
    expect(new URL(slash.headers.get('location')!, `${harness.url}/dashboard/`).href).toBe(
      `${harness.url}/dashboard`,
    );
  });

  it('refuses a wrong key with a message, and keeps no key', async () => {
    const page = await openPage();
    await signIn(page, 'rk_not_a_key_0000');
    await expect
      .poll(() => page.getByRole('alert').first().textContent())
      .toBe('That read key is not known to this collector.');
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual([]);
    await page.close();
  });

  it('shows the numbers of the API in every panel (admin key, first tenant)', async () => {
    const page = await signedIn();
    expect(await page.locator('.scope [name="tenant"]').inputValue()).toBe('acme');
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toContain(
      'sightline.dashboard.readKey',
    );
    const { from, to, tz } = await scopeOf(page);
    expect(to).toBe(new Date().toISOString().slice(0, 10));
    expect(from).toBe(shift(to, -29));
    const kpis = await expectKpisMatch(page, 'acme');
    expect(kpis.mau).toBeGreaterThan(50);
    expect(kpis.revenue).toBeGreaterThan(0);
    const range = `from=${from}&to=${to}&tz=${encodeURIComponent(tz)}`;

    // Trends: DAU by day, then one event's count by week.
    const dau = await adminRead<{ series: { dau: Array<{ date: string; value: number }> } }>(
      `/v1/metrics?names=dau&${range}`,
      'acme',
    );
    expect(await tableRows(page, '[data-panel="series"]')).toEqual(
      dau.series.dau.map((point) => [point.date, count(point.value)]),
    );
    expect(await page.locator('[data-panel="series"] canvas').count()).toBeGreaterThan(0);
    await page.locator('[data-panel="series"] [name="metric"]').selectOption('events');
    await page.locator('[data-panel="series"] [name="interval"]').selectOption('week');
    await page.locator('[data-panel="series"] [name="event"]').fill('payment_completed');
    await page.locator('[data-panel="series"] [name="event"]').press('Enter');
    await page.locator('[data-panel="series"] [name="event"]').blur();
    await panelsReady(page);
    const payments = await adminRead<{
      series: { events: Array<{ date: string; value: number }> };
    }>(`/v1/metrics?names=events&${range}&interval=week&event=payment_completed`, 'acme');
    await expect
      .poll(() => tableRows(page, '[data-panel="series"]'))
      .toEqual(payments.series.events.map((point) => [point.date, count(point.value)]));

    // Funnel: the default signup funnel, 7-day window.
    const steps = await page
      .locator('[data-panel="funnel"] [name="step"]')
      .evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value));
    expect(steps).toEqual([
      'signup_started',
      'signup_completed',
      'project_created',
      'payment_completed',
    ]);
    const funnel = await adminRead<{
      steps: Array<{
        event: string;
        users: number;
        conversionFromStart: number;
        conversionFromPrevious: number;
      }>;
    }>('/v1/funnel', 'acme', {
      method: 'POST',
      body: { steps: steps.map((event) => ({ event })), windowSeconds: 604_800, from, to, tz },
    });
    expect(funnel.steps[0]!.users).toBeGreaterThan(0);
    expect((await tableRows(page, '[data-panel="funnel"]')).map((row) => row.slice(0, 4))).toEqual(
      funnel.steps.map((step, index) => [
        `${index + 1}. ${step.event}`,
        count(step.users),
        share(step.conversionFromStart),
        share(step.conversionFromPrevious),
      ]),
    );
    expect(await page.locator('[data-panel="funnel"] canvas').count()).toBeGreaterThan(0);

    // Retention heatmap: weekly cohorts, 8 periods.
    const retention = await adminRead<{
      cohorts: Array<{ cohort: string; size: number; percent: number[] }>;
    }>('/v1/retention', 'acme', {
      method: 'POST',
      body: { interval: 'week', periods: 8, from, to, tz },
    });
    expect(retention.cohorts.length).toBeGreaterThan(2);
    expect(await tableRows(page, '[data-panel="retention"]')).toEqual(
      retention.cohorts.map((cohort) => [
        cohort.cohort,
        count(cohort.size),
        ...Array.from({ length: 8 }, (_, k) =>
          cohort.percent[k] === undefined ? '' : `${cohort.percent[k]!.toFixed(1)}%`,
        ),
      ]),
    );

    // Attribution, first touch.
    const attribution = await adminRead<{
      channels: Array<{
        utmSource: string | null;
        utmMedium: string | null;
        utmCampaign: string | null;
        referrerDomain: string | null;
        users: number;
        sessions: number;
        conversions: number;
        revenue: number;
      }>;
    }>(`/v1/attribution?${range}&model=first_touch`, 'acme');
    expect(attribution.channels.some((channel) => channel.utmSource === 'google')).toBe(true);
    expect(await tableRows(page, '[data-panel="attribution"]')).toEqual(
      attribution.channels.map((channel) => [
        channel.utmSource ?? '–',
        channel.utmMedium ?? '–',
        channel.utmCampaign ?? '–',
        channel.referrerDomain ?? '–',
        count(channel.users),
        count(channel.sessions),
        count(channel.conversions),
        money(channel.revenue),
      ]),
    );

    // Live events: the newest 25.
    const events = await adminRead<{
      events: Array<{ messageId: string; type: string; event: string | null }>;
    }>('/v1/events?limit=25', 'acme');
    expect((await tableRows(page, '[data-panel="events"]')).map((row) => [row[1], row[2]])).toEqual(
      events.events.map((event) => [event.type, event.event ?? '–']),
    );

    await page.locator('[data-panel="series"] [name="metric"]').selectOption('dau');
    await page.locator('[data-panel="series"] [name="interval"]').selectOption('day');
    await panelsReady(page);
    await page.screenshot({ path: join(SCREENSHOTS, 'desktop.png'), fullPage: true });
    await page.close();
  });

  it('switches tenants with the admin tenant picker, and follows range and time zone', async () => {
    const page = await signedIn();
    const acme = await expectKpisMatch(page, 'acme');
    await page.locator('.scope [name="tenant"]').selectOption('globex');
    await panelsReady(page);
    const globex = await expectKpisMatch(page, 'globex');
    expect(globex.mau).not.toBe(acme.mau);
    const firstEvent = await page
      .locator('[data-panel="events"] tbody tr td:nth-child(4)')
      .first()
      .textContent();
    expect(firstEvent).toMatch(/^(globex-|–)/);

    await page.locator('.scope [name="range"]').selectOption('7');
    await panelsReady(page);
    const { from, to } = await scopeOf(page);
    expect(from).toBe(shift(to, -6));
    await expectKpisMatch(page, 'globex');

    await page.locator('.scope [name="tz"]').selectOption('America/New_York');
    await panelsReady(page);
    // The preset's last day is today in the new zone: between 00:00 and 05:00 UTC, the day before.
    const zoned = await scopeOf(page);
    expect(zoned.tz).toBe('America/New_York');
    expect(zoned.from).toBe(shift(zoned.to, -6));
    expect([to, shift(to, -1)]).toContain(zoned.to);
    await expectKpisMatch(page, 'globex');

    await page.locator('.scope [name="from"]').fill(shift(zoned.to, -20));
    await panelsReady(page);
    expect(await page.locator('.scope [name="range"]').inputValue()).toBe('custom');
    await expectKpisMatch(page, 'globex');
    // A custom range is kept in the address: the link opens the same view.
    const link = page.url();
    expect(new URL(link).hash).toBe(
      `#from=${shift(zoned.to, -20)}&to=${zoned.to}&tz=America%2FNew_York`,
    );
    // A new tab has its own sessionStorage: sign in again; the admin's first tenant is shown.
    const linked = await context.newPage();
    await linked.goto(link);
    await signIn(linked, ADMIN_KEY);
    await panelsReady(linked);
    expect(await scopeOf(linked)).toEqual({
      from: shift(zoned.to, -20),
      to: zoned.to,
      tz: 'America/New_York',
    });
    await expectKpisMatch(linked, 'acme');
    await linked.close();
    await page.close();
  });

  it('filters and pages the events table, and exports the filtered events as CSV', async () => {
    const page = await signedIn();
    const panel = page.locator('[data-panel="events"]');
    const pageOne = await adminRead<{
      events: Array<{ messageId: string; userId: string | null }>;
      nextCursor: string;
    }>('/v1/events?limit=25', 'acme');
    const pageTwo = await adminRead<{
      events: Array<{ messageId: string; userId: string | null; event: string | null }>;
    }>(`/v1/events?limit=25&cursor=${pageOne.nextCursor}`, 'acme');
    const eventColumn = async () =>
      (await tableRows(page, '[data-panel="events"]')).map((row) => row[2]);
    await panel.getByRole('button', { name: 'Older →' }).click();
    await panelsReady(page);
    expect(await panel.locator('.page-label').textContent()).toBe('Page 2');
    expect(await eventColumn()).toEqual(pageTwo.events.map((event) => event.event ?? '–'));
    await panel.getByRole('button', { name: '← Newer' }).click();
    await panelsReady(page);
    expect(await panel.locator('.page-label').textContent()).toBe('Page 1');
    expect(await panel.getByRole('button', { name: '← Newer' }).isDisabled()).toBe(true);

    await panel.locator('[name="type"]').selectOption('track');
    await panel.locator('[name="event"]').fill('payment_completed');
    await panel.getByRole('button', { name: 'Apply' }).click();
    await panelsReady(page);
    const payments = await adminRead<{
      events: Array<{ event: string; userId: string; revenue: number }>;
    }>('/v1/events?type=track&event=payment_completed&limit=25', 'acme');
    expect(payments.events.length).toBeGreaterThan(0);
    expect(
      (await tableRows(page, '[data-panel="events"]')).map((row) => [row[2], row[3], row[6]]),
    ).toEqual(
      payments.events.map((event) => ['payment_completed', event.userId, money(event.revenue)]),
    );

    const download = page.waitForEvent('download');
    await panel.getByRole('button', { name: 'Export CSV' }).click();
    const file = await (await download).path();
    const expected = await fetch(
      `${harness.url}/v1/export.csv?type=track&event=payment_completed&tenant=acme`,
      {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      },
    );
    const csv = readFileSync(file, 'utf8');
    expect(csv).toBe(await expected.text());
    expect(csv.split('\n').length).toBeGreaterThan(payments.events.length);
    await page.close();
  });

  it('signs a tenant key in without a tenant picker, on its own tenant', async () => {
    const page = await signedIn(ACME_READ_KEY);
    expect(await page.locator('.scope [name="tenant"]').count()).toBe(0);
    await expectKpisMatch(page, 'acme');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByLabel('Read key').isVisible()).toBe(true);
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual([]);
    await page.close();
  });

  it('fits a phone-width screen without horizontal scrolling', async () => {
    const page = await signedIn(ADMIN_KEY, { width: 390, height: 844 });
    const overflow = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
    }));
    expect(overflow.scroll).toBeLessThanOrEqual(overflow.client);
    await page.screenshot({ path: join(SCREENSHOTS, 'phone.png') });
    await page.screenshot({ path: join(SCREENSHOTS, 'phone-full.png'), fullPage: true });
    await page.close();
  });

  it('lets the keyboard reach every control', async () => {
    const page = await openPage();
    // The key field has focus on arrival: type and submit with Enter.
    await page.keyboard.type(ADMIN_KEY);
    await page.keyboard.press('Enter');
    await panelsReady(page);
    const reached = new Set<string>();
    for (let step = 0; step < 150; step++) {
      await page.keyboard.press('Tab');
      reached.add(
        await page.evaluate(() => {
          const element = document.activeElement as HTMLElement | null;
          if (!element) return '';
          return element.getAttribute('name') ?? element.textContent?.trim() ?? element.tagName;
        }),
      );
    }
    for (const control of [
      'tenant',
      'range',
      'from',
      'to',
      'tz',
      'Sign out',
      'metric',
      'interval',
      'step',
      'Add step',
      'Run funnel',
      'periods',
      'Update',
      'model',
      'type',
      'userId',
      'Apply',
      'Export CSV',
      'Older →',
    ]) {
      expect(reached, `Tab reaches ${control}`).toContain(control);
    }
    // The tenant picker works from the keyboard.
    await page.locator('.scope [name="tenant"]').focus();
    await page.keyboard.press('ArrowDown');
    await panelsReady(page);
    expect(await page.locator('.scope [name="tenant"]').inputValue()).toBe('globex');
    await page.close();
  });
});
