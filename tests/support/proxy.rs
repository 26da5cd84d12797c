//! A TCP proxy on 127.0.0.1 in front of a server (PostgreSQL, for `tests/faults.rs`) that
//! can delay what it forwards and reset connections at random.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the proxy does to what it forwards, changeable while it runs.
#[derive(Default)]
pub struct Faults {
    /// Each chunk forwarded, in either direction, waits between these many milliseconds
    /// (uniformly drawn); 0 and 0: no delay.
    pub min_delay_ms: AtomicU64,
    pub max_delay_ms: AtomicU64,
    /// Per million chunks forwarded, how many reset their connection (both sides, with an
    /// RST) instead of being forwarded.
    pub reset_per_million: AtomicU64,
    /// Connections reset so far.
    pub resets: AtomicUsize,
    /// Connections accepted so far.
    pub connections: AtomicUsize,
}

pub struct Proxy {
    pub addr: SocketAddr,
    pub faults: Arc<Faults>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards every connection to `upstream`,
    /// with no faults until [`Proxy::faults`] says otherwise.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let faults = Arc::new(Faults::default());
        let shared = faults.clone();
        let task = tokio::spawn(async move {
            let mut seed = seed();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                shared.connections.fetch_add(1, Ordering::Relaxed);
                seed = splitmix64(seed);
                tokio::spawn(forward(client, upstream, shared.clone(), seed));
            }
        });
        Proxy { addr, faults, task }
    }

    /// From now on, delays of `min..=max` per chunk and `reset_per_million` resets per
    /// million chunks.
    pub fn set(&self, min: Duration, max: Duration, reset_per_million: u64) {
        let f = &self.faults;
        f.min_delay_ms
            .store(min.as_millis() as u64, Ordering::SeqCst);
        f.max_delay_ms.store(
            max.as_millis().max(min.as_millis()) as u64,
            Ordering::SeqCst,
        );
        f.reset_per_million
            .store(reset_per_million, Ordering::SeqCst);
    }

    pub fn resets(&self) -> usize {
        self.faults.resets.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

async fn forward(client: TcpStream, upstream: SocketAddr, faults: Arc<Faults>, seed: u64) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    // The first direction to end (end of input, an error, a reset) ends both: the halves
    // are dropped here, which closes both sockets (with an RST after a reset).
    tokio::select! {
        () = pump(client_read, server_write, &faults, seed) => {}
        () = pump(server_read, client_write, &faults, splitmix64(seed ^ 1)) => {}
    }
}

/// Forwards `from` to `to` chunk by chunk, each delayed and perhaps replaced by a reset.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, faults: &Faults, mut rng: u64) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let (min, max) = (
            faults.min_delay_ms.load(Ordering::Relaxed),
            faults.max_delay_ms.load(Ordering::Relaxed),
        );
        if max > 0 {
            rng = splitmix64(rng);
            let ms = min + rng % (max - min + 1);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let resets = faults.reset_per_million.load(Ordering::Relaxed);
        if resets > 0 {
            rng = splitmix64(rng);
            if rng % 1_000_000 < resets {
                // Zero linger: closing sends an RST instead of a FIN, on both sockets.
                let _ = from.as_ref().set_zero_linger();
                let _ = to.as_ref().set_zero_linger();
                faults.resets.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
