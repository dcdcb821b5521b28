/** The inline script that hands the app its collector, for the top of index.html. */
export function runtimeConfigScript(config: { host: string; writeKey: string }): string;

/** The dev write key the collector CLI wrote to .sightline/dev-keys.json. */
export function devWriteKey(): Promise<string>;
