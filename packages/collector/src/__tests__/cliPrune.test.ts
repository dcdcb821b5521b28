import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import { assertCliBuilt, killAll, spawnCli, startCli } from './cliProcess';
import { makeStoredEvent } from './storedEvent';

/**
 * `sightline-collector prune` and `start --retention-days` as users run them: the built
 * `dist/cli.js` in a child process (`pnpm build` first) on a real DuckDB file.
 */
const DAY = 86_400_000;
const children = new Set<ChildProcess>();
const directories: string[] = [];

beforeAll(assertCliBuilt);

afterEach(async () => {
  await killAll(children);
  for (const directory of directories.splice(0)) {
    rmSync(directory, { recursive: true, force: true });
  }
});

/** A directory holding `events.duckdb` with 2 events 100 days old (one link) and 1 from today. */
async function seededStore(): Promise<{ dir: string; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sightline-prune-'));
  directories.push(dir);
  const file = join(dir, 'events.duckdb');
  const store = await createDuckDbStore({ path: file });
  const old = Date.now() - 100 * DAY;
  await store.append([
    makeStoredEvent({ messageId: 'old-1', timestamp: old, anonymousId: 'a-1', userId: 'u-1' }),
    makeStoredEvent({ messageId: 'old-2', timestamp: old, tenant: 'other' }),
    makeStoredEvent({ messageId: 'new-1', timestamp: Date.now() - DAY }),
  ]);
  await store.close();
  return { dir, file };
}

async function counts(file: string): Promise<{ events: number; links: number }> {
  const store = await createDuckDbStore({ path: file });
  try {
    const [events, links] = await Promise.all([
      store.query({ text: 'SELECT count(*) AS n FROM events', values: [] }),
      store.query({ text: 'SELECT count(*) AS n FROM identity_links', values: [] }),
    ]);
    return { events: Number(events[0]?.n), links: Number(links[0]?.n) };
  } finally {
    await store.close();
  }
}

async function run(cwd: string, args: string[], env: Record<string, string> = {}) {
  const cli = spawnCli(cwd, args, env, children);
  const { code } = await cli.closed;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

describe('sightline-collector prune', () => {
  it('deletes events older than --retention-days from --store, prints the counts, exits 0', async () => {
    const { dir, file } = await seededStore();
    const result = await run(dir, ['prune', '--store', `duckdb:${file}`, '--retention-days', '30']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^pruned 2 events and 1 identity links older than \d{4}-\d{2}-\d{2}T[\d:.]+Z \(retention 30 days\) from duckdb:/,
    );
    expect(await counts(file)).toEqual({ events: 1, links: 0 });
    // Nothing left to prune.
    const again = await run(dir, ['prune', '--store', `duckdb:${file}`, '--retention-days', '30']);
    expect(again.stdout).toContain('pruned 0 events and 0 identity links');
  });

  it('reads SIGHTLINE_STORE and SIGHTLINE_RETENTION_DAYS', async () => {
    const { dir, file } = await seededStore();
    const result = await run(dir, ['prune'], {
      SIGHTLINE_STORE: `duckdb:${file}`,
      SIGHTLINE_RETENTION_DAYS: '200',
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('pruned 0 events');
    expect(await counts(file)).toEqual({ events: 3, links: 1 });
  });

  it.each<{ args: string[]; env: Record<string, string>; says: string }>([
    { args: ['prune'], env: {}, says: 'prune needs --retention-days' },
    {
      args: ['prune', '--retention-days', '0'],
      env: {},
      says: 'Invalid option `--retention-days`',
    },
    {
      args: ['prune', '--retention-days', 'ten'],
      env: {},
      says: 'Invalid option `--retention-days`',
    },
    {
      args: ['prune'],
      env: { SIGHTLINE_RETENTION_DAYS: '-3' },
      says: '`SIGHTLINE_RETENTION_DAYS`',
    },
    { args: ['prune', '--days', '3'], env: {}, says: "Unknown option '--days'" },
  ])('exits 2 naming the problem for $args $env', async ({ args, env, says }) => {
    const { dir } = await seededStore();
    const result = await run(dir, args, env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(says);
  });
});

describe('sightline-collector start --retention-days', () => {
  it('passes the policy to the collector, which prunes shortly after start', async () => {
    const { dir, file } = await seededStore();
    const cli = await startCli(
      dir,
      [
        'start',
        '--port',
        '0',
        '--store',
        `duckdb:${file}`,
        '--retention-days',
        '30',
        '--write-key',
        'wk_prune_cli_1234=default',
        '--read-key',
        'rk_prune_cli_1234=*',
      ],
      {},
      children,
    );
    expect(cli.stdout()).toContain('retention  30 days');
    const headers = { authorization: 'Bearer rk_prune_cli_1234' };
    const deadline = Date.now() + 20_000;
    let pruned = '';
    while (Date.now() < deadline) {
      const text = await (await fetch(`${cli.url}/metrics`, { headers })).text();
      pruned = /^sightline_events_pruned_total (\d+)$/m.exec(text)?.[1] ?? '';
      if (pruned === '2') break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(pruned).toBe('2');
    const events = (await (
      await fetch(`${cli.url}/v1/events?tenant=default`, { headers })
    ).json()) as { events: Array<{ messageId: string }> };
    expect(events.events.map((event) => event.messageId)).toEqual(['new-1']);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
  });
});
