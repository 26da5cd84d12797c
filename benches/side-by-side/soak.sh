#!/usr/bin/env bash
# A soak of the orgs service (orgs-server), not run in CI: does memory, open files or the
# database connections creep under sustained load? On the same throwaway database as
# orgs-dashboard.sh (pg.sh, orgs-common.sh: 1,000 organizations, 10,000 projects, 1,000,000
# tasks) and with the same dev-issuer tokens, wrk -t1 -c$CONNS for $DUR, a random token per
# request, 90 % GET /dashboard, 5 % GET /orgs, 5 % POST /tasks/claim (soak-mix.lua).
#
# Every $EVERY seconds: the service's RSS (VmRSS), open file descriptors, threads; the login
# role's connections in pg_stat_activity; the pool's lines of /metrics (open, idle, sessions
# waiting) and /ready's status. At the end: the samples, first / last / max of RSS and fds, the
# wrk summary, and a verdict: flat when the last RSS is within 10 % of the RSS at minute 2 and
# the last fd count within ±4 of minute 2's.
#
# Run from the project root, as root:  bash benches/side-by-side/soak.sh     (DUR=600s)
# Env: DUR (600s), CONNS (64), EVERY (15), PORT (55490, PostgreSQL), TOKENS (1000), RUST_POOL
# (the service's DATABASE_POOL_SIZE; unset: its default, twice the cores).
# Needs what orgs-dashboard.sh needs without a peer.
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=$PWD/benches/side-by-side
source "$HERE/pg.sh"
source "$HERE/orgs-common.sh"

PORT=${PORT:-55490}; DUR=${DUR:-600s}; CONNS=${CONNS:-64}; EVERY=${EVERY:-15}; NTOKENS=${TOKENS:-1000}
ISSUER_PORT=18493; RUST_PORT=18492
W=$(mktemp -d)
cleanup() {
  for p in ${PIDS:-}; do kill "$p" 2>/dev/null || true; done
  pg_stop "$PORT"
  echo "logs in $W"
}
trap cleanup EXIT
PIDS=""

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
echo "start: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores,$(uptime | sed 's/.*,  *load/ load/')"
orgs_build
orgs_dev_issuer $ISSUER_PORT
orgs_dev_tokens "$NTOKENS" >"$W/tokens.txt"
echo "$(wc -l <"$W/tokens.txt") tokens, issuer $ISS"
orgs_db
orgs_server $RUST_PORT
URL=http://127.0.0.1:$RUST_PORT
tok=$(head -n 1 "$W/tokens.txt")
for i in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" $URL/dashboard || true)" = 200 ] && break
  [ "$i" = 100 ] && { echo "GET /dashboard does not answer 200"; exit 1; }
  sleep 0.2
done
echo "orgs-server pid $RUST, pool ${RUST_POOL:-default (2 x cores)}; wrk -t1 -c$CONNS -d$DUR, a sample every ${EVERY}s"

# One sample: seconds since the start, RSS (kB), fds, threads, the login role's backends, the
# pool's open / idle connections and waiting sessions, /ready's status.
sample() {
  local m
  m=$(curl -s --max-time 5 $URL/metrics || true)
  printf '%s %s %s %s %s %s %s %s %s\n' $(($(date +%s) - T0)) \
    "$(awk '/^VmRSS/ {print $2}' /proc/$RUST/status)" "$(ls /proc/$RUST/fd | wc -l)" \
    "$(awk '/^Threads/ {print $2}' /proc/$RUST/status)" \
    "$(psqlp "$PORT" -Atc "select count(*) from pg_stat_activity where usename = 'app'")" \
    "$(awk '/^db_pool_connections\{.*open/ {print $2}' <<<"$m")" \
    "$(awk '/^db_pool_connections\{.*idle/ {print $2}' <<<"$m")" \
    "$(awk '/^db_pool_sessions_waiting/ {print $2}' <<<"$m")" \
    "$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' $URL/ready || true)"
}
T0=$(date +%s)
sample >"$W/before.txt"   # idle, before the load
T0=$(date +%s)
wrk -t1 -c"$CONNS" -d"$DUR" -s "$HERE/soak-mix.lua" $URL/dashboard -- "$W/tokens.txt" >"$W/wrk.txt" 2>&1 & WRK=$!
PIDS="$PIDS $WRK"
: >"$W/samples.txt"
k=0
while kill -0 $WRK 2>/dev/null; do
  sample >>"$W/samples.txt"
  k=$((k + 1)); s=$((T0 + k * EVERY - $(date +%s)))
  while [ "$s" -gt 0 ] && kill -0 $WRK 2>/dev/null; do sleep 1; s=$((s - 1)); done
