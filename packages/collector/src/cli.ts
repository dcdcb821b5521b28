#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ConfigurationError, VERSION } from '@sightline/core';
import { createNodeListener } from './adapters/node';
import { type Collector, createCollector } from './collector';
import { parseKey } from './keys';
import { migrateStore } from './migrate/migrateStore';
import { createProgressBar } from './migrate/progressBar';
import { DEFAULT_STORE_URL } from './options';
import { runReportCommand } from './reports/reportCommand';
import { loadReportsConfig } from './reports/reportConfig';
import { openStore } from './store/openStore';

const USAGE = `sightline-collector ${VERSION}

Usage: sightline-collector start [options]
       sightline-collector prune --retention-days <n> [--store <url>]
       sightline-collector migrate --from <store url> --to <store url> [--batch-size <n>]
       sightline-collector report --template <daily|weekly|monthly|custom> [--out <file>] [options]

Options (flags override environment variables):
  --port <n>                  SIGHTLINE_PORT         default 8787 (0 picks a free port)
  --host <address>            SIGHTLINE_HOST         default 127.0.0.1
  --store <url>               SIGHTLINE_STORE        default ${DEFAULT_STORE_URL}
  --write-key <K[=tenant]>    SIGHTLINE_WRITE_KEYS   comma-separated; repeatable flag
  --read-key <K[=tenant]>     SIGHTLINE_READ_KEYS    comma-separated; repeatable flag; tenant * = admin
  --retention-days <n>        SIGHTLINE_RETENTION_DAYS  delete events older than n days, hourly
                                                     (default: keep events forever)
  --reports <file.json>       SIGHTLINE_REPORTS      report schedules and alert rules (docs/reports.md)
  --no-scheduler              SIGHTLINE_SCHEDULER=off  serve run history but run no schedules
                                                     (run schedules in one collector only)
  --help                      print this help
  --version                   print the version

With no keys configured, a dev write key and read key are generated, printed, and kept in
dev-keys.json beside the store file (.sightline/ by default) so they stay the same across restarts.

prune deletes once, from --store, the events older than --retention-days days (by event time) and
the identity links only they referred to (daily usage counts are kept), prints how many rows it
deleted and exits 0. DuckDB locks its file: run it while no collector holds the store.

migrate copies every tenant's events, identity links, daily usage and erasure audit from one store
to another (e.g. --from duckdb:./.sightline/events.duckdb --to clickhouse://host:8123/sightline),
in batches (default 5000 events), with a progress bar on stderr. The target skips events it already
has, so an interrupted migration is resumed by running it again. Stop collectors writing to --from
first (DuckDB locks its file).

report computes one report from --store (default as for start) and writes it to --out, or to
stdout: --format json|csv|html (default: from --out's extension, else json), --tenant (default
"default"), --from/--to YYYY-MM-DD (default: the period the template picks), --tz <IANA zone>;
custom reports take --metrics dau,revenue, --event <name> and --funnel a,b,c (repeatable).
Like prune, run it while no collector holds a DuckDB store.

SIGINT or SIGTERM stops the collector gracefully: it stops accepting connections, lets requests in
flight finish, writes every accepted event and closes the store. A second signal exits at once.
`;

/** How long a graceful stop waits for requests in flight before closing the collector anyway. */
const DRAIN_TIMEOUT_MS = 10_000;
/** How long responses produced while closing get to reach their clients. */
const FLUSH_TIMEOUT_MS = 2_000;

/** Misuse of the command line: exit code 2, like an unknown command. */
class UsageError extends Error {}

interface DevKeys {
  writeKey: string;
  readKey: string;
}

/** Dev keys, generated once and kept beside the store file. */
function devKeys(directory: string): DevKeys {
  const file = join(directory, 'dev-keys.json');
  if (existsSync(file)) {
    let keys: Partial<DevKeys> | undefined;
    try {
      keys = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevKeys>;
    } catch {
      keys = undefined;
    }
    if (typeof keys?.writeKey !== 'string' || typeof keys.readKey !== 'string') {
      throw new Error(`${file} is not a dev keys file: delete it to generate new dev keys`);
    }
    return { writeKey: keys.writeKey, readKey: keys.readKey };
  }
  const keys = {
    writeKey: `wk_dev_${randomBytes(12).toString('hex')}`,
    readKey: `rk_dev_${randomBytes(16).toString('hex')}`,
  };
  mkdirSync(directory, { recursive: true });
  writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return keys;
}

