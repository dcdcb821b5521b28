import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../read/apiEvent';
import { type HttpCollector, ingest, readApi, readJson, startHttpCollector } from './httpCollector';

/**
 * `GET /v1/events` over real HTTP against the real collector and DuckDB: fields, filters, the
 * stitched user key, tenant scoping, auth, and keyset pagination that stays stable while events
 * keep arriving.
 */
const WRITE_ACME = 'wk_events_acme_1234';
const WRITE_OTHER = 'wk_events_other_123';
const READ_ACME = 'rk_events_acme_1234';
const READ_OTHER = 'rk_events_other_123';
const ADMIN = 'rk_events_admin_123';
const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);

interface EventsPage {
  events: ApiEvent[];
  nextCursor: string | null;
}

let http: HttpCollector;

const at = (iso: string) => `2024-05-${iso}Z`;

/** Acme's events in arrival order (one batch each, so arrival order is this order). */
const ACME_EVENTS: Array<Record<string, unknown>> = [
  {
    type: 'page',
    name: 'Home',
    anonymousId: 'anon-a',
    messageId: 'e1',
    timestamp: at('01T10:00:00'),
  },
  {
    type: 'identify',
    userId: 'u-1',
    anonymousId: 'anon-a',
    messageId: 'e2',
    timestamp: at('01T11:00:00'),
    traits: { plan: 'free' },
  },
  {
    type: 'track',
    event: 'Plan Upgraded',
    userId: 'u-1',
    messageId: 'e3',
    timestamp: at('02T09:00:00'),
    sentAt: new Date(NOW).toISOString(), // the client clock is right: no skew correction
    properties: { plan: 'pro', revenue: 49, currency: 'EUR' },
    context: {
      campaign: { source: 'newsletter', medium: 'email', name: 'spring' },
      page: { referrer: 'https://www.example.org/post' },
      sessionId: 's-1',
    },
  },
  {
    type: 'track',
    event: 'Viewed',
    anonymousId: 'anon-b',
    messageId: 'e4',
    timestamp: at('03T00:00:00'),
  },
  // anon-c is linked to u-3 first by arrival, but to u-2 by an earlier event time: u-2 wins.
  {
    type: 'identify',
    userId: 'u-3',
    anonymousId: 'anon-c',
    messageId: 'e5',
    timestamp: at('04T00:00:00'),
  },
  {
    type: 'identify',
    userId: 'u-2',
    anonymousId: 'anon-c',
    messageId: 'e6',
    timestamp: at('01T08:00:00'),
  },
  {
    type: 'track',
    event: 'Viewed',
    anonymousId: 'anon-c',
    messageId: 'e7',
    timestamp: at('05T23:59:59.999'),
  },
  { type: 'group', userId: 'u-1', groupId: 'g-1', messageId: 'e8', timestamp: at('06T00:00:00') },
];

async function events(query: string, key = READ_ACME): Promise<EventsPage> {
  return readJson<EventsPage>(http.url, `/v1/events${query}`, key);
}

const ids = (page: EventsPage) => page.events.map((event) => event.messageId);

beforeAll(async () => {
  http = await startHttpCollector({
    writeKeys: [`${WRITE_ACME}=acme`, `${WRITE_OTHER}=other`],
    readKeys: [`${READ_ACME}=acme`, `${READ_OTHER}=other`, `${ADMIN}=*`],
    read: { maxRangeDays: 31 },
    now: () => NOW,
  });
  for (const event of ACME_EVENTS) await ingest(http.url, WRITE_ACME, [event]);
  await ingest(http.url, WRITE_OTHER, [
    {
      type: 'track',
      event: 'Secret',
      userId: 'u-1',
      messageId: 'o1',
      timestamp: at('02T00:00:00'),
    },
  ]);
});

afterAll(async () => {
  await http.close();
});

