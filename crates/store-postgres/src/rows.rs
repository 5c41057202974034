//! Row → record conversions (the shared mapping code, for this backend's rows).

symbolon_store::sql_row_mappers!(sqlx::postgres::PgRow, sqlx::Postgres);
