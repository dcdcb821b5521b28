// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { createSSRApp, defineComponent, h, resolveDirective, withDirectives } from 'vue';
import { renderToString } from 'vue/server-renderer';
import { createMemoryHistory, createRouter, RouterView } from 'vue-router';
import { createSightline, useAnalytics, useConsent } from '../index';

const Asset = defineComponent({
  setup() {
    const { track, trackFeatureUsage, trackFormInteraction, page } = useAnalytics();
    const consent = useConsent();
    track('asset_viewed', { id: '42' });
    trackFeatureUsage('image_generator', { action: 'render' });
    trackFormInteraction('generation_form', 'submit');
    page('asset');
    consent.value = 'granted';
    return () =>
      withDirectives(h('button', `consent: ${consent.value}`), [
        [resolveDirective('track')!, { event: 'cta_clicked' }, 'click'],
      ]);
  },
});

describe('server-side rendering', () => {
  it('imports, installs and renders without window; every call does nothing', async () => {
    expect(typeof window).toBe('undefined');
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [{ path: '/assets/:id', name: 'asset', component: Asset }],
    });
    const plugin = createSightline({ writeKey: 'wk_ssr', host: 'http://127.0.0.1:1', router });
    const app = createSSRApp(defineComponent({ render: () => h(RouterView) }));
    app.use(router).use(plugin);
    await router.push('/assets/42');
    await router.isReady();

    const html = await renderToString(app);

    expect(html).toBe('<button>consent: denied</button>');
    expect(plugin.client.stats()).toMatchObject({ enqueued: 0, sent: 0, queued: 0 });
    expect(plugin.client.user()).toEqual({ anonymousId: undefined, userId: undefined });
  });
});
