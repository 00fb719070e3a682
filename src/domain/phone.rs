//! A mainland China mobile number: 11 digits starting with 1; a `+86` prefix is dropped.

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(s: &str) -> Result<PhoneNumber, String> {
        let t = s.trim();
        let t = t.strip_prefix("+86").unwrap_or(t);
        let ok = t.len() == 11 && t.starts_with('1') && t.bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(PhoneNumber(t.to_string()))
        } else {
            Err("phone must be a mainland mobile number: 11 digits starting with 1".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// `138****5678`: what logs and answers show.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl std::fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

super::string_newtype!(PhoneNumber);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_masks() {
        let p = PhoneNumber::parse("+8613812345678").unwrap();
        assert_eq!(p.as_str(), "13812345678");
        assert_eq!(p.masked(), "138****5678");
        assert!(!format!("{p:?}").contains("1234"));
    }

    #[test]
    fn rejects_bad() {
        for bad in [
            "",
            "2381234567",
            "138123456789",
            "1381234567a",
            "+1 13812345678",
            "２3812345678",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_eleven_digits_from_one_parse(rest in "[0-9]{10}") {
            let s = format!("1{rest}");
            let p = PhoneNumber::parse(&s).unwrap();
            prop_assert_eq!(p.as_str(), s.as_str());
        }
        #[test]
        fn never_panics(s in "\\PC{0,20}") {
            let _ = PhoneNumber::parse(&s);
        }
    }
}
