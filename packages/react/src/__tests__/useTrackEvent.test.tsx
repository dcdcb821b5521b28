import { fireEvent, render, renderHook, screen } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { AnalyticsProvider, useTrackEvent } from '../index';
import { recordingClient } from './recordingClient';

function providerFor(client: ReturnType<typeof recordingClient>['client']) {
  return ({ children }: { children: ReactNode }) => (
    <AnalyticsProvider client={client}>{children}</AnalyticsProvider>
  );
}

function Download() {
  const onClick = useTrackEvent('asset_downloaded', { assetId: 'a-7' });
  return (
    <button type="button" onClick={onClick}>
      Download
    </button>
  );
}

describe('useTrackEvent', () => {
  it('returns a callback whose identity survives re-renders with new properties', () => {
    const { client, events } = recordingClient();
    const { result, rerender } = renderHook(
      ({ assetId }) => useTrackEvent('asset_viewed', { assetId }),
      { wrapper: providerFor(client), initialProps: { assetId: 'a-1' } },
    );
    const first = result.current;
    rerender({ assetId: 'a-2' });
    rerender({ assetId: 'a-3' });
    expect(result.current).toBe(first);
    expect(events).toEqual([]);
  });

  it('tracks the event and properties of the latest render, once per call', () => {
    const { client, events } = recordingClient();
    const { result, rerender } = renderHook(
      ({ event, assetId }) => useTrackEvent(event, { assetId }),
      { wrapper: providerFor(client), initialProps: { event: 'asset_viewed', assetId: 'a-1' } },
    );
    const track = result.current;
    track();
    rerender({ event: 'asset_downloaded', assetId: 'a-2' });
    track();
    expect(
      events.map((event) => [event.type === 'track' && event.event, event.properties]),
    ).toEqual([
      ['asset_viewed', { assetId: 'a-1' }],
      ['asset_downloaded', { assetId: 'a-2' }],
    ]);
  });

  it('ignores the arguments it is called with, so it can be an onClick handler', () => {
    const { client, events } = recordingClient();
    render(<Download />, { wrapper: providerFor(client) });
    fireEvent.click(screen.getByText('Download'));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'track',
      event: 'asset_downloaded',
      properties: { assetId: 'a-7' },
    });
  });

  it('never throws into the app: bad properties reach onError and the event is dropped', () => {
    const { client, events, errors } = recordingClient();
    // What a JavaScript caller without types can pass.
    const notAnObject = 'assetId=a-1' as unknown as Record<string, unknown>;
    const { result } = renderHook(() => useTrackEvent('asset_viewed', notAnObject), {
      wrapper: providerFor(client),
    });
    expect(() => result.current()).not.toThrow();
    expect(errors[0]?.message).toMatch(/Invalid event field `properties`/);
    expect(client.stats().dropped.invalid).toBe(1);
    expect(events).toEqual([]);
  });

  it('keeps working after the client is closed, without throwing', async () => {
    const { client, events } = recordingClient();
    const { result } = renderHook(() => useTrackEvent('late'), { wrapper: providerFor(client) });
    await client.close({ timeoutMs: 0 });
    expect(() => result.current()).not.toThrow();
    expect(events).toEqual([]);
    expect(client.stats().dropped.closed).toBe(1);
  });
});
