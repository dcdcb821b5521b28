import { Link, useParams } from 'react-router';
import { AppTrack, useAppTrackEvent } from '../analytics';
import { ASSETS, type Asset, findAsset, formatPrice } from '../assets';
import { useTrackOnce } from '../useTrackOnce';
import { NotFound } from './NotFound';

function AssetDetails({ asset }: { asset: Asset }) {
  // One `asset_viewed` per asset shown, also when the next asset reuses this component.
  const trackView = useAppTrackEvent('asset_viewed', {
    assetId: asset.id,
    projectId: asset.projectId,
  });
  useTrackOnce(asset.id, trackView);
  const related = ASSETS.filter(
    (other) => other.projectId === asset.projectId && other.id !== asset.id,
  );
  return (
    <main>
      <h1>{asset.title}</h1>
      <p>
        by {asset.creator}. Standard license {formatPrice(asset.priceCents.standard)}, extended{' '}
        {formatPrice(asset.priceCents.extended)}.
      </p>
      <AppTrack event="license_cta_clicked" properties={{ assetId: asset.id }}>
        <Link to={`/assets/${asset.id}/license`}>Buy a license</Link>
      </AppTrack>
      {related.length > 0 && (
        <section>
          <h2>More from this project</h2>
          <ul>
            {related.map((other) => (
              <li key={other.id}>
                <Link to={`/assets/${other.id}`}>{other.title}</Link>
              </li>
            ))}
          </ul>
        </section>
      )}
    </main>
  );
}

export function AssetPage() {
  const asset = findAsset(useParams().assetId);
  return asset ? <AssetDetails asset={asset} /> : <NotFound />;
}
