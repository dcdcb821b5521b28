import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(new URL('../.sightline/dev-keys.json', import.meta.url));

/**
 * The dev write key `sightline-collector start` writes to .sightline/dev-keys.json, waiting up to
 * 30 s for the CLI (started beside the example servers by `npm start`) to write it.
 *
 * @example
 * const writeKey = process.env.SIGHTLINE_WRITE_KEY ?? (await devWriteKey());
 */
export async function devWriteKey() {
  for (let waited = 0; !existsSync(FILE); waited += 200) {
    if (waited > 30_000) throw new Error(`${FILE} did not appear: is the collector running?`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return JSON.parse(readFileSync(FILE, 'utf8')).writeKey;
}