/** An environment variable, or undefined when unset or blank. */
function env(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value ? value : undefined;
}

function list(values: readonly string[]): string[] {
  return values
    .flatMap((value) => value.split(','))
    .map((part) => part.trim())
    .filter(Boolean);
}

/** Keys from the flag when given, else from the environment; each checked, naming its source. */
function keysOption(flag: string, variable: string, flagValues: string[] | undefined): string[] {
  const fromFlag = flagValues !== undefined;
  const keys = list(fromFlag ? flagValues : [env(variable) ?? '']);
  for (const key of keys) parseKey(key, fromFlag ? flag : variable);
  return keys;
}

function portOption(flagValue: string | undefined): number {
  const [option, raw] =
    flagValue !== undefined ? ['--port', flagValue] : ['SIGHTLINE_PORT', env('SIGHTLINE_PORT')];
  if (raw === undefined) return 8787;
  const port = /^\d{1,5}$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new ConfigurationError(option, `use a port number from 0 to 65535 (got "${raw}")`);
  }
  return port;
}

/** `--retention-days` or SIGHTLINE_RETENTION_DAYS: whole days ≥ 1, or undefined (keep events). */
function retentionDaysOption(flagValue: string | undefined): number | undefined {
  const [option, raw] =
    flagValue !== undefined
      ? ['--retention-days', flagValue]
      : ['SIGHTLINE_RETENTION_DAYS', env('SIGHTLINE_RETENTION_DAYS')];
  if (raw === undefined) return undefined;
  const days = /^\d{1,6}$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!(days >= 1)) {
    throw new ConfigurationError(option, `use a whole number of days ≥ 1 (got "${raw}")`);
  }
  return days;
}

