import { randomUUID } from 'node:crypto';
import { normalizeEvent } from '../ingest/normalize';
import type { StoredEvent } from '../store/store';
import { generateEvents } from './synthetic/generator';

/**
 * A valid track event row of tenant `default`, with a fresh `messageId`; `overrides` win.
 *
 * @example
 * const row = makeStoredEvent({ tenant: 'acme', userId: 'u1' });
 */
export function makeStoredEvent(overrides: Partial<StoredEvent> = {}): StoredEvent {
  return {
    tenant: 'default',
    messageId: randomUUID(),
    type: 'track',
    event: 'Signed Up',
    timestamp: Date.UTC(2024, 0, 15, 12, 0, 0),
    receivedAt: Date.UTC(2024, 0, 15, 12, 0, 1),
    sentAt: null,
    userId: null,
    anonymousId: 'anon-1',
    sessionId: null,
    groupId: null,
    previousId: null,
    utmSource: null,
    utmMedium: null,
    utmCampaign: null,
    utmTerm: null,
    utmContent: null,
    referrerDomain: null,
    revenue: null,
    currency: null,
    browser: null,
    os: null,
    deviceType: null,
    ip: null,
    properties: '{}',
    traits: '{}',
    context: '{}',
    ...overrides,
  };
}

/**
 * The generator's events (40 days from 2024-03-01) as the collector stores them: normalised, for
 * `tenant`.
 *
 * @example
 * await store.append(generatedStoredEvents(7, 120, 'acme'));
 */
export function generatedStoredEvents(seed: number, users: number, tenant: string): StoredEvent[] {
  return generateEvents({ seed, users, days: 40, start: '2024-03-01' }).map((raw, index) => {
    const row = normalizeEvent(raw, index, {
      tenant,
      receivedAt: Date.UTC(2024, 5, 1),
      batchSentAt: undefined,
      batchContext: undefined,
      clientIp: undefined,
      ipPolicy: 'drop',
      piiFilter: undefined,
    });
    if ('reason' in row) throw new Error(`generated event ${index} rejected: ${row.message}`);
    return row;
  });
}
