// Where the package's .wasm modules come from: beside this file by default (Vite, webpack 5 and
// Next.js rewrite `new URL('./x.wasm', import.meta.url)` to the emitted asset), from disk in Node,
// or what the app gave `initCasinoRealtime()`. Nothing here fetches: each module is fetched by
// whoever runs it (the shared worker, a page hosting its managers, a page planning).
import { casinoRealtimeError } from './errors.js';

const MODULES = ['host', 'debug', 'plan'];
const given = {};
let pending = Promise.resolve();

function isNode() {
  return typeof process === 'object' && typeof process.versions?.node === 'string';
}

function defaultUrl(module) {
  // One literal per module: bundlers see each and emit it as an asset (none is fetched here).
  switch (module) {
    case 'host': return new URL('./casino_realtime_host_bg.wasm', import.meta.url);
    case 'debug': return new URL('./casino_realtime_debug_bg.wasm', import.meta.url);
    default: return new URL('./casino_realtime_plan_bg.wasm', import.meta.url);
  }
}

/**
 * In Node (server renders, Route Handlers, Vitest) `fetch` cannot read a `file:` URL: the file is
 * read from disk. The specifier is not a literal and is marked ignored, so no bundler pulls
 * `node:fs` into a browser build, and a page importing the package unbundled still loads.
 */
async function fromDisk(url) {
  const fs = 'node:fs/promises';
  const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ fs);
  return readFile(url);
}

function isSource(value) {
  return typeof value === 'string' || value instanceof URL || value instanceof ArrayBuffer || ArrayBuffer.isView(value)
    || (typeof Response === 'function' && value instanceof Response)
    || (typeof Request === 'function' && value instanceof Request);
}

/** A source as it is kept: an absolute URL string, or bytes. */
async function settle(module, value) {
  if (value instanceof URL) return value.href;
  if (typeof value === 'string') {
    // Relative to the page, as `fetch` would read it (its base URL); absolute, so a worker
    // reads the same.
    const base = typeof document === 'object' && document?.baseURI ? document.baseURI
      : typeof location === 'object' && location?.href ? location.href : undefined;
    return base ? new URL(value, base).href : value;
  }
  if (typeof Request === 'function' && value instanceof Request) return value.url;
  if (typeof Response === 'function' && value instanceof Response) {
    if (!value.ok) throw loadError(`the ${module} .wasm`, new Error(`its Response is HTTP ${value.status}`));
    return new Uint8Array(await value.arrayBuffer());
  }
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * Records where modules come from: one source is the host's (what the session runs on), or
 * `{ host, debug, plan }`. Throws a `TypeError` for anything else; the promise settles when a
 * promised source (or a `Response`'s body) has arrived.
 */
export function setSources(input) {
  if (input === undefined || input === null) return pending;
  const plain = typeof input === 'object' && !isSource(input) && typeof input.then !== 'function'
    && (Object.getPrototypeOf(input) === Object.prototype || Object.getPrototypeOf(input) === null);
  const entries = plain ? MODULES.filter((m) => input[m] !== undefined).map((m) => [m, input[m]]) : [['host', input]];
  if (plain) {
    const unknown = Object.keys(input).filter((k) => !MODULES.includes(k));
    if (unknown.length) throw new TypeError(`initCasinoRealtime: unknown module '${unknown[0]}' (the modules are host, debug, plan)`);
  }
  const settled = entries.map(async ([module, value]) => {
    const source = await value;
    if (typeof WebAssembly === 'object' && source instanceof WebAssembly.Module) {
      throw new TypeError(`initCasinoRealtime: the ${module} module must be a URL, a Response or bytes (a WebAssembly.Module cannot be sent to the shared worker)`);
    }
    if (!isSource(source)) throw new TypeError(`initCasinoRealtime: the ${module} module must be a URL, a Response or bytes`);
    given[module] = await settle(module, source);
  });
  const all = Promise.all([pending, ...settled]).then(() => undefined);
  // A source that failed leaves the default in place for whoever asks next.
  pending = all.catch(() => undefined);
  return all;
}

/** What `module` is loaded from in this page: an absolute URL string, or bytes. */
export async function sourceOf(module) {
  await pending;
  if (given[module] !== undefined) return given[module];
  const url = defaultUrl(module);
  return isNode() && url.protocol === 'file:' ? fromDisk(url) : url.href;
}

/** A `LoadError` for `what` ("the host .wasm", "the shared worker script"), with its cause. */
export function loadError(what, cause) {
  const why = cause instanceof Error ? cause.message : String(cause);
  return casinoRealtimeError('LoadError', `casino-realtime: ${what} could not be loaded: ${why}`, { cause });
}
