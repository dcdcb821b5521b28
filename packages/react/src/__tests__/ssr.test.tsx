// @vitest-environment node
import { createBrowserAnalytics } from '@sightline/browser';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { AnalyticsProvider, Track, useConsent, usePageView, useTrackEvent } from '../index';

function Page() {
  usePageView('/assets/a-1', 'Asset', { assetId: 'a-1' });
  const download = useTrackEvent('asset_downloaded', { assetId: 'a-1' });
  return (
    <main>
      <p>consent: {useConsent()}</p>
      <Track event="cta_clicked">
        <button type="button">Buy</button>
      </Track>
      <button type="button" onClick={download}>
        Download
      </button>
    </main>
  );
}

describe('server-side rendering', () => {
  it('renders every hook and <Track> with renderToString, without window', () => {
    expect(typeof window).toBe('undefined');
    expect(typeof document).toBe('undefined');
    // Without window, the browser SDK hands out a client whose calls do nothing.
    const client = createBrowserAnalytics({ writeKey: 'wk_x', host: 'http://127.0.0.1:1' });
    const html = renderToString(
      <AnalyticsProvider client={client}>
        <Page />
      </AnalyticsProvider>,
    );
    expect(html).toBe(
      '<main><p>consent: <!-- -->denied</p><button type="button">Buy</button>' +
        '<button type="button">Download</button></main>',
    );
    expect(client.stats()).toMatchObject({ enqueued: 0 });
  });

  it('fails fast on the server too when the provider is missing', () => {
    expect(() => renderToString(<Page />)).toThrow(/found no <AnalyticsProvider>/);
  });
});
