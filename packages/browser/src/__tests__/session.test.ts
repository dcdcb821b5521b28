import { createMemoryStorage, type SyncStorage } from '@sightline/core';
import { describe, expect, it } from 'vitest';
import { createSessions } from '../session';

const MINUTE = 60_000;

describe('sessions', () => {
  it('keeps one session while activity comes within the timeout, numbered by its start', () => {
    const sessions = createSessions(createMemoryStorage(), 30 * MINUTE);
    const first = sessions.touch(1_000_000);
    expect(first).toEqual({ session: { id: 1_000_000, lastActivity: 1_000_000 }, started: true });
    const later = sessions.touch(1_000_000 + 29 * MINUTE);
    expect(later.started).toBe(false);
    expect(later.session.id).toBe(1_000_000);
    // Activity moved the deadline: 29 more minutes later is still the same session.
    expect(sessions.touch(1_000_000 + 58 * MINUTE).session.id).toBe(1_000_000);
  });

  it('starts a new session after the inactivity timeout and reports the one that ended', () => {
    const sessions = createSessions(createMemoryStorage(), 30 * MINUTE);
    sessions.touch(0);
    sessions.touch(10 * MINUTE);
    const next = sessions.touch(40 * MINUTE);
    expect(next.started).toBe(true);
    expect(next.session.id).toBe(40 * MINUTE);
    expect(next.ended).toEqual({ id: 0, lastActivity: 10 * MINUTE });
  });

  it('is shared by every tab through storage', () => {
    const shared = createMemoryStorage();
    const tabA = createSessions(shared, 30 * MINUTE);
    const tabB = createSessions(shared, 30 * MINUTE);
    tabA.touch(0);
    expect(tabB.touch(20 * MINUTE)).toMatchObject({ started: false, session: { id: 0 } });
    // Tab B's activity keeps tab A's session alive too.
    expect(tabA.touch(45 * MINUTE)).toMatchObject({ started: false, session: { id: 0 } });
  });

  it('end() makes the next activity start a new session', () => {
    const sessions = createSessions(createMemoryStorage(), 30 * MINUTE);
    sessions.touch(0);
    sessions.end();
    expect(sessions.touch(MINUTE)).toMatchObject({ started: true, session: { id: MINUTE } });
  });

  it('survives corrupt storage and storage that refuses writes', () => {
    const corrupt = createMemoryStorage();
    corrupt.setItem('sightline.session', '{not json');
    expect(createSessions(corrupt, MINUTE).touch(5).started).toBe(true);

    const refusing: SyncStorage = {
      getItem: () => null,
      setItem: () => {
        throw new DOMException('quota', 'QuotaExceededError');
      },
      removeItem: () => {},
    };
    const sessions = createSessions(refusing, 30 * MINUTE);
    expect(sessions.touch(0).started).toBe(true);
    // Kept in memory: the same session continues.
    expect(sessions.touch(MINUTE)).toMatchObject({ started: false, session: { id: 0 } });
  });

  it('writes storage at most once a second while a session goes on (track() touches it per event)', () => {
    const storage = createMemoryStorage();
    let writes = 0;
    const counting: SyncStorage = {
      ...storage,
      setItem: (key, value) => {
        writes++;
        storage.setItem(key, value);
      },
    };
    const sessions = createSessions(counting, 30 * MINUTE);
    for (let ms = 0; ms < 999; ms += 10) sessions.touch(ms);
    expect(writes).toBe(1);
    sessions.touch(1_500);
    expect(writes).toBe(2);
    expect(JSON.parse(storage.getItem('sightline.session')!)).toEqual({
      id: 0,
      lastActivity: 1_500,
    });
  });
});
