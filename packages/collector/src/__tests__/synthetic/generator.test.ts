import { type AnalyticsEvent, createPiiFilter, type StepContext } from '@sightline/core';
import { validateEvent } from '@sightline/core/schema';
import { describe, expect, it } from 'vitest';
import type { RawEvent } from './catalog';
import { generateEvents, toBatches } from './generator';
import { MARKETING_USER_ID } from './marketing';
import { createReference } from './reference';
import { createDataset, type Row } from './referenceRows';
import { dayOf } from './referenceTime';

const OPTIONS = { seed: 7, users: 300, days: 60, start: '2024-03-01' };
const events = generateEvents(OPTIONS);
const data = createDataset(events);

describe('generateEvents', () => {
  it('gives the same events for the same seed', () => {
    expect(generateEvents(OPTIONS)).toEqual(events);
  });

  it('gives other events for another seed', () => {
    const other = generateEvents({ ...OPTIONS, seed: 8 });
    expect(other.map((event) => event.timestamp)).not.toEqual(
      events.map((event) => event.timestamp),
    );
  });

  it('gives unique message ids, timestamps in order, no sentAt', () => {
    expect(new Set(events.map((event) => event.messageId)).size).toBe(events.length);
    const times = events.map((event) => Date.parse(event.timestamp));
    expect(times.every((time, i) => i === 0 || time >= times[i - 1]!)).toBe(true);
    expect(
      events.every((event) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(event.timestamp)),
    ).toBe(true);
    expect(events.some((event) => 'sentAt' in event)).toBe(false);
  });

  it('gives events the collector accepts, which its default PII filter leaves as they are', () => {
    const pii = createPiiFilter();
    const context: StepContext = { drop: () => null, hold: () => null, consent: () => 'granted' };
    for (const event of events) {
      expect(validateEvent(event).success).toBe(true);
      // The same object back means nothing was redacted: stored rows match the raw events.
      expect(pii(event as unknown as AnalyticsEvent, context)).toBe(event);
    }
  });

  it('gives each event its own nested objects', () => {
    const objects = events.flatMap((event) => [
      event.properties,
      event.context,
      event.context?.page,
    ]);
    const present = objects.filter((value) => value !== undefined);
    expect(new Set(present).size).toBe(present.length);
  });

  it('never gives two events of one user key the same timestamp', () => {
    for (const rows of data.byKey.values()) {
      expect(new Set(rows.map((row) => row.time)).size).toBe(rows.length);
    }
  });

  it('generates 2,000 users over 60 days, in batches of at most 500', () => {
    const large = generateEvents({ seed: 1, users: 2000, days: 60, start: '2024-01-01' });
    expect(large.length).toBeGreaterThan(50_000);
    const batches = toBatches(large);
    expect(batches.every((batch) => batch.length <= 500)).toBe(true);
    expect(batches.flat()).toEqual(large);
    expect(Buffer.byteLength(JSON.stringify({ batch: batches[0] }))).toBeLessThan(500 * 1024);
  });
});

