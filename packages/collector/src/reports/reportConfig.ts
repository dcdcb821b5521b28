import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigurationError } from '@sightline/core';
import { Cron } from 'croner';
import * as z from 'zod';
import { SERIES_NAMES } from '../query/series';
import { isTimeZone } from '../query/time';

const TEMPLATES = ['daily', 'weekly', 'monthly', 'custom'] as const;
const FORMATS = ['json', 'csv', 'html'] as const;

const id = z
  .string({ error: 'use an id of letters, digits, "-" or "_"' })
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'use 1–64 letters, digits, "-" or "_"');
const eventName = z
  .string({ error: 'use an event name' })
  .min(1, 'use a non-empty event name')
  .max(256, 'use at most 256 characters');
const cron = z.string({ error: 'use a cron expression such as "0 9 * * 1"' }).refine((pattern) => {
  try {
    new Cron(pattern, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}, 'use a cron expression of 5 or 6 fields, e.g. "0 9 * * 1" (Mondays 09:00)');
const timezone = z
  .string({ error: 'use an IANA time zone such as Europe/Paris' })
  .refine(isTimeZone, 'use an IANA time zone such as Europe/Paris or UTC')
  .default('UTC');
const metricName = z.enum(SERIES_NAMES, { error: `use one of ${SERIES_NAMES.join(', ')}` });

const secretShape = {
  secret: z.string().min(16, 'use a secret of at least 16 characters').optional(),
  secretEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'name an environment variable, e.g. SIGHTLINE_WEBHOOK_SECRET')
    .optional(),
};
const webhook = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'use an http:// or https:// URL' }),
    ...secretShape,
  })
  .refine((value) => value.secret !== undefined || value.secretEnv !== undefined, {
    message: 'set "secret" (≥ 16 characters) or "secretEnv" (the variable holding it)',
    path: ['secret'],
  });

const destination = z.discriminatedUnion(
  'type',
  [
    webhook.safeExtend({ type: z.literal('webhook') }),
    z.object({
      type: z.literal('directory'),
      path: z.string().min(1, 'name a directory to write reports into'),
    }),
  ],
  { error: 'use { "type": "webhook", "url", "secret" } or { "type": "directory", "path" }' },
);

const funnel = z.object({
  name: z.string().min(1).max(128),
  steps: z
    .array(
      z.object({
        event: eventName,
        where: z
          .record(z.string().min(1).max(256), z.union([z.string(), z.number(), z.boolean()]))
          .optional(),
      }),
    )
    .min(2, 'a funnel needs at least 2 steps')
    .max(10, 'a funnel has at most 10 steps'),
  windowSeconds: z
    .number()
    .int()
    .min(1)
    .max(366 * 86_400)
    .default(7 * 86_400),
});

/** What the `custom` template shows. */
const customTemplate = z.object({
  title: z.string().max(200).optional(),
  metrics: z.array(metricName).min(1, 'choose at least one metric').default(['dau', 'events']),
  /** Only events of this name count in `events` and `revenue`. */
  event: eventName.optional(),
  funnels: z.array(funnel).max(10).default([]),
  /** Length of the period, ending yesterday, when no explicit range is given. */
  days: z.number().int().min(1).max(366).default(7),
  forecast: metricName.optional(),
});

const schedule = z
  .object({
    id,
    tenant: z.string().min(1).default('default'),
    template: z.enum(TEMPLATES, { error: `use one of ${TEMPLATES.join(', ')}` }),
    custom: customTemplate.optional(),
    cron,
    timezone,
    format: z.enum(FORMATS, { error: `use one of ${FORMATS.join(', ')}` }).default('json'),
    destination,
  })
  .refine((value) => value.template !== 'custom' || value.custom !== undefined, {
    message: 'a custom report needs "custom": { "metrics": [...], "funnels": [...] }',
    path: ['custom'],
  });

const condition = z.discriminatedUnion(
  'type',
  [
    z.object({
      type: z.literal('threshold'),
      operator: z.enum(['above', 'below'], { error: "use 'above' or 'below'" }),
      value: z.number({ error: 'use a number' }),
    }),
    z.object({
      type: z.literal('change'),
      direction: z.enum(['drop', 'rise'], { error: "use 'drop' or 'rise'" }),
      percent: z.number({ error: 'use a percentage' }).positive('use a percentage > 0'),
      trailingDays: z.number().int().min(1).max(90).default(7),
    }),
  ],
  {
    error:
      'use { "type": "threshold", "operator", "value" } or { "type": "change", "direction", "percent", "trailingDays" }',
  },
);

