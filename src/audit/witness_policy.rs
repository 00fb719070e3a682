//! The witness policy of a verifier: a checkpoint counts only with at least `quorum` valid
//! cosignatures (c2sp.org/tlog-cosignature v1) by trusted witnesses, each one reported.
//! Pure; the log's own signature is checked elsewhere (`verify`).

use chrono::DateTime;

use super::{
    cosign::{CosignVerifier, cosignatures},
    verify::{Check, Report},
};

/// Trusted witnesses and how many of them must have cosigned.
#[derive(Debug, Clone, Default)]
pub struct WitnessPolicy {
    pub witnesses: Vec<CosignVerifier>,
    pub quorum: usize,
}

impl WitnessPolicy {
    /// From `--witness` vkeys and `--quorum` (default: all of them).
    pub fn parse(vkeys: &[String], quorum: Option<usize>) -> anyhow::Result<Self> {
        let witnesses = vkeys
            .iter()
            .map(|k| CosignVerifier::parse(k).map_err(|e| anyhow::anyhow!("--witness {k}: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let quorum = quorum.unwrap_or(witnesses.len());
        if quorum > witnesses.len() {
            anyhow::bail!(
                "--quorum {quorum} is more than the {} trusted witnesses",
                witnesses.len()
            );
        }
        if quorum == 0 && !witnesses.is_empty() {
            anyhow::bail!("--quorum must be at least 1");
        }
        Ok(Self { witnesses, quorum })
    }

    pub fn is_empty(&self) -> bool {
        self.witnesses.is_empty()
    }

    /// One check per trusted witness, then the quorum check, over the signed `note`.
    pub fn checks(&self, note: &str) -> Vec<Check> {
        let mut checks = Vec::new();
        let mut valid = 0;
        for w in &self.witnesses {
            let (ok, detail) = match cosignatures(note, std::slice::from_ref(w)) {
                Ok(c) if !c.is_empty() => {
                    valid += 1;
                    let at = i64::try_from(c[0].timestamp)
                        .ok()
                        .and_then(|t| DateTime::from_timestamp(t, 0))
                        .map_or_else(|| c[0].timestamp.to_string(), |t| t.to_rfc3339());
                    (true, format!("cosigned at {at}"))
                }
                Ok(_) => (false, "no cosignature by this witness".to_string()),
                Err(e) => (false, format!("cosignature rejected: {e}")),
            };
            checks.push(Check {
                name: format!("witness {}", w.name),
                ok,
                detail,
            });
        }
        checks.push(Check {
            name: "witness quorum".into(),
            ok: valid >= self.quorum,
            detail: format!(
                "{valid} of {} trusted witnesses cosigned, {} required",
                self.witnesses.len(),
                self.quorum
            ),
        });
        checks
    }

    /// Adds the checks to `report` (which then fails unless all pass).
    pub fn apply(&self, note: &str, report: &mut Report) {
        for c in self.checks(note) {
            report.ok &= c.ok;
            report.checks.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::cosign::Cosigner;

    const BODY: &str = "o.example/log\n2\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn quorum_counts_only_valid_cosignatures_of_trusted_witnesses() {
        let w: Vec<Cosigner> = (1..=3u8)
            .map(|i| Cosigner::from_seed(&format!("w{i}"), &[i; 32]).unwrap())
            .collect();
        let vkeys: Vec<String> = w.iter().map(|c| c.verifier().to_string()).collect();
        let mut note = format!("{BODY}\n\u{2014} o.example/log AAAAAAAA\n");
        for c in &w[..2] {
            note += &format!("{}\n", c.cosign(BODY, 5).unwrap());
        }
        let p = WitnessPolicy::parse(&vkeys, Some(2)).unwrap();
        let checks = p.checks(&note);
        assert_eq!(checks.len(), 4);
        assert!(checks[0].ok && checks[1].ok && !checks[2].ok && checks[3].ok);
        assert!(!WitnessPolicy::parse(&vkeys, None).unwrap().checks(&note)[3].ok);
        // A forged witness key (same name, another key) is not counted.
        let forged = Cosigner::from_seed("w1", &[9; 32])
            .unwrap()
            .verifier()
            .to_string();
        let p = WitnessPolicy::parse(&[forged, vkeys[1].clone()], Some(2)).unwrap();
        assert!(!p.checks(&note)[2].ok);
        assert!(WitnessPolicy::parse(&vkeys, Some(4)).is_err());
        assert!(WitnessPolicy::parse(&vkeys[..1], Some(0)).is_err());
    }
}
