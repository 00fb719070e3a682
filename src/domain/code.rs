//! An SMS verification code: exactly 6 ASCII digits, given as a string.

#[derive(Clone, PartialEq, Eq)]
pub struct SmsCode(String);

impl SmsCode {
    pub fn parse(s: &str) -> Result<SmsCode, String> {
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(SmsCode(s.to_string()))
        } else {
            Err("code must be a string of 6 digits".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SmsCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmsCode(******)")
    }
}

super::string_newtype!(SmsCode);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn debug_redacts() {
        let c = SmsCode::parse("123456").unwrap();
        assert!(!format!("{c:?}").contains("123"));
        assert!(SmsCode::parse("12345").is_err());
        assert!(SmsCode::parse("12345a").is_err());
        assert!(SmsCode::parse("1234567").is_err());
    }

    proptest! {
        #[test]
        fn six_digits_parse(s in "[0-9]{6}") { prop_assert!(SmsCode::parse(&s).is_ok()); }
        #[test]
        fn others_fail(s in "\\PC{0,12}") {
            let ok = s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit());
            prop_assert_eq!(SmsCode::parse(&s).is_ok(), ok);
        }
    }
}
