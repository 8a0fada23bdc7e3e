//! TypeScript declarations for what the app writes: cache rules, typed per catalog event (a
//! placeholder names one of that event's scalar fields). They mirror the rule format the core
//! reads from JSON (`cache::template`); no Rust type has this shape, as the core turns rules into
//! templates. What the SDK hands out (actions, batches, statuses, stats) is declared by tsify on
//! the core's own types (`cache::CacheAction`, `batch::CacheBatch`, `session::SessionStats`, ...).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const RULES_TS: &str = r#"
import type { EventName, EventPayloads } from './catalog.js';

/** The fields of event `E` a query key may name: its scalars (possibly null), not `event`. */
export type RuleField<E extends EventName> = Exclude<{
  [K in keyof EventPayloads[E]]-?: NonNullable<EventPayloads[E][K]> extends string | number | boolean ? K : never;
}[keyof EventPayloads[E]], 'event'> & string;

/** `"{field}"`: a key element standing for a scalar field of event `E`. */
export type RulePlaceholder<E extends EventName> = `{${RuleField<E>}}`;

/** The first character of a literal key text: anything printable but `{`. */
type RuleKeyChar =
  | ' ' | '!' | '"' | '#' | '$' | '%' | '&' | "'" | '(' | ')' | '*' | '+' | ',' | '-' | '.' | '/'
  | '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | ':' | ';' | '<' | '=' | '>' | '?'
  | '@' | 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'N' | 'O'
  | 'P' | 'Q' | 'R' | 'S' | 'T' | 'U' | 'V' | 'W' | 'X' | 'Y' | 'Z' | '[' | '\\' | ']' | '^' | '_'
  | '`' | 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h' | 'i' | 'j' | 'k' | 'l' | 'm' | 'n' | 'o'
  | 'p' | 'q' | 'r' | 's' | 't' | 'u' | 'v' | 'w' | 'x' | 'y' | 'z' | '|' | '}' | '~';

/** A literal key element: text that does not start with `{` (the core also refuses braces
 *  inside it), a number, a boolean or null. */
export type RuleLiteral = '' | `${RuleKeyChar}${string}` | number | boolean | null;

/** A query key template for event `E`: literals and `"{field}"` placeholders. */
export type RuleKey<E extends EventName = EventName> = readonly (RuleLiteral | RulePlaceholder<E>)[];

/**
 * One action of a cache rule for event `E`; an action whose placeholder is null in an event is
 * skipped for that event.
 * - `invalidate`: invalidate the expanded key (`refetchType` defaults to `"active"`).
 * - `setQueryData`: set the expanded key to the value of `field`, or to the whole payload.
 * - `mergeQueryData`: merge `fields` of the payload (or all of it) into the cached object.
 */
export type RuleAction<E extends EventName = EventName> =
  | { type: 'invalidate'; queryKey: RuleKey<E>; refetchType?: RefetchType }
  | { type: 'setQueryData'; queryKey: RuleKey<E>; field?: Exclude<keyof EventPayloads[E], 'event'> & string }
  | { type: 'mergeQueryData'; queryKey: RuleKey<E>; fields?: readonly (Exclude<keyof EventPayloads[E], 'event'> & string)[] };

/** How an app changes one event's rules: `extend` adds after the defaults, `replace` swaps them
 *  (`[]` turns the event's actions off). One of the two. */
export type RuleChange<E extends EventName = EventName> =
  | { extend: readonly RuleAction<E>[]; replace?: never }
  | { replace: readonly RuleAction<E>[]; extend?: never };

/** Changes to the default cache rules, by catalog event name. */
export type RuleOverrides = { [E in EventName]?: RuleChange<E> };
"#;

