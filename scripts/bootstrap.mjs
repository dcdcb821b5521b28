#!/usr/bin/env node
// Lets a fresh clone with only Node.js and npm run `npm start` / `npm test`: it fetches the pinned
// pnpm through npx when pnpm is missing, installs the workspace from the lockfile, then runs the
// named root script with pnpm.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { packageManager } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pinned = packageManager.split('+')[0]; // "pnpm@10.34.8"
const task = process.argv[2];
const scripts = { start: 'main', test: 'check' };
if (!scripts[task]) {
  console.error(`usage: node scripts/bootstrap.mjs <${Object.keys(scripts).join('|')}>`);
  process.exit(2);
}

function run(command, args) {
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function pnpm() {
  const version = pinned.split('@')[1];
  const found = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim() === version) return ['pnpm', []];
  return ['npx', ['--yes', pinned]];
}

/**
 * What the tests run for real, from Debian's packages: Chromium for the browser end-to-end tests
 * (through playwright-core, which cannot download its own browsers here), PostgreSQL and
 * ClickHouse for the collector's store tests (each test starts its own throwaway server on a free
 * loopback port). Installed with one apt-get call when any is missing and that is possible.
 */
const SYSTEM_PACKAGES = [
  { name: 'chromium', binary: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
  { name: 'postgresql', binary: '/usr/lib/postgresql/15/bin/postgres' },
  { name: 'clickhouse-server', binary: '/usr/sbin/clickhouse-server', env: 'CLICKHOUSE_SERVER' },
];

function ensureSystemPackages() {
  const missing = SYSTEM_PACKAGES.filter(
    (entry) => !(entry.env && process.env[entry.env]) && !existsSync(entry.binary),
  );
  if (missing.length === 0) return;
  const names = missing.map((entry) => entry.name);
  const apt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (process.platform === 'linux' && process.getuid?.() === 0 && apt) {
    console.log(`Installing Debian's ${names.join(', ')} for the tests…`);
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', ...names]);
    return;
  }
  console.error(
    `The tests need ${missing.map((entry) => `${entry.name} (${entry.binary})`).join(', ')}. ` +
      `Install ${names.length > 1 ? 'them' : 'it'} (Debian/Ubuntu: \`sudo apt-get install ${names.join(' ')}\`); ` +
      'CHROMIUM_PATH can point at another Chromium or Chrome binary.',
  );
  process.exit(1);
}

if (task === 'test') ensureSystemPackages();
const [command, prefix] = pnpm();
const installed = existsSync(join(root, 'node_modules', '.modules.yaml'));
const frozen = process.env.CI ? ['--frozen-lockfile'] : ['--frozen-lockfile', '--prefer-offline'];
if (!installed || process.env.CI || task === 'test')
  run(command, [...prefix, 'install', ...frozen]);
run(command, [...prefix, 'run', scripts[task]]);
