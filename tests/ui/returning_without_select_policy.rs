use pgrls::{Model, Session, Table};

/// A write-only log: users add entries and nobody reads them back.
#[derive(Table)]
#[table(name = "audit_log")]
#[policy(name = "users write entries", for = insert, to = authenticated, with_check = true)]
#[policy(name = "users fix entries", for = update, to = authenticated, using = true)]
pub struct Entry {
    #[column(primary_key, identity)]
    pub id: i64,
    pub message: String,
}

async fn log(s: &mut Session) {
    // RETURNING reads the new row under the SELECT policies: there are none.
    let _ = Entry::insert(NewEntry {
        message: "signed in".into(),
    })
    .returning_one(s)
    .await;
    let _ = Entry::update()
        .set(Entry::message, "edited")
        .returning(s)
        .await;
    // Without RETURNING the write is fine.
    let _ = Entry::insert(NewEntry {
        message: "signed out".into(),
    })
    .execute(s)
    .await;
}

fn main() {
    let _ = log;
}
