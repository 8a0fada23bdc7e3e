// The cache planner (`planCacheActions`, `CacheRules`): its own small .wasm, loaded the first
// time a page asks (`initCasinoRealtime()`, `invalidateByDomainEvent`), so a page that only runs
// managers never fetches it. Once loaded, planning is synchronous.
import { casinoRealtimeError } from './errors.js';
import { loadError, sourceOf } from './sources.js';

let glue = null;
let loading = null;

/** Loads the planner once; a failed load rejects with a `LoadError` and may be tried again. */
export function loadPlanner() {
  loading ??= import('./casino_realtime_plan.js')
    .then(async (module) => {
      await module.default({ module_or_path: await sourceOf('plan') });
      glue = module;
    })
    .catch((cause) => {
      loading = null;
      throw cause?.name === 'LoadError' ? cause : loadError('the planner .wasm', cause);
    });
  return loading;
}

function loaded(name) {
  if (glue) return glue;
  throw casinoRealtimeError('NotInitializedError', `casino-realtime: ${name}() needs the planner; await initCasinoRealtime() first`, { function: name });
}

/** Validates an event and returns its cache actions (default rules, or `rules`). Synchronous. */
export function planCacheActions(event, payload, rules) {
  const { planCacheActions: plan } = loaded('planCacheActions');
  return rules ? rules.plan(event, payload) : plan(event, payload);
}

/** The default rules with an app's changes, validated once when constructed. */
export class CacheRules {
  #rules;

  constructor(overrides) {
    this.#rules = new (loaded('CacheRules').CacheRules)(overrides);
  }

  /** As `planCacheActions`, with these rules. */
  plan(event, payload) {
    return this.#rules.plan(event, payload);
  }

  /** Releases the rules' wasm memory now instead of when they are garbage-collected. */
  free() {
    this.#rules.free();
  }
}
