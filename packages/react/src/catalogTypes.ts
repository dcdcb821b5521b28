import type { EventCatalog, Properties } from '@sightline/core';

/**
 * The event names a catalog declares, or any string without one.
 *
 * @example
 * type Names = EventName<typeof catalog>; // 'asset_viewed' | 'license_created'
 */
export type EventName<Catalog extends EventCatalog | undefined> =
  Catalog extends EventCatalog<infer Events> ? keyof Events & string : string;

/**
 * The properties of one catalog event (its schema's input), or open properties without a catalog.
 *
 * @example
 * type Viewed = EventProperties<typeof catalog, 'asset_viewed'>; // { assetId: string }
 */
export type EventProperties<Catalog extends EventCatalog | undefined, Name extends string> =
  Catalog extends EventCatalog<infer Events>
    ? NonNullable<Events[Name]['~standard']['types']>['input']
    : Properties;

/** The properties parameter: optional when every property of the event may be left out. */
export type PropertiesArgument<Catalog extends EventCatalog | undefined, Name extends string> =
  Record<string, never> extends EventProperties<Catalog, Name>
    ? [properties?: EventProperties<Catalog, Name>]
    : [properties: EventProperties<Catalog, Name>];

/** `track` with the catalog's types erased, for the bindings' own forwarding. */
export type UntypedTrack = (event: string, properties?: Properties) => void;
