/**
 * Time as core sees it. Platforms may replace it (Node unrefs its timers so they never keep a
 * process alive); tests use fake timers through the default, which calls the globals lazily.
 *
 * @example
 * const scheduler: Scheduler = { ...defaultScheduler, setTimeout: (run, ms) => setTimeout(run, ms).unref() };
 */
export interface Scheduler {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Global `setTimeout`/`clearTimeout` and `Date.now`, looked up at each call (fake timers apply). */
export const defaultScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
