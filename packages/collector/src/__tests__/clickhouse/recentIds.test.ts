import { describe, expect, it } from 'vitest';
import { RecentIds } from '../../store/clickhouse/recentIds';

describe('RecentIds', () => {
  it('remembers ids per tenant up to its capacity, forgetting the oldest first', () => {
    const recent = new RecentIds(3);
    recent.add('acme', 'm-1');
    recent.add('other', 'm-1');
    recent.add('acme', 'm-2');
    recent.add('acme', 'm-2'); // known: neither counted again nor refreshed
    expect(recent.size).toBe(3);
    recent.add('acme', 'm-3');
    expect(recent.has('acme', 'm-1')).toBe(false);
    expect(recent.has('other', 'm-1')).toBe(true);
    expect(recent.has('acme', 'm-2')).toBe(true);
    expect(recent.has('acme', 'm-3')).toBe(true);
    expect(recent.has('other', 'm-3')).toBe(false);
    recent.clear();
    expect(recent.size).toBe(0);
  });

  it('keeps tenant and id apart', () => {
    const recent = new RecentIds(10);
    recent.add('a', 'b\u0000c');
    recent.add('1', ':1x');
    expect(recent.has('a\u0000b', 'c')).toBe(false);
    expect(recent.has('1:1', 'x')).toBe(false);
    expect(recent.has('a', 'b\u0000c')).toBe(true);
  });
});
