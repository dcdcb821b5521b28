import { useConsent, usePageView } from '@sightline/react';
import { Link, Outlet, useLocation, useMatches } from 'react-router';
import { useAppAnalytics } from '../analytics';

/** Routes name their page in `handle`: `{ path: 'assets/:assetId', handle: { page: 'Asset' } }`. */
function usePageName(): string | undefined {
  const handle = useMatches().at(-1)?.handle as { page?: string } | undefined;
  return handle?.page;
}

/** Who may be measured, and the switch: `useConsent` re-renders when it changes. */
function ConsentFooter() {
  const analytics = useAppAnalytics();
  const consent = useConsent();
  return (
    <footer>
      <span>Analytics: {consent}</span>
      {consent === 'granted' ? (
        <button type="button" onClick={analytics.optOut}>
          Opt out
        </button>
      ) : (
        <button type="button" onClick={analytics.optIn}>
          Allow analytics
        </button>
      )}
    </footer>
  );
}

export function Layout() {
  // One page view per pathname: the landing page, then each navigation.
  usePageView(useLocation().pathname, usePageName());
  return (
    <>
      <nav>
        <Link to="/">Gallery</Link>
      </nav>
      <Outlet />
      <ConsentFooter />
    </>
  );
}
