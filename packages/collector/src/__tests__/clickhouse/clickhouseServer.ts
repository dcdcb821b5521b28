import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@clickhouse/client';
import { ClickHouseConnection } from '../../store/clickhouse/clickhouseConnection';
import { runClickHouseMigrations } from '../../store/clickhouse/clickhouseMigrate';
import { type ClickHouseMigration, clickhouseMigrations } from '../../store/clickhouse/migrations';
import { openStore } from '../../store/openStore';
import { type HttpCollector, startHttpCollector } from '../httpCollector';

/** A throwaway ClickHouse server for tests. */
export interface ClickHouseTestServer {
  /** `http://127.0.0.1:<port>` of the HTTP interface. */
  httpUrl: string;
  /** A store URL for database `database`. */
  storeUrl(database: string): string;
  /** Runs one statement over HTTP; resolves with the response text. */
  run(statement: string): Promise<string>;
  /** Stops the server process (SIGTERM, or `SIGKILL` for a crash), keeping its data and ports. */
  halt(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again after `halt`, on the same data and ports. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** Debian installs the server here; `CLICKHOUSE_SERVER` overrides it. */
const BINARY =
  process.env.CLICKHOUSE_SERVER ??
  ['/usr/sbin/clickhouse-server', '/usr/bin/clickhouse-server'].find((path) => existsSync(path)) ??
  'clickhouse-server';

/**
 * Starts `clickhouse-server` with a minimal generated config (18.16 reads `<yandex>` XML) in a
 * temporary directory, on free loopback ports, and waits until `/ping` answers. With
 * `SIGHTLINE_CLICKHOUSE=chdb`, starts the current ClickHouse engine (chDB) behind the same HTTP
 * interface instead (see `chdbServer.ts`).
 *
 * @example
 * const server = await startClickHouse();
 * const store = await openStore(server.storeUrl('t1'));
 * await server.stop();
 */
export async function startClickHouse(): Promise<ClickHouseTestServer> {
  if (process.env.SIGHTLINE_CLICKHOUSE === 'chdb') return startChdb();
  const dir = mkdtempSync(join(tmpdir(), 'sightline-clickhouse-'));
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas', 'log']) {
    mkdirSync(join(dir, sub));
  }
  const httpPort = await freePort();
  const tcpPort = await freePort();
  writeFileSync(
    join(dir, 'config.xml'),
    `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/log/server.log</log><errorlog>${dir}/log/error.log</errorlog></logger>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709120</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <query_log><database>system</database><table>query_log</table><flush_interval_milliseconds>1000</flush_interval_milliseconds></query_log>
</yandex>
`,
  );
  writeFileSync(
    join(dir, 'users.xml'),
    `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage><log_queries>1</log_queries></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`,
  );
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  let stderr = '';
  return serve(dir, httpPort, async ({ adopt, stop }) => {
    const started = adopt(
      spawn(BINARY, [`--config-file=${join(dir, 'config.xml')}`], {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    started.stderr?.on('data', (chunk) => {
      stderr += String(chunk);
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (started.exitCode !== null) {
        await stop();
        throw new Error(`clickhouse-server exited (${started.exitCode}): ${stderr}`);
      }
      const ok = await fetch(`${httpUrl}/ping`).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`clickhouse-server did not answer /ping within 30 s: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
}

/** What a server's start is given: `adopt` makes a child the one `halt` stops; `stop` ends all. */
interface Launch {
  adopt(child: ChildProcess): ChildProcess;
  stop(): Promise<void>;
}

/**
 * The test server around a child process that serves ClickHouse's HTTP interface on `httpPort`,
 * with its data in `dir`: `start` spawns it (again on `resume`) and resolves once it answers.
 */
async function serve(
  dir: string,
  httpPort: number,
  start: (launch: Launch) => Promise<void>,
): Promise<ClickHouseTestServer> {
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;
  const halt = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const running = child;
    if (running && running.exitCode === null && running.signalCode === null) {
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill(signal);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (running.exitCode === null && running.signalCode === null) running.kill('SIGKILL');
    }
  };
  const stop = async () => {
    await halt('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  const launch: Launch = {
    adopt(started) {
      child = started;
      return started;
    },
    stop,
  };
  const resume = () => start(launch);
  await resume();
  return {
    httpUrl,
    storeUrl: (database) => `clickhouse://127.0.0.1:${httpPort}/${database}`,
    async run(statement) {
      const response = await fetch(httpUrl, { method: 'POST', body: statement });
      const text = await response.text();
      if (!response.ok) throw new Error(text);
      return text;
    },
    halt,
    resume,
    stop,
  };
}

/** The chDB server script, run with the `tsx` loader from the package's directory. */
const CHDB_SERVER = fileURLToPath(new URL('./chdbServer.ts', import.meta.url));
const PACKAGE_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** `startClickHouse` on chDB: one child process serving ClickHouse's HTTP interface. */
async function startChdb(): Promise<ClickHouseTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sightline-chdb-'));
  const httpPort = await freePort();
  return serve(dir, httpPort, async ({ adopt, stop }) => {
    const started = adopt(
      spawn(
        process.execPath,
        ['--import', 'tsx', CHDB_SERVER, join(dir, 'data'), String(httpPort)],
        { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    let output = '';
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      started.stdout?.on('data', (chunk) => {
        output += String(chunk);
        if (output.includes('"port"')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      started.stderr?.on('data', (chunk) => {
        output += String(chunk);
      });
      started.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (!ready) {
      await stop();
      throw new Error(`the chDB server did not start: ${output}`);
    }
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Creates `database` on `server` with the schema an older collector left: the first `version`
 * migrations (or those of `list`), applied by the collector's own migration runner.
 *
 * @example
 * await databaseAtVersion(server, 'old_one', 3); // event_rows, as before migration 4
 */
export async function databaseAtVersion(
  server: ClickHouseTestServer,
  database: string,
  version: number,
  list: readonly ClickHouseMigration[] = clickhouseMigrations.filter(
    (migration) => migration.version <= version,
  ),
): Promise<void> {
  await server.run(`CREATE DATABASE IF NOT EXISTS ${database}`);
  const client = createClient({ url: server.httpUrl, database });
  try {
    await runClickHouseMigrations(new ClickHouseConnection(client), list);
  } finally {
    await client.close();
  }
}

/**
 * A collector over HTTP on `database` of `server` (opening the store runs the migrations), with
 * one write key and one read key for tenant `acme` and the read cache off.
 *
 * @example
 * const app = await clickHouseCollector(server, 'db1', { write: 'wk_x_12345678', read: 'rk_x_12345678' });
 */
export async function clickHouseCollector(
  server: ClickHouseTestServer,
  database: string,
  keys: { write: string; read: string },
): Promise<HttpCollector> {
  return startHttpCollector({
    store: await openStore(server.storeUrl(database)),
    writeKeys: [`${keys.write}=acme`],
    readKeys: [`${keys.read}=acme`],
    read: { cacheTtlMs: 0 },
  });
}
