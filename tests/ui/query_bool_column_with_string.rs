use pgrls::Model;
use todos_example::Todo;

fn main() {
    let _ = Todo::select().filter(Todo::is_complete.eq("yes"));
}