done
wait $WRK || true
sleep 2; sample >"$W/after.txt"   # idle again

echo "samples: idle before the load (t = before), under load, idle after (t = after):"
awk 'FILENAME ~ /before/ { $1 = "before" } FILENAME ~ /after/ { $1 = "after" } BEGIN { printf "%6s %10s %5s %7s %8s %9s %9s %7s %5s\n", "t (s)", "RSS (kB)", "fds", "threads", "pg conns", "pool open", "pool idle", "waiting", "ready" }
     { printf "%6s %10s %5s %7s %8s %9s %9s %7s %5s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$W/before.txt" "$W/samples.txt" "$W/after.txt"
# Under load; the reference is the first sample at or after minute 2 (or the first, in a short run).
awk -v rss_tol=10 -v fd_tol=4 '
  { t[NR] = $1; rss[NR] = $2; fd[NR] = $3; if ($2 > mr) mr = $2; if ($3 > mf) mf = $3
    if (!ref && $1 >= 120) ref = NR }
  END { if (!ref) ref = 1
    printf "RSS first %d kB, at %d s %d kB, last %d kB, max %d kB\n", rss[1], t[ref], rss[ref], rss[NR], mr
    printf "fds first %d, at %d s %d, last %d, max %d\n", fd[1], t[ref], fd[ref], fd[NR], mf
    d = (rss[NR] - rss[ref]) / rss[ref] * 100
    printf "memory: %s (last RSS %+.1f %% of the RSS at %d s; flat within %d %%)\n", (d <= rss_tol && d >= -rss_tol ? "flat" : "NOT flat"), d, t[ref], rss_tol
    printf "open files: %s (last %d against %d at %d s; flat within +-%d)\n", (fd[NR] - fd[ref] <= fd_tol && fd[ref] - fd[NR] <= fd_tol ? "flat" : "NOT flat"), fd[NR], fd[ref], t[ref], fd_tol }' "$W/samples.txt"
read -r _ b_rss b_fd _ b_pg _ <"$W/before.txt"; read -r _ a_rss a_fd _ a_pg _ <"$W/after.txt"
echo "idle before / after the load: RSS $b_rss / $a_rss kB, fds $b_fd / $a_fd, the login role's backends $b_pg / $a_pg"
awk '/^RESULT/ { n = split($0, kv, " "); for (i = 2; i <= n; i++) { split(kv[i], a, "="); v[a[1]] = a[2] }
       printf "wrk: %d requests, %.1f req/s, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms, errors %d (connect %d, read %d, write %d, timeout %d), non-2xx %d\n",
         v["requests"], v["rps"], v["p50_us"] / 1000, v["p90_us"] / 1000, v["p99_us"] / 1000, v["max_us"] / 1000,
         v["err_connect"] + v["err_read"] + v["err_write"] + v["err_timeout"], v["err_connect"], v["err_read"], v["err_write"], v["err_timeout"], v["err_status"] }
     /^STATUS/ { sub(/^STATUS /, "wrk answers by status: "); print }' "$W/wrk.txt"
grep -q '^RESULT' "$W/wrk.txt" || { echo "wrk printed no summary:"; cat "$W/wrk.txt"; }
echo "orgs-server log: $(grep -c . "$W/rust.log" || true) lines ($(grep -ci 'error\|panic' "$W/rust.log" || true) with error or panic)"
echo "end: $(date -u '+%Y-%m-%d %H:%M UTC'),$(uptime | sed 's/.*,  *load/ load/')"
