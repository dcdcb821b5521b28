import type { Properties } from '@sightline/core';
import { useEffect, useRef } from 'react';
import { useAnalytics } from './AnalyticsProvider';

/**
 * Tracks a page view once per distinct `key`: pass the router's pathname and every navigation is
 * one view, whatever the router. Without a key, once per mount. Re-renders, StrictMode's repeated
 * effects and new `properties` objects for the same key track nothing more. Create the client
 * with `pageViews: false` so its own history-based page views do not double these.
 *
 * @example
 * const { pathname } = useLocation(); // React Router; `usePathname()` in Next.js
 * usePageView(pathname);
 */
export function usePageView(key?: string, name?: string, properties?: Properties): void {
  const client = useAnalytics();
  const tracked = useRef<{ key: string | undefined }>(undefined);
  useEffect(() => {
    if (tracked.current && tracked.current.key === key) return;
    tracked.current = { key };
    client.page(name, properties);
  }, [client, key, name, properties]);
}
