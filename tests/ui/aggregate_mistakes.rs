use orgs_example::{Project, Task};
use pgrls::Model;
use pgrls::query::{count, sum};

fn main() {
    // A sum of text.
    let _ = Task::select().columns((Task::project_id, sum(Task::title)));
    // An aggregate of another table.
    let _ = Task::select().columns((count(), sum(Project::id)));
}
