import { afterEach, describe, expect, it } from 'vitest';
import { watchPageViews } from '../pageViews';

let stop: (() => void) | undefined;
afterEach(() => {
  stop?.();
  stop = undefined;
  history.replaceState(null, '', '/');
});

function watch(options?: Parameters<typeof watchPageViews>[1]) {
  const views: string[] = [];
  stop = watchPageViews(
    () => views.push(location.pathname + location.search + location.hash),
    options,
  );
  return views;
}

/** happy-dom's PageTransitionEvent ignores `persisted` in its init: set it as browsers do. */
function pageShow(persisted: boolean): Event {
  const event = new Event('pageshow');
  Object.defineProperty(event, 'persisted', { value: persisted });
  return event;
}

describe('page views', () => {
  it('counts the initial load, then each SPA navigation once per URL', () => {
    history.replaceState(null, '', '/start');
    const views = watch();
    history.pushState(null, '', '/pricing');
    history.pushState({ scroll: 1 }, '', '/pricing'); // same URL: no new view
    history.replaceState({ scroll: 2 }, '', '/pricing');
    history.replaceState(null, '', '/pricing?plan=pro');
    expect(views).toEqual(['/start', '/pricing', '/pricing?plan=pro']);
  });

  it('counts back/forward navigations (popstate)', () => {
    history.replaceState(null, '', '/a');
    const views = watch();
    history.pushState(null, '', '/b');
    history.replaceState(null, '', '/a'); // what the browser shows after "back"
    window.dispatchEvent(new PopStateEvent('popstate'));
    expect(views).toEqual(['/a', '/b', '/a']);
  });

  it('ignores hash changes unless asked, then counts them', () => {
    history.replaceState(null, '', '/docs');
    const plain = watch();
    history.pushState(null, '', '/docs#install');
    expect(plain).toEqual(['/docs']);
    stop?.();

    const withHash = watch({ hashChanges: true });
    history.pushState(null, '', '/docs#usage');
    location.hash = '#api';
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    expect(withHash).toEqual(['/docs#install', '/docs#usage', '/docs#api']);
  });

  it('counts a page restored from the back/forward cache as a new view of the same URL', () => {
    history.replaceState(null, '', '/cached');
    const views = watch();
    window.dispatchEvent(pageShow(false));
    window.dispatchEvent(pageShow(true));
    expect(views).toEqual(['/cached', '/cached']);
  });

  it('restores history methods when stopped, unless a router wrapped them after us', () => {
    const original = history.pushState;
    stop = watchPageViews(() => {});
    expect(history.pushState).not.toBe(original);
    stop();
    stop = undefined;
    expect(history.pushState).toBe(original);

    stop = watchPageViews(() => {});
    const ours = history.pushState;
    const router: History['pushState'] = function (this: History, ...args) {
      return ours.apply(this, args);
    };
    history.pushState = router;
    stop();
    stop = undefined;
    expect(history.pushState).toBe(router);
    history.pushState = original;
  });
});
