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
