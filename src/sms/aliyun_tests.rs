//! Known-answer and round-trip tests of `aliyun.rs`.
use super::*;
use crate::sms::signing::parse_query;

#[test]
fn vector_run_instances() {
    let empty = sha256_hex(b"");
    let sig = sign(
        "YourAccessKeySecret",
        &Acs3Input {
            method: "POST",
            uri: "/",
            query: &[
                ("RegionId", "cn-shanghai"),
                (
                    "ImageId",
                    "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
                ),
            ],
            headers: &[
                ("host", "ecs.cn-shanghai.aliyuncs.com"),
                ("x-acs-action", "RunInstances"),
                ("x-acs-content-sha256", &empty),
                ("x-acs-date", "2023-10-26T10:22:32Z"),
                ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
                ("x-acs-version", "2014-05-26"),
            ],
            hashed_payload: &empty,
        },
    );
    assert_eq!(
        sig.signature,
        "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    );
    assert_eq!(
        sig.authorization("YourAccessKeyId"),
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;\
         x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,\
         Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    );
}

fn settings() -> AliyunSettings {
    AliyunSettings {
        endpoint: "http://127.0.0.1:9".into(),
        access_key_id: "LTAItest".into(),
        access_key_secret: SecretString::from("s3cret"),
        sign_name: "交警".into(),
        templates: [("hearing_code".to_string(), "SMS_1".to_string())].into(),
    }
}

#[test]
fn prepared_request_verifies() {
    let msg = Outgoing {
        message_id: "m-2".into(),
        phone: "13812345678".into(),
        template: "hearing_code".into(),
        params: vec![("code".into(), "654321".into())],
        text: String::new(),
        code: None,
    };
    let p = prepare(&settings(), &msg, 1_700_000_000, "n1").unwrap();
    let url = url::Url::parse(&p.url).unwrap();
    let query = parse_query(url.query().unwrap());
    assert!(query.contains(&("OutId".into(), "m-2".into())));
    assert!(query.contains(&("TemplateParam".into(), r#"{"code":"654321"}"#.into())));
    let header = |name: &str| -> Option<String> {
        if name == "host" {
            return Some("127.0.0.1:9".into());
        }
        p.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let key = |id: &str| (id == "LTAItest").then(|| "s3cret".to_string());
    assert!(verify("POST", "/", &query, &header, &p.body, &key, 1_700_000_000).is_ok());
    assert_eq!(
        verify("POST", "/", &query, &header, &p.body, &key, 1_700_001_000),
        Err("InvalidTimeStamp.Expired")
    );
    let mut q2 = query.clone();
    q2[0].1.push('9');
    assert_eq!(
        verify("POST", "/", &q2, &header, &p.body, &key, 1_700_000_000),
        Err("SignatureDoesNotMatch")
    );
}

#[test]
fn answers_are_classified() {
    let ok = br#"{"Code":"OK","Message":"OK","BizId":"9006197469364984400","RequestId":"r"}"#;
    assert_eq!(
        interpret(200, ok).unwrap().provider_message_id,
        "9006197469364984400"
    );
    let limit = br#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"limit","RequestId":"r"}"#;
    assert!(matches!(
        interpret(200, limit),
        Err(SendError::Throttled { .. })
    ));
    let sig = br#"{"Code":"SignatureDoesNotMatch","Message":"x","RequestId":"r"}"#;
    assert!(matches!(
        interpret(400, sig),
        Err(SendError::Rejected { .. })
    ));
    assert!(interpret(503, b"").unwrap_err().may_fail_over());
    let sys = br#"{"Code":"isp.SYSTEM_ERROR","Message":"x","RequestId":"r"}"#;
    assert!(interpret(200, sys).unwrap_err().may_fail_over());
}
