#!/usr/bin/env node
// `npm start` (after the build): the collector with the embedded DuckDB store on :8787, the demo
// page on :5173 (the browser SDK's <script> build), the Vue example on :5174 and the React example
// on :5175, all sending to that collector. Ctrl-C stops both
// (the collector gracefully: every accepted event is written).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Each child in its own process group: Ctrl-C reaches only this process, which passes it on once
// (a second SIGINT would make the collector exit without draining).
const options = { cwd: root, stdio: 'inherit', detached: true };
const cli = join(root, 'packages/collector/dist/cli.js');
const children = [
  spawn(process.execPath, [cli, 'start', ...process.argv.slice(2)], options),
  spawn(process.execPath, [join(root, 'examples/browser-demo/server.mjs')], options),
  spawn(process.execPath, [join(root, 'examples/vue-app/serve.mjs')], options),
  spawn(process.execPath, [join(root, 'examples/react-app/serve.mjs')], options),
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
