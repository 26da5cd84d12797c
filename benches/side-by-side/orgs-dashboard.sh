#!/usr/bin/env bash
# GET /dashboard of the orgs service (orgs-server), and side by side with the Node + Drizzle
# peer when PEER names its folder: both on the same throwaway PostgreSQL database built from
# examples/orgs/migrations and orgs-seed.sql (1,000 organizations, 10,000 users, 10,000
# projects, 1,000,000 tasks), with the same RS256 tokens, on this machine.
#
# First each service's answers for 30 tokens are compared with the dashboard computed by psql
# without policies (orgs-check-dashboard.py; also the peer's check-dashboard.py when PEER has
# one): a service that answers differently is reported and not measured. Then wrk -t1 at each
# of CONNS connections, ROUNDS times, the services interleaved (round, connections, service),
# each request with a token picked at random (orgs-random-token.lua). One line per run:
# req/s, p50/p90/p99 latency, errors, CPU per request of the service, of PostgreSQL (all of
# this cluster's processes) and of wrk, and the share of the cores that other processes used
# meanwhile ("others": another job on the machine).
#
# Run from the project root, as root:
#   PEER=<folder of the Node + Drizzle orgs peer> bash benches/side-by-side/orgs-dashboard.sh
#   bash benches/side-by-side/orgs-dashboard.sh          # the Rust service alone
# Env: PEER (optional: a folder with server.mjs, gen-tokens-orgs.mjs and package.json), ROUNDS (3),
# DUR (15s), CONNS ("16 64"), PORT (55480, PostgreSQL), TOKENS (1000), RUST_POOL (the service's
# DATABASE_POOL_SIZE; unset: its default, twice the cores), NODE_POOL (16, the peer's pool).
# Tokens: with PEER, the peer's gen-tokens-orgs.mjs (Clerk v2 session tokens; the Rust service
# reads its JWKS from python3 -m http.server on 127.0.0.1); without, the repository's
# dev-issuer (cargo run -p service-kit --bin dev-issuer), by the same rule: user_i for a random
# i in 1..10000, 70 % naming the user's first organization as the active one (o.id), the rest
# none (then the dashboard spans all of the user's organizations).
# Needs: cargo, psql/initdb/pg_ctl and a `postgres` user, python3, curl; wrk (installed with
# apt when missing); node and npm with PEER.
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=$PWD/benches/side-by-side
if [ -n "${PEER:-}" ]; then PEER=$(cd "$PEER" && pwd); fi

source "$HERE/pg.sh"
source "$HERE/orgs-common.sh"

PORT=${PORT:-55480}; ROUNDS=${ROUNDS:-3}; DUR=${DUR:-15s}; CONNS=${CONNS:-"16 64"}
NTOKENS=${TOKENS:-1000}; NODE_POOL=${NODE_POOL:-16}
JWKS_PORT=18480; NODE_PORT=18481; RUST_PORT=18482; ISSUER_PORT=18483
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

# Tokens, and where the Rust service finds the key.
if [ -n "${PEER:-}" ]; then
  ISS=https://clerk.orgs-bench.invalid; AZP=https://app.orgs-bench.invalid
  cp "$PEER"/{server.mjs,gen-tokens-orgs.mjs,package.json} "$W"/
  (cd "$W" && npm install --silent --no-audit --no-fund >"$W/npm.log" 2>&1 \
     && node gen-tokens-orgs.mjs "$NTOKENS" . $ISS $AZP >/dev/null)
  JWKS=http://127.0.0.1:$JWKS_PORT/.well-known/jwks.json
  (cd "$W/jwks" && exec python3 -m http.server $JWKS_PORT --bind 127.0.0.1 >/dev/null 2>&1) & PIDS="$PIDS $!"
  orgs_wait_jwks
else
  orgs_dev_issuer $ISSUER_PORT
  orgs_dev_tokens "$NTOKENS" >"$W/tokens.txt"   # by the seed's membership rule (orgs-common.sh)
fi
echo "$(wc -l <"$W/tokens.txt") tokens, issuer $ISS"

# The database: migrations, the login role `app`, the seed (orgs-common.sh).
orgs_db

declare -A NAME SVC
if [ -n "${PEER:-}" ]; then
  (cd "$W" && PORT=$NODE_PORT POOL_SIZE=$NODE_POOL NODE_ENV=production PUBLIC_KEY=public.pem DATABASE_URL=$DB_URL \
     exec node server.mjs >"$W/node.log" 2>&1) & NODE=$!; PIDS="$PIDS $NODE"
  NAME[$NODE_PORT]=node-drizzle; SVC[$NODE_PORT]=$NODE
fi
orgs_server $RUST_PORT
NAME[$RUST_PORT]=rls-orgs; SVC[$RUST_PORT]=$RUST
PORTS="$RUST_PORT"; [ -n "${PEER:-}" ] && PORTS="$NODE_PORT $RUST_PORT"
echo "pools: rls-orgs ${RUST_POOL:-default (2 x cores)}$([ -n "${PEER:-}" ] && echo ", node-drizzle $NODE_POOL") connections"

