# shellcheck shell=bash
# Sourced by scripts/test, scripts/test-citus, scripts/install-pg-session-jwt and
# scripts/install-citus; not run by itself.

# The version of Neon's pg_session_jwt pinned in third_party/ (see third_party/README.md).
PSJ_VERSION=0.5.0

# The version of Citus pinned in third_party/ (citus-$CITUS_VERSION.tar.gz, see
# third_party/README.md); rls-core/src/testing/citus.rs wants its minor version, 13.2.
CITUS_VERSION=13.2.2

# Prints the folder of the PostgreSQL server binaries that the tests start their throwaway
# cluster from, found the way rls-core/src/testing/cluster.rs (find_binaries) finds them, so
# keep the two in step: initdb, pg_ctl and postgres all on PATH (initdb's folder, links
# followed); else `pg_config --bindir` if it holds all three; else the newest
# /usr/lib/postgresql/<version>/bin that does. Returns 1 when there is none.
pg_server_bindir() {
  local initdb dir candidates=()
  if initdb=$(command -v initdb) && command -v pg_ctl >/dev/null && command -v postgres >/dev/null; then
    dirname "$(readlink -f "$initdb")"
    return 0
  fi
  if command -v pg_config >/dev/null && dir=$(pg_config --bindir 2>/dev/null); then
    candidates+=("$dir")
  fi
  while read -r dir; do
    candidates+=("/usr/lib/postgresql/$dir/bin")
  done < <(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null |
    grep -E '^[0-9]+(\.[0-9]+)*$' | sort -V -r)
  for dir in "${candidates[@]}"; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

# The major version of the server binaries in folder $1 (`postgres --version`).
pg_major() {
  "$1/postgres" --version | sed -nE 's/^[^0-9]*([0-9]+).*/\1/p'
}

# The pg_config of the server binaries in folder $1: theirs, else the one on PATH if it
# describes that folder. Prints nothing when there is none.
pg_config_of() {
  if [ -x "$1/pg_config" ]; then
    echo "$1/pg_config"
  elif command -v pg_config >/dev/null && [ "$(pg_config --bindir 2>/dev/null)" = "$1" ]; then
    command -v pg_config
  fi
}

# Whether the PostgreSQL of pg_config $1 has pg_session_jwt $PSJ_VERSION installed.
pg_has_session_jwt() {
  [ -f "$("$1" --pkglibdir)/pg_session_jwt.so" ] &&
    [ -f "$("$1" --sharedir)/extension/pg_session_jwt--$PSJ_VERSION.sql" ]
}

# Whether the PostgreSQL of pg_config $1 has Citus ${CITUS_VERSION%.*} installed: the check
# of rls-core/src/testing/citus.rs (citus.so, and citus.control's default_version 13.2-N).
pg_has_citus() {
  [ -f "$("$1" --pkglibdir)/citus.so" ] &&
    grep -q "^default_version = '${CITUS_VERSION%.*}-" "$("$1" --sharedir)/extension/citus.control" 2>/dev/null
}

# Prints "N s" / "N min N s" for a duration of $1 seconds.
duration() {
  if [ "$1" -ge 60 ]; then echo "$(($1 / 60)) min $(($1 % 60)) s"; else echo "$1 s"; fi
}
