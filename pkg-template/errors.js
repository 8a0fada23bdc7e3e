// Generated from src/errors.rs (`BLESS=1 cargo test --test errors` writes it); do not edit.
export const ERROR_NAMES = Object.freeze([
  'UnknownEventError',
  'InvalidEventError',
  'InvalidRulesError',
  'InvalidOptionsError',
  'ChannelDeniedError',
  'TokenError',
  'ConnectionError',
  'ProtocolError',
  'ForeignCasinoError',
  'CallbackError',
  'ClosedError',
  'NotInitializedError',
  'LoadError',
  'PublishError',
  'HostError',
]);

// name -> the members it may carry.
const MEMBERS = new Map([
  ['UnknownEventError', ['reason', 'event', 'topic']],
  ['InvalidEventError', ['reason', 'event', 'field', 'topic']],
  ['InvalidRulesError', ['reason', 'path']],
  ['InvalidOptionsError', ['option']],
  ['ChannelDeniedError', ['topic', 'reason']],
  ['TokenError', ['reason']],
  ['ConnectionError', ['reason', 'status']],
  ['ProtocolError', ['reason', 'cause']],
  ['ForeignCasinoError', ['topic', 'event', 'casinoId']],
  ['CallbackError', ['callback', 'cause']],
  ['ClosedError', []],
  ['NotInitializedError', ['function']],
  ['LoadError', ['cause']],
  ['PublishError', ['event', 'reason', 'cause']],
  ['HostError', ['mode', 'reason', 'cause']],
]);

export function isCasinoRealtimeError(value, name) {
  if (!(value instanceof Error) || !MEMBERS.has(value.name)) return false;
  return name === undefined || value.name === name;
}

/** An error of kind `name` with `members` (each must be one the kind declares). */
export function casinoRealtimeError(name, message, members = {}) {
  const declared = MEMBERS.get(name);
  if (!declared) throw new TypeError(`casino-realtime: no error kind ${name}`);
  const error = new Error(message);
  error.name = name;
  for (const [key, value] of Object.entries(members)) {
    if (!declared.includes(key)) throw new TypeError(`casino-realtime: ${name} has no member ${key}`);
    if (value !== undefined) error[key] = value;
  }
  return error;
}
