//! `symbolon backup` and `symbolon restore`: an online copy of a SQLite store, and putting one
//! back after every check has passed.
//!
//! The backup file is the SQLite database itself (rollback-journal mode, mode 0600), so
//! `sqlite3 FILE` opens it. With `--include-master-key` the master key goes beside it in
//! `FILE.master.key` (0600): the two files together can open every sealed signing key, so they
//! must be kept as secret as the master key. Both are written to temporary files next to their
//! targets and renamed into place at the end: a failed backup leaves no half file.

use anyhow::{bail, Context};
use clap::Args;
use serde::Serialize;
use sqlx::{ConnectOptions, Connection};
use std::path::{Path, PathBuf};
use std::time::Instant;
use symbolon_exchange::keyring::MasterKey;
use symbolon_server::ServerConfig;
use symbolon_store_sqlite::backup::{backup_database, inspect, BackupInfo};

/// The file a backup's master key goes to: `FILE.master.key`.
pub fn key_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".master.key");
    PathBuf::from(name)
}

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// The backup file to write (a SQLite database, mode 0600).
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
    /// Also write the master key to FILE.master.key (0600). Whoever has both files can open
    /// every sealed signing key.
    #[arg(long)]
    pub include_master_key: bool,
    /// Replace FILE (and FILE.master.key) if they exist.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub store: crate::StoreArgs,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The backup file (made by `symbolon backup`); FILE.master.key, if present, is restored too.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// The data directory to restore into (the server on it must be stopped).
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Replace a database already in DIR: the old files are moved to DIR/replaced-<time>/.
    #[arg(long)]
    pub force: bool,
}

/// What `symbolon backup` did.
#[derive(Debug, Serialize)]
pub struct BackupReport {
    pub file: String,
    pub bytes: u64,
    pub schema_version: i64,
    pub millis: u128,
    pub master_key_file: Option<String>,
}

/// What `symbolon restore` did.
#[derive(Debug, Serialize)]
pub struct RestoreReport {
    pub database: String,
    pub bytes: u64,
    pub schema_version: i64,
    pub master_key_restored: bool,
    pub replaced: Option<String>,
}

/// The SQLite database file the settings name; PostgreSQL is refused with a pointer to pg_dump.
pub fn sqlite_file(config: &ServerConfig) -> anyhow::Result<PathBuf> {
    match config.database_url.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => bail!(
            "the store is PostgreSQL: back it up with `pg_dump -Fc` and restore it with \
             `pg_restore` (see docs/OPERATIONS.md); `symbolon backup` copies SQLite only"
        ),
        Some(url) => {
            let rest = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .with_context(|| format!("not a database URL symbolon knows: {url}"))?;
            let path = rest.split('?').next().unwrap_or(rest);
            if path.is_empty() || path == ":memory:" {
                bail!("{url} is not a database file");
            }
            Ok(PathBuf::from(path))
        }
        None => Ok(config.data_dir.join("symbolon.db")),
    }
}

/// A temporary name beside `target` (same directory, so a rename moves it into place).
fn temp_beside(target: &Path, what: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(
        ".{name}.{what}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ))
}

/// Creates `path` empty (it must not exist), mode 0600.
fn create_private(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Writes `text` to a new 0600 temporary file beside `target`, synced; returns its path.
fn write_private_temp(target: &Path, text: &str) -> anyhow::Result<PathBuf> {
    use std::io::Write;
    let tmp = temp_beside(target, "tmp");
    let mut f = create_private(&tmp)?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    Ok(tmp)
}

/// Removes temporary files when dropped, unless disarmed.
struct Temps(Vec<PathBuf>);

impl Drop for Temps {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
            // SQLite's side files of a temporary database hold its pages too.
            for suffix in ["-wal", "-shm", "-journal"] {
                let mut side = p.as_os_str().to_owned();
                side.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(side));
            }
        }
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The master key the server would use, read only (never created): the configured one, or
/// `<data_dir>/master.key`.
fn configured_master_key(config: &ServerConfig) -> anyhow::Result<MasterKey> {
    if let Some(k) = &config.master_key {
        return MasterKey::parse(k).context("the configured master key");
    }
    let path = config.data_dir.join("master.key");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "--include-master-key: no master key configured and none in {}",
            path.display()
        )
    })?;
    MasterKey::parse(&text).with_context(|| format!("the master key in {}", path.display()))
}

