import { describe, expect, it } from 'vitest';
import { isUuidv7, uuidv7, uuidv7Timestamp } from '../uuidv7';

describe('uuidv7', () => {
  it('produces RFC 9562 version 7 ids that encode the creation time', () => {
    const now = Date.UTC(2026, 10, 23, 12, 0, 0);
    const id = uuidv7(now);
    expect(isUuidv7(id)).toBe(true);
    expect(uuidv7Timestamp(id)).toBe(now);
  });

  it('sorts ids created in one process in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7(1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('never repeats across 100,000 ids', () => {
    const ids = new Set(Array.from({ length: 100_000 }, () => uuidv7()));
    expect(ids.size).toBe(100_000);
  });
});
