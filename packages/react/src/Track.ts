import { ConfigurationError, type EventCatalog } from '@sightline/core';
import { cloneElement, type DOMAttributes, isValidElement, type ReactElement } from 'react';
import type { EventName, EventProperties, PropertiesArgument } from './catalogTypes';
import { useTrackEvent } from './useTrackEvent';

type Handlers = keyof DOMAttributes<Element>;

/** A React event of the child, named without `on`: `click` → `onClick`, `mouseEnter` → `onMouseEnter`. */
export type TrackTrigger = {
  [Handler in Handlers]-?: Handler extends `on${infer Name}` ? Uncapitalize<Name> : never;
}[Handlers];

/** Props of {@link Track}; `properties` is required when the catalog event requires some. */
export type TrackProps<
  Catalog extends EventCatalog | undefined = undefined,
  Name extends EventName<Catalog> = EventName<Catalog>,
> = {
  /** The event to track. */
  event: Name;
  /** Which of the child's events tracks. Default `click`. */
  on?: TrackTrigger;
  /** Exactly one element; its own handler for `on` still runs. */
  children: ReactElement;
} & (PropertiesArgument<Catalog, Name> extends [unknown]
  ? { properties: EventProperties<Catalog, Name> }
  : { properties?: EventProperties<Catalog, Name> });

/**
 * Tracks `event` when its single child fires `on` (default `click`), then calls the child's own
 * handler for it, unchanged.
 *
 * @example
 * <Track event="cta_clicked" properties={{ cta: 'buy_license' }}>
 *   <button onClick={openCheckout}>Buy a license</button>
 * </Track>
 */
export function Track<
  Catalog extends EventCatalog | undefined = undefined,
  Name extends EventName<Catalog> = EventName<Catalog>,
>({ event, properties, on = 'click', children }: TrackProps<Catalog, Name>): ReactElement {
  const track = useTrackEvent<Catalog, Name>(
    event,
    ...([properties] as PropertiesArgument<Catalog, Name>),
  );
  if (!isValidElement<Record<string, unknown>>(children)) {
    throw new ConfigurationError(
      'children',
      'give <Track> exactly one element, e.g. <Track event="cta_clicked"><button>Buy</button></Track>',
    );
  }
  const handler = `on${on[0]!.toUpperCase()}${on.slice(1)}`;
  const own = children.props[handler];
  return cloneElement(children, {
    [handler]: (...args: unknown[]) => {
      track();
      return typeof own === 'function' ? own(...args) : undefined;
    },
  });
}

/**
 * `<Track>` typed by a catalog: the event name is checked and its properties inferred.
 *
 * @example
 * export const AppTrack = Track.withTypes<typeof catalog>();
 * <AppTrack event="asset_viewed" properties={{ assetId }}><a href={href}>Open</a></AppTrack>
 */
Track.withTypes = <Catalog extends EventCatalog>() =>
  Track as <Name extends EventName<Catalog>>(props: TrackProps<Catalog, Name>) => ReactElement;
