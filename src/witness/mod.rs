//! A transparency-log witness anyone can run (c2sp.org/tlog-witness, cosignature/v1): a court,
//! procuratorate or notary office runs `remote-hearing witness serve` with its own key and
//! state; it cosigns a log's checkpoints only when each one is consistent with the last it
//! cosigned, so the log cannot show two histories. Needs no database server, no Redis.
//!
//! `request` (the spec's checks, pure), `state` (SQLite), `server` (HTTP), and here the key
//! file and the two commands.
//!
//! Key file: one line `PRIVATE+KEY+<name>+<hex key id>+<base64(0x04 || 32-byte seed)>` (the
//! private-key text of Go's `sumdb/note`, with the cosignature type byte), mode 0600.

pub mod request;
pub mod server;
pub mod state;

use std::{io::Write, path::Path};

use anyhow::Context;
use base64::{Engine as _, engine::general_purpose::STANDARD};
use clap::Subcommand;
use rand_core::{OsRng, RngCore};

use crate::audit::{
    cosign::{ALG_COSIGNATURE_V1, Cosigner},
    note::b64_decode_strict,
};

#[derive(Subcommand, Debug)]
pub enum WitnessCommand {
    /// Create a witness key file (mode 0600); prints its cosignature verifier key (type 0x04).
    Keygen {
        /// The witness's name, a schema-less URL, e.g. witness.court.example.cn/w1.
        #[arg(long)]
        name: String,
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Run the witness: prints its verifier key, then `listening on http://HOST:PORT`.
    Serve {
        /// Address to listen on (port 0 picks one).
        #[arg(long)]
        listen: String,
        /// The key file from `witness keygen`.
        #[arg(long)]
        key: std::path::PathBuf,
        /// Directory of the witness's SQLite state (created if missing).
        #[arg(long)]
        state: std::path::PathBuf,
        /// A log's verifier key (`origin+keyid+base64`, type 0x01); repeatable.
        #[arg(long = "log", required = true)]
        logs: Vec<String>,
    },
}

/// Writes a new key file (never overwriting); returns its cosigner.
pub fn keygen(name: &str, out: &Path) -> anyhow::Result<Cosigner> {
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let cosigner = Cosigner::from_seed(name, &seed).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut key = vec![ALG_COSIGNATURE_V1];
    key.extend_from_slice(&seed);
    let text = format!(
        "PRIVATE+KEY+{name}+{}+{}\n",
        hex::encode(cosigner.verifier().key_id),
        STANDARD.encode(&key)
    );
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(out)
        .with_context(|| format!("cannot create {} (it must not exist yet)", out.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(cosigner)
}

/// Reads a key file written by [`keygen`].
pub fn load_key(path: &Path) -> anyhow::Result<Cosigner> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read witness key {}", path.display()))?;
    let bad = || anyhow::anyhow!("{}: not a witness key file", path.display());
    let rest = text
        .trim_end_matches('\n')
        .strip_prefix("PRIVATE+KEY+")
        .ok_or_else(bad)?;
    // Names have no `+`; base64 may.
    let mut parts = rest.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let key = b64_decode_strict(key).ok_or_else(bad)?;
    if key.len() != 33 || key[0] != ALG_COSIGNATURE_V1 {
        return Err(bad());
    }
    let cosigner = Cosigner::from_seed(name, &key[1..]).map_err(|e| anyhow::anyhow!("{e}"))?;
    if hex::encode(cosigner.verifier().key_id) != id {
        anyhow::bail!("{}: the key id does not match the key", path.display());
    }
    Ok(cosigner)
}

/// Opens the key, logs and state for `serve`.
pub async fn open(key: &Path, state: &Path, logs: &[String]) -> anyhow::Result<server::Witness> {
    let cosigner = load_key(key)?;
    let logs = request::Logs::parse(logs).map_err(|e| anyhow::anyhow!("--log: {e}"))?;
    let state = state::State::open(state)
        .await
        .with_context(|| format!("cannot open the witness state in {}", state.display()))?;
    Ok(server::Witness {
        cosigner,
        logs,
        state,
    })
}

/// Runs a command; `serve` stops when `shutdown` resolves.
pub async fn execute(
    command: WitnessCommand,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    match command {
        WitnessCommand::Keygen { name, out } => {
            let c = keygen(&name, &out)?;
            println!("{}", c.verifier());
            Ok(())
        }
        WitnessCommand::Serve {
            listen,
            key,
            state,
            logs,
        } => {
            crate::telemetry::init_tracing(false);
            let w = open(&key, &state, &logs).await?;
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
            let addr = listener.local_addr()?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", w.cosigner.verifier())?;
            writeln!(out, "listening on http://{addr}")?;
            out.flush()?;
            drop(out);
            server::serve(listener, w, shutdown).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_roundtrip_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.key");
        let c = keygen("witness.example/w1", &p).unwrap();
        assert_eq!(load_key(&p).unwrap().verifier(), c.verifier());
        assert!(
            keygen("witness.example/w1", &p).is_err(),
            "never overwrites"
        );
        let text = std::fs::read_to_string(&p).unwrap();
        let other = dir.path().join("x.key");
        std::fs::write(&other, text.replace("witness.example/w1", "w2")).unwrap();
        assert!(load_key(&other).is_err(), "key id checked");
        std::fs::write(&other, "PRIVATE+KEY+w+00000000+AAAA\n").unwrap();
        assert!(load_key(&other).is_err());
    }
}
