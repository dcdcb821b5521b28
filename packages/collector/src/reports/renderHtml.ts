import type { Comparison, Report } from './computeReport';
import { escapeHtml } from './escapeHtml';
import { formatChange, formatValue, metricLabel } from './formatValue';
import { channelLabel } from './renderCsv';
import { renderBarChart, renderLineChart } from './svgChart';

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111827; background: #f9fafb; margin: 0; }
main { max-width: 960px; margin: 0 auto; padding: 24px 16px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; }
p.meta { color: #374151; margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; padding: 0; margin: 0; list-style: none; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px; }
.card .label { color: #374151; font-size: 12px; }
.card .value { font-size: 22px; font-weight: 600; }
.up { color: #047857; } .down { color: #b91c1c; } .flat { color: #374151; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; margin: 8px 0; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid #e5e7eb; padding: 4px 8px; text-align: right; }
th[scope=row], td.text, thead th:first-child { text-align: left; }
thead th { background: #f3f4f6; }
figure { margin: 8px 0; background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px; overflow-x: auto; }
figcaption { font-size: 12px; color: #374151; }
svg.chart { max-width: 100%; height: auto; }
`;

/** KPIs where a rise is bad news: their changes are coloured the other way round. */
const LOWER_IS_BETTER = new Set(['churn', 'cac']);

function trend(change: number | null, name: string): string {
  if (change === null || change === 0) return 'flat';
  return change > 0 !== LOWER_IS_BETTER.has(name) ? 'up' : 'down';
}

/** A `<td>` holding a formatted number, with the exact value in `data-value` for machines. */
function numberCell(name: string, value: number | null): string {
  const exact = value === null ? '' : ` data-value="${value}"`;
  return `<td${exact}>${escapeHtml(formatValue(name, value))}</td>`;
}

function comparisonCells(name: string, item: Comparison): string {
  return (
    numberCell(name, item.value) +
    numberCell(name, item.previous) +
    `<td class="${trend(item.changePercent, name)}"${item.changePercent === null ? '' : ` data-value="${item.changePercent}"`}>${formatChange(item.changePercent)}</td>`
  );
}

function table(caption: string, head: readonly string[], rows: readonly string[]): string {
  return (
    `<div class="scroll" role="region" tabindex="0" aria-label="${escapeHtml(caption)}"><table><caption>${escapeHtml(caption)}</caption><thead><tr>${head.map((cell) => `<th scope="col">${escapeHtml(cell)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table></div>`
  );
}

function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/**
 * A report as one self-contained HTML page: inline CSS, charts as inline SVG, no script and no
 * external request (a Content-Security-Policy forbids both), tables with captions and header
 * scopes, every user-supplied text escaped.
 *
 * @example
 * writeFileSync('report.html', renderHtml(report));
 */
export function renderHtml(report: Report): string {
  const title = `${report.title} — ${report.tenant}`;
  const period = `${report.period.from} – ${report.period.to}`;
  const previous = `${report.previousPeriod.from} – ${report.previousPeriod.to}`;
  const sections: string[] = [];

  sections.push(
    `<section aria-labelledby="kpis"><h2 id="kpis">Key figures</h2><ul class="cards">${report.kpis
      .map(
        (kpi) =>
          `<li class="card"><div class="label">${escapeHtml(metricLabel(kpi.name))}</div><div class="value" data-kpi="${kpi.name}"${kpi.value === null ? '' : ` data-value="${kpi.value}"`}>${escapeHtml(formatValue(kpi.name, kpi.value))}</div>` +
          `<div class="${trend(kpi.changePercent, kpi.name)}">${formatChange(kpi.changePercent)} <span class="flat">vs ${escapeHtml(formatValue(kpi.name, kpi.previous))}</span></div></li>`,
      )
      .join('')}</ul>${table(
      `KPIs of ${period} against ${previous}`,
      ['KPI', 'This period', 'Previous period', 'Change'],
      report.kpis.map(
        (kpi) =>
          `<tr data-kpi="${kpi.name}"><th scope="row">${escapeHtml(metricLabel(kpi.name))}</th>${comparisonCells(kpi.name, kpi)}</tr>`,
      ),
    )}</section>`,
  );

  const seriesNames = Object.keys(report.series.values);
  const firstSeries = Object.values(report.series.values)[0] ?? [];
  const labels = firstSeries.map((point) => point.date);
  const charts = seriesNames.map((name) =>
    figure(
      renderLineChart({
        id: `chart-series-${name}`,
        title: `${metricLabel(name)} per day`,
        labels,
        series: [
          {
            name,
            values: (report.series.values[name as keyof typeof report.series.values] ?? []).map(
              (point) => point.value,
            ),
          },
        ],
      }),
      `${metricLabel(name)} per day, ${report.series.range.from} – ${report.series.range.to} (${report.timeZone})`,
    ),
  );
  sections.push(
    `<section aria-labelledby="metrics"><h2 id="metrics">Metrics</h2>${table(
      `Metrics of ${period} against ${previous}${report.event === undefined ? '' : ` (event ${report.event})`}: counts summed, users and ratios averaged per day`,
      ['Metric', 'This period', 'Previous period', 'Change'],
      report.metrics.map(
        (metric) =>
          `<tr data-metric="${metric.name}"><th scope="row">${escapeHtml(metricLabel(metric.name))}</th>${comparisonCells(metric.name, metric)}</tr>`,
      ),
    )}${charts.join('')}</section>`,
  );

  if (report.forecast) {
    const forecast = report.forecast;
    const history = forecast.history.slice(-28);
    const allLabels = [
      ...history.map((point) => point.date),
      ...forecast.forecast.map((point) => point.date),
    ];
    const gap = forecast.forecast.map(() => null);
    sections.push(
      `<section aria-labelledby="forecast"><h2 id="forecast">Forecast: ${escapeHtml(metricLabel(forecast.name))}</h2>${figure(
        renderLineChart({
          title: `${metricLabel(forecast.name)}: history and ${forecast.forecast.length}-day forecast`,
          labels: allLabels,
          series: [
            { name: 'actual', values: [...history.map((point) => point.value), ...gap] },
            {
              name: 'forecast (95% interval)',
              dashed: true,
              values: [
                ...history.map(() => null),
                ...forecast.forecast.map((point) => point.value),
              ],
              band: [
                ...history.map(() => null),
                ...forecast.forecast.map((point) => ({ lower: point.lower, upper: point.upper })),
              ],
            },
          ],
        }),
        `Method: ${forecast.method === 'holt_winters_additive' ? 'additive Holt-Winters, weekly season' : "Holt's linear trend"} (α ${forecast.parameters.alpha}, β ${forecast.parameters.beta}, γ ${forecast.parameters.gamma}); shaded: 95% prediction interval.`,
      )}${table(
        `${metricLabel(forecast.name)} forecast with 95% prediction intervals`,
        ['Day', 'Forecast', 'Lower', 'Upper'],
        forecast.forecast.map(
          (point) =>
            `<tr><th scope="row">${point.date}</th>${numberCell(forecast.name, point.value)}${numberCell(forecast.name, point.lower)}${numberCell(forecast.name, point.upper)}</tr>`,
        ),
      )}</section>`,
    );
  }

  for (const funnel of report.funnels) {
    sections.push(
      `<section aria-label="${escapeHtml(`Funnel ${funnel.name}`)}"><h2>Funnel: ${escapeHtml(funnel.name)}</h2>${figure(
        renderBarChart({
          title: `Funnel ${funnel.name}: users per step`,
          bars: funnel.steps.map((step) => ({ label: step.event, value: step.users })),
        }),
        `Users reaching each step within ${Math.round(funnel.windowSeconds / 3600)} h of the first.`,
      )}${table(
        `Funnel ${funnel.name}, ${period}`,
        ['Step', 'Users', 'From start', 'From previous'],
        funnel.steps.map(
          (step, index) =>
            `<tr data-step="${index + 1}"><th scope="row">${index + 1}. ${escapeHtml(step.event)}</th>${numberCell('users', step.users)}${numberCell('conversion', step.conversionFromStart)}${numberCell('conversion', step.conversionFromPrevious)}</tr>`,
        ),
      )}</section>`,
    );
  }

  if (report.retention && report.retention.cohorts.length > 0) {
    const { interval, periods, cohorts } = report.retention;
    sections.push(
      `<section aria-labelledby="retention"><h2 id="retention">Retention</h2>${table(
        `Retention by ${interval} cohort: users with an event k ${interval}s later`,
        ['Cohort', 'Users', ...Array.from({ length: periods }, (_, k) => `+${k + 1}`)],
        cohorts.map(
          (cohort) =>
            `<tr><th scope="row">${cohort.cohort}</th>${numberCell('users', cohort.size)}${cohort.retained
              .slice(1)
              .map((count) => numberCell('users', count))
              .join('')}</tr>`,
        ),
      )}</section>`,
    );
  }

  if (report.attribution && report.attribution.channels.length > 0) {
    const channels = [...report.attribution.channels]
      .sort((a, b) => b.users - a.users)
      .slice(0, 10);
    sections.push(
      `<section aria-labelledby="channels"><h2 id="channels">Channels (first touch)</h2>${table(
        `Top ${channels.length} channels by users, ${period}`,
        ['Channel', 'Users', 'Sessions', 'Conversions', 'Revenue'],
        channels.map(
          (channel) =>
            `<tr><td class="text">${escapeHtml(channelLabel(channel))}</td>${numberCell('users', channel.users)}${numberCell('sessions', channel.sessions)}${numberCell('conversions', channel.conversions)}${numberCell('revenue', channel.revenue)}</tr>`,
        ),
      )}</section>`,
    );
  }

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${period} (${escapeHtml(report.timeZone)}), compared with ${previous}. Generated ${escapeHtml(report.generatedAt)} by Sightline.</p>
${sections.join('\n')}
</main>
</body>
</html>
`;
}
