import { uuidv7 } from './uuidv7';

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

/** The stored identity, with a fresh anonymous id the first time; `isNew` says to save it. */
export function restoreIdentity(stored: { anonymousId: string | null; userId: string | null }): {
  identity: Identity;
  isNew: boolean;
} {
  const anonymousId = stored.anonymousId || undefined;
  return {
    identity: { anonymousId: anonymousId ?? uuidv7(), userId: stored.userId || undefined },
    isNew: anonymousId === undefined,
  };
}
