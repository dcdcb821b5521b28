import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { DashboardAssets } from './dashboardAssets';

/**
 * Bundles the dashboard page (client/main.ts with uPlot, client/styles.css with uPlot's styles,
 * client/index.html) with esbuild into three strings. Runs at build time only: tsup.config.ts
 * puts the result into the collector's bundle as `__SIGHTLINE_DASHBOARD__`, so the collector
 * serves the page from memory, under any mount point and whatever the process's cwd.
 *
 * @example
 * const assets = await bundleDashboard();
 * assets.js.length; // ~70 KB minified
 */
export async function bundleDashboard(
  clientDirectory = fileURLToPath(new URL('./client/', import.meta.url)),
): Promise<DashboardAssets> {
  const result = await build({
    absWorkingDir: clientDirectory,
    entryPoints: { app: 'main.ts', styles: 'styles.css' },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome109', 'firefox115', 'safari15.6'],
    outdir: 'out',
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const output = (name: string) => {
    const file = result.outputFiles.find((each) => each.path.endsWith(name));
    if (!file) throw new Error(`esbuild wrote no ${name}`);
    return file.text;
  };
  const js = output('app.js');
  const css = output('styles.css');
  const version = createHash('sha256').update(js).update(css).digest('hex').slice(0, 12);
  const html = readFileSync(`${clientDirectory}/index.html`, 'utf8').replaceAll(
    '%VERSION%',
    version,
  );
  return { html, js, css, version };
}
