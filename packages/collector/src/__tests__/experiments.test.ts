import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpCollector, ingest, readJson, startHttpCollector } from './httpCollector';
import { batches, type Event, experimentEvents } from './modelFixtures';

/**
 * `GET /v1/experiments/:name` on a real collector (DuckDB, data ingested over HTTP) against the
 * counts and statistics computed here from the generated events: user keys through identify
 * links, the first exposure's variant, conversions within the window, and the z-test with a
 * normal CDF integrated numerically (Simpson), independent of the collector's erfc.
 */

const WRITE_KEY = 'wk_experiments_1234';
const READ_KEY = 'rk_experiments_1234';
const GOAL = 'analysis_completed';
const FROM = '2024-03-01';
const TO = '2024-03-10';
const SLASHED = 'checkout/ß ✓';
const EVENTS = experimentEvents({
  // An A/A split looks "significant" at 5 % for one seed in twenty; seed 25 is not such a seed.
  seed: 25,
  start: FROM,
  goal: GOAL,
  windowDays: 7,
  plans: [
    { experiment: 'prompt-v2', rates: { control: 0.1, treatment: 0.15 }, usersPerVariant: 2000 },
    { experiment: 'aa-split', rates: { a: 0.12, b: 0.12 }, usersPerVariant: 1500 },
    { experiment: SLASHED, rates: { fast: 0.3, slow: 0.2, control: 0.25 }, usersPerVariant: 60 },
  ],
});

let http: HttpCollector;

beforeAll(async () => {
  http = await startHttpCollector({
    writeKeys: [`${WRITE_KEY}=lab`],
    readKeys: [`${READ_KEY}=lab`],
    read: { cacheTtlMs: 0, maxRangeDays: 400 },
  });
  for (const batch of batches(EVENTS)) await ingest(http.url, WRITE_KEY, batch);
}, 60_000);

afterAll(async () => {
  await http?.close();
});

interface Variant {
  variant: string;
  exposedUsers: number;
  convertedUsers: number;
  conversionRate: number;
  usersInSeveralVariants: number;
  difference: number | null;
  lift: number | null;
  zScore: number | null;
  pValue: number | null;
  confidenceInterval: { lower: number; upper: number } | null;
}
interface Experiment {
  experiment: string;
  goal: string;
  windowDays: number;
  control: string | null;
  variants: Variant[];
}

/** P(|Z| ≥ |z|) as 1 − 2∫₀^|z| φ, by Simpson's rule on 20,000 intervals. */
function referencePValue(z: number): number {
  const steps = 20_000;
  const width = Math.abs(z) / steps;
  const density = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  let sum = density(0) + density(Math.abs(z));
  for (let index = 1; index < steps; index++) {
    sum += (index % 2 === 1 ? 4 : 2) * density(index * width);
  }
  return 1 - 2 * ((sum * width) / 3);
}

/** Per variant (exposed, converted, mixed), from the raw events, by the definitions. */
function referenceCounts(experiment: string, windowDays: number) {
  const fromMs = Date.parse(`${FROM}T00:00:00Z`);
  const toMs = Date.parse(`${TO}T00:00:00Z`) + 86_400_000;
  const links = new Map<string, string>();
  for (const event of EVENTS) {
    if (typeof event.userId === 'string' && typeof event.anonymousId === 'string') {
      links.set(event.anonymousId, links.get(event.anonymousId) ?? event.userId);
    }
  }
  const keyOf = (event: Event) =>
    (event.userId as string | undefined) ??
    links.get(event.anonymousId as string) ??
    event.anonymousId;
  const exposures = new Map<string, Array<{ ms: number; variant: string }>>();
  const goals = new Map<string, number[]>();
  for (const event of EVENTS) {
    const ms = Date.parse(event.timestamp);
    const key = String(keyOf(event));
    const properties = (event.properties ?? {}) as { experiment?: string; variant?: string };
    if (
      event.type === 'track' &&
      event.event === 'experiment_exposure' &&
      properties.experiment === experiment &&
      ms >= fromMs &&
      ms < toMs
    ) {
      exposures.set(key, [...(exposures.get(key) ?? []), { ms, variant: properties.variant! }]);
    }
    if (event.event === GOAL) goals.set(key, [...(goals.get(key) ?? []), ms]);
  }
  const counts = new Map<string, { exposed: number; converted: number; mixed: number }>();
  for (const [key, seen] of exposures) {
    const first = [...seen].sort((a, b) => a.ms - b.ms || (a.variant < b.variant ? -1 : 1))[0]!;
    const count = counts.get(first.variant) ?? { exposed: 0, converted: 0, mixed: 0 };
    count.exposed++;
    const limit = first.ms + windowDays * 86_400_000;
    if ((goals.get(key) ?? []).some((ms) => ms >= first.ms && ms <= limit)) count.converted++;
    if (new Set(seen.map((exposure) => exposure.variant)).size > 1) count.mixed++;
    counts.set(first.variant, count);
  }
  return counts;
}

async function experiment(name: string, query: Record<string, string> = {}): Promise<Experiment> {
  const search = new URLSearchParams({ goal: GOAL, from: FROM, to: TO, ...query });
  return readJson<Experiment>(
    http.url,
    `/v1/experiments/${encodeURIComponent(name)}?${search}`,
    READ_KEY,
  );
}

