import type { Row, Store } from '../store/store';
import { experimentRows as clickhouseExperimentRows } from './clickhouse/experiments';
import { dialectOf } from './dialect';
import { keyedEvents } from './keyedEvents';
import { storedText } from './models';
import { twoSidedPValue, Z_95 } from './normal';
import { render, type Sql, sql } from './sql';
import type { TimeRange } from './time';

/** The event that records which variant of an experiment a user saw. */
export const EXPOSURE_EVENT = 'experiment_exposure';

const DAY_MS = 86_400_000;

export interface ExperimentQuery {
  /** `properties.experiment` of the exposures. */
  experiment: string;
  /** The event that counts as a conversion. */
  goal: string;
  /** Exposures in this range count. */
  range: TimeRange;
  /** A goal event counts up to this many days after the user's first exposure. */
  windowDays: number;
  /** The variant the others are compared with; default `control`, else the first by name. */
  control?: string;
}

/** One variant's users and, for every variant but the control, its comparison with the control. */
export interface VariantResult {
  variant: string;
  exposedUsers: number;
  convertedUsers: number;
  conversionRate: number;
  /** Exposed users of this variant who also saw another variant later. */
  usersInSeveralVariants: number;
  /** rate − control rate. */
  difference: number | null;
  /** (rate − control rate) / control rate; null when the control rate is 0. */
  lift: number | null;
  /** Pooled two-proportion z statistic; null when the pooled rate is 0 or 1. */
  zScore: number | null;
  /** Two-sided p-value of `zScore`. */
  pValue: number | null;
  /** 95 % Wald (unpooled) interval of `difference`. */
  confidenceInterval: { lower: number; upper: number } | null;
}

export interface ExperimentResult {
  experiment: string;
  goal: string;
  windowDays: number;
  /** The variant compared with; null when no exposure has it. */
  control: string | null;
  /** The control first, then the others by name. */
  variants: VariantResult[];
}

/**
 * An experiment's results as docs/metrics.md defines them: each user key counts in the variant of
 * its first exposure in the range, and converted when it did the goal event within `windowDays`
 * of that exposure; every variant is compared with the control by a pooled two-proportion z-test
 * and a 95 % Wald interval of the difference. One query (ClickHouse: `clickhouse/experiments.ts`).
 *
 * @example
 * await computeExperiment(store, 'acme', { experiment: 'new-prompt', goal: 'signup_completed', range, windowDays: 7 });
 */
export async function computeExperiment(
  store: Store,
  tenant: string,
  query: ExperimentQuery,
): Promise<ExperimentResult> {
  const rows = await experimentRows(store, tenant, query);
  const variants = rows
    .map((row) => ({
      variant: variantName(row.variant),
      exposed: Number(row.exposed),
      converted: Number(row.converted),
      mixed: Number(row.mixed),
    }))
    .sort((a, b) => (a.variant < b.variant ? -1 : a.variant > b.variant ? 1 : 0));
  const controlName =
    (query.control === undefined ? undefined : storedText(store.kind, query.control)) ??
    (variants.some((variant) => variant.variant === 'control') ? 'control' : variants[0]?.variant);
  const control = variants.find((variant) => variant.variant === controlName);
  const ordered = control
    ? [control, ...variants.filter((variant) => variant !== control)]
    : variants;
  return {
    experiment: query.experiment,
    goal: query.goal,
    windowDays: query.windowDays,
    control: control?.variant ?? null,
    variants: ordered.map((variant) => ({
      variant: variant.variant,
      exposedUsers: variant.exposed,
      convertedUsers: variant.converted,
      conversionRate: variant.converted / variant.exposed,
      usersInSeveralVariants: variant.mixed,
      ...(control && variant !== control
        ? compareProportions(control, variant)
        : { difference: null, lift: null, zScore: null, pValue: null, confidenceInterval: null }),
    })),
  };
}

/** A variant's JSON text as its name: a string's value, other JSON as its text. */
function variantName(text: unknown): string {
  const raw = String(text);
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'string' ? value : raw;
  } catch {
    return raw;
  }
}

