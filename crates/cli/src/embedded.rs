//! A server in this process, on a free port and a temp data dir: what
//! `symbolon demo` and `symbolon bench delivery` run against.

use anyhow::{anyhow, Context, Result};
use symbolon_client::Client;
use symbolon_server::ServerConfig;
use tokio::sync::oneshot;

pub(crate) struct Embedded {
    pub(crate) url: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), symbolon_server::ServeError>>,
    dir: tempfile::TempDir,
}

impl Embedded {
    /// Starts `config` on 127.0.0.1:0 with its data dir in a new temp dir
    /// named `prefix…` (any `listen` and `data_dir` in `config` are replaced),
    /// and returns once `/healthz` answers.
    pub(crate) async fn start(prefix: &str, config: ServerConfig) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .context("creating a temp dir")?;
        Self::start_in(dir, config).await
    }

    /// Starts `config` on 127.0.0.1:0 with `dir` as its data dir (one a
    /// previous server left with [`Embedded::stop_keep_dir`]).
    pub(crate) async fn start_in(dir: tempfile::TempDir, mut config: ServerConfig) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding 127.0.0.1:0")?;
        let addr = listener.local_addr().context("reading the bound address")?;
        config.data_dir = dir.path().to_path_buf();
        config.listen = addr;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(symbolon_server::serve(listener, config, async move {
            let _ = stopped.await;
        }));
        let server = Self {
            url: format!("http://{addr}"),
            stop,
            task,
            dir,
        };
        let client = Client::new(&server.url)?;
        let mut attempt = 0;
        loop {
            match client.health().await {
                Ok(_) => return Ok(server),
                Err(e) => {
                    if server.task.is_finished() {
                        return match server.task.await {
                            Ok(Err(serve)) => {
                                Err(anyhow!(serve)).context("the server stopped at start")
                            }
                            _ => Err(anyhow!(e)).context("the server stopped at start"),
                        };
                    }
                    attempt += 1;
                    if attempt > 100 {
                        return Err(anyhow!(e)).context("the server did not answer /healthz");
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
        }
    }

    /// The server's data dir (its SQLite database is `symbolon.db` there).
    pub(crate) fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Graceful shutdown: stop accepting, drain, close the store; then remove the temp dir.
    pub(crate) async fn stop(self) -> Result<()> {
        self.stop_keep_dir()
            .await?
            .close()
            .context("removing the temp dir")
    }

    /// Graceful shutdown, keeping the data dir for [`Embedded::start_in`].
    pub(crate) async fn stop_keep_dir(self) -> Result<tempfile::TempDir> {
        let _ = self.stop.send(());
        self.task
            .await
            .context("the server task panicked")?
            .context("the server stopped with an error")?;
        Ok(self.dir)
    }
}
