import type { Properties } from '@sightline/core';

/** The parts of a vue-router route that page views read. */
export interface RouteLike {
  name?: string | symbol | null | undefined;
  fullPath: string;
  /** The matched route records, the page's own last; `path` is its pattern, e.g. `/assets/:id`. */
  matched: ReadonlyArray<{ path: string }>;
}

/** The parts of a vue-router `Router` that page views use (no runtime import of vue-router). */
export interface RouterLike {
  readonly currentRoute: { readonly value: RouteLike };
  afterEach(guard: (to: RouteLike, from: RouteLike, failure?: unknown) => unknown): () => void;
}

type Page = (name?: string, properties?: Properties) => void;

/**
 * One page view per navigation that lands on a new URL (a `#hash` change alone is not one), named
 * after the route, with `route` set to its path pattern so `/assets/:id` groups every asset.
 * Failed, aborted and duplicate navigations are not views. When the router has already
 * navigated, the current route is the first view; otherwise its initial navigation is.
 * Returns a function that stops watching.
 *
 * @example
 * const stop = trackRouterPageViews(router, (name, properties) => client.page(name, properties));
 */
export function trackRouterPageViews(router: RouterLike, page: Page): () => void {
  let last: string | undefined;
  const view = (route: RouteLike) => {
    const path = route.fullPath.split('#')[0];
    if (path === last) return;
    last = path;
    // The browser SDK adds the URL, title and the previous page as referrer.
    page(route.name == null ? undefined : String(route.name), {
      route: route.matched.at(-1)?.path,
    });
  };
  if (router.currentRoute.value.matched.length > 0) view(router.currentRoute.value);
  return router.afterEach((to, _from, failure) => {
    if (!failure) view(to);
  });
}
