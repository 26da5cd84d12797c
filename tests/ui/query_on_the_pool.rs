use pgrls::Model;
use todos_example::Todo;

async fn list(mut pool: pgrls::sqlx::PgPool) {
    // A pool gives no guarantee that the identity is on the connection: refused.
    let _ = Todo::select().fetch_all(&mut pool).await;
}

fn main() {}
