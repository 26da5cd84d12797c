//! Signed test tokens and a JWKS server on 127.0.0.1, shared by the token tests and the
//! service's HTTP tests and benchmark.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::sha2::{Digest, Sha256};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, PrivateKey as RsaPrivateKey};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

pub const ISSUER: &str = "https://clerk.example.com";
pub const APP: &str = "https://app.example.com";

// ---------------------------------------------------------------------------------------
// Keys and the signer

pub struct TestKey {
    pub kid: &'static str,
    pub private: RsaPrivateKey,
}

/// k1 and k2 are the issuer's; `impostor` is another key set's key, published under the
/// kid "k1" too.
pub struct Keys {
    pub k1: TestKey,
    pub k2: TestKey,
    pub impostor: TestKey,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let generate = |kid| {
            std::thread::spawn(move || TestKey {
                kid,
                private: RsaPrivateKey::new(&mut getrandom::SysRng, 2048).unwrap(),
            })
        };
        let (k1, k2, impostor) = (generate("k1"), generate("k2"), generate("k1"));
        Keys {
            k1: k1.join().unwrap(),
            k2: k2.join().unwrap(),
            impostor: impostor.join().unwrap(),
        }
    })
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn trimmed(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    &bytes[zeros..]
}

impl TestKey {
    pub fn modulus(&self) -> Vec<u8> {
        trimmed(&self.private.n().to_be_bytes()).to_vec()
    }

    pub fn jwk(&self) -> Value {
        json!({
            "use": "sig",
            "kty": "RSA",
            "kid": self.kid,
            "alg": "RS256",
            "n": b64(&self.modulus()),
            "e": b64(trimmed(&self.private.e().to_be_bytes())),
        })
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `header.payload`.
    pub fn sign_raw(&self, header: &[u8], payload: &[u8]) -> String {
        let input = format!("{}.{}", b64(header), b64(payload));
        let digest = Sha256::digest(input.as_bytes());
        let signature = self
            .private
            .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
            .unwrap();
        format!("{input}.{}", b64(&signature))
    }

    pub fn sign(&self, payload: &Value) -> String {
        let header = json!({"alg": "RS256", "kid": self.kid, "typ": "JWT"});
        self.sign_raw(
            header.to_string().as_bytes(),
            payload.to_string().as_bytes(),
        )
    }
}

pub fn jwks(keys: &[&TestKey]) -> String {
    json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() }).to_string()
}

/// HMAC-SHA256 (RFC 2104), for the HS256 key-confusion token.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// A Clerk v2 session token's claims, valid at `now`.
pub fn claims(now: i64) -> Value {
    json!({
        "azp": APP,
        "exp": now + 60,
        "fea": "o:dashboard,u:reports",
        "fva": [5, -1],
        "iat": now,
        "iss": ISSUER,
        "jti": "a1b2c3d4e5",
        "nbf": now - 5,
        "o": {"fpm": "3,2", "id": "org_2xyz", "per": "read,manage", "rol": "admin", "slg": "acme"},
        "pla": "o:pro",
        "sid": "sess_2abc",
        "sts": "active",
        "sub": "user_2abcdef",
        "v": 2
    })
}

pub fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

pub fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

// ---------------------------------------------------------------------------------------
// The JWKS server: HTTP/1.1 on 127.0.0.1, counting requests

pub struct JwksServer {
    pub url: String,
    pub hits: Arc<AtomicUsize>,
    pub body: Arc<Mutex<String>>,
    pub status: Arc<AtomicU16>,
    pub delay_ms: Arc<AtomicU64>,
    pub task: JoinHandle<()>,
    /// What [`JwksServer::restart`] needs: the address, TLS, the shared state.
    addr: SocketAddr,
    tls: Option<TlsAcceptor>,
    shared: Shared,
}

/// What the server's connections share with the test.
#[derive(Clone)]
pub struct Shared {
    pub hits: Arc<AtomicUsize>,
    pub body: Arc<Mutex<String>>,
    pub status: Arc<AtomicU16>,
    pub delay_ms: Arc<AtomicU64>,
}

impl Shared {
    /// One HTTP/1.1 exchange, then close.
    pub async fn respond(&self, mut socket: impl AsyncRead + AsyncWrite + Unpin) {
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
            // A TLS ClientHello to the plain HTTP server: hang up.
            if request.first() == Some(&0x16) {
                return;
            }
        }
        self.hits.fetch_add(1, Ordering::SeqCst);
        let delay = self.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let head = String::from_utf8_lossy(&request);
        let (status, body) = if head.starts_with("GET /.well-known/jwks.json HTTP/1.1\r\n") {
            (
                self.status.load(Ordering::SeqCst),
                self.body.lock().unwrap().clone(),
            )
        } else {
            (404, String::new())
        };
        let response = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = socket.write_all(response.as_bytes()).await;
        let _ = socket.shutdown().await;
    }
}

impl JwksServer {
    pub async fn start(body: String) -> JwksServer {
        JwksServer::start_with(body, None).await
    }

    /// With `tls`, HTTPS; else plain HTTP.
    pub async fn start_with(body: String, tls: Option<TlsAcceptor>) -> JwksServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!(
            "{scheme}://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let shared = Shared {
            hits: Arc::new(AtomicUsize::new(0)),
            body: Arc::new(Mutex::new(body)),
            status: Arc::new(AtomicU16::new(200)),
            delay_ms: Arc::new(AtomicU64::new(0)),
        };
        let addr = listener.local_addr().unwrap();
        let task = serve(listener, shared.clone(), tls.clone());
        JwksServer {
            url,
            hits: shared.hits.clone(),
            body: shared.body.clone(),
            status: shared.status.clone(),
            delay_ms: shared.delay_ms.clone(),
            task,
            addr,
            tls,
            shared,
        }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn publish(&self, body: String) {
        *self.body.lock().unwrap() = body;
    }

    /// Closes the listening socket: connections are refused from now on.
    pub async fn stop(&mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }

    /// Listens again on the same address after [`JwksServer::stop`], with the same state.
    pub async fn restart(&mut self) {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(error) if tries < 50 => {
                    tries += 1;
                    eprintln!("rebinding {}: {error}; again in 100 ms", self.addr);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("rebinding {}: {error}", self.addr),
            }
        };
        self.task = serve(listener, self.shared.clone(), self.tls.clone());
    }
}

fn serve(listener: TcpListener, server: Shared, tls: Option<TlsAcceptor>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let (server, tls) = (server.clone(), tls.clone());
            tokio::spawn(async move {
                match tls {
                    Some(tls) => {
                        if let Ok(socket) = tls.accept(socket).await {
                            server.respond(socket).await;
                        }
                    }
                    None => server.respond(socket).await,
                }
            });
        }
    })
}
