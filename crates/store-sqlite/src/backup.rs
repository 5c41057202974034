//! Online backups of a SQLite database and the checks a backup passes before it is restored.
//!
//! * [`backup_database`] copies a database that a running server may be writing: `VACUUM INTO`
//!   on a read-only connection of its own reads one consistent snapshot (a WAL read transaction)
//!   while the writer goes on, and writes a compact copy in rollback-journal mode — a plain
//!   SQLite file, openable by `sqlite3`. It never migrates or writes the source.
//! * [`inspect`] is what a file must pass before it may replace a data directory's database:
//!   the SQLite header and a size that agrees with it, `PRAGMA integrity_check` = `ok`, and
//!   `_sqlx_migrations` holding only migrations this binary knows, fully applied, with their
//!   checksums (a newer schema is refused: downgrade is not supported).

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection};
use std::path::Path;

/// What a checked backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// The newest migration applied to it.
    pub schema_version: i64,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Why a file cannot be (or could not be made into) a backup.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a SQLite database (it does not start with the SQLite header)")]
    NotSqlite { path: String },
    #[error("{path} is truncated: its header says {expected} bytes, the file has {actual}")]
    Truncated {
        path: String,
        expected: u64,
        actual: u64,
    },
    #[error("{path} is a live database: its write-ahead log {wal} is not empty (make a backup with `symbolon backup`)")]
    LiveWal { path: String, wal: String },
    #[error("{path} is corrupt: {}", .problems.join("; "))]
    Corrupt { path: String, problems: Vec<String> },
    #[error("{path} is not a Symbolon database (it has no _sqlx_migrations table)")]
    NotSymbolon { path: String },
    #[error("{path}: migration {version} was left half applied (dirty)")]
    Dirty { path: String, version: i64 },
    #[error("{path} was migrated by a newer Symbolon (schema version {found}, this binary knows up to {known}); use that version or a newer one — downgrade is refused")]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("{path}: migration {version} ({description}) is not one this binary knows")]
    UnknownMigration {
        path: String,
        version: i64,
        description: String,
    },
    #[error("{path}: migration {version} ({description}) differs from this binary's (checksum mismatch)")]
    ChecksumMismatch {
        path: String,
        version: i64,
        description: String,
    },
    #[error("{path}: SQLite: {source}")]
    Sqlite { path: String, source: sqlx::Error },
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: shown(path),
        source,
    }
}

fn sqlite(path: &Path) -> impl FnOnce(sqlx::Error) -> BackupError + '_ {
    move |source| BackupError::Sqlite {
        path: shown(path),
        source,
    }
}

/// Copies the database at `db` into `to` (which must not exist, or be empty: create it empty
/// with the mode the copy should have), consistent as of one instant, while others may write
/// `db`; then checks the copy with [`inspect`]. `db` is only read (it must exist).
pub async fn backup_database(db: &Path, to: &Path) -> Result<BackupInfo, BackupError> {
    std::fs::metadata(db).map_err(io(db))?;
    // SQLite takes the target as text: a path it would change (not UTF-8)
    // or read as a URI (`file:`) is refused, never written elsewhere.
    let target = match to.to_str() {
        Some(t) if !t.starts_with("file:") => t.to_string(),
        _ => {
            return Err(BackupError::Io {
                path: shown(to),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "a backup path must be UTF-8 and not start with `file:`",
                ),
            })
        }
    };
    let mut src = SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .map_err(sqlite(db))?;
    let copied = sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(&mut src)
        .await
        .map_err(sqlite(db));
    src.close().await.map_err(sqlite(db))?;
    copied?;
    // A rollback-journal file: self-contained, no `-wal` beside it to forget.
    let copy = SqliteConnectOptions::new()
        .filename(to)
        .create_if_missing(false)
        .journal_mode(SqliteJournalMode::Delete)
        .connect()
        .await
        .map_err(sqlite(to))?;
    copy.close().await.map_err(sqlite(to))?;
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .map_err(io(to))?;
    inspect(to).await
}

