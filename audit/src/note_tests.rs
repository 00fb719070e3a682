//! Tests of `note.rs`.
use super::*;

const V1_KEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const V1_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
const V2_SEED: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const V2_KEY: &str = "example.com/hearings+685feff1+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const V2_NOTE: &str = "example.com/hearings\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n\u{2014} example.com/hearings aF/v8W4HJNMj8zVDV8uHo3MNPn9m0kONmruC52xn1hWrXF7x/g39RGcop4XzaOa8xqQrzx2+G4usPV+zkYXqE7f4qwM=\n";

fn v2_signer() -> Signer {
    let seed = b64_decode_strict(V2_SEED).unwrap();
    Signer::from_seed("example.com/hearings", &seed[1..]).unwrap()
}

#[test]
fn vector_1_signed_note() {
    let v = Verifier::parse(V1_KEY).unwrap();
    assert_eq!(v.to_string(), V1_KEY);
    let (note, by) = Note::open(V1_NOTE, std::slice::from_ref(&v)).unwrap();
    assert_eq!(note.body, "This is an example message.\n");
    assert_eq!(by, vec![&v]);
}

#[test]
fn vector_2_checkpoint() {
    let s = v2_signer();
    assert_eq!(s.verifier().to_string(), V2_KEY);
    let root =
        hex::decode("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328").unwrap();
    let cp = Checkpoint {
        origin: "example.com/hearings".into(),
        size: 8,
        root: root.try_into().unwrap(),
        extensions: vec![],
    };
    assert_eq!(cp.sign(&s).unwrap(), V2_NOTE);
    let v = Verifier::parse(V2_KEY).unwrap();
    let (got, by) = Checkpoint::open(
        V2_NOTE,
        Some("example.com/hearings"),
        std::slice::from_ref(&v),
    )
    .unwrap();
    assert_eq!(got, cp);
    assert_eq!(by, vec![v]);
}

#[test]
fn pkcs8_round_trip_and_redacted_debug() {
    let der = Signer::generate_pkcs8().unwrap();
    let s = Signer::from_pkcs8("log.example/x", &der).unwrap();
    let note = s.sign("hello\n").unwrap();
    Note::open(&note, &[s.verifier().clone()]).unwrap();
    assert!(format!("{s:?}").contains("redacted"));
    assert!(Signer::from_pkcs8("x", b"garbage").is_err());
}

#[test]
fn strict_parsing_rejects_variants() {
    let v = Verifier::parse(V2_KEY).unwrap();
    let known = [v];
    let bad = [
        V2_NOTE.replace('\n', "\r\n"),
        V2_NOTE.replace("\n8\n", "\n08\n"),
        V2_NOTE.replace("\n8\n", "\n+8\n"),
        V2_NOTE.replace('\u{2014}', "-"),
        V2_NOTE.replace("\u{2014} ", "\u{2014}  "),
        V2_NOTE.replace("qwM=", "qwN="),
        V2_NOTE.replace("qwM=", "qwM"),
        V2_NOTE.replace("Qyg=", "Qyh="),
        V2_NOTE.trim_end().to_string(),
        V2_NOTE.replace("\n\n", "\n"),
        V2_NOTE.replace("example.com/hearings\n8", "example.com/hearings\n9"),
        V2_NOTE.replace("Qyg=\n", "Qyg=\n\t\n"),
        V2_NOTE.replace("Qyg=\n", "Qyg=\n\n\n"),
    ];
    for (i, text) in bad.iter().enumerate() {
        assert!(
            Checkpoint::open(text, Some("example.com/hearings"), &known).is_err(),
            "variant {i} accepted: {text:?}"
        );
    }
    assert!(Checkpoint::open(V2_NOTE, Some("other"), &known).is_err());
    // Unknown key: parsed but not trusted.
    let other = Verifier::parse(V1_KEY).unwrap();
    assert_eq!(
        Note::open(V2_NOTE, &[other]).unwrap_err(),
        NoteError::UnknownSigner
    );
    for k in [
        "example.com/hearings+685FEFF1+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "example.com/hearings+685feff2+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "example.com/hearings+685feff1+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "example.com/hearings+685feff1+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX",
        "example.com/hear ings+685feff1+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "example.com/hearings+685feff1",
    ] {
        assert!(Verifier::parse(k).is_err(), "{k}");
    }
}

#[test]
fn checkpoint_extensions_round_trip() {
    let s = v2_signer();
    let cp = Checkpoint {
        origin: "o".into(),
        size: 0,
        root: [3; 32],
        extensions: vec!["ext one".into()],
    };
    let text = cp.sign(&s).unwrap();
    let (got, _) = Checkpoint::open(&text, None, &[s.verifier().clone()]).unwrap();
    assert_eq!(got, cp);
    assert!(Checkpoint::parse("o\n0\nAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=\n").is_ok());
    assert!(Checkpoint::parse("o\n00\nAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=\n").is_err());
    assert!(Checkpoint::parse("o\n1\nAwMD\n").is_err());
}
