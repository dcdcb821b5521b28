import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built CLI (`pnpm build` first, as `pnpm check` does). */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export function assertCliBuilt(): void {
  if (!existsSync(CLI)) {
    throw new Error(`${CLI} is missing: run \`pnpm build\` in packages/collector first`);
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningCli {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  /** Resolves after the process exited and its pipes are drained. */
  exited: Promise<Exit>;
}

/** The parent's environment without any SIGHTLINE_* variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('SIGHTLINE_')) env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * Spawns `node dist/cli.js <args>` in `cwd`, recording it in `children` for cleanup.
 *
 * @example
 * const cli = spawnCli(dir, ['--help'], {}, children);
 */
export function spawnCli(
  cwd: string,
  args: string[],
  env: Record<string, string>,
  children: Set<ChildProcess>,
) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: cleanEnv(env) });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<Exit>((done) => {
    child.once('exit', (code, signal) => done({ code, signal }));
  });
  // 'exit' can come before the pipes are drained; 'close' comes after both.
  const closed = new Promise<Exit>((done) => {
    child.once('close', (code, signal) => done({ code, signal }));
  });
  return { child, exited, closed, stdout: () => stdout, stderr: () => stderr };
}

/**
 * Starts `sightline-collector <args>` and resolves once it prints the URL it listens on.
 *
 * @example
 * const { url } = await startCli(dir, ['start', '--port', '0'], {}, children);
 */
export async function startCli(
  cwd: string,
  args: string[],
  env: Record<string, string>,
  children: Set<ChildProcess>,
): Promise<RunningCli> {
  const cli = spawnCli(cwd, args, env, children);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "listening on" line in 15 s:\n${cli.stdout()}${cli.stderr()}`)),
      15_000,
    );
    const onData = () => {
      const match = /listening on (http:\/\/\S+)/.exec(cli.stdout());
      if (!match?.[1]) return;
      clearTimeout(timer);
      cli.child.stdout?.off('data', onData);
      resolve(match[1]);
    };
    cli.child.stdout?.on('data', onData);
    void cli.closed.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(
          `the CLI exited (${code ?? signal}) before listening:\n${cli.stdout()}${cli.stderr()}`,
        ),
      );
    });
  });
  // Leaves the stdout parsing to the test once the banner is complete (it is written in one go).
  return { child: cli.child, url, stdout: cli.stdout, stderr: cli.stderr, exited: cli.closed };
}

/** SIGKILLs every child still running. */
export async function killAll(children: Set<ChildProcess>): Promise<void> {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGKILL');
      await exited;
    }
  }
  children.clear();
}