# Correctness first.
tok=$(head -n 1 "$W/tokens.txt")
measured=""; failed=""
for p in $PORTS; do
  code=000
  for i in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" http://127.0.0.1:$p/dashboard || true)
    [ "$code" = 200 ] && break; sleep 0.2
  done
  ok=1
  if [ "$code" != 200 ]; then
    echo "${NAME[$p]}: GET /dashboard answers $code"; ok=0
  else
    python3 "$HERE/orgs-check-dashboard.py" "$W/tokens.txt" 30 http://127.0.0.1:$p/dashboard "$PORT" orgsbench || ok=0
    if [ -n "${PEER:-}" ] && [ -f "$PEER/check-dashboard.py" ]; then
      python3 "$PEER/check-dashboard.py" "$W/tokens.txt" 30 http://127.0.0.1:$p/dashboard "$PORT" orgsbench \
        | sed 's/^/  peer check: /' || ok=0
    fi
  fi
  if [ $ok = 1 ]; then measured="$measured $p"; else failed="$failed ${NAME[$p]}"; echo "${NAME[$p]} answers differently from the rule: not measured"; fi
done

# CPU ticks (utime + stime) of the given pids; "pid ticks" of this cluster's postmaster and its
# children (a process that ends between two snapshots is left out; one that starts counts whole).
ticks() { local t=0 q; for q in "$@"; do [ -r /proc/$q/stat ] && t=$((t + $(awk '{print $14 + $15}' /proc/$q/stat))); done; echo $t; }
pg_ticks() {
  local pm q; pm=$(head -n 1 "$(pg_dir "$PORT")/data/postmaster.pid")
  for q in $pm $(pgrep -P "$pm"); do [ -r /proc/$q/stat ] && awk '{print $1, $14 + $15}' /proc/$q/stat; done || true
}
pg_delta() { awk 'NR == FNR { t0[$1] = $2; next } { d += $2 - ($1 in t0 ? t0[$1] : 0) } END { print d + 0 }' "$1" "$2"; }
cpu_busy_total() { awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
HZ=$(getconf CLK_TCK)
run() {  # run PORT CONNS DURATION -> one line
  local p=$1 c=$2 d=$3 me=$BASHPID s0 g w0 s1 w1 m0 m1 line
  # wrk's CPU: the children's time (cutime + cstime) of this shell grows by it once it is waited for.
  pg_ticks >"$W/pg.0"; s0=$(ticks ${SVC[$p]}); w0=$(awk '{print $16 + $17}' /proc/$me/stat)
  m0=$(cpu_busy_total)
  line=$(wrk -t1 -c"$c" -d"$d" -s "$HERE/orgs-random-token.lua" http://127.0.0.1:$p/dashboard -- "$W/tokens.txt" | grep RESULT)
  m1=$(cpu_busy_total)
  pg_ticks >"$W/pg.1"; s1=$(ticks ${SVC[$p]}); w1=$(awk '{print $16 + $17}' /proc/$me/stat)
  g=$(pg_delta "$W/pg.0" "$W/pg.1")
  echo "$line" >>"$W/results.raw"
  # others: the machine's busy time outside the service, PostgreSQL and wrk, in % of all cores.
  awk -v line="$line" -v s=$((s1 - s0)) -v g="$g" -v w=$((w1 - w0)) -v m0="$m0" -v m1="$m1" -v hz="$HZ" 'BEGIN {
    n = split(line, kv, " "); for (i = 2; i <= n; i++) { split(kv[i], a, "="); v[a[1]] = a[2] }
    split(m0, x, " "); split(m1, y, " "); others = (y[1] - x[1] - s - g - w) / (y[2] - x[2]) * 100
    err = v["err_connect"] + v["err_read"] + v["err_write"] + v["err_timeout"]
    printf "%8.1f req/s  p50 %6.1f ms  p90 %6.1f ms  p99 %6.1f ms  errors %d, non-2xx %d  cpu/req: service %4.0f us, postgres %4.0f us, wrk %3.0f us  others %3.0f %%\n",
      v["rps"], v["p50_us"] / 1000, v["p90_us"] / 1000, v["p99_us"] / 1000, err, v["err_status"],
      s / hz / v["requests"] * 1e6, g / hz / v["requests"] * 1e6, w / hz / v["requests"] * 1e6, (others < 0 ? 0 : others) }'
}
for p in $measured; do run "$p" 16 5s >/dev/null; done   # warm-up: caches, pools, verified tokens
: >"$W/results.txt"
for r in $(seq "$ROUNDS"); do for c in $CONNS; do for p in $measured; do
  printf 'round=%s c=%-3s %-13s %s\n' "$r" "$c" "${NAME[$p]}" "$(run "$p" "$c" "$DUR")" | tee -a "$W/results.txt"
done; done; done

# Medians over the rounds, and the ratio to the peer.
if [ -s "$W/results.txt" ]; then
  echo "medians of $ROUNDS round(s):"
  awk '{ split($2, c, "="); k = c[2] " " $3; rps[k] = rps[k] " " $4; p99[k] = p99[k] " " $13; keys[k] = 1 }
    function med(s,   a, n, i, j, t) { n = split(s, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
      if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }; return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    END { for (k in keys) { split(k, x, " "); m[k] = med(rps[k]);
            printf "  c=%-3s %-13s %8.1f req/s  p99 %6.1f ms", x[1], x[2], m[k], med(p99[k]);
            if (x[2] == "rls-orgs" && ((x[1] " node-drizzle") in keys)) printf "  %.2fx the peer", m[k] / med(rps[x[1] " node-drizzle"]);
            printf "\n" } }' "$W/results.txt" | sort -t= -k2 -n
fi
echo "end: $(date -u '+%Y-%m-%d %H:%M UTC'),$(uptime | sed 's/.*,  *load/ load/')"
[ -z "$failed" ] || { echo "not measured (answers differ):$failed"; exit 1; }
