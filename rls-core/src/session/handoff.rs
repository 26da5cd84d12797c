//! Connections passed from a session that ends straight to a session that waits for one.
//!
//! A connection given back to sqlx's pool is pinged before anyone gets it again (a Sync, sent
//! with the session's ROLLBACK when it did not commit): one more message to the server, one
//! more wake-up of its backend and of the application, per session. Under load, when
//! sessions wait for connections, an ending session passes its connection to the session
//! that has waited longest instead: the ROLLBACK it queued then goes out with that session's
//! opening, in the same write, and the pool's ping is skipped. A connection is passed at most
//! [`MAX_PASSES`] times in a row, then goes back through the pool: its ping, its
//! `max_lifetime`, and whoever waits on the pool directly (`db.pool()`), get their turn.

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

/// Passes in a row before a connection goes back through the pool.
pub(crate) const MAX_PASSES: u8 = 16;

/// A connection taken for a session, and how many times in a row it has been passed.
#[derive(Debug)]
pub(crate) struct Taken {
    pub(crate) conn: PoolConnection<Postgres>,
    pub(crate) passes: u8,
}

/// The sessions waiting for a connection of one pool, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Handoff {
    waiters: Mutex<VecDeque<Arc<Slot>>>,
    /// Sessions that received a passed connection.
    received: AtomicU64,
    /// Sessions that found no idle connection and wait for one, now.
    waiting: AtomicUsize,
}

/// Counts a session among those waiting for as long as it lives (also when its future is
/// dropped while it waits).
struct Counted<'a>(&'a AtomicUsize);

impl<'a> Counted<'a> {
    fn new(count: &'a AtomicUsize) -> Counted<'a> {
        count.fetch_add(1, Ordering::Relaxed);
        Counted(count)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct Slot(Mutex<State>);

#[derive(Debug)]
enum State {
    Waiting(Option<Waker>),
    Given(Taken),
    /// The waiter took a connection from the pool, or stopped waiting.
    Gone,
}

impl Handoff {
    /// An idle connection of `pool`; when there is none, whichever comes first: one passed
    /// by an ending session, or one from the pool.
    pub(crate) async fn acquire(&self, pool: &PgPool) -> Result<Taken, sqlx::Error> {
        if let Some(conn) = pool.try_acquire() {
            return Ok(Taken { conn, passes: 0 });
        }
        let _waiting = Counted::new(&self.waiting);
        // A pool that can still grow opens a new connection for this session. Raced with a
        // hand-off, that connection would be abandoned half-opened whenever the hand-off
        // came first, the pool would stay short, and the next session would start another:
        // under load, hundreds of backends forked and dropped per second (seen side by
        // side). So only the waiters of a full pool take passed connections.
        if pool.size() < pool.options().get_max_connections() {
            return Ok(Taken {
                conn: pool.acquire().await?,
                passes: 0,
            });
        }
        let slot = Arc::new(Slot(Mutex::new(State::Waiting(None))));
        lock(&self.waiters).push_back(slot.clone());
        let waiting = Waiting {
            handoff: self,
            slot,
        };
        let mut from_pool = pin!(pool.acquire());
        std::future::poll_fn(|cx| {
            if let Some(taken) = waiting.given(cx) {
                self.received.fetch_add(1, Ordering::Relaxed);
                return Poll::Ready(Ok(taken));
            }
            from_pool
                .as_mut()
                .poll(cx)
                .map_ok(|conn| Taken { conn, passes: 0 })
        })
        .await
    }

    /// How many sessions received a passed connection so far.
    pub(crate) fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// How many sessions wait for a connection now: they found none idle, and wait for
    /// the pool to open one or for one to come back or be passed.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Gives `taken` to the session that has waited longest, or back when none waits (or
    /// it has been passed too often): the caller then drops it into the pool.
    pub(crate) fn pass(&self, mut taken: Taken) -> Option<Taken> {
        if taken.passes >= MAX_PASSES {
            return Some(taken);
        }
        taken.passes += 1;
        loop {
            let slot = lock(&self.waiters).pop_front()?;
            let mut state = lock(&slot.0);
            if let State::Waiting(waker) = &mut *state {
                let waker = waker.take();
                *state = State::Given(taken);
                drop(state);
                if let Some(waker) = waker {
                    waker.wake();
                }
                return None;
            }
        }
    }
}

/// A session's place in the queue, for as long as it waits.
struct Waiting<'a> {
    handoff: &'a Handoff,
    slot: Arc<Slot>,
}

impl Waiting<'_> {
    fn given(&self, cx: &mut Context<'_>) -> Option<Taken> {
        let mut state = lock(&self.slot.0);
        match std::mem::replace(&mut *state, State::Gone) {
            State::Given(taken) => Some(taken),
            State::Waiting(_) => {
                *state = State::Waiting(Some(cx.waker().clone()));
                None
            }
            State::Gone => None,
        }
    }
}

impl Drop for Waiting<'_> {
    /// Done waiting (with a connection from either side, or abandoned): out of the queue,
    /// and a connection passed meanwhile goes back to the pool, its ROLLBACK with the ping.
    fn drop(&mut self) {
        let given = std::mem::replace(&mut *lock(&self.slot.0), State::Gone);
        drop(given);
        lock(&self.handoff.waiters).retain(|s| !Arc::ptr_eq(s, &self.slot));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
