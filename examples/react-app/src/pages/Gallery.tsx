import { Link } from 'react-router';
import { ASSETS, formatPrice } from '../assets';

export function Gallery() {
  return (
    <main>
      <h1>Licensable assets</h1>
      <ul className="assets">
        {ASSETS.map((asset) => (
          <li key={asset.id}>
            <Link to={`/assets/${asset.id}`}>{asset.title}</Link>
            <p>
              by {asset.creator}, from {formatPrice(asset.priceCents.standard)}
            </p>
          </li>
        ))}
      </ul>
    </main>
  );
}
