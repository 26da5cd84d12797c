use pgrls::Table;

#[derive(Table)]
#[table(distribute_by = org)]
pub struct Misnamed {
    #[column(primary_key)]
    pub org_id: String,
}

#[derive(Table)]
#[table(reference, distribute_by = org_id)]
pub struct Both {
    #[column(primary_key)]
    pub org_id: String,
}

#[derive(Table)]
#[table(distribute_by = org_id)]
pub struct KeyWithoutIt {
    #[column(primary_key)]
    pub id: i64,
    pub org_id: String,
}

#[derive(Table)]
#[table(distribute_by = org_id)]
#[primary_key(org_id, id)]
pub struct Nullable {
    pub id: i64,
    pub org_id: Option<String>,
}

#[derive(Table)]
#[table(colocate_with = "projects")]
pub struct ColocatedAlone {
    #[column(primary_key)]
    pub id: i64,
}

fn main() {}