/// Backs up the store `config` names into `args.to`.
pub async fn backup(config: &ServerConfig, args: &BackupArgs) -> anyhow::Result<BackupReport> {
    let db = sqlite_file(config)?;
    if !db.is_file() {
        bail!("no database at {} (wrong --data-dir?)", db.display());
    }
    let key_file = key_path(&args.to);
    for target in std::iter::once(&args.to).chain(args.include_master_key.then_some(&key_file)) {
        if target.is_dir() {
            bail!("{} is a directory", target.display());
        }
        if target.exists() && !args.force {
            bail!(
                "{} exists; choose another file or pass --force to replace it",
                target.display()
            );
        }
    }
    let key = if args.include_master_key {
        Some(configured_master_key(config)?)
    } else {
        None
    };
    let started = Instant::now();
    let tmp = temp_beside(&args.to, "tmp");
    create_private(&tmp)?;
    let mut temps = Temps(vec![tmp.clone()]);
    let info = backup_database(&db, &tmp)
        .await
        .with_context(|| format!("backing up {}", db.display()))?;
    let key_tmp = match &key {
        Some(k) => {
            let t = write_private_temp(&key_file, &k.encode())?;
            temps.0.push(t.clone());
            Some(t)
        }
        None => None,
    };
    if let Some(t) = &key_tmp {
        std::fs::rename(t, &key_file)
            .with_context(|| format!("cannot write {}", key_file.display()))?;
    }
    std::fs::rename(&tmp, &args.to)
        .with_context(|| format!("cannot write {}", args.to.display()))?;
    temps.0.clear();
    if key.is_none() && args.force && key_file.exists() {
        // A key left by an earlier backup to this name is not this backup's:
        // restore would take it for one.
        std::fs::remove_file(&key_file)
            .with_context(|| format!("cannot remove the stale {}", key_file.display()))?;
    }
    sync_dir(&parent_of(&args.to));
    Ok(BackupReport {
        file: args.to.display().to_string(),
        bytes: info.bytes,
        schema_version: info.schema_version,
        millis: started.elapsed().as_millis(),
        master_key_file: key.map(|_| key_file.display().to_string()),
    })
}

/// Whether `key` opens the backup's sealed signing keys (true when it has none).
async fn key_opens(db: &Path, key: &MasterKey) -> anyhow::Result<bool> {
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await?;
    let sealed: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT kid, secret FROM provider_keys WHERE secret IS NOT NULL AND length(secret) > 32",
    )
    .fetch_all(&mut conn)
    .await?;
    conn.close().await?;
    Ok(sealed.iter().all(|(kid, s)| key.open(kid, s).is_ok()))
}

/// A new directory `DIR/replaced-<unix time>[-n]/` (0700) for the files a
/// forced restore replaces; never one that exists (two restores in one
/// second keep both sets).
fn unique_aside(dir: &Path) -> anyhow::Result<PathBuf> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    for n in 0..1000 {
        let name = match n {
            0 => format!("replaced-{secs}"),
            n => format!("replaced-{secs}-{n}"),
        };
        let aside = dir.join(name);
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        match b.create(&aside) {
            Ok(()) => return Ok(aside),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", aside.display())),
        }
    }
    bail!(
        "cannot find a free replaced-<time> directory in {}",
        dir.display()
    )
}

/// Moves files set aside back to their places (after a failed restore).
fn put_back(moved: &[(PathBuf, PathBuf)]) {
    for (place, aside) in moved.iter().rev() {
        if let Err(e) = std::fs::rename(aside, place) {
            eprintln!(
                "error: could not move {} back to {}: {e}",
                aside.display(),
                place.display()
            );
        }
    }
}

