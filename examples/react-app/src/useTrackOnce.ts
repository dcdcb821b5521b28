import { useEffect, useRef } from 'react';

/**
 * Calls `track` once per distinct `key`, after render, as `usePageView` does for pages: a
 * re-render, or StrictMode running effects twice in development, does not track again.
 *
 * @example
 * useTrackOnce(assetId, useAppTrackEvent('asset_viewed', { assetId, projectId }));
 */
export function useTrackOnce(key: string, track: () => void): void {
  const tracked = useRef<string>(undefined);
  useEffect(() => {
    if (tracked.current === key) return;
    tracked.current = key;
    track();
  }, [key, track]);
}