const alert = z.object({
  id,
  tenant: z.string().min(1).default('default'),
  metric: metricName,
  event: eventName.optional(),
  cron,
  timezone,
  condition,
  /** Which day is judged: 'yesterday' (the last complete day, default) or 'today' (so far). */
  day: z.enum(['yesterday', 'today']).default('yesterday'),
  notifyResolved: z.boolean().default(true),
  webhook,
});

const retry = z.object({
  attempts: z.number().int().min(1).max(20).default(5),
  baseDelayMs: z.number().int().min(0).max(3_600_000).default(1_000),
  maxDelayMs: z.number().int().min(0).max(86_400_000).default(60_000),
  timeoutMs: z.number().int().min(100).max(600_000).default(10_000),
});

const reportsConfig = z
  .object({
    /** Where run history and alert state are kept; without it they live in memory only. */
    stateDirectory: z.string().min(1).optional(),
    /** Whether this process runs the schedules and alert rules (only one collector should). */
    runSchedules: z.boolean().default(true),
    retry: retry.default({
      attempts: 5,
      baseDelayMs: 1_000,
      maxDelayMs: 60_000,
      timeoutMs: 10_000,
    }),
    schedules: z.array(schedule).default([]),
    alerts: z.array(alert).default([]),
  })
  .strict()
  .superRefine((value, context) => {
    const seen = new Set<string>();
    for (const [index, item] of [...value.schedules, ...value.alerts].entries()) {
      if (seen.has(item.id)) {
        const inSchedules = index < value.schedules.length;
        context.addIssue({
          code: 'custom',
          message: `"${item.id}" is used twice: give each schedule and alert its own id`,
          path: [
            inSchedules ? 'schedules' : 'alerts',
            inSchedules ? index : index - value.schedules.length,
            'id',
          ],
        });
      }
      seen.add(item.id);
    }
  });

/** The reports configuration as written (JSON file or the `reports` option). */
export type ReportsConfigInput = z.input<typeof reportsConfig>;
/** The reports configuration with every default filled in. */
export type ReportsConfig = z.output<typeof reportsConfig>;
export type ReportSchedule = ReportsConfig['schedules'][number];
export type AlertRule = ReportsConfig['alerts'][number];
export type CustomTemplate = z.output<typeof customTemplate>;
export type ReportFunnel = z.output<typeof funnel>;
export type ReportTemplateName = (typeof TEMPLATES)[number];
export type ReportFormat = (typeof FORMATS)[number];
export type RetryPolicy = ReportsConfig['retry'];
export type WebhookTarget = z.output<typeof webhook>;
export { FORMATS as REPORT_FORMATS, TEMPLATES as REPORT_TEMPLATES };

/**
 * Validates a reports configuration, filling defaults. Misuse throws a `ConfigurationError` naming
 * the field (e.g. `reports.schedules[0].cron`) and the fix.
 *
 * @example
 * parseReportsConfig({ schedules: [{ id: 'weekly', template: 'weekly', cron: '0 9 * * 1',
 *   destination: { type: 'directory', path: './reports' } }] });
 */
export function parseReportsConfig(input: unknown, source = 'reports'): ReportsConfig {
  const result = reportsConfig.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.reduce<string>(
    (path, part) => (typeof part === 'number' ? `${path}[${part}]` : `${path}.${String(part)}`),
    source,
  );
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown field(s) ${issue.keys.map((key) => `"${key}"`).join(', ')}: the fields are stateDirectory, runSchedules, retry, schedules and alerts`
      : issue.message;
  throw new ConfigurationError(field, message);
}

/**
 * Reads and validates a reports JSON file; a relative `stateDirectory` or directory destination is
 * resolved against the file's directory.
 *
 * @example
 * const config = loadReportsConfig('./reports.json');
 */
export function loadReportsConfig(file: string): ReportsConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigurationError(
      file,
      `cannot read the reports file (${error instanceof Error ? error.message : String(error)}): check the path`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(
      file,
      `not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const config = parseReportsConfig(json, file);
  const base = dirname(resolve(file));
  return {
    ...config,
    stateDirectory: config.stateDirectory && resolve(base, config.stateDirectory),
    schedules: config.schedules.map((item) =>
      item.destination.type === 'directory'
        ? {
            ...item,
            destination: { ...item.destination, path: resolve(base, item.destination.path) },
          }
        : item,
    ),
  };
}

/** The webhook's signing secret, from the config or the environment variable it names. */
export function webhookSecret(target: WebhookTarget, field: string): string {
  if (target.secret) return target.secret;
  const value = target.secretEnv ? process.env[target.secretEnv] : undefined;
  if (!value) {
    throw new ConfigurationError(
      `${field}.secretEnv`,
      `set the environment variable ${target.secretEnv} to the webhook secret`,
    );
  }
  return value;
}
