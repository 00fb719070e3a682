//! The decision document (公安交通管理行政处罚决定书), pure: its fields, the printable Chinese
//! HTML, and its SHA-256. The digest covers the exact bytes of the `<article>` element (the
//! document proper); the page around it shows the digest, and the `service` audit entry
//! records it, so a printed or downloaded copy can be checked against the audit log.

use chrono::{DateTime, Months, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Days to apply for administrative review (行政复议法 第二十条).
pub const REVIEW_DAYS: i64 = 60;
/// Months to bring an administrative lawsuit (行政诉讼法 第四十六条).
pub const LITIGATION_MONTHS: u32 = 6;
/// Days to pay (行政处罚法 第六十七条).
pub const PAY_DAYS: i64 = 15;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DecisionFields {
    pub decision_no: String,
    pub hearing_id: String,
    pub issued_at: String,
    pub authority: String,
    pub authority_address: String,
    pub officer_name: String,
    pub officer_badge: String,
    pub party_phone_masked: String,
    pub plate: String,
    #[schema(value_type = Object)]
    pub violations: serde_json::Value,
    pub facts: String,
    pub statement: String,
    pub legal_basis: String,
    pub fine_yuan: i64,
    pub points: i64,
    pub pay_by: String,
    pub pay_where: String,
    pub review_days: i64,
    pub review_by: String,
    pub litigation_months: u32,
    pub litigation_by: String,
    pub service: String,
    /// `size` and root hash (hex) of the audit log when the document was issued.
    pub audit_checkpoint: String,
}

/// Inputs of [`build`].
pub struct Inputs<'a> {
    pub decision_no: String,
    pub hearing_id: &'a str,
    pub issued_at: DateTime<Utc>,
    pub tz: Tz,
    pub authority: String,
    pub authority_address: String,
    pub officer_name: String,
    pub officer_badge: String,
    pub phone: &'a str,
    pub plate: &'a str,
    pub violations: serde_json::Value,
    pub facts: String,
    pub statement: String,
    pub legal_basis: String,
    pub fine_yuan: i64,
    pub points: i64,
    pub audit_head: Option<(u64, String)>,
}

/// `138****1234`.
pub fn mask_phone(p: &str) -> String {
    let c: Vec<char> = p.chars().collect();
    if c.len() < 7 {
        return "****".into();
    }
    let head: String = c[..3].iter().collect();
    let tail: String = c[c.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

fn cn_date(d: NaiveDate) -> String {
    d.format("%Y年%m月%d日").to_string()
}

/// The decision number: `远交决字〔YYYY〕第NNNNNN号`.
pub fn decision_no(year: i32, serial: i64) -> String {
    format!("远交决字〔{year}〕第{serial:06}号")
}

pub fn build(i: Inputs<'_>) -> DecisionFields {
    let local = i.issued_at.with_timezone(&i.tz);
    let day = local.date_naive();
    let plus_days = |n: i64| cn_date(day + TimeDelta::days(n));
    let litigation = day
        .checked_add_months(Months::new(LITIGATION_MONTHS))
        .unwrap_or(day);
    DecisionFields {
        decision_no: i.decision_no,
        hearing_id: i.hearing_id.to_string(),
        issued_at: local.to_rfc3339(),
        authority: i.authority,
        authority_address: i.authority_address,
        officer_name: i.officer_name,
        officer_badge: i.officer_badge,
        party_phone_masked: mask_phone(i.phone),
        plate: i.plate.to_string(),
        violations: i.violations,
        facts: i.facts,
        statement: i.statement,
        legal_basis: i.legal_basis,
        fine_yuan: i.fine_yuan,
        points: i.points,
        pay_by: plus_days(PAY_DAYS),
        pay_where: "交管12123 App 或代收罚款银行（本系统不收取罚款）".into(),
        review_days: REVIEW_DAYS,
        review_by: plus_days(REVIEW_DAYS),
        litigation_months: LITIGATION_MONTHS,
        litigation_by: cn_date(litigation),
        service: "电子送达（当事人已同意，《中华人民共和国行政处罚法》第六十一条）".into(),
        audit_checkpoint: match i.audit_head {
            Some((size, root)) => format!("审计日志 size={size} root={root}"),
            None => "审计日志未启用".into(),
        },
    }
}

/// HTML-escapes text.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The document proper: the bytes the digest covers.
pub fn article(f: &DecisionFields) -> String {
    let records = f
        .violations
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v["record_no"].as_str().map(esc))
                .collect::<Vec<_>>()
                .join("、")
        })
        .unwrap_or_default();
    format!(
        "<article id=\"decision\">\n<h1>{authority}</h1>\n<h2>公安交通管理行政处罚决定书</h2>\n\
<p class=\"no\">编号：{no}</p>\n\
<p>被处罚人：手机号码 {phone}，机动车号牌 {plate}</p>\n\
<p>违法记录编号：{records}</p>\n\
<p>现查明：{facts}</p>\n\
<p>当事人陈述申辩：{statement}</p>\n\
<p>以上事实有电子监控记录及远程询问笔录为证。根据{basis}的规定，决定给予罚款人民币{fine}元、记{points}分的处罚。</p>\n\
<p>履行方式和期限：请于{pay_by}前通过{pay_where}缴纳罚款。逾期不缴纳的，每日按罚款数额的百分之三加处罚款（《中华人民共和国行政处罚法》第七十二条）。</p>\n\
<p>如不服本决定，可以在收到本决定书之日起{review_days}日内（{review_by}前）依法申请行政复议；或者在{lit_months}个月内（{lit_by}前）依法向人民法院提起行政诉讼。</p>\n\
<p>送达方式：{service}</p>\n\
<p>办案民警：{officer}（警号 {badge}）</p>\n\
<p>处罚机关：{authority}（{address}）</p>\n\
<p>作出日期：{issued}</p>\n\
<p class=\"audit\">审计检查点：{checkpoint}；听证编号 {hearing}</p>\n</article>",
        authority = esc(&f.authority),
        no = esc(&f.decision_no),
        phone = esc(&f.party_phone_masked),
        plate = esc(&f.plate),
        records = records,
        facts = esc(&f.facts),
        statement = esc(&f.statement),
        basis = esc(&f.legal_basis),
        fine = f.fine_yuan,
        points = f.points,
        pay_by = esc(&f.pay_by),
        pay_where = esc(&f.pay_where),
        review_days = f.review_days,
        review_by = esc(&f.review_by),
        lit_months = f.litigation_months,
        lit_by = esc(&f.litigation_by),
        service = esc(&f.service),
        officer = esc(&f.officer_name),
        badge = esc(&f.officer_badge),
        address = esc(&f.authority_address),
        issued = esc(&f.issued_at),
        checkpoint = esc(&f.audit_checkpoint),
        hearing = esc(&f.hearing_id),
    )
}

