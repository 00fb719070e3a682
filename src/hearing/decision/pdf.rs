//! The document as an A4 PDF (krilla), with the configured CJK font embedded as a subset
//! (TrueType or a face of a `.ttc` collection). It states the same paragraphs as the HTML
//! ([`super::html::paragraphs`]), then the article's digest and the brigade's seal note; the
//! caller seals the PDF bytes themselves ([`super::seal::seal_pdf`]).

use std::{path::Path, sync::Arc};

use krilla::{
    Document,
    geom::{PathBuilder, Point, Rect},
    metadata::Metadata,
    page::PageSettings,
    paint::Fill,
    text::{Font, TextDirection},
};

use super::{fields::DecisionFields, html};

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 56.0;
pub const BODY: f32 = 10.5;
pub const SMALL: f32 = 7.5;
/// Width of an ASCII glyph as a share of the size (CJK glyphs are one em); generous, so a
/// line never overflows the margin.
const ASCII_EM: f32 = 0.62;

/// Loads the font face; a missing or unreadable font is an error naming the config key.
pub fn load_font(path: &Path, index: u32) -> Result<Font, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Font::new(Arc::new(data).into(), index)
        .ok_or_else(|| format!("{}: not a TrueType font (face {index})", path.display()))
}

fn width(s: &str, size: f32) -> f32 {
    s.chars()
        .map(|c| if c.is_ascii() { ASCII_EM } else { 1.0 })
        .sum::<f32>()
        * size
}

