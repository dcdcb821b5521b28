import { createBrowserAnalytics } from '@sightline/browser';
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import { createApp, defineComponent, h } from 'vue';
import { createRouter, createWebHistory, type Router, RouterView } from 'vue-router';
import { createSightline } from '../index';
import { pages, useCollector } from './harness';

const collector = useCollector();

const Page = defineComponent({ render: () => h('main') });

function createTestRouter(): Router {
  return createRouter({
    history: createWebHistory(),
    routes: [
      { path: '/', name: 'home', component: Page },
      { path: '/assets/:id', name: 'asset', component: Page },
      { path: '/pricing', component: Page },
      {
        path: '/settings',
        component: { render: () => h(RouterView) },
        children: [{ path: 'profile/:tab?', name: 'profile', component: Page }],
      },
      { path: '/old-pricing', redirect: '/pricing' },
      { path: '/admin', component: Page, beforeEnter: () => false },
    ],
  });
}

const App = defineComponent({ render: () => h(RouterView) });

describe('router page views', () => {
  it('tracks one page view per navigation, the initial one included, with the route name and pattern', async () => {
    const router = createTestRouter();
    const plugin = createSightline({ ...collector.options(), router });
    collector.own(plugin.client);
    mount(App, { global: { plugins: [router, plugin] } });
    await router.isReady();
    await router.push('/assets/42');
    await router.push('/assets/42?tab=files');
    await router.push('/settings/profile/billing');
    await router.push('/pricing');

    const events = await collector.arrived(plugin.client);
    expect(pages(events)).toEqual([
      { name: 'home', route: '/', path: '/' },
      { name: 'asset', route: '/assets/:id', path: '/assets/42' },
      { name: 'asset', route: '/assets/:id', path: '/assets/42' },
      { name: 'profile', route: '/settings/profile/:tab?', path: '/settings/profile/billing' },
      { name: null, route: '/pricing', path: '/pricing' },
    ]);
    const [, asset, withQuery] = events.filter((event) => event.type === 'page');
    // The browser SDK fills the page fields; the previous page is the referrer, as in its SPA views.
    expect(asset?.properties).toMatchObject({
      url: 'http://localhost:3000/assets/42',
      referrer: 'http://localhost:3000/',
    });
    expect(withQuery?.properties).toMatchObject({
      search: '?tab=files',
      referrer: 'http://localhost:3000/assets/42',
    });
  });

  it('counts no view for a duplicate, an aborted or a hash-only navigation, and one for a redirect', async () => {
    const router = createTestRouter();
    const plugin = createSightline({ ...collector.options(), router });
    collector.own(plugin.client);
    mount(App, { global: { plugins: [plugin, router] } });
    await router.isReady();
    await router.push('/');
    await router.push('/admin');
    await router.push('/#comments');
    await router.push('/old-pricing');
    const landed = new Promise((resolve) => {
      const stop = router.afterEach(() => resolve(stop()));
    });
    router.back();
    await landed;

    expect(pages(await collector.arrived(plugin.client))).toEqual([
      { name: 'home', route: '/', path: '/' },
      { name: null, route: '/pricing', path: '/pricing' },
      { name: 'home', route: '/', path: '/' },
    ]);
  });

  it('tracks the current route once when installed after the router has navigated', async () => {
    history.replaceState(null, '', '/assets/42');
    const router = createTestRouter();
    const app = createApp(App).use(router);
    await router.isReady();
    const plugin = createSightline({ ...collector.options(), router });
    collector.own(plugin.client);
    app.use(plugin).mount(document.createElement('div'));
    await router.push('/pricing');
    app.unmount();

    expect(pages(await collector.arrived(plugin.client))).toEqual([
      { name: 'asset', route: '/assets/:id', path: '/assets/42' },
      { name: null, route: '/pricing', path: '/pricing' },
    ]);
  });

  it('with a client created with pageViews: false, tracks exactly one view per navigation too', async () => {
    const router = createTestRouter();
    const client = collector.own(
      createBrowserAnalytics({ ...collector.options(), pageViews: false }),
    );
    mount(App, { global: { plugins: [router, createSightline({ client, router })] } });
    await router.isReady();
    await router.push('/assets/1');

    expect(pages(await collector.arrived(client))).toEqual([
      { name: 'home', route: '/', path: '/' },
      { name: 'asset', route: '/assets/:id', path: '/assets/1' },
    ]);
  });

  it('without a router, leaves page views to the browser SDK: one per URL, without a route', async () => {
    const router = createTestRouter();
    const plugin = createSightline(collector.options());
    collector.own(plugin.client);
    mount(App, { global: { plugins: [router, plugin] } });
    await router.isReady();
    await router.push('/assets/42');

    expect(pages(await collector.arrived(plugin.client))).toEqual([
      { name: null, route: undefined, path: '/' },
      { name: null, route: undefined, path: '/assets/42' },
    ]);
  });

  it('stops when the app unmounts', async () => {
    const router = createTestRouter();
    const plugin = createSightline({ ...collector.options(), router });
    collector.own(plugin.client);
    const wrapper = mount(App, { global: { plugins: [router, plugin] } });
    await router.isReady();
    wrapper.unmount();
    await router.push('/pricing');

    expect(pages(await collector.arrived(plugin.client))).toEqual([
      { name: 'home', route: '/', path: '/' },
    ]);
  });
});
