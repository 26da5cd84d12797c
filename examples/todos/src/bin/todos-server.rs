//! The todos service: `cargo run --bin todos-server` with the environment of
//! `service_kit::Config` (see the README's "Running the todos service").

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    service_kit::run(sqlx::migrate!("./migrations"), todos_example::app::router).await
}
