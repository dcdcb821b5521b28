import type { SyncStorage } from './storage';

/** A lease outlives a tab that died holding it by this long at most. */
const LEASE_MS = 5_000;
const RETRY_MS = 200;

/** Runs `task` while no other tab of the site runs one under the same name. */
export type FlushLock = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * A lock shared by the site's tabs, so one tab sends at a time: the Web Locks API where the
 * browser has it; otherwise a lease in localStorage (`<name>` = `<owner> <expiry>`), renewed
 * while held, that another tab may take over once expired.
 *
 * @example
 * const lock = createFlushLock('sightline.flush.wk_1', localStorage);
 * await lock(() => fetch(url, { method: 'POST', body }));
 */
export function createFlushLock(name: string, local: SyncStorage): FlushLock {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (locks) return (task) => locks.request(name, task) as ReturnType<typeof task>;
  /** How this tab's leases start: `<owner> `. */
  const owner = `${Math.random().toString(36).slice(2)} `;
  const held = () => local.getItem(name)?.startsWith(owner) === true;
  const claim = (): boolean => {
    try {
      const [holder, expiry] = (local.getItem(name) ?? '').split(' ');
      if (holder && `${holder} ` !== owner && Number(expiry) > Date.now()) return false;
      local.setItem(name, owner + (Date.now() + LEASE_MS));
      // Two tabs may write at once: the one whose write stayed holds the lease.
      return held();
    } catch {
      return true; // No storage to coordinate through: run.
    }
  };
  return async (task) => {
    while (!claim()) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    const renew = setInterval(claim, LEASE_MS / 3);
    try {
      return await task();
    } finally {
      clearInterval(renew);
      try {
        if (held()) local.removeItem(name);
      } catch {
        // Expires on its own.
      }
    }
  };
}
