import type { CallOptions, Properties } from './event';
import type { PipelineStep } from './pipeline';
import type { InferInput, StandardSchemaV1 } from './standardSchema';

/** Event names mapped to the schema of their properties (zod, valibot, arktype…). */
export type EventSchemas = Record<string, StandardSchemaV1<Properties>>;

/** Options of {@link defineEventCatalog}. */
export interface CatalogOptions {
  /** Validate properties at runtime too; invalid events are dropped with reason `invalid`. Default false. */
  validate?: boolean;
  /** At runtime, drop `track` events whose name is not in the catalog. Default false. */
  rejectUnknownEvents?: boolean;
}

/** A declared set of events; pass it to `createAnalytics({ catalog })` to get a typed `track`. */
export interface EventCatalog<Events extends EventSchemas = EventSchemas> {
  readonly events: Events;
  readonly options: Readonly<CatalogOptions>;
  /**
   * The runtime check `createAnalytics` runs first in its pipeline, when `validate` or
   * `rejectUnknownEvents` asks for one. The catalog carries it so an app without a catalog
   * does not bundle it.
   */
  readonly validator: PipelineStep | undefined;
}

/**
 * Declares an app's events once. `track` then accepts only these names, each with its own
 * properties, checked by TypeScript and, with `validate: true`, at runtime.
 *
 * @example
 * import { z } from 'zod';
 * const catalog = defineEventCatalog({
 *   signup_completed: z.object({ method: z.enum(['email', 'google']) }),
 *   generation_started: z.object({ model: z.string(), prompt_tokens: z.number().int() }),
 * }, { validate: import.meta.env.DEV });
 * const analytics = createAnalytics({ writeKey, host, catalog });
 * analytics.track('signup_completed', { method: 'email' }); // checked
 */
export function defineEventCatalog<const Events extends EventSchemas>(
  events: Events,
  options: CatalogOptions = {},
): EventCatalog<Events> {
  const catalog = {
    events,
    options: { ...options },
    validator: undefined as PipelineStep | undefined,
  };
  if (options.validate || options.rejectUnknownEvents) {
    catalog.validator = createCatalogValidator(catalog);
  }
  return catalog;
}

type PropertiesArgument<Schema extends StandardSchemaV1> =
  // Events whose properties may all be omitted can be tracked without a properties argument.
  Record<string, never> extends InferInput<Schema>
    ? [properties?: InferInput<Schema>, options?: CallOptions]
    : [properties: InferInput<Schema>, options?: CallOptions];

/** `track` as typed by a catalog, or the open Segment signature without one. */
export type TrackFunction<Catalog extends EventCatalog | undefined> =
  Catalog extends EventCatalog<infer Events>
    ? <Name extends keyof Events & string>(
        event: Name,
        ...rest: PropertiesArgument<Events[Name]>
      ) => void
    : (event: string, properties?: Properties, options?: CallOptions) => void;

function describeIssues(
  issues: ReadonlyArray<{
    message: string;
    path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
  }>,
): string {
  return issues
    .map((issue) => {
      const path = (issue.path ?? [])
        .map((part) => String(typeof part === 'object' ? part.key : part))
        .join('.');
      return `properties${path ? `.${path}` : ''}: ${issue.message}`;
    })
    .join('; ');
}

/**
 * The runtime half of a catalog: validates `track` properties against their schema (replacing
 * them with the parsed output) and optionally drops unknown event names.
 *
 * @example
 * createAnalytics({ writeKey, host, plugins: [createCatalogValidator(defineEventCatalog(events))] });
 */
export function createCatalogValidator(catalog: EventCatalog): PipelineStep {
  const { events, options } = catalog;
  return function catalogValidator(event, context) {
    if (event.type !== 'track') return event;
    const schema = Object.hasOwn(events, event.event) ? events[event.event] : undefined;
    if (!schema) {
      return options.rejectUnknownEvents
        ? context.drop(
            'invalid',
            `event: "${event.event}" is not in the event catalog; declare it or turn off rejectUnknownEvents`,
          )
        : event;
    }
    const outcome = schema['~standard'].validate(event.properties);
    const apply = (result: Awaited<typeof outcome>) =>
      result.issues
        ? context.drop('invalid', `${describeIssues(result.issues)} (event "${event.event}")`)
        : { ...event, properties: result.value };
    return outcome instanceof Promise ? outcome.then(apply) : apply(outcome);
  };
}
