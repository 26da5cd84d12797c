#!/usr/bin/env python3
"""orgs-dashboard.sh's correctness check: a service's GET /dashboard for the first N tokens of
a file, against the dashboard computed by psql as the superuser (no policies) from the
membership rule: the projects of the caller's organizations (only the token's active one,
Clerk v2 claim o.id, when it names one, and only if the caller is a member of it), by id, each
with its open tasks, by id. Prints the first differences; exits 1 on any.
Usage: orgs-check-dashboard.py TOKENS N URL PGPORT DB"""
import base64, json, subprocess, sys, urllib.request

tokfile, n, url, pgport, db = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
SQL = """
select coalesce(json_agg(json_build_object('id', p.id, 'org_id', p.org_id, 'name', p.name, 'tasks',
  (select coalesce(json_agg(json_build_object('id', t.id, 'title', t.title, 'done', t.done) order by t.id), '[]')
   from tasks t where t.project_id = p.id and not t.done)) order by p.id), '[]')
from projects p
where p.org_id in (select org_id from memberships where user_id = :'sub')
  and (nullif(:'org', '') is null or p.org_id = :'org')
"""


def claims_of(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def expected(sub, org):
    out = subprocess.run(
        ["psql", "-X", "-qtA", "-h", "127.0.0.1", "-p", pgport, "-U", "postgres", "-d", db,
         "-v", f"sub={sub}", "-v", f"org={org or ''}"],
        input=SQL, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def first_difference(got, want):
    if not isinstance(got, list):
        return f"not a JSON array: {str(got)[:200]}"
    if [p.get("id") for p in got] != [p["id"] for p in want]:
        return f"project ids {[p.get('id') for p in got][:12]} want {[p['id'] for p in want][:12]}"
    for g, w in zip(got, want):
        if g != w:
            if {k: v for k, v in g.items() if k != "tasks"} != {k: v for k, v in w.items() if k != "tasks"}:
                return f"project {w['id']}: {dict((k, v) for k, v in g.items() if k != 'tasks')} want {dict((k, v) for k, v in w.items() if k != 'tasks')}"
            gt, wt = g.get("tasks"), w["tasks"]
            if not isinstance(gt, list) or [t.get("id") for t in gt] != [t["id"] for t in wt]:
                return f"project {w['id']}: task ids {str([t.get('id') for t in gt or []][:10])} want {[t['id'] for t in wt][:10]}"
            for a, b in zip(gt, wt):
                if a != b:
                    return f"project {w['id']} task {b['id']}: {a} want {b}"
    return "differs"


tokens = [l.strip() for l in open(tokfile) if l.strip()][:n]
bad, sizes, scoped = 0, [], 0
for tok in tokens:
    claims = claims_of(tok)
    org = (claims.get("o") or {}).get("id")
    scoped += org is not None
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {tok}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            got = json.loads(r.read())
    except Exception as e:  # an HTTP error or a body that is not JSON
        got = f"error: {e}"
    want = expected(claims["sub"], org)
    sizes.append(sum(len(p["tasks"]) for p in want))
    if got != want:
        bad += 1
        if bad <= 3:
            print(f"  {claims['sub']} org={org}: {first_difference(got, want)}")
print(f"{url}: {len(tokens) - bad} of {len(tokens)} dashboards as the rule says "
      f"({scoped} with an active organization; open tasks per dashboard {min(sizes)}-{max(sizes)})")
sys.exit(1 if bad else 0)
