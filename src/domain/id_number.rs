//! A resident ID number (公民身份号码, GB 11643-1999): 6 digits of the address code (the first
//! not 0), the birth date `YYYYMMDD` (a real calendar date, year 1800 or later), a 3-digit
//! sequence and the ISO 7064 MOD 11-2 check character (`0`–`9` or `X`). A lower-case `x` is
//! accepted and stored upper-case. `Debug` and `Display` show only the masked form
//! (`3701**********1234`); the clear number is [`IdNumber::as_str`], for the hearing's officer
//! and the decision document only.

/// The weights of the 17 digits (2^(17-i) mod 11).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each weighted sum mod 11.
const CHECK: [u8; 11] = *b"10X98765432";

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

/// The check character of the first 17 digits (ISO 7064 MOD 11-2); `None` unless 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK.get((sum % 11) as usize).map(|c| char::from(*c))
}

impl IdNumber {
    pub fn parse(s: &str) -> Result<IdNumber, String> {
        let t = s.trim().to_ascii_uppercase();
        if t.len() != 18 || !t.is_ascii() {
            return Err("id_number must be 18 characters: 17 digits and a check digit or X".into());
        }
        let (body, last) = t.split_at(17);
        let expected = check_char(body).ok_or_else(|| {
            "id_number must be 18 characters: 17 digits and a check digit or X".to_string()
        })?;
        if body.starts_with('0') {
            return Err("id_number has no valid address code".into());
        }
        let birth = &body[6..14];
        let date = chrono::NaiveDate::parse_from_str(birth, "%Y%m%d")
            .map_err(|_| "id_number has no valid birth date".to_string())?;
        if chrono::Datelike::year(&date) < 1800 {
            return Err("id_number has no valid birth date".into());
        }
        if !last.starts_with(expected) {
            return Err("id_number check digit does not match (GB 11643-1999)".into());
        }
        Ok(IdNumber(t))
    }
    /// The clear number: only for the hearing's officer during the hearing and the decision.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// `3701**********1234`: what every other view and every log shows.
    pub fn masked(&self) -> String {
        format!("{}**********{}", &self.0[..4], &self.0[14..])
    }
    /// The birth date (valid by construction).
    pub fn birth_date(&self) -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").ok()
    }
}

impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl std::fmt::Display for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

impl<'de> serde::Deserialize<'de> for IdNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        IdNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for IdNumber {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(18))
            .max_length(Some(18))
            .pattern(Some("^[1-9][0-9]{16}[0-9Xx]$"))
            .description(Some(
                "Resident ID number (GB 11643-1999): 18 characters, checksum and birth date verified",
            ))
            .into()
    }
}
impl utoipa::ToSchema for IdNumber {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Known answers: the examples of GB 11643-1999 (appendix) and others worked by hand.
    #[test]
    fn known_answers() {
        assert_eq!(check_char("11010519491231002"), Some('X'));
        assert_eq!(check_char("44052418800101001"), Some('4'));
        assert_eq!(check_char("37010219900307123"), Some('8'));
        assert_eq!(check_char("37010219900318123"), Some('4'));
        assert_eq!(check_char("11010119900307001"), Some('1'));
        for good in [
            "11010519491231002X",
            "11010519491231002x",
            "440524188001010014",
            " 370102199003181234 ",
        ] {
            assert!(IdNumber::parse(good).is_ok(), "{good}");
        }
        assert_eq!(
            IdNumber::parse("11010519491231002x").unwrap().as_str(),
            "11010519491231002X"
        );
    }

    #[test]
    fn rejects_bad() {
        for bad in [
            "",
            "11010519491231002",   // 17
            "11010519491231002X1", // 19
            "110105194912310021",  // wrong check digit
            "440524188001010015",  // wrong check digit
            "11010519491331002X",  // month 13, even with any check
            "370102199002301234",  // 30 February
            "010105194912310020",  // address code 0…
            "11010517991231002X",  // before 1800
            "1101051949123100２X", // full-width digit
            "11010519491231002Y",
        ] {
            assert!(IdNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn masks_in_debug_and_display() {
        let n = IdNumber::parse("370102199003181234").unwrap();
        assert_eq!(n.masked(), "3701**********1234");
        assert_eq!(n.to_string(), "3701**********1234");
        assert!(!format!("{n:?}").contains("19900318"));
    }

    proptest! {
        #[test]
        fn any_valid_body_with_its_check_parses(
            area in 110000u32..=829999, y in 1900i32..=2025, doy in 0u32..365, seq in 0u32..1000,
        ) {
            let date = chrono::NaiveDate::from_yo_opt(y, doy + 1).unwrap();
            let body = format!("{area:06}{}{seq:03}", date.format("%Y%m%d"));
            let c = check_char(&body).unwrap();
            let id = format!("{body}{c}");
            let n = IdNumber::parse(&id).unwrap();
            prop_assert_eq!(n.as_str(), id.as_str());
            prop_assert_eq!(n.birth_date(), Some(date));
            prop_assert_eq!(n.masked().len(), 18);
        }
        #[test]
        fn a_changed_check_char_is_refused(
            area in 110000u32..=829999, seq in 0u32..1000, other in 0usize..11,
        ) {
            let body = format!("{area:06}19800101{seq:03}");
            let c = check_char(&body).unwrap();
            let wrong = char::from(CHECK[other]);
            prop_assume!(wrong != c);
            let changed = format!("{body}{wrong}");
            prop_assert!(IdNumber::parse(&changed).is_err());
        }
        #[test]
        fn a_changed_digit_is_refused(area in 110000u32..=829999, seq in 0u32..1000, pos in 0usize..17, delta in 1u8..10) {
            let body = format!("{area:06}19800101{seq:03}");
            let c = check_char(&body).unwrap();
            let mut b = body.into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(b).unwrap();
            // MOD 11-2 detects every single-digit error.
            prop_assert_ne!(check_char(&changed), Some(c));
        }
        #[test]
        fn never_panics(s in "\\PC{0,24}") { let _ = IdNumber::parse(&s); }
    }
}
