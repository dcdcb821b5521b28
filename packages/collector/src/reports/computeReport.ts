import { type Channel, computeAttribution } from '../query/attribution';
import { computeFunnel, type StepResult } from '../query/funnel';
import { computeDashboards, type Dashboard, type KpiSettings } from '../query/kpis';
import { type Cohort, computeRetention } from '../query/retention';
import { computeSeries, type SeriesName, type SeriesPoint } from '../query/series';
import { addDays, type Interval, resolveRange } from '../query/time';
import type { Store } from '../store/store';
import { forecastMetric, type MetricForecast } from './metricForecast';
import type { CustomTemplate, ReportFunnel, ReportTemplateName } from './reportConfig';
import { type DayRange, reportPeriods } from './reportPeriod';

/** The KPI cards of a report: `GET /v1/dashboard` of the period and of the previous one. */
export const REPORT_KPIS = [
  'dau',
  'wau',
  'mau',
  'newUsers',
  'revenue',
  'signups',
  'conversion',
  'churn',
  'arpu',
  'ltv',
  'cac',
  'ltvCac',
] as const satisfies ReadonlyArray<keyof Dashboard>;
export type ReportKpiName = (typeof REPORT_KPIS)[number];

export interface Comparison {
  value: number | null;
  previous: number | null;
  /** Relative change in percent; null when either side is null or the previous value is 0. */
  changePercent: number | null;
}

export interface ReportMetric extends Comparison {
  name: SeriesName;
  /** How the period's value is built from its days: summed (counts) or averaged (users, ratios). */
  aggregate: 'sum' | 'mean';
}

/** Everything a report shows, rendered to JSON, CSV or HTML by the renderers. */
export interface Report {
  template: ReportTemplateName;
  title: string;
  tenant: string;
  generatedAt: string;
  timeZone: string;
  period: DayRange;
  previousPeriod: DayRange;
  /** Events-filter of `events` and `revenue` (custom reports). */
  event?: string;
  kpis: Array<{ name: ReportKpiName } & Comparison>;
  metrics: ReportMetric[];
  /** Daily values over `series.range` (the period and the days before it, for context). */
  series: {
    interval: Interval;
    range: DayRange;
    values: Partial<Record<SeriesName, SeriesPoint[]>>;
  };
  funnels: Array<{ name: string; windowSeconds: number; steps: StepResult[] }>;
  retention?: { interval: Interval; periods: number; cohorts: Cohort[] };
  attribution?: { model: 'first_touch'; channels: Channel[] };
  forecast?: MetricForecast;
}

/** What computing a report needs besides the template: the store and the collector's settings. */
export interface ReportSource {
  store: Store;
  kpis: Omit<KpiSettings, 'acquisitionSpend'> & { acquisitionSpend: Record<string, number> };
  maxRangeDays: number;
}

export interface ReportRequest {
  template: ReportTemplateName;
  tenant: string;
  /** The instant the report is made at; the period ends before it. */
  now: number;
  tz?: string;
  from?: string;
  to?: string;
  custom?: CustomTemplate;
}

const SUMMED: ReadonlySet<SeriesName> = new Set(['new_users', 'events', 'revenue']);

interface TemplateShape {
  title: string;
  metrics: SeriesName[];
  funnel: boolean;
  funnelWindowDays: number;
  retention?: { interval: Interval; periods: number };
  attribution: boolean;
  forecast?: { name: SeriesName; horizon: number };
}

const TEMPLATES: Record<Exclude<ReportTemplateName, 'custom'>, TemplateShape> = {
  daily: {
    title: 'Daily overview',
    metrics: ['dau', 'new_users', 'events', 'revenue'],
    funnel: false,
    funnelWindowDays: 1,
    attribution: true,
    forecast: { name: 'dau', horizon: 7 },
  },
  weekly: {
    title: 'Weekly performance',
    metrics: ['dau', 'wau', 'new_users', 'events', 'revenue', 'stickiness'],
    funnel: true,
    funnelWindowDays: 7,
    retention: { interval: 'day', periods: 7 },
    attribution: true,
    forecast: { name: 'dau', horizon: 14 },
  },
  monthly: {
    title: 'Monthly analytics',
    metrics: ['dau', 'mau', 'new_users', 'events', 'revenue', 'stickiness'],
    funnel: true,
    funnelWindowDays: 30,
    retention: { interval: 'week', periods: 4 },
    attribution: true,
    forecast: { name: 'dau', horizon: 14 },
  },
};

/** Days of history a report's forecast is fitted on. */
const FORECAST_HISTORY_DAYS = 56;
/** Days a report's chart shows at least. */
const MIN_CHART_DAYS = 14;

export function compare(value: number | null, previous: number | null): Comparison {
  const changePercent =
    value === null || previous === null || previous === 0
      ? null
      : ((value - previous) / Math.abs(previous)) * 100;
  return { value, previous, changePercent };
}

