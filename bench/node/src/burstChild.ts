/**
 * One SDK's burst, in a child process of `burst.ts` (bundled by esbuild and run on plain node, so
 * no TypeScript loader sits in its RSS). Hands the result to the parent over IPC and exits.
 *
 *   node dist/burstChild.mjs --sdk sightline --host http://127.0.0.1:8787 --events 100000 --close-timeout 60 [--keep-alive]
 *
 * Exit code 13 means Node found nothing left to run while `close()` was still pending.
 */
import { BURST_SDKS } from './burstClients';
import { runBurst } from './runBurst';

function argument(name: string): string {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? process.argv[index + 1] : undefined;
  if (value === undefined) throw new Error(`pass --${name}`);
  return value;
}

const key = argument('sdk');
const sdk = BURST_SDKS.find((candidate) => candidate.key === key);
if (!sdk)
  throw new Error(`unknown SDK "${key}": use ${BURST_SDKS.map(({ key }) => key).join(', ')}`);
const result = await runBurst(
  sdk,
  argument('host'),
  Number(argument('events')),
  Number(argument('close-timeout')) * 1000,
  process.argv.includes('--keep-alive'),
);
// Exit at once: timers an SDK leaves behind must neither count against it nor hold the run.
process.send?.(result, () => process.exit(0));