describe('GET /v1/events', () => {
  it('lists the tenant’s events newest first by arrival, each with every documented field', async () => {
    const page = await events('');
    expect(ids(page)).toEqual(['e8', 'e7', 'e6', 'e5', 'e4', 'e3', 'e2', 'e1']);
    expect(page.nextCursor).toBeNull();
    const upgraded = page.events.find((event) => event.messageId === 'e3');
    expect(upgraded).toEqual({
      messageId: 'e3',
      type: 'track',
      event: 'Plan Upgraded',
      timestamp: '2024-05-02T09:00:00.000Z',
      receivedAt: new Date(NOW).toISOString(),
      sentAt: new Date(NOW).toISOString(),
      userId: 'u-1',
      anonymousId: null,
      sessionId: 's-1',
      groupId: null,
      previousId: null,
      utmSource: 'newsletter',
      utmMedium: 'email',
      utmCampaign: 'spring',
      utmTerm: null,
      utmContent: null,
      referrerDomain: 'example.org',
      revenue: 49,
      currency: 'EUR',
      browser: null,
      os: null,
      deviceType: null,
      ip: '127.0.0.0',
      properties: { plan: 'pro', revenue: 49, currency: 'EUR' },
      traits: {},
      context: expect.objectContaining({ sessionId: 's-1', ip: '127.0.0.0' }),
    });
    const identify = page.events.find((event) => event.messageId === 'e2');
    expect(identify).toMatchObject({
      type: 'identify',
      event: null,
      timestamp: '2024-05-01T11:00:00.000Z',
      sentAt: null,
      traits: { plan: 'free' },
    });
    expect(page.events.find((event) => event.messageId === 'e1')?.event).toBe('Home');
  });

  it('filters by type and event name', async () => {
    expect(ids(await events('?type=identify'))).toEqual(['e6', 'e5', 'e2']);
    expect(ids(await events('?event=Viewed'))).toEqual(['e7', 'e4']);
    expect(ids(await events('?type=track&event=Viewed'))).toEqual(['e7', 'e4']);
    expect(ids(await events('?event=Nothing'))).toEqual([]);
  });

  it('reads from/to dates as whole UTC days, both inclusive', async () => {
    expect(ids(await events('?from=2024-05-01&to=2024-05-01'))).toEqual(['e6', 'e2', 'e1']);
    // e7 at 23:59:59.999 on the 5th is inside `to=2024-05-05`; e8 at midnight of the 6th is not.
    expect(ids(await events('?from=2024-05-03&to=2024-05-05'))).toEqual(['e7', 'e5', 'e4']);
    expect(ids(await events('?from=2024-05-05'))).toEqual(['e8', 'e7']);
    expect(ids(await events('?to=2024-05-01'))).toEqual(['e6', 'e2', 'e1']);
  });

  it('reads ISO timestamps as instants, from inclusive and to exclusive', async () => {
    expect(ids(await events('?from=2024-05-01T10:00:00Z&to=2024-05-01T11:00:00Z'))).toEqual(['e1']);
    expect(
      ids(
        await events(
          `?from=${encodeURIComponent('2024-05-01T12:00:00+02:00')}&to=2024-05-01T11:00:00.001Z`,
        ),
      ),
    ).toEqual(['e2', 'e1']);
  });

  it('filters userId by the stitched user key of docs/metrics.md', async () => {
    // userId, plus anonymous events of anonymous ids linked to it.
    expect(ids(await events('?userId=u-1'))).toEqual(['e8', 'e3', 'e2', 'e1']);
    // anon-c's earliest link (by event time) is u-2, so its anonymous event is u-2's, not u-3's.
    expect(ids(await events('?userId=u-2'))).toEqual(['e7', 'e6']);
    expect(ids(await events('?userId=u-3'))).toEqual(['e5']);
    // An anonymous id never linked is its own user key; a linked one is not.
    expect(ids(await events('?userId=anon-b'))).toEqual(['e4']);
    expect(ids(await events('?userId=anon-a'))).toEqual([]);
    expect(ids(await events('?userId=u-1&type=track'))).toEqual(['e3']);
  });

  it('scopes every read to the key’s tenant', async () => {
    expect(ids(await events('?userId=u-1', READ_OTHER))).toEqual(['o1']);
    expect(ids(await events('?event=Secret'))).toEqual([]);
    expect(ids(await events('?tenant=other', ADMIN))).toEqual(['o1']);
    const forbidden = await readApi(http.url, '/v1/events?tenant=other', READ_ACME);
    expect(forbidden.status).toBe(403);
    const adminWithoutTenant = await readJson<{ error: { code: string; parameter: string } }>(
      http.url,
      '/v1/events',
      ADMIN,
      { status: 400 },
    );
    expect(adminWithoutTenant.error).toMatchObject({
      code: 'tenant_required',
      parameter: 'tenant',
    });
  });

  it.each([
    ['no key', undefined],
    ['a write key', WRITE_ACME],
    ['an unknown key', 'rk_unknown_12345678'],
  ])('answers 401 to %s', async (_name, key) => {
    const response = await readApi(http.url, '/v1/events', key);
    expect(response.status).toBe(401);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=ten', 'limit'],
    ['cursor=not-a-cursor', 'cursor'],
    [`cursor=${Buffer.from('v1:-3').toString('base64url')}`, 'cursor'],
    [`cursor=${Buffer.from('v2:12:').toString('base64url')}`, 'cursor'],
    [`cursor=${Buffer.from("v2:12'; DROP TABLE events; --").toString('base64url')}`, 'cursor'],
    [`cursor=${encodeURIComponent(Buffer.from('v2:12:e1').toString('base64'))}=`, 'cursor'],
    ['from=2024-02-30', 'from'],
    ['from=yesterday', 'from'],
    ['to=2024-05-01T10:00:00', 'to'], // no zone: ambiguous
    ['from=2024-05-02&to=2024-05-01', 'to'],
    ['from=2024-01-01&to=2024-03-01', 'to'], // over read.maxRangeDays (31)
    ['type=click', 'type'],
    ['userid=u-1', 'userid'],
  ])('answers 400 naming the parameter for %s', async (query, parameter) => {
    const body = await readJson<{ error: { code: string; parameter: string; message: string } }>(
      http.url,
      `/v1/events?${query}`,
      READ_ACME,
      { status: 400 },
    );
    expect(body.error.code).toBe('invalid_parameter');
    expect(body.error.parameter).toBe(parameter);
    expect(body.error.message).toMatch(new RegExp(`^${parameter}: `));
  });

  it('accepts a range of exactly read.maxRangeDays days', async () => {
    await events('?from=2024-05-01&to=2024-05-31');
  });
});

