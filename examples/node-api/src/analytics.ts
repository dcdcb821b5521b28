import { createDecorators, createNodeAnalytics } from '@sightline/node';

/**
 * The app's one analytics client and its decorators. The app sends to the collector it mounts
 * itself (see app.ts); in production `host` is wherever your collector runs.
 */
export function createAppAnalytics(host: string, writeKey: string) {
  const analytics = createNodeAnalytics({
    writeKey,
    host,
    onError: (error) => console.warn(`[analytics] ${error.message}`),
  });
  return { analytics, ...createDecorators(analytics) };
}
