// Generated from src/errors.rs (`BLESS=1 cargo test --test errors` writes it); do not edit.
import type { EventName } from './catalog.js';

/** The event name is not in the catalog. */
export interface UnknownEventError extends Error {
  name: "UnknownEventError";
  /** Always `unknown_event`. */
  reason: "unknown_event";
  /** The name given. */
  event: string;
  /** The channel it came on (for `onError`). */
  topic?: string;
}

/** The payload does not match the catalog. */
export interface InvalidEventError extends Error {
  name: "InvalidEventError";
  /** What is wrong. */
  reason: "not_json" | "not_an_object" | "wrong_event" | "missing_field" | "invalid_field" | "not_serializable";
  /** The event. */
  event: EventName;
  /** The payload field at fault (`pits[0].sequence`), for field errors. */
  field?: string;
  /** The channel it came on (for `onError`); dropped. */
  topic?: string;
}

/** A cache rule cannot be used. */
export interface InvalidRulesError extends Error {
  name: "InvalidRulesError";
  /** Always `invalid_rule`. */
  reason: "invalid_rule";
  /** Where in the rules object the problem is (`visit.created.extend[0].queryKey[1]`). */
  path: string;
}

/** A `CasinoRealtime` option is missing, of the wrong type or out of range. */
export interface InvalidOptionsError extends Error {
  name: "InvalidOptionsError";
  /** The option at fault (`url`, `batch.maxWaitMs`), or `options` for the object itself. */
  option: string;
}

/**
 * The server refused a channel (to `onError`): the app's token may not read it. It is joined
 * again on `setAuth()`, a new `subscribe()`, or after a long backoff.
 */
export interface ChannelDeniedError extends Error {
  name: "ChannelDeniedError";
  /** The channel. */
  topic: string;
  /** The server's words (`Unauthorized: ...`). */
  reason: string;
}

/**
 * No usable token (to `onError`): `getAccessToken` failed, gave nothing or the expired token,
 * or there is none and the token expired.
 */
export interface TokenError extends Error {
  name: "TokenError";
  /** Why. */
  reason: string;
}

/**
 * Sockets keep failing before they open, and the server, asked once why over HTTP (browsers
 * hide a refused upgrade's status), answered this (to `onError`, once until a socket opens).
 * The manager keeps retrying on its backoff.
 */
export interface ConnectionError extends Error {
  name: "ConnectionError";
  /** What the server's answer means: `unauthorized` (401: the `apiKey` is wrong, missing or expired), `forbidden` (403: Realtime refused the project or the connection), `not-found` (404: no such project), `rate-limited` (429: too many connections or joins), `server-error` (5xx), `websocket-blocked` (the server accepts the key, so something between blocks WebSockets), `unreachable` (no answer could be read: offline, DNS, TLS, or a gateway that sends no CORS headers), `refused` (any other status). */
  reason: "unauthorized" | "forbidden" | "not-found" | "rate-limited" | "server-error" | "websocket-blocked" | "unreachable" | "refused";
  /** The HTTP status; 0 when no answer could be read. */
  status: number;
}

/**
 * A frame could not be read or was over 5 MB (dropped), or a socket could not be opened (to
 * `onError`).
 */
export interface ProtocolError extends Error {
  name: "ProtocolError";
  /** What could not be read, or `cannot_open`. */
  reason: string;
  /** What opening the socket threw. */
  cause?: unknown;
}

/** An event named another casino (to `onError`); dropped. */
export interface ForeignCasinoError extends Error {
  name: "ForeignCasinoError";
  /** The channel it came on. */
  topic: string;
  /** The event. */
  event: EventName;
  /** The casino it named. */
  casinoId: string;
}

/** A callback threw (to `onError`); the manager carries on. */
export interface CallbackError extends Error {
  name: "CallbackError";
  /** Which callback. */
  callback: "onBatch" | "onStatus" | "logger";
  /** What it threw. */
  cause: unknown;
}

/** `subscribe()` after `close()`. */
export interface ClosedError extends Error {
  name: "ClosedError";
}

/** A synchronous call before the `.wasm` loaded: `await initCasinoRealtime()` first. */
export interface NotInitializedError extends Error {
  name: "NotInitializedError";
  /** The function called. */
  function: string;
}

/** The `.wasm` could not be loaded (offline, a wrong URL, a server that does not serve it). */
export interface LoadError extends Error {
  name: "LoadError";
  /** What loading threw. */
  cause: unknown;
}

/**
 * `casino-realtime/server`'s `publishEvent`: the database refused to publish (the caller's
 * role may not publish to the event's channels, `casino_realtime.emit` is not deployed or
 * not exposed, the payload failed the database's own check).
 */
export interface PublishError extends Error {
  name: "PublishError";
  /** The event. */
  event: EventName;
  /** The database's code: a SQLSTATE (`42501`: row-level security said no; `22023`: the catalog check) or PostgREST's (`PGRST202`: no such function in the exposed schemas). */
  reason: string;
  /** The error supabase-js returned. */
  cause: unknown;
}

/**
 * A warning (to `onError`): the session's host could not start on one rung, or was lost,
 * and the manager moved on (to a new shared worker, or down the ladder); it carries on.
 */
export interface HostError extends Error {
  name: "HostError";
  /** The rung that failed. */
  mode: "worker" | "leader" | "follower" | "local";
  /** What went wrong: the host could not start (its script), could not load its `.wasm`, did not answer the manager's hello, stopped answering, or refused the manager (another version of the package). */
  reason: "start" | "load" | "no-answer" | "lost" | "refused";
  /** What was thrown or said underneath. */
  cause?: unknown;
}

/**
 * What casino-realtime throws or reports: a real `Error` whose `name` says which kind, with
 * that kind's members. Narrow on `name`, or with `isCasinoRealtimeError(e, name)`. A wrong
 * argument type (an event name that is not a string, say) throws a plain `TypeError`.
 */
export type CasinoRealtimeError =
  | UnknownEventError
  | InvalidEventError
  | InvalidRulesError
  | InvalidOptionsError
  | ChannelDeniedError
  | TokenError
  | ConnectionError
  | ProtocolError
  | ForeignCasinoError
  | CallbackError
  | ClosedError
  | NotInitializedError
  | LoadError
  | PublishError
  | HostError;

/** The `name` of every error kind. */
export type CasinoRealtimeErrorName = CasinoRealtimeError['name'];

/** The error of kind `N`. */
export type CasinoRealtimeErrorOf<N extends CasinoRealtimeErrorName> = Extract<CasinoRealtimeError, { name: N }>;

/** Every kind's `name`. */
export declare const ERROR_NAMES: readonly CasinoRealtimeErrorName[];

/** Whether `value` is an error casino-realtime threw or reported (of kind `name`, when given). */
export declare function isCasinoRealtimeError(value: unknown): value is CasinoRealtimeError;
export declare function isCasinoRealtimeError<N extends CasinoRealtimeErrorName>(
  value: unknown,
  name: N,
): value is CasinoRealtimeErrorOf<N>;
