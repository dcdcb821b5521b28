import type { Row, Store } from '../store/store';
import { ACTIVITY_IDS, activityRevenue, rollupKeeps, usesActivityHours } from './activity';
import { attributionRows } from './clickhouse/attribution';
import { dialectOf } from './dialect';
import { keyedEvents, linksCte, USER_KEY } from './keyedEvents';
import { raw, render, type Sql, sql } from './sql';
import type { TimeRange } from './time';

export type AttributionModel = 'first_touch' | 'last_touch';

export interface Channel {
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  referrerDomain: string | null;
  users: number;
  sessions: number;
  conversions: number;
  revenue: number;
}

/**
 * Users, sessions, conversions and revenue of the range by channel (utm source/medium/campaign and
 * referrer domain), each user credited to its first touch ever or its last touch up to the end of
 * the range (docs/metrics.md). Users without a touch fall under the all-null (direct) channel.
 *
 * @example
 * await computeAttribution(store, 'acme', { range, model: 'first_touch', paymentEvent: 'payment_completed' });
 */
export async function computeAttribution(
  store: Store,
  tenant: string,
  query: { range: TimeRange; model: AttributionModel; paymentEvent: string },
): Promise<{ channels: Channel[] }> {
  const rows =
    store.kind === 'clickhouse'
      ? await attributionRows(store, tenant, query)
      : await standardRows(store, tenant, query);
  const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
  const channels: Channel[] = rows.map((row) => ({
    utmSource: text(row.utm_source),
    utmMedium: text(row.utm_medium),
    utmCampaign: text(row.utm_campaign),
    referrerDomain: text(row.referrer_domain),
    users: Number(row.users),
    sessions: Number(row.sessions),
    conversions: Number(row.conversions),
    revenue: Number(row.revenue),
  }));
  const order = (a: string | null, b: string | null) =>
    a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1;
  channels.sort(
    (a, b) =>
      b.users - a.users ||
      order(a.utmSource, b.utmSource) ||
      order(a.utmMedium, b.utmMedium) ||
      order(a.utmCampaign, b.utmCampaign) ||
      order(a.referrerDomain, b.referrerDomain),
  );
  return { channels };
}

