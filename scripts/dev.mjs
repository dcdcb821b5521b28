#!/usr/bin/env node
// `npm start` (after the build): the collector with the embedded DuckDB store on :8787 and the demo
// page on :5173, which loads the browser SDK and sends to that collector. Ctrl-C stops both
// (the collector gracefully: every accepted event is written).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const children = [
  spawn(
    process.execPath,
    [join(root, 'packages/collector/dist/cli.js'), 'start', ...process.argv.slice(2)],
    {
      cwd: root,
      stdio: 'inherit',
    },
  ),
  spawn(process.execPath, [join(root, 'examples/browser-demo/server.mjs')], {
    cwd: root,
    stdio: 'inherit',
  }),
];
let stopping = false;
const stop = (signal) => {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stop(signal));
for (const child of children) {
  child.on('exit', (code) => {
    stop('SIGTERM');
    if (children.every((each) => each.exitCode !== null || each.signalCode !== null)) {
      process.exit(code ?? 0);
    }
  });
}
