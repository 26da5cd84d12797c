use pgrls::Table;

#[derive(Table)]
#[primary_key(org_id, user_id)]
pub struct Membership {
    pub org_id: String,
    pub user_id: String,
    pub role: String,
}

fn main() {
    // One column of a composite key is no key.
    let _ = pgrls::key!(Membership, org_id);
    // Nor is a column that is not unique.
    let _ = pgrls::key!(Membership, role);
    // The key's columns, named twice, leave one out.
    let _ = pgrls::key!(Membership, org_id, org_id);
    // Any order names the same key.
    let _ = pgrls::key!(Membership, user_id, org_id);
}
