use pgrls::PgEnum;

#[derive(PgEnum)]
pub enum Status {
    Open,
    Done(String),
}

fn main() {}
