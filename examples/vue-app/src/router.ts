import { createRouter, createWebHistory, type Router } from 'vue-router';
import CheckoutPage from './pages/CheckoutPage.vue';
import GeneratePage from './pages/GeneratePage.vue';
import HomePage from './pages/HomePage.vue';
import PricingPage from './pages/PricingPage.vue';
import SignupPage from './pages/SignupPage.vue';

/**
 * The app's routes. Each page view carries the route's name and pattern (`/checkout/:plan`), so
 * every plan's checkout counts as one page in reports.
 *
 * @example
 * createApp(App).use(createAppRouter());
 */
export function createAppRouter(): Router {
  return createRouter({
    history: createWebHistory(),
    routes: [
      { path: '/', name: 'home', component: HomePage },
      { path: '/signup', name: 'signup', component: SignupPage },
      { path: '/generate', name: 'generate', component: GeneratePage },
      { path: '/pricing', name: 'pricing', component: PricingPage },
      { path: '/checkout/:plan', name: 'checkout', component: CheckoutPage, props: true },
      { path: '/:unknown(.*)*', redirect: '/' },
    ],
  });
}
