//! Start-up refusals of configurations the law does not allow in production (composition: they
//! read several areas' sections).

use crate::{config::Config, store::Db};

/// Refuses a configuration that would take a step outside a recorded call in production, or
/// record a no-show less than 10 minutes after the join code.
pub fn live_call(config: &Config) -> anyhow::Result<()> {
    if !config.is_production() {
        return Ok(());
    }
    if !config.hearing.require_live_call {
        anyhow::bail!("hearing.require_live_call = false is not allowed in production mode");
    }
    if config.hearing.no_show_after_code_s < crate::hearing::fate::MIN_NO_SHOW_AFTER_CODE_S {
        anyhow::bail!(
            "hearing.no_show_after_code_s below 600 is not allowed in production mode (a no-show \
             needs the code sent at least 10 minutes before)"
        );
    }
    if !config.call.media_enabled || !config.call.recording_enabled {
        anyhow::bail!(
            "the call must be recorded in production mode (call.media_enabled and call.recording_enabled)"
        );
    }
    Ok(())
}

/// Refuses retention periods below the law's floor or out of order, in every mode
/// (`RetentionConfig::check`).
pub fn retention(config: &Config) -> anyhow::Result<()> {
    config.retention.check().map_err(anyhow::Error::msg)
}

/// Refuses, in production, a database that would answer 2xx before a write is on disk
/// (PostgreSQL `synchronous_commit = off` or `fsync = off`, SQLite `database.durable_ack =
/// false`): the law needs every acknowledged step, booking and cancel to survive a power cut.
/// In development it starts, with a warning on stderr and in the log.
pub async fn durability(config: &Config, db: &Db) -> anyhow::Result<()> {
    let Some(problem) = db.durability_problem().await? else {
        return Ok(());
    };
    if config.is_production() {
        anyhow::bail!(
            "the database does not make acknowledged writes durable ({problem}); refused in production mode"
        );
    }
    eprintln!("WARNING: acknowledged writes are not durable: {problem}");
    tracing::warn!(%problem, "acknowledged writes are not durable");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_an_unrecorded_call() {
        let mut c = Config::defaults().unwrap();
        c.server.mode = crate::config::Mode::Production;
        c.hearing.require_live_call = false;
        assert!(live_call(&c).is_err());
        c.hearing.require_live_call = true;
        c.call.recording_enabled = false;
        assert!(live_call(&c).is_err());
        c.call.recording_enabled = true;
        assert!(live_call(&c).is_ok());
        c.hearing.no_show_after_code_s = 599;
        assert!(live_call(&c).is_err());
        c.hearing.no_show_after_code_s = 600;
        c.server.mode = crate::config::Mode::Development;
        c.hearing.require_live_call = false;
        assert!(live_call(&c).is_ok());
    }
}
