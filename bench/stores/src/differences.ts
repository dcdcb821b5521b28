/**
 * Where two answers differ (paths like `steps[2].users: 17 ≠ 18`), at most `limit` of them.
 * Numbers are equal within a relative 1e-9: engines sum doubles in different orders.
 */
export function differences(a: unknown, b: unknown, limit = 3, path = ''): string[] {
  const found: string[] = [];
  const walk = (x: unknown, y: unknown, at: string) => {
    if (found.length >= limit) return;
    if (typeof x === 'number' && typeof y === 'number') {
      if (Math.abs(x - y) > 1e-9 * Math.max(1, Math.abs(x), Math.abs(y))) {
        found.push(`${at || '(value)'}: ${x} ≠ ${y}`);
      }
      return;
    }
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) found.push(`${at}: ${x.length} items ≠ ${y.length}`);
      for (let i = 0; i < Math.min(x.length, y.length); i++) walk(x[i], y[i], `${at}[${i}]`);
      return;
    }
    if (
      x &&
      y &&
      typeof x === 'object' &&
      typeof y === 'object' &&
      !Array.isArray(x) &&
      !Array.isArray(y)
    ) {
      const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
      for (const key of keys) {
        walk(
          (x as Record<string, unknown>)[key],
          (y as Record<string, unknown>)[key],
          at ? `${at}.${key}` : key,
        );
      }
      return;
    }
    if (x !== y) found.push(`${at || '(value)'}: ${JSON.stringify(x)} ≠ ${JSON.stringify(y)}`);
  };
  walk(a, b, path);
  return found;
}