/** A command's flags, strictly parsed; misuse is a {@link UsageError} (exit code 2). */
function parseCommandArgs<const T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)} (see --help)`);
  }
}

function parseStartArgs(argv: string[]) {
  return parseCommandArgs(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    store: { type: 'string' },
    'write-key': { type: 'string', multiple: true },
    'read-key': { type: 'string', multiple: true },
    'retention-days': { type: 'string' },
    reports: { type: 'string' },
    'no-scheduler': { type: 'boolean' },
    help: { type: 'boolean' },
  });
}

/** `sightline-collector report`: one report, written to a file or stdout, then exit. */
async function report(argv: string[]): Promise<void> {
  const values = parseCommandArgs(argv, {
    template: { type: 'string' },
    out: { type: 'string' },
    format: { type: 'string' },
    store: { type: 'string' },
    tenant: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    tz: { type: 'string' },
    metrics: { type: 'string' },
    event: { type: 'string' },
    funnel: { type: 'string', multiple: true },
    help: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (!values.template) {
    throw new UsageError('report needs --template daily, weekly, monthly or custom');
  }
  const store = values.store ?? env('SIGHTLINE_STORE') ?? DEFAULT_STORE_URL;
  const summary = await runReportCommand({ ...values, store }, (text) =>
    process.stdout.write(text),
  );
  process.stderr.write(`${summary}\n`);
}

/** `--reports` or SIGHTLINE_REPORTS, with the run history beside the store by default. */
function reportsOption(values: { reports?: string; 'no-scheduler'?: boolean }, store: string) {
  const file = values.reports ?? env('SIGHTLINE_REPORTS');
  if (file === undefined) return undefined;
  const config = loadReportsConfig(file);
  const storeFile = store.startsWith('duckdb:') ? store.slice('duckdb:'.length) : '';
  const stateDirectory =
    config.stateDirectory ??
    join(
      storeFile && storeFile !== ':memory:' ? dirname(resolve(storeFile)) : resolve('.sightline'),
      'reports',
    );
  const scheduler = env('SIGHTLINE_SCHEDULER');
  if (scheduler !== undefined && scheduler !== 'on' && scheduler !== 'off') {
    throw new ConfigurationError('SIGHTLINE_SCHEDULER', `use on or off (got "${scheduler}")`);
  }
  const runSchedules = values['no-scheduler'] || scheduler === 'off' ? false : config.runSchedules;
  return { ...config, stateDirectory, runSchedules };
}

/** `sightline-collector prune`: one retention pass over a store, then exit. */
async function prune(argv: string[]): Promise<void> {
  const values = parseCommandArgs(argv, {
    store: { type: 'string' },
    'retention-days': { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const retentionDays = retentionDaysOption(values['retention-days']);
  if (retentionDays === undefined) {
    throw new UsageError('prune needs --retention-days <n> (or SIGHTLINE_RETENTION_DAYS)');
  }
  const url = values.store ?? env('SIGHTLINE_STORE') ?? DEFAULT_STORE_URL;
  const store = await openStore(url);
  try {
    const cutoff = new Date(Date.now() - retentionDays * 86_400_000);
    const deleted = await store.prune(cutoff.getTime());
    process.stdout.write(
      `pruned ${deleted.events} events and ${deleted.identityLinks} identity links older than ${cutoff.toISOString()} (retention ${retentionDays} days) from ${url}\n`,
    );
  } finally {
    await store.close();
  }
}

/** `sightline-collector migrate`: copies one store into another, then exits. */
async function migrate(argv: string[]): Promise<void> {
  const values = parseCommandArgs(argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    'batch-size': { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (!values.from || !values.to) {
    throw new UsageError('migrate needs --from <store url> and --to <store url>');
  }
  if (values.from === values.to) {
    throw new UsageError('migrate: --from and --to name the same store');
  }
  const raw = values['batch-size'] ?? '5000';
  const batchSize = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(batchSize >= 1 && batchSize <= 100_000)) {
    throw new ConfigurationError(
      '--batch-size',
      `use a whole number from 1 to 100000 (got "${raw}")`,
    );
  }
  const source = await openStore(values.from);
  try {
    const target = await openStore(values.to);
    try {
      process.stderr.write(`migrating ${values.from} → ${values.to}\n`);
      const bar = createProgressBar(process.stderr);
      const result = await migrateStore(source, target, { batchSize, onProgress: bar.update });
      bar.done();
      process.stdout.write(
        `migrated ${result.events} events (${result.stored} new, ${result.events - result.stored} already there), ` +
          `${result.identityLinks} identity links, ${result.dailyUsage} daily usage rows and ` +
          `${result.erasureAudit} erasure audit rows from ${values.from} to ${values.to}\n`,
      );
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

async function start(argv: string[]): Promise<void> {
  const values = parseStartArgs(argv);
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = portOption(values.port);
  const host = (values.host ?? env('SIGHTLINE_HOST') ?? '127.0.0.1').trim();
  if (!host) {
    throw new ConfigurationError(
      '--host',
      'name an address to listen on, e.g. 127.0.0.1 or 0.0.0.0',
    );
  }
  const store = values.store ?? env('SIGHTLINE_STORE') ?? DEFAULT_STORE_URL;
  let writeKeys = keysOption('--write-key', 'SIGHTLINE_WRITE_KEYS', values['write-key']);
  let readKeys = keysOption('--read-key', 'SIGHTLINE_READ_KEYS', values['read-key']);
  let generated: DevKeys | undefined;
  if (writeKeys.length === 0 && readKeys.length === 0) {
    const storeFile = store.startsWith('duckdb:') ? store.slice('duckdb:'.length) : '';
    const directory =
      storeFile && storeFile !== ':memory:' ? dirname(resolve(storeFile)) : resolve('.sightline');
    generated = devKeys(directory);
    writeKeys = [generated.writeKey];
    // The dev read key is an admin key: one local tenant, plus /metrics.
    readKeys = [`${generated.readKey}=*`];
  } else if (writeKeys.length === 0) {
    throw new ConfigurationError(
      '--write-key',
      'pass at least one write key (or SIGHTLINE_WRITE_KEYS), or no keys at all to use generated dev keys',
    );
  }

  const retentionDays = retentionDaysOption(values['retention-days']);
  const reports = reportsOption(values, store);
  const collector = createCollector({ store, writeKeys, readKeys, retentionDays, reports });
  const server = createServer();
  const shutdown = gracefulShutdown(server, collector);
  await collector.ready();
  if (shutdown.stopping) return;
  const listener = createNodeListener(collector);
  server.on('request', (request, response) => {
    shutdown.track(response);
    listener(request, response);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      done();
    });
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  const lines = [
    `Sightline collector ${VERSION} listening on ${url}`,
    `  store      ${store}`,
    `  dashboard  ${url}/dashboard   (sign in with a read key)`,
  ];
  if (retentionDays !== undefined) {
    lines.push(`  retention  ${retentionDays} days (older events are pruned hourly)`);
  }
  if (reports) {
    lines.push(
      `  reports    ${reports.schedules.length} schedules, ${reports.alerts.length} alert rules, ${reports.runSchedules ? 'scheduler on' : 'scheduler off'}, history in ${reports.stateDirectory}`,
    );
  }
  if (generated) {
    lines.push(`  write key  ${generated.writeKey}   (dev key, tenant "default")`);
    lines.push(`  read key   ${generated.readKey}   (dev admin key)`);
  } else {
    lines.push(`  write keys ${writeKeys.length}, read keys ${readKeys.length}`);
  }
  lines.push(
    `  try: curl -u ${generated?.writeKey ?? '<write key>'}: -H 'content-type: application/json' \\`,
  );
  lines.push(
    `         -d '{"batch":[{"type":"track","event":"hello","anonymousId":"a1"}]}' ${url}/v1/batch`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * Stops on SIGINT/SIGTERM without losing an acknowledged event: no new connections; requests in
 * flight finish (their responses close their connections) for up to DRAIN_TIMEOUT_MS; then the
 * collector closes, which answers 503 to anything still arriving and commits every accepted row
 * before closing the store; then the remaining connections are closed and the process exits 0.
 * Installed before the store opens, so a signal during start-up also closes the store cleanly.
 */
function gracefulShutdown(server: Server, collector: Collector) {
  const inFlight = new Set<ServerResponse>();
  let stopping = false;
  let settled: (() => void) | undefined;

  function track(response: ServerResponse): void {
    inFlight.add(response);
    if (stopping) response.setHeader('connection', 'close');
    response.once('close', () => {
      inFlight.delete(response);
      if (inFlight.size === 0) settled?.();
    });
  }

  /** Resolves when no response is in progress, or after `ms`. */
  function quiet(ms: number): Promise<void> {
    if (inFlight.size === 0) return Promise.resolve();
    return new Promise<void>((done) => {
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        settled = undefined;
        done();
      }
      settled = finish;
    });
  }

  async function stop(signal: NodeJS.Signals): Promise<void> {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting without waiting\n`);
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`${signal}: stopping (draining requests, closing the store)\n`);
    const closed = server.listening
      ? new Promise<void>((done) => server.close(() => done()))
      : Promise.resolve();
    // Keep-alive connections would otherwise stay open until their timeout.
    for (const response of inFlight) {
      if (!response.headersSent) response.setHeader('connection', 'close');
    }
    server.closeIdleConnections();
    await quiet(DRAIN_TIMEOUT_MS);
    await collector.close();
    await quiet(FLUSH_TIMEOUT_MS);
    server.closeAllConnections();
    await closed;
    process.exit(0);
  }

  const onSignal = (signal: NodeJS.Signals) => {
    stop(signal).catch((error: unknown) => {
      process.stderr.write(
        `sightline-collector: stopping failed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(1);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    track,
    get stopping() {
      return stopping;
    },
  };
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'start') return start(rest);
  if (command === 'prune') return prune(rest);
  if (command === 'migrate') return migrate(rest);
  if (command === 'report') return report(rest);
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  throw new UsageError(
    command === undefined
      ? 'name a command: start, prune, migrate or report'
      : `unknown command "${command}": the commands are start, prune, migrate and report`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `sightline-collector: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  if (error instanceof UsageError) process.stderr.write(`\n${USAGE}`);
  process.exit(error instanceof UsageError || error instanceof ConfigurationError ? 2 : 1);
});
