import { errorMessage, type FunnelStep } from './api';
import { barChart, chartBox } from './chart';
import { createPanel, dataTable, field, h, latestOnly, select } from './dom';
import { formatCount, formatSeconds, formatShare } from './format';
import type { DashboardPanel, Scope } from './scope';

const WINDOWS = [
  ['3600', '1 hour'],
  ['86400', '1 day'],
  ['604800', '7 days'],
  ['2592000', '30 days'],
] as const;

/** Steps a new funnel starts with when the tenant's events include them (the KPI defaults). */
const USUAL_STEPS = ['signup_started', 'signup_completed', 'project_created', 'payment_completed'];
const MAX_STEPS = 10;

/** The steps a funnel starts with: the usual signup funnel's events, else the two most frequent. */
export function defaultSteps(eventNames: readonly string[]): string[] {
  const usual = USUAL_STEPS.filter((name) => eventNames.includes(name));
  if (usual.length >= 2) return usual;
  return eventNames.slice(0, 2);
}

/** A funnel builder: ordered steps, a conversion window, a bar chart and the step table. */
export function createFunnelPanel(): DashboardPanel {
  const windowSelect = select('window', WINDOWS, '604800');
  const stepList = h('ol', { class: 'steps' });
  const add = h('button', { type: 'button', class: 'secondary' }, 'Add step');
  const run = h('button', { type: 'submit' }, 'Run funnel');
  const form = h(
    'form',
    { class: 'funnel-form', 'aria-label': 'Funnel steps' },
    stepList,
    h('div', { class: 'controls' }, add, field('Conversion window', windowSelect), run),
  );
  const panel = createPanel('funnel', 'Funnel', form);
  const requests = latestOnly();
  let scope: Scope | undefined;
  let edited = false;

  function renumber() {
    const items = [...stepList.children];
    items.forEach((item, index) => {
      const label = item.querySelector('.field > span');
      if (label) label.textContent = `Step ${index + 1}`;
      const remove = item.querySelector('button');
      if (remove) {
        remove.setAttribute('aria-label', `Remove step ${index + 1}`);
        (remove as HTMLButtonElement).disabled = items.length <= 2;
      }
    });
    add.disabled = items.length >= MAX_STEPS;
  }

  function addStep(value = '') {
    const input = h('input', {
      name: 'step',
      list: 'event-names',
      value,
      required: true,
      autocomplete: 'off',
    });
    const remove = h('button', { type: 'button', class: 'secondary icon' }, '×');
    const item = h('li', {}, field('Step', input), remove);
    remove.addEventListener('click', () => {
      item.remove();
      edited = true;
      renumber();
    });
    input.addEventListener('input', () => {
      edited = true;
    });
    stepList.appendChild(item);
    renumber();
    return input;
  }

  const steps = () =>
    [...stepList.querySelectorAll('input')].map((input) => input.value.trim()).filter(Boolean);

  async function load(next: Scope) {
    scope = next;
    const current = requests.begin();
    panel.setState('loading');
    if (!edited) {
      stepList.replaceChildren();
      const initial = defaultSteps(await next.eventNames);
      if (!current()) return;
      for (const step of initial.length >= 2 ? initial : ['', '']) addStep(step);
    }
    const chosen = steps();
    if (chosen.length < 2) {
      panel.body.replaceChildren(h('p', { class: 'note' }, 'Choose at least two steps.'));
      panel.setState('ready');
      return;
    }
    try {
      const funnel = await next.api.post<{ steps: FunnelStep[] }>('v1/funnel', {
        steps: chosen.map((event) => ({ event })),
        windowSeconds: Number(windowSelect.value),
        ...next.range,
        tz: next.tz,
      });
      if (!current()) return;
      const label = `Users per funnel step, ${chosen.join(' → ')}`;
      const chart = chartBox(label);
      panel.body.replaceChildren(
        chart,
        dataTable(
          'Funnel steps',
          ['Step', 'Users', 'From start', 'From previous', 'Median time from previous'],
          funnel.steps.map((step, index) => [
            `${index + 1}. ${step.event}`,
            formatCount(step.users),
            formatShare(step.conversionFromStart),
            formatShare(step.conversionFromPrevious),
            index === 0 ? '–' : formatSeconds(step.medianSecondsFromPrevious),
          ]),
          { numericFrom: 1 },
        ),
      );
      barChart(
        chart,
        'Users',
        funnel.steps.map((step) => step.event),
        funnel.steps.map((step) => step.users),
        formatCount,
      );
      panel.setState('ready');
    } catch (error) {
      if (current()) panel.setState('error', errorMessage(error));
    }
  }

  add.addEventListener('click', () => {
    edited = true;
    addStep().focus();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    edited = true;
    if (scope) void load(scope);
  });
  windowSelect.addEventListener('change', () => {
    if (scope) void load(scope);
  });
  return { panel, load };
}
