-- Who may join (read) and publish to which private casino channel: RLS policies on
-- realtime.messages, which Realtime evaluates at join time (a probe row of the channel's topic
-- read as the caller's role) and on every publish (an INSERT checked as the caller's role). They
-- judge the row's own topic, not the `realtime.topic` setting, which stays set for the rest of a
-- transaction that published. "Publish" is any broadcast to the channel: casino_realtime.emit's
-- rows, and also a broadcast a signed-in client sends on it (`channel.send`), which skips the
-- catalog check; an app that wants events only from its server sets no role's publish (they then
-- publish as service_role).
-- Topics are `{casino_id}` (list feed) and `{casino_id}:{resource_id}` (detail view). A caller
-- must be `authenticated`, work for that casino, and hold a staff role the table allows;
-- `service_role` bypasses RLS (server code); `anon` matches no policy.
--
-- The caller's casino and staff role are read from the JWT, top level or under `app_metadata`
-- (`casino_id`, `staff_role`). An app that keeps them elsewhere replaces the two functions
-- casino_realtime.caller_casino_id() and casino_realtime.caller_staff_role(), for example with
-- a lookup in its staff table keyed by auth.uid():
--
--   create or replace function casino_realtime.caller_staff_role() returns text
--   language sql stable security definer set search_path = '' as $$
--     select s.role from public.staff s where s.user_id = auth.uid()
--   $$;

create schema if not exists casino_realtime;
grant usage on schema casino_realtime to authenticated, service_role;

-- A claim as a string: top level, else under app_metadata; NULL when absent or not a string.
create or replace function casino_realtime.claim(name text) returns text
language sql stable
set search_path = ''
as $$
  select case
    when auth.jwt() ? name then
      case when jsonb_typeof(auth.jwt() -> name) = 'string' then auth.jwt() ->> name end
    when jsonb_typeof(auth.jwt() -> 'app_metadata' -> name) = 'string' then
      auth.jwt() -> 'app_metadata' ->> name
  end
$$;

create or replace function casino_realtime.caller_casino_id() returns uuid
language sql stable
set search_path = ''
as $$
  select case when c ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
    then c::uuid end
  from casino_realtime.claim('casino_id') as c
$$;

create or replace function casino_realtime.caller_staff_role() returns text
language sql stable
set search_path = ''
as $$ select casino_realtime.claim('staff_role') $$;

-- Whether the caller may `read` (join) or `write` (publish to) `topic`.
create or replace function casino_realtime.may(topic text, access text) returns boolean
language sql stable
set search_path = ''
as $$
  with topic_parts as (
    select case when split_part(topic, ':', 1)
                  ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
             then split_part(topic, ':', 1)::uuid end as casino,
           position(':' in topic) > 0 as detail,
           position(':' in topic) > 0 and substr(topic, position(':' in topic) + 1) = '' as empty
  )
  select coalesce((
    select case when access = 'write' then p.publish
                when t.detail then p.read_detail
                else p.read_list end
    from topic_parts t,
    (values
{{POLICY}}
    ) as p(staff_role, read_list, read_detail, publish)
    where not t.empty
      and t.casino = casino_realtime.caller_casino_id()
      and p.staff_role = casino_realtime.caller_staff_role()
  ), false)
$$;

drop policy if exists "casino_realtime staff read their casino's channels" on realtime.messages;
create policy "casino_realtime staff read their casino's channels" on realtime.messages
  for select to authenticated
  using (realtime.messages.extension = 'broadcast' and casino_realtime.may(realtime.messages.topic, 'read'));

drop policy if exists "casino_realtime staff publish to their casino's channels" on realtime.messages;
create policy "casino_realtime staff publish to their casino's channels" on realtime.messages
  for insert to authenticated
  with check (realtime.messages.extension = 'broadcast' and casino_realtime.may(realtime.messages.topic, 'write'));
