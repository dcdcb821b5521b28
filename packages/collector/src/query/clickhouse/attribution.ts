import type { Row, Store } from '../../store/store';
import type { AttributionModel } from '../attribution';
import { clickhouseDialect as dialect } from '../clickhouseDialect';
import { render, type Sql, sql } from '../sql';
import type { TimeRange } from '../time';
import { eventRows } from './eventRows';
import { isTrue, LINK_ANON, withUserKey } from './userKeys';

/**
 * Attribution's rows on ClickHouse (`utm_source`, `utm_medium`, `utm_campaign`,
 * `referrer_domain`, `users`, `sessions`, `conversions`, `revenue`), as the standard query of
 * `attribution.ts` returns them: each user key's credited channel (the channel tuple at its
 * first touch ever, or its last touch before the end of the range), joined to the user's events
 * in the range. Distinct counts are exact (`uniqExact`, which skips NULL as `count(DISTINCT)`
 * does); a user without a touch is under the all-NULL channel. The touches are read without
 * `FINAL` (a copy not merged yet cannot change a first or last touch); the range's events, counted
 * and summed, with it.
 *
 * @example
 * await attributionRows(store, 'acme', { range, model: 'first_touch', paymentEvent: 'payment_completed' });
 */
export function attributionRows(
  store: Store,
  tenant: string,
  query: { range: TimeRange; model: AttributionModel; paymentEvent: string },
): Promise<Row[]> {
  const { range } = query;
  const keyed = (columns: Sql, from: Sql, where: Sql) =>
    withUserKey(
      tenant,
      sql`SELECT user_id, anonymous_id, ${LINK_ANON}, "timestamp" AS ts, ${columns} ${from}${where}`,
      sql`ts, ${columns}`,
    );
  const channel = sql`(utm_source, utm_medium, utm_campaign, referrer_domain)`;
  const credited =
    query.model === 'first_touch' ? sql`argMin(${channel}, ts)` : sql`argMax(${channel}, ts)`;
  const touches = keyed(
    sql`utm_source, utm_medium, utm_campaign, referrer_domain`,
    eventRows(tenant, { until: query.model === 'last_touch' ? range.endMs : undefined }),
    sql` AND (isNotNull(utm_source) OR isNotNull(referrer_domain))`,
  );
  const credit = sql`(SELECT user_key, ${credited} AS channel, toUInt8(1) AS credited
    FROM (${touches}) GROUP BY user_key)`;
  const inRange = keyed(
    sql`type, event, revenue, session_id`,
    eventRows(tenant, { since: range.startMs, until: range.endMs, final: true }),
    sql``,
  );
  const part = (index: number) =>
    sql`if(credited = 1, tupleElement(channel, ${index}), CAST(NULL AS Nullable(String)))`;
  return store.query(
    render(sql`SELECT channel_source AS utm_source, channel_medium AS utm_medium,
        channel_campaign AS utm_campaign, channel_referrer AS referrer_domain,
        uniqExact(user_key) AS users,
        uniqExact(session_id) AS sessions,
        countIf(${isTrue(sql`event = ${query.paymentEvent}`)}) AS conversions,
        toFloat64(ifNull(${dialect.sumAmounts(sql`track_revenue`)}, 0)) AS revenue
      FROM (
        SELECT user_key, event, if(type = 'track', revenue, NULL) AS track_revenue, session_id,
          ${part(1)} AS channel_source, ${part(2)} AS channel_medium,
          ${part(3)} AS channel_campaign, ${part(4)} AS channel_referrer
        FROM (${inRange}) AS in_range ANY LEFT JOIN ${credit} AS credit USING user_key
      )
      GROUP BY channel_source, channel_medium, channel_campaign, channel_referrer`),
  );
}
