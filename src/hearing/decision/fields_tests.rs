use super::*;
use crate::hearing::decision::{html, seal};
use chrono::TimeZone;

fn records() -> Vec<RecordFact> {
    vec![RecordFact {
        record_no: "R1<x>".into(),
        time: "2026-11-02 08:31".into(),
        place: "经十路与舜耕路路口".into(),
        behaviour: "机动车违反禁令标志指示".into(),
    }]
}

fn inputs(records: &[RecordFact]) -> Inputs<'_> {
    Inputs {
        decision_no: decision_no("济公交三决字", 2026, 7),
        hearing_id: "h1",
        issued_at: Utc.with_ymd_and_hms(2026, 11, 16, 2, 0, 0).unwrap(),
        tz: chrono_tz::Asia::Shanghai,
        authority: "测试交警大队".into(),
        authority_address: "测试路1号".into(),
        review_body: "测试市公安局".into(),
        court: "测试市历下区人民法院".into(),
        pay_place: "交管12123 App 或工商银行各网点".into(),
        officer: OfficerRef {
            name: "张三".into(),
            badge: "9001".into(),
        },
        party: Party {
            name: "李四".into(),
            id_number: "11010519491231002X".into(),
            licence_no: "11010519491231002X".into(),
        },
        phone: "13800001234",
        plate: "鲁A12345",
        violations: r#"[{"record_no": "R1<x>", "fine_yuan": 200, "points": 6}]"#,
        records,
        facts: "闯红灯".into(),
        statement: "当事人放弃陈述申辩".into(),
        legal_basis: "《道路交通安全法》第九十条".into(),
        fine_yuan: 200,
        points: 6,
        recordings: vec![RecordingRef {
            id: "rec1".into(),
            kind: "media".into(),
            participant: Some("citizen".into()),
            sha256: "ab".repeat(32),
        }],
        id_still_sha256: Some("ef".repeat(32)),
        audit_head: Some((5, "cd".into())),
        participants: vec![],
    }
}

#[test]
fn deadlines_and_fields() {
    let r = records();
    let f = build(inputs(&r)).unwrap();
    assert_eq!(f.decision_no, "济公交三决字〔2026〕第000007号");
    assert_eq!(f.party_phone_masked, "138****1234");
    assert_eq!(f.pay_by, "2026年12月01日");
    assert_eq!(f.issued_date, "2026年11月16日");
    assert!(f.issued_at.ends_with("+08:00"));
    assert_eq!(f.violations[0].place, "经十路与舜耕路路口");
}

#[test]
fn nothing_defaults() {
    let r = records();
    let mut i = inputs(&r);
    i.court = " ".into();
    assert_eq!(build(i).unwrap_err().field, "brigade.court");
    let mut i = inputs(&r);
    i.party.id_number = String::new();
    assert_eq!(build(i).unwrap_err().field, "party.id_number");
    let mut i = inputs(&r);
    i.violations = "{corrupt";
    assert_eq!(build(i).unwrap_err().field, "booking.violations");
    let mut i = inputs(&r);
    i.id_still_sha256 = None;
    assert_eq!(build(i).unwrap_err().field, "identity.still_sha256");
    let none: Vec<RecordFact> = vec![];
    assert_eq!(build(inputs(&none)).unwrap_err().field, "notice.records");
    assert_eq!(timezone("").unwrap_err().field, "brigade.timezone");
    assert_eq!(timezone("Mars/Base").unwrap_err().field, "brigade.timezone");
    assert_eq!(timezone("Asia/Urumqi").unwrap(), chrono_tz::Asia::Urumqi);
}

#[test]
fn record_facts_have_limits() {
    let mut r = records();
    r[0].place = "x".repeat(MAX_FACT + 1);
    let e = RecordFact::parse_all(Some(r)).unwrap_err();
    assert_eq!(e.field, "records[0].place");
    let r = records();
    let e = RecordFact::parse_all(Some(vec![r[0].clone(), r[0].clone()])).unwrap_err();
    assert_eq!(e.field, "records[1].record_no");
    assert_eq!(RecordFact::parse_all(None).unwrap(), vec![]);
}

