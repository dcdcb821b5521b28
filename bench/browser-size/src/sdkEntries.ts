/** One SDK as an app would start it: the package it imports and the entry file that uses it. */
export interface SdkEntry {
  /** Shown in the table. */
  sdk: string;
  /** The npm package the entry imports; its version is read from its package.json. */
  packageName: string;
  /** The whole entry file: it imports the SDK's initialiser and calls it, so tree-shaking keeps
   * what a real app ships. */
  code: string;
  /** A failure to bundle skips the row with its reason instead of failing the run. */
  optional?: boolean;
}

/**
 * The default browser entry of our SDK and of its peers, each started the way its README starts
 * it, with one event tracked. Placeholder keys and hosts: nothing runs, the code is only bundled.
 *
 * @example
 * for (const entry of sdkEntries) console.log(entry.sdk, entry.code);
 */
export const sdkEntries: readonly SdkEntry[] = [
  {
    sdk: 'Sightline',
    packageName: '@sightline/browser',
    code: `import { createBrowserAnalytics } from '@sightline/browser';
createBrowserAnalytics({ writeKey: 'x', host: 'https://x' }).track('a');`,
  },
  {
    sdk: 'Segment',
    packageName: '@segment/analytics-next',
    code: `import { AnalyticsBrowser } from '@segment/analytics-next';
AnalyticsBrowser.load({ writeKey: 'x' }).track('a');`,
  },
  {
    sdk: 'Snowplow',
    packageName: '@snowplow/browser-tracker',
    code: `import { newTracker, trackPageView } from '@snowplow/browser-tracker';
newTracker('sp', 'https://x', { appId: 'x' });
trackPageView();`,
  },
  {
    sdk: 'Amplitude',
    packageName: '@amplitude/analytics-browser',
    code: `import { init, track } from '@amplitude/analytics-browser';
init('x');
track('a');`,
  },
  {
    sdk: 'PostHog',
    packageName: 'posthog-js',
    code: `import posthog from 'posthog-js';
posthog.init('x', { api_host: 'https://x' });
posthog.capture('a');`,
  },
  {
    sdk: 'Mixpanel',
    packageName: 'mixpanel-browser',
    code: `import mixpanel from 'mixpanel-browser';
mixpanel.init('x');
mixpanel.track('a');`,
  },
  {
    sdk: 'RudderStack',
    packageName: '@rudderstack/analytics-js',
    code: `import { RudderAnalytics } from '@rudderstack/analytics-js';
const analytics = new RudderAnalytics();
analytics.load('x', 'https://x');
analytics.track('a');`,
    optional: true,
  },
];
