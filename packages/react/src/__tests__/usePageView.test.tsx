import { act, render } from '@testing-library/react';
import { useSyncExternalStore } from 'react';
import { describe, expect, it } from 'vitest';
import { AnalyticsProvider, usePageView } from '../index';
import { recordingClient, summary } from './recordingClient';

/** The smallest router: the pathname from `history`, re-rendered on navigation. */
function subscribe(onChange: () => void) {
  addEventListener('popstate', onChange);
  return () => removeEventListener('popstate', onChange);
}
function usePathname() {
  return useSyncExternalStore(subscribe, () => location.pathname);
}
/** Navigates as routers do: the URL first (`pushState`), then the render. */
function navigate(path: string) {
  act(() => {
    history.pushState(null, '', path);
    dispatchEvent(new PopStateEvent('popstate'));
  });
}

function Layout({ properties }: { properties?: Record<string, unknown> }) {
  usePageView(usePathname(), undefined, properties);
  return <main>{usePathname()}</main>;
}

function Pricing({ renders }: { renders: number }) {
  usePageView('/pricing', 'Pricing', { renders });
  return <p>{renders}</p>;
}

function Untitled() {
  usePageView();
  return null;
}

function Plain() {
  return <main>{usePathname()}</main>;
}

describe('usePageView', () => {
  it('tracks one page view per distinct key: the initial page, then each navigation', () => {
    history.replaceState(null, '', '/');
    const { client, events } = recordingClient({ pageViews: false });
    render(
      <AnalyticsProvider client={client}>
        <Layout />
      </AnalyticsProvider>,
    );
    navigate('/assets/a-1');
    navigate('/assets/a-1'); // the same URL again: no new view
    navigate('/assets/a-2');
    navigate('/');
    expect(summary(events)).toEqual(['page /', 'page /assets/a-1', 'page /assets/a-2', 'page /']);
    // The SDK reads the URL when called: the effect runs after the router moved.
    expect(events[1]?.context.page).toMatchObject({ path: '/assets/a-1' });
  });

  it('tracks nothing more when the component re-renders with new objects for the same key', () => {
    const { client, events } = recordingClient();
    const ui = (renders: number) => (
      <AnalyticsProvider client={client}>
        <Pricing renders={renders} />
      </AnalyticsProvider>
    );
    const { rerender } = render(ui(0));
    rerender(ui(1));
    rerender(ui(2));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'page', name: 'Pricing', properties: { renders: 0 } });
  });

  it('without a key, tracks once per mount', () => {
    const { client, events } = recordingClient();
    const ui = (shown: boolean) => (
      <AnalyticsProvider client={client}>{shown && <Untitled />}</AnalyticsProvider>
    );
    const { rerender } = render(ui(true));
    rerender(ui(true));
    rerender(ui(false));
    rerender(ui(true));
    expect(summary(events)).toEqual(['page /', 'page /']);
  });

  it('with the SDK’s own page views (the default) and no hook, a navigation is one view', () => {
    history.replaceState(null, '', '/');
    const { client, events } = recordingClient({ pageViews: true });
    render(
      <AnalyticsProvider client={client}>
        <Plain />
      </AnalyticsProvider>,
    );
    navigate('/assets/a-1');
    expect(summary(events)).toEqual(['page /', 'page /assets/a-1']);
  });

  it('double-counts when both the SDK and the hook track pages: hence `pageViews: false`', () => {
    history.replaceState(null, '', '/');
    const { client, events } = recordingClient({ pageViews: true });
    render(
      <AnalyticsProvider client={client}>
        <Layout />
      </AnalyticsProvider>,
    );
    navigate('/assets/a-1');
    expect(summary(events)).toEqual(['page /', 'page /', 'page /assets/a-1', 'page /assets/a-1']);
  });
});
