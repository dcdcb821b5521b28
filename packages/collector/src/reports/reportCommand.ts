import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { ConfigurationError } from '@sightline/core';
import { SERIES_NAMES, type SeriesName } from '../query/series';
import { isTimeZone } from '../query/time';
import { resolveReadOptions } from '../readOptions';
import { openStore } from '../store/openStore';
import { computeReport } from './computeReport';
import { renderReport } from './renderReport';
import {
  REPORT_FORMATS,
  REPORT_TEMPLATES,
  type ReportFormat,
  type ReportTemplateName,
} from './reportConfig';

/** The flags of `sightline-collector report`, as parsed by the CLI. */
export interface ReportCommandFlags {
  template?: string;
  out?: string;
  format?: string;
  store: string;
  tenant?: string;
  from?: string;
  to?: string;
  tz?: string;
  metrics?: string;
  event?: string;
  funnel?: string[];
}

const EXTENSIONS: Record<string, ReportFormat> = {
  '.json': 'json',
  '.csv': 'csv',
  '.html': 'html',
  '.htm': 'html',
};

/** The output format: `--format`, else from `--out`'s extension, else JSON (stdout). */
export function reportFormatOf(flags: Pick<ReportCommandFlags, 'format' | 'out'>): ReportFormat {
  if (flags.format !== undefined) {
    if (!(REPORT_FORMATS as readonly string[]).includes(flags.format)) {
      throw new ConfigurationError('--format', `use json, csv or html (got "${flags.format}")`);
    }
    return flags.format as ReportFormat;
  }
  if (flags.out === undefined) return 'json';
  const format = EXTENSIONS[extname(flags.out).toLowerCase()];
  if (!format) {
    throw new ConfigurationError(
      '--format',
      `cannot tell the format from "${flags.out}": name the file .json, .csv or .html, or pass --format`,
    );
  }
  return format;
}

/**
 * `sightline-collector report`: computes one report from a store and writes it to `--out` (or
 * stdout). Returns the line to print on stderr.
 *
 * @example
 * await runReportCommand({ template: 'weekly', out: 'report.html', store: 'duckdb:./.sightline/events.duckdb' });
 */
export async function runReportCommand(
  flags: ReportCommandFlags,
  write: (text: string) => void,
  now = Date.now(),
): Promise<string> {
  const template = flags.template;
  if (!template || !(REPORT_TEMPLATES as readonly string[]).includes(template)) {
    throw new ConfigurationError(
      '--template',
      `use daily, weekly, monthly or custom (got "${template ?? ''}")`,
    );
  }
  const format = reportFormatOf(flags);
  if ((flags.from === undefined) !== (flags.to === undefined)) {
    throw new ConfigurationError(
      flags.from === undefined ? '--from' : '--to',
      'give both --from and --to, or neither',
    );
  }
  for (const [flag, value] of [
    ['--from', flags.from],
    ['--to', flags.to],
  ] as const) {
    if (value !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
      throw new ConfigurationError(flag, `use a date YYYY-MM-DD (got "${value}")`);
    }
  }
  if (flags.tz !== undefined && !isTimeZone(flags.tz)) {
    throw new ConfigurationError(
      '--tz',
      `use an IANA time zone such as Europe/Paris (got "${flags.tz}")`,
    );
  }
  const metrics = (flags.metrics ?? 'dau,events').split(',').map((name) => name.trim());
  for (const name of metrics) {
    if (!(SERIES_NAMES as readonly string[]).includes(name)) {
      throw new ConfigurationError(
        '--metrics',
        `use names among ${SERIES_NAMES.join(', ')} (got "${name}")`,
      );
    }
  }
  const funnels = (flags.funnel ?? []).map((value, index) => {
    const steps = value
      .split(',')
      .map((step) => step.trim())
      .filter(Boolean);
    if (steps.length < 2) {
      throw new ConfigurationError(
        '--funnel',
        `list at least 2 comma-separated events (got "${value}")`,
      );
    }
    return {
      name: `funnel ${index + 1}`,
      steps: steps.map((event) => ({ event })),
      windowSeconds: 7 * 86_400,
    };
  });
  if (template !== 'custom' && (flags.metrics || flags.funnel || flags.event)) {
    throw new ConfigurationError(
      '--template',
      '--metrics, --event and --funnel need --template custom',
    );
  }

  const defaults = resolveReadOptions({});
  const store = await openStore(flags.store);
  let report: Awaited<ReturnType<typeof computeReport>>;
  try {
    report = await computeReport(
      { store, kpis: defaults.kpis, maxRangeDays: defaults.read.maxRangeDays },
      {
        template: template as ReportTemplateName,
        tenant: flags.tenant ?? 'default',
        now,
        tz: flags.tz,
        from: flags.from,
        to: flags.to,
        custom:
          template === 'custom'
            ? { metrics: metrics as SeriesName[], event: flags.event, funnels, days: 7 }
            : undefined,
      },
    );
  } finally {
    await store.close();
  }
  const rendered = renderReport(report, format);
  if (flags.out === undefined) {
    write(rendered.body);
    return `${report.title} of tenant "${report.tenant}", ${report.period.from} – ${report.period.to}, ${format}`;
  }
  const file = resolve(flags.out);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, rendered.body);
  return `wrote ${report.title.toLowerCase()} of tenant "${report.tenant}", ${report.period.from} – ${report.period.to}, to ${file} (${format}, ${Buffer.byteLength(rendered.body)} bytes)`;
}
