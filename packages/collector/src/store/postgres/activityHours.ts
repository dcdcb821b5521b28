import type { PoolClient } from 'pg';
import { subjectActivity } from '../../privacy/subject';
import { postgresDialect } from '../../query/postgresDialect';
import { raw, render, type Sql, sql } from '../../query/sql';
import {
  type ActivityEvents,
  activityRowSelect,
  DEFAULT_ACTIVITY_EVENTS,
  MERGE_ACTIVITY_ROWS,
  sameActivityEvents,
} from '../activityRollup';

/*
 * `activity_hours` in PostgreSQL: the same rollup as the DuckDB store's (see
 * duckdb/activityHours.ts for what each column holds), with touches as JSONB objects (what
 * `postgresDialect.pack` builds) and exact millionths as NUMERIC.
 *
 * It is kept by a statement trigger on `events` (migration 4) rather than by the collector's
 * writer, so every writer keeps it: several collectors behind a load balancer, a collector of an
 * older version still running during a rolling upgrade, `migrate`, or a hand-written INSERT. The
 * trigger reads the event names from `activity_events` in the inserting transaction.
 */

/**
 * The rollup's rows of the events in `source` (a table or subquery with the columns of `events`),
 * for the event names `names` (SQL expressions: bound values, or the trigger's variables), as
 * `INSERT INTO activity_hours` takes them. Rows come in key order, so two transactions adding to
 * the same rows lock them in the same order (no deadlock between two collectors).
 *
 * Migration 4 put this query into the trigger's function as this code wrote it then: a change here
 * needs a migration that replaces the function (a test compares the two).
 */
export function rollupSelect(source: Sql, names: Record<keyof ActivityEvents, Sql>): Sql {
  const spend = postgresDialect.jsonNumber(sql`properties`, 'amount');
  const touch = postgresDialect.pack({
    utm_source: sql`utm_source`,
    utm_medium: sql`utm_medium`,
    utm_campaign: sql`utm_campaign`,
    referrer_domain: sql`referrer_domain`,
  });
  // The UTC hour whatever the session's time zone (a trigger runs in the inserting session).
  return sql`SELECT ${activityRowSelect(names, sql`date_trunc('hour', "timestamp", 'UTC')`, {
    first: postgresDialect.valueAtMin(sql`touch`, sql`touch_at`),
    last: postgresDialect.valueAtMax(sql`touch`, sql`touch_at`),
  })}
    FROM (
      SELECT tenant, "timestamp", user_id, anonymous_id, session_id, event,
        CASE WHEN type = 'track' THEN revenue END AS amount,
        CASE WHEN type = 'track' AND event = ${names.adSpend} THEN ${spend} END AS spend,
        CASE WHEN utm_source IS NOT NULL OR referrer_domain IS NOT NULL THEN "timestamp" END AS touch_at,
        ${touch} AS touch
      FROM ${source}
    ) AS rows
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5`;
}

/**
 * The trigger function's body: the rollup of the statement's inserted rows (`inserted`, its
 * transition table), merged into `activity_hours`. Nothing while no names are recorded (a
 * database migrated by a collector that has not filled the rollup yet: it rebuilds it on open).
 */
export function triggerFunctionBody(): string {
  const select = rollupSelect(sql`inserted`, {
    signup: sql`names.signup_event`,
    payment: sql`names.payment_event`,
    adSpend: sql`names.ad_spend_event`,
  });
  // Inside the function no value is bound: the one value the select holds (the JSON key of the
  // ad spend amount) goes in as a literal.
  const text = inlineValues(select);
  return `
DECLARE
  names activity_events%ROWTYPE;
BEGIN
  SELECT * INTO names FROM activity_events LIMIT 1;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  INSERT INTO activity_hours ${text}
  ${MERGE_ACTIVITY_ROWS};
  RETURN NULL;
END;
`;
}

