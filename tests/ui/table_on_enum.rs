use rls::Table;

#[derive(Table)]
pub enum Status {
    Open,
    Done,
}

fn main() {}
