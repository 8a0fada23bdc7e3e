// The dev server's read API (what a real app would read from its own backend), with a counter
// of fetches so the dashboard can show how many refetches realtime triggered.
/* global __DEVSERVER__ */
export const DEVSERVER = __DEVSERVER__;
export const fetchCount = { value: 0 };

export async function get(path) {
  fetchCount.value += 1;
  const response = await fetch(`${DEVSERVER}/api/floor/${path}`);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

export async function devToken(params) {
  const response = await fetch(`${DEVSERVER}/_dev/token?${new URLSearchParams(params)}`, { method: 'POST' });
  if (!response.ok) throw new Error(`token: HTTP ${response.status}`);
  return (await response.json()).token;
}

/** The dev server's anon key: the same for every tab, as a project's is. */
export async function anonKey() {
  const response = await fetch(`${DEVSERVER}/_dev/anon-key`);
  if (!response.ok) throw new Error(`anon key: HTTP ${response.status}`);
  return (await response.json()).key;
}
