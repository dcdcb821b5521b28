import { Link } from 'react-router';

export function NotFound() {
  return (
    <main>
      <h1>Not found</h1>
      <Link to="/">Back to the gallery</Link>
    </main>
  );
}
