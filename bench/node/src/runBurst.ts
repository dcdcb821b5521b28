import { readFileSync } from 'node:fs';
import type { BurstSdk } from './burstClients';

/** What a child reports to the parent once `close()` has resolved. */
export interface BurstResult {
  events: number;
  /** The synchronous loop of `track()` calls alone. */
  burstMs: number;
  /** From the first `track()` until `close()` resolved. */
  totalMs: number;
  /** RSS with the SDK loaded and its client created, before the first call. */
  rssBeforeMb: number;
  /** RSS right after the loop, before any request could be sent. */
  rssAfterBurstMb: number;
  /** The kernel's high-water mark of RSS (`VmHWM`), so no peak between samples is missed. */
  peakRssMb: number;
  /** `close()` rejected: its message. */
  closeError?: string;
  report: string;
}

const MB = 1024 * 1024;

/** `VmHWM` from /proc/self/status (Linux); elsewhere undefined. */
function kernelPeakRss(): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? (Number(match[1]) * 1024) / MB : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs in the child: `events` synchronous `track()` calls, then the SDK's graceful shutdown. Peak
 * RSS is the kernel's `VmHWM`; only where there is no /proc is RSS sampled instead (every 1,000
 * calls and every 10 ms after the loop), since sampling costs the SDK time. Nothing here keeps
 * the process alive during `close()` unless `keepAlive` is set: an SDK whose pending work rests
 * on unref'd timers lets the process end first, and the parent reports that.
 *
 * @example
 * const result = await runBurst(BURST_SDKS[0], 'http://127.0.0.1:8787', 100_000, 60_000);
 */
export async function runBurst(
  sdk: BurstSdk,
  host: string,
  events: number,
  closeTimeoutMs: number,
  keepAlive = false,
): Promise<BurstResult> {
  const client = await sdk.create(host);
  const sampling = kernelPeakRss() === undefined;
  let sampledPeak = process.memoryUsage.rss();
  const rssBeforeMb = sampledPeak / MB;
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > sampledPeak) sampledPeak = rss;
  };

  const started = performance.now();
  for (let seq = 0; seq < events; seq++) {
    client.track(seq);
    if (sampling && seq % 1000 === 0) sample();
  }
  const burstMs = performance.now() - started;
  const rssAfterBurstMb = process.memoryUsage.rss() / MB;

  // Unref'd: the sampler must not keep alive a process that the SDK would let end.
  const sampler = sampling ? setInterval(sample, 10).unref() : undefined;
  // What a server's open sockets do for an SDK: keep the process up while close() is pending.
  const keeper = keepAlive ? setInterval(() => {}, 60_000) : undefined;
  let closeError: string | undefined;
  try {
    await client.close(closeTimeoutMs);
  } catch (error) {
    closeError = error instanceof Error ? error.message : String(error);
  }
  const totalMs = performance.now() - started;
  clearInterval(sampler);
  clearInterval(keeper);
  sample();

  return {
    events,
    burstMs,
    totalMs,
    rssBeforeMb,
    rssAfterBurstMb,
    peakRssMb: Math.max(kernelPeakRss() ?? 0, sampledPeak / MB),
    closeError,
    report: client.report(),
  };
}
