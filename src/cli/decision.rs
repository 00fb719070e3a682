//! `remote-hearing decision …`: `verify FILE` (a served HTML page or PDF; exit 0 when its seal
//! verifies, 1 otherwise, with one line saying why), `keygen` (a brigade's seal key) and
//! `facts` (set a brigade's decision facts).

use std::path::PathBuf;

use clap::Subcommand;

use super::args::StoreArgs;
use crate::hearing::decision::{facts, seal};

#[derive(Subcommand, Debug)]
pub enum DecisionCommand {
    /// Verify the electronic seal of a decision or proof-of-service file (HTML page or PDF)
    /// offline.
    Verify {
        file: PathBuf,
        /// The brigade's verifier key (`name+keyid+base64`): also check the seal is by it.
        #[arg(long)]
        key: Option<String>,
    },
    /// Create a brigade's seal key (PKCS#8 Ed25519, mode 0600); prints the verifier key.
    Keygen {
        #[arg(long)]
        brigade: String,
        /// Usually DECISION_KEYS_DIR/<brigade id>.p8.
        #[arg(long)]
        out: PathBuf,
    },
    /// Set a brigade's decision facts (doc code, review body, court, where to pay).
    Facts {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        brigade: String,
        /// Prefix of decision numbers, e.g. 济公交三决字 (unique).
        #[arg(long)]
        doc_code: String,
        /// 复议机关.
        #[arg(long)]
        review_body: String,
        /// 管辖法院.
        #[arg(long)]
        court: String,
        /// Where the fine is paid.
        #[arg(long)]
        pay_place: String,
    },
}

pub async fn execute(cmd: DecisionCommand) -> anyhow::Result<()> {
    match cmd {
        DecisionCommand::Verify { file, key } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            match seal::verify(&bytes, key.as_deref()) {
                Ok(v) => {
                    println!(
                        "OK: the {} {}'s seal verifies (sha256 {}, key {}){}",
                        v.kind,
                        v.document.name(),
                        v.sha256,
                        v.key,
                        if key.is_some() {
                            ""
                        } else {
                            "; pass --key to pin the brigade's key"
                        }
                    );
                    Ok(())
                }
                Err(why) => {
                    println!("FAILED: {why}");
                    anyhow::bail!("{} does not verify", file.display())
                }
            }
        }
        DecisionCommand::Keygen { brigade, out } => {
            let s = crate::audit::keys::keygen(&seal::key_name(&brigade), &out)?;
            println!("{}", s.verifier());
            Ok(())
        }
        DecisionCommand::Facts {
            store,
            brigade,
            doc_code,
            review_body,
            court,
            pay_place,
        } => {
            let config = store.load()?;
            let f = facts::BrigadeFacts {
                doc_code,
                review_body,
                court,
                pay_place,
            };
            f.check()
                .map_err(|(field, m)| anyhow::anyhow!("--{}: {m}", field.replace('_', "-")))?;
            let db = crate::store::Db::connect(&config.database, &config.server.data_dir).await?;
            db.migrate().await?;
            let now = chrono::Utc::now().timestamp_millis();
            facts::set(&db.write, &brigade, &f, now).await?;
            println!("{brigade}");
            Ok(())
        }
    }
}