/// SHA-256 (hex) of the article.
pub fn digest(article: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        article.as_bytes(),
    ))
}

/// The printable page: the article, then its digest.
pub fn page(article: &str, sha256: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head><meta charset=\"utf-8\"><title>公安交通管理行政处罚决定书</title>\n\
<style>body{{font-family:serif;max-width:42em;margin:2em auto;line-height:1.8}}h1,h2{{text-align:center}}\
.no{{text-align:right}}footer{{margin-top:2em;font-size:.8em;word-break:break-all}}@media print{{footer{{color:#444}}}}</style>\n\
</head>\n<body>\n{article}\n<footer>文书摘要（SHA-256，覆盖 article 元素的 UTF-8 字节）：<code id=\"sha256\">{sha256}</code></footer>\n</body>\n</html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> DecisionFields {
        build(Inputs {
            decision_no: decision_no(2026, 7),
            hearing_id: "h1",
            issued_at: Utc.with_ymd_and_hms(2026, 11, 16, 2, 0, 0).unwrap(),
            tz: chrono_tz::Asia::Shanghai,
            authority: "测试交警大队".into(),
            authority_address: "测试路1号".into(),
            officer_name: "张三".into(),
            officer_badge: "9001".into(),
            phone: "13800001234",
            plate: "鲁A12345",
            violations: serde_json::json!([{"record_no": "R1<x>", "fine_yuan": 200, "points": 6}]),
            facts: "闯红灯".into(),
            statement: "放弃陈述申辩".into(),
            legal_basis: "《道路交通安全法》第九十条".into(),
            fine_yuan: 200,
            points: 6,
            audit_head: Some((5, "ab".into())),
        })
    }

    #[test]
    fn deadlines_and_fields() {
        let f = sample();
        assert_eq!(f.decision_no, "远交决字〔2026〕第000007号");
        assert_eq!(f.party_phone_masked, "138****1234");
        assert_eq!(f.review_by, "2027年01月15日");
        assert_eq!(f.litigation_by, "2027年05月16日");
        assert_eq!(f.pay_by, "2026年12月01日");
        assert!(f.issued_at.ends_with("+08:00"));
    }

    #[test]
    fn article_is_escaped_and_complete() {
        let f = sample();
        let a = article(&f);
        assert!(a.contains("R1&lt;x&gt;"));
        for needle in [
            "行政复议",
            "行政诉讼",
            "12123",
            "60日",
            "6个月",
            "罚款人民币200元",
            "记6分",
            "size=5",
        ] {
            assert!(a.contains(needle), "{needle}");
        }
        let d = digest(&a);
        assert_eq!(d.len(), 64);
        let p = page(&a, &d);
        assert!(p.contains(&a) && p.contains(&d));
    }
}
