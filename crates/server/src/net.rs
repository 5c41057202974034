//! The accept loop and each connection's life: our own loop over hyper's
//! HTTP/1.1 connections (not `axum::serve`), so every connection is bounded.
//!
//! * **Connection cap** — a semaphore of `max_connections` permits; a permit is
//!   taken *before* `accept`, so at the cap the server stops accepting (new
//!   connections wait in the kernel's listen backlog) while the connections it
//!   has keep being served; one closing lets the next in.
//! * **Accept errors** — a failed `accept` other than a per-connection one
//!   (`EMFILE`, `ENFILE`, `ENOBUFS`, …) waits 10 ms, doubling up to 1 s
//!   (`ACCEPT_BACKOFF_*`), so running out of file descriptors never spins.
//! * **Header-read timeout** — a request head must be complete within
//!   `header_read_timeout` of its first byte (of the accept, for a connection's
//!   first request); otherwise the connection is closed without an answer.
//! * **Idle timeout** — between requests, a keep-alive connection is closed when
//!   the next request has not begun within `idle_timeout`.
//! * **Body-read timeout** — a request body must be complete within
//!   `body_read_timeout` of the end of its head; otherwise the request is
//!   answered 408 `request_timeout` with `Connection: close`.
//! * Neither timeout applies while a request is in flight (its handler runs or
//!   its response is being sent), so a Server-Sent Events stream lives as long
//!   as it streams.
//! * **Graceful shutdown** — the loop stops accepting and drops the listener,
//!   asks every connection to finish (idle ones close at once, in-flight
//!   requests complete and their connections close), waits up to
//!   `shutdown_grace`, then closes whatever is still open.
//!
//! Each request carries its peer address as axum's `ConnectInfo<SocketAddr>`.

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, Response};
use axum::response::IntoResponse;
use axum::Router;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use symbolon_core::limits::{ACCEPT_BACKOFF_MAX_MILLIS, ACCEPT_BACKOFF_MIN_MILLIS};
use symbolon_core::ErrorCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

/// The bounds one server puts on its connections.
#[derive(Debug, Clone, Copy)]
pub struct NetSettings {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
}

impl From<&crate::ServerConfig> for NetSettings {
    fn from(c: &crate::ServerConfig) -> Self {
        Self {
            header_read_timeout: c.header_read_timeout,
            body_read_timeout: c.body_read_timeout,
            idle_timeout: c.idle_timeout,
            max_connections: c.max_connections,
            shutdown_grace: c.shutdown_grace,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting,
/// lets in-flight requests finish for up to `shutdown_grace`, and closes every
/// connection still open. Returns once no connection is left.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: NetSettings,
    shutdown: impl Future<Output = ()> + Send,
) {
    let permits = Arc::new(Semaphore::new(settings.max_connections));
    let (drain_tx, drain_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    let mut backoff = Duration::from_millis(ACCEPT_BACKOFF_MIN_MILLIS);
    tokio::pin!(shutdown);
    loop {
        // Finished connections leave the set.
        while conns.try_join_next().is_some() {}
        // At the cap, wait for a connection to close before accepting another.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break, // never closed
            },
            _ = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                backoff = Duration::from_millis(ACCEPT_BACKOFF_MIN_MILLIS);
                let app = app.clone();
                let drain = drain_rx.clone();
                conns.spawn(async move {
                    serve_connection(stream, peer, app, settings, drain).await;
                    drop(permit);
                });
            }
            // The peer gave up before we accepted: nothing to wait for.
            Err(e) if is_connection_error(&e) => {}
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "accept failed; backing off");
                drop(permit);
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = &mut shutdown => break,
                }
                backoff = (backoff * 2).min(Duration::from_millis(ACCEPT_BACKOFF_MAX_MILLIS));
            }
        }
    }
    drop(listener);
    let _ = drain_tx.send(true);
    let open = conns.len();
    if open > 0 {
        tracing::info!(
            connections = open,
            grace_ms = settings.shutdown_grace.as_millis() as u64,
            "not accepting; letting in-flight requests finish"
        );
    }
    let drained = tokio::time::timeout(settings.shutdown_grace, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = conns.len(),
            "closing connections still open after the shutdown grace"
        );
        conns.shutdown().await;
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Where a connection is between requests, for its deadlines.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for a request head, whose first byte (or the accept) came at this instant.
    Head(Instant),
    /// This many requests in flight: no deadline of ours.
    Busy(usize),
    /// No request in flight since this instant and no byte of the next yet.
    Idle(Instant),
}

/// Serves one connection until it closes, a deadline passes, or the drain's
/// grace runs out (the caller then drops this future, closing the socket).
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    settings: NetSettings,
    mut drain: watch::Receiver<bool>,
) {
    let (phase_tx, phase_rx) = watch::channel(Phase::Head(Instant::now()));
    let phase = Arc::new(phase_tx);
    let io = TokioIo::new(WatchedIo {
        inner: stream,
        phase: phase.clone(),
    });
    let service = ConnService {
        app,
        peer,
        phase,
        body_read_timeout: settings.body_read_timeout,
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        // Our own deadlines below: hyper's would also start when a
        // connection goes idle, making the idle timeout the header timeout.
        .header_read_timeout(None)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let expiry = expired(
        phase_rx,
        settings.header_read_timeout,
        settings.idle_timeout,
    );
    tokio::pin!(expiry);
    let mut draining = false;
    if *drain.borrow_and_update() {
        conn.as_mut().graceful_shutdown();
        draining = true;
    }
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            why = &mut expiry => {
                tracing::debug!(%peer, timeout = why, "connection closed: timed out");
                return;
            }
            changed = drain.changed(), if !draining => {
                if changed.is_err() || *drain.borrow() {
                    // Idle connections close now; a request in flight finishes first.
                    conn.as_mut().graceful_shutdown();
                    draining = true;
                }
            }
        }
    }
}

