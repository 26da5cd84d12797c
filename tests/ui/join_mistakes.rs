use orgs_example::{Membership, OrgRole, Organization, Project, Task};
use pgrls::Model;

fn main() {
    // A filter on a table that is not in the join.
    let _ = Project::select()
        .inner_join(Task::select())
        .filter(Membership::role.eq(OrgRole::Admin));
    // No foreign key between organizations and tasks, and no ON.
    let _ = Organization::select().inner_join(Task::select());
    // A column of a table that is not in the join.
    let _ = Project::select()
        .inner_join(Task::select())
        .columns((Project::name, Membership::role));
    // An ON that compares a text column with an integer one.
    let _ = Project::select().inner_join_on(Task::select(), Project::name, Task::id);
}
