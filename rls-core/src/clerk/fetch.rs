//! Getting the JWKS document: the [`JwksFetcher`] trait and the built-in HTTP(S) client.

use super::jwks::MAX_JWKS_BYTES;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::header::{ACCEPT, HOST, USER_AGENT};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::net::IpAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, pki_types::ServerName};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Gets the JWKS document at a URL. [`HttpFetcher`] does it over HTTPS; implement this for
/// another client, a file, or a test double. The error is a message for logs.
///
/// The verifier bounds each call with
/// [`VerifierConfig::fetch_timeout`](super::VerifierConfig::fetch_timeout) and never has
/// more than one call running.
pub trait JwksFetcher: Send + Sync + 'static {
    /// The document at `url`, or a message for logs saying why not.
    fn fetch<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Vec<u8>, String>>;
}

impl<F: JwksFetcher + ?Sized> JwksFetcher for Arc<F> {
    fn fetch<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Vec<u8>, String>> {
        (**self).fetch(url)
    }
}

/// HTTP/1.1 `GET` over TLS (rustls with *ring*, the Mozilla root certificates of
/// `webpki-roots`), one connection per fetch, no redirects, no proxy, a body of at most
/// 1 MiB. Plain `http://` only to a loopback address (`127.0.0.0/8`, `[::1]`,
/// `localhost`), for tests and local development.
#[derive(Clone, Debug)]
pub struct HttpFetcher {
    tls: Result<Arc<ClientConfig>, String>,
}

impl Default for HttpFetcher {
    fn default() -> HttpFetcher {
        HttpFetcher::new()
    }
}

impl HttpFetcher {
    /// Trusts the Mozilla root certificates bundled in `webpki-roots`.
    pub fn new() -> HttpFetcher {
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|builder| {
                let mut config = builder.with_root_certificates(roots).with_no_client_auth();
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                Arc::new(config)
            })
            .map_err(|e| format!("TLS configuration: {e}"));
        HttpFetcher { tls }
    }

    /// With a TLS configuration of your own (other roots, a corporate CA). It should
    /// offer HTTP/1.1 in ALPN, or none.
    pub fn with_tls_config(config: Arc<ClientConfig>) -> HttpFetcher {
        HttpFetcher { tls: Ok(config) }
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        let uri: Uri = url.parse().map_err(|e| format!("invalid JWKS URL: {e}"))?;
        let host = uri.host().ok_or("the JWKS URL has no host")?;
        let bare_host = host.trim_start_matches('[').trim_end_matches(']');
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") if is_loopback(bare_host) => false,
            Some("http") => return Err("plain http is only allowed to a loopback address".into()),
            _ => return Err("the JWKS URL must be https".into()),
        };
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let authority = uri.authority().map(|a| a.as_str()).unwrap_or(host);
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let request = Request::get(path)
            .header(HOST, authority)
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, concat!("pgrls/", env!("CARGO_PKG_VERSION")))
            .body(Empty::<&'static [u8]>::new())
            .map_err(|e| format!("request: {e}"))?;

        let tcp = TcpStream::connect((bare_host, port))
            .await
            .map_err(|e| format!("connect to {authority}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        if https {
            let tls = self.tls.clone()?;
            let name = ServerName::try_from(bare_host.to_owned())
                .map_err(|e| format!("server name {bare_host:?}: {e}"))?;
            let stream = TlsConnector::from(tls)
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS with {authority}: {e}"))?;
            send(TokioIo::new(stream), request).await
        } else {
            send(TokioIo::new(tcp), request).await
        }
    }
}

impl JwksFetcher for HttpFetcher {
    fn fetch<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Vec<u8>, String>> {
        Box::pin(self.get(url))
    }
}

async fn send<T>(io: T, request: Request<Empty<&'static [u8]>>) -> Result<Vec<u8>, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    let exchange = async move {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("HTTP: {e}"))?;
        let status = response.status();
        tracing::debug!(
            target: super::TARGET,
            status = status.as_u16(),
            "JWKS response"
        );
        if !status.is_success() {
            return Err(format!("HTTP status {status}"));
        }
        let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
            .collect()
            .await
            .map_err(|e| format!("HTTP body: {e}"))?;
        Ok(body.to_bytes().to_vec())
    };
    // Drive the connection and the exchange together, without spawning a task; the
    // connection ends when the exchange drops its sender.
    let mut exchange = pin!(exchange);
    let mut connection = pin!(connection);
    let mut connection_done = false;
    std::future::poll_fn(|cx| {
        if !connection_done && connection.as_mut().poll(cx).is_ready() {
            connection_done = true;
        }
        exchange.as_mut().poll(cx)
    })
    .await
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
