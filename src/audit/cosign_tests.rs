//! Tests of `cosign.rs`: the spec's examples (c2sp.org/tlog-cosignature, tlog-witness), and a
//! cross-check against independent code (the `signed_note` crate's note parser and key ids,
//! `ed25519-dalek` for the signatures).
use super::*;
use crate::audit::note::Note;

/// The checkpoint body of the spec's examples.
const SPEC_BODY: &str =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
/// tlog-cosignature's example of a cosigned checkpoint.
const SPEC_COSIGNED: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";

fn cosigner(name: &str) -> Cosigner {
    Cosigner::from_seed(name, &[7u8; 32]).unwrap()
}

#[test]
fn signed_message_is_the_spec_example() {
    assert_eq!(
        signed_message(1679315147, SPEC_BODY),
        "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    );
}

#[test]
fn spec_example_line_has_the_timestamped_layout() {
    // The example's key is not published, so check its layout: key id, the timestamp of the
    // spec's message example (big-endian), a 64-byte Ed25519 signature.
    let note = Note::parse(SPEC_COSIGNED).unwrap();
    assert_eq!(note.body, SPEC_BODY);
    let w = &note.signatures[1];
    assert_eq!(w.name, "witness.example.com/w1");
    assert_eq!(w.signature.len(), 8 + 64);
    assert_eq!(
        u64::from_be_bytes(w.signature[..8].try_into().unwrap()),
        1679315147
    );
    // Signatures by keys we do not trust are ignored, not errors.
    let other = cosigner("witness.example.com/w1");
    assert_eq!(
        cosignatures(SPEC_COSIGNED, &[other.verifier().clone()]).unwrap(),
        vec![]
    );
}

#[test]
fn cosign_verify_roundtrip_and_vkey() {
    let c = cosigner("witness.example/w1");
    let v = c.verifier().clone();
    let vkey = v.to_string();
    assert_eq!(CosignVerifier::parse(&vkey).unwrap(), v);
    assert!(vkey.starts_with("witness.example/w1+"));
    let raw = b64_decode_strict(vkey.rsplit('+').next().unwrap()).unwrap();
    assert_eq!(raw[0], 0x04);
    let line = c.cosign(SPEC_BODY, 1679315147).unwrap();
    let note = format!("{SPEC_BODY}\n{line}\n");
    let got = cosignatures(&note, std::slice::from_ref(&v)).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].timestamp, 1679315147);
    assert_eq!(got[0].line, line);
    // A duplicated line counts once.
    let twice = format!("{SPEC_BODY}\n{line}\n{line}\n");
    assert_eq!(cosignatures(&twice, &[v]).unwrap().len(), 1);
}

#[test]
fn bad_cosignatures_are_rejected() {
    let c = cosigner("w");
    let v = c.verifier().clone();
    let line = c.cosign(SPEC_BODY, 100).unwrap();
    // Another checkpoint.
    let other = SPEC_BODY.replace("20852163", "20852164");
    let err = cosignatures(&format!("{other}\n{line}\n"), std::slice::from_ref(&v));
    assert!(matches!(err, Err(NoteError::BadSignature(_))), "{err:?}");
    // Another key under the same name: not matched (different key id), so ignored.
    let imposter = Cosigner::from_seed("w", &[9u8; 32]).unwrap();
    let forged = imposter.cosign(SPEC_BODY, 100).unwrap();
    assert_eq!(
        cosignatures(
            &format!("{SPEC_BODY}\n{forged}\n"),
            std::slice::from_ref(&v)
        )
        .unwrap(),
        vec![]
    );
    // A changed timestamp breaks the signature.
    let note = Note::parse(&format!("{SPEC_BODY}\n{line}\n")).unwrap();
    let mut sig = note.signatures[0].clone();
    sig.signature[7] ^= 1;
    assert!(v.verify(SPEC_BODY, &sig).is_err());
    // Zero or too-large timestamps, wrong lengths.
    assert!(c.cosign(SPEC_BODY, 0).is_err());
    assert!(c.cosign(SPEC_BODY, 1 << 63).is_err());
    sig = note.signatures[0].clone();
    sig.signature.truncate(70);
    assert!(v.verify(SPEC_BODY, &sig).is_err());
    // A log key (type 0x01) is not a cosigner key.
    let log_vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    assert!(CosignVerifier::parse(log_vkey).is_err());
    // A wrong key id.
    let mut bad = v.to_string();
    bad.replace_range(2..4, if &bad[2..4] == "00" { "11" } else { "00" });
    assert!(CosignVerifier::parse(&bad).is_err());
}

