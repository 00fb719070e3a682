//! [`StoreArgs`]: the options every command that touches the store takes (`--config`,
//! `--data-dir`), shared by the commands' files.

use std::path::PathBuf;

use crate::config::Config;

/// Options every command that touches the store takes.
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// A TOML file overriding config/default.toml.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Where the SQLite file, keys and recordings live.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
}

impl StoreArgs {
    pub fn load(&self) -> anyhow::Result<Config> {
        let mut config = Config::load(self.config.as_deref())?;
        if let Some(d) = &self.data_dir {
            config.server.data_dir = d.clone();
        }
        Ok(config)
    }
}
