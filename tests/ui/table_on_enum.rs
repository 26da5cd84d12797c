use pgrls::Table;

#[derive(Table)]
pub enum Status {
    Open,
    Done,
}

fn main() {}
