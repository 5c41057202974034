//! Connections under attack, over raw sockets: idle, partial-header and
//! trickling-body connections are cut by their timeouts; connections beyond
//! the cap wait while the others are served; shutdown finishes within its
//! grace whatever clients hold open; event streams outlive the timeouts.
//! Timeouts are short (1 s) and the bounds generous (10 s): these check that
//! a deadline is enforced, not how fast anything is.

use crate::harness::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use symbolon_client::api::*;
use symbolon_core::SystemClock;
use symbolon_server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BOUND: Duration = Duration::from_secs(10);

async fn server(tweak: impl FnOnce(&mut ServerConfig)) -> TestServer {
    TestServer::configured(Backend::Sqlite, Arc::new(SystemClock), tweak).await
}

/// Reads until the server closes the connection (EOF or reset); returns what
/// came, or `None` if it was still open after `within`.
async fn read_until_closed(s: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read).await.ok().map(|_| out)
}

/// Reads one response (head and a `Content-Length` body) off a keep-alive
/// connection; `None` if none came within `within`.
async fn read_response(s: &mut TcpStream, within: Duration) -> Option<String> {
    let read = async {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(end) = find(&got, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if got.len() >= end + 4 + len {
                    return Some(String::from_utf8_lossy(&got[..end + 4 + len]).to_string());
                }
            }
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read).await.ok().flatten()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";

async fn healthy(s: &mut TcpStream) -> bool {
    s.write_all(HEALTH).await.is_ok()
        && read_response(s, BOUND)
            .await
            .is_some_and(|r| r.starts_with("HTTP/1.1 200"))
}

/// A keep-alive connection that sends nothing after its answer is closed by
/// the idle timeout (1 s), long before the header timeout (60 s) could.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let srv = server(|c| {
        c.idle_timeout = Duration::from_secs(1);
        c.header_read_timeout = Duration::from_secs(60);
    })
    .await;
    let mut s = TcpStream::connect(srv.addr()).await.unwrap();
    assert!(healthy(&mut s).await, "served first");
    let rest = read_until_closed(&mut s, BOUND)
        .await
        .expect("closed within 10 s of a 1 s idle timeout");
    assert!(rest.is_empty(), "closed without an answer: {rest:?}");
    srv.stop().await;
}

/// A connection that sends nothing at all, and one whose head trickles in a
/// byte every 200 ms, are closed by the header timeout (1 s) counted from
/// the first byte (the accept) — each byte does not restart it — with no answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_headers_are_closed_after_the_header_timeout() {
    let srv = server(|c| {
        c.header_read_timeout = Duration::from_secs(1);
        c.idle_timeout = Duration::from_secs(60);
    })
    .await;
    let mut silent = TcpStream::connect(srv.addr()).await.unwrap();
    let mut slow = TcpStream::connect(srv.addr()).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        .await
        .unwrap();
    let (mut rd, mut wr) = slow.into_split();
    let trickle = tokio::spawn(async move {
        let started = Instant::now();
        // Up to 30 s of header bytes, stopping when the server hangs up.
        while started.elapsed() < Duration::from_secs(30) {
            if wr.write_all(b"x").await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    });
    let got = read_until_closed(&mut silent, BOUND)
        .await
        .expect("a silent connection closed within 10 s of a 1 s header timeout");
    assert!(got.is_empty(), "{got:?}");
    let mut got = Vec::new();
    let closed = tokio::time::timeout(BOUND, rd.read_to_end(&mut got)).await;
    assert!(
        closed.is_ok(),
        "a trickled head closed within 10 s of a 1 s header timeout"
    );
    assert!(got.is_empty(), "no answer to half a head: {got:?}");
    assert!(
        trickle.await.unwrap(),
        "the trickler saw the connection closed"
    );
    // The server still serves.
    let mut s = TcpStream::connect(srv.addr()).await.unwrap();
    assert!(healthy(&mut s).await);
    srv.stop().await;
}

