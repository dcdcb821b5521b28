import { act, render, screen } from '@testing-library/react';
import { hydrateRoot } from 'react-dom/client';
import { describe, expect, it, vi } from 'vitest';
import { AnalyticsProvider, useAnalytics, useConsent, useTrackEvent } from '../index';
import { recordingClient, summary } from './recordingClient';

function Banner() {
  const analytics = useAnalytics();
  const consent = useConsent();
  const marketing = useConsent('marketing');
  const track = useTrackEvent('cta_clicked');
  return (
    <div>
      <p>analytics: {consent}</p>
      <p>marketing: {marketing}</p>
      <button type="button" onClick={analytics.optIn}>
        Allow
      </button>
      <button type="button" onClick={track}>
        Buy
      </button>
    </div>
  );
}

function Counted({ onRender }: { onRender: () => void }) {
  onRender();
  return <Banner />;
}

function State() {
  return <p>{useConsent()}</p>;
}

describe('useConsent', () => {
  it('re-renders when the client’s consent changes, per category', () => {
    const { client } = recordingClient();
    const renders = vi.fn();
    render(
      <AnalyticsProvider client={client}>
        <Counted onRender={renders} />
      </AnalyticsProvider>,
    );
    expect(screen.getByText('analytics: granted')).toBeTruthy();
    act(() => client.optOut());
    expect(screen.getByText('analytics: denied')).toBeTruthy();
    act(() => client.consent.set({ marketing: 'denied' }));
    expect(screen.getByText('marketing: denied')).toBeTruthy();
    const before = renders.mock.calls.length;
    act(() => client.consent.set({ marketing: 'denied' })); // no change: no render
    expect(renders.mock.calls.length).toBe(before);
  });

  it('follows a consent banner: events wait while pending and leave once granted', () => {
    const { client, events } = recordingClient({ consent: { require: true } });
    render(
      <AnalyticsProvider client={client}>
        <Banner />
      </AnalyticsProvider>,
    );
    expect(screen.getByText('analytics: pending')).toBeTruthy();
    act(() => screen.getByText('Buy').click());
    expect(events).toEqual([]);
    act(() => screen.getByText('Allow').click());
    expect(screen.getByText('analytics: granted')).toBeTruthy();
    expect(summary(events)).toEqual(['track cta_clicked']);
    expect(events[0]?.context.consent).toMatchObject({ analytics: 'granted' });
  });

  it('hydrates server HTML with "denied", then shows the client’s state without a mismatch', async () => {
    const { client } = recordingClient();
    const container = document.createElement('div');
    // What renderToString produced on the server (see ssr.test.tsx).
    container.innerHTML = '<p>denied</p>';
    document.body.append(container);
    const recoverable = vi.fn();
    const root = await act(async () =>
      hydrateRoot(
        container,
        <AnalyticsProvider client={client}>
          <State />
        </AnalyticsProvider>,
        { onRecoverableError: recoverable },
      ),
    );
    expect(container.innerHTML).toBe('<p>granted</p>');
    expect(recoverable).not.toHaveBeenCalled();
    act(() => root.unmount());
    container.remove();
  });
});
