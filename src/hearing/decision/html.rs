//! The document as print-ready HTML (A4). The digest covers the exact UTF-8 bytes of the
//! `<article>` element (the document proper); the page around it shows the digest and the
//! brigade's electronic seal (a signed note over the digest), so a printed or saved copy can be
//! checked offline (`remote-hearing decision verify FILE`) and against the audit log.

use std::fmt::Write as _;

use super::fields::DecisionFields;

/// The opening tag of the document proper.
pub const ARTICLE_OPEN: &str = "<article id=\"decision\">";
/// Its closing tag.
pub const ARTICLE_CLOSE: &str = "</article>";
/// Around the signed note on the page.
pub const SEAL_OPEN: &str = "<pre id=\"seal\">";
/// Around the brigade's verifier key on the page.
pub const KEY_OPEN: &str = "<code id=\"seal-key\">";

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

/// The document's paragraphs as plain text (heading lines excluded), shared by the HTML and
/// the PDF so both state the same thing.
pub fn paragraphs(f: &DecisionFields) -> Vec<(&'static str, String)> {
    let mut v = Vec::new();
    let p = &f.party;
    v.push((
        "当事人",
        format!(
            "{}，公民身份号码 {}，驾驶证号 {}，联系电话 {}",
            p.name, p.id_number, p.licence_no, f.party_phone_masked
        ),
    ));
    if !f.participants.is_empty() {
        let names: Vec<String> = f.participants.iter().map(|p| p.label()).collect();
        v.push(("其他参与人", names.join("；")));
    }
    v.push(("机动车号牌", f.plate.clone()));
    for (i, r) in f.violations.iter().enumerate() {
        v.push((
            "违法事实",
            format!(
                "{}. 违法记录编号 {}：{}，在{}，{}（罚款{}元，记{}分）",
                i + 1,
                r.record_no,
                r.time,
                r.place,
                r.behaviour,
                r.fine_yuan,
                r.points
            ),
        ));
    }
    v.push(("现查明", f.facts.clone()));
    v.push(("当事人陈述申辩", f.statement.clone()));
    let records: Vec<&str> = f.violations.iter().map(|r| r.record_no.as_str()).collect();
    let mut evidence = format!(
        "1. 交通技术监控设备记录的违法记录（编号 {}）；2. 远程询问笔录；3. 全程录音录像（录像编号 {}）：{}。{}。",
        records.join("、"),
        f.recording_id,
        f.recording_scope,
        f.recording_access
    );
    let _ = write!(
        evidence,
        " 4. 身份核验时自视频截取的当事人居民身份证影像，SHA-256 {}。",
        f.id_still_sha256
    );
    if f.recordings.is_empty() {
        evidence.push_str("录像文件于通话结束时封存，其摘要记入本案审计记录。");
    }
    for r in &f.recordings {
        let _ = write!(
            evidence,
            " 录像文件 {}（{}{}）SHA-256 {}；",
            r.id,
            r.kind,
            r.participant
                .as_deref()
                .map(|p| format!("，{p}"))
                .unwrap_or_default(),
            r.sha256
        );
    }
    v.push(("证据", evidence));
    v.push((
        "处罚依据及内容",
        format!(
            "根据{}的规定，决定给予罚款人民币{}元、记{}分的处罚。",
            f.legal_basis, f.fine_yuan, f.points
        ),
    ));
    v.push((
        "履行方式和期限",
        format!(
            "请于{}前（自收到本决定书之日起十五日内）到{}缴纳罚款。{}。",
            f.pay_by, f.pay_where, f.late_fee
        ),
    ));
    v.push((
        "救济途径",
        format!(
            "如不服本决定，可以在收到本决定书之日起{}日内向{}申请行政复议；或者在{}个月内依法向{}提起行政诉讼。",
            f.review_days, f.review_body, f.litigation_months, f.court
        ),
    ));
    v.push(("复议机关", f.review_body.clone()));
    v.push(("管辖法院", f.court.clone()));
    v.push(("送达方式", f.service.clone()));
    let officers: Vec<String> = f
        .officers
        .iter()
        .map(|o| format!("{}（警号 {}）", o.name, o.badge))
        .collect();
    v.push(("办案民警", officers.join("、")));
    v.push((
        "处罚机关",
        format!("{}（地址：{}）", f.authority, f.authority_address),
    ));
    v.push(("作出日期", f.issued_date.clone()));
    v.push((
        "审计检查点",
        format!("{}；案件编号 {}", f.audit_checkpoint, f.hearing_id),
    ));
    v
}

/// The document proper: the bytes the digest covers.
pub fn article(f: &DecisionFields) -> String {
    let mut a = String::new();
    let _ = write!(
        a,
        "{ARTICLE_OPEN}\n<h1>{}</h1>\n<h2>公安交通管理行政处罚决定书</h2>\n<p class=\"no\">编号：{}</p>\n",
        esc(&f.authority),
        esc(&f.decision_no)
    );
    for (label, text) in paragraphs(f) {
        let _ = writeln!(a, "<p><b>{label}：</b>{}</p>", esc(&text));
    }
    a.push_str(ARTICLE_CLOSE);
    a
}

/// SHA-256 (hex) of bytes.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// The printable A4 page: the article, then its digest and the electronic seal.
pub fn page(article: &str, sha256: &str, seal_note: &str, verifier: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head><meta charset=\"utf-8\"><title>公安交通管理行政处罚决定书</title>\n\
<style>@page{{size:A4;margin:20mm}}body{{font-family:\"WenQuanYi Micro Hei\",\"Noto Sans CJK SC\",serif;max-width:170mm;margin:0 auto;line-height:1.8;font-size:11pt}}\
h1,h2{{text-align:center;margin:.2em 0}}.no{{text-align:right}}footer{{margin-top:2em;font-size:8pt;word-break:break-all}}\
pre{{white-space:pre-wrap;word-break:break-all}}@media print{{footer{{color:#444}}}}</style>\n\
</head>\n<body>\n{article}\n<footer>文书摘要（SHA-256，覆盖 article 元素的 UTF-8 字节）：<code id=\"sha256\">{sha256}</code>\n\
<p>电子印章（Ed25519 签名，验证：remote-hearing decision verify 本文件）：</p>{SEAL_OPEN}{seal}</pre>\n<p>印章公钥：{KEY_OPEN}{key}</code></p></footer>\n</body>\n</html>\n",
        seal = esc(seal_note),
        key = esc(verifier),
    )
}

/// Reverses [`esc`] for the five characters it writes.
pub fn unesc(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
