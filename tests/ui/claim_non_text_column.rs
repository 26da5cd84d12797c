use pgrls::Table;

#[derive(Table)]
#[policy(
    name = "the active organization",
    for = select,
    to = authenticated,
    using = org_id == clerk_org_id()
)]
pub struct Project {
    #[column(primary_key)]
    pub id: i64,
    pub org_id: i64,
}

fn main() {}