/// Restores `args.from` into `args.data_dir`, writing nothing before every check has passed.
pub async fn restore(args: &RestoreArgs) -> anyhow::Result<(RestoreReport, Vec<String>)> {
    let mut notes = Vec::new();
    if !args.from.is_file() {
        bail!("no backup file at {}", args.from.display());
    }
    let info: BackupInfo = inspect(&args.from)
        .await
        .context("the backup cannot be restored")?;
    let key_file = key_path(&args.from);
    let key = if key_file.exists() {
        let text = std::fs::read_to_string(&key_file)
            .with_context(|| format!("cannot read {}", key_file.display()))?;
        let key = MasterKey::parse(&text)
            .with_context(|| format!("the master key in {}", key_file.display()))?;
        if !key_opens(&args.from, &key).await? {
            bail!(
                "the master key in {} does not open the backup's sealed signing keys \
                 (a key from another exchange?)",
                key_file.display()
            );
        }
        Some(key)
    } else {
        None
    };
    let dir = &args.data_dir;
    let db = dir.join("symbolon.db");
    let dir_key = dir.join("master.key");
    if db.exists() && !args.force {
        bail!(
            "{} already holds a database; stop its server and pass --force to replace it \
             (the old files are kept in {}/replaced-<time>/)",
            dir.display(),
            dir.display()
        );
    }
    if key.is_none() {
        match std::fs::read_to_string(&dir_key)
            .ok()
            .and_then(|t| MasterKey::parse(&t).ok())
        {
            Some(k) if key_opens(&args.from, &k).await? => {}
            Some(_) => notes.push(format!(
                "warning: {} does not open the backup's sealed signing keys; set the master key \
                 the backup was made with (SYMBOLON_MASTER_KEY or {})",
                dir_key.display(),
                dir_key.display()
            )),
            None => notes.push(format!(
                "the backup has no master key: the server needs the one it was made with \
                 (SYMBOLON_MASTER_KEY or {})",
                dir_key.display()
            )),
        }
    }
    if symbolon_match::engine::Engine::in_use(&dir.join("index")) {
        bail!(
            "a server is running on {} (its search index is locked); stop it first",
            dir.display()
        );
    }
    // Every check passed: now write. First the new files, beside their
    // places, so that a failed copy (a full disk) leaves the old ones where
    // they are.
    symbolon_server::ensure_data_dir(dir)?;
    let tmp = temp_beside(&db, "restore");
    let mut temps = Temps(vec![tmp.clone()]);
    {
        let mut out = create_private(&tmp)?;
        let mut src = std::fs::File::open(&args.from)
            .with_context(|| format!("cannot read {}", args.from.display()))?;
        std::io::copy(&mut src, &mut out)
            .and_then(|_| out.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
    }
    // The copy is what was checked: as many bytes, synced.
    let copied = std::fs::metadata(&tmp).map(|m| m.len()).unwrap_or(0);
    if copied != info.bytes {
        bail!(
            "the copy in the data directory has {copied} bytes, the backup {}",
            info.bytes
        );
    }
    let key_tmp = match &key {
        Some(k) => {
            let t = write_private_temp(&dir_key, &k.encode())?;
            temps.0.push(t.clone());
            Some(t)
        }
        None => None,
    };
    // Then the old files aside, into a directory of this restore's own.
    let mut replaced = None;
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    if args.force {
        let mut olds: Vec<PathBuf> = ["symbolon.db", "symbolon.db-wal", "symbolon.db-shm"]
            .iter()
            .map(|n| dir.join(n))
            .chain(std::iter::once(dir.join("index")))
            .filter(|p| p.exists())
            .collect();
        if key.is_some() && dir_key.exists() {
            olds.push(dir_key.clone());
        }
        if !olds.is_empty() {
            let aside = unique_aside(dir)?;
            for old in &olds {
                let to = aside.join(old.file_name().unwrap_or_default());
                if let Err(e) = std::fs::rename(old, &to) {
                    put_back(&moved);
                    return Err(e).with_context(|| {
                        format!("cannot move {} to {}", old.display(), to.display())
                    });
                }
                moved.push((old.clone(), to));
            }
            replaced = Some(aside.display().to_string());
        }
    }
    // The key first: a key without its database is harmless, a database without its key is not.
    if let Some(t) = &key_tmp {
        if let Err(e) = std::fs::rename(t, &dir_key) {
            put_back(&moved);
            return Err(e).with_context(|| format!("cannot write {}", dir_key.display()));
        }
    }
    if let Err(e) = std::fs::rename(&tmp, &db) {
        put_back(&moved);
        return Err(e).with_context(|| format!("cannot write {}", db.display()));
    }
    temps.0.clear();
    sync_dir(dir);
    Ok((
        RestoreReport {
            database: db.display().to_string(),
            bytes: info.bytes,
            schema_version: info.schema_version,
            master_key_restored: key.is_some(),
            replaced,
        },
        notes,
    ))
}

#[cfg(test)]
mod aside_tests {
    use super::*;

    /// Two forced restores in one second keep both sets of old files.
    #[test]
    fn each_restore_sets_aside_into_a_new_directory() {
        let dir = tempfile::tempdir().unwrap();
        let a = unique_aside(dir.path()).unwrap();
        let b = unique_aside(dir.path()).unwrap();
        assert_ne!(a, b);
        assert!(a.is_dir() && b.is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&b).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        // A failed restore puts what it moved back.
        let place = dir.path().join("symbolon.db");
        std::fs::write(&place, b"old").unwrap();
        let aside = a.join("symbolon.db");
        std::fs::rename(&place, &aside).unwrap();
        put_back(&[(place.clone(), aside.clone())]);
        assert_eq!(std::fs::read(&place).unwrap(), b"old");
        assert!(!aside.exists());
    }
}
