import { act, fireEvent, render, screen } from '@testing-library/react';
import { StrictMode, useSyncExternalStore } from 'react';
import { describe, expect, it } from 'vitest';
import { AnalyticsProvider, Track, useConsent, usePageView, useTrackEvent } from '../index';
import { recordingClient, summary } from './recordingClient';

function subscribe(onChange: () => void) {
  addEventListener('popstate', onChange);
  return () => removeEventListener('popstate', onChange);
}

function App() {
  const pathname = useSyncExternalStore(subscribe, () => location.pathname);
  usePageView(pathname);
  const download = useTrackEvent('asset_downloaded', { assetId: 'a-1' });
  return (
    <main>
      <p>consent: {useConsent()}</p>
      <Track event="cta_clicked" properties={{ cta: 'buy_license' }}>
        <button type="button">Buy</button>
      </Track>
      <button type="button" onClick={download}>
        Download
      </button>
    </main>
  );
}

describe('under <StrictMode>', () => {
  it('double renders and double effects never double-track', () => {
    history.replaceState(null, '', '/');
    const { client, events } = recordingClient({ pageViews: false });
    render(
      <StrictMode>
        <AnalyticsProvider client={client}>
          <App />
        </AnalyticsProvider>
      </StrictMode>,
    );
    act(() => {
      history.pushState(null, '', '/assets/a-1');
      dispatchEvent(new PopStateEvent('popstate'));
    });
    fireEvent.click(screen.getByText('Buy'));
    fireEvent.click(screen.getByText('Download'));
    act(() => client.optOut());
    expect(screen.getByText('consent: denied')).toBeTruthy();
    expect(summary(events)).toEqual([
      'page /',
      'page /assets/a-1',
      'track cta_clicked',
      'track asset_downloaded',
    ]);
  });
});
