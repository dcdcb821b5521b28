import { AnalyticsProvider } from '@sightline/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router/dom';
import { analytics } from './analytics';
import { router } from './router';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AnalyticsProvider client={analytics}>
      <RouterProvider router={router} />
    </AnalyticsProvider>
  </StrictMode>,
);
