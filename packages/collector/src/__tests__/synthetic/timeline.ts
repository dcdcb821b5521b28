import type { RawEvent } from './catalog';

/** An event being generated: `messageId` and `timestamp` are filled in by the timeline. */
export type DraftEvent = Omit<RawEvent, 'messageId' | 'timestamp'>;

interface Entry {
  t: number;
  event: RawEvent;
  /** Shares the time of this entry (set when the timeline finishes). */
  twin?: Entry;
}

/**
 * The events of one person (or of the marketing account), on one clock. Times may be added out
 * of order and may collide; `finish()` sorts them and makes them strictly increasing (a tie moves
 * by 1 ms), so that the events of one user key never share a timestamp. Twins are the exception:
 * they keep the exact time of the entry they were added for (a deliberate tie).
 *
 * @example
 * const timeline = new Timeline('syn-1-7');
 * timeline.add(Date.UTC(2024, 0, 1), { type: 'page', name: 'Home', anonymousId: 'a' });
 * timeline.finish(); // [{ t, event: { …, messageId: 'syn-1-7-0', timestamp: '2024-01-01T00:00:00.000Z' } }]
 */
export class Timeline {
  private readonly entries: Entry[] = [];
  private count = 0;

  constructor(private readonly prefix: string) {}

  /** Adds an event at `t` (Unix ms); returns its entry, for `addTwin`. */
  add(t: number, draft: DraftEvent): Entry {
    const entry: Entry = { t, event: this.complete(draft) };
    this.entries.push(entry);
    return entry;
  }

  /** Adds an event at exactly the time of `of`, placed before it in the stream. */
  addTwin(of: Entry, draft: DraftEvent): void {
    const at = this.entries.indexOf(of);
    this.entries.splice(at, 0, { t: of.t, event: this.complete(draft), twin: of });
  }

  /** The entries sorted by time (stable), with final times and ISO timestamps. */
  finish(): Array<{ t: number; event: RawEvent }> {
    const own = this.entries.filter((entry) => !entry.twin).sort((a, b) => a.t - b.t);
    for (let i = 1; i < own.length; i++) {
      const previous = own[i - 1]!;
      const entry = own[i]!;
      if (entry.t <= previous.t) entry.t = previous.t + 1;
    }
    for (const entry of this.entries) {
      if (entry.twin) entry.t = entry.twin.t;
      entry.event.timestamp = new Date(entry.t).toISOString();
    }
    return this.entries
      .slice()
      .sort((a, b) => a.t - b.t)
      .map(({ t, event }) => ({ t, event }));
  }

  private complete(draft: DraftEvent): RawEvent {
    return { ...draft, messageId: `${this.prefix}-${this.count++}`, timestamp: '' };
  }
}
