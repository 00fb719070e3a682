//! The schema's migrations: `migrations/common/` runs on every backend; `migrations/sqlite/`
//! and `migrations/postgres/` hold only what differs (a version there replaces the common one
//! of the same number on that backend, a new version runs there alone). SQLite has its own
//! `…200002_booking_fate_status` (a table rebuild: its CHECK cannot be altered).

use std::collections::BTreeMap;

use sqlx::migrate::{Migration, Migrator};

use super::Backend;

static COMMON: Migrator = sqlx::migrate!("./migrations/common");
static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

/// The migrations of `backend`, in version order.
pub fn for_backend(backend: Backend) -> Migrator {
    let own = match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    Migrator::with_migrations(merge(COMMON.iter(), own.iter()))
}

/// Common migrations overlaid with a backend's own, by version.
fn merge<'a>(
    common: impl Iterator<Item = &'a Migration>,
    own: impl Iterator<Item = &'a Migration>,
) -> Vec<Migration> {
    let mut by_version: BTreeMap<i64, Migration> = BTreeMap::new();
    for m in common.chain(own) {
        by_version.insert(m.version, m.clone());
    }
    by_version.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_backend_runs_every_common_migration_once_in_order() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let m = for_backend(backend);
            let versions: Vec<i64> = m.iter().map(|m| m.version).collect();
            let mut sorted = versions.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(versions, sorted);
            assert_eq!(versions.len(), COMMON.iter().count());
            assert!(versions.contains(&20261203000001), "{versions:?}");
        }
    }

    #[test]
    fn a_backend_migration_replaces_the_common_one_of_its_version() {
        let common: Vec<Migration> = COMMON.iter().take(2).cloned().collect();
        let mut own = common[1].clone();
        own.sql = sqlx::SqlStr::from_static("SELECT 1");
        let merged = merge(common.iter(), std::iter::once(&own));
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[1].sql.as_str(), "SELECT 1");
        assert_eq!(merged[0].sql.as_str(), common[0].sql.as_str());
    }
}
