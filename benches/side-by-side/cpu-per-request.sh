#!/usr/bin/env bash
# Where the time of one `GET /todos` goes: CPU seconds per request of the service and of
# PostgreSQL (all its processes), for todos-server and for the Node + Drizzle peer, each under
# wrk on its own (not interleaved: CPU per request does not depend on what else runs, much).
# Run from the project root, as root:  bash benches/side-by-side/cpu-per-request.sh
# Env: PEER (required: the folder of the Node + Drizzle peer, with its server.mjs, schema.sql,
# gen-tokens-clerk.mjs, pick-token.lua and package.json), DUR (10s), CONNS (16), PORT (55490).
set -euo pipefail
PEER=$(cd "${PEER:?set PEER to the folder of the Node + Drizzle todos peer (server.mjs, schema.sql, gen-tokens-clerk.mjs, pick-token.lua, package.json)}" && pwd)

source "$(dirname "$0")/pg.sh"
PORT=${PORT:-55490}; DUR=${DUR:-10s}; CONNS=${CONNS:-16}
ISS=https://clerk.p3.invalid; AZP=https://app.p3.invalid
W=$(mktemp -d)
cleanup() { for p in ${PIDS:-}; do kill "$p" 2>/dev/null || true; done; pg_stop "$PORT"; }
trap cleanup EXIT
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build -q --release --bin todos-server
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/todos-server
cp "$PEER"/{server.mjs,pick-token.lua,gen-tokens-clerk.mjs,package.json,schema.sql} "$W"/
(cd "$W" && npm install --silent --no-audit --no-fund >/dev/null 2>&1 && node gen-tokens-clerk.mjs 1000 . $ISS $AZP >/dev/null)
pg_start $PORT
psqlp $PORT -c "create database p3bench" && psqlp $PORT -d p3bench -f "$W/schema.sql" >/dev/null
PIDS=""; DB_URL=postgres://app@127.0.0.1:$PORT/p3bench
(cd "$W/jwks" && exec python3 -m http.server 18490 --bind 127.0.0.1 >/dev/null 2>&1) & PIDS="$PIDS $!"
for i in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1:18490/.well-known/jwks.json && break; sleep 0.2; done
(cd "$W" && MODE=rls PORT=18491 POOL_SIZE=16 NODE_ENV=production PUBLIC_KEY=public.pem \
   DATABASE_URL=$DB_URL exec node server.mjs >"$W/node.log" 2>&1) & NODE=$!; PIDS="$PIDS $NODE"
DATABASE_URL=$DB_URL CLERK_FRONTEND_API=$ISS ALLOWED_ORIGINS=$AZP \
  JWKS_URL=http://127.0.0.1:18490/.well-known/jwks.json BIND=127.0.0.1:18492 RUST_LOG=warn \
  "$BIN" >"$W/rust.log" 2>&1 & RUST=$!; PIDS="$PIDS $RUST"
sleep 2
tok=$(head -1 "$W/tokens.txt")
for p in 18491 18492; do
  for i in $(seq 50); do curl -sf -o /dev/null -H "Authorization: Bearer $tok" http://127.0.0.1:$p/todos && break; sleep 0.2; done
done
# utime + stime of the given pids, in clock ticks.
ticks() { local t=0; for p in "$@"; do [ -r /proc/$p/stat ] && t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat))); done; echo $t; }
# This cluster's processes only: its postmaster and the backends it forked.
pg_pids() { local pm; pm=$(head -n 1 "$(pg_dir $PORT)/data/postmaster.pid"); echo "$pm $(pgrep -P "$pm" | tr '\n' ' ')"; }
HZ=$(getconf CLK_TCK)
for p in 18491 18492; do
  name=$([ $p = 18491 ] && echo node-drizzle || echo rls-axum); svc=$([ $p = 18491 ] && echo $NODE || echo $RUST)
  wrk -t1 -c$CONNS -d3s -s "$W/pick-token.lua" http://127.0.0.1:$p/todos -- "$W/tokens.txt" >/dev/null   # warm-up
  pgs=$(pg_pids); s0=$(ticks $svc); g0=$(ticks $pgs)
  if [ -n "${PERF:-}" ] && [ $p = 18492 ]; then
    # The whole machine: the service, PostgreSQL's backends, wrk and the kernel under them.
    perf record -q -e cpu-clock -F 2000 -g -a -o "$W/perf.data" -- sleep 5 >/dev/null 2>&1 &
  fi
  line=$(wrk -t1 -c$CONNS -d$DUR --latency -s "$W/pick-token.lua" http://127.0.0.1:$p/todos -- "$W/tokens.txt" | grep RESULT)
  s1=$(ticks $svc); g1=$(ticks $pgs)
  n=$(echo "$line" | sed -E 's/.*requests=([0-9]+).*/\1/')
  awk -v n=$n -v s=$((s1 - s0)) -v g=$((g1 - g0)) -v hz=$HZ -v name=$name -v line="$line" 'BEGIN {
    printf "%s c='"$CONNS"' %s\n  cpu per request: service %.0f us, postgres %.0f us\n", name, line, s/hz/n*1e6, g/hz/n*1e6 }'
done
if [ -n "${PERF:-}" ]; then
  sleep 1
  perf report -i "$W/perf.data" --no-children --sort comm -g none --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 12 || true
  perf report -i "$W/perf.data" --no-children --sort comm,dso,symbol -g none --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 80 || true
fi
