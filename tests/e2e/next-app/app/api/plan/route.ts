// A Route Handler (Node runtime): the package validates and plans on the server too, with no
// argument to initCasinoRealtime().
import { initCasinoRealtime, planCacheActions } from 'casino-realtime';

export const dynamic = 'force-dynamic';

export async function GET(request: Request) {
  await initCasinoRealtime();
  const casino = new URL(request.url).searchParams.get('casino') ?? '';
  const actions = planCacheActions('table.deactivated', {
    casino_id: casino,
    table_id: '5ab1e000-0000-4000-8000-000000000001',
    at: new Date().toISOString(),
  });
  return Response.json(actions);
}