describe('the generated data set holds every case the metrics must handle', () => {
  const rowsOf = (predicate: (row: Row) => boolean) => data.rows.filter(predicate);
  const track = (name: string) => rowsOf((row) => row.type === 'track' && row.name === name);
  const links = new Map<string, Set<string>>();
  for (const row of data.rows) {
    const anonymous = row.type === 'alias' ? row.previousId : row.anonymousId;
    if (anonymous && row.userId) {
      links.set(anonymous, (links.get(anonymous) ?? new Set()).add(row.userId));
    }
  }

  it('anonymous visitors who later sign up, stitched into one user key', () => {
    const stitched = [...data.byKey].filter(
      ([key, rows]) =>
        rows[0]!.userId === null && rows[0]!.anonymousId !== key && rows.some((r) => r.userId),
    );
    expect(stitched.length).toBeGreaterThan(20);
    // …and, after signup, events carrying only the anonymous id, only the user id, or both.
    const linkedAt = new Map<string, number>();
    for (const row of data.rows) {
      if (row.userId && !linkedAt.has(row.key)) linkedAt.set(row.key, row.time);
    }
    const afterSignup = (row: Row) =>
      row.time > (linkedAt.get(row.key) ?? Number.POSITIVE_INFINITY) && row.type !== 'identify';
    expect(
      rowsOf((row) => afterSignup(row) && !row.userId && !!row.anonymousId).length,
    ).toBeGreaterThan(50);
    expect(
      rowsOf((row) => afterSignup(row) && !!row.userId && !row.anonymousId).length,
    ).toBeGreaterThan(50);
    expect(
      rowsOf((row) => afterSignup(row) && !!row.userId && !!row.anonymousId).length,
    ).toBeGreaterThan(50);
  });

  it('alias links, anonymous ids linked to two user ids, and a same-instant tie', () => {
    expect(rowsOf((row) => row.type === 'alias' && row.previousId !== null).length).toBeGreaterThan(
      0,
    );
    const doubly = [...links].filter(([, users]) => users.size >= 2);
    expect(doubly.length).toBeGreaterThanOrEqual(2);
    const linkTimes = rowsOf((row) => row.type === 'identify' || row.type === 'alias');
    const tie = linkTimes.some((a) =>
      linkTimes.some(
        (b) =>
          a !== b &&
          a.time === b.time &&
          (a.anonymousId ?? a.previousId) === (b.anonymousId ?? b.previousId) &&
          a.userId !== b.userId,
      ),
    );
    expect(tie).toBe(true);
    // A second device: one user id linked from two anonymous ids.
    const byUser = new Map<string, number>();
    for (const [, users] of links)
      for (const user of users) byUser.set(user, (byUser.get(user) ?? 0) + 1);
    expect([...byUser.values()].some((count) => count >= 2)).toBe(true);
  });

  it('UTM in the page URL, in context.campaign, in both (context wins), and referrers', () => {
    const raw = (row: Row) => row.raw as RawEvent;
    expect(
      rowsOf((row) => !raw(row).context?.campaign && row.utmSource === 'newsletter').length,
    ).toBeGreaterThan(0);
    expect(
      rowsOf((row) => !!raw(row).context?.campaign && row.utmSource === 'google').length,
    ).toBeGreaterThan(0);
    expect(
      rowsOf(
        (row) =>
          row.utmSource === 'facebook' &&
          raw(row).context!.page!.url.includes('utm_source=partner'),
      ).length,
    ).toBeGreaterThan(0);
    const domains = new Set(data.rows.map((row) => row.referrerDomain));
    for (const domain of ['google.com', 'news.ycombinator.com', 't.co', null]) {
      expect(domains.has(domain)).toBe(true);
    }
  });

  it('a funnel with drop-off, delays over 1 and 7 days, and repeat payments', () => {
    const started = track('signup_started').length;
    const completed = track('signup_completed').length;
    const projects = track('project_created').length;
    const payers = new Set(track('payment_completed').map((row) => row.key)).size;
    expect(started).toBeGreaterThan(completed);
    expect(completed).toBeGreaterThan(projects);
    expect(projects).toBeGreaterThan(payers);
    const gaps = [...data.byKey.values()].flatMap((rows) => {
      const signup = rows.find((row) => row.name === 'signup_started');
      const payment = rows.find((row) => row.name === 'payment_completed');
      return signup && payment ? [payment.time - signup.time] : [];
    });
    expect(gaps.some((gap) => gap > 86_400_000 && gap < 7 * 86_400_000)).toBe(true);
    expect(gaps.some((gap) => gap > 7 * 86_400_000)).toBe(true);
    const repeat = [...data.byKey.values()].some(
      (rows) =>
        new Set(
          rows
            .filter((row) => row.name === 'payment_completed')
            .map((row) => row.raw.timestamp.slice(0, 7)),
        ).size >= 2,
    );
    expect(repeat).toBe(true);
    const plans = new Set(track('payment_completed').map((row) => row.properties.plan));
    expect([...plans].sort()).toEqual(['pro', 'team']);
  });

  it('revenue as numbers, decimal strings, non-numeric values, and on page events (ignored)', () => {
    const revenues = track('payment_completed').map((row) => row.properties.revenue);
    expect(revenues.some((value) => typeof value === 'number' && !Number.isInteger(value))).toBe(
      true,
    );
    expect(
      revenues.some((value) => typeof value === 'string' && /^\s*\d+\.\d\d\s*$/.test(value)),
    ).toBe(true);
    expect(track('payment_completed').some((row) => row.revenue === null)).toBe(true);
    expect(track('refund_issued').some((row) => (row.revenue ?? 0) < 0)).toBe(true);
    expect(
      rowsOf((row) => row.type === 'page' && row.properties.revenue !== undefined).length,
    ).toBeGreaterThan(0);
  });

  it('ad spend with numeric amounts, and a property on some events only', () => {
    const spend = track('ad_spend');
    expect(spend.length).toBeGreaterThan(20);
    expect(
      spend.every(
        (row) => row.key === MARKETING_USER_ID && typeof row.properties.amount === 'number',
      ),
    ).toBe(true);
    const variants = new Set(track('signup_started').map((row) => row.properties.variant));
    expect(variants).toEqual(new Set(['a', 'b', 2, undefined]));
  });

  it('events around UTC midnight, which other time zones move to another day', () => {
    const minuteOfDay = (row: Row) => (row.time % 86_400_000) / 60_000;
    expect(rowsOf((row) => minuteOfDay(row) > 1425).length).toBeGreaterThan(100);
    expect(rowsOf((row) => minuteOfDay(row) < 15).length).toBeGreaterThan(100);
    for (const tz of ['America/Los_Angeles', 'Asia/Kolkata', 'Pacific/Auckland']) {
      const moved = data.rows.filter((row) => dayOf(row.time, tz) !== dayOf(row.time, 'UTC'));
      expect(moved.length).toBeGreaterThan(1000);
    }
  });

  it('users arriving on different days, churning, and coming back after a month', () => {
    const reference = createReference(events);
    const query = { from: '2024-03-01', to: '2024-04-29', tz: 'UTC', interval: 'day' as const };
    const newUsers = reference.series('new_users', query).map((point) => point.value);
    expect(new Set(newUsers).size).toBeGreaterThan(3);
    const comeback = [...data.byKey.values()].some((rows) =>
      rows.some((row, i) => i > 0 && row.time - rows[i - 1]!.time > 30 * 86_400_000),
    );
    expect(comeback).toBe(true);
    const april = reference.dashboard({ from: '2024-04-01', to: '2024-04-29', tz: 'UTC' });
    expect(april.churn).toBeGreaterThan(0.05);
    expect(april.churn).toBeLessThan(0.95);
    expect(rowsOf((row) => typeof row.raw.context?.sessionId === 'number').length).toBeGreaterThan(
      0,
    );
  });
});
