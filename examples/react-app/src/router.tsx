import { createBrowserRouter } from 'react-router';
import { AssetPage } from './pages/AssetPage';
import { Gallery } from './pages/Gallery';
import { Layout } from './pages/Layout';
import { LicenseCheckout } from './pages/LicenseCheckout';
import { LicenseConfirmed } from './pages/LicenseConfirmed';
import { NotFound } from './pages/NotFound';

/** Each route names its page view in `handle.page` (read by Layout). */
export const router = createBrowserRouter([
  {
    path: '/',
    Component: Layout,
    children: [
      { index: true, Component: Gallery, handle: { page: 'Gallery' } },
      { path: 'assets/:assetId', Component: AssetPage, handle: { page: 'Asset' } },
      {
        path: 'assets/:assetId/license',
        Component: LicenseCheckout,
        handle: { page: 'License checkout' },
      },
      {
        path: 'licenses/:licenseId',
        Component: LicenseConfirmed,
        handle: { page: 'License confirmed' },
      },
      { path: '*', Component: NotFound, handle: { page: 'Not found' } },
    ],
  },
]);