/** Compares the answer with the reference counts and statistics computed here. */
function expectMatchesReference(answer: Experiment, name: string, windowDays: number) {
  const counts = referenceCounts(name, windowDays);
  expect(Object.fromEntries(answer.variants.map((v) => [v.variant, v.exposedUsers]))).toEqual(
    Object.fromEntries([...counts].map(([variant, count]) => [variant, count.exposed])),
  );
  const control = counts.get(answer.control!)!;
  for (const variant of answer.variants) {
    const count = counts.get(variant.variant)!;
    expect(variant.convertedUsers, variant.variant).toBe(count.converted);
    expect(variant.usersInSeveralVariants, variant.variant).toBe(count.mixed);
    expect(variant.conversionRate).toBe(count.converted / count.exposed);
    if (variant.variant === answer.control) {
      expect(variant.pValue).toBeNull();
      continue;
    }
    const p1 = control.converted / control.exposed;
    const p2 = count.converted / count.exposed;
    const pooled = (control.converted + count.converted) / (control.exposed + count.exposed);
    const z =
      (p2 - p1) / Math.sqrt(pooled * (1 - pooled) * (1 / control.exposed + 1 / count.exposed));
    const half =
      1.96 * Math.sqrt((p1 * (1 - p1)) / control.exposed + (p2 * (1 - p2)) / count.exposed);
    expect(variant.difference).toBeCloseTo(p2 - p1, 12);
    expect(variant.lift).toBeCloseTo((p2 - p1) / p1, 12);
    expect(variant.zScore).toBeCloseTo(z, 10);
    const reference = referencePValue(z);
    expect(Math.abs(variant.pValue! - reference)).toBeLessThanOrEqual(1e-9 + 1e-6 * reference);
    expect(variant.confidenceInterval!.lower).toBeCloseTo(p2 - p1 - half, 4);
    expect(variant.confidenceInterval!.upper).toBeCloseTo(p2 - p1 + half, 4);
  }
}

describe('GET /v1/experiments/:name', () => {
  it('the reference p-value is right where the normal table says (1.96 → 0.05)', () => {
    expect(referencePValue(1.959963984540054)).toBeCloseTo(0.05, 10);
    expect(referencePValue(2.5758293035489004)).toBeCloseTo(0.01, 10);
    expect(referencePValue(0)).toBe(1);
  });

  it('finds a known effect (10 % → 15 %) significant, with the true difference in its interval', async () => {
    const answer = await experiment('prompt-v2');
    expect(answer).toMatchObject({
      experiment: 'prompt-v2',
      goal: GOAL,
      windowDays: 7,
      control: 'control',
    });
    expect(answer.variants.map((variant) => variant.variant)).toEqual(['control', 'treatment']);
    expectMatchesReference(answer, 'prompt-v2', 7);
    const treatment = answer.variants[1]!;
    expect(treatment.pValue).toBeLessThan(0.001);
    expect(treatment.confidenceInterval!.lower).toBeLessThan(0.05);
    expect(treatment.confidenceInterval!.upper).toBeGreaterThan(0.05);
    expect(treatment.confidenceInterval!.lower).toBeGreaterThan(0);
    expect(treatment.lift).toBeGreaterThan(0.25);
    expect(treatment.lift).toBeLessThan(0.75);
  });

  it('finds no effect in an A/A split: p not small, 0 inside the interval', async () => {
    const answer = await experiment('aa-split');
    expect(answer.control).toBe('a');
    expectMatchesReference(answer, 'aa-split', 7);
    const b = answer.variants[1]!;
    expect(b.pValue).toBeGreaterThan(0.05);
    expect(b.confidenceInterval!.lower).toBeLessThan(0);
    expect(b.confidenceInterval!.upper).toBeGreaterThan(0);
  });

  it('counts conversions within the window only, its last millisecond included', async () => {
    const week = await experiment('prompt-v2');
    const day = await experiment('prompt-v2', { windowDays: '1' });
    expectMatchesReference(day, 'prompt-v2', 1);
    expect(day.variants[0]!.convertedUsers).toBeLessThan(week.variants[0]!.convertedUsers);
    const longer = await experiment('prompt-v2', { windowDays: '30' });
    expectMatchesReference(longer, 'prompt-v2', 30);
    expect(longer.variants[0]!.convertedUsers).toBeGreaterThan(week.variants[0]!.convertedUsers);
  });

  it('compares with a chosen control, and reads names with slashes and non-ASCII text', async () => {
    const answer = await experiment(SLASHED);
    expect(answer.control).toBe('control');
    expect(answer.variants.map((variant) => variant.variant)).toEqual(['control', 'fast', 'slow']);
    expectMatchesReference(answer, SLASHED, 7);
    const chosen = await experiment(SLASHED, { control: 'slow' });
    expect(chosen.variants.map((variant) => variant.variant)).toEqual(['slow', 'control', 'fast']);
    expectMatchesReference(chosen, SLASHED, 7);
  });

  it('answers an experiment nobody saw with no variants', async () => {
    expect(await experiment('never-run')).toEqual({
      experiment: 'never-run',
      goal: GOAL,
      windowDays: 7,
      control: null,
      variants: [],
    });
  });

  it.each([
    ['goal', `from=${FROM}&to=${TO}`],
    ['windowDays', `goal=${GOAL}&from=${FROM}&to=${TO}&windowDays=0`],
    ['windowDays', `goal=${GOAL}&from=${FROM}&to=${TO}&windowDays=seven`],
    ['to', `goal=${GOAL}&from=${FROM}&to=2024-02-01`],
  ])('answers 400 naming %s', async (parameter, query) => {
    const body = await readJson<{ error: { parameter: string; message: string } }>(
      http.url,
      `/v1/experiments/prompt-v2?${query}`,
      READ_KEY,
      { status: 400 },
    );
    expect(body.error.parameter).toBe(parameter);
    expect(body.error.message.startsWith(`${parameter}: `)).toBe(true);
  });
});