/** `$n` placeholders of a rendered fragment as SQL string literals (code-chosen text only). */
function inlineValues(fragment: Sql): string {
  const { text, values } = render(fragment);
  return text.replace(/\$(\d+)/g, (_, index: string) => {
    const value = values[Number(index) - 1];
    if (typeof value !== 'string' || !/^[a-z_]+$/.test(value)) {
      throw new Error(`not a literal the trigger may hold: ${String(value)}`);
    }
    return `'${value}'`;
  });
}

/** The event names recorded in `activity_events`, or undefined before the rollup was filled. */
export async function recordedActivityEvents(
  client: Pick<PoolClient, 'query'>,
): Promise<ActivityEvents | undefined> {
  const { rows } = await client.query<{ s: string; p: string; a: string }>(
    'SELECT signup_event AS s, payment_event AS p, ad_spend_event AS a FROM activity_events LIMIT 1',
  );
  const [row] = rows;
  return row && { signup: row.s, payment: row.p, adSpend: row.a };
}

/**
 * Makes `activity_hours` hold `names`' columns, as the DuckDB store's `ensureActivityEvents`
 * does: when `names` is given and differs from the recorded ones, or none are recorded, rebuilds
 * the rollup from every stored event in one transaction. Inserts into `events` wait meanwhile
 * (SHARE lock), so no event is rolled up twice or missed. Resolves with the names the rollup holds.
 */
export async function ensureActivityEvents(
  client: PoolClient,
  names: ActivityEvents | undefined,
): Promise<ActivityEvents> {
  const held = await recordedActivityEvents(client);
  const wanted = names ?? held ?? DEFAULT_ACTIVITY_EVENTS;
  if (held && sameActivityEvents(held, wanted)) return held;
  await client.query('BEGIN');
  try {
    // Collectors starting together rebuild one at a time; the last one's names win.
    await client.query('SELECT pg_advisory_xact_lock($1)', [ACTIVITY_LOCK]);
    await client.query('LOCK TABLE events IN SHARE MODE');
    await client.query('TRUNCATE activity_hours');
    await client.query('DELETE FROM activity_events');
    await client.query(
      'INSERT INTO activity_events (signup_event, payment_event, ad_spend_event) VALUES ($1, $2, $3)',
      [wanted.signup, wanted.payment, wanted.adSpend],
    );
    const fill = render(
      sql`INSERT INTO activity_hours ${rollupSelect(sql`events`, {
        signup: sql`${wanted.signup}`,
        payment: sql`${wanted.payment}`,
        adSpend: sql`${wanted.adSpend}`,
      })}`,
    );
    await client.query(fill.text, [...fill.values]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  return wanted;
}

/** Serialises rollup rebuilds of several collectors on one database. */
const ACTIVITY_LOCK = 7_263_541_004;

/**
 * Drops the rollup rows of one data subject; run in the erasure's transaction, before its
 * identity links go (the predicate reads them).
 */
export function eraseActivity(tenant: string, userId: string): Sql {
  return sql`DELETE FROM activity_hours WHERE ${subjectActivity(tenant, userId)}`;
}

/**
 * After the events before `cutoff` were deleted: drop the rollup's hours up to the one `cutoff`
 * falls in, then rebuild that hour from the events left, for the names `activity_events` holds;
 * run in the prune's transaction.
 */
export function pruneActivity(cutoff: Sql): Sql[] {
  const hour = sql`date_trunc('hour', ${cutoff}, 'UTC')`;
  const recorded = (column: string) => sql`(SELECT ${raw(column)} FROM activity_events LIMIT 1)`;
  return [
    sql`DELETE FROM activity_hours WHERE hour <= ${hour}`,
    sql`INSERT INTO activity_hours ${rollupSelect(
      sql`(SELECT * FROM events WHERE "timestamp" >= ${hour}
        AND "timestamp" < ${hour} + INTERVAL '1 hour') AS pruned_hour`,
      {
        signup: recorded('signup_event'),
        payment: recorded('payment_event'),
        adSpend: recorded('ad_spend_event'),
      },
    )}`,
  ];
}
