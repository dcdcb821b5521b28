import { listen } from './listen';

export interface PageViewOptions {
  /** Count a change of `location.hash` alone as a new page (hash routers). Default false. */
  hashChanges?: boolean;
}

/**
 * Calls `onPage` for the page view of the initial load and of every SPA navigation
 * (`history.pushState`/`replaceState`, back/forward), once per URL: a navigation that leaves the
 * URL as it was (scroll restoration, a `replaceState` of state only) is not a new view. A page
 * restored from the back/forward cache is a new view of the same URL. Returns a function that
 * stops watching.
 *
 * @example
 * const stop = watchPageViews(() => analytics.page(), { hashChanges: false });
 */
export function watchPageViews(onPage: () => void, options: PageViewOptions = {}): () => void {
  const key = () => (options.hashChanges ? location.href : location.href.split('#')[0]);
  let last: string | undefined;
  const check = () => {
    const current = key();
    if (current === last) return;
    last = current;
    onPage();
  };
  const restored = (event: PageTransitionEvent) => {
    if (!event.persisted) return;
    last = key();
    onPage();
  };
  // Each patch returns its undo, which restores only what is still ours: a router that wrapped
  // ours after us keeps its wrapper.
  const unpatch = (['pushState', 'replaceState'] as const).map((name) => {
    const original = history[name];
    const patched: History[typeof name] = function (this: History, ...args) {
      const result = original.apply(this, args);
      check();
      return result;
    };
    history[name] = patched;
    return () => {
      if (history[name] === patched) history[name] = original;
    };
  });
  const unlisten = listen(window, {
    popstate: check,
    pageshow: restored,
    ...(options.hashChanges && { hashchange: check }),
  });
  check();
  return () => {
    for (const undo of unpatch) undo();
    unlisten();
  };
}
