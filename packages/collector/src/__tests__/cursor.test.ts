import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../http/errors';
import { render } from '../query/sql';
import { after, decodeCursor, encodeCursor } from '../read/eventFilters';

/** Page cursors of `GET /v1/events`: `v2:<seq>:<messageId>` (and `v1:<seq>`), strictly read. */
describe('event page cursors', () => {
  it('round-trips any seq and message id, colons, quotes and unicode included', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.string({ minLength: 1, maxLength: 255, unit: 'grapheme' }),
        (seq, messageId) => {
          expect(decodeCursor(encodeCursor({ seq, messageId }))).toEqual({ seq, messageId });
        },
      ),
    );
  });

  it('reads cursors of the first format as a seq alone', () => {
    expect(decodeCursor(Buffer.from('v1:42').toString('base64url'))).toEqual({ seq: 42 });
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'djI6MTI6ZTE='],
    ['padding bits set', `${Buffer.from('v2:12:e1').toString('base64url').slice(0, -1)}F`],
    ['an unknown version', Buffer.from('v3:12:e1').toString('base64url')],
    ['no message id', Buffer.from('v2:12:').toString('base64url')],
    ['a leading zero', Buffer.from('v2:012:e1').toString('base64url')],
    ['a negative seq', Buffer.from('v2:-1:e1').toString('base64url')],
    ['an unsafe seq', Buffer.from('v2:9007199254740993:e1').toString('base64url')],
    ['a v1 cursor with a message id', Buffer.from('v1:12:e1').toString('base64url')],
    ['invalid UTF-8', Buffer.from([0x76, 0x32, 0x3a, 0x31, 0x3a, 0xff]).toString('base64url')],
    ['SQL', Buffer.from('v2:1 OR 1=1; DROP TABLE events; --').toString('base64url')],
    ['too long', Buffer.from(`v2:1:${'x'.repeat(2_000)}`).toString('base64url')],
  ])('refuses a cursor with %s as a 400 naming cursor', (_name, cursor) => {
    let caught: unknown;
    try {
      decodeCursor(cursor);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HttpError);
    expect((caught as HttpError).status).toBe(400);
  });

  it('refuses arbitrary text with a 400, never another error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.base64String()), (text) => {
        try {
          expect(Number.isSafeInteger(decodeCursor(text).seq)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(HttpError);
        }
      }),
    );
  });

  it('binds the position as values in a keyset condition every engine runs', () => {
    const statement = render(after({ seq: 7, messageId: "m'1" }));
    expect(statement.text.replace(/\s+/g, ' ')).toBe(
      '(events.seq < $1 OR (events.seq = $2 AND events.message_id < $3))',
    );
    expect(statement.values).toEqual([7, 7, "m'1"]);
  });
});
