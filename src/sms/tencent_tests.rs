//! Known-answer and round-trip tests of `tencent.rs`.
use super::*;

// Known-answer vectors (shared/testdata/README.md, from Tencent's API 3.0 signing examples).
const PAYLOAD: &[u8] =
    br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
const CT: &str = "application/json; charset=utf-8";
const HOST: &str = "cvm.tencentcloudapi.com";

fn input<'a>(headers: &'a [(&'a str, &'a str)]) -> Tc3Input<'a> {
    Tc3Input {
        method: "POST",
        uri: "/",
        query: "",
        headers,
        payload: PAYLOAD,
        service: "cvm",
        timestamp: 1551113065,
    }
}

#[test]
fn payload_hash() {
    assert_eq!(
        sha256_hex(PAYLOAD),
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    );
    assert_eq!(utc_date(1551113065), "2019-02-25");
}

#[test]
fn vector_content_type_and_host() {
    let sig = sign(
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        &input(&[("Content-Type", CT), ("Host", HOST)]),
    );
    assert_eq!(
        sig.hashed_canonical_request,
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    );
    assert_eq!(
        sig.signature,
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
    assert_eq!(
        sig.authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "2019-02-25", "cvm"),
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, \
         SignedHeaders=content-type;host, \
         Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
}

#[test]
fn vector_with_action_header() {
    let secret = "*".repeat(32);
    let sig = sign(
        &secret,
        &input(&[
            ("content-type", CT),
            ("host", HOST),
            ("X-TC-Action", "DescribeInstances"),
        ]),
    );
    assert!(
        sig.canonical_request
            .contains("x-tc-action:describeinstances\n")
    );
    assert_eq!(
        sig.hashed_canonical_request,
        "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
    );
    assert_eq!(
        sig.signature,
        "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
    );
}

fn settings() -> TencentSettings {
    TencentSettings {
        endpoint: "http://127.0.0.1:9/".into(),
        region: "ap-guangzhou".into(),
        secret_id: "AKIDtest".into(),
        secret_key: SecretString::from("k3y"),
        sdk_app_id: "1400000000".into(),
        sign_name: "Court".into(),
        templates: [("login_code".to_string(), "1110".to_string())].into(),
    }
}

fn msg() -> Outgoing {
    Outgoing {
        message_id: "m-1".into(),
        phone: "13812345678".into(),
        template: "login_code".into(),
        params: vec![
            ("code".into(), "123456".into()),
            ("minutes".into(), "5".into()),
        ],
        text: String::new(),
        code: Some("123456".into()),
    }
}

#[test]
fn prepared_request_verifies_and_carries_session_context() {
    let p = prepare(&settings(), &msg(), 1_700_000_000).unwrap();
    let body: SendSmsRequest = serde_json::from_slice(&p.body).unwrap();
    assert_eq!(body.phone_number_set, vec!["+8613812345678"]);
    assert_eq!(body.session_context, "m-1");
    assert_eq!(body.template_param_set, vec!["123456", "5"]);
    let header = |name: &str| -> Option<String> {
        if name == "host" {
            return Some("127.0.0.1:9".into());
        }
        p.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let key = |id: &str| (id == "AKIDtest").then(|| "k3y".to_string());
    assert!(verify("POST", "/", "", &header, &p.body, &key, 1_700_000_100).is_ok());
    assert_eq!(
        verify("POST", "/", "", &header, &p.body, &key, 1_700_000_400),
        Err("AuthFailure.SignatureExpire")
    );
    let mut tampered = p.body.clone();
    tampered[5] ^= 1;
    assert_eq!(
        verify("POST", "/", "", &header, &tampered, &key, 1_700_000_000),
        Err("AuthFailure.SignatureFailure")
    );
    let wrong = |_: &str| Some("other".to_string());
    assert!(verify("POST", "/", "", &header, &p.body, &wrong, 1_700_000_000).is_err());
}

#[test]
fn answers_are_classified() {
    let ok = br#"{"Response":{"SendStatusSet":[{"SerialNo":"5000:1","PhoneNumber":"+8613812345678","Fee":1,"SessionContext":"m-1","Code":"Ok","Message":"send success","IsoCode":"CN"}],"RequestId":"r"}}"#;
    assert_eq!(interpret(200, ok).unwrap().provider_message_id, "5000:1");
    let limited = br#"{"Response":{"SendStatusSet":[{"SerialNo":"","PhoneNumber":"+8613812345678","Fee":0,"SessionContext":"m-1","Code":"LimitExceeded.PhoneNumberOneHourLimit","Message":"limit","IsoCode":"CN"}],"RequestId":"r"}}"#;
    assert!(matches!(
        interpret(200, limited),
        Err(SendError::Throttled { .. })
    ));
    let auth = br#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"bad"},"RequestId":"r"}}"#;
    assert!(matches!(
        interpret(200, auth),
        Err(SendError::Rejected { .. })
    ));
    let internal =
        br#"{"Response":{"Error":{"Code":"InternalError.Timeout","Message":"t"},"RequestId":"r"}}"#;
    assert!(interpret(200, internal).unwrap_err().may_fail_over());
    assert!(interpret(502, b"bad gateway").unwrap_err().may_fail_over());
    assert!(matches!(
        interpret(200, b"<html>"),
        Err(SendError::Transport(_))
    ));
    let rate = br#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"qps"},"RequestId":"r"}}"#;
    assert!(matches!(
        interpret(200, rate),
        Err(SendError::RateLimited { .. })
    ));
}

#[test]
fn authorization_round_trip() {
    let a = parse_authorization(
        "TC3-HMAC-SHA256 Credential=ID/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=ab",
    )
    .unwrap();
    assert_eq!(a.secret_id, "ID");
    assert_eq!(a.signed_headers, vec!["content-type", "host"]);
    assert!(parse_authorization("HMAC x").is_none());
}
