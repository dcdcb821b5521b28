import { expect } from 'vitest';
import { readJson } from './httpCollector';

/**
 * A user (`u-1`) with everything erasure must find: anonymous browsing before identifying, an
 * alias from an old id, and a device (`anon-s`) shared with `u-2`, whose first link is u-1's.
 * `erased` lists what `DELETE /v1/users/u-1` removes; `kept` what it must leave.
 *
 * @example
 * await ingest(url, writeKey, SHARED_DEVICE.events);
 * const before = await metrics(); await eraseOverHttp(url, readKey, 'u-1'); const after = await metrics();
 */
export const SHARED_DEVICE = {
  subject: 'u-1',
  events: [
    {
      type: 'alias',
      previousId: 'old-1',
      userId: 'u-1',
      messageId: 'p8',
      timestamp: '2024-05-01T08:00:00Z',
    },
    {
      type: 'track',
      event: 'Legacy',
      anonymousId: 'old-1',
      messageId: 'p9',
      timestamp: '2024-04-30T12:00:00Z',
    },
    {
      type: 'page',
      name: 'Home',
      anonymousId: 'anon-a',
      messageId: 'p1',
      timestamp: '2024-05-01T09:00:00Z',
    },
    {
      type: 'identify',
      userId: 'u-1',
      anonymousId: 'anon-a',
      messageId: 'p2',
      timestamp: '2024-05-01T10:00:00Z',
      traits: { plan: 'pro', seats: 3 },
    },
    {
      type: 'track',
      event: 'Plan Upgraded',
      userId: 'u-1',
      messageId: 'p3',
      timestamp: '2024-05-02T10:00:00Z',
      properties: { revenue: 49 },
    },
    {
      type: 'identify',
      userId: 'u-1',
      anonymousId: 'anon-s',
      messageId: 'p4',
      timestamp: '2024-05-03T10:00:00Z',
    },
    {
      type: 'identify',
      userId: 'u-2',
      anonymousId: 'anon-s',
      messageId: 'p5',
      timestamp: '2024-05-04T10:00:00Z',
    },
    {
      type: 'page',
      name: 'Pricing',
      anonymousId: 'anon-s',
      messageId: 'p6',
      timestamp: '2024-05-05T10:00:00Z',
    },
    {
      type: 'track',
      event: 'Viewed',
      userId: 'u-2',
      anonymousId: 'anon-s',
      messageId: 'p7',
      timestamp: '2024-05-06T10:00:00Z',
    },
    {
      type: 'track',
      event: 'Viewed',
      userId: 'u-9',
      anonymousId: 'anon-z',
      messageId: 'p10',
      timestamp: '2024-05-06T11:00:00Z',
    },
  ] as Array<Record<string, unknown>>,
  /** Message ids erased with u-1, oldest first by event time. */
  erased: ['p9', 'p8', 'p1', 'p2', 'p3', 'p4', 'p6'],
  /** Identity links erased with u-1 (anonymous ids, sorted). */
  erasedLinks: ['anon-a', 'anon-s', 'old-1'],
  /** Message ids that stay. */
  kept: ['p5', 'p7', 'p10'],
} as const;

/**
 * `DELETE /v1/users/:id` over HTTP with a read key (admin keys pass `tenant`), expecting 200.
 *
 * @example
 * expect(await eraseOverHttp(url, readKey, 'u-1')).toEqual({ events: 7, identityLinks: 3 });
 */
export async function eraseOverHttp(
  url: string,
  readKey: string,
  userId: string,
  tenant?: string,
): Promise<{ events: number; identityLinks: number }> {
  const query = tenant === undefined ? '' : `?tenant=${encodeURIComponent(tenant)}`;
  const body = await readJson<{ erased: { events: number; identityLinks: number } }>(
    url,
    `/v1/users/${encodeURIComponent(userId)}${query}`,
    readKey,
    { method: 'DELETE' },
  );
  expect(Object.keys(body)).toEqual(['erased']);
  return body.erased;
}
