use orgs_example::{Project, Task};
use pgrls::Model;

fn main() {
    // A text column compared with the ids of another table.
    let _ = Task::select().filter(Task::title.is_in(Project::id.all()));
    // An EXISTS that matches a text column with an integer one.
    let _ = Project::select().filter(pgrls::query::exists(Task::title.matches(Project::id)));
}
