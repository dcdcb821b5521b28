import { compare } from './referenceFunnel';
import { type Dataset, numeric, type Row } from './referenceRows';
import { dailyValue } from './referenceSeries';
import { addDays, addPeriods, checkRange, datesBetween, periodStart } from './referenceTime';

/** `GET /v1/dashboard`, with dates `YYYY-MM-DD` (inclusive, in `tz`) and the collector's config. */
export interface DashboardQuery {
  from: string;
  to: string;
  tz: string;
  /** Default `signup_completed`. */
  signupEvent?: string;
  /** Default `payment_completed`. */
  paymentEvent?: string;
  /** Default `ad_spend`. */
  adSpendEvent?: string;
  /** Configured spend for the range; when set, ad spend events are not read. */
  acquisitionSpend?: number;
}

/** The KPI summary. Ratios are fractions (0.25, not 25). */
export interface DashboardResult {
  dau: number;
  wau: number;
  mau: number;
  newUsers: number;
  revenue: number;
  signups: number;
  /** 0..1; 0 when there are no signups. */
  conversion: number;
  churn: number | null;
  arpu: number | null;
  ltv: number | null;
  cac: number | null;
  ltvCac: number | null;
  acquisitionSpend: number;
  newPayingUsers: number;
}

/** `GET /v1/attribution`, with dates `YYYY-MM-DD` (inclusive, in `tz`). */
export interface AttributionQuery {
  from: string;
  to: string;
  tz: string;
  model: 'first_touch' | 'last_touch';
  /** Default `payment_completed`. */
  paymentEvent?: string;
}

/** A channel: the UTM fields and referrer domain of a touch (all null: direct). */
export interface AttributionChannel {
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  referrerDomain: string | null;
}

/** Channels sorted by users desc, then by their four fields ascending (nulls last). */
export interface AttributionResult {
  channels: Array<
    AttributionChannel & { users: number; sessions: number; conversions: number; revenue: number }
  >;
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

/** docs/metrics.md, "Business KPIs". */
export function dashboard(data: Dataset, query: DashboardQuery): DashboardResult {
  checkRange(query);
  const { from, to, tz } = query;
  const signupEvent = query.signupEvent ?? 'signup_completed';
  const paymentEvent = query.paymentEvent ?? 'payment_completed';
  const adSpendEvent = query.adSpendEvent ?? 'ad_spend';
  const zone = data.zone(tz);
  const inRange = (row: Row) => zone.day(row) >= from && zone.day(row) <= to;
  const dates = datesBetween(from, to);

  // Signup → payment: first signup in the range, then a payment at or after it, up to `to`.
  let signups = 0;
  let converted = 0;
  for (const rows of data.byKey.values()) {
    const signup = rows.find((row) => row.name === signupEvent && inRange(row));
    if (!signup) continue;
    signups++;
    const paid = rows.some(
      (row) => row.name === paymentEvent && row.time >= signup.time && zone.day(row) <= to,
    );
    if (paid) converted++;
  }

  // Churn and ARPU of the month that contains `to`, counted from its first day up to `to`.
  const month = periodStart(to, 'month');
  const activeBefore = zone.keysBetween(addPeriods(month, 'month', -1), addDays(month, -1));
  const activeNow = zone.keysBetween(month, to);
  const churned = [...activeBefore].filter((key) => !activeNow.has(key)).length;
  const churn = activeBefore.size === 0 ? null : churned / activeBefore.size;
  const monthRevenue = sum(datesBetween(month, to).map((date) => revenueOn(data, date, tz)));
  const arpu = activeNow.size === 0 ? null : monthRevenue / activeNow.size;
  const ltv = arpu === null || churn === null || churn === 0 ? null : arpu / churn;

  // CAC: spend over users whose first payment ever is in the range.
  let newPayingUsers = 0;
  for (const rows of data.byKey.values()) {
    const firstPayment = rows.find((row) => row.name === paymentEvent);
    if (firstPayment && inRange(firstPayment)) newPayingUsers++;
  }
  const acquisitionSpend =
    query.acquisitionSpend ??
    sum(
      data.rows
        .filter((row) => row.name === adSpendEvent && inRange(row))
        .map((row) => numeric(row.properties.amount) ?? 0),
    );
  const cac = newPayingUsers === 0 ? null : acquisitionSpend / newPayingUsers;

  return {
    dau: dailyValue(data, 'dau', to, { tz }),
    wau: dailyValue(data, 'wau', to, { tz }),
    mau: dailyValue(data, 'mau', to, { tz }),
    newUsers: sum(dates.map((date) => dailyValue(data, 'new_users', date, { tz }))),
    revenue: sum(dates.map((date) => revenueOn(data, date, tz))),
    signups,
    conversion: signups === 0 ? 0 : converted / signups,
    churn,
    arpu,
    ltv,
    cac,
    ltvCac: ltv === null || cac === null || cac === 0 ? null : ltv / cac,
    acquisitionSpend,
    newPayingUsers,
  };
}

function revenueOn(data: Dataset, date: string, tz: string): number {
  return dailyValue(data, 'revenue', date, { tz });
}

const DIRECT: AttributionChannel = {
  utmSource: null,
  utmMedium: null,
  utmCampaign: null,
  referrerDomain: null,
};

function isTouch(row: Row): boolean {
  return row.utmSource !== null || row.referrerDomain !== null;
}

/** docs/metrics.md, "Attribution". */
export function attribution(data: Dataset, query: AttributionQuery): AttributionResult {
  checkRange(query);
  const paymentEvent = query.paymentEvent ?? 'payment_completed';
  const zone = data.zone(query.tz);
  const inRange = (row: Row) => zone.day(row) >= query.from && zone.day(row) <= query.to;
  const channels = new Map<
    string,
    AttributionChannel & {
      users: number;
      sessions: Set<string>;
      conversions: number;
      revenue: number;
    }
  >();
  for (const rows of data.byKey.values()) {
    const active = rows.filter(inRange);
    if (active.length === 0) continue;
    const touch =
      query.model === 'last_touch'
        ? rows.filter((row) => isTouch(row) && zone.day(row) <= query.to).at(-1)
        : rows.find(isTouch);
    const channel: AttributionChannel = touch
      ? {
          utmSource: touch.utmSource,
          utmMedium: touch.utmMedium,
          utmCampaign: touch.utmCampaign,
          referrerDomain: touch.referrerDomain,
        }
      : DIRECT;
    const id = JSON.stringify(channel);
    let entry = channels.get(id);
    if (!entry) {
      entry = { ...channel, users: 0, sessions: new Set(), conversions: 0, revenue: 0 };
      channels.set(id, entry);
    }
    entry.users++;
    for (const row of active) {
      if (row.sessionId !== null) entry.sessions.add(row.sessionId);
      if (row.name === paymentEvent) entry.conversions++;
      entry.revenue += row.revenue ?? 0;
    }
  }
  const nullsLast = (a: string | null, b: string | null) =>
    a === b ? 0 : a === null ? 1 : b === null ? -1 : compare(a, b);
  return {
    channels: [...channels.values()]
      .sort(
        (a, b) =>
          b.users - a.users ||
          nullsLast(a.utmSource, b.utmSource) ||
          nullsLast(a.utmMedium, b.utmMedium) ||
          nullsLast(a.utmCampaign, b.utmCampaign) ||
          nullsLast(a.referrerDomain, b.referrerDomain),
      )
      .map((entry) => ({ ...entry, sessions: entry.sessions.size })),
  };
}
