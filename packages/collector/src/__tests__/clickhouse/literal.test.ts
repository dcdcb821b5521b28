import { describe, expect, it } from 'vitest';
import { bindStatement, encodeLiteral } from '../../store/clickhouse/literal';

describe('ClickHouse literal encoder', () => {
  it('escapes quotes, backslashes and control characters in strings', () => {
    expect(encodeLiteral("it's")).toBe("'it\\'s'");
    expect(encodeLiteral('a\\b')).toBe("'a\\\\b'");
    expect(encodeLiteral('a\u0000b\nc\u007f')).toBe("'a\\x00b\\x0ac\\x7f'");
    expect(encodeLiteral('café ✓ 😀')).toBe("'café ✓ 😀'");
  });

  it('writes finite numbers, booleans, NULL and string lists', () => {
    expect(encodeLiteral(42)).toBe('42');
    expect(encodeLiteral(-1.5)).toBe('(-1.5)');
    expect(encodeLiteral(true)).toBe('1');
    expect(encodeLiteral(null)).toBe('NULL');
    expect(encodeLiteral(['a', "b'"])).toBe("['a', 'b\\'']");
    expect(encodeLiteral([])).toBe('emptyArrayString()');
  });

  it('refuses non-finite numbers and non-string list items', () => {
    expect(() => encodeLiteral(Number.NaN)).toThrow(RangeError);
    expect(() => encodeLiteral(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => encodeLiteral([1] as unknown as string[])).toThrow(TypeError);
  });

  it('binds placeholders outside quoted text only', () => {
    expect(
      bindStatement({
        text: 'SELECT $1, \'$1\', "$2" WHERE x = $2 OR y = $10',
        values: [...'abcdefghij'],
      }),
    ).toBe("SELECT 'a', '$1', \"$2\" WHERE x = 'b' OR y = 'j'");
    expect(() => bindStatement({ text: 'SELECT $2', values: ['a'] })).toThrow(RangeError);
  });
});
