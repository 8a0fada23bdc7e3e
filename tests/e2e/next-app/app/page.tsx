// A server component: it renders the client tree below on the server (the provider reads `idle`
// there and opens nothing), and the browser hydrates it.
import { Floor } from './floor';

export default function Page() {
  return (
    <main>
      <h1>Floor</h1>
      <Floor />
    </main>
  );
}
