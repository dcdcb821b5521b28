import { type ApiEvent, errorMessage } from './api';
import { createPanel, dataTable, field, h, latestOnly, select } from './dom';
import { formatMoney, formatTime } from './format';
import type { DashboardPanel, Scope } from './scope';

const TYPES = [
  ['', 'Any type'],
  ['track', 'track'],
  ['page', 'page'],
  ['screen', 'screen'],
  ['identify', 'identify'],
  ['group', 'group'],
  ['alias', 'alias'],
] as const;

/**
 * The newest events, filtered by type, event name and user, paginated with the API's cursor
 * (newest first), and exported as CSV with the same filters.
 */
export function createEventsPanel(): DashboardPanel {
  const type = select('type', TYPES, '');
  const eventName = h('input', { name: 'event', list: 'event-names', autocomplete: 'off' });
  const userId = h('input', { name: 'userId', autocomplete: 'off' });
  const pageSize = select(
    'limit',
    [
      ['25', '25'],
      ['50', '50'],
      ['100', '100'],
    ],
    '25',
  );
  const filters = h(
    'form',
    { class: 'controls', 'aria-label': 'Event filters' },
    field('Type', type),
    field('Event', eventName),
    field('User', userId),
    field('Rows', pageSize),
    h('button', { type: 'submit' }, 'Apply'),
    h('button', { type: 'button', class: 'secondary', 'data-action': 'export' }, 'Export CSV'),
  );
  const exportButton = filters.querySelector<HTMLButtonElement>('[data-action="export"]')!;
  const newer = h('button', { type: 'button', class: 'secondary' }, '← Newer');
  const older = h('button', { type: 'button', class: 'secondary' }, 'Older →');
  const pageLabel = h('span', { class: 'page-label', 'aria-live': 'polite' });
  const panel = createPanel('events', 'Live events', filters);
  // Outside the body, which is redrawn: a pager button keeps its focus across pages.
  panel.section.appendChild(
    h('nav', { class: 'pager', 'aria-label': 'Event pages' }, newer, pageLabel, older),
  );
  const requests = latestOnly();
  let scope: Scope | undefined;
  /** The cursor of each page shown so far: the first page has none. */
  let cursors: Array<string | undefined> = [undefined];
  let nextCursor: string | null = null;

  const filterParams = () => ({
    type: type.value || undefined,
    event: eventName.value.trim() || undefined,
    userId: userId.value.trim() || undefined,
  });

  async function show(next: Scope) {
    scope = next;
    const current = requests.begin();
    panel.setState('loading');
    try {
      const page = await next.api.get<{ events: ApiEvent[]; nextCursor: string | null }>(
        'v1/events',
        {
          ...filterParams(),
          limit: pageSize.value,
          cursor: cursors[cursors.length - 1],
        },
      );
      if (!current()) return;
      nextCursor = page.nextCursor;
      const rows = page.events.map((event) => [
        formatTime(event.timestamp, next.tz),
        event.type,
        event.event ?? '–',
        event.userId ?? '–',
        event.anonymousId ?? '–',
        event.utmSource ?? event.referrerDomain ?? '–',
        event.revenue === null ? '–' : formatMoney(event.revenue),
      ]);
      newer.disabled = cursors.length <= 1;
      older.disabled = nextCursor === null;
      pageLabel.textContent = `Page ${cursors.length}`;
      panel.body.replaceChildren(
        page.events.length === 0
          ? h('p', { class: 'note' }, 'No events match these filters.')
          : dataTable(
              `Events, last received first (times in ${next.tz})`,
              ['Time', 'Type', 'Event', 'User', 'Anonymous id', 'Source', 'Revenue'],
              rows,
              {
                numericFrom: 6,
              },
            ),
      );
      panel.setState('ready');
    } catch (error) {
      if (current()) panel.setState('error', errorMessage(error));
    }
  }

  async function exportCsv() {
    if (!scope) return;
    exportButton.disabled = true;
    try {
      const blob = await scope.api.blob('v1/export.csv', filterParams());
      const url = URL.createObjectURL(blob);
      const link = h('a', {
        href: url,
        download: `events-${scope.api.tenant ?? 'tenant'}.csv`,
        hidden: true,
      });
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (error) {
      panel.setState('error', errorMessage(error));
    } finally {
      exportButton.disabled = false;
    }
  }

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    cursors = [undefined];
    if (scope) void show(scope);
  });
  exportButton.addEventListener('click', () => void exportCsv());
  older.addEventListener('click', () => {
    if (nextCursor === null || !scope) return;
    cursors.push(nextCursor);
    void show(scope);
  });
  newer.addEventListener('click', () => {
    if (cursors.length <= 1 || !scope) return;
    cursors.pop();
    void show(scope);
  });
  return {
    panel,
    load(next) {
      cursors = [undefined];
      return show(next);
    },
  };
}