/**
 * Computes a report with the collector's aggregator functions (the same ones the read API calls):
 * KPIs of the period against the previous one, daily series, funnels, retention, attribution and
 * a forecast, as the template prescribes.
 *
 * @example
 * const report = await computeReport(source, { template: 'weekly', tenant: 'acme', now: Date.now() });
 */
export async function computeReport(source: ReportSource, request: ReportRequest): Promise<Report> {
  const tz = request.tz ?? 'UTC';
  const custom = request.template === 'custom' ? request.custom : undefined;
  if (request.template === 'custom' && !custom) {
    throw new RangeError('a custom report needs its definition (metrics, funnels)');
  }
  const shape: TemplateShape = custom
    ? {
        title: custom.title ?? 'Custom report',
        metrics: [...custom.metrics],
        funnel: false,
        funnelWindowDays: 7,
        attribution: false,
        forecast: custom.forecast ? { name: custom.forecast, horizon: 14 } : undefined,
      }
    : TEMPLATES[request.template as Exclude<ReportTemplateName, 'custom'>];
  const { current, previous } = reportPeriods(request.template, {
    now: request.now,
    tz,
    from: request.from,
    to: request.to,
    days: custom?.days,
  });
  const range = (days: DayRange) =>
    resolveRange({ from: days.from, to: days.to, tz }, source.maxRangeDays);
  const { store, tenant } = { store: source.store, tenant: request.tenant };
  const kpiSettings: KpiSettings = {
    ...source.kpis,
    acquisitionSpend: source.kpis.acquisitionSpend[tenant],
  };
  const event = custom?.event;

  const chartFrom = [previous.from, addDays(current.to, -(MIN_CHART_DAYS - 1))].sort()[0]!;
  const seriesRange = { from: chartFrom, to: current.to };
  const funnels: ReportFunnel[] = custom
    ? custom.funnels
    : shape.funnel
      ? [
          {
            name: `${source.kpis.signupEvent} → ${source.kpis.paymentEvent}`,
            steps: [{ event: source.kpis.signupEvent }, { event: source.kpis.paymentEvent }],
            windowSeconds: shape.funnelWindowDays * 86_400,
          },
        ]
      : [];

  const [[dashboard, previousDashboard], seriesValues, currentSeries, previousSeries] =
    await Promise.all([
      computeDashboards(store, tenant, [range(current), range(previous)], kpiSettings),
      computeSeries(store, tenant, {
        names: shape.metrics,
        range: range(seriesRange),
        interval: 'day',
        event,
      }),
      computeSeries(store, tenant, {
        names: shape.metrics,
        range: range(current),
        interval: 'day',
        event,
      }),
      computeSeries(store, tenant, {
        names: shape.metrics,
        range: range(previous),
        interval: 'day',
        event,
      }),
    ]);
  const funnelResults = await Promise.all(
    funnels.map(async (funnel) => ({
      name: funnel.name,
      windowSeconds: funnel.windowSeconds,
      steps: (
        await computeFunnel(store, tenant, {
          steps: funnel.steps,
          windowSeconds: funnel.windowSeconds,
          range: range(current),
        })
      ).steps,
    })),
  );
  const retention = shape.retention && {
    ...shape.retention,
    ...(await computeRetention(store, tenant, { ...shape.retention, range: range(current) })),
  };
  const attribution = shape.attribution
    ? {
        model: 'first_touch' as const,
        channels: (
          await computeAttribution(store, tenant, {
            range: range(current),
            model: 'first_touch',
            paymentEvent: source.kpis.paymentEvent,
          })
        ).channels,
      }
    : undefined;
  const forecast = shape.forecast
    ? await forecastMetric(store, tenant, {
        name: shape.forecast.name,
        range: range({ from: addDays(current.to, -(FORECAST_HISTORY_DAYS - 1)), to: current.to }),
        horizon: shape.forecast.horizon,
        event,
      })
    : undefined;

  return {
    template: request.template,
    title: shape.title,
    tenant,
    generatedAt: new Date(request.now).toISOString(),
    timeZone: tz,
    period: current,
    previousPeriod: previous,
    ...(event === undefined ? {} : { event }),
    kpis: REPORT_KPIS.map((name) => ({
      name,
      ...compare(dashboard![name], previousDashboard![name]),
    })),
    metrics: shape.metrics.map((name) => {
      const aggregate = SUMMED.has(name) ? 'sum' : 'mean';
      return {
        name,
        aggregate,
        ...compare(
          aggregateOf(currentSeries[name] ?? [], aggregate),
          aggregateOf(previousSeries[name] ?? [], aggregate),
        ),
      };
    }),
    series: { interval: 'day', range: seriesRange, values: seriesValues },
    funnels: funnelResults,
    ...(retention ? { retention } : {}),
    ...(attribution ? { attribution } : {}),
    ...(forecast ? { forecast } : {}),
  };
}

function aggregateOf(points: readonly SeriesPoint[], aggregate: 'sum' | 'mean'): number | null {
  if (points.length === 0) return null;
  const total = points.reduce((sum, point) => sum + point.value, 0);
  return aggregate === 'sum' ? total : total / points.length;
}
