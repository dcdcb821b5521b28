import { fireEvent, render, screen } from '@testing-library/react';
import { createRef, type ReactElement } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { AnalyticsProvider, Track } from '../index';
import { recordingClient, summary } from './recordingClient';

function renderWith(ui: ReactElement) {
  const recording = recordingClient();
  render(<AnalyticsProvider client={recording.client}>{ui}</AnalyticsProvider>);
  return recording;
}

describe('<Track>', () => {
  it('tracks a click on its child with the properties, and the child’s own handler still runs', () => {
    const own = vi.fn((event: { type: string }) => event.type);
    const { events } = renderWith(
      <Track event="cta_clicked" properties={{ cta: 'buy_license' }}>
        <button type="button" onClick={own}>
          Buy
        </button>
      </Track>,
    );
    fireEvent.click(screen.getByText('Buy'));
    expect(summary(events)).toEqual(['track cta_clicked']);
    expect(events[0]?.properties).toEqual({ cta: 'buy_license' });
    expect(own).toHaveBeenCalledTimes(1);
    expect(own.mock.results[0]?.value).toBe('click');
  });

  it('tracks before the child’s handler, so a handler that throws does not lose the event', () => {
    const { events } = renderWith(
      <Track event="cta_clicked">
        <button
          type="button"
          onClick={() => {
            throw new Error('the app’s own bug');
          }}
        >
          Buy
        </button>
      </Track>,
    );
    const reported = vi.fn((event: ErrorEvent) => event.preventDefault());
    window.addEventListener('error', reported);
    vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      fireEvent.click(screen.getByText('Buy'));
    } catch {
      // React rethrows the handler's error: it stays the app's.
    }
    window.removeEventListener('error', reported);
    vi.restoreAllMocks();
    expect(summary(events)).toEqual(['track cta_clicked']);
  });

  it('listens to the event named by `on` only, and keeps the child’s other props and ref', () => {
    const ref = createRef<HTMLFormElement>();
    const onSubmit = vi.fn((event: { preventDefault(): void }) => event.preventDefault());
    const { events } = renderWith(
      <Track event="license_form_submitted" on="submit" properties={{ plan: 'standard' }}>
        <form ref={ref} aria-label="checkout" className="checkout" onSubmit={onSubmit}>
          <button type="submit">Pay</button>
        </form>
      </Track>,
    );
    fireEvent.click(screen.getByRole('form'));
    expect(events).toEqual([]);
    fireEvent.click(screen.getByText('Pay')); // submits the form
    expect(summary(events)).toEqual(['track license_form_submitted']);
    expect(onSubmit).toHaveBeenCalledTimes(1);
    expect(ref.current).toBe(screen.getByRole('form'));
    expect(ref.current?.className).toBe('checkout');
  });

  it('maps camel-cased triggers to React’s handler names', () => {
    const { events } = renderWith(
      <Track event="asset_previewed" on="mouseEnter" properties={{ assetId: 'a-1' }}>
        <img alt="Sunset" src="data:," />
      </Track>,
    );
    fireEvent.mouseEnter(screen.getByAltText('Sunset'));
    fireEvent.click(screen.getByAltText('Sunset'));
    expect(summary(events)).toEqual(['track asset_previewed']);
  });

  it('tracks the properties of the latest render', () => {
    const recording = recordingClient();
    const ui = (assetId: string) => (
      <AnalyticsProvider client={recording.client}>
        <Track event="asset_viewed" properties={{ assetId }}>
          <a href="#asset">Open</a>
        </Track>
      </AnalyticsProvider>
    );
    const { rerender } = render(ui('a-1'));
    rerender(ui('a-2'));
    fireEvent.click(screen.getByText('Open'));
    expect(recording.events[0]?.properties).toEqual({ assetId: 'a-2' });
  });

  it('refuses anything but one element child, naming the fix', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const { client } = recordingClient();
    const twoChildren = (
      <Track event="cta_clicked">
        {[<button key="a" type="button" />, <button key="b" type="button" />] as never}
      </Track>
    );
    expect(() =>
      render(<AnalyticsProvider client={client}>{twoChildren}</AnalyticsProvider>),
    ).toThrow('Invalid option `children`: give <Track> exactly one element');
    vi.restoreAllMocks();
  });
});
