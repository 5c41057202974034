//! Scratch PostgreSQL databases for benchmarks: `<prefix>_<time>_<random>`,
//! created fresh through an admin URL and dropped afterwards, so a run never
//! touches data it did not make.

use anyhow::Context;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Executor};

/// A database made for one run; [`ScratchDb::drop_database`] removes it.
#[derive(Debug)]
pub struct ScratchDb {
    admin_url: String,
    /// The database's name.
    pub database: String,
}

impl ScratchDb {
    /// Creates `<prefix>_<unix seconds>_<random>` through `admin_url`.
    pub async fn create(admin_url: &str, prefix: &str) -> anyhow::Result<Self> {
        let mut admin = PgConnection::connect(admin_url)
            .await
            .with_context(|| format!("connecting to PostgreSQL at {}", redact(admin_url)))?;
        let database = format!(
            "{prefix}_{}_{:08x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            rand::random::<u32>()
        );
        admin
            .execute(
                format!("CREATE DATABASE {database} ENCODING 'UTF8' TEMPLATE template0").as_str(),
            )
            .await
            .with_context(|| format!("creating database {database}"))?;
        admin.close().await.ok();
        Ok(Self {
            admin_url: admin_url.to_string(),
            database,
        })
    }

    /// The admin URL pointed at this database.
    pub fn url(&self) -> anyhow::Result<String> {
        let mut url = url::Url::parse(&self.admin_url).context("parsing the PostgreSQL URL")?;
        url.set_path(&format!("/{}", self.database));
        Ok(url.to_string())
    }

    /// Drops the database (closing whatever is still connected to it).
    pub async fn drop_database(&self) -> anyhow::Result<()> {
        let mut admin = PgConnection::connect(&self.admin_url).await?;
        admin
            .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database).as_str())
            .await
            .with_context(|| format!("dropping database {}", self.database))?;
        admin.close().await.ok();
        Ok(())
    }
}

/// `url` with any password replaced by `***`.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_names_the_scratch_database_and_keeps_the_rest() {
        let db = ScratchDb {
            admin_url: "postgres://u:pw@127.0.0.1:5432/postgres?sslmode=disable".into(),
            database: "symbolon_bench_1_ab".into(),
        };
        assert_eq!(
            db.url().unwrap(),
            "postgres://u:pw@127.0.0.1:5432/symbolon_bench_1_ab?sslmode=disable"
        );
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
    }
}