/// Greedy line breaking: a CJK character breaks anywhere, an ASCII word only at its ends
/// (unless it is longer than a line).
pub fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for c in text.chars() {
        match tokens.last_mut() {
            Some(t) if c.is_ascii_graphic() && t.chars().all(|x| x.is_ascii_graphic()) => t.push(c),
            // Closing punctuation never starts a line (kinsoku).
            Some(t) if "。，、；：）》」』！？".contains(c) => t.push(c),
            _ => tokens.push(c.to_string()),
        }
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for t in tokens {
        if width(&line, size) + width(&t, size) <= max {
            line.push_str(&t);
            continue;
        }
        if !line.trim().is_empty() {
            lines.push(std::mem::take(&mut line));
        } else {
            line.clear();
        }
        if t == " " {
            continue;
        }
        for c in t.chars() {
            if width(&line, size) + width(&c.to_string(), size) > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.trim().is_empty() {
        lines.push(line);
    }
    lines
}

/// A black-and-white picture as runs of dark pixels: `(row, first column, past the last)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bitmap {
    pub width: usize,
    pub height: usize,
    pub runs: Vec<(usize, usize, usize)>,
}

/// What a page carries.
enum Item {
    Text(f32, f32, f32, String),
    /// Filled rectangles (x, y, w, h): a bitmap drawn as vector runs.
    Rects(Vec<(f32, f32, f32, f32)>),
}

/// Draws lines (and bitmaps) onto A4 pages, starting a new page when one is full. Shared by
/// the decision and the proof of service (`hearing::signing::proof`).
pub struct Writer {
    doc: Document,
    font: Font,
    pages: Vec<Vec<Item>>,
    y: f32,
}

impl Writer {
    /// A document titled `title` (zh-CN) written in `font`.
    pub fn new(title: String, font: Font) -> Writer {
        let mut doc = Document::new();
        doc.set_metadata(Metadata::new().title(title).language("zh-CN".into()));
        Writer {
            doc,
            font,
            pages: Vec::new(),
            y: MARGIN,
        }
    }

    fn room(&mut self, height: f32) {
        if self.pages.is_empty() || self.y + height > PAGE_H - MARGIN {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    pub fn line(&mut self, text: String, size: f32, centred: bool) {
        let lead = size * 1.7;
        self.room(lead);
        self.y += lead;
        let x = if centred {
            ((PAGE_W - width(&text, size)) / 2.0).max(MARGIN)
        } else {
            MARGIN
        };
        if let Some(p) = self.pages.last_mut() {
            p.push(Item::Text(x, self.y, size, text));
        }
    }

    pub fn para(&mut self, text: &str, size: f32) {
        for l in wrap(text, size, PAGE_W - 2.0 * MARGIN) {
            self.line(l, size, false);
        }
    }

    /// Draws `b` scaled to fit `max_w` × `max_h` points (never enlarged beyond 1 pt a pixel).
    pub fn bitmap(&mut self, b: &Bitmap, max_w: f32, max_h: f32) {
        if b.width == 0 || b.height == 0 {
            return;
        }
        let (w, h) = (b.width as f32, b.height as f32);
        let scale = (max_w.min(PAGE_W - 2.0 * MARGIN) / w)
            .min(max_h / h)
            .min(1.0);
        self.room(h * scale + 8.0);
        let top = self.y + 4.0;
        let rects = b
            .runs
            .iter()
            .map(|&(row, x0, x1)| {
                (
                    MARGIN + x0 as f32 * scale,
                    top + row as f32 * scale,
                    (x1 - x0) as f32 * scale,
                    scale,
                )
            })
            .collect();
        if let Some(p) = self.pages.last_mut() {
            p.push(Item::Rects(rects));
        }
        self.y = top + h * scale + 4.0;
    }

    pub fn finish(mut self) -> Result<Vec<u8>, String> {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("bad page size")?;
        for items in &self.pages {
            let mut page = self.doc.start_page_with(settings.clone());
            let mut surface = page.surface();
            for item in items {
                match item {
                    Item::Text(x, y, size, text) => surface.draw_text(
                        Point::from_xy(*x, *y),
                        self.font.clone(),
                        *size,
                        text,
                        false,
                        TextDirection::Auto,
                    ),
                    Item::Rects(rects) => {
                        let mut pb = PathBuilder::new();
                        for &(x, y, w, h) in rects {
                            if let Some(r) = Rect::from_xywh(x, y, w, h) {
                                pb.push_rect(r);
                            }
                        }
                        if let Some(path) = pb.finish() {
                            surface.set_fill(Some(Fill::default()));
                            surface.draw_path(&path);
                        }
                    }
                }
            }
            surface.finish();
            page.finish();
        }
        self.doc
            .finish()
            .map_err(|e| format!("the PDF could not be written: {e:?}"))
    }
}

/// Renders the document; `seal_note` and `verifier` are the HTML article's seal.
pub fn render(
    f: &DecisionFields,
    article_sha256: &str,
    seal_note: &str,
    verifier: &str,
    font: Font,
) -> Result<Vec<u8>, String> {
    let mut w = Writer::new(
        format!("公安交通管理行政处罚决定书 {}", f.decision_no),
        font,
    );
    w.line(f.authority.clone(), 16.0, true);
    w.line("公安交通管理行政处罚决定书".into(), 18.0, true);
    w.para(&format!("编号：{}", f.decision_no), BODY);
    for (label, text) in html::paragraphs(f) {
        w.para(&format!("{label}：{text}"), BODY);
    }
    w.para("（印章）", BODY);
    seal_footer(w, "HTML 文书", article_sha256, seal_note, verifier)
}

/// The sealed footer every document PDF ends with: the digest of the HTML article (`what` names
/// the document), the seal note's lines and the seal's verifier key.
pub fn seal_footer(
    mut w: Writer,
    what: &str,
    article_sha256: &str,
    seal_note: &str,
    verifier: &str,
) -> Result<Vec<u8>, String> {
    w.para(
        &format!("文书摘要（SHA-256，覆盖 {what} article 元素）：{article_sha256}"),
        SMALL,
    );
    w.para(
        "电子印章（Ed25519 签名；本 PDF 另以文件末尾的印章行签名，验证：remote-hearing decision verify 本文件）：",
        SMALL,
    );
    for l in seal_note.lines().filter(|l| !l.is_empty()) {
        w.para(l, SMALL);
    }
    w.para(&format!("印章公钥：{verifier}"), SMALL);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_within_the_width_and_keeps_ascii_words() {
        let digest = "a".repeat(64);
        let text = format!("文书摘要：{digest} 以上");
        let lines = wrap(&text, 10.0, 400.0);
        assert!(lines.iter().any(|l| l.contains(&digest)), "{lines:?}");
        assert!(lines.iter().all(|l| width(l, 10.0) <= 400.0));
        let long = "x".repeat(200);
        let lines = wrap(&long, 10.0, 100.0);
        assert_eq!(lines.concat(), long);
        assert!(lines.len() > 1);
    }
}
