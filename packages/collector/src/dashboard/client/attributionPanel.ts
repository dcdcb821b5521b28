import { type Channel, errorMessage } from './api';
import { createPanel, dataTable, field, h, latestOnly, select } from './dom';
import { formatCount, formatMoney } from './format';
import type { DashboardPanel, Scope } from './scope';

/** Users, sessions, conversions and revenue by channel, first or last touch. */
export function createAttributionPanel(): DashboardPanel {
  const model = select(
    'model',
    [
      ['first_touch', 'First touch'],
      ['last_touch', 'Last touch'],
    ],
    'first_touch',
  );
  const panel = createPanel('attribution', 'Attribution', field('Model', model));
  const requests = latestOnly();
  let scope: Scope | undefined;

  async function load(next: Scope) {
    scope = next;
    const current = requests.begin();
    panel.setState('loading');
    try {
      const { channels } = await next.api.get<{ channels: Channel[] }>('v1/attribution', {
        ...next.range,
        tz: next.tz,
        model: model.value,
      });
      if (!current()) return;
      const text = (value: string | null) => value ?? '–';
      panel.body.replaceChildren(
        channels.length === 0
          ? h('p', { class: 'note' }, 'No attributed users in this range.')
          : dataTable(
              'Channels',
              [
                'Source',
                'Medium',
                'Campaign',
                'Referrer',
                'Users',
                'Sessions',
                'Conversions',
                'Revenue',
              ],
              channels.map((channel) => [
                text(channel.utmSource),
                text(channel.utmMedium),
                text(channel.utmCampaign),
                text(channel.referrerDomain),
                formatCount(channel.users),
                formatCount(channel.sessions),
                formatCount(channel.conversions),
                formatMoney(channel.revenue),
              ]),
              { numericFrom: 4 },
            ),
      );
      panel.setState('ready');
    } catch (error) {
      if (current()) panel.setState('error', errorMessage(error));
    }
  }

  model.addEventListener('change', () => {
    if (scope) void load(scope);
  });
  return { panel, load };
}
