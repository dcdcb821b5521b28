import { randomUUID } from 'node:crypto';
import type { StoredEvent } from '../store/store';

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
