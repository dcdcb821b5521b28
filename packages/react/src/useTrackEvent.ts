import type { EventCatalog } from '@sightline/core';
import { useCallback, useInsertionEffect, useRef } from 'react';
import { useAnalytics } from './AnalyticsProvider';
import type { EventName, PropertiesArgument, UntypedTrack } from './catalogTypes';

/** `useTrackEvent` bound to one catalog: names and properties checked, the name inferred. */
export type TypedUseTrackEvent<Catalog extends EventCatalog | undefined> = <
  Name extends EventName<Catalog>,
>(
  event: Name,
  ...properties: PropertiesArgument<Catalog, Name>
) => () => void;

/**
 * A callback that tracks `event` with the properties of the latest render. Its identity never
 * changes, so it can go into dependency lists and memoized children; calling it never throws.
 * Arguments it is called with (a click event, say) are ignored.
 *
 * @example
 * const trackDownload = useTrackEvent('asset_downloaded', { assetId });
 * return <button onClick={trackDownload}>Download</button>;
 */
export function useTrackEvent<
  Catalog extends EventCatalog | undefined = undefined,
  Name extends EventName<Catalog> = EventName<Catalog>,
>(event: Name, ...properties: PropertiesArgument<Catalog, Name>): () => void {
  const client = useAnalytics();
  const latest = useRef({ client, event, properties: properties[0] });
  // Before any layout effect or event handler can run; insertion effects do nothing on the server.
  useInsertionEffect(() => {
    latest.current = { client, event, properties: properties[0] };
  });
  return useCallback(() => {
    const { client, event, properties } = latest.current;
    (client.track as UntypedTrack)(event, properties);
  }, []);
}

/**
 * `useTrackEvent` typed by a catalog, so the event name is inferred and its properties checked.
 *
 * @example
 * export const useAppTrackEvent = useTrackEvent.withTypes<typeof catalog>();
 * const onView = useAppTrackEvent('asset_viewed', { assetId });
 */
useTrackEvent.withTypes = <Catalog extends EventCatalog>() =>
  useTrackEvent as TypedUseTrackEvent<Catalog>;