/// `CasinoRealtime`'s options, inspection records and stats.
#[wasm_bindgen(typescript_custom_section)]
const REALTIME_TS: &str = r#"
/** Options of `new CasinoRealtime(options)`. */
export interface CasinoRealtimeOptions {
  /** The project URL (`https://<ref>.supabase.co`, as supabase-js takes it) or its realtime
   *  endpoint (`wss://<ref>.supabase.co/realtime/v1`); the dev server's works the same. */
  url: string;
  /** The project's anon/publishable key. */
  apiKey: string;
  /** The casino whose channels are joined; events naming another casino are dropped. */
  casinoId: string;
  /** The user's JWT for channel joins. */
  accessToken?: string;
  /** Called when a token is needed: none was given, the server said it expired, or its JWT
   *  `exp` has passed by the browser's clock before a rejoin. */
  getAccessToken?: () => Promise<string | null | undefined> | string | null | undefined;
  /** Private channels (RLS decides joins; replay after gaps). Default true. */
  private?: boolean;
  /** One call per batch of cache actions. */
  onBatch?: (batch: CacheBatch) => void;
  /** Status changes, and changes of `staleSince`: since when (ms since the epoch) the SDK cannot
   *  vouch that the cache reflects the server (`null`: it can). */
  onStatus?: (status: RealtimeStatus, detail: { staleSince: number | null }) => void;
  /** Dropped events, refused channels, token failures, errors thrown by callbacks. */
  onError?: (error: CasinoRealtimeError) => void;
  /** Coalescing window: quiet time (0-5000) and longest wait (1-10000), ms (250 / 500). */
  batch?: { debounceMs?: number; maxWaitMs?: number };
  /** Replay filter: identities kept (1-1000000) and for how long (1000-86400000 ms) (10000 / 600000). */
  dedup?: { capacity?: number; ttlMs?: number };
  /** Changes to the default cache rules. */
  rules?: RuleOverrides;
  /** Wire serializer. Default "2.0.0". */
  vsn?: "1.0.0" | "2.0.0";
  /** While the data may be stale (`staleSince` set) for this long, a `reason: "poll"` batch
   *  refetches what the channels feed (active queries), and again every period until fresh.
   *  Default 10000; 0 turns it off; otherwise 1000 to 86400000. */
  fallbackPollMs?: number;
  /** A resync (after a gap replay cannot cover) waits a random time up to this, so a floor whose
   *  terminals recover together spreads its refetches; the channel stays stale meanwhile.
   *  Default 2000; 0 to 60000. */
  resyncJitterMs?: number;
  /** The longest time from the start of a publishing transaction (when the database stamps a
   *  kept message) to its delivery: a replay after a gap starts this much before the gap, so a
   *  message committed during the gap by a longer transaction is replayed, wherever its producer
   *  stamped `at`. Larger covers longer transactions and re-sends more (deduplicated) messages
   *  per rejoin. Default 2000; 0 to 600000, and less than `dedup.ttlMs`. */
  maxDeliveryDelayMs?: number;
  /** How often the connection is checked with a heartbeat; one unanswered for as long means it
   *  is dead (realtime-js has the same option). Default 25000; 1000 to 60000. */
  heartbeatIntervalMs?: number;
  /** Keep the last events (what became of each) and batches (each key with the events that
   *  caused it) for `inspect()`: `true` keeps 200 of each, `{ events }` that many. Default off. */
  debug?: boolean | { events?: number };
  /** Told of every event and batch as it happens (realtime-js has a `logger` too): its kind, a
   *  sentence, and the record `inspect()` would show. */
  logger?: (kind: "event" | "batch", message: string, record: InspectedEvent | InspectedBatch) => void;
  /** Share one connection with the app's other tabs (same options, same user): in a
   *  `SharedWorker`, else in the tab elected leader (Web Locks + `BroadcastChannel`), else not.
   *  Default true; a manager with `debug` or a `logger` always runs its own session. */
  shareAcrossTabs?: boolean;
  /** Where the package's `worker.js` is served, for setups that do not bundle it from
   *  `new URL("./worker.js", import.meta.url)` (esbuild, Rollup without a plugin, a CDN copy).
   *  Default: that URL, as Vite, webpack 5 and Next.js rewrite it. */
  workerUrl?: string | URL;
}

/** One delivery in `inspect()`: where it came from and what became of it. */
export interface InspectedEvent {
  seq: number;
  /** When it arrived (ms since the epoch). */
  at: number;
  topic: string;
  event: string;
  fate: "applied" | "duplicate" | "foreign" | "malformed";
  /** Why the catalog refused it (`malformed`). */
  reason?: string;
  /** The keys its actions named (`applied`). */
  keys?: unknown[][];
  /** The batch its actions went out in. */
  batch?: number;
}

/** One batch in `inspect()`: each key it touched, and the events (or `resync`) behind it. */
export interface InspectedBatch {
  seq: number;
  at: number;
  reason: "window" | "resync" | "flush" | "poll";
  keys: { type: "invalidate" | "setQueryData" | "mergeQueryData"; queryKey: unknown[]; causes: string[] }[];
}

/** `inspect()`: the recent events and batches, oldest first. */
export interface RealtimeInspection {
  events: InspectedEvent[];
  batches: InspectedBatch[];
}

/** `stats()`: the manager's status, its counts and its channels. With a shared session
 *  (`shared: true`) the counts are the session's, for every tab it serves; `channels` and
 *  `staleSince` are this manager's. */
export type RealtimeStats = {
  status: RealtimeStatus;
  /** Where the session runs: a `SharedWorker`, this tab leading others, another tab (this one
   *  follows), or this tab alone. */
  mode: "worker" | "leader" | "follower" | "local";
  /** The counts are a session's shared with other tabs. */
  shared: boolean;
} & SessionStats;
/** The manager's status (`onStatus`, `status()`, `stats().status`). */
export type RealtimeStatus = Status;
/** A channel's state in `stats()`. */
export type RealtimeChannelState = ChannelState;
"#;
