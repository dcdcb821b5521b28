import type { Properties } from '@sightline/core';
import type { DirectiveBinding, ObjectDirective } from 'vue';

/**
 * The value of `v-track`: an event name, or a name with properties.
 *
 * @example
 * const binding: TrackBinding = { event: 'plan_selected', properties: { plan: 'pro' } };
 */
export type TrackBinding = string | { event: string; properties?: Properties };

/** The directive `v-track`, bound to the element and DOM event of `v-track:<event>`. */
export type TrackDirective = ObjectDirective<HTMLElement, TrackBinding>;

declare module 'vue' {
  interface GlobalDirectives {
    /** Tracks an event when the element fires a DOM event (`v-track:click="'cta_clicked'"`). */
    vTrack: TrackDirective;
  }
}

interface Listening {
  type: string;
  value: TrackBinding;
  listener: () => void;
}

/**
 * `v-track:<dom event>="'event_name'"` or `="{ event, properties }"`: tracks on each DOM event
 * (default `click`) with the latest bound value; the listener goes with the element.
 *
 * @example
 * app.directive('track', createTrackDirective((event, properties) => client.track(event, properties)));
 * // <button v-track:click="{ event: 'plan_selected', properties: { plan: 'pro' } }">
 */
export function createTrackDirective(
  track: (event: string, properties?: Properties) => void,
): TrackDirective {
  const listening = new WeakMap<HTMLElement, Listening>();
  const stop = (element: HTMLElement) => {
    const current = listening.get(element);
    if (current) element.removeEventListener(current.type, current.listener, true);
    listening.delete(element);
  };
  const listen = (element: HTMLElement, { arg, value }: DirectiveBinding<TrackBinding>) => {
    stop(element);
    const entry: Listening = {
      type: arg ?? 'click',
      value,
      // A bad value reaches the client's validation and onError; nothing is thrown here.
      listener: () =>
        typeof entry.value === 'object' && entry.value
          ? track(entry.value.event, entry.value.properties)
          : track(entry.value),
    };
    // Capture phase: before the element's own handlers. A router link's handler can navigate and
    // unmount the element before later listeners run (the browser runs microtasks between them).
    element.addEventListener(entry.type, entry.listener, true);
    listening.set(element, entry);
  };
  return {
    mounted: listen,
    updated(element, binding) {
      const current = listening.get(element);
      if (current && current.type === (binding.arg ?? 'click')) current.value = binding.value;
      else listen(element, binding);
    },
    unmounted: stop,
  };
}
