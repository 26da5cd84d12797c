use pgrls::Model;
use todos_example::Todo;

fn main() {
    let _ = Todo::update().set(Todo::id, "42");
}
