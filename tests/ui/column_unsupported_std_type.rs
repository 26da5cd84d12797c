use rls::Table;

#[derive(Table)]
pub struct Server {
    #[column(primary_key)]
    pub id: i64,
    pub address: std::net::IpAddr,
}

fn main() {}
