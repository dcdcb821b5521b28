import { Link, useLocation, useParams } from 'react-router';
import { formatPrice } from '../assets';

export function LicenseConfirmed() {
  const { licenseId } = useParams();
  const purchase = useLocation().state as { title: string; revenueCents: number } | null;
  return (
    <main>
      <h1>License confirmed</h1>
      <p>
        License <code>{licenseId}</code>
        {purchase && ` for “${purchase.title}”, ${formatPrice(purchase.revenueCents)}`}.
      </p>
      <Link to="/">Back to the gallery</Link>
    </main>
  );
}
