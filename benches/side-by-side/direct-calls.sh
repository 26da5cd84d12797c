#!/usr/bin/env bash
# What the Citus target's policy form costs on one server: the active organization's claim
# called directly in the policy (what Citus accepts) against the same call in a sub-select
# (an InitPlan, evaluated once per statement: the single-server form), on 1,000,000 rows of
# 1,000 organizations, with and without an index on the compared column. One transaction
# per read (SET LOCAL claims and role, count(*) of the organization's rows), pgbench -c1 -T10.
# Usage: benches/side-by-side/direct-calls.sh [PORT]   (as root; PostgreSQL's binaries on PATH)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${1:-55441}
# shellcheck source=benches/side-by-side/pg.sh
source "$HERE/pg.sh"
trap 'pg_stop "$PORT"' EXIT
pg_start "$PORT"
claim="coalesce(auth.session() #>> array['o','id'], auth.session() ->> 'org_id')"
psqlp "$PORT" <<SQL
create schema auth;
create function auth.session() returns jsonb language sql stable as
  \$\$ select coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb, 'null'::jsonb) \$\$;
create role authenticated nologin;
grant usage on schema auth to authenticated;
create table t_sub (id bigint, org_id text not null, title text);
insert into t_sub select g, 'org_' || (g % 1000), 'task ' || g from generate_series(1, 1000000) g;
create table t_direct as select * from t_sub;
alter table t_sub enable row level security;
alter table t_direct enable row level security;
create policy p on t_sub for select to authenticated using (org_id = (select $claim));
create policy p on t_direct for select to authenticated using (org_id = ($claim));
grant select on t_sub, t_direct to authenticated;
SQL
run() {
  local table=$1 script
  script=$(mktemp)
  cat >"$script" <<SQL
begin;
set local request.jwt.claims = '{"sub":"u","o":{"id":"org_7","rol":"admin"}}';
set local role authenticated;
select count(*) from $table;
commit;
SQL
  pgbench -n -h 127.0.0.1 -p "$PORT" -U postgres -f "$script" -T 10 -c 1 postgres 2>/dev/null |
    sed -n "s/^latency average = /$table: /p"
  rm -f "$script"
}
echo "with an index on org_id:"
psqlp "$PORT" -c "create index on t_sub (org_id); create index on t_direct (org_id); analyze;"
run t_sub; run t_direct
echo "without an index (a sequential scan: the direct call is evaluated per row):"
psqlp "$PORT" -c "drop index t_sub_org_id_idx; drop index t_direct_org_id_idx;"
run t_sub; run t_direct
