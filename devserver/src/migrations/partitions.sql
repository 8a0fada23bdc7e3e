-- Partitions: Realtime makes them at runtime, each UTC day from yesterday to today + 3
-- (RT lib/realtime/tenants.ex, create_messages_partitions/1); run again to roll forward.
do $$
declare
  day date;
begin
  for day in select generate_series((now() at time zone 'utc')::date - 1,
                                    (now() at time zone 'utc')::date + 3, interval '1 day')::date loop
    execute format(
      'create table if not exists realtime.%I partition of realtime.messages for values from (%L) to (%L)',
      'messages_' || to_char(day, 'YYYY_MM_DD'), day, day + 1);
    execute format('alter table realtime.%I owner to supabase_realtime_admin',
      'messages_' || to_char(day, 'YYYY_MM_DD'));
  end loop;
end
$$;
