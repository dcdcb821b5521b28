import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFlushLock } from '../flushLock';

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

/** Runs two tasks under two locks of the same name and records how they interleave. */
async function interleaving(lockA: ReturnType<typeof createFlushLock>, lockB: typeof lockA) {
  const log: string[] = [];
  const task = (name: string) => async () => {
    log.push(`${name} start`);
    await new Promise((resolve) => setTimeout(resolve, 30));
    log.push(`${name} end`);
    return name;
  };
  const results = await Promise.all([lockA(task('a')), lockB(task('b'))]);
  return { log, results };
}

describe('the flush lock shared by tabs', () => {
  it('uses the Web Locks API where the browser has it', async () => {
    const requested: string[] = [];
    const held = new Map<string, Promise<unknown>>();
    // A minimal LockManager with the real semantics: requests of one name run one at a time.
    vi.stubGlobal('navigator', {
      locks: {
        request(name: string, task: () => Promise<unknown>) {
          requested.push(name);
          const run = (held.get(name) ?? Promise.resolve()).then(task);
          held.set(
            name,
            run.catch(() => {}),
          );
          return run;
        },
      },
    });
    const { log, results } = await interleaving(
      createFlushLock('sightline.flush.wk', localStorage),
      createFlushLock('sightline.flush.wk', localStorage),
    );
    expect(requested).toEqual(['sightline.flush.wk', 'sightline.flush.wk']);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end']);
    expect(results).toEqual(['a', 'b']);
  });

  it('falls back to a localStorage lease: one holder at a time, released after', async () => {
    vi.stubGlobal('navigator', {});
    const { log } = await interleaving(
      createFlushLock('sightline.flush.wk', localStorage),
      createFlushLock('sightline.flush.wk', localStorage),
    );
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end']);
    expect(localStorage.getItem('sightline.flush.wk')).toBeNull();
  });

  it('takes over a lease whose holder died (expired), and releases even when the task fails', async () => {
    vi.stubGlobal('navigator', {});
    localStorage.setItem('sightline.flush.wk', `dead-tab ${Date.now() - 1}`);
    const lock = createFlushLock('sightline.flush.wk', localStorage);
    await expect(
      lock(async () => {
        throw new Error('send failed');
      }),
    ).rejects.toThrow('send failed');
    expect(localStorage.getItem('sightline.flush.wk')).toBeNull();
  });
});