/// An independent cosignature/v1 verifier: `ed25519-dalek` for Ed25519, `signed_note` for the
/// note format and key ids.
struct DalekCosigVerifier {
    name: String,
    id: u32,
    key: ed25519_dalek::VerifyingKey,
}

impl signed_note::Verifier for DalekCosigVerifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let (Some(ts), Some(s)) = (sig.get(..8), sig.get(8..)) else {
            return false;
        };
        let ts = u64::from_be_bytes(ts.try_into().unwrap());
        let mut m = format!("cosignature/v1\ntime {ts}\n").into_bytes();
        m.extend_from_slice(msg);
        let Ok(s) = ed25519_dalek::Signature::from_slice(s) else {
            return false;
        };
        use ed25519_dalek::Verifier as _;
        self.key.verify(&m, &s).is_ok()
    }
}

struct DalekCosigner(DalekCosigVerifier, ed25519_dalek::SigningKey, u64);

impl signed_note::Signer for DalekCosigner {
    fn name(&self) -> &str {
        &self.0.name
    }
    fn key_id(&self) -> u32 {
        self.0.id
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        use ed25519_dalek::Signer as _;
        let mut m = format!("cosignature/v1\ntime {}\n", self.2).into_bytes();
        m.extend_from_slice(msg);
        let mut out = self.2.to_be_bytes().to_vec();
        out.extend_from_slice(&self.1.sign(&m).to_bytes());
        Ok(out)
    }
}

fn dalek(name: &str, seed: [u8; 32], ts: u64) -> DalekCosigner {
    let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
    let mut typed = vec![0x04];
    typed.extend_from_slice(sk.verifying_key().as_bytes());
    let v = DalekCosigVerifier {
        name: name.into(),
        id: signed_note::key_id(name, &typed),
        key: sk.verifying_key(),
    };
    DalekCosigner(v, sk, ts)
}

#[test]
fn cross_check_with_signed_note_and_ed25519_dalek() {
    // Ours → theirs.
    let ours = cosigner("witness.example/w1");
    let theirs = dalek("witness.example/w1", [7u8; 32], 0);
    assert_eq!(u32::from_be_bytes(ours.verifier().key_id), theirs.0.id);
    let line = ours.cosign(SPEC_BODY, 1700000000).unwrap();
    let text = format!("{SPEC_BODY}\n{line}\n");
    let note = signed_note::Note::from_bytes(text.as_bytes()).unwrap();
    let list = signed_note::VerifierList::new(vec![Box::new(theirs.0)]);
    let (ok, _) = note.verify(&list).unwrap();
    assert_eq!(ok.len(), 1);

    // Theirs → ours.
    let signer = dalek("witness.example/w2", [3u8; 32], 1234567890);
    let mut note = signed_note::Note::new(SPEC_BODY.as_bytes(), &[]).unwrap();
    note.add_sigs(&[&signer]).unwrap();
    let text = String::from_utf8(note.to_bytes()).unwrap();
    let pk: [u8; 32] = *signer.1.verifying_key().as_bytes();
    let v = CosignVerifier::new("witness.example/w2", pk).unwrap();
    let got = cosignatures(&text, &[v]).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].timestamp, 1234567890);
}
