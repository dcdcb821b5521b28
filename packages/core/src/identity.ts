/**
 * Who the events are about. `persistent` (browsers, apps) keeps an anonymous id and the
 * identified user in storage; `per-call` (servers) takes both from each call and keeps nothing.
 */
export type IdentityMode = 'persistent' | 'per-call';

export interface Identity {
  anonymousId: string | undefined;
  userId: string | undefined;
}

/**
 * The keys core reads and writes through the storage port.
 *
 * @example
 * localStorage.getItem(STORAGE_KEYS.anonymousId);
 */
export const STORAGE_KEYS = {
  anonymousId: 'sightline.anonymousId',
  userId: 'sightline.userId',
  consent: 'sightline.consent',
  queue: (writeKey: string) => `sightline.queue.${writeKey}`,
} as const;