/** Attribution's rows (channel columns, `users`, `sessions`, `conversions`, `revenue`) with CTEs. */
function standardRows(
  store: Store,
  tenant: string,
  query: { range: TimeRange; model: AttributionModel; paymentEvent: string },
): Promise<Row[]> {
  const { range } = query;
  const dialect = dialectOf(store.kind);
  const instant = dialect.instant;
  const channel = dialect.pack({
    utm_source: sql`utm_source`,
    utm_medium: sql`utm_medium`,
    utm_campaign: sql`utm_campaign`,
    referrer_domain: sql`referrer_domain`,
  });
  const credited =
    query.model === 'first_touch'
      ? dialect.valueAtMin(channel, sql`ts`)
      : dialect.valueAtMax(channel, sql`ts`);
  const touched = sql`(utm_source IS NOT NULL OR referrer_domain IS NOT NULL)`;
  const until = query.model === 'last_touch' ? range.endMs : undefined;
  const credit = sql`credit AS (
    SELECT user_key, ${credited} AS channel FROM touches GROUP BY user_key
  )`;
  const columnsOf = (packed: Sql) => sql`${dialect.unpack(packed, 'utm_source')} AS utm_source,
    ${dialect.unpack(packed, 'utm_medium')} AS utm_medium,
    ${dialect.unpack(packed, 'utm_campaign')} AS utm_campaign,
    ${dialect.unpack(packed, 'referrer_domain')} AS referrer_domain`;
  const channelColumns = columnsOf(sql`c.channel`);
  if (usesActivityHours(store, range.tz, range, [])) {
    // Touches, users, sessions and revenue from the hourly rollup; conversions too when it counts
    // the payment event's name, else from the events.
    const inRange = (column: Sql) =>
      sql`${column} >= ${instant(range.startMs)} AND ${column} < ${instant(range.endMs)}`;
    const touch = query.model === 'first_touch' ? 'first' : 'last';
    const touchAt = raw(`${touch}_touch_at`);
    const pick = query.model === 'first_touch' ? dialect.valueAtMin : dialect.valueAtMax;
    const rolledPayments = rollupKeeps(store, { payment: query.paymentEvent });
    // A first touch ever is each pair's in `identity_firsts` where the store keeps it: a row per
    // pair rather than every rollup row with a touch.
    const firsts = query.model === 'first_touch' && store.identityFirsts === true;
    // `e` has a row per rollup row in the range (and per payer, when payments come from the
    // events): the final aggregate counts users and sessions distinctly and sums the rest. It
    // groups by a channel number rather than the channel's four texts (a third less time at 10M
    // events: its distinct counts key on the group); users without a credited channel get none
    // and form the all-null (direct) row.
    return store.query(
      render(sql`WITH ${linksCte(dialect, tenant)},
        credit AS (
          SELECT ${USER_KEY} AS user_key, ${pick(sql`r.channel`, sql`r.ts`)} AS channel
          FROM (SELECT ${ACTIVITY_IDS}, ${touchAt} AS ts, ${raw(`${touch}_touch`)} AS channel
            FROM ${firsts ? raw('identity_firsts') : raw('activity_hours')}
            WHERE tenant = ${tenant} AND ${touchAt} IS NOT NULL${
              until === undefined ? sql`` : sql` AND hour < ${instant(until)}`
            }) AS r
          LEFT JOIN links l ON l.anonymous_id = r.anonymous_id
          GROUP BY 1
        ),
        ${
          rolledPayments
            ? sql``
            : sql`payments AS (
          SELECT ${USER_KEY} AS user_key, count(*) AS conversions
          FROM events r LEFT JOIN links l ON l.anonymous_id = r.anonymous_id
          WHERE r.tenant = ${tenant} AND r.event = ${query.paymentEvent} AND ${inRange(sql`r."timestamp"`)}
          GROUP BY 1
        ),`
        }
        channels AS (
          SELECT channel, row_number() OVER () AS channel_id
          FROM (SELECT DISTINCT channel FROM credit WHERE channel IS NOT NULL) AS d
        ),
        credited AS (
          SELECT c.user_key, h.channel_id FROM credit c JOIN channels h ON h.channel = c.channel
        ),
        e AS (
          SELECT ${USER_KEY} AS user_key, nullif(r.session_id, '') AS session_id,
            r.revenue_count, r.revenue_micros, r.revenue_large,
            ${rolledPayments ? sql`r.payments` : sql`0`} AS conversions
          FROM (SELECT ${ACTIVITY_IDS}, session_id, revenue_count, revenue_micros, revenue_large, payments
            FROM activity_hours WHERE tenant = ${tenant} AND ${inRange(sql`hour`)}) AS r
          LEFT JOIN links l ON l.anonymous_id = r.anonymous_id${
            rolledPayments
              ? sql``
              : sql`
          UNION ALL SELECT user_key, NULL, 0, 0, 0, conversions FROM payments`
          }
        ),
        per AS (
          SELECT cr.channel_id,
            count(DISTINCT e.user_key) AS users,
            count(DISTINCT e.session_id) AS sessions,
            sum(e.conversions) AS conversions,
            ${dialect.double(sql`coalesce(${activityRevenue()}, 0)`)} AS revenue
          FROM e LEFT JOIN credited cr ON cr.user_key = e.user_key
          GROUP BY cr.channel_id
        )
        SELECT ${columnsOf(sql`h.channel`)}, p.users, p.sessions, p.conversions, p.revenue
        FROM per p LEFT JOIN channels h ON h.channel_id = p.channel_id`),
    );
  }
  return store.query(
    render(sql`WITH ${keyedEvents(dialect, tenant, {
      columns: [
        'type',
        'event',
        'revenue',
        'session_id',
        'utm_source',
        'utm_medium',
        'utm_campaign',
        'referrer_domain',
      ],
    })},
      touches AS (
        SELECT * FROM ev WHERE ${touched}${until === undefined ? sql`` : sql` AND ts < ${instant(until)}`}
      ),
      ${credit},
      in_range AS (
        SELECT * FROM ev WHERE ts >= ${instant(range.startMs)} AND ts < ${instant(range.endMs)}
      )
      SELECT ${channelColumns},
        count(DISTINCT e.user_key) AS users,
        count(DISTINCT e.session_id) AS sessions,
        count(*) FILTER (WHERE e.event = ${query.paymentEvent}) AS conversions,
        ${dialect.double(sql`coalesce(${dialect.sumAmounts(sql`CASE WHEN e.type = 'track' THEN e.revenue END`)}, 0)`)} AS revenue
      FROM in_range e LEFT JOIN credit c ON c.user_key = e.user_key
      GROUP BY 1, 2, 3, 4`),
  );
}
