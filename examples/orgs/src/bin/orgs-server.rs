//! The orgs service: `cargo run -p orgs-example --bin orgs-server` with the environment of
//! `service_kit::Config` (see the README's "Running the orgs service").

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    service_kit::run(sqlx::migrate!("./migrations"), orgs_example::app::router).await
}