/// Checks that `path` is a whole, uncorrupted Symbolon database this binary may open: see the
/// module documentation. Reads only.
pub async fn inspect(path: &Path) -> Result<BackupInfo, BackupError> {
    let bytes = check_header(path)?;
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false)
        .connect()
        .await
        .map_err(sqlite(path))?;
    let checked = check_open(path, &mut conn).await;
    let _ = conn.close().await;
    let schema_version = checked?;
    Ok(BackupInfo {
        schema_version,
        bytes,
    })
}

/// The header's magic, and a file size that agrees with the page count the header states.
fn check_header(path: &Path) -> Result<u64, BackupError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let len = f.metadata().map_err(io(path))?.len();
    let mut h = [0u8; 100];
    let whole = len >= 100 && f.read_exact(&mut h).is_ok();
    if !whole || &h[..16] != b"SQLite format 3\0" {
        if len < 100 && len > 0 {
            let mut start = Vec::new();
            let _ = std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut start));
            if b"SQLite format 3\0".starts_with(&start[..start.len().min(16)]) {
                return Err(BackupError::Truncated {
                    path: shown(path),
                    expected: 100,
                    actual: len,
                });
            }
        }
        return Err(BackupError::NotSqlite { path: shown(path) });
    }
    let page_size = match u16::from_be_bytes([h[16], h[17]]) {
        1 => 65536,
        n => u64::from(n),
    };
    let change_counter = &h[24..28];
    let pages = u64::from(u32::from_be_bytes([h[28], h[29], h[30], h[31]]));
    // The in-header size is valid when the "version-valid-for" number matches the change counter.
    let expected = if &h[92..96] == change_counter && pages > 0 {
        pages * page_size
    } else {
        len.div_ceil(page_size.max(1)) * page_size
    };
    if len < expected || page_size == 0 || len % page_size != 0 {
        return Err(BackupError::Truncated {
            path: shown(path),
            expected,
            actual: len,
        });
    }
    // WAL mode (read/write versions 2): a non-empty `-wal` beside it holds commits the file lacks.
    if h[18] == 2 {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let wal = std::path::PathBuf::from(wal);
        if std::fs::metadata(&wal)
            .map(|m| m.len() > 0)
            .unwrap_or(false)
        {
            return Err(BackupError::LiveWal {
                path: shown(path),
                wal: shown(&wal),
            });
        }
    }
    Ok(len)
}

/// Integrity and migrations on an open connection; the schema version.
async fn check_open(path: &Path, conn: &mut SqliteConnection) -> Result<i64, BackupError> {
    let corrupt = |e: sqlx::Error| BackupError::Corrupt {
        path: shown(path),
        problems: vec![e.to_string()],
    };
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
        .map_err(corrupt)?;
    if problems != ["ok"] {
        return Err(BackupError::Corrupt {
            path: shown(path),
            problems: problems.into_iter().take(5).collect(),
        });
    }
    let has_table: Option<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(corrupt)?;
    if has_table.is_none() {
        return Err(BackupError::NotSymbolon { path: shown(path) });
    }
    let rows = sqlx::query(
        "SELECT version, description, success, checksum FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(corrupt)?;
    let known = crate::known_schema_version();
    let mut newest = 0;
    for row in &rows {
        let version: i64 = row.try_get(0).map_err(corrupt)?;
        let description: String = row.try_get(1).map_err(corrupt)?;
        let success: bool = row.try_get(2).map_err(corrupt)?;
        let checksum: Vec<u8> = row.try_get(3).map_err(corrupt)?;
        newest = newest.max(version);
        if version > known {
            return Err(BackupError::TooNew {
                path: shown(path),
                found: rows
                    .iter()
                    .filter_map(|r| r.try_get::<i64, _>(0).ok())
                    .max()
                    .unwrap_or(version),
                known,
            });
        }
        if !success {
            return Err(BackupError::Dirty {
                path: shown(path),
                version,
            });
        }
        match crate::MIGRATOR.iter().find(|m| m.version == version) {
            None => {
                return Err(BackupError::UnknownMigration {
                    path: shown(path),
                    version,
                    description,
                })
            }
            Some(m) if *m.checksum != checksum[..] => {
                return Err(BackupError::ChecksumMismatch {
                    path: shown(path),
                    version,
                    description,
                })
            }
            Some(_) => {}
        }
    }
    Ok(newest)
}
