import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import {
  assertCliBuilt,
  type Exit,
  killAll,
  type RunningCli,
  spawnCli,
  startCli as startCliIn,
} from './cliProcess';

/**
 * The CLI as users run it: the built `dist/cli.js` in a child process (`pnpm build` first, as
 * `pnpm check` does), talking real HTTP over loopback to a real DuckDB file.
 */
const children = new Set<ChildProcess>();
const directories: string[] = [];

beforeAll(assertCliBuilt);

afterEach(async () => {
  await killAll(children);
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

function tempDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'sightline-'));
  directories.push(directory);
  return directory;
}

/** Starts the CLI in `cwd` (see cliProcess.ts), cleaned up after each test. */
function startCli(cwd: string, args: string[], env: Record<string, string> = {}) {
  return startCliIn(cwd, args, env, children);
}

/** Runs a CLI command to completion. */
async function runCli(args: string[], env: Record<string, string> = {}) {
  const cli = spawnCli(tempDir(), args, env, children);
  const { code } = await cli.closed;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; agent?: Agent } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: options.agent },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

function track(messageId: string) {
  return { type: 'track', event: 'Signed Up', anonymousId: 'anon-1', messageId };
}

function ingest(
  url: string,
  writeKey: string,
  messageIds: string[],
  agent?: Agent,
): Promise<HttpResult> {
  return send(`${url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: basic(writeKey), 'content-type': 'application/json' },
    body: JSON.stringify({ batch: messageIds.map(track) }),
    agent,
  });
}

/** Which of `messageIds` the store file holds for `tenant` (the CLI must have exited). */
async function storedIds(file: string, tenant: string, messageIds: string[]): Promise<Set<string>> {
  const store = await createDuckDbStore({ path: file });
  try {
    return await store.findMessageIds(tenant, messageIds);
  } finally {
    await store.close();
  }
}

/** `promise`, or a rejection naming `what` when it takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function stop(cli: RunningCli, signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
  cli.child.kill(signal);
  return within(cli.exited, 5_000, `exiting on ${signal}`);
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

describe('sightline-collector start with no keys configured', () => {
  it('generates a dev write key and admin read key, keeps them in .sightline/dev-keys.json, and prints the same keys on the next start', async () => {
    const cwd = tempDir();
    const first = await startCli(cwd, ['start', '--port', '0']);
    const writeKey = /write key {2}(\S+)/.exec(first.stdout())?.[1];
    const readKey = /read key {3}(\S+)/.exec(first.stdout())?.[1];
    expect(writeKey).toMatch(/^wk_dev_[0-9a-f]{24}$/);
    expect(readKey).toMatch(/^rk_dev_[0-9a-f]{32}$/);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(first.url).not.toBe('http://127.0.0.1:0');
    expect(first.stdout()).toContain('store      duckdb:./.sightline/events.duckdb');
    expect(JSON.parse(readFileSync(join(cwd, '.sightline', 'dev-keys.json'), 'utf8'))).toEqual({
      writeKey,
      readKey,
    });
    expect(existsSync(join(cwd, '.sightline', 'events.duckdb'))).toBe(true);

    const ingested = await ingest(first.url, writeKey ?? '', ['dev-1', 'dev-2']);
    expect(ingested.status).toBe(200);
    expect(JSON.parse(ingested.body)).toEqual({ success: true });
    const metrics = await send(`${first.url}/metrics`, {
      headers: { authorization: `Bearer ${readKey}` },
    });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('sightline_events_stored_total{tenant="default"} 2');
    expect((await send(`${first.url}/metrics`)).status).toBe(401);
    expect(await stop(first)).toEqual({ code: 0, signal: null });

    const second = await startCli(cwd, ['start', '--port', '0']);
    expect(/write key {2}(\S+)/.exec(second.stdout())?.[1]).toBe(writeKey);
    expect(/read key {3}(\S+)/.exec(second.stdout())?.[1]).toBe(readKey);
    expect((await ingest(second.url, writeKey ?? '', ['dev-3'])).status).toBe(200);
    expect(await stop(second)).toEqual({ code: 0, signal: null });

    // The dev write key belongs to tenant "default"; both runs wrote to the same default file.
    const stored = await storedIds(join(cwd, '.sightline', 'events.duckdb'), 'default', [
      'dev-1',
      'dev-2',
      'dev-3',
    ]);
    expect([...stored].sort()).toEqual(['dev-1', 'dev-2', 'dev-3']);
  });
});

describe('sightline-collector configuration', () => {
  it('lets --write-key, --store, --host and --port override SIGHTLINE_WRITE_KEYS, SIGHTLINE_STORE, SIGHTLINE_HOST and SIGHTLINE_PORT', async () => {
    const cwd = tempDir();
    const port = await freePort();
    const cli = await startCli(
      cwd,
      [
        'start',
        '--write-key',
        'flagkey_1234=beta',
        '--store',
        'duckdb:./flag/flag.duckdb',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
      ],
      {
        SIGHTLINE_WRITE_KEYS: 'envkey_1234=acme',
        SIGHTLINE_STORE: 'duckdb:./env/env.duckdb',
        SIGHTLINE_HOST: '0.0.0.0',
        SIGHTLINE_PORT: '1',
      },
    );
    expect(cli.url).toBe(`http://127.0.0.1:${port}`);
    expect(cli.stdout()).toContain('store      duckdb:./flag/flag.duckdb');
    expect(cli.stdout()).toContain('write keys 1, read keys 0');

    const refused = await ingest(cli.url, 'envkey_1234', ['env-1']);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({
      success: false,
      error: { code: 'invalid_write_key' },
    });
    expect((await ingest(cli.url, 'flagkey_1234', ['flag-1'])).status).toBe(200);
    expect(await stop(cli)).toEqual({ code: 0, signal: null });

    expect(existsSync(join(cwd, 'env'))).toBe(false);
    // Keys were configured: no dev keys are generated.
    expect(existsSync(join(cwd, 'flag', 'dev-keys.json'))).toBe(false);
    expect(existsSync(join(cwd, '.sightline'))).toBe(false);
    const file = join(cwd, 'flag', 'flag.duckdb');
    expect(await storedIds(file, 'beta', ['flag-1', 'env-1'])).toEqual(new Set(['flag-1']));
    expect(await storedIds(file, 'acme', ['flag-1', 'env-1'])).toEqual(new Set());
  });

  it('takes comma-separated keys and tenants, the store, host and port from the environment alone', async () => {
    const cwd = tempDir();
    const port = await freePort();
    const cli = await startCli(cwd, ['start'], {
      SIGHTLINE_WRITE_KEYS: 'wk_env_acme1=acme, wk_env_beta1=beta,wk_env_default1',
      SIGHTLINE_READ_KEYS: 'rk_env_admin1=*,rk_env_acme1=acme',
      SIGHTLINE_STORE: 'duckdb:./data/env.duckdb',
      SIGHTLINE_HOST: '127.0.0.1',
      SIGHTLINE_PORT: String(port),
    });
    expect(cli.url).toBe(`http://127.0.0.1:${port}`);
    expect(cli.stdout()).toContain('store      duckdb:./data/env.duckdb');
    expect(cli.stdout()).toContain('write keys 3, read keys 2');

    expect((await ingest(cli.url, 'wk_env_acme1', ['acme-1'])).status).toBe(200);
    expect((await ingest(cli.url, 'wk_env_beta1', ['beta-1'])).status).toBe(200);
    expect((await ingest(cli.url, 'wk_env_default1', ['default-1'])).status).toBe(200);
    expect((await ingest(cli.url, 'rk_env_admin1', ['x'])).status).toBe(401);
    const admin = await send(`${cli.url}/metrics`, {
      headers: { authorization: 'Bearer rk_env_admin1' },
    });
    expect(admin.status).toBe(200);
    expect(admin.body).toContain('sightline_events_stored_total{tenant="beta"} 1');
    // Only an admin (tenant "*") read key may read /metrics.
    expect(
      (await send(`${cli.url}/metrics`, { headers: { authorization: 'Bearer rk_env_acme1' } }))
        .status,
    ).toBe(401);
    expect(await stop(cli)).toEqual({ code: 0, signal: null });

    const file = join(cwd, 'data', 'env.duckdb');
    const all = ['acme-1', 'beta-1', 'default-1'];
    expect(await storedIds(file, 'acme', all)).toEqual(new Set(['acme-1']));
    expect(await storedIds(file, 'beta', all)).toEqual(new Set(['beta-1']));
    expect(await storedIds(file, 'default', all)).toEqual(new Set(['default-1']));
  });

  it('treats blank environment variables as unset', async () => {
    const cwd = tempDir();
    const cli = await startCli(cwd, ['start', '--port', '0'], {
      SIGHTLINE_WRITE_KEYS: '',
      SIGHTLINE_READ_KEYS: ' ',
      SIGHTLINE_STORE: '',
      SIGHTLINE_HOST: ' ',
    });
    expect(cli.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(cli.stdout()).toContain('store      duckdb:./.sightline/events.duckdb');
    expect(cli.stdout()).toMatch(/write key {2}wk_dev_/);
    expect(await stop(cli)).toEqual({ code: 0, signal: null });
    expect(existsSync(join(cwd, '.sightline', 'dev-keys.json'))).toBe(true);
  });
});

