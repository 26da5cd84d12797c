-- The orgs dashboard benchmark's data (orgs-dashboard.sh), loaded as the tables' owner after
-- examples/orgs/migrations: 1,000 organizations, 10,000 users, 10,000 projects (10 per
-- organization), 1,000,000 tasks (100 per project, one in three open). The same rows as the
-- Node + Drizzle peer's seed.sql, so both services read the same database.
-- User i is a member of org ((i-1) % 1000)+1 (admin for i <= 1000, viewer when i % 10 = 0,
-- else member) and, when i is even, also a member of org ((7i) % 1000)+1 when that is another
-- organization. The tokens follow the same rule (orgs-dashboard.sh, the peer's gen-tokens-orgs.mjs).
insert into organizations (id, name) select 'org_' || o, 'Organization ' || o from generate_series(1, 1000) o;
insert into memberships (org_id, user_id, role)
select 'org_' || (((i - 1) % 1000) + 1), 'user_' || i,
       (case when i <= 1000 then 'admin' when i % 10 = 0 then 'viewer' else 'member' end)::org_role
from generate_series(1, 10000) i;
insert into memberships (org_id, user_id, role)
select 'org_' || ((7 * i) % 1000 + 1), 'user_' || i, 'member'::org_role
from generate_series(2, 10000, 2) i
where (7 * i) % 1000 + 1 <> ((i - 1) % 1000) + 1;
insert into projects (org_id, name)
select 'org_' || o, 'Project ' || p || ' of organization ' || o
from generate_series(1, 1000) o, generate_series(1, 10) p order by o, p;
insert into tasks (project_id, title, done)
select pr.id, 'Task ' || t || ' of project ' || pr.id, t % 3 <> 0
from projects pr, generate_series(1, 100) t order by pr.id, t;
analyze;
