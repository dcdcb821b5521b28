/**
 * Where Sightline writes what it does. `debug` carries every drop with its reason.
 *
 * @example
 * createAnalytics({ writeKey, host, logger: { ...consoleLogger, debug: (m, d) => console.debug(m, d) } });
 */
export interface Logger {
  debug(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}

/**
 * Warnings and errors to the console; `debug` only when asked for.
 *
 * @example
 * createAnalytics({ writeKey, host, logger: createConsoleLogger(true) });
 */
export function createConsoleLogger(debug = false): Logger {
  const to =
    (level: keyof Logger) =>
    (message: string, data?: unknown): void =>
      console[level]('[sightline]', message, data ?? '');
  return {
    debug: debug ? to('debug') : () => {},
    info: to('info'),
    warn: to('warn'),
    error: to('error'),
  };
}
