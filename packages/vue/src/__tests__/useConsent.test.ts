import { ConfigurationError } from '@sightline/core';
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import { defineComponent, nextTick } from 'vue';
import { createSightline, useAnalytics, useConsent } from '../index';
import { tracks, useCollector } from './harness';

const collector = useCollector();

/** A consent banner: shows the state, and buttons that write the ref. */
const Banner = defineComponent({
  setup() {
    const { track } = useAnalytics();
    return { consent: useConsent(), marketing: useConsent('marketing'), track };
  },
  template: `<p id="state">{{ consent }} {{ marketing }}</p>
    <button id="accept" @click="consent = 'granted'">Accept</button>
    <button id="refuse" @click="consent = 'denied'">Refuse</button>
    <button id="ads" @click="marketing = 'denied'">No ads</button>
    <button id="save" @click="track('settings_changed')">Save</button>`,
});

function mountBanner(options: Parameters<typeof collector.options>[0] = {}) {
  const plugin = createSightline(collector.options({ pageViews: false, ...options }));
  collector.own(plugin.client);
  const wrapper = mount(Banner, { global: { plugins: [plugin] } });
  return { wrapper, client: plugin.client };
}

describe('useConsent()', () => {
  it("reflects the client's consent, and follows changes made elsewhere", async () => {
    const { wrapper, client } = mountBanner({ consent: { require: true } });
    expect(wrapper.get('#state').text()).toBe('pending pending');
    client.optIn();
    await nextTick();
    expect(wrapper.get('#state').text()).toBe('granted pending');
    client.consent.set({ analytics: 'denied', marketing: 'granted' });
    await nextTick();
    expect(wrapper.get('#state').text()).toBe('denied granted');
  });

  it('writing it records the choice: held events go out once granted, none once denied', async () => {
    const { wrapper, client } = mountBanner({ consent: { require: true } });
    await wrapper.get('#save').trigger('click');
    expect(tracks(await collector.arrived(client))).toEqual([]);
    expect(client.stats().pendingConsent).toBe(1);

    await wrapper.get('#accept').trigger('click');
    expect(client.consent.get('analytics')).toBe('granted');
    expect(wrapper.get('#state').text()).toBe('granted pending');
    expect(tracks(await collector.arrived(client))).toEqual([
      { event: 'settings_changed', properties: {} },
    ]);

    await wrapper.get('#refuse').trigger('click');
    await wrapper.get('#save').trigger('click');
    expect(client.consent.get('analytics')).toBe('denied');
    expect(tracks(await collector.arrived(client))).toHaveLength(1);
    expect(client.stats().dropped.consent).toBe(1);
  });

  it('writes the category it was asked for, leaving the others', async () => {
    const { wrapper, client } = mountBanner();
    await wrapper.get('#ads').trigger('click');
    expect(client.consent.getAll()).toEqual({ analytics: 'granted', marketing: 'denied' });
    expect(wrapper.get('#state').text()).toBe('granted denied');
  });

  it('refuses a value that is not a consent state, naming it', () => {
    const { wrapper } = mountBanner();
    const vm = wrapper.vm as unknown as { consent: string };
    expect(() => {
      vm.consent = 'yes';
    }).toThrow(ConfigurationError);
    expect(() => {
      vm.consent = 'yes';
    }).toThrow("Invalid option `consent.set().analytics`: use 'granted', 'denied' or 'pending'");
  });

  it('stops following the client once the app unmounts', async () => {
    const { wrapper, client } = mountBanner();
    const consent = (wrapper.vm as unknown as { consent: string }).consent;
    expect(consent).toBe('granted');
    wrapper.unmount();
    client.optOut();
    expect((wrapper.vm as unknown as { consent: string }).consent).toBe('granted');
  });
});
