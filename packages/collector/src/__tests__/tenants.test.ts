import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ConfigurationError } from '@sightline/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Collector, createCollector } from '../collector';
import { bearerToken, createKeyring, parseKey, writeKeyFromHeader } from '../keys';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import type { Store } from '../store/store';

const KEY_A = 'wk_tenant_a_12345678';
const KEY_B = 'wk_tenant_b_12345678';
const ADMIN_READ_KEY = 'rk_admin_12345678';
const READ_KEY_A = 'rk_tenant_a_12345678';

/** `tenant`, `message_id` and `event` of every stored row of the (closed) database at `path`. */
export async function readTenantRows(
  path: string,
): Promise<
  Array<{ tenant: string; message_id: string; event: string | null; properties: string }>
> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      'SELECT tenant, message_id, event, properties FROM events ORDER BY tenant, message_id',
    );
    return reader.getRowObjectsJS() as Array<{
      tenant: string;
      message_id: string;
      event: string | null;
      properties: string;
    }>;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function basic(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}

function batchRequest(body: Record<string, unknown>, authorization?: string): Request {
  return new Request('http://collector.test/v1/batch', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify(body),
  });
}

describe('tenants', () => {
  let dir: string;
  let dbPath: string;
  let store: Store;
  let collector: Collector;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sightline-'));
    dbPath = join(dir, 'events.duckdb');
    store = await createDuckDbStore({ path: dbPath });
    collector = createCollector({
      store,
      writeKeys: [`${KEY_A}=tenant-a`, { key: KEY_B, tenant: 'tenant-b' }],
      readKeys: [`${ADMIN_READ_KEY}=*`, `${READ_KEY_A}=tenant-a`],
    });
  });

  afterEach(async () => {
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the same messageId once per tenant: dedupe is per tenant', async () => {
    const event = {
      type: 'track',
      event: 'Signed Up',
      anonymousId: 'anon-1',
      messageId: 'shared-id-1',
    };
    for (const key of [KEY_A, KEY_B, KEY_A, KEY_B]) {
      const response = await collector.fetch(batchRequest({ batch: [event] }, basic(key)));
      expect(response.status).toBe(200);
    }
    expect(await store.countEvents('tenant-a')).toBe(1);
    expect(await store.countEvents('tenant-b')).toBe(1);
    await collector.close();
    expect((await readTenantRows(dbPath)).map((row) => [row.tenant, row.message_id])).toEqual([
      ['tenant-a', 'shared-id-1'],
      ['tenant-b', 'shared-id-1'],
    ]);
  });

  it('stamps every stored row with the tenant of the write key that sent it', async () => {
    const batchOf = (prefix: string) =>
      Array.from({ length: 3 }, (_, index) => ({
        type: 'track',
        event: `${prefix} ${index}`,
        anonymousId: 'anon',
        messageId: `${prefix}-${index}`,
      }));
    const [a, b] = await Promise.all([
      collector.fetch(batchRequest({ batch: batchOf('a') }, basic(KEY_A))),
      collector.fetch(batchRequest({ writeKey: KEY_B, batch: batchOf('b') })),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await collector.close();
    const rows = await readTenantRows(dbPath);
    expect(rows.map((row) => `${row.tenant}/${row.message_id}`)).toEqual([
      'tenant-a/a-0',
      'tenant-a/a-1',
      'tenant-a/a-2',
      'tenant-b/b-0',
      'tenant-b/b-1',
      'tenant-b/b-2',
    ]);
  });

  it('ignores every body field that names a tenant: a key of A cannot write into B', async () => {
    const response = await collector.fetch(
      batchRequest(
        {
          tenant: 'tenant-b',
          context: { tenant: 'tenant-b' },
          batch: [
            {
              type: 'track',
              event: 'Sneaky',
              anonymousId: 'anon',
              messageId: 'sneaky-1',
              tenant: 'tenant-b',
              context: { tenant: 'tenant-b' },
              properties: { tenant: 'tenant-b' },
            },
          ],
        },
        basic(KEY_A),
      ),
    );
    expect(response.status).toBe(200);
    const single = await collector.fetch(
      new Request('http://collector.test/v1/track', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basic(KEY_A) },
        body: JSON.stringify({
          event: 'Sneaky single',
          anonymousId: 'anon',
          messageId: 'sneaky-2',
          tenant: 'tenant-b',
        }),
      }),
    );
    expect(single.status).toBe(200);
    expect(await store.countEvents('tenant-b')).toBe(0);
    expect(await store.countEvents('tenant-a')).toBe(2);
    await collector.close();
    expect((await readTenantRows(dbPath)).map((row) => row.tenant)).toEqual([
      'tenant-a',
      'tenant-a',
    ]);
  });

  it('uses the Authorization header over a writeKey in the body', async () => {
    const response = await collector.fetch(
      batchRequest(
        {
          writeKey: KEY_B,
          batch: [{ type: 'track', event: 'x', anonymousId: 'anon', messageId: 'm-1' }],
        },
        basic(KEY_A),
      ),
    );
    expect(response.status).toBe(200);
    expect(await store.countEvents('tenant-a')).toBe(1);
    expect(await store.countEvents('tenant-b')).toBe(0);
  });

  it('refuses a read key as a write key', async () => {
    const response = await collector.fetch(
      batchRequest(
        { batch: [{ type: 'track', event: 'x', anonymousId: 'anon' }] },
        basic(ADMIN_READ_KEY),
      ),
    );
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'invalid_write_key',
    );
  });

  describe('GET /metrics', () => {
    const metrics = (authorization?: string) =>
      collector.fetch(
        new Request('http://collector.test/metrics', {
          headers: authorization ? { authorization } : {},
        }),
      );

    it('serves Prometheus text to an admin read key (tenant "*")', async () => {
      await collector.fetch(
        batchRequest({ batch: [{ type: 'track', event: 'x', anonymousId: 'anon' }] }, basic(KEY_A)),
      );
      const response = await metrics(`Bearer ${ADMIN_READ_KEY}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      expect(text).toContain('sightline_events_received_total{tenant="tenant-a"} 1');
      expect(text).toContain('sightline_events_stored_total{tenant="tenant-a"} 1');
    });

    it.each([
      ['a tenant read key', `Bearer ${READ_KEY_A}`],
      ['a write key', `Bearer ${KEY_A}`],
      ['a write key as Basic auth', basic(KEY_A)],
      ['an unknown key', 'Bearer rk_unknown_12345678'],
      ['no key', undefined],
    ])('answers 401 to %s', async (_name, authorization) => {
      const response = await metrics(authorization);
      expect(response.status).toBe(401);
      const body = (await response.json()) as {
        success: boolean;
        error: { code: string; message: string };
      };
      expect(body.success).toBe(false);
      expect(body.error.code).toBe('admin_key_required');
      expect(body.error.message).toContain('admin read key');
    });

    it('serves anyone with publicMetrics: true', async () => {
      const open = createCollector({
        store: 'duckdb::memory:',
        writeKeys: [KEY_A],
        publicMetrics: true,
      });
      try {
        const response = await open.fetch(new Request('http://collector.test/metrics'));
        expect(response.status).toBe(200);
        expect(await response.text()).toContain('# TYPE sightline_events_received_total counter');
      } finally {
        await open.close();
      }
    });
  });
});

describe('createKeyring', () => {
  const ring = createKeyring([
    { key: 'wk_alpha_12345678', tenant: 'alpha' },
    { key: 'wk_beta_123456789', tenant: 'beta' },
    { key: 'rk_root_123456789', tenant: '*' },
  ]);

  it('answers the tenant of each stored key', () => {
    expect(ring.tenantOf('wk_alpha_12345678')).toBe('alpha');
    expect(ring.tenantOf('wk_beta_123456789')).toBe('beta');
    expect(ring.tenantOf('rk_root_123456789')).toBe('*');
    expect(ring.size).toBe(3);
  });

  it.each([
    ['a prefix', 'wk_alpha_1234567'],
    ['one character off', 'wk_alpha_12345679'],
    ['a different case', 'WK_ALPHA_12345678'],
    ['a trailing space', 'wk_alpha_12345678 '],
    ['an extension', 'wk_alpha_123456780'],
    ['the empty string', ''],
    ['a very long string', `wk_alpha_12345678${'x'.repeat(100_000)}`],
  ])('answers undefined for %s', (_name, candidate) => {
    expect(ring.tenantOf(candidate)).toBeUndefined();
  });

  it('answers undefined for any key when empty', () => {
    expect(createKeyring([]).tenantOf('wk_alpha_12345678')).toBeUndefined();
  });

  it('refuses one key given to two tenants, naming the option', () => {
    expect(() =>
      createKeyring(
        [
          { key: 'wk_shared_12345678', tenant: 'alpha' },
          { key: 'wk_shared_12345678', tenant: 'beta' },
        ],
        'writeKeys',
      ),
    ).toThrow('Invalid option `writeKeys`: one key is given for tenants "alpha" and "beta"');
    // The same grant twice is harmless.
    expect(
      createKeyring([
        { key: 'wk_twice_12345678', tenant: 'alpha' },
        { key: 'wk_twice_12345678', tenant: 'alpha' },
      ]).tenantOf('wk_twice_12345678'),
    ).toBe('alpha');
  });
});

describe('parseKey', () => {
  it('reads KEY (tenant default), KEY=tenant and { key, tenant }', () => {
    expect(parseKey('wk_live_12345678', 'writeKeys')).toEqual({
      key: 'wk_live_12345678',
      tenant: 'default',
    });
    expect(parseKey(' wk_live_12345678 = acme ', 'writeKeys')).toEqual({
      key: 'wk_live_12345678',
      tenant: 'acme',
    });
    expect(parseKey('rk_admin_12345678=*', 'readKeys')).toEqual({
      key: 'rk_admin_12345678',
      tenant: '*',
    });
    expect(parseKey({ key: 'wk_obj_12345678', tenant: 'acme' }, 'writeKeys')).toEqual({
      key: 'wk_obj_12345678',
      tenant: 'acme',
    });
    expect(parseKey({ key: 'wk_obj_12345678' }, 'writeKeys')).toEqual({
      key: 'wk_obj_12345678',
      tenant: 'default',
    });
  });

  it('splits at the last "=", so a key may contain "="', () => {
    expect(parseKey('wk_a=b_12345678=acme', 'writeKeys')).toEqual({
      key: 'wk_a=b_12345678',
      tenant: 'acme',
    });
  });

  it.each([
    ['a short key', 'wk_1234'],
    ['a key with a space', 'wk_12 345678'],
    ['a key with a colon', 'wk:12345678'],
    ['an empty key', '=acme'],
  ])('refuses %s, naming the option and the fix', (_name, input) => {
    let error: unknown;
    try {
      parseKey(input, 'writeKeys');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).option).toBe('writeKeys');
    expect((error as Error).message).toBe(
      'Invalid option `writeKeys`: use keys of at least 8 characters without spaces or colons, optionally as KEY=tenant.',
    );
  });

  it('refuses a tenant that is not 1-64 safe characters, naming it', () => {
    expect(() => parseKey('rk_12345678=acme corp', 'readKeys')).toThrow(
      'Invalid option `readKeys`: tenant "acme corp" must be 1-64 letters, digits, "_", "." or "-" (or "*" for an admin key).',
    );
    expect(() => parseKey('rk_12345678=', 'readKeys')).toThrow('tenant "" must be 1-64 letters');
    expect(() => parseKey(`rk_12345678=${'t'.repeat(65)}`, 'readKeys')).toThrow(ConfigurationError);
  });

  it('refuses keys of the wrong type from JavaScript callers', () => {
    expect(() => parseKey(12345678901 as never, 'writeKeys')).toThrow(
      "Invalid option `writeKeys`: pass each key as 'KEY', 'KEY=tenant' or { key, tenant }.",
    );
    expect(() => parseKey({ key: 12345678901 } as never, 'writeKeys')).toThrow(
      'use keys of at least 8 characters',
    );
    expect(() => parseKey({ key: 'wk_12345678', tenant: 7 } as never, 'writeKeys')).toThrow(
      'tenant "7"',
    );
  });

  it('is what createCollector uses: a bad key fails at creation, naming the option', () => {
    expect(() => createCollector({ store: 'duckdb::memory:', writeKeys: ['short'] })).toThrow(
      'Invalid option `writeKeys`',
    );
    expect(() =>
      createCollector({
        store: 'duckdb::memory:',
        writeKeys: [KEY_A],
        readKeys: ['rk_12345678=bad tenant'],
      }),
    ).toThrow('Invalid option `readKeys`');
  });
});

describe('writeKeyFromHeader', () => {
  it("decodes Segment's Basic base64(key + ':')", () => {
    expect(writeKeyFromHeader(basic(KEY_A))).toBe(KEY_A);
    expect(writeKeyFromHeader(`basic ${Buffer.from(`${KEY_A}:`).toString('base64')}`)).toBe(KEY_A);
    expect(writeKeyFromHeader(`Basic ${Buffer.from(KEY_A).toString('base64')}`)).toBe(KEY_A);
  });

  it('answers undefined for other schemes, a missing value and an empty user name', () => {
    expect(writeKeyFromHeader(null)).toBeUndefined();
    expect(writeKeyFromHeader(`Bearer ${KEY_A}`)).toBeUndefined();
    expect(writeKeyFromHeader('Basic')).toBeUndefined();
    expect(writeKeyFromHeader(`Basic ${Buffer.from(':').toString('base64')}`)).toBeUndefined();
  });

  it('lets a body writeKey answer when the Basic user name is empty', async () => {
    const collector = createCollector({
      store: 'duckdb::memory:',
      writeKeys: [`${KEY_A}=tenant-a`],
    });
    try {
      const response = await collector.fetch(
        batchRequest(
          { writeKey: KEY_A, batch: [{ type: 'track', event: 'x', anonymousId: 'anon' }] },
          `Basic ${Buffer.from(':').toString('base64')}`,
        ),
      );
      expect(response.status).toBe(200);
    } finally {
      await collector.close();
    }
  });
});

describe('bearerToken', () => {
  it('answers the token of a Bearer header, any case', () => {
    expect(bearerToken(`Bearer ${ADMIN_READ_KEY}`)).toBe(ADMIN_READ_KEY);
    expect(bearerToken(`bearer ${ADMIN_READ_KEY}`)).toBe(ADMIN_READ_KEY);
  });

  it('answers undefined for other schemes or no token', () => {
    expect(bearerToken(null)).toBeUndefined();
    expect(bearerToken(basic(ADMIN_READ_KEY))).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
  });
});
