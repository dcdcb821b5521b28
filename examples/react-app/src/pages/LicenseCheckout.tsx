import { type FormEvent, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { useAppAnalytics } from '../analytics';
import { CURRENCY, findAsset, formatPrice, type LicenseType } from '../assets';
import { NotFound } from './NotFound';

export function LicenseCheckout() {
  const asset = findAsset(useParams().assetId);
  const analytics = useAppAnalytics();
  const navigate = useNavigate();
  const [licenseType, setLicenseType] = useState<LicenseType>('standard');
  if (!asset) return <NotFound />;

  const buy = (event: FormEvent) => {
    event.preventDefault();
    // A real app records the purchase on its server first; the id would come from there.
    const licenseId = `lic_${crypto.randomUUID().slice(0, 8)}`;
    const revenueCents = asset.priceCents[licenseType];
    // Values known only now: `track` of the typed client, checked against the catalog.
    analytics.track('license_created', {
      licenseId,
      assetId: asset.id,
      projectId: asset.projectId,
      licenseType,
      revenueCents,
      revenue: revenueCents / 100,
      currency: CURRENCY,
    });
    navigate(`/licenses/${licenseId}`, { state: { title: asset.title, revenueCents } });
  };

  return (
    <main>
      <h1>License “{asset.title}”</h1>
      <form onSubmit={buy}>
        {(['standard', 'extended'] as const).map((type) => (
          <label key={type}>
            <input
              type="radio"
              name="licenseType"
              value={type}
              checked={licenseType === type}
              onChange={() => setLicenseType(type)}
            />
            {type === 'standard' ? 'Standard' : 'Extended'} ({formatPrice(asset.priceCents[type])})
          </label>
        ))}
        <button type="submit">Pay {formatPrice(asset.priceCents[licenseType])}</button>
      </form>
    </main>
  );
}
