import type { Scheduler } from '@sightline/core';

interface Timer {
  at: number;
  callback: () => void;
}

/**
 * A scheduler whose time moves only when the test says so, so a 30 s throttle or a 10 s flush
 * interval takes no time and its exact length can be asserted. Only the destination's own timers
 * use it: msw and fetch keep real time.
 *
 * @example
 * const clock = createTestClock();
 * const destination = amplitudeDestination({ apiKey, scheduler: clock.scheduler });
 * clock.advance(10_000);
 */
export function createTestClock(start = Date.parse('2026-01-02T03:04:05.678Z')) {
  let now = start;
  const timers = new Set<Timer>();
  const scheduler: Scheduler = {
    now: () => now,
    setTimeout(callback, delayMs) {
      const timer = { at: now + delayMs, callback };
      timers.add(timer);
      return timer;
    },
    clearTimeout(handle) {
      timers.delete(handle as Timer);
    },
  };
  return {
    scheduler,
    /** Delays of the timers still pending, from now, shortest first. */
    pending: () => [...timers].map((timer) => timer.at - now).sort((a, b) => a - b),
    /** Moves time forward, firing each timer that falls due, in order. */
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const due = [...timers].filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers.delete(due);
        now = due.at;
        due.callback();
      }
      now = until;
    },
  };
}

/** Waits (in real time, up to 2 s) until `condition` holds: for requests still on the wire. */
export async function until(condition: () => boolean, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
