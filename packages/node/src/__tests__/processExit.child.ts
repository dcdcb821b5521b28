/**
 * A child process for nodeAnalytics.test.ts: `forget` tracks without closing (the process must
 * still exit), `signals` tracks and waits for SIGTERM with handleSignals on, `beforeExit` tracks
 * and ends with handleSignals on, `close` tracks and awaits close() while the collector answers
 * the first request with a 500 (the retry waits on an unref'd timer: close must keep the process
 * alive until it is delivered).
 */
// The built package, as an app runs it (`pnpm build` comes first, as for the collector's CLI tests).
import { createNodeAnalytics } from '../../dist/index.js';

const [mode, host, writeKey] = process.argv.slice(2);
const analytics = createNodeAnalytics({
  writeKey: writeKey!,
  host: host!,
  flushAt: 1_000,
  flushIntervalMs: 10_000,
  handleSignals: mode === 'signals' || mode === 'beforeExit',
  retry: { baseDelayMs: 200, maxDelayMs: 400 },
});
for (let seq = 0; seq < 500; seq++) {
  analytics.track({ userId: 'u-child', event: 'child', properties: { seq } });
}
process.stdout.write('tracked\n');
// `signals` keeps running until SIGTERM arrives.
if (mode === 'signals') setInterval(() => {}, 1_000);
if (mode === 'close') {
  await analytics.close({ timeoutMs: 20_000 });
  process.stdout.write(`closed ${JSON.stringify(analytics.stats())}\n`);
}
