-- Supabase's own pieces that casino-realtime's SQL relies on, recreated in a plain PostgreSQL 15
-- for the tests and for `devserver --database-url` (never applied to a Supabase project, which
-- has them). Each definition is copied from Supabase's source as it is, with the file noted;
-- docs/supabase-database.md tells what was read and where (RT = supabase/realtime @ 833cf36c,
-- MIG = RT lib/realtime/tenants/repo/migrations/, PG = supabase/postgres @ 7db7e1a9,
-- AU = supabase/auth @ bc32168e). Idempotent: safe to run on a database that has them.

-- Roles (PG migrations/db/init-scripts/00000000000000-initial-schema.sql; inherit from PG
-- migrations/db/migrations/20230529180330_alter_api_roles_for_inherit.sql).
do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  -- RT priv/repo/tenant_db_dump_15.sql lines 1-11; MIG/20240401105812_create_realtime_admin_and_move_ownership.ex
  if not exists (select from pg_roles where rolname = 'supabase_realtime_admin') then
    create role supabase_realtime_admin noinherit nologin noreplication;
  end if;
end
$$;
alter role authenticated inherit;
alter role anon inherit;
alter role service_role inherit;
grant anon, authenticated, service_role to supabase_realtime_admin;
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- auth schema (PG migrations/db/init-scripts/00000000000001-auth-schema.sql) and its functions
-- as GoTrue defines them now (AU migrations/20220224000811_update_auth_functions.up.sql,
-- migrations/20220531120530_add_auth_jwt_function.up.sql).
create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

create or replace function auth.uid() returns uuid language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role() returns text language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.jwt() returns jsonb language sql stable as $$
  select coalesce(
      nullif(current_setting('request.jwt.claim', true), ''),
      nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

-- realtime schema (PG migrations/db/migrations/20211118015519_create-realtime-schema.sql;
-- grants: MIG/20231204144023_set_required_grants.ex).
create schema if not exists realtime;
grant usage on schema realtime to postgres, anon, authenticated, service_role;
grant all on schema realtime to supabase_realtime_admin;

-- realtime.messages, final shape (RT priv/repo/tenant_schema/realtime/tables/messages.sql; built
-- up by MIG/20240523004032, 20240919163303, 20241030150047 (partitioned by inserted_at),
-- 20241108114728 (uuid id), 20250905041441 (replay index), 20260514120000 (binary_payload)).
create table if not exists realtime.messages (
  topic          text                        not null,
  extension      text                        not null,
  payload        jsonb,
  event          text,
  private        boolean                     default false,
  updated_at     timestamp without time zone not null default now(),
  inserted_at    timestamp without time zone not null default now(),
  id             uuid                        not null default gen_random_uuid(),
  binary_payload bytea,
  constraint messages_payload_exclusive check (payload is null or binary_payload is null) not valid,
  constraint messages_pkey primary key (id, inserted_at)
) partition by range (inserted_at);
create index if not exists messages_inserted_at_topic_index on only realtime.messages
  using btree (inserted_at desc, topic) where extension = 'broadcast' and private is true;
alter table realtime.messages enable row level security;
alter table realtime.messages owner to supabase_realtime_admin;
grant insert, select, update on table realtime.messages to anon, authenticated, service_role;

-- realtime.topic() (RT priv/repo/tenant_schema/realtime/functions/topic.sql).
create or replace function realtime.topic() returns text language sql stable as $function$
select nullif(current_setting('realtime.topic', true), '')::text;
$function$;
alter function realtime.topic() owner to supabase_realtime_admin;

-- realtime.send, latest (MIG/20260605120000_rename_broadcast_send_warning.ex; RT
-- priv/repo/tenant_schema/realtime/functions/send.sql).
CREATE OR REPLACE FUNCTION realtime.send(payload jsonb, event text, topic text, private boolean DEFAULT true ) RETURNS void
AS $$
DECLARE
  generated_id uuid;
  final_payload jsonb;
BEGIN
  BEGIN
    generated_id := gen_random_uuid();
    -- Check if payload has an 'id' key, if not, add the generated UUID
    IF payload ? 'id' THEN
      final_payload := payload;
    ELSE
      final_payload := jsonb_set(payload, '{id}', to_jsonb(generated_id));
    END IF;
    -- Set the topic configuration
    EXECUTE format('SET LOCAL realtime.topic TO %L', topic);
    INSERT INTO realtime.messages (id, payload, event, topic, private, extension)
    VALUES (generated_id, final_payload, event, topic, private, 'broadcast');
  EXCEPTION
    WHEN OTHERS THEN
      RAISE WARNING 'WarnSendingBroadcastMessage: %', SQLERRM;
  END;
END;
$$
LANGUAGE plpgsql;
alter function realtime.send(jsonb, text, text, boolean) owner to supabase_realtime_admin;

-- Partitions: see partitions.sql (run after this file, and again every hour by the dev server).
