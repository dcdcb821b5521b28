#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SightlineError, VERSION } from '@sightline/core';
import { createNodeListener } from './adapters/node';
import { createCollector } from './collector';
import { DEFAULT_STORE_URL } from './options';

const USAGE = `sightline-collector ${VERSION}

Usage: sightline-collector start [options]

Options (flags override environment variables):
  --port <n>                  SIGHTLINE_PORT         default 8787
  --host <address>            SIGHTLINE_HOST         default 127.0.0.1
  --store <url>               SIGHTLINE_STORE        default ${DEFAULT_STORE_URL}
  --write-key <K[=tenant]>    SIGHTLINE_WRITE_KEYS   comma-separated; repeatable flag
  --read-key <K[=tenant]>     SIGHTLINE_READ_KEYS    comma-separated; repeatable flag; tenant * = admin
  --help

With no keys configured, a dev write key and read key are generated, printed, and kept in
.sightline/dev-keys.json so they stay the same across restarts.
`;

interface DevKeys {
  writeKey: string;
  readKey: string;
}

/** Dev keys, generated once and kept beside the default store. */
function devKeys(directory: string): DevKeys {
  const file = join(directory, 'dev-keys.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevKeys;
  const keys = {
    writeKey: `wk_dev_${randomBytes(12).toString('hex')}`,
    readKey: `rk_dev_${randomBytes(16).toString('hex')}`,
  };
  mkdirSync(directory, { recursive: true });
  writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return keys;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

async function start(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      store: { type: 'string' },
      'write-key': { type: 'string', multiple: true },
      'read-key': { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const env = process.env;
  const port = Number(values.port ?? env.SIGHTLINE_PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SightlineError('invalid_option', `--port must be a port number (got ${values.port ?? env.SIGHTLINE_PORT})`);
  }
  const host = values.host ?? env.SIGHTLINE_HOST ?? '127.0.0.1';
  const store = values.store ?? env.SIGHTLINE_STORE ?? DEFAULT_STORE_URL;
  let writeKeys = values['write-key'] ?? list(env.SIGHTLINE_WRITE_KEYS);
  let readKeys = values['read-key'] ?? list(env.SIGHTLINE_READ_KEYS);
  let generated: DevKeys | undefined;
  if (writeKeys.length === 0 && readKeys.length === 0) {
    const storeFile = store.startsWith('duckdb:') ? store.slice('duckdb:'.length) : '';
    const directory = storeFile && storeFile !== ':memory:' ? dirname(resolve(storeFile)) : resolve('.sightline');
    generated = devKeys(directory);
    writeKeys = [generated.writeKey];
    // The dev read key is an admin key: one local tenant, plus /metrics.
    readKeys = [`${generated.readKey}=*`];
  }

  const collector = createCollector({ store, writeKeys, readKeys });
  await collector.ready();
  const server = createServer(createNodeListener(collector));
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => done());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  const lines = [`Sightline collector ${VERSION} listening on ${url}`, `  store      ${store}`];
  if (generated) {
    lines.push(`  write key  ${generated.writeKey}   (dev key, tenant "default")`);
    lines.push(`  read key   ${generated.readKey}   (dev admin key)`);
  } else {
    lines.push(`  write keys ${writeKeys.length}, read keys ${readKeys.length}`);
  }
  lines.push(`  try: curl -u ${generated?.writeKey ?? '<write key>'}: -H 'content-type: application/json' \\`);
  lines.push(`         -d '{"batch":[{"type":"track","event":"hello","anonymousId":"a1"}]}' ${url}/v1/batch`);
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping (draining requests, closing the store)\n`);
    const closed = new Promise<void>((done) => server.close(() => done()));
    server.closeIdleConnections();
    await collector.close();
    await closed;
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'start') return start(rest);
  process.stdout.write(USAGE);
  if (command !== undefined && command !== '--help' && command !== 'help') process.exitCode = 2;
}

main().catch((error: unknown) => {
  process.stderr.write(`sightline-collector: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
