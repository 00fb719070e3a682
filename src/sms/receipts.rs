//! Delivery receipts (status reports) pushed by the providers: Tencent's callback (a JSON array of
//! `{user_receive_time, nationcode, mobile, report_status, errmsg, description, sid}`) and
//! Alibaba's HTTP batch push `SmsReport` (a JSON array of `{phone_number, send_time, report_time,
//! success, err_code, err_msg, sms_size, biz_id, out_id}`), parsed into one `Receipt` shape, plus
//! the acknowledgement bodies each provider expects. Owns parsing only; the outbox applies them.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One delivery report, provider-neutral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub provider: &'static str,
    /// Tencent `sid` (= SendSms `SerialNo`), Alibaba `biz_id` (= SendSms `BizId`).
    pub provider_message_id: String,
    /// Our outbox id when the provider echoes it (Alibaba `out_id`).
    pub out_id: Option<String>,
    pub delivered: bool,
    /// The carrier/provider status code (`DELIVRD`, `DELIVERED`, `UNDELIV`, ...).
    pub code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TencentReport {
    #[serde(default)]
    pub user_receive_time: String,
    #[serde(default)]
    pub nationcode: String,
    #[serde(default)]
    pub mobile: String,
    pub report_status: String,
    #[serde(default)]
    pub errmsg: String,
    #[serde(default)]
    pub description: String,
    pub sid: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AliyunReport {
    #[serde(default)]
    pub phone_number: String,
    #[serde(default)]
    pub send_time: String,
    #[serde(default)]
    pub report_time: String,
    pub success: bool,
    #[serde(default)]
    pub err_code: String,
    #[serde(default)]
    pub err_msg: String,
    #[serde(default)]
    pub sms_size: String,
    pub biz_id: String,
    #[serde(default)]
    pub out_id: String,
}

/// Parse a Tencent callback body (an array; a single object is accepted too).
pub fn parse_tencent(body: &[u8]) -> Result<Vec<Receipt>, serde_json::Error> {
    let reports: Vec<TencentReport> = parse_array(body)?;
    Ok(reports
        .into_iter()
        .map(|r| Receipt {
            provider: "tencent",
            provider_message_id: r.sid,
            out_id: None,
            delivered: r.report_status.eq_ignore_ascii_case("SUCCESS"),
            code: r.errmsg,
        })
        .collect())
}

/// Parse an Alibaba `SmsReport` push body (an array; a single object is accepted too).
pub fn parse_aliyun(body: &[u8]) -> Result<Vec<Receipt>, serde_json::Error> {
    let reports: Vec<AliyunReport> = parse_array(body)?;
    Ok(reports
        .into_iter()
        .map(|r| Receipt {
            provider: "aliyun",
            provider_message_id: r.biz_id,
            out_id: (!r.out_id.is_empty()).then_some(r.out_id),
            delivered: r.success,
            code: r.err_code,
        })
        .collect())
}

fn parse_array<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<Vec<T>, serde_json::Error> {
    let v: Value = serde_json::from_slice(body)?;
    if v.is_array() {
        serde_json::from_value(v)
    } else {
        Ok(vec![serde_json::from_value(v)?])
    }
}

/// What Tencent expects back from the callback.
pub fn tencent_ack(ok: bool) -> Value {
    if ok {
        json!({"result": 0, "errmsg": "OK"})
    } else {
        json!({"result": 1, "errmsg": "rejected"})
    }
}

/// What Alibaba expects back from the push.
pub fn aliyun_ack(ok: bool) -> Value {
    if ok {
        json!({"code": 0, "msg": "接收成功"})
    } else {
        json!({"code": 1, "msg": "rejected"})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tencent_sample() {
        let body = br#"[{"user_receive_time":"2015-10-17 08:03:04","nationcode":"86","mobile":"13xxxxxxxxx","report_status":"SUCCESS","errmsg":"DELIVRD","description":"ok","sid":"xxxxxxx"}]"#;
        let r = parse_tencent(body).unwrap();
        assert_eq!(r.len(), 1);
        assert!(r[0].delivered);
        assert_eq!(r[0].provider_message_id, "xxxxxxx");
        assert_eq!(r[0].code, "DELIVRD");
    }

    #[test]
    fn aliyun_sample() {
        let body = r#"[{"phone_number":"1381111****","send_time":"2017-01-01 00:00:00","report_time":"2017-01-01 00:00:00","success":false,"err_code":"UNDELIV","err_msg":"失败","sms_size":"1","biz_id":"12345","out_id":"67890"}]"#;
        let r = parse_aliyun(body.as_bytes()).unwrap();
        assert!(!r[0].delivered);
        assert_eq!(r[0].out_id.as_deref(), Some("67890"));
        assert!(parse_aliyun(b"{").is_err());
        let single = br#"{"success":true,"biz_id":"1"}"#;
        assert_eq!(parse_aliyun(single).unwrap().len(), 1);
    }
}
