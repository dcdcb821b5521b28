import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { erasureSubjectHash } from '../privacy/subject';
import { render, sql } from '../query/sql';
import type { ApiEvent } from '../read/apiEvent';
import { type HttpCollector, ingest, readApi, readJson, startHttpCollector } from './httpCollector';
import { eraseOverHttp, SHARED_DEVICE } from './privacyFixtures';

/**
 * The privacy API over real HTTP against the real collector and DuckDB: access export, erasure
 * verified by its effects (events API, store counts, links, audit), tenant isolation and auth.
 */
const WRITE_ACME = 'wk_privacy_acme_1234';
const WRITE_OTHER = 'wk_privacy_other_123';
const READ_ACME = 'rk_privacy_acme_1234';
const READ_OTHER = 'rk_privacy_other_123';
const ADMIN = 'rk_privacy_admin_123';

interface UserExport {
  userId: string;
  anonymousIds: string[];
  events: ApiEvent[];
  identityLinks: Array<{ anonymousId: string; userId: string; firstSeen: string }>;
}
interface Erasure {
  tenant: string;
  subjectHash: string;
  actor: string;
  erasedAt: string;
  eventsDeleted: number;
  linksDeleted: number;
}

const actorOf = (key: string) => `rk_${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;

let http: HttpCollector;

async function userEvents(userId: string, key = READ_ACME): Promise<string[]> {
  const page = await readJson<{ events: ApiEvent[] }>(
    http.url,
    `/v1/events?userId=${encodeURIComponent(userId)}&limit=1000`,
    key,
  );
  return page.events.map((event) => event.messageId).sort();
}

function exportOf(userId: string, key = READ_ACME, status = 200): Promise<UserExport> {
  return readJson<UserExport>(http.url, `/v1/users/${encodeURIComponent(userId)}/export`, key, {
    status,
  });
}

async function dailyUsageTotal(tenant: string): Promise<number> {
  const [row] = await http.store.query(
    render(sql`SELECT coalesce(sum(count), 0) AS total FROM daily_usage WHERE tenant = ${tenant}`),
  );
  return Number(row?.total);
}

beforeEach(async () => {
  http = await startHttpCollector({
    writeKeys: [`${WRITE_ACME}=acme`, `${WRITE_OTHER}=other`],
    readKeys: [`${READ_ACME}=acme`, `${READ_OTHER}=other`, `${ADMIN}=*`],
  });
  await ingest(http.url, WRITE_ACME, SHARED_DEVICE.events);
  await ingest(http.url, WRITE_OTHER, [
    { type: 'track', event: 'Other', userId: 'u-1', anonymousId: 'anon-a', messageId: 'o1' },
  ]);
});

afterEach(async () => {
  await http.close();
});

describe('GET /v1/users/:id/export', () => {
  it('returns every event of the user, by userId and by linked anonymous ids, and its links', async () => {
    const data = await exportOf('u-1');
    expect(Object.keys(data)).toEqual(['userId', 'anonymousIds', 'events', 'identityLinks']);
    expect(data.userId).toBe('u-1');
    expect(data.anonymousIds).toEqual(SHARED_DEVICE.erasedLinks);
    expect(data.events.map((event) => event.messageId)).toEqual(SHARED_DEVICE.erased);
    expect(data.events.find((event) => event.messageId === 'p2')?.traits).toEqual({
      plan: 'pro',
      seats: 3,
    });
    expect(data.identityLinks).toEqual([
      { anonymousId: 'old-1', userId: 'u-1', firstSeen: '2024-05-01T08:00:00.000Z' },
      { anonymousId: 'anon-a', userId: 'u-1', firstSeen: '2024-05-01T10:00:00.000Z' },
      { anonymousId: 'anon-s', userId: 'u-1', firstSeen: '2024-05-03T10:00:00.000Z' },
    ]);
  });

  it('returns empty lists for an unknown user', async () => {
    expect(await exportOf('nobody')).toEqual({
      userId: 'nobody',
      anonymousIds: [],
      events: [],
      identityLinks: [],
    });
  });
});

describe('DELETE /v1/users/:id', () => {
  it('erases the user’s events and links, keeps other users’ data, and audits it', async () => {
    // Before: the events API, the store and the export all see the user.
    expect(await userEvents('u-1')).toEqual([...SHARED_DEVICE.erased].sort());
    expect(await userEvents('u-2')).toEqual(['p5', 'p7']);
    expect(await http.store.countEvents('acme')).toBe(SHARED_DEVICE.events.length);
    const usage = await dailyUsageTotal('acme');

    expect(await eraseOverHttp(http.url, READ_ACME, 'u-1')).toEqual({
      events: SHARED_DEVICE.erased.length,
      identityLinks: SHARED_DEVICE.erasedLinks.length,
    });

    expect(await userEvents('u-1')).toEqual([]);
    // The shared device's anonymous page view went with u-1 (privacy first); u-2's own events stay.
    expect(await userEvents('u-2')).toEqual(['p5', 'p7']);
    expect(await userEvents('u-9')).toEqual(['p10']);
    expect(await http.store.countEvents('acme')).toBe(SHARED_DEVICE.kept.length);
    expect(await http.store.identityLinks('acme')).toEqual([
      { anonymousId: 'anon-s', userId: 'u-2' },
      { anonymousId: 'anon-z', userId: 'u-9' },
    ]);
    expect(await exportOf('u-1')).toEqual({
      userId: 'u-1',
      anonymousIds: [],
      events: [],
      identityLinks: [],
    });
    // Daily counts hold no user data and outlive raw events.
    expect(await dailyUsageTotal('acme')).toBe(usage);
    // Another tenant's user of the same id is untouched.
    expect(await userEvents('u-1', READ_OTHER)).toEqual(['o1']);

    const audit = await readJson<{ erasures: Erasure[] }>(http.url, '/v1/audit/erasures', ADMIN);
    expect(audit.erasures).toHaveLength(1);
    const [entry] = audit.erasures;
    expect(entry).toEqual({
      tenant: 'acme',
      subjectHash: createHash('sha256').update('acme:u-1').digest('hex'),
      actor: actorOf(READ_ACME),
      erasedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      eventsDeleted: SHARED_DEVICE.erased.length,
      linksDeleted: SHARED_DEVICE.erasedLinks.length,
    });
    expect(Math.abs(Date.parse(entry!.erasedAt) - Date.now())).toBeLessThan(60_000);
    expect(entry?.subjectHash).toBe(erasureSubjectHash('acme', 'u-1'));
    // Neither the raw user id nor the key is kept.
    const [raw] = await http.store.query(
      render(sql`SELECT count(*) AS n FROM erasure_audit
        WHERE subject_hash = 'u-1' OR actor = ${READ_ACME} OR subject_hash LIKE '%u-1%'`),
    );
    expect(Number(raw?.n)).toBe(0);

    // Erasing again finds nothing, and is audited too.
    expect(await eraseOverHttp(http.url, READ_ACME, 'u-1')).toEqual({
      events: 0,
      identityLinks: 0,
    });
  });

  it('erases a visitor known only by an anonymous id', async () => {
    await ingest(http.url, WRITE_ACME, [
      { type: 'page', name: 'Home', anonymousId: 'visitor-9', messageId: 'v1' },
      { type: 'track', event: 'Clicked', anonymousId: 'visitor-9', messageId: 'v2' },
    ]);
    expect(await userEvents('visitor-9')).toEqual(['v1', 'v2']);
    expect(await eraseOverHttp(http.url, READ_ACME, 'visitor-9')).toEqual({
      events: 2,
      identityLinks: 0,
    });
    expect(await userEvents('visitor-9')).toEqual([]);
  });

  it('stores an event resent after the erasure again (the writer forgot its keys)', async () => {
    await eraseOverHttp(http.url, READ_ACME, 'u-1');
    const resent = SHARED_DEVICE.events.filter((event) => event.messageId === 'p3');
    await ingest(http.url, WRITE_ACME, resent);
    expect(await userEvents('u-1')).toEqual(['p3']);
  });

  it('handles ids that need URL encoding', async () => {
    const id = 'user/with space?&=#é';
    await ingest(http.url, WRITE_ACME, [
      { type: 'track', event: 'x', userId: id, messageId: 'enc' },
    ]);
    expect((await exportOf(id)).events.map((event) => event.messageId)).toEqual(['enc']);
    expect(await eraseOverHttp(http.url, READ_ACME, id)).toEqual({ events: 1, identityLinks: 0 });
  });
});

describe('tenant isolation', () => {
  it('a key of another tenant exports and erases only its own tenant’s user', async () => {
    const data = await exportOf('u-1', READ_OTHER);
    expect(data.events.map((event) => event.messageId)).toEqual(['o1']);
    expect(await eraseOverHttp(http.url, READ_OTHER, 'u-1')).toEqual({
      events: 1,
      identityLinks: 1,
    });
    expect(await userEvents('u-1')).toEqual([...SHARED_DEVICE.erased].sort());
    expect(await http.store.countEvents('acme')).toBe(SHARED_DEVICE.events.length);
  });

  it('refuses ?tenant= naming another tenant, and admin keys without ?tenant=', async () => {
    for (const method of ['GET', 'DELETE']) {
      const path =
        method === 'GET' ? '/v1/users/u-1/export?tenant=acme' : '/v1/users/u-1?tenant=acme';
      const response = await readApi(http.url, path, READ_OTHER, method);
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        'forbidden_tenant',
      );
      const admin = await readApi(http.url, path.replace(/\?tenant=acme$/, ''), ADMIN, method);
      expect(admin.status).toBe(400);
      expect(((await admin.json()) as { error: { code: string } }).error.code).toBe(
        'tenant_required',
      );
    }
    expect(await http.store.countEvents('acme')).toBe(SHARED_DEVICE.events.length);
  });

  it('an admin key works on the tenant it names', async () => {
    const data = await readJson<UserExport>(http.url, '/v1/users/u-1/export?tenant=acme', ADMIN);
    expect(data.events).toHaveLength(SHARED_DEVICE.erased.length);
    expect(await eraseOverHttp(http.url, ADMIN, 'u-1', 'acme')).toEqual({
      events: SHARED_DEVICE.erased.length,
      identityLinks: SHARED_DEVICE.erasedLinks.length,
    });
    expect(await userEvents('u-1', READ_OTHER)).toEqual(['o1']);
  });
});

describe('GET /v1/audit/erasures', () => {
  it('lists erasures newest first, all tenants or one with ?tenant=, or one subject', async () => {
    await eraseOverHttp(http.url, READ_ACME, 'u-1');
    await eraseOverHttp(http.url, READ_OTHER, 'u-1');
    const all = await readJson<{ erasures: Erasure[] }>(http.url, '/v1/audit/erasures', ADMIN);
    expect(all.erasures.map((entry) => [entry.tenant, entry.actor])).toEqual([
      ['other', actorOf(READ_OTHER)],
      ['acme', actorOf(READ_ACME)],
    ]);
    const other = await readJson<{ erasures: Erasure[] }>(
      http.url,
      '/v1/audit/erasures?tenant=other',
      ADMIN,
    );
    expect(other.erasures).toEqual([
      expect.objectContaining({ tenant: 'other', eventsDeleted: 1, linksDeleted: 1 }),
    ]);
    const bySubject = await readJson<{ erasures: Erasure[] }>(
      http.url,
      `/v1/audit/erasures?subjectHash=${erasureSubjectHash('acme', 'u-1')}`,
      ADMIN,
    );
    expect(bySubject.erasures.map((entry) => entry.tenant)).toEqual(['acme']);
    const limited = await readJson<{ erasures: Erasure[] }>(
      http.url,
      '/v1/audit/erasures?limit=1',
      ADMIN,
    );
    expect(limited.erasures).toHaveLength(1);
  });

  it('is for admin keys only', async () => {
    const response = await readApi(http.url, '/v1/audit/erasures', READ_ACME);
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'admin_key_required',
    );
  });
});

describe('auth', () => {
  it.each([
    ['no key', undefined],
    ['a write key', WRITE_ACME],
    ['an unknown key', 'rk_unknown_12345678'],
  ])('answers 401 to %s on every privacy endpoint', async (_name, key) => {
    for (const [method, path] of [
      ['GET', '/v1/users/u-1/export'],
      ['DELETE', '/v1/users/u-1'],
      ['GET', '/v1/audit/erasures'],
    ] as const) {
      const response = await readApi(http.url, path, key, method);
      expect(response.status, `${method} ${path}`).toBe(401);
    }
    expect(await http.store.countEvents('acme')).toBe(SHARED_DEVICE.events.length);
  });

  it('answers 405 naming DELETE for GET /v1/users/:id', async () => {
    const response = await readApi(http.url, '/v1/users/u-1', READ_ACME);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('DELETE');
  });
});