#[test]
fn article_is_escaped_complete_and_has_no_dates_under_review_and_court() {
    let r = records();
    let f = build(inputs(&r)).unwrap();
    let a = html::article(&f);
    assert!(a.contains("R1&lt;x&gt;"));
    for needle in [
        "李四",
        "11010519491231002X",
        "138****1234",
        "鲁A12345",
        "经十路与舜耕路路口",
        "机动车违反禁令标志指示",
        "rec1",
        &"ab".repeat(32),
        &"ef".repeat(32),
        "60日内向测试市公安局申请行政复议",
        "6个月内依法向测试市历下区人民法院提起行政诉讼",
        "罚款人民币200元",
        "百分之三",
        "2026年12月01日",
        "张三（警号 9001）",
        "测试路1号",
        "size=5",
    ] {
        assert!(a.contains(needle), "{needle}");
    }
    assert!(a.contains("<b>复议机关：</b>测试市公安局</p>"));
    assert!(a.contains("<b>管辖法院：</b>测试市历下区人民法院</p>"));
}

#[test]
fn the_seal_verifies_and_catches_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let signer = seal::load(&dir.path().join("b1.p8"), "b1", true).unwrap();
    let r = records();
    let f = build(inputs(&r)).unwrap();
    let a = html::article(&f);
    let sha = html::digest(a.as_bytes());
    let note = seal::seal_html(&signer, &sha);
    let key = signer.verifier().to_string();
    let page = html::page(&a, &sha, &note, &key);
    let v = seal::verify(page.as_bytes(), Some(&key)).unwrap();
    assert_eq!((v.kind, v.sha256.as_str()), ("html", sha.as_str()));
    let forged = page.replace("罚款人民币200元", "罚款人民币20元");
    assert!(
        seal::verify(forged.as_bytes(), None)
            .unwrap_err()
            .contains("changed")
    );
    let other = seal::load(&dir.path().join("b2.p8"), "b2", true).unwrap();
    let err = seal::verify(page.as_bytes(), Some(&other.verifier().to_string())).unwrap_err();
    assert!(err.contains("not by the given key"), "{err}");
    let pdf = seal::seal_pdf(&signer, b"%PDF-1.7\nbody\n%%EOF".to_vec());
    assert_eq!(seal::verify(&pdf, Some(&key)).unwrap().kind, "pdf");
    let mut bad = pdf.clone();
    bad[10] = b'X';
    assert!(seal::verify(&bad, None).is_err());
}

#[test]
fn the_pdf_embeds_the_font_states_every_field_and_is_sealed() {
    let cfg = crate::hearing::decision::DecisionConfig::default();
    let font = crate::hearing::decision::pdf::load_font(&cfg.font_path, cfg.font_index)
        .expect("the CJK font (fonts-wqy-microhei) must be installed");
    let dir = tempfile::tempdir().unwrap();
    let signer = seal::load(&dir.path().join("b1.p8"), "b1", true).unwrap();
    let r = records();
    let f = build(inputs(&r)).unwrap();
    let sha = html::digest(html::article(&f).as_bytes());
    let note = seal::seal_html(&signer, &sha);
    let key = signer.verifier().to_string();
    let started = std::time::Instant::now();
    let body = crate::hearing::decision::pdf::render(&f, &sha, &note, &key, font).unwrap();
    let elapsed = started.elapsed();
    let pdf = seal::seal_pdf(&signer, body);
    assert!(
        pdf.len() < 2_000_000,
        "the font is subset: {} bytes",
        pdf.len()
    );
    assert_eq!(seal::verify(&pdf, Some(&key)).unwrap().kind, "pdf");
    let path = dir.path().join("d.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) must be installed");
    let text: String = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect();
    for needle in [
        "济公交三决字〔2026〕第000007号",
        "测试交警大队",
        "李四",
        "11010519491231002X",
        "138****1234",
        "鲁A12345",
        "R1<x>",
        "经十路与舜耕路路口",
        "rec1",
        &"ab".repeat(32),
        "60日内向测试市公安局申请行政复议",
        "复议机关：测试市公安局",
        "管辖法院：测试市历下区人民法院",
        "2026年12月01日",
        "百分之三",
        "张三（警号9001）",
        &sha,
    ] {
        assert!(text.contains(needle), "{needle} not in {text}");
    }
    eprintln!("PDF rendered in {elapsed:?}, {} bytes", pdf.len());
}
