import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { NodeAnalyticsOptions } from '@sightline/node';

/** One SDK under test, reduced to what the burst needs. */
export interface BurstClient {
  /** One tracking call; `seq` makes every event distinct. */
  track(seq: number): void;
  /** The SDK's own graceful shutdown, bounded by `timeoutMs`. */
  close(timeoutMs: number): Promise<void>;
  /** What the SDK says it did, in its own words. */
  report(): string;
}

export interface BurstSdk {
  /** Key for `--sdks`. */
  key: string;
  label: string;
  packageName: string;
  /** Imported only in the child that runs this SDK, so no other SDK's code is in its RSS. */
  create(host: string): Promise<BurstClient>;
}

const WRITE_KEY = 'wk_bench';

/** The same event for every SDK: a distinct `seq`, a few typical properties. */
export function burstEvent(seq: number) {
  return {
    userId: `user-${seq % 1000}`,
    event: 'order_completed',
    properties: { seq, plan: 'pro', amountCents: 1999 + (seq % 100), currency: 'EUR' },
  };
}

/** Sightline with its defaults, or with the options a diagnostic row changes. */
function sightlineSdk(
  key: string,
  label: string,
  options: Partial<NodeAnalyticsOptions> = {},
): BurstSdk {
  return {
    key,
    label,
    packageName: '@sightline/node',
    async create(host) {
      const { createNodeAnalytics } = await import('@sightline/node');
      const analytics = createNodeAnalytics({ writeKey: WRITE_KEY, host, ...options });
      return {
        track: (seq) => void analytics.track(burstEvent(seq)),
        close: (timeoutMs) => analytics.close({ timeoutMs }),
        report() {
          const { sent, retried, dropped } = analytics.stats();
          const drops = Object.entries(dropped)
            .map(([reason, count]) => `${reason} ${count.toLocaleString('en-US')}`)
            .join(', ');
          return `stats(): sent ${sent.toLocaleString('en-US')}, retried ${retried.toLocaleString('en-US')}, dropped {${drops}}`;
        },
      };
    },
  };
}

const segment: BurstSdk = {
  key: 'segment',
  label: 'Segment',
  packageName: '@segment/analytics-node',
  async create(host) {
    const { Analytics } = await import('@segment/analytics-node');
    const analytics = new Analytics({ writeKey: WRITE_KEY, host, path: '/v1/batch' });
    let errors = 0;
    let requests = 0;
    let responses = 0;
    analytics.on('error', () => errors++);
    analytics.on('http_request', () => requests++);
    analytics.on('http_response', () => responses++);
    return {
      track: (seq) => analytics.track(burstEvent(seq)),
      close: (timeout) => analytics.closeAndFlush({ timeout }),
      report: () =>
        `'error' events ${errors.toLocaleString('en-US')}, 'http_request' ${requests.toLocaleString('en-US')}, 'http_response' ${responses.toLocaleString('en-US')}`,
    };
  },
};

const posthog: BurstSdk = {
  key: 'posthog',
  label: 'PostHog',
  packageName: 'posthog-node',
  async create(host) {
    const { PostHog } = await import('posthog-node');
    const client = new PostHog('phc_bench', { host });
    let errors = 0;
    client.on('error', () => errors++);
    return {
      track(seq) {
        const { userId, event, properties } = burstEvent(seq);
        client.capture({ distinctId: userId, event, properties });
      },
      close: (timeoutMs) => client.shutdown(timeoutMs),
      report: () => `'error' events: ${errors.toLocaleString('en-US')}`,
    };
  },
};

export const BURST_SDKS: readonly BurstSdk[] = [
  sightlineSdk('sightline', 'Sightline'),
  segment,
  posthog,
  // Not a default: the small queue browsers use (10,000 events, 5 MiB), for comparison.
  sightlineSdk('sightline-small-queue', 'Sightline, 10k-event queue (diagnostic)', {
    maxQueueEvents: 10_000,
    maxQueueBytes: 5 * 1024 * 1024,
  }),
];

/** The installed version of a package, read from its own package.json. */
export function installedVersion(packageName: string): string {
  const require = createRequire(import.meta.url);
  // Some packages do not export ./package.json, so walk from the resolved entry instead.
  let directory = require.resolve(packageName).replace(/[\\/][^\\/]*$/, '');
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(`${directory}/package.json`, 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === packageName) return manifest.version ?? '?';
    } catch {
      // No package.json at this level: keep walking up.
    }
    const parent = directory.replace(/[\\/][^\\/]*$/, '');
    if (parent === directory) return '?';
    directory = parent;
  }
}
