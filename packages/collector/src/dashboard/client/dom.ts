/** Attributes of {@link h}: `class`, `for`, `data-*`, `aria-*` and properties such as `value`. */
type Attributes = Record<string, string | number | boolean | undefined | null>;
type Child = Node | string | number | null | undefined | false;

/**
 * Creates an element with attributes and children; text children are text nodes, never HTML, so
 * API values cannot inject markup.
 *
 * @example
 * h('button', { type: 'button', class: 'link' }, 'Older');
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'value' && 'value' in element) (element as HTMLInputElement).value = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `parent`. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A labelled form control: `<label>` text above the control. */
export function field(label: string, control: HTMLElement): HTMLLabelElement {
  return h('label', { class: 'field' }, h('span', {}, label), control);
}

/** A `<select>` of `[value, text]` options. */
export function select(
  name: string,
  options: ReadonlyArray<readonly [string, string]>,
  value?: string,
): HTMLSelectElement {
  const element = h('select', { name });
  for (const [optionValue, text] of options) {
    element.appendChild(h('option', { value: optionValue }, text));
  }
  if (value !== undefined) element.value = value;
  return element;
}

/**
 * A table with a caption, column headers and rows of cells (text, or nodes), wrapped in a
 * horizontally scrolling region so wide tables never widen the page.
 *
 * @example
 * dataTable('Funnel steps', ['Step', 'Users'], [['signup', '1,204']]);
 */
export function dataTable(
  caption: string,
  headers: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<Child | HTMLTableCellElement>>,
  options: { numericFrom?: number; captionHidden?: boolean } = {},
): HTMLElement {
  const numericFrom = options.numericFrom ?? headers.length;
  const table = h(
    'table',
    {},
    h('caption', { class: options.captionHidden ? 'visually-hidden' : undefined }, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...headers.map((header, index) =>
          h('th', { scope: 'col', class: index >= numericFrom ? 'num' : undefined }, header),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      ...rows.map((row) =>
        h(
          'tr',
          {},
          ...row.map((cell, index) =>
            cell instanceof HTMLTableCellElement
              ? cell
              : h('td', { class: index >= numericFrom ? 'num' : undefined }, cell),
          ),
        ),
      ),
    ),
  );
  return h(
    'div',
    { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': caption },
    table,
  );
}

/** The `<section>` of one panel, with its heading, a status line and a body. */
export interface Panel {
  section: HTMLElement;
  body: HTMLElement;
  /** Marks the panel loading, ready or failed (`data-state`, read by tests and the benchmark). */
  setState(state: 'loading' | 'ready' | 'error', message?: string): void;
}

/**
 * Creates a panel: `data-panel="<id>"` and `data-state` tell tests and the benchmark when it has
 * rendered; errors are announced (`role="alert"`).
 */
export function createPanel(id: string, title: string, ...controls: Child[]): Panel {
  const headingId = `${id}-heading`;
  const status = h('p', { class: 'status', role: 'status' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const body = h('div', { class: 'panel-body' });
  const section = h(
    'section',
    { class: 'panel', 'data-panel': id, 'data-state': 'loading', 'aria-labelledby': headingId },
    h('h2', { id: headingId }, title),
    controls.length > 0 ? h('div', { class: 'controls' }, ...controls) : null,
    status,
    error,
    body,
  );
  return {
    section,
    body,
    setState(state, message) {
      section.dataset.state = state;
      section.setAttribute('aria-busy', String(state === 'loading'));
      status.textContent = state === 'loading' ? 'Loading…' : '';
      error.hidden = state !== 'error';
      error.textContent = state === 'error' ? (message ?? 'Failed to load.') : '';
    },
  };
}

/**
 * Runs `load` for the latest call only: a slower earlier answer (an older range or tenant) is
 * dropped rather than drawn over a newer one.
 */
export function latestOnly() {
  let ticket = 0;
  return {
    begin(): () => boolean {
      const mine = ++ticket;
      return () => mine === ticket;
    },
  };
}
