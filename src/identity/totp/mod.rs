//! The staff second factor's pure part (RFC 6238 TOTP through the `totp-rs` crate): HMAC-SHA-1,
//! 6 digits, 30-second steps — what every authenticator app understands — with one step of skew
//! either side. A fresh secret is 160 random bits (ring's system random). [`matching_step`] says
//! *which* time step a code belongs to, so the caller can accept each step once (RFC 6238 §5.2:
//! the store keeps the last accepted step). Also the `otpauth://` URI and its QR code as SVG.
//! The enrolment endpoints are in `routes`.

pub(super) mod routes;

use ring::rand::{SecureRandom, SystemRandom};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Code length, step and accepted skew (steps either side of now).
pub const DIGITS: u8 = 6;
pub const STEP_S: u64 = 30;
pub const SKEW: u16 = 1;
/// Secret length in bytes (RFC 4226 §4 recommends 160 bits).
pub const SECRET_LEN: usize = 20;

/// A fresh random secret.
pub fn new_secret() -> anyhow::Result<Vec<u8>> {
    let mut s = vec![0u8; SECRET_LEN];
    SystemRandom::new()
        .fill(&mut s)
        .map_err(|_| anyhow::anyhow!("no random bytes for a TOTP secret"))?;
    Ok(s)
}

/// The secret as the base32 text an app takes by hand (RFC 4648, no padding).
pub fn to_base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// The base32 text back to bytes.
pub fn from_base32(text: &str) -> anyhow::Result<Vec<u8>> {
    Secret::try_from_base32(text)
        .map(|s| s.as_bytes().to_vec())
        .map_err(|_| anyhow::anyhow!("stored TOTP secret is not base32"))
}

/// The generator of `secret` for `account` at `issuer` (neither may contain `:`; they are
/// replaced by spaces).
pub fn totp(secret: &[u8], issuer: &str, account: &str) -> anyhow::Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(SKEW)
        .with_step_duration(STEP_S)
        .with_secret(secret.to_vec())
        .with_issuer(Some(issuer.replace(':', " ")))
        .with_account_name(account.replace(':', " "))
        .build()
        .map_err(|e| anyhow::anyhow!("TOTP: {e}"))
}

/// The code of time step `step`.
pub fn code_at_step(t: &Totp, step: u64) -> String {
    t.generate(step * STEP_S).to_string()
}

/// The time step (now's, or one either side) whose code `code` is, if any. `code` must be
/// exactly [`DIGITS`] ASCII digits; the comparison is constant-time.
pub fn matching_step(t: &Totp, code: &str, now_s: u64) -> Option<u64> {
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.check(code, now_s)
}

/// The `otpauth://totp/…` URI the QR code carries.
pub fn uri(t: &Totp) -> anyhow::Result<String> {
    t.to_url().map_err(|e| anyhow::anyhow!("TOTP URI: {e}"))
}

/// `text` as a QR code: an `<svg>` element (black on white, with the quiet zone), without the
/// XML declaration so a page can put it inline.
pub fn qr_svg(text: &str) -> anyhow::Result<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| anyhow::anyhow!("QR: {e}"))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, the SHA-1 rows: the key is the ASCII "12345678901234567890".
    const RFC_SECRET: &[u8] = b"12345678901234567890";
    const RFC_SHA1: [(u64, &str); 6] = [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ];

    #[test]
    fn rfc_6238_appendix_b_sha1_vectors() {
        let t = totp(RFC_SECRET, "issuer", "account").unwrap();
        let eight = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(8)
            .with_secret(RFC_SECRET.to_vec())
            .build()
            .unwrap();
        for (time, want) in RFC_SHA1 {
            assert_eq!(eight.generate(time).to_string(), want, "T = {time}");
            // Six digits are the last six of the eight (the same truncated value mod 10^6).
            let step = time / STEP_S;
            assert_eq!(code_at_step(&t, step), want[2..], "T = {time}");
            assert_eq!(matching_step(&t, &want[2..], time), Some(step));
        }
    }

    #[test]
    fn one_step_of_skew_either_side_and_nothing_else() {
        let secret = new_secret().unwrap();
        assert_eq!(secret.len(), SECRET_LEN);
        assert_ne!(secret, new_secret().unwrap());
        let t = totp(&secret, "rh", "100001").unwrap();
        let now = 1_790_000_015;
        let step = now / STEP_S;
        for (s, ok) in [
            (step - 2, false),
            (step - 1, true),
            (step, true),
            (step + 1, true),
            (step + 2, false),
        ] {
            let code = code_at_step(&t, s);
            let found = matching_step(&t, &code, now);
            // A code of a far step may collide with a near one by chance (1 in 10^6).
            if ok || found.is_none() {
                assert_eq!(found, ok.then_some(s), "step {s}");
            }
        }
        let code = code_at_step(&t, step);
        assert_eq!(matching_step(&t, &format!("+{}", &code[1..]), now), None);
        assert_eq!(matching_step(&t, &code[..5], now), None);
        assert_eq!(matching_step(&t, &format!("{code}0"), now), None);
        assert_eq!(matching_step(&t, "１２３４５６", now), None);
    }

    #[test]
    fn base32_uri_and_qr() {
        let secret = new_secret().unwrap();
        let b32 = to_base32(&secret);
        assert_eq!(b32.len(), 32);
        assert_eq!(from_base32(&b32).unwrap(), secret);
        let t = totp(&secret, "远程执法", "100001:x").unwrap();
        let u = uri(&t).unwrap();
        assert!(u.starts_with("otpauth://totp/"), "{u}");
        assert!(u.contains(&format!("secret={b32}")), "{u}");
        // An app reads the same generator back from the URI.
        let back = Totp::from_url(&u).unwrap();
        assert_eq!(back.generate(1_700_000_000), t.generate(1_700_000_000));
        let svg = qr_svg(&u).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
    }
}
