import type { Properties } from '@sightline/core';
import { listen } from './listen';

export interface AutoTrackOptions {
  /** Attribute prefix: `data-analytics` reads `data-analytics-track`, `…-prop-*`, `…-form`. */
  prefix?: string;
  /** Track clicks on `[data-analytics-track]`. Default true. */
  clicks?: boolean;
  /** Track `form_started`/`form_submitted` of `form[data-analytics-form]`. Default true. */
  forms?: boolean;
}

type Track = (event: string, properties: Properties) => void;

/**
 * The properties an element declares: `data-analytics-prop-<name>="value"` → `{ <name>: value }`
 * (dashes in the name become underscores: `-prop-button-color` → `button_color`), and the seed
 * form `data-analytics-feature="x"` → `{ feature: 'x' }`.
 */
function declaredProperties(element: Element, prefix: string): Properties {
  const properties: Properties = {};
  const propPrefix = `${prefix}-prop-`;
  for (const { name, value } of Array.from(element.attributes)) {
    if (name.startsWith(propPrefix)) {
      properties[name.slice(propPrefix.length).replaceAll('-', '_')] = value;
    } else if (name === `${prefix}-feature`) {
      properties.feature = value;
    }
  }
  return properties;
}

/**
 * Auto-tracking through data attributes, with one delegated listener per DOM event on the
 * document, in the capture phase (so a handler that stops propagation, or a link that
 * navigates, does not hide the click). It never calls `preventDefault`.
 *
 * - Clicks on an element, or inside one, with `data-analytics-track="event_name"` track
 *   `event_name` with the element's declared properties.
 * - `<form data-analytics-form="name">` tracks `form_started` on the first interaction and
 *   `form_submitted` on submit, with `form`, `field_names` and `field_count` (named fields only);
 *   never a field's value.
 *
 * Returns a function that removes the listeners.
 *
 * @example
 * // <button data-analytics-track="feature_click" data-analytics-feature="generate">
 * const stop = watchDataAttributes((event, properties) => analytics.track(event, properties));
 */
export function watchDataAttributes(track: Track, options: AutoTrackOptions = {}): () => void {
  const prefix = options.prefix ?? 'data-analytics';
  const started = new WeakSet<HTMLFormElement>();
  const formOf = (target: EventTarget | null): HTMLFormElement | null => {
    const element = target instanceof Element ? target : null;
    const selector = `form[${prefix}-form]`;
    // The form itself when it is the target (happy-dom's closest() returns a copy of it).
    return (
      element?.matches(selector) ? element : element?.closest(selector)
    ) as HTMLFormElement | null;
  };
  const formProperties = (form: HTMLFormElement): Properties => {
    const names = new Set<string>();
    for (const field of Array.from(form.elements)) {
      const name = (field as HTMLInputElement).name;
      if (name) names.add(name);
    }
    return {
      ...declaredProperties(form, prefix),
      form: form.getAttribute(`${prefix}-form`) ?? '',
      field_names: [...names],
      field_count: names.size,
    };
  };

  const onClick = (event: Event) => {
    const target = event.target instanceof Element ? event.target : null;
    const element = target?.closest(`[${prefix}-track]`);
    const name = element?.getAttribute(`${prefix}-track`);
    if (element && name) track(name, declaredProperties(element, prefix));
  };
  const onInteraction = (event: Event) => {
    const form = formOf(event.target);
    if (!form || started.has(form)) return;
    started.add(form);
    track('form_started', formProperties(form));
  };
  const onSubmit = (event: Event) => {
    const form = formOf(event.target);
    if (!form) return;
    if (!started.has(form)) onInteraction(event);
    // A submitted form that is used again (an SPA keeps it on screen) starts anew.
    started.delete(form);
    track('form_submitted', formProperties(form));
  };

  return listen(
    document,
    {
      ...(options.clicks !== false && { click: onClick }),
      ...(options.forms !== false && {
        input: onInteraction,
        change: onInteraction,
        submit: onSubmit,
      }),
    },
    true,
  );
}
