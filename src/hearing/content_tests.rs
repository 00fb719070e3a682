//! Unit tests of `content`.

use super::*;
use serde_json::json;

fn err(step: Step, body: Value) -> String {
    parse(step, &body).unwrap_err().field
}

#[test]
fn identity_records_both_checks_and_the_still() {
    let ok = json!({"id_number_matches": true, "face_matches": true, "still_id": "e1"});
    for f in ["id_number_matches", "face_matches", "still_id"] {
        let mut b = ok.clone();
        b.as_object_mut().unwrap().remove(f);
        assert_eq!(err(Step::Identity, b), f);
    }
    let long = "e".repeat(MAX_EVIDENCE_ID + 1);
    let mut b = ok.clone();
    b["still_id"] = json!(long);
    assert_eq!(err(Step::Identity, b), "still_id");
    let i = parse(Step::Identity, &ok).unwrap();
    assert_eq!(i.effect(), Effect::Continue);
    assert_eq!(
        i.payload(),
        json!({"id_number_matches": true, "face_matches": true, "still_id": "e1"})
    );
    // A failed check needs remarks and sends the case to the window.
    let no = json!({"id_number_matches": true, "face_matches": false, "still_id": "e1"});
    assert_eq!(err(Step::Identity, no.clone()), "remarks");
    let mut with = no.clone();
    with["remarks"] = json!("相貌与证件照片不符");
    let i = parse(Step::Identity, &with).unwrap();
    assert_eq!(i.effect(), Effect::Refer(ReferReason::IdentityNotVerified));
    assert_eq!(i.payload()["remarks"], "相貌与证件照片不符");
}

#[test]
fn only_a_refusal_may_lack_the_still_and_it_says_why() {
    let off = json!({"id_number_matches": false, "face_matches": false,
        "remarks": "当事人手机无摄像头，无法核验证件", "no_still": "citizen_video_off"});
    let i = parse(Step::Identity, &off).unwrap();
    assert_eq!(i.effect(), Effect::Refer(ReferReason::IdentityNotVerified));
    assert_eq!(i.payload()["no_still"], "citizen_video_off");
    assert!(i.payload().get("still_id").is_none());
    // Without a reason the still is required; both at once is refused.
    let mut none = off.clone();
    none.as_object_mut().unwrap().remove("no_still");
    assert_eq!(err(Step::Identity, none), "still_id");
    let mut both = off.clone();
    both["still_id"] = json!("e1");
    assert_eq!(err(Step::Identity, both), "still_id");
    // An unknown reason, a reason without remarks, a verified identity without a still.
    let mut odd = off.clone();
    odd["no_still"] = json!("forgot");
    assert_eq!(err(Step::Identity, odd), "no_still");
    let mut bare = off.clone();
    bare.as_object_mut().unwrap().remove("remarks");
    assert_eq!(err(Step::Identity, bare), "remarks");
    let ok =
        json!({"id_number_matches": true, "face_matches": true, "no_still": "citizen_video_off"});
    assert_eq!(err(Step::Identity, ok), "no_still");
}

#[test]
fn transcript_not_empty() {
    assert_eq!(err(Step::Inquiry, json!({"transcript": []})), "transcript");
    assert_eq!(err(Step::Inquiry, json!({})), "transcript");
    assert_eq!(
        err(
            Step::Inquiry,
            json!({"transcript": [{"q": "谁驾驶？", "a": "  "}]})
        ),
        "transcript[0].a"
    );
    let ok = parse(
        Step::Inquiry,
        &json!({"transcript": [{"q": "谁驾驶？", "a": "本人"}]}),
    )
    .unwrap();
    assert_eq!(ok.payload()["transcript"][0]["a"], "本人");
}

#[test]
fn notice_carries_everything_and_the_rights_text() {
    let good = json!({"facts": "2026年11月1日驾驶鲁A12345闯红灯", "legal_basis": "《道路交通安全法》第九十条",
        "proposed_fine_yuan": 200, "proposed_points": 6});
    let StepInput::Notice(n) = parse(Step::Notice, &good).unwrap() else {
        panic!()
    };
    assert_eq!(n.rights_text, RIGHTS_TEXT);
    assert!(n.rights_text.contains("第四十四条") && n.rights_text.contains("第四十五条"));
    for f in [
        "facts",
        "legal_basis",
        "proposed_fine_yuan",
        "proposed_points",
    ] {
        let mut b = good.clone();
        b.as_object_mut().unwrap().remove(f);
        assert_eq!(err(Step::Notice, b), f);
    }
    let mut b = good.clone();
    b["proposed_fine_yuan"] = json!(-1);
    assert_eq!(err(Step::Notice, b), "proposed_fine_yuan");
    let mut b = good.clone();
    b["rights_text"] = json!("你可以走了");
    assert_eq!(err(Step::Notice, b), "rights_text");
    let mut b = good;
    b["facts"] = json!("   ");
    assert_eq!(err(Step::Notice, b), "facts");
}

