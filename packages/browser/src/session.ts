import type { SyncStorage } from './storage';

/** The stored session: its id (the start time in ms, as Amplitude numbers sessions) and last activity. */
export interface Session {
  id: number;
  lastActivity: number;
}

/** What {@link Sessions.touch} found: the current session, and the one it replaced, if any. */
export interface SessionTouch {
  session: Session;
  /** True when this touch started a new session. */
  started: boolean;
  /** The session that timed out, when `started` follows an earlier session. */
  ended?: Session;
}

export interface Sessions {
  /** Records activity at `now`, starting a new session after the inactivity timeout. */
  touch(now: number): SessionTouch;
  /** Ends the current session: the next touch starts a new one (used by `reset`). */
  end(): void;
}

const KEY = 'sightline.session';
const WRITE_EVERY_MS = 1_000;

/**
 * Sessions with an inactivity timeout, shared by every tab of the site: the session lives in
 * `storage` (localStorage), so a tab opened mid-session joins it and activity in any tab keeps it
 * alive. The id is the session's start time in ms.
 *
 * @example
 * const sessions = createSessions(localStorage, 30 * 60_000);
 * const { session, started } = sessions.touch(Date.now());
 */
export function createSessions(storage: SyncStorage, timeoutMs: number): Sessions {
  // Kept in memory too, so sessions still work when storage refuses writes.
  let current: Session | undefined;
  const read = (): Session | undefined => {
    try {
      const stored = JSON.parse(storage.getItem(KEY) ?? 'null') as Session | null;
      if (stored && Number.isFinite(stored.id) && Number.isFinite(stored.lastActivity)) {
        return stored;
      }
    } catch {
      // Corrupt: start afresh.
    }
    return current;
  };
  const write = (session: Session | undefined) => {
    current = session;
    try {
      if (session) storage.setItem(KEY, JSON.stringify(session));
      else storage.removeItem(KEY);
    } catch {
      // Quota or privacy mode: the in-memory session goes on.
    }
  };
  return {
    touch(now) {
      const previous = read();
      const started = !previous || now - previous.lastActivity >= timeoutMs;
      // Activity within a second of the stored one changes nothing a 30-minute timeout can
      // tell: skip the write (track() calls this for every event).
      if (!started && now - previous.lastActivity < WRITE_EVERY_MS) {
        return { session: previous, started };
      }
      const session = { id: started ? now : previous.id, lastActivity: now };
      write(session);
      return started ? { session, started, ended: previous } : { session, started };
    },
    end: () => write(undefined),
  };
}