/**
 * Treatment vs control, both as converted out of exposed: the difference and lift of the rates,
 * the pooled two-proportion z-test (two-sided) and the unpooled 95 % Wald interval of the
 * difference (docs/metrics.md).
 *
 * @example
 * compareProportions({ exposed: 1000, converted: 100 }, { exposed: 1000, converted: 150 });
 * // { difference: 0.05, lift: 0.5, zScore: 3.38…, pValue: 0.0007…, confidenceInterval: { lower: 0.0207…, upper: 0.0792… } }
 */
export function compareProportions(
  control: { exposed: number; converted: number },
  treatment: { exposed: number; converted: number },
): Pick<VariantResult, 'difference' | 'lift' | 'zScore' | 'pValue' | 'confidenceInterval'> {
  const controlRate = control.converted / control.exposed;
  const rate = treatment.converted / treatment.exposed;
  const difference = rate - controlRate;
  const pooled = (control.converted + treatment.converted) / (control.exposed + treatment.exposed);
  const pooledError = Math.sqrt(
    pooled * (1 - pooled) * (1 / control.exposed + 1 / treatment.exposed),
  );
  const zScore = pooledError > 0 ? difference / pooledError : null;
  const error = Math.sqrt(
    (controlRate * (1 - controlRate)) / control.exposed + (rate * (1 - rate)) / treatment.exposed,
  );
  return {
    difference,
    lift: controlRate === 0 ? null : difference / controlRate,
    zScore,
    pValue: zScore === null ? null : twoSidedPValue(zScore),
    confidenceInterval: { lower: difference - Z_95 * error, upper: difference + Z_95 * error },
  };
}

/** Per variant: exposed users, converted users, users also seen in another variant. */
function experimentRows(store: Store, tenant: string, query: ExperimentQuery): Promise<Row[]> {
  const dialect = dialectOf(store.kind);
  const { range } = query;
  const windowMs = query.windowDays * DAY_MS;
  const variant = dialect.text(dialect.jsonProperty(sql`e.properties`, 'variant'));
  const exposure: Sql = sql`e.type = 'track' AND e.event = ${EXPOSURE_EVENT}
    AND e."timestamp" < ${dialect.instant(range.endMs)}
    AND ${dialect.jsonPropertyEquals(sql`e.properties`, 'experiment', query.experiment)}
    AND ${dialect.jsonProperty(sql`e.properties`, 'variant')} IS NOT NULL`;
  if (store.kind === 'clickhouse') {
    return clickhouseExperimentRows(store, tenant, {
      exposure,
      variant,
      goal: query.goal,
      events: [...new Set([EXPOSURE_EVENT, query.goal])],
      windowMs,
      range,
    });
  }
  // Ties between exposures at one instant go to the smaller variant text, compared byte by byte
  // in every engine.
  const order = store.kind === 'postgres' ? sql`ts, variant COLLATE "C"` : sql`ts, variant`;
  const statement = sql`WITH ${keyedEvents(dialect, tenant, {
    since: range.startMs,
    until: range.endMs + windowMs + 1,
    where: sql`(${exposure}) OR e.event = ${query.goal}`,
    select: sql`(${exposure}) AS exposed, ${variant} AS variant, (e.event = ${query.goal}) AS goal_hit`,
  })},
    exposures AS (
      SELECT user_key, min(ts) AS first_ts, ${dialect.firstOrdered(sql`variant`, order)} AS variant,
        count(DISTINCT variant) AS variants
      FROM ev WHERE exposed GROUP BY user_key
    ),
    conversions AS (
      SELECT DISTINCT x.user_key FROM exposures x
      JOIN ev g ON g.user_key = x.user_key AND g.goal_hit AND g.ts >= x.first_ts
        AND g.ts <= ${dialect.plusSeconds(sql`x.first_ts`, windowMs / 1000)}
    )
    SELECT x.variant, ${dialect.double(sql`count(*)`)} AS exposed,
      ${dialect.double(sql`count(c.user_key)`)} AS converted,
      ${dialect.double(sql`sum(CASE WHEN x.variants > 1 THEN 1 ELSE 0 END)`)} AS mixed
    FROM exposures x LEFT JOIN conversions c ON c.user_key = x.user_key
    GROUP BY x.variant`;
  return store.query(render(statement));
}
