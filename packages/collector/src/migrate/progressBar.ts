import type { MigrateProgress } from './migrateStore';

const WIDTH = 30;

/**
 * A progress bar for `sightline-collector migrate` on `stream` (stderr): one line redrawn in place
 * on a terminal; elsewhere (logs, CI) a line at every tenth of the way, so output stays short.
 *
 * @example
 * const bar = createProgressBar(process.stderr);
 * await migrateStore(source, target, { onProgress: bar.update });
 * bar.done();
 */
export function createProgressBar(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  now: () => number = Date.now,
) {
  const started = now();
  let lastTenth = -1;
  let lastDraw = 0;
  let last: MigrateProgress = { copied: 0, total: 0 };

  function line({ copied, total }: MigrateProgress): string {
    const share = total === 0 ? 1 : Math.min(1, copied / total);
    const filled = Math.round(share * WIDTH);
    const seconds = (now() - started) / 1000;
    const rate = seconds > 0 ? copied / seconds : 0;
    const eta = rate > 0 && total > copied ? ` eta ${Math.ceil((total - copied) / rate)} s` : '';
    const bar = `${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}`;
    return `[${bar}] ${String(Math.floor(share * 100)).padStart(3)}%  ${format(copied)}/${format(total)} events  ${format(Math.round(rate))}/s${eta}`;
  }

  return {
    update(progress: MigrateProgress): void {
      last = progress;
      if (stream.isTTY) {
        if (now() - lastDraw < 100 && progress.copied < progress.total) return;
        lastDraw = now();
        stream.write(`\r${line(progress)}\u001b[K`);
        return;
      }
      const tenth = progress.total === 0 ? 10 : Math.floor((progress.copied / progress.total) * 10);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      stream.write(`${line(progress)}\n`);
    },
    done(): void {
      if (stream.isTTY) stream.write(`\r${line(last)}\u001b[K\n`);
    },
  };
}

function format(value: number): string {
  return value.toLocaleString('en-US');
}
