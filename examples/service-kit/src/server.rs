//! Serving a router over HTTP/1.1, with the limits that keep slow or too many clients from
//! holding the service: a deadline for a request's header and one for its body, and a
//! number of requests in flight beyond which requests are refused at once (503). The binaries
//! ([`crate::run`]) and the tests ([`crate::LocalService`]) serve through this same code.
//!
//! axum's `serve` has no header timeout: this serves each connection with hyper's HTTP/1.1
//! builder and hyper-util's Tokio timer, as `axum::serve` does otherwise (and, like it, stops
//! accepting on the shutdown signal and lets the connections finish their requests).

use super::ApiError;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::timeout::RequestBodyDeadlineLayer;

/// How long a client may take and how many requests the service takes on at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `HEADER_READ_TIMEOUT` (seconds, default 5): a connection whose request line and
    /// headers have not all arrived this long after it started reading them is closed
    /// (without an answer: hyper's `header_read_timeout`); so is a kept-alive connection
    /// idle this long after its last answer.
    pub header_read_timeout: Duration,
    /// `BODY_READ_TIMEOUT` (seconds, default 10): a request body not wholly received this
    /// long after its headers is refused with 408 `body_timeout` (a deadline for the whole
    /// body, so that a client trickling a byte at a time is cut off too).
    pub body_read_timeout: Duration,
    /// `MAX_IN_FLIGHT` (default 512): requests being handled at once; one more is answered
    /// at once with 503 `overloaded` and `Retry-After: 1`, before any work (no token checked,
    /// no session). Set it above what the pool serves in the time clients accept to wait.
    /// `/health` and `/metrics` are never refused (nor counted): a busy service is not dead.
    pub max_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(5),
            body_read_timeout: Duration::from_secs(10),
            max_in_flight: 512,
        }
    }
}

impl Limits {
    /// Reads `HEADER_READ_TIMEOUT`, `BODY_READ_TIMEOUT` (seconds, decimals allowed) and
    /// `MAX_IN_FLIGHT` through `get`; unset or empty: the defaults.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Limits, String> {
        let default = Limits::default();
        let seconds = |key: &str, default: Duration| seconds_setting(&get, key, default);
        let max_in_flight = match get("MAX_IN_FLIGHT").filter(|v| !v.is_empty()) {
            None => default.max_in_flight,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => return Err(format!("MAX_IN_FLIGHT={v}: expected a positive number")),
            },
        };
        Ok(Limits {
            header_read_timeout: seconds("HEADER_READ_TIMEOUT", default.header_read_timeout)?,
            body_read_timeout: seconds("BODY_READ_TIMEOUT", default.body_read_timeout)?,
            max_in_flight,
        })
    }
}

/// The setting `key` read through `get`: a positive number of seconds, decimals allowed;
/// unset or empty: `default`.
pub(crate) fn seconds_setting(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: Duration,
) -> Result<Duration, String> {
    match get(key).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|s| *s > 0.0)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .ok_or(format!("{key}={v}: expected a positive number of seconds")),
    }
}

/// Serves `app` on `listener` with `limits` until `shutdown` completes; then stops accepting,
/// lets the requests in flight finish (idle connections are closed) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let in_flight = InFlight {
        now: Arc::new(AtomicUsize::new(0)),
        max: limits.max_in_flight,
    };
    let app = app
        .layer(RequestBodyDeadlineLayer::new(limits.body_read_timeout))
        // Outermost: a request refused here costs nothing else.
        .layer(axum::middleware::from_fn_with_state(
            in_flight,
            limit_in_flight,
        ));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);

    // `signal` closes when `shutdown` completes; `close` when every connection has ended.
    let (signal, signal_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(signal_rx);
    });
    let (close, close_rx) = watch::channel(());
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = signal.closed() => break,
        };
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let signal = signal.clone();
        let close_rx = close_rx.clone();
        tokio::spawn(async move {
            let mut connection = pin!(connection);
            let mut stopping = pin!(signal.closed());
            let mut stopped = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, "connection ended");
                        }
                        break;
                    }
                    () = &mut stopping, if !stopped => {
                        stopped = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(close_rx);
        });
    }
    drop(close_rx);
    drop(listener);
    close.closed().await;
    Ok(())
}

/// As `axum::serve`: a connection that failed before it was accepted is nobody's business;
/// anything else (too many open files, say) is logged, and accepting resumes a second later.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// The requests being handled, and how many may be.
#[derive(Clone, Debug)]
struct InFlight {
    now: Arc<AtomicUsize>,
    max: usize,
}

/// Counts the request in while it is handled (a dropped request counts out too).
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn limit_in_flight(
    State(in_flight): State<InFlight>,
    request: Request,
    next: Next,
) -> Response {
    // Liveness and metrics cost nothing and must answer under overload: a liveness probe
    // shed here would have the orchestrator restart a service that is only busy.
    if matches!(request.uri().path(), "/health" | "/metrics") {
        return next.run(request).await;
    }
    let slot = Slot(in_flight.now.clone());
    if in_flight.now.fetch_add(1, Ordering::AcqRel) >= in_flight.max {
        drop(slot);
        tracing::debug!(max = in_flight.max, "request refused: too many in flight");
        return (
            [(RETRY_AFTER, "1")],
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "too many requests in flight; retry shortly",
            ),
        )
            .into_response();
    }
    let response = next.run(request).await;
    drop(slot);
    response
}

#[cfg(test)]
mod tests {
    use super::Limits;
    use std::time::Duration;

    #[test]
    fn limits_from_the_environment() {
        let none = Limits::from_lookup(|_| None).unwrap();
        assert_eq!(none, Limits::default());
        let set = Limits::from_lookup(|k| {
            Some(match k {
                "HEADER_READ_TIMEOUT" => "0.5".into(),
                "BODY_READ_TIMEOUT" => "30".into(),
                "MAX_IN_FLIGHT" => "8".into(),
                _ => return None,
            })
        })
        .unwrap();
        assert_eq!(
            set,
            Limits {
                header_read_timeout: Duration::from_millis(500),
                body_read_timeout: Duration::from_secs(30),
                max_in_flight: 8,
            }
        );
        for (key, value) in [
            ("HEADER_READ_TIMEOUT", "0"),
            ("BODY_READ_TIMEOUT", "soon"),
            ("MAX_IN_FLIGHT", "0"),
            ("MAX_IN_FLIGHT", "-1"),
        ] {
            let err = Limits::from_lookup(|k| (k == key).then(|| value.to_string())).unwrap_err();
            assert!(err.starts_with(&format!("{key}={value}")), "{err}");
        }
    }
}
