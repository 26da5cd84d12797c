//! `cargo run -p service-kit --bin dev-issuer`: Clerk-shaped session tokens for trying the
//! example services without a Clerk account. Development only: the key is made at start and
//! lives in memory, the issuer listens on a loopback address only, and a service trusts it
//! only when `CLERK_FRONTEND_API` names it.
//!
//! Env: `BIND` (default `127.0.0.1:3999`, a loopback address).

use service_kit::dev_issuer::{DEFAULT_AZP, DevIssuer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind: std::net::SocketAddr = std::env::var("BIND")
        .unwrap_or_else(|_| "127.0.0.1:3999".into())
        .parse()?;
    if !bind.ip().is_loopback() {
        return Err(format!(
            "BIND={bind}: the development issuer hands a token to anyone who asks; it listens on a loopback address only (127.0.0.1 or [::1])"
        )
        .into());
    }
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let issuer = std::sync::Arc::new(DevIssuer::generate(&url));
    println!("development issuer on {url} (a key made now, in memory only)");
    println!("point a service at it (development only):");
    println!("  CLERK_FRONTEND_API={url} ALLOWED_ORIGINS={DEFAULT_AZP}");
    println!("a token for user_alice, admin of org_acme:");
    println!("  curl '{url}/token?sub=user_alice&org=org_acme&role=admin'");
    issuer.serve(listener).await?;
    Ok(())
}
