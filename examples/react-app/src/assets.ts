/** A licensable creative asset (seed 003's `ip_asset`), priced per license type in cents. */
export interface Asset {
  id: string;
  title: string;
  creator: string;
  projectId: string;
  priceCents: { standard: number; extended: number };
}

export type LicenseType = keyof Asset['priceCents'];

export const CURRENCY = 'USD';

export const ASSETS: readonly Asset[] = [
  {
    id: 'a-sunset',
    title: 'Sunset over the bay',
    creator: 'Mara Lind',
    projectId: 'p-coastal',
    priceCents: { standard: 4900, extended: 19900 },
  },
  {
    id: 'a-harbor',
    title: 'Harbor at dawn',
    creator: 'Mara Lind',
    projectId: 'p-coastal',
    priceCents: { standard: 3900, extended: 14900 },
  },
  {
    id: 'a-market',
    title: 'Night market',
    creator: 'Jun Okafor',
    projectId: 'p-city',
    priceCents: { standard: 5900, extended: 24900 },
  },
];

export function findAsset(id: string | undefined): Asset | undefined {
  return ASSETS.find((asset) => asset.id === id);
}

export function formatPrice(cents: number): string {
  return (cents / 100).toLocaleString('en-US', { style: 'currency', currency: CURRENCY });
}
