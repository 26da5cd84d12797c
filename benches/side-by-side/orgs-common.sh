# Sourced by orgs-dashboard.sh and soak.sh (after pg.sh): the orgs service's steps without the
# Node peer. The caller sets HERE (this folder), W (a work folder), PORT (PostgreSQL) and PIDS
# (pids to kill on exit, appended to here), and runs from the project root.

# Builds orgs-server and the dev issuer; sets BIN_DIR.
orgs_build() {
  cargo build -q --release -p orgs-example --bin orgs-server -p service-kit --bin dev-issuer
  BIN_DIR=${CARGO_TARGET_DIR:-$PWD/target}/release
}

# Starts the repository's dev issuer on 127.0.0.1:$1 and waits for its JWKS; sets ISS, AZP, JWKS.
orgs_dev_issuer() {
  ISS=http://127.0.0.1:$1; AZP=http://localhost:3000   # the dev issuer's name and azp
  JWKS=$ISS/.well-known/jwks.json
  BIND=127.0.0.1:$1 "$BIN_DIR/dev-issuer" >"$W/issuer.log" 2>&1 & PIDS="$PIDS $!"
  orgs_wait_jwks
}
orgs_wait_jwks() { local i; for i in $(seq 50); do curl -sf -o /dev/null "$JWKS" && break; sleep 0.2; done; }

# Writes $1 tokens minted by the dev issuer to stdout, by the seed's membership rule: user_i
# for a random i in 1..10000, 70 % naming the user's first organization as the active one,
# ((i-1) % 1000)+1, where it is an admin for i <= 1000, a viewer when i % 10 = 0, else a
# member; the rest none (then the dashboard spans all of the user's organizations).
orgs_dev_tokens() {
  python3 - "$ISS" "$1" <<'EOF'
import random, sys, urllib.request
iss, n = sys.argv[1], int(sys.argv[2])
for _ in range(n):
    i = random.randint(1, 10000)
    q = f"sub=user_{i}"
    if random.random() < 0.7:
        org = (i - 1) % 1000 + 1
        role = "admin" if i <= 1000 else "viewer" if i % 10 == 0 else "member"
        q += f"&org=org_{org}&role={role}"
    print(urllib.request.urlopen(f"{iss}/token?{q}", timeout=10).read().decode().strip())
EOF
}

# The database on a new cluster at PORT: the example's migrations as the superuser, the login
# role `app` (NOINHERIT, member of authenticated and anonymous, owning nothing), the seed, a
# vacuum analyze (now rather than by autovacuum during a measurement); sets DB_URL.
orgs_db() {
  local f
  pg_start "$PORT"
  psqlp "$PORT" -c "create database orgsbench" -c "create role app login nosuperuser nobypassrls noinherit" >/dev/null
  for f in $(ls examples/orgs/migrations/*.sql | sort); do psqlp "$PORT" -d orgsbench -1 -f "$f" >/dev/null; done
  psqlp "$PORT" -c "grant authenticated, anonymous to app" >/dev/null
  echo "seeding..."; psqlp "$PORT" -d orgsbench -f "$HERE/orgs-seed.sql" >/dev/null
  psqlp "$PORT" -d orgsbench -c "vacuum analyze" >/dev/null
  psqlp "$PORT" -d orgsbench -Atc "select format('%s organizations, %s memberships, %s projects, %s tasks (%s open)',
    (select count(*) from organizations), (select count(*) from memberships), (select count(*) from projects),
    (select count(*) from tasks), (select count(*) from tasks where not done))"
  DB_URL=postgres://app@127.0.0.1:$PORT/orgsbench
}

# Starts orgs-server on 127.0.0.1:$1 (pool: RUST_POOL, else its default), logging to
# $W/rust.log; sets RUST.
orgs_server() {
  env ${RUST_POOL:+DATABASE_POOL_SIZE=$RUST_POOL} DATABASE_URL=$DB_URL CLERK_FRONTEND_API=$ISS ALLOWED_ORIGINS=$AZP \
    JWKS_URL=$JWKS BIND=127.0.0.1:$1 RUST_LOG=warn "$BIN_DIR/orgs-server" >"$W/rust.log" 2>&1 & RUST=$!
  PIDS="$PIDS $RUST"
}
