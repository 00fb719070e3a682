//! Start-up refusals of configurations the law does not allow in production (composition: they
//! read several areas' sections).

use crate::config::Config;

/// Refuses a configuration that would take a step outside a recorded call in production.
pub fn live_call(config: &Config) -> anyhow::Result<()> {
    if !config.is_production() {
        return Ok(());
    }
    if !config.hearing.require_live_call {
        anyhow::bail!("hearing.require_live_call = false is not allowed in production mode");
    }
    if !config.call.media_enabled || !config.call.recording_enabled {
        anyhow::bail!(
            "the call must be recorded in production mode (call.media_enabled and call.recording_enabled)"
        );
    }
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
        c.server.mode = crate::config::Mode::Development;
        c.hearing.require_live_call = false;
        assert!(live_call(&c).is_ok());
    }
}
