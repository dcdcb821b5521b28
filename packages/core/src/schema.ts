/**
 * Zod schemas of the wire format, for the collector and for development-time validation.
 *
 * Kept out of the main entry on purpose: the browser SDK never pays for zod unless an app opts
 * into `createSchemaValidator()`. Written with `zod/mini`, whose functional API tree-shakes; see
 * docs/benchmarks.md for what each choice costs in a browser bundle.
 */
import * as z from 'zod/mini';
import type { PipelineStep } from './pipeline';

const MAX_ID_LENGTH = 255;
const MAX_NAME_LENGTH = 256;

// zod/mini ships no message locale: every check carries its own message, phrased as the fix.
const text = (max: number) =>
  z
    .string({ error: `use a non-empty string of at most ${max} characters` })
    .check(
      z.minLength(1, 'use a non-empty string'),
      z.maxLength(max, `use at most ${max} characters`),
    );

/** Segment clients send ids as strings; some send numbers. Both become strings. */
const id = z.pipe(
  z.union(
    [
      text(MAX_ID_LENGTH),
      z.number().check(z.refine(Number.isFinite, 'use a finite number or a string')),
    ],
    { error: `use a non-empty string (at most ${MAX_ID_LENGTH} characters) or a number` },
  ),
  z.transform((value: string | number) => String(value)),
);

const isoTimestamp = z.iso.datetime({
  offset: true,
  local: false,
  error: 'use an ISO-8601 date-time such as "2026-01-31T12:00:00.000Z"',
});
/**
 * A JSON object of any content. Checked, not rebuilt: `z.record` would copy every property of
 * every event, which is most of the validation cost on the collector's ingest path.
 */
const bag = z.custom<Record<string, unknown>>(
  (value) => value !== null && typeof value === 'object' && !Array.isArray(value),
  { error: 'use a JSON object' },
);

const consentState = z.enum(['granted', 'denied', 'pending'], {
  error: "use 'granted', 'denied' or 'pending'",
});

const contextSchema = z.looseObject({
  library: z.optional(z.looseObject({ name: z.string(), version: z.string() })),
  page: z.optional(
    z.looseObject({
      path: z.optional(z.string()),
      url: z.optional(z.string()),
      referrer: z.optional(z.string()),
      title: z.optional(z.string()),
      search: z.optional(z.string()),
    }),
  ),
  campaign: z.optional(z.record(z.string(), z.string())),
  clickIds: z.optional(z.record(z.string(), z.string())),
  userAgent: z.optional(z.string()),
  locale: z.optional(z.string()),
  timezone: z.optional(z.string()),
  sessionId: z.optional(z.union([z.string(), z.number()])),
  consent: z.optional(z.record(z.string(), consentState)),
  ip: z.optional(z.string()),
});

const common = {
  messageId: z.optional(text(MAX_ID_LENGTH)),
  timestamp: z.optional(isoTimestamp),
  sentAt: z.optional(isoTimestamp),
  receivedAt: z.optional(isoTimestamp),
  anonymousId: z.optional(id),
  userId: z.optional(id),
  context: z.optional(contextSchema),
  integrations: z.optional(z.record(z.string(), z.union([z.boolean(), bag]))),
};

const track = z.looseObject({
  ...common,
  type: z.literal('track'),
  event: text(MAX_NAME_LENGTH),
  properties: z.optional(bag),
});
const identify = z.looseObject({ ...common, type: z.literal('identify'), traits: z.optional(bag) });
const page = z.looseObject({
  ...common,
  type: z.enum(['page', 'screen']),
  name: z.optional(z.string().check(z.maxLength(MAX_NAME_LENGTH))),
  category: z.optional(z.string().check(z.maxLength(MAX_NAME_LENGTH))),
  properties: z.optional(bag),
});
const group = z.looseObject({
  ...common,
  type: z.literal('group'),
  groupId: id,
  traits: z.optional(bag),
});
const alias = z.looseObject({ ...common, type: z.literal('alias'), previousId: id });

/**
 * One event as the collector accepts it: Segment's HTTP Tracking API shape. `messageId` and
 * `timestamp` may be missing (the collector assigns them); `userId` or `anonymousId` is required.
 *
 * @example
 * const result = eventSchema.safeParse({ type: 'track', event: 'login', userId: 'u1' });
 * if (!result.success) console.log(result.error.issues);
 */
export const eventSchema = z
  .discriminatedUnion('type', [track, identify, page, group, alias], {
    error: 'type must be one of track, identify, page, screen, group, alias',
  })
  .check(
    z.refine((event) => event.userId !== undefined || event.anonymousId !== undefined, {
      message: 'set userId or anonymousId (at least one is required)',
      path: ['userId'],
    }),
  );

/** An event after validation (ids normalised to strings). */
export type ValidatedEvent = z.output<typeof eventSchema>;

/**
 * The body of `POST /v1/batch`. The 2,500-event limit is checked here; byte limits are checked on
 * the raw body, before parsing.
 *
 * @example
 * batchSchema.safeParse({ batch: [{ type: 'track', event: 'x', anonymousId: 'a' }] });
 */
export const batchSchema = z.looseObject({
  batch: z
    .array(z.unknown(), { error: 'batch must be an array of events' })
    .check(z.maxLength(2500, 'a batch holds at most 2,500 events')),
  sentAt: z.optional(isoTimestamp),
  context: z.optional(contextSchema),
  writeKey: z.optional(z.string()),
});

/** One problem with one field of one event, phrased so that it names the fix. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `properties.plan` or `event`. */
  field: string;
  message: string;
}

/** The outcome of {@link validateEvent}. */
export type EventValidation =
  | { success: true; event: ValidatedEvent }
  | { success: false; issues: FieldIssue[] };

/**
 * Validates one event and names each bad field. Used by the collector per event, so one bad event
 * never rejects its neighbours.
 *
 * @example
 * const result = validateEvent({ type: 'track', anonymousId: 'a' });
 * // { success: false, issues: [{ field: 'event', message: 'Invalid input: expected string, received undefined' }] }
 */
export function validateEvent(value: unknown): EventValidation {
  const result = eventSchema.safeParse(value);
  if (result.success) return { success: true, event: result.data };
  return {
    success: false,
    issues: result.error.issues.map((issue) => ({
      field: issue.path.length > 0 ? issue.path.join('.') : '(event)',
      message: issue.message,
    })),
  };
}

/**
 * A pipeline step that validates each event against {@link eventSchema} and drops invalid ones
 * with reason `invalid`, reporting the fields through `onError`. Meant for development builds
 * and tests; production browser bundles can leave it (and zod) out.
 *
 * @example
 * createAnalytics({ writeKey, host, plugins: [createSchemaValidator()] });
 */
export function createSchemaValidator(): PipelineStep {
  return function schemaValidator(event, context) {
    const result = validateEvent(event);
    if (result.success) return event;
    const detail = result.issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
    return context.drop('invalid', detail);
  };
}
