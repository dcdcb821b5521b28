declare const __SIGHTLINE_VERSION__: string;

/**
 * The version of the package this code was built into, sent as `context.library.version`.
 *
 * @example
 * console.log(`Sightline ${VERSION}`);
 */
export const VERSION: string =
  typeof __SIGHTLINE_VERSION__ === 'string' ? __SIGHTLINE_VERSION__ : '0.0.0-development';
