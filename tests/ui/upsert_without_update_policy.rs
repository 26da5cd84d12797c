use pgrls::{Model, Table};

/// Members read the tasks and add them; nobody may change one.
#[derive(Table)]
#[table(name = "tasks")]
#[policy(name = "members read tasks", for = select, to = authenticated, using = true)]
#[policy(name = "members add tasks", for = insert, to = authenticated, with_check = true)]
pub struct Task {
    #[column(primary_key)]
    pub id: i64,
    pub title: String,
}

/// Anyone may add and change a note, nobody read one.
#[derive(Table)]
#[table(name = "notes")]
#[crud_policy(role = authenticated, modify = true)]
pub struct Note {
    #[column(primary_key)]
    pub id: i64,
    pub body: String,
}

fn main() {
    let task = || NewTask {
        id: 1,
        title: "write".into(),
    };
    // ON CONFLICT DO UPDATE with no UPDATE policy: every role is refused, so it does not compile.
    let _ = Task::insert(task())
        .on_conflict(pgrls::key!(Task, id))
        .do_update()
        .set_excluded(Task::title)
        .to_sql();
    // DO NOTHING needs no UPDATE policy.
    let _ = Task::insert(task())
        .on_conflict(pgrls::key!(Task, id))
        .do_nothing()
        .to_sql();
    // DO UPDATE reads the existing row under the SELECT policies: none on notes.
    let note = NewNote {
        id: 1,
        body: "hi".into(),
    };
    let _ = Note::insert(note)
        .on_conflict(pgrls::key!(Note, id))
        .do_update()
        .set_excluded(Note::body)
        .to_sql();
}
