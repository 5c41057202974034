//! Following an account's events live (Server-Sent Events), as `events
//! --follow` and the provider agent do: the stream is reopened after a drop
//! or a server restart and resumes exactly after the last event seen, so no
//! event is lost or repeated.

use std::time::Duration;
use symbolon_client::api;
use symbolon_client::{Client, ClientError, EventStream};

/// How long to wait before trying again to open a stream the network refused.
pub const RECONNECT_DELAY: Duration = Duration::from_secs(1);
/// How long to wait before reopening a stream the server ended (a restart, a
/// shutdown), so a closing server is not hammered.
pub const REOPEN_DELAY: Duration = Duration::from_millis(500);

/// Opens the account's event stream after `after`, waiting out network
/// errors (the server restarting); other errors (a bad key, a bad cursor)
/// end it.
pub async fn follow(c: &Client, after: Option<&str>) -> anyhow::Result<EventStream> {
    loop {
        match c.event_stream(after).await {
            Ok(s) => return Ok(s),
            Err(ClientError::Transport(e)) => {
                tracing::warn!(error = %e, "event stream unavailable; retrying");
                tokio::time::sleep(RECONNECT_DELAY).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// An event stream that outlives its connections: [`next`](Self::next)
/// reopens it after the last event returned whenever it ends or drops.
pub struct Follower<'a> {
    client: &'a Client,
    last: Option<String>,
    stream: Option<EventStream>,
}

impl<'a> Follower<'a> {
    /// Follows the events after `after` (every kept event when `None`).
    pub fn new(client: &'a Client, after: Option<String>) -> Self {
        Self {
            client,
            last: after,
            stream: None,
        }
    }

    /// The next event, waiting as long as it takes. Only errors a reconnect
    /// cannot cure (the key refused, a cursor the server does not know, an
    /// event that does not decode) end it.
    ///
    /// Cancel-safe: dropping the future (a `timeout`) loses no event.
    pub async fn next(&mut self) -> anyhow::Result<api::Event> {
        loop {
            let stream = match &mut self.stream {
                Some(s) => s,
                None => self
                    .stream
                    .insert(follow(self.client, self.last.as_deref()).await?),
            };
            match stream.next().await {
                Ok(Some(e)) => {
                    self.last = Some(e.id.clone());
                    return Ok(e);
                }
                Ok(None) => {
                    self.stream = None;
                    tokio::time::sleep(REOPEN_DELAY).await;
                }
                Err(ClientError::Transport(e)) => {
                    tracing::warn!(error = %e, "event stream dropped; resuming");
                    self.stream = None;
                    tokio::time::sleep(REOPEN_DELAY).await;
                }
                // An event that does not decode would not decode again.
                Err(e) => return Err(e.into()),
            }
        }
    }
}
