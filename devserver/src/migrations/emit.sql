-- casino_realtime.emit(event, payload): publishes one INT-002 catalog event inside the caller's
-- transaction, as private Broadcast from Database messages (rows of realtime.messages) on every
-- channel the catalog lists for it, after checking the payload the way the SDK checks it.
--
-- Why `at` defaults to now(): the rows' inserted_at is now() too (written here in UTC, as
-- Realtime's replay reads it, whatever the session's TimeZone), the start of the publishing
-- transaction, and a row becomes visible (is delivered, can be replayed) only at commit. A client
-- that missed messages asks Realtime to replay from the `at` of the last one it saw, less its
-- `maxDeliveryDelayMs`; with `at` = now() the two clocks are one, so that margin has to cover only
-- how much longer one publishing transaction runs than another. An `at` taken later (at commit,
-- or from another machine's clock) uses up the margin by that much more.
--
-- Why not realtime.send: it turns every failure (a missing partition, a refused RLS check) into
-- a WARNING and returns, so a producer would lose the event without knowing. emit inserts the
-- same row itself (same columns, same `SET LOCAL realtime.topic`) and lets errors raise.
--
-- Every function sets an empty search_path (all names are qualified), as Supabase's Security
-- Advisor asks.

create schema if not exists casino_realtime;
grant usage on schema casino_realtime to authenticated, service_role;

-- The catalog: each event's fields (type, nullable, the SDK's wording of what is expected) and
-- channels, in the catalog's own notation.
create or replace function casino_realtime.catalog() returns jsonb
language sql immutable parallel safe
set search_path = ''
as $catalog$ select $json${{CATALOG}}$json$::jsonb $catalog$;

-- A short rendering of a bad value for an error message, cut at `max` characters as the SDK cuts
-- it (40; 60 for a wrong `event`). Objects and arrays are written as PostgreSQL writes jsonb
-- (`{"a": 1}`); scalars as the SDK writes them.
create or replace function casino_realtime.got(value jsonb, max int default 40) returns text
language sql immutable parallel safe
set search_path = ''
as $$
  select case when length(value::text) > max then left(value::text, max) || '…' else value::text end
$$;

create or replace function casino_realtime.is_date(text) returns boolean
language plpgsql immutable parallel safe
set search_path = ''
as $$
declare
  m text[] := regexp_match($1, '^([0-9]{4})-([0-9]{2})-([0-9]{2})');
  y int; mo int; d int;
begin
  if m is null then return false; end if;
  y := m[1]::int; mo := m[2]::int; d := m[3]::int;
  return mo between 1 and 12 and d >= 1 and d <= case
    when mo = 2 and y % 4 = 0 and (y % 100 <> 0 or y % 400 = 0) then 29
    when mo = 2 then 28
    when mo in (4, 6, 9, 11) then 30
    else 31 end;
end
$$;

-- RFC 3339 with an offset, as the SDK reads it: `T`, `t` or a space; seconds and fraction
-- optional; `Z` or `+01`, `+0100`, `+01:00`.
create or replace function casino_realtime.is_timestamp(text) returns boolean
language plpgsql immutable parallel safe
set search_path = ''
as $$
declare
  m text[] := regexp_match($1,
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,][0-9]+)?)?(?:[Zz]|[+-]([0-9]{2})(?::?([0-9]{2}))?)$');
begin
  return m is not null and casino_realtime.is_date(left($1, 10))
    and m[1]::int <= 23 and m[2]::int <= 59 and coalesce(m[3]::int, 0) <= 60
    and coalesce(m[4]::int, 0) <= 23 and coalesce(m[5]::int, 0) <= 59;
end
$$;

-- An integer JavaScript represents exactly.
create or replace function casino_realtime.is_safe_integer(value jsonb) returns boolean
language sql immutable parallel safe
set search_path = ''
as $$
  select jsonb_typeof(value) = 'number'
    and (value::text)::numeric = trunc((value::text)::numeric)
    and abs((value::text)::numeric) <= 9007199254740991
$$;

create or replace function casino_realtime.refuse(event text, path text, expected text, value jsonb)
returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  if value is null then
    raise exception using errcode = '22023', detail = 'missing_field',
      message = format('%s: field ''%s'' is required', event, path);
  end if;
  raise exception using errcode = '22023', detail = 'invalid_field',
    message = format('%s: field ''%s'' must be %s, got %s', event, path, expected,
                     casino_realtime.got(value));
end
$$;

-- Checks one member (`value` is SQL NULL when the member is absent) against its kind.
create or replace function casino_realtime.check_value(event text, path text, kind jsonb, value jsonb)
returns void
language plpgsql immutable
set search_path = ''
as $$
declare
  ok boolean;
  member record;
  item record;
  field jsonb;
