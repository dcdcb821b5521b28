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
  const trackAttribute = `${prefix}-track`;
  const formAttribute = `${prefix}-form`;
  const started = new WeakSet<HTMLFormElement>();
  /** The element matching `selector` that is, or contains, the event's target. */
  const closest = (target: EventTarget | null, selector: string): Element | null => {
    if (!(target instanceof Element)) return null;
    // The element itself when it matches (happy-dom's closest() returns a copy of it).
    return target.matches(selector) ? target : target.closest(selector);
  };
  const formOf = (event: Event) =>
    closest(event.target, `form[${formAttribute}]`) as HTMLFormElement | null;
  const formProperties = (form: HTMLFormElement): Properties => {
    const names = new Set(
      Array.from(form.elements, (field) => (field as HTMLInputElement).name).filter(Boolean),
    );
    return {
      ...declaredProperties(form, prefix),
      form: form.getAttribute(formAttribute) ?? '',
      field_names: [...names],
      field_count: names.size,
    };
  };

  const onClick = (event: Event) => {
    const element = closest(event.target, `[${trackAttribute}]`);
    const name = element?.getAttribute(trackAttribute);
    if (element && name) track(name, declaredProperties(element, prefix));
  };
  const onInteraction = (event: Event) => {
    const form = formOf(event);
    if (!form || started.has(form)) return;
    started.add(form);
    track('form_started', formProperties(form));
  };
  const onSubmit = (event: Event) => {
    const form = formOf(event);
    if (!form) return;
    // A form submitted without any input (all defaults) still starts before it is submitted.
    onInteraction(event);
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
