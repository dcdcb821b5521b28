import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import { defineComponent, nextTick } from 'vue';
import { createSightline, useAnalytics } from '../index';
import { tracks, useCollector } from './harness';

const collector = useCollector();

/** Mounts `template` (compiled at runtime, as an SFC's would be) with the plugin installed. */
function mountWithPlugin(template: string, data: () => Record<string, unknown> = () => ({})) {
  const plugin = createSightline(collector.options({ pageViews: false }));
  collector.own(plugin.client);
  const wrapper = mount(defineComponent({ template, data }), {
    global: { plugins: [plugin] },
    attachTo: document.body,
  });
  return { wrapper, client: plugin.client };
}

describe('v-track', () => {
  it('tracks the named event on each click', async () => {
    const { wrapper, client } = mountWithPlugin(
      `<button v-track:click="'cta_clicked'">Start</button>`,
    );
    await wrapper.get('button').trigger('click');
    await wrapper.get('button').trigger('click');
    expect(tracks(await collector.arrived(client))).toEqual([
      { event: 'cta_clicked', properties: {} },
      { event: 'cta_clicked', properties: {} },
    ]);
  });

  it('tracks an event with properties, and listens to clicks when no DOM event is named', async () => {
    const { wrapper, client } = mountWithPlugin(
      `<a v-track:click="{ event: 'plan_selected', properties: { plan: 'pro', billing_cycle: 'yearly' } }">Pro</a>
       <button v-track="{ event: 'docs_opened' }">Docs</button>`,
    );
    await wrapper.get('a').trigger('click');
    await wrapper.get('button').trigger('click');
    expect(tracks(await collector.arrived(client))).toEqual([
      { event: 'plan_selected', properties: { plan: 'pro', billing_cycle: 'yearly' } },
      { event: 'docs_opened', properties: {} },
    ]);
  });

  it('listens to the DOM event named by its argument, and only to it', async () => {
    const { wrapper, client } = mountWithPlugin(
      `<input v-track:focus="{ event: 'search_focused', properties: { at: 'header' } }">`,
    );
    await wrapper.get('input').trigger('click');
    await wrapper.get('input').trigger('focus');
    expect(tracks(await collector.arrived(client))).toEqual([
      { event: 'search_focused', properties: { at: 'header' } },
    ]);
  });

  it('tracks the latest bound value after the component updates', async () => {
    const { wrapper, client } = mountWithPlugin(
      `<button v-track:click="{ event: 'plan_selected', properties: { plan } }" @click="plan = 'team'">Next</button>`,
      () => ({ plan: 'pro' }),
    );
    await wrapper.get('button').trigger('click');
    await nextTick();
    await wrapper.get('button').trigger('click');
    expect(tracks(await collector.arrived(client))).toEqual([
      { event: 'plan_selected', properties: { plan: 'pro' } },
      { event: 'plan_selected', properties: { plan: 'team' } },
    ]);
  });

  it('moves its listener when the bound DOM event changes', async () => {
    const { wrapper, client } = mountWithPlugin(
      `<button v-track:[on]="'via_' + on">x</button>`,
      () => ({ on: 'mouseenter' }),
    );
    await wrapper.get('button').trigger('mouseenter');
    await wrapper.setData({ on: 'click' });
    await wrapper.get('button').trigger('mouseenter');
    const events = () => collector.arrived(client).then((all) => tracks(all).map((t) => t.event));
    expect(await events()).toEqual(['via_mouseenter']);
    await wrapper.get('button').trigger('click');
    expect(await events()).toEqual(['via_mouseenter', 'via_click']);
  });

  it('removes its listener when the element goes and when the app unmounts', async () => {
    const { wrapper, client } = mountWithPlugin(
      `<div><button v-if="shown" id="removed" v-track:click="'removed_clicked'">a</button>
       <button id="kept" v-track:click="'kept_clicked'">b</button></div>`,
      () => ({ shown: true }),
    );
    const removed = wrapper.get('#removed').element;
    const kept = wrapper.get('#kept').element;
    await wrapper.setData({ shown: false });
    removed.dispatchEvent(new MouseEvent('click'));
    kept.dispatchEvent(new MouseEvent('click'));
    wrapper.unmount();
    kept.dispatchEvent(new MouseEvent('click'));
    expect(tracks(await collector.arrived(client))).toEqual([
      { event: 'kept_clicked', properties: {} },
    ]);
  });

  it("tracks before the element's own handlers run", async () => {
    // A router link's handler navigates; in a browser the navigation can finish and unmount the
    // link before later click listeners run (microtasks run between listeners), so v-track
    // listens in the capture phase, ahead of them. The e2e test covers the browser itself.
    const plugin = createSightline(collector.options({ pageViews: false }));
    collector.own(plugin.client);
    const Link = defineComponent({
      setup: () => ({ track: useAnalytics().track }),
      template: `<a v-track:click="'link_clicked'" @click="track('navigated')">Go</a>`,
    });
    const wrapper = mount(Link, { global: { plugins: [plugin] } });
    await wrapper.trigger('click');
    expect(tracks(await collector.arrived(plugin.client)).map(({ event }) => event)).toEqual([
      'link_clicked',
      'navigated',
    ]);
  });

  it('never throws on a bad value: the client reports it to onError', async () => {
    const errors: Error[] = [];
    const plugin = createSightline(
      collector.options({ pageViews: false, onError: (error) => errors.push(error) }),
    );
    collector.own(plugin.client);
    const wrapper = mount(defineComponent({ template: `<button v-track:click="42">x</button>` }), {
      global: { plugins: [plugin] },
    });
    await wrapper.get('button').trigger('click');
    expect(tracks(await collector.arrived(plugin.client))).toEqual([]);
    expect(errors.map((error) => error.message)).toEqual([expect.stringContaining('`event`')]);
  });
});