begin
  if value is null or jsonb_typeof(value) = 'null' then
    if (kind ->> 'nullable')::boolean then return; end if;
    if value is null then perform casino_realtime.refuse(event, path, null, null); end if;
  end if;
  case kind ->> 'type'
    when 'uuid' then
      ok := jsonb_typeof(value) = 'string' and value #>> '{}' ~
        '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
    when 'timestamp' then
      ok := jsonb_typeof(value) = 'string' and casino_realtime.is_timestamp(value #>> '{}');
    when 'date' then
      ok := jsonb_typeof(value) = 'string' and value #>> '{}' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
        and casino_realtime.is_date(value #>> '{}');
    when 'integer' then
      ok := casino_realtime.is_safe_integer(value);
    when 'number' then
      ok := jsonb_typeof(value) = 'number';
    when 'text' then
      ok := jsonb_typeof(value) = 'string';
    when 'enum' then
      ok := jsonb_typeof(value) = 'string' and kind -> 'values' ? (value #>> '{}');
    when 'counts' then
      ok := jsonb_typeof(value) = 'object';
      if ok then
        for member in select * from jsonb_each(value) loop
          if not casino_realtime.is_safe_integer(member.value) then
            perform casino_realtime.refuse(event, path || '[' || to_jsonb(member.key)::text || ']',
                                           'an integer', member.value);
          end if;
        end loop;
      end if;
    when 'records' then
      ok := jsonb_typeof(value) = 'array';
      if ok then
        for item in select * from jsonb_array_elements(value) with ordinality as e(v, n) loop
          if jsonb_typeof(item.v) <> 'object' then
            perform casino_realtime.refuse(event, path || '[' || item.n - 1 || ']', 'an object', item.v);
          end if;
          for field in select * from jsonb_array_elements(kind -> 'fields') loop
            perform casino_realtime.check_value(event,
              path || '[' || item.n - 1 || '].' || (field ->> 'name'), field, item.v -> (field ->> 'name'));
          end loop;
        end loop;
      end if;
    else
      raise exception 'casino_realtime: unknown field type %', kind ->> 'type';
  end case;
  if not ok then
    perform casino_realtime.refuse(event, path, kind ->> 'expected', value);
  end if;
end
$$;

-- The payload as it will be published: checked in the SDK's order (an object; its `event`
-- member, if any, names this event; then every field in catalog order), with `event` and `at`
-- (the transaction's time) filled in when absent.
create or replace function casino_realtime.check(event text, payload jsonb) returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  spec jsonb := casino_realtime.catalog() -> event;
  message jsonb := payload;
  field jsonb;
begin
  if spec is null then
    raise exception using errcode = '22023', detail = 'unknown_event',
      message = format('unknown event %s: not in the event catalog', to_jsonb(event)::text);
  end if;
  if payload is null or jsonb_typeof(payload) <> 'object' then
    raise exception using errcode = '22023', detail = 'not_an_object',
      message = format('%s: payload must be an object, got %s', event,
                       casino_realtime.got(coalesce(payload, 'null')));
  end if;
  if payload ? 'event' and payload -> 'event' <> to_jsonb(event) then
    raise exception using errcode = '22023', detail = 'wrong_event',
      message = format('%s: payload''s ''event'' member says %s', event,
                       casino_realtime.got(payload -> 'event', 60));
  end if;
  if not message ? 'event' then
    message := message || jsonb_build_object('event', event);
  end if;
  if not message ? 'at' then
    message := message || jsonb_build_object('at',
      to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'));
  end if;
  for field in select * from jsonb_array_elements(spec -> 'fields') loop
    perform casino_realtime.check_value(event, field ->> 'name', field, message -> (field ->> 'name'));
  end loop;
  return message;
end
$$;

-- The topics of a checked message: the catalog's channels with its ids put in (lower case, as
-- the SDK joins them).
create or replace function casino_realtime.topics(event text, message jsonb) returns text[]
language sql immutable parallel safe
set search_path = ''
as $$
  select coalesce(array_agg(
    case
      when channel = '{casino_id}' then lower(message ->> 'casino_id')
      when channel like '{casino_id}:{%}' then lower(message ->> 'casino_id') || ':'
        || lower(message ->> substring(channel from '^\{casino_id\}:\{(.*)\}$'))
      else channel
    end order by n), '{}')
  from jsonb_array_elements_text(casino_realtime.catalog() -> event -> 'channels')
    with ordinality as c(channel, n)
$$;

create or replace function casino_realtime.emit(event text, payload jsonb) returns uuid[]
language plpgsql volatile
set search_path = ''
as $$
declare
  message jsonb := casino_realtime.check(emit.event, emit.payload);
  topic text;
  id uuid;
  ids uuid[] := '{}';
begin
  foreach topic in array casino_realtime.topics(emit.event, message) loop
    id := gen_random_uuid();
    -- What realtime.send sets: INSERT policies read the topic through realtime.topic().
    perform set_config('realtime.topic', topic, true);
    insert into realtime.messages (id, payload, event, topic, private, extension, inserted_at, updated_at)
    values (id, message, emit.event, topic, true, 'broadcast', now() at time zone 'UTC',
            now() at time zone 'UTC');
    ids := ids || id;
  end loop;
  return ids;
end
$$;

comment on function casino_realtime.emit(text, jsonb) is
  'Publishes one INT-002 catalog event (checked as the SDK checks it; `event` and `at` = now() '
  'filled in when absent) as private broadcasts on every channel the catalog lists for it, in '
  'the caller''s transaction; returns the realtime.messages ids, one per channel.';

revoke execute on function casino_realtime.emit(text, jsonb) from public;
grant execute on function casino_realtime.emit(text, jsonb) to authenticated, service_role;