#[test]
fn statements() {
    let d = parse(
        Step::Statement,
        &json!({"disputed": true, "text": "不是我开的"}),
    )
    .unwrap();
    assert_eq!(d.effect(), Effect::Refer(ReferReason::Disputed));
    assert_eq!(err(Step::Statement, json!({"disputed": true})), "text");
    let w = parse(Step::Statement, &json!({"waived": true})).unwrap();
    assert_eq!(w.effect(), Effect::Continue);
    assert_eq!(w.payload(), json!({"kind": "waived"}));
    assert_eq!(err(Step::Statement, json!({})), "text");
    let t = parse(Step::Statement, &json!({"text": "认可"})).unwrap();
    assert_eq!(t.effect(), Effect::Continue);
}

#[test]
fn ruling_may_not_exceed_the_notice() {
    let text = |s: &str| StepText::parse("t", Some(s.into())).unwrap();
    let n = Notice {
        facts: text("f"),
        legal_basis: text("l"),
        proposed_fine_yuan: FineYuan::new(200).unwrap(),
        proposed_points: Points::new(6).unwrap(),
        rights_text: RightsText::parse("r", None, RIGHTS_TEXT).unwrap(),
        records: vec![],
    };
    let r = |fine, points| Ruling {
        fine_yuan: FineYuan::new(fine).unwrap(),
        points: Points::new(points).unwrap(),
        legal_basis: text("l"),
    };
    assert!(ruling_within_notice(&n, &r(200, 6)));
    assert!(ruling_within_notice(&n, &r(100, 3)));
    assert!(!ruling_within_notice(&n, &r(201, 6)));
    assert!(!ruling_within_notice(&n, &r(200, 7)));
}

#[test]
fn confirmation_and_consent() {
    let c = |v: Value| parse(Step::Confirmation, &v);
    let yes = c(json!({"accept": true, "e_service_consent": true, "signature_id": "s1"})).unwrap();
    assert_eq!(yes.effect(), Effect::Continue);
    assert_eq!(yes.payload()["e_service_consent"], true);
    assert_eq!(yes.payload()["signature_id"], "s1");
    assert_eq!(yes.signature_id(), Some("s1"));
    let no = c(json!({"accept": false, "e_service_consent": true, "signature_id": "s1"})).unwrap();
    assert_eq!(no.effect(), Effect::Refer(ReferReason::ConfirmationRefused));
    assert_eq!(no.payload()["e_service_consent"], false);
    let paper =
        c(json!({"accept": true, "e_service_consent": false, "signature_id": "s1"})).unwrap();
    assert_eq!(
        paper.effect(),
        Effect::Refer(ReferReason::NoElectronicServiceConsent)
    );
    // Consent is never implied by an omitted field.
    assert_eq!(
        err(
            Step::Confirmation,
            json!({"accept": true, "signature_id": "s1"})
        ),
        "e_service_consent"
    );
    assert_eq!(
        err(
            Step::Confirmation,
            json!({"accept": true, "e_service_consent": true})
        ),
        "signature_id"
    );
    assert_eq!(err(Step::Confirmation, json!({})), "accept");
    assert_eq!(err(Step::Confirmation, json!({"accept": "yes"})), "accept");
    assert_eq!(
        err(
            Step::Confirmation,
            json!({"accept": true, "e_service_consent": "yes"})
        ),
        "e_service_consent"
    );
}

#[test]
fn transcript_ack_accepts_signed_or_asks_for_a_correction() {
    let ok = parse(
        Step::TranscriptAck,
        &json!({"accept": true, "signature_id": "s1"}),
    )
    .unwrap();
    assert_eq!(ok.effect(), Effect::Continue);
    assert_eq!(ok.payload(), json!({"accept": true, "signature_id": "s1"}));
    assert_eq!(ok.signature_id(), Some("s1"));
    let fix = parse(
        Step::TranscriptAck,
        &json!({"accept": false, "correction": "第二问我答的是“不是本人”"}),
    )
    .unwrap();
    assert_eq!(fix.effect(), Effect::Redo);
    assert_eq!(fix.signature_id(), None);
    assert_eq!(fix.payload()["correction"], "第二问我答的是“不是本人”");
    assert_eq!(
        err(Step::TranscriptAck, json!({"accept": true})),
        "signature_id"
    );
    assert_eq!(
        err(Step::TranscriptAck, json!({"accept": false})),
        "correction"
    );
    assert_eq!(
        err(
            Step::TranscriptAck,
            json!({"accept": false, "correction": "  "})
        ),
        "correction"
    );
    assert_eq!(
        err(
            Step::TranscriptAck,
            json!({"accept": false, "correction": "x".repeat(MAX_TEXT + 1)})
        ),
        "correction"
    );
    assert_eq!(
        err(
            Step::TranscriptAck,
            json!({"accept": true, "signature_id": "s1", "correction": "x"})
        ),
        "correction"
    );
    assert_eq!(
        err(
            Step::TranscriptAck,
            json!({"accept": false, "signature_id": "s1", "correction": "x"})
        ),
        "signature_id"
    );
    assert_eq!(err(Step::TranscriptAck, json!({})), "accept");
}

#[test]
fn receipt_completes() {
    assert_eq!(
        parse(Step::Receipt, &json!({"signature_id": "s1"}))
            .unwrap()
            .effect(),
        Effect::Complete
    );
    assert_eq!(err(Step::Receipt, json!({})), "signature_id");
    assert_eq!(
        parse(Step::NoticeAck, &json!({})).unwrap().payload(),
        json!({})
    );
}
