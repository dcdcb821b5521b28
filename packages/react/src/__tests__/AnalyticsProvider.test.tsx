import { SightlineError } from '@sightline/core';
import { render, renderHook, screen } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { AnalyticsProvider, useAnalytics } from '../index';
import { recordingClient } from './recordingClient';

function Probe({ expected }: { expected: unknown }) {
  return <p>{useAnalytics() === expected ? 'nearest' : 'other'}</p>;
}

describe('AnalyticsProvider and useAnalytics', () => {
  it('hands the client to every component below the provider', () => {
    const { client } = recordingClient();
    const wrapper = ({ children }: { children: ReactNode }) => (
      <AnalyticsProvider client={client}>{children}</AnalyticsProvider>
    );
    const { result } = renderHook(() => useAnalytics(), { wrapper });
    expect(result.current).toBe(client);
  });

  it('gives the nearest provider’s client when providers nest', () => {
    const outer = recordingClient().client;
    const inner = recordingClient().client;
    render(
      <AnalyticsProvider client={outer}>
        <Probe expected={outer} />
        <AnalyticsProvider client={inner}>
          <Probe expected={inner} />
        </AnalyticsProvider>
      </AnalyticsProvider>,
    );
    expect(screen.getAllByText('nearest')).toHaveLength(2);
  });

  it('fails fast without a provider, naming the fix', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    let thrown: unknown;
    try {
      renderHook(() => useAnalytics());
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SightlineError);
    expect(thrown).toMatchObject({ code: 'missing_provider' });
    expect((thrown as Error).message).toContain(
      'wrap your app in <AnalyticsProvider client={createBrowserAnalytics({ writeKey, host })}>',
    );
    vi.restoreAllMocks();
  });

  it('refuses a provider without a client, naming the option', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const missing = undefined as unknown as ReturnType<typeof recordingClient>['client'];
    expect(() => render(<AnalyticsProvider client={missing}>app</AnalyticsProvider>)).toThrow(
      /Invalid option `client`: pass the client from createBrowserAnalytics/,
    );
    vi.restoreAllMocks();
  });
});
