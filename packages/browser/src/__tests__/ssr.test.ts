// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { createBrowserAnalytics } from '../index';

describe('server-side rendering', () => {
  it('imports and runs without window: every call is a no-op', async () => {
    expect(typeof window).toBe('undefined');
    const analytics = createBrowserAnalytics({ writeKey: 'wk_x', host: 'http://127.0.0.1:1' });
    analytics.track('x', { a: 1 });
    analytics.identify('u');
    analytics.page();
    analytics.optOut();
    await analytics.flush();
    await analytics.ready();
    expect(analytics.stats()).toMatchObject({ enqueued: 0, sent: 0 });
    expect(analytics.user()).toEqual({ anonymousId: undefined, userId: undefined });
    await analytics.close();
  });
});
