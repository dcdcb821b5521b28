import { createRandom } from './synthetic/random';

/**
 * Generated `model_request` and `experiment_exposure` events (seed 001's AI model tracking), for
 * the models and experiments tests and their store parity test. Deterministic per seed.
 */

export type Event = Record<string, unknown> & { timestamp: string; messageId: string };

const DAY_MS = 86_400_000;

/** The model versions requests are spread over; the last has no `model_version`. */
export const MODEL_VERSIONS: ReadonlyArray<{ model: string; version: string | undefined }> = [
  { model: 'legal-analysis', version: '1.0.0' },
  { model: 'legal-analysis', version: '2.0.0' },
  { model: 'summarizer', version: '0.9' },
  { model: 'summarizer', version: undefined },
];

/**
 * `count` model requests over `days` days from `start` (UTC), by 40 users, with tied latencies,
 * failures with an error type, tiny per-token costs, confidences on most requests, and a few
 * requests missing latency or tokens; plus unrelated events and a `model_request` page view
 * (neither counts).
 *
 * @example
 * const events = modelRequests({ seed: 1, count: 1500, days: 20, start: '2024-03-01' });
 */
export function modelRequests(options: {
  seed: number;
  count: number;
  days: number;
  start: string;
}): Event[] {
  const random = createRandom(options.seed);
  const origin = Date.parse(`${options.start}T00:00:00Z`);
  const events: Event[] = [];
  for (let index = 0; index < options.count; index++) {
    const { model, version } = random.pick(MODEL_VERSIONS);
    const success = random.chance(0.88);
    const inputTokens = random.int(10, 4000);
    const outputTokens = random.int(0, 1500);
    const properties: Record<string, unknown> = {
      model,
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      // Tens of ms, so that percentiles land on tied values too.
      latency_ms: random.chance(0.7) ? random.int(5, 300) * 10 : random.float(20, 5000),
      success,
      cost_usd: inputTokens * 0.0000015 + outputTokens * 0.000002,
    };
    if (version !== undefined) properties.model_version = version;
    if (!success) properties.error_type = random.pick(['timeout', 'rate_limited', 'bad_output']);
    if (random.chance(0.8)) properties.confidence = random.int(0, 100) / 100;
    if (random.chance(0.03)) delete properties.latency_ms;
    if (random.chance(0.02)) delete properties.input_tokens;
    events.push({
      type: 'track',
      event: 'model_request',
      userId: `user-${random.int(1, 40)}`,
      messageId: `model-${options.seed}-${index}`,
      timestamp: new Date(origin + Math.floor(random.next() * options.days * DAY_MS)).toISOString(),
      properties,
    });
  }
  events.push(
    {
      type: 'track',
      event: 'document_uploaded',
      userId: 'user-1',
      messageId: `model-${options.seed}-other`,
      timestamp: new Date(origin + DAY_MS).toISOString(),
      properties: { model: 'legal-analysis', latency_ms: 1 },
    },
    {
      type: 'page',
      name: 'model_request',
      userId: 'user-1',
      messageId: `model-${options.seed}-page`,
      timestamp: new Date(origin + DAY_MS).toISOString(),
      properties: { model: 'legal-analysis', latency_ms: 1 },
    },
  );
  return events;
}

/** How one experiment's users behave: each variant's true conversion rate. */
export interface ExperimentPlan {
  experiment: string;
  /** Variant name → true conversion rate. */
  rates: Record<string, number>;
  usersPerVariant: number;
}

/**
 * Users exposed to experiments over the first 10 days from `start`, each converting (the goal
 * event) with its variant's rate within the window, some after it (not counted). A third are
 * exposed anonymously and identified later (identify links them); one in 40 sees a second variant
 * later; one in 20 did the goal just before the exposure (not counted either).
 *
 * @example
 * const events = experimentEvents({ seed: 3, start: '2024-03-01', goal: 'signup_completed', windowDays: 7, plans });
 */
export function experimentEvents(options: {
  seed: number;
  start: string;
  goal: string;
  windowDays: number;
  plans: readonly ExperimentPlan[];
}): Event[] {
  const random = createRandom(options.seed);
  const origin = Date.parse(`${options.start}T00:00:00Z`);
  const windowMs = options.windowDays * DAY_MS;
  const events: Event[] = [];
  let serial = 0;
  const emit = (event: Record<string, unknown>, ms: number) =>
    events.push({
      ...event,
      messageId: `exp-${options.seed}-${serial++}`,
      timestamp: new Date(ms).toISOString(),
    });
  for (const plan of options.plans) {
    const variants = Object.keys(plan.rates);
    for (const variant of variants) {
      for (let index = 0; index < plan.usersPerVariant; index++) {
        const userId = `${plan.experiment}-${variant}-${index}`;
        const anonymous = random.chance(1 / 3);
        const who = anonymous ? { anonymousId: `anon-${userId}` } : { userId };
        const exposedAt = origin + Math.floor(random.next() * 10 * DAY_MS);
        const exposure = (name: string, ms: number) =>
          emit(
            {
              type: 'track',
              event: 'experiment_exposure',
              ...who,
              properties: { experiment: plan.experiment, variant: name },
            },
            ms,
          );
        exposure(variant, exposedAt);
        if (random.chance(1 / 40)) {
          const other = variants.find((name) => name !== variant) ?? variant;
          exposure(other, exposedAt + random.int(1, 3) * DAY_MS);
        }
        if (anonymous) {
          emit({ type: 'identify', userId, anonymousId: `anon-${userId}` }, exposedAt + 60_000);
        }
        if (random.chance(1 / 20)) {
          emit({ type: 'track', event: options.goal, userId }, exposedAt - 60_000);
        }
        if (random.chance(plan.rates[variant]!)) {
          // Within the window, its last millisecond included.
          const delay = random.chance(0.05) ? windowMs : Math.floor(random.next() * windowMs);
          emit({ type: 'track', event: options.goal, userId }, exposedAt + delay);
        } else if (random.chance(0.1)) {
          emit({ type: 'track', event: options.goal, userId }, exposedAt + windowMs + 1);
        }
      }
    }
  }
  return events;
}

/** Events in batches of at most `size`. */
export function batches<T>(events: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < events.length; index += size) {
    out.push(events.slice(index, index + size));
  }
  return out;
}
