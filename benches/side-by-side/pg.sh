# Sourced by the side-by-side scripts: a throwaway PostgreSQL cluster on 127.0.0.1:PORT, run
# as postgres (initdb and pg_ctl refuse root), and psql as its superuser.
pg_dir() { echo "${TMPDIR:-/tmp}/pgrls-bench-pg-$1"; }
pg_start() {
  local port=$1 dir; dir=$(pg_dir "$1")
  pg_stop "$port" >/dev/null 2>&1
  mkdir -p "$dir" && chown postgres "$dir"
  su postgres -c "initdb -D $dir/data -A trust -U postgres >$dir/initdb.log 2>&1 && pg_ctl -D $dir/data -o '-p $port -k $dir -c listen_addresses=127.0.0.1' -l $dir/log -w start >/dev/null"
}
pg_stop() {
  local dir; dir=$(pg_dir "$1")
  if [ -d "$dir/data" ]; then su postgres -c "pg_ctl -D $dir/data -m immediate stop" >/dev/null 2>&1 || true; fi
  rm -rf "$dir"
}
psqlp() { local port=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"; }
