import type { BrowserAnalytics } from '@sightline/browser';
import { ConfigurationError, type EventCatalog, SightlineError } from '@sightline/core';
import { createContext, createElement, type ReactNode, useContext } from 'react';

const AnalyticsContext = createContext<BrowserAnalytics | undefined>(undefined);

/** Props of {@link AnalyticsProvider}. */
export interface AnalyticsProviderProps<Catalog extends EventCatalog | undefined = undefined> {
  /** The client from `createBrowserAnalytics`, created once, outside any component. */
  client: BrowserAnalytics<Catalog>;
  children?: ReactNode;
}

/**
 * Hands a browser client to every hook and `<Track>` below it. Create the client once, at module
 * level: on the server `createBrowserAnalytics` returns a client whose calls do nothing.
 *
 * @example
 * const analytics = createBrowserAnalytics({ writeKey: 'wk_…', host: 'https://example.com/analytics' });
 * createRoot(root).render(<AnalyticsProvider client={analytics}><App /></AnalyticsProvider>);
 */
export function AnalyticsProvider<Catalog extends EventCatalog | undefined = undefined>({
  client,
  children,
}: AnalyticsProviderProps<Catalog>): ReactNode {
  if (!client) {
    throw new ConfigurationError(
      'client',
      'pass the client from createBrowserAnalytics({ writeKey, host }) to <AnalyticsProvider client={…}>',
    );
  }
  return createElement(
    AnalyticsContext.Provider,
    { value: client as unknown as BrowserAnalytics },
    children,
  );
}

/**
 * The client of the nearest `<AnalyticsProvider>`; pass your catalog's type to get a typed
 * `track`. Throws when there is no provider above the component.
 *
 * @example
 * const analytics = useAnalytics<typeof catalog>();
 * analytics.track('license_created', { licenseId, revenueCents: 4900, currency: 'USD' });
 */
export function useAnalytics<
  Catalog extends EventCatalog | undefined = undefined,
>(): BrowserAnalytics<Catalog> {
  const client = useContext(AnalyticsContext);
  if (!client) {
    throw new SightlineError(
      'missing_provider',
      'useAnalytics() found no <AnalyticsProvider> above this component: wrap your app in ' +
        '<AnalyticsProvider client={createBrowserAnalytics({ writeKey, host })}> from @sightline/react.',
    );
  }
  return client as unknown as BrowserAnalytics<Catalog>;
}