/// Resolves, naming the timeout, when the connection's current phase outlives
/// its deadline; never while a request is in flight.
async fn expired(
    mut phase: watch::Receiver<Phase>,
    header: Duration,
    idle: Duration,
) -> &'static str {
    loop {
        let now = *phase.borrow_and_update();
        let deadline = match now {
            Phase::Head(since) => Some((since + header, "header_read_timeout")),
            Phase::Idle(since) => Some((since + idle, "idle_timeout")),
            Phase::Busy(_) => None,
        };
        match deadline {
            Some((at, why)) => tokio::select! {
                _ = tokio::time::sleep_until(at) => return why,
                r = phase.changed() => if r.is_err() { std::future::pending::<()>().await },
            },
            None => {
                if phase.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        }
    }
}

/// The socket, noting the first byte of a request that follows an idle spell.
struct WatchedIo {
    inner: TcpStream,
    phase: Arc<watch::Sender<Phase>>,
}

impl AsyncRead for WatchedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.phase.send_if_modified(|p| match p {
                Phase::Idle(_) => {
                    *p = Phase::Head(Instant::now());
                    true
                }
                _ => false,
            });
        }
        r
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A request in flight on a connection: created when hyper hands us its head,
/// dropped when its response has been sent (or abandoned).
struct InFlight(Arc<watch::Sender<Phase>>);

impl InFlight {
    fn begin(phase: &Arc<watch::Sender<Phase>>) -> Self {
        phase.send_modify(|p| {
            *p = match *p {
                Phase::Busy(n) => Phase::Busy(n + 1),
                _ => Phase::Busy(1),
            }
        });
        Self(phase.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.send_modify(|p| {
            *p = match *p {
                Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
                _ => Phase::Idle(Instant::now()),
            }
        });
    }
}

/// The router as one connection's hyper service.
#[derive(Clone)]
struct ConnService {
    app: Router,
    peer: SocketAddr,
    phase: Arc<watch::Sender<Phase>>,
    body_read_timeout: Duration,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<InFlightBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let in_flight = InFlight::begin(&self.phase);
        let timed_out = Arc::new(AtomicBool::new(false));
        let mut req = req.map(|body| {
            Body::new(TimedBody {
                inner: body,
                deadline: Box::pin(tokio::time::sleep(self.body_read_timeout)),
                timed_out: timed_out.clone(),
                done: false,
            })
        });
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let app = self.app.clone();
        let peer = self.peer;
        Box::pin(async move {
            let resp = match app.oneshot(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            let resp = if timed_out.load(Ordering::SeqCst) {
                // Whatever the handler made of its cut-off body, the answer is
                // the timeout, and the connection (mid-body) cannot be reused.
                tracing::debug!(%peer, "request body timed out");
                let mut r = ApiError::new(
                    ErrorCode::RequestTimeout,
                    "the request body did not arrive in time",
                )
                .into_response();
                r.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                r
            } else {
                resp
            };
            Ok(resp.map(|inner| InFlightBody {
                inner,
                _in_flight: in_flight,
            }))
        })
    }
}

/// The error a request body yields when its deadline passes.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within the body read timeout")]
pub struct BodyTimedOut;

/// A request body that must be complete by a deadline.
struct TimedBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timed_out: Arc<AtomicBool>,
    done: bool,
}

impl HttpBody for TimedBody {
    type Data = axum::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(r)) => Poll::Ready(Some(r.map_err(Into::into))),
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.done = true;
                    self.timed_out.store(true, Ordering::SeqCst);
                    Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that keeps its request in flight until it has been sent.
pub struct InFlightBody {
    inner: Body,
    _in_flight: InFlight,
}

impl HttpBody for InFlightBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn deadlines_follow_the_phase() {
        let (tx, rx) = watch::channel(Phase::Head(Instant::now()));
        let tx = Arc::new(tx);
        let header = Duration::from_millis(50);
        let idle = Duration::from_millis(300);
        let long = Duration::from_secs(10);
        // A fresh connection that sends nothing: the header timeout.
        let r = tokio::time::timeout(long, expired(rx.clone(), header, idle)).await;
        assert_eq!(r, Ok("header_read_timeout"));
        // In flight: no deadline of ours.
        let busy = InFlight::begin(&tx);
        let r = tokio::time::timeout(idle * 3, expired(rx.clone(), header, idle)).await;
        assert!(r.is_err(), "a request in flight never times out here");
        // Idle after the response: the idle timeout, not the header timeout.
        drop(busy);
        let r = tokio::time::timeout(long, expired(rx.clone(), long, idle)).await;
        assert_eq!(r, Ok("idle_timeout"));
        // The first byte of the next request: the header timeout again.
        tx.send_modify(|p| *p = Phase::Idle(Instant::now()));
        tx.send_if_modified(|p| match p {
            Phase::Idle(_) => {
                *p = Phase::Head(Instant::now());
                true
            }
            _ => false,
        });
        let r = tokio::time::timeout(long, expired(rx.clone(), header, long)).await;
        assert_eq!(r, Ok("header_read_timeout"));
        // Two in flight, one done: still in flight.
        let a = InFlight::begin(&tx);
        let b = InFlight::begin(&tx);
        drop(a);
        assert!(matches!(*rx.borrow(), Phase::Busy(1)));
        drop(b);
        assert!(matches!(*rx.borrow(), Phase::Idle(_)));
    }
}
