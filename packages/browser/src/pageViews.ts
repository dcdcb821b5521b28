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
  const history = window.history;
  const originals = { pushState: history.pushState, replaceState: history.replaceState };
  const patch = (name: 'pushState' | 'replaceState') => {
    const original = originals[name];
    const patched: History[typeof name] = function (this: History, ...args) {
      const result = original.apply(this, args);
      check();
      return result;
    };
    history[name] = patched;
    return patched;
  };
  const patched = { pushState: patch('pushState'), replaceState: patch('replaceState') };
  addEventListener('popstate', check);
  if (options.hashChanges) addEventListener('hashchange', check);
  addEventListener('pageshow', restored);
  check();
  return () => {
    // Restore only what is still ours: a router that wrapped ours after us keeps its wrapper.
    for (const name of ['pushState', 'replaceState'] as const) {
      if (history[name] === patched[name]) history[name] = originals[name];
    }
    removeEventListener('popstate', check);
    removeEventListener('hashchange', check);
    removeEventListener('pageshow', restored);
  };
}