/// Sends a POST whose body declares 200 bytes but trickles one every 200 ms.
async fn trickle_post(srv: &TestServer, path: &str, extra_headers: &str) -> String {
    let mut s = TcpStream::connect(srv.addr()).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n{extra_headers}Content-Length: 200\r\n\r\n{{\"name\":"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..150 {
            if wr.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut got = Vec::new();
    let closed = tokio::time::timeout(BOUND, rd.read_to_end(&mut got)).await;
    trickle.abort();
    assert!(
        closed.is_ok(),
        "{path}: cut within 10 s of a 1 s body timeout"
    );
    String::from_utf8_lossy(&got).to_string()
}

/// A body that trickles in is cut when the body timeout (1 s) passes: 408
/// `request_timeout`, `Connection: close`, and the connection closed; nothing
/// is created. The same through the idempotency middleware, which reads the
/// body itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_body_is_cut_with_408() {
    let srv = server(|c| {
        c.body_read_timeout = Duration::from_secs(1);
    })
    .await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let key = provider.api_key().unwrap().to_string();
    for (path, headers) in [
        ("/v1/accounts", String::new()),
        (
            "/v1/products",
            format!("Authorization: Bearer {key}\r\nIdempotency-Key: slow-1\r\n"),
        ),
    ] {
        let answer = trickle_post(&srv, path, &headers).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
        let lower = answer.to_ascii_lowercase();
        assert!(lower.contains("connection: close"), "{path}: {answer}");
        assert!(answer.contains("\"request_timeout\""), "{path}: {answer}");
    }
    assert_eq!(srv.count_sql("SELECT COUNT(*) FROM accounts").await, 1);
    assert_eq!(
        srv.count_sql("SELECT COUNT(*) FROM idempotency_keys").await,
        0
    );
    srv.stop().await;
}

/// With `max_connections = 2`, a third connection is not served while two are
/// open — and those two still are — and is served once one of them closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let srv = server(|c| {
        c.max_connections = 2;
        c.idle_timeout = Duration::from_secs(60);
        c.header_read_timeout = Duration::from_secs(60);
    })
    .await;
    let mut a = TcpStream::connect(srv.addr()).await.unwrap();
    assert!(healthy(&mut a).await);
    let mut b = TcpStream::connect(srv.addr()).await.unwrap();
    assert!(healthy(&mut b).await);
    // The kernel completes the handshake (listen backlog); the server does not accept.
    let mut c = TcpStream::connect(srv.addr()).await.unwrap();
    c.write_all(HEALTH).await.unwrap();
    assert_eq!(
        read_response(&mut c, Duration::from_millis(1500)).await,
        None,
        "a third connection is not served at the cap"
    );
    assert!(healthy(&mut a).await, "the first is still served");
    assert!(healthy(&mut b).await, "the second is still served");
    drop(b);
    let r = read_response(&mut c, BOUND)
        .await
        .expect("served once a connection closed");
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    srv.stop().await;
}

/// Shutdown with an idle keep-alive client and a request stuck reading its
/// body (long timeouts: only the 1 s grace can end it) finishes within 10 s,
/// and both connections are closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_within_the_grace_whatever_clients_hold_open() {
    let srv = server(|c| {
        c.shutdown_grace = Duration::from_secs(1);
        c.idle_timeout = Duration::from_secs(600);
        c.header_read_timeout = Duration::from_secs(600);
        c.body_read_timeout = Duration::from_secs(600);
    })
    .await;
    let mut idle = TcpStream::connect(srv.addr()).await.unwrap();
    assert!(healthy(&mut idle).await);
    let mut stuck = TcpStream::connect(srv.addr()).await.unwrap();
    stuck
        .write_all(b"POST /v1/accounts HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":")
        .await
        .unwrap();
    // Let the server take the head and start waiting for the body.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    tokio::time::timeout(BOUND, srv.stop())
        .await
        .expect("stopped within 10 s of a 1 s grace");
    assert!(started.elapsed() < BOUND);
    assert!(read_until_closed(&mut idle, BOUND).await.is_some());
    assert!(read_until_closed(&mut stuck, BOUND).await.is_some());
}

/// A request in flight when shutdown begins is answered if it completes
/// within the grace; the connection is closed after its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_at_shutdown_is_answered_within_the_grace() {
    let srv = server(|c| {
        c.shutdown_grace = Duration::from_secs(30);
    })
    .await;
    let body = br#"{"name":"Late","roles":["holder"]}"#;
    let mut s = TcpStream::connect(srv.addr()).await.unwrap();
    let head = format!(
        "POST /v1/accounts HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body[..5]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopping = tokio::spawn(srv.stop());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !stopping.is_finished(),
        "the request in flight holds the shutdown"
    );
    s.write_all(&body[5..]).await.unwrap();
    let answer = read_until_closed(&mut s, BOUND)
        .await
        .expect("answered, then closed");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    tokio::time::timeout(BOUND, stopping)
        .await
        .expect("stopped once the request was answered")
        .unwrap();
}

/// An event stream is a request in flight: with every timeout at 1 s it stays
/// open through 3 s of silence and still delivers the next event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_stream_outlives_the_idle_header_and_body_timeouts() {
    let srv = server(|c| {
        c.idle_timeout = Duration::from_secs(1);
        c.header_read_timeout = Duration::from_secs(1);
        c.body_read_timeout = Duration::from_secs(1);
    })
    .await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (h1_id, h1) = srv.account("Hana", &[Role::Holder]).await;
    let (h2_id, h2) = srv.account("Hugo", &[Role::Holder]).await;
    let (_, requester) = srv.account("Rita", &[Role::Requester]).await;
    let prod = provider
        .create_product(&product("Espresso grinder", "home/kitchen", "120.00", 10))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 500))
        .await
        .unwrap();
    for (id, h) in [(&h1_id, &h1), (&h2_id, &h2)] {
        provider.grant(&pass.id, &grant(id)).await.unwrap();
        h.set_holder_profile(&fields(&["home"])).await.unwrap();
    }
    let mut stream = h1.event_stream(None).await.unwrap();
    // Three times the timeouts without a byte (keep-alives come every 15 s).
    let quiet = tokio::time::timeout(Duration::from_secs(3), stream.next()).await;
    assert!(
        quiet.is_err(),
        "nothing arrives and nothing ends: {quiet:?}"
    );
    let d = requester
        .create_demand(&demand("espresso grinder"))
        .await
        .unwrap();
    let e = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("an event within 20 s")
        .expect("the stream still reads")
        .expect("an event, not the end");
    assert_eq!(e.kind, "interaction.requested");
    assert_eq!(e.data["demand_id"], d.id.as_str());
    drop(stream);
    srv.stop().await;
}