describe('sightline-collector usage', () => {
  it.each([[['--help']], [['start', '--help']], [['help']]])(
    '%j prints the usage and exits 0',
    async (args) => {
      const { code, stdout, stderr } = await runCli(args);
      expect(code).toBe(0);
      expect(stdout).toContain('Usage: sightline-collector start [options]');
      for (const option of [
        '--port',
        '--host',
        '--store',
        '--write-key',
        '--read-key',
        'SIGHTLINE_WRITE_KEYS',
      ]) {
        expect(stdout).toContain(option);
      }
      expect(stderr).toBe('');
    },
  );

  it('--version prints the version and exits 0', async () => {
    const { code, stdout } = await runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\d+\.\d+\.\d+\S*\n$/);
  });

  it('exits 2 on an unknown command, naming it on stderr', async () => {
    const { code, stdout, stderr } = await runCli(['serve']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "serve"');
    expect(stderr).toContain('Usage: sightline-collector start');
    expect(stdout).toBe('');
  });

  it.each<{ given: string; args: string[]; env: Record<string, string>; names: string }>([
    { given: '--port abc', args: ['--port', 'abc'], env: {}, names: '--port' },
    { given: '--port 70000', args: ['--port', '70000'], env: {}, names: '--port' },
    { given: '--port -1', args: ['--port', '-1'], env: {}, names: '--port' },
    {
      given: 'SIGHTLINE_PORT=abc',
      args: [],
      env: { SIGHTLINE_PORT: 'abc' },
      names: 'SIGHTLINE_PORT',
    },
    { given: '--write-key short', args: ['--write-key', 'short'], env: {}, names: '--write-key' },
    {
      given: 'a --write-key with a bad tenant',
      args: ['--write-key', 'wk_valid_123=bad tenant!'],
      env: {},
      names: '--write-key',
    },
    {
      given: 'a short key in SIGHTLINE_WRITE_KEYS',
      args: [],
      env: { SIGHTLINE_WRITE_KEYS: 'wk_valid_123,short' },
      names: 'SIGHTLINE_WRITE_KEYS',
    },
    {
      given: '--read-key tiny',
      args: ['--write-key', 'wk_valid_123', '--read-key', 'tiny'],
      env: {},
      names: '--read-key',
    },
    {
      given: 'read keys without write keys',
      args: ['--read-key', 'rk_valid_123=*'],
      env: {},
      names: '--write-key',
    },
    { given: 'an empty --host', args: ['--host', ''], env: {}, names: '--host' },
    { given: 'the unknown flag --prot', args: ['--prot', '8080'], env: {}, names: '--prot' },
    { given: '--write-key without a value', args: ['--write-key'], env: {}, names: '--write-key' },
  ])('exits 2 on $given, naming $names on stderr', async ({ args, env, names }) => {
    const { code, stdout, stderr } = await runCli(
      ['start', '--store', 'duckdb::memory:', ...args],
      env,
    );
    expect(code).toBe(2);
    expect(stderr).toContain(names);
    expect(stdout).not.toContain('listening on');
  });

  it('exits 1 with the reason when the port is taken', async () => {
    const cwd = tempDir();
    const first = await startCli(cwd, [
      'start',
      '--port',
      '0',
      '--store',
      'duckdb::memory:',
      '--write-key',
      'wk_port_1234',
    ]);
    const port = new URL(first.url).port;
    const { code, stderr } = await runCli([
      'start',
      '--port',
      port,
      '--store',
      'duckdb::memory:',
      '--write-key',
      'wk_port_1234',
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain('EADDRINUSE');
    expect(await stop(first)).toEqual({ code: 0, signal: null });
  });
});

describe.each(['SIGTERM', 'SIGINT'] as const)('graceful shutdown on %s', (signal) => {
  it('acknowledges and stores a batch whose body is still arriving, refuses new connections, and exits 0', async () => {
    const cwd = tempDir();
    const cli = await startCli(cwd, [
      'start',
      '--port',
      '0',
      '--store',
      'duckdb:./events.duckdb',
      '--write-key',
      'wk_slow_1234',
    ]);
    const agent = new Agent({ keepAlive: true });
    try {
      const body = JSON.stringify({ batch: [track('slow-1'), track('slow-2')] });
      const response = new Promise<HttpResult>((resolve, reject) => {
        const req = httpRequest(`${cli.url}/v1/batch`, {
          method: 'POST',
          agent,
          headers: {
            authorization: basic('wk_slow_1234'),
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
          },
        });
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
          );
        });
        req.on('error', reject);
        req.write(body.slice(0, 20));
        // The rest arrives after the signal.
        setTimeout(() => req.end(body.slice(20)), 400);
      });
      await new Promise((done) => setTimeout(done, 150));
      cli.child.kill(signal);
      await new Promise((done) => setTimeout(done, 100));
      const later = await ingest(cli.url, 'wk_slow_1234', ['late-1']).then(
        (result) => result.status,
        (error: NodeJS.ErrnoException) => error.code,
      );

      const slow = await response;
      expect(slow.status).toBe(200);
      expect(JSON.parse(slow.body)).toEqual({ success: true });
      // The connection is not kept alive past the shutdown.
      expect(slow.headers.connection).toBe('close');
      expect(later).toBe('ECONNREFUSED');
      expect(await within(cli.exited, 5_000, 'exiting')).toEqual({ code: 0, signal: null });
      expect(cli.stdout()).toContain(`${signal}: stopping`);
    } finally {
      agent.destroy();
    }
    const stored = await storedIds(join(cwd, 'events.duckdb'), 'default', [
      'slow-1',
      'slow-2',
      'late-1',
    ]);
    expect(stored).toEqual(new Set(['slow-1', 'slow-2']));
  });

  it('stores every batch it acknowledged during a burst of requests, answers only 200, 429, 503 or a closed connection, and exits 0', async () => {
    const cwd = tempDir();
    const cli = await startCli(cwd, [
      'start',
      '--port',
      '0',
      '--store',
      'duckdb:./events.duckdb',
      '--write-key',
      'wk_burst_1234',
    ]);
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const acknowledged: string[] = [];
    const statuses = new Map<string, number>();
    let next = 0;
    let stopped = false;
    const loop = async () => {
      while (!stopped) {
        const ids = Array.from({ length: 20 }, () => `burst-${next++}`);
        const outcome = await ingest(cli.url, 'wk_burst_1234', ids, agent).then(
          (result) => String(result.status),
          (error: NodeJS.ErrnoException) => error.code ?? 'error',
        );
        statuses.set(outcome, (statuses.get(outcome) ?? 0) + 1);
        if (outcome === '200') acknowledged.push(...ids);
        if (outcome === 'ECONNREFUSED') return;
      }
    };
    const loops = Array.from({ length: 16 }, loop);
    try {
      await new Promise((done) => setTimeout(done, 500));
      cli.child.kill(signal);
      const exit = await within(cli.exited, 5_000, 'exiting');
      stopped = true;
      await Promise.all(loops);
      expect(exit).toEqual({ code: 0, signal: null });
    } finally {
      stopped = true;
      agent.destroy();
    }
    const outcomes = [...statuses.keys()];
    expect(outcomes).toContain('200');
    expect(
      outcomes.filter(
        (outcome) =>
          !['200', '429', '503', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(outcome),
      ),
    ).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(100);
    const sent = Array.from({ length: next }, (_, n) => `burst-${n}`);
    const stored = await storedIds(join(cwd, 'events.duckdb'), 'default', sent);
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
  });
});
