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

const silent = () => {};

/**
 * Warnings and errors to the console; `debug` only when asked for.
 *
 * @example
 * createAnalytics({ writeKey, host, logger: createConsoleLogger(true) });
 */
export function createConsoleLogger(debug = false): Logger {
  const prefix = '[sightline]';
  return {
    debug: debug ? (message, data) => console.debug(prefix, message, data ?? '') : silent,
    info: (message, data) => console.info(prefix, message, data ?? ''),
    warn: (message, data) => console.warn(prefix, message, data ?? ''),
    error: (message, data) => console.error(prefix, message, data ?? ''),
  };
}
