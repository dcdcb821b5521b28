import { createBrowserAnalytics } from '@sightline/browser';
import { ConfigurationError, SightlineError } from '@sightline/core';
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import { defineComponent, h } from 'vue';
import { createRouter, createWebHistory } from 'vue-router';
import { createSightline, useAnalytics, useConsent } from '../index';
import { tracks, useCollector } from './harness';

const collector = useCollector();

/** A component that runs `use` in its setup. */
const Using = (use: () => void) =>
  defineComponent({
    setup() {
      use();
      return () => h('p');
    },
  });

describe('createSightline', () => {
  it('creates the client from the browser options and provides it to useAnalytics()', async () => {
    const plugin = createSightline(collector.options());
    collector.own(plugin.client);
    mount(
      Using(() => useAnalytics().track('signup_completed', { method: 'email' })),
      { global: { plugins: [plugin] } },
    );
    const events = await collector.arrived(plugin.client);
    expect(tracks(events)).toEqual([
      { event: 'signup_completed', properties: { method: 'email' } },
    ]);
    // Without a router, page views stay the browser SDK's own: the initial load is one.
    expect(events.filter((event) => event.type === 'page')).toHaveLength(1);
  });

  it('uses a client created beforehand, so code outside components shares it', async () => {
    const client = collector.own(createBrowserAnalytics(collector.options()));
    const plugin = createSightline({ client });
    expect(plugin.client).toBe(client);
    let user: unknown;
    mount(
      Using(() => {
        const analytics = useAnalytics();
        user = analytics.user();
        analytics.track('signup_started');
      }),
      { global: { plugins: [plugin] } },
    );
    client.track('signup_completed');
    expect(user).toEqual(client.user());
    expect(tracks(await collector.arrived(client)).map(({ event }) => event)).toEqual([
      'signup_started',
      'signup_completed',
    ]);
  });

  it('trackFeatureUsage() tracks feature_used with the feature and its properties', async () => {
    const plugin = createSightline(collector.options());
    collector.own(plugin.client);
    mount(
      Using(() => {
        const { trackFeatureUsage } = useAnalytics();
        trackFeatureUsage('image_generator', { action: 'click', source: 'main_page' });
        trackFeatureUsage('exports');
      }),
      { global: { plugins: [plugin] } },
    );
    expect(tracks(await collector.arrived(plugin.client))).toEqual([
      {
        event: 'feature_used',
        properties: { feature: 'image_generator', action: 'click', source: 'main_page' },
      },
      { event: 'feature_used', properties: { feature: 'exports' } },
    ]);
  });

  it('trackFormInteraction() tracks form_interaction with the form, the action and its properties', async () => {
    const plugin = createSightline(collector.options());
    collector.own(plugin.client);
    mount(
      Using(() => {
        const { trackFormInteraction } = useAnalytics();
        trackFormInteraction('generation_form', 'submit', {
          prompt_length: 42,
          selected_model: 'fast',
        });
        trackFormInteraction('generation_form', 'validation_error');
      }),
      { global: { plugins: [plugin] } },
    );
    expect(tracks(await collector.arrived(plugin.client))).toEqual([
      {
        event: 'form_interaction',
        properties: {
          form: 'generation_form',
          action: 'submit',
          prompt_length: 42,
          selected_model: 'fast',
        },
      },
      {
        event: 'form_interaction',
        properties: { form: 'generation_form', action: 'validation_error' },
      },
    ]);
  });

  it('never throws a bad tracking call into the app: it reaches onError and is dropped', async () => {
    const errors: unknown[] = [];
    const plugin = createSightline(collector.options({ onError: (error) => errors.push(error) }));
    collector.own(plugin.client);
    mount(
      Using(() => {
        const { track, trackFeatureUsage } = useAnalytics();
        track(undefined as unknown as string);
        trackFeatureUsage('exports', { size: 10n });
        track('still_working');
      }),
      { global: { plugins: [plugin] } },
    );
    expect(tracks(await collector.arrived(plugin.client))).toEqual([
      { event: 'still_working', properties: {} },
    ]);
    expect(errors.map((error) => (error as Error).message)).toEqual([
      expect.stringContaining('`event`'),
      expect.stringContaining('JSON-serializable'),
    ]);
    expect(plugin.client.stats().dropped.invalid).toBe(2);
  });

  it('throws at once on bad browser options, naming the option', () => {
    expect(() => createSightline({ writeKey: '', host: 'http://127.0.0.1:1' })).toThrow(
      /`writeKey`/,
    );
  });

  it('refuses pageViews together with router, naming the option and why', () => {
    const router = createRouter({ history: createWebHistory(), routes: [] });
    const create = () => createSightline({ ...collector.options({ pageViews: true }), router });
    expect(create).toThrow(ConfigurationError);
    expect(create).toThrow(/`pageViews`: leave it out when you pass `router`/);
  });
});

describe('useAnalytics() and useConsent() without the plugin', () => {
  it('fail fast in a component, naming the fix', () => {
    const fix =
      'useAnalytics(): no Sightline client: call app.use(createSightline({ writeKey, host })) before mounting';
    // The failed component has nothing to render: Vue's warning about it is not the subject.
    const quiet = { global: { config: { warnHandler: () => {} } } };
    expect(() =>
      mount(
        Using(() => useAnalytics()),
        quiet,
      ),
    ).toThrow(fix);
    expect(() =>
      mount(
        Using(() => useConsent()),
        quiet,
      ),
    ).toThrow(
      'useConsent(): no Sightline client: call app.use(createSightline({ writeKey, host }))',
    );
  });

  it('fail fast outside setup(), with a SightlineError', () => {
    expect(() => useAnalytics()).toThrow(SightlineError);
    expect(() => useAnalytics()).toThrow(/call useAnalytics\(\) inside setup\(\)/);
  });
});
