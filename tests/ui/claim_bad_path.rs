use pgrls::Table;

#[derive(Table)]
#[policy(name = "a", for = select, to = authenticated, using = org_id == auth_claim([]))]
#[policy(name = "b", for = select, to = authenticated, using = org_id == auth_claim(7))]
#[policy(name = "c", for = select, to = authenticated, using = org_id == clerk_org_id("o"))]
#[check(org_id == auth_claim("org_id"))]
pub struct Project {
    #[column(primary_key)]
    pub id: i64,
    pub org_id: String,
}

fn main() {}