describe('GET /v1/events pagination', () => {
  /** Pages through `query` with `limit`, calling `between` after each page. */
  async function pageThrough(query: string, limit: number, between?: () => Promise<void>) {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const suffix: string = cursor === null ? '' : `&cursor=${cursor}`;
      const page: EventsPage = await events(`?${query}limit=${limit}${suffix}`);
      expect(page.events.length).toBeLessThanOrEqual(limit);
      seen.push(...ids(page));
      cursor = page.nextCursor;
      pages++;
      await between?.();
    } while (cursor !== null);
    return { seen, pages };
  }

  it('walks every event once, in the order of one unpaginated read', async () => {
    const all = ids(await events(''));
    const { seen, pages } = await pageThrough('', 3);
    expect(seen).toEqual(all);
    expect(pages).toBe(3);
    // A page that ends exactly at the last event has no next cursor.
    expect((await events('?limit=8')).nextCursor).toBeNull();
    expect((await events('?limit=7')).nextCursor).not.toBeNull();
  });

  it('writes cursors as v2:<seq>:<messageId> and still follows v1:<seq> cursors', async () => {
    const first = await events('?limit=2');
    const text = Buffer.from(first.nextCursor ?? '', 'base64url').toString('utf8');
    const [, seq, messageId] = /^v2:(\d+):(.+)$/.exec(text) ?? [];
    expect(messageId).toBe(first.events[1]?.messageId);
    const rest = ids(await events(`?limit=1000&cursor=${first.nextCursor}`));
    const legacy = Buffer.from(`v1:${seq}`).toString('base64url');
    expect(ids(await events(`?limit=1000&cursor=${legacy}`))).toEqual(rest);
    expect([...ids(first), ...rest]).toEqual(ids(await events('?limit=1000')));
  });

  it('keeps pages stable while events keep arriving: no duplicates, no gaps', async () => {
    const batch = (tag: string, count: number) =>
      Array.from({ length: count }, (_, index) => ({
        type: 'track',
        event: 'Paged',
        anonymousId: `pager-${tag}`,
        messageId: `${tag}-${index}`,
        timestamp: at('10T00:00:00'),
      }));
    await ingest(http.url, WRITE_ACME, batch('before', 60));
    const existing = ids(await events('?event=Paged&limit=1000'));
    expect(existing).toHaveLength(60);

    // New events land between every two pages…
    let round = 0;
    const interleaved = await pageThrough('event=Paged&', 7, () =>
      ingest(http.url, WRITE_ACME, batch(`between-${round++}`, 5)),
    );
    expect(interleaved.seen).toEqual(existing);

    // …and while the pages are being read.
    const snapshot = ids(await events('?event=Paged&limit=1000'));
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) await ingest(http.url, WRITE_ACME, batch(`during-${written++}`, 3));
    })();
    const concurrent = await pageThrough('event=Paged&', 9);
    writing = false;
    await writer;
    expect(written).toBeGreaterThan(1);
    expect(new Set(concurrent.seen).size).toBe(concurrent.seen.length);
    const seen = new Set(concurrent.seen);
    expect(snapshot.filter((id) => !seen.has(id))).toEqual([]);
    // Anything else it saw arrived before the first page was read, newest first.
    expect(concurrent.seen.slice(concurrent.seen.length - snapshot.length)).toEqual(snapshot);
  });
});
