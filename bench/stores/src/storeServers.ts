/**
 * Throwaway database servers for the bench: clickhouse-server and PostgreSQL 15 in temporary
 * directories, listening on free loopback ports, stopped and deleted at the end. The same minimal
 * logic as the collector's test helpers (`packages/collector/src/__tests__/…/…Server.ts`), kept
 * here so a bench never imports test code.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A database server the bench started. */
export interface StoreServer {
  /** The collector's `--store` URL of the bench database. */
  storeUrl: string;
  /** Process id of the server's main process (its CPU time counts its children too). */
  pid: number;
  /** Settings that differ from the server's defaults, for the printed report. */
  settings: string;
  /** Cancels the queries still running (those of a collector killed after a timeout). */
  cancelQueries(): Promise<void>;
  /** Bytes the bench database takes on disk. */
  diskBytes(): Promise<number>;
  stop(): Promise<void>;
}

/** Debian installs the server here; `CLICKHOUSE_SERVER` overrides it. */
const CLICKHOUSE_BINARY =
  process.env.CLICKHOUSE_SERVER ??
  ['/usr/sbin/clickhouse-server', '/usr/bin/clickhouse-server'].find((path) => existsSync(path)) ??
  'clickhouse-server';
const POSTGRES_BIN = process.env.POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * clickhouse-server (18.16 reads `<yandex>` XML config) with a generated minimal config; resolves
 * once `/ping` answers. The collector creates the database on its first start.
 */
export async function startClickHouse(database: string): Promise<StoreServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sightline-bench-clickhouse-'));
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
</yandex>
`,
  );
  writeFileSync(
    join(dir, 'users.xml'),
    `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>8000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`,
  );
  const child: ChildProcess = spawn(
    CLICKHOUSE_BINARY,
    [`--config-file=${join(dir, 'config.xml')}`],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4_000);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`clickhouse-server exited (${child.exitCode}): ${stderr}`);
    }
    const ok = await fetch(`${httpUrl}/ping`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`clickhouse-server did not answer /ping within 30 s: ${stderr}`);
    }
    await sleep(100);
  }
  const version = await fetch(httpUrl, { method: 'POST', body: 'SELECT version()' }).then(
    (response) => response.text(),
    () => '?',
  );
  return {
    storeUrl: `clickhouse://127.0.0.1:${httpPort}/${database}`,
    pid: child.pid!,
    settings: `clickhouse-server ${version.trim()}, defaults (max_memory_usage 8 GB per query)`,
    async cancelQueries() {
      await fetch(httpUrl, { method: 'POST', body: 'KILL QUERY WHERE 1 SYNC' }).catch(() => {});
    },
    async diskBytes() {
      const response = await fetch(httpUrl, {
        method: 'POST',
        body: `SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = '${database}'`,
      });
      return Number(await response.text());
    },
    stop,
  };
}

/**
 * PostgreSQL settings for the bench: what anyone running 10M events would set on a 24 GB
 * machine (the defaults are sized for a tiny host). Durability stays on: fsync and synchronous
 * commit at their defaults, since the collector acknowledges only committed events.
 */
const POSTGRES_SETTINGS = {
  shared_buffers: '2GB',
  work_mem: '64MB',
  maintenance_work_mem: '512MB',
  max_wal_size: '8GB',
  effective_cache_size: '12GB',
  // A backend whose client went away (a collector killed after a timed-out request) stops.
  client_connection_check_interval: '1s',
};

/**
 * A PostgreSQL 15 cluster (Debian's binaries) with trust authentication on a free loopback port,
 * and an empty database `database`. PostgreSQL refuses to run as root: then the cluster runs as
 * the `postgres` system user (through `runuser`).
 */
export async function startPostgres(database: string): Promise<StoreServer> {
  const directory = mkdtempSync(join(tmpdir(), 'sightline-bench-pg-'));
  const data = join(directory, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout: user } = await run('id', ['-u', 'postgres']);
    const { stdout: group } = await run('id', ['-g', 'postgres']);
    chownSync(directory, Number(user.trim()), Number(group.trim()));
    chmodSync(directory, 0o700);
  }
  const as = (command: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args);
  await as(`${POSTGRES_BIN}/initdb`, [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C',
  ]);
  const port = await freePort();
  const settings = Object.entries(POSTGRES_SETTINGS).map(([name, value]) => `-c ${name}=${value}`);
  await as(`${POSTGRES_BIN}/pg_ctl`, [
    '-D',
    data,
    '-l',
    join(directory, 'server.log'),
    '-w',
    '-o',
    `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1 ${settings.join(' ')}`,
    'start',
  ]);
  const stop = async () => {
    await as(`${POSTGRES_BIN}/pg_ctl`, ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => {});
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    await run(`${POSTGRES_BIN}/createdb`, [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      'postgres',
      database,
    ]);
    const pid = readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n', 1)[0] ?? '';
    const { stdout: version } = await run(`${POSTGRES_BIN}/postgres`, ['--version']);
    return {
      storeUrl: `postgres://postgres@127.0.0.1:${port}/${database}`,
      pid: Number(pid.trim()),
      settings: `${version.trim()}, fsync and synchronous_commit on, ${Object.entries(
        POSTGRES_SETTINGS,
      )
        .map(([name, value]) => `${name} ${value}`)
        .join(', ')}`,
      async diskBytes() {
        const { stdout } = await run(`${POSTGRES_BIN}/psql`, [
          ...['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-tA', '-c'],
          'SELECT pg_database_size(current_database())',
        ]);
        return Number(stdout.trim());
      },
      async cancelQueries() {
        await run(`${POSTGRES_BIN}/psql`, [
          ...['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-c'],
          'SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = $$client backend$$',
        ]).catch(() => {});
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export function freePort(): Promise<number> {
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
