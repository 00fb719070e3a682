//! A Chinese vehicle plate: a province character, a letter, then 5 or 6 letters/digits
//! (`鲁A12345`, new-energy `鲁AD12345`). Letters are upper-cased.

const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Plate(String);

impl Plate {
    pub fn parse(s: &str) -> Result<Plate, String> {
        let up: String = s.trim().to_uppercase();
        let mut chars = up.chars();
        let err = || {
            "plate must be a province character, a letter, then 5 or 6 letters or digits"
                .to_string()
        };
        let province = chars.next().ok_or_else(err)?;
        if !PROVINCES.contains(province) {
            return Err(err());
        }
        let letter = chars.next().ok_or_else(err)?;
        if !letter.is_ascii_uppercase() {
            return Err(err());
        }
        let rest: Vec<char> = chars.collect();
        if !(5..=6).contains(&rest.len())
            || !rest
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(err());
        }
        Ok(Plate(up))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::string_newtype!(Plate);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(Plate::parse("鲁a12345").unwrap().as_str(), "鲁A12345");
        assert!(Plate::parse("鲁AD12345").is_ok());
        for bad in [
            "",
            "鲁",
            "鲁A1234",
            "鲁A1234567",
            "XA12345",
            "鲁112345",
            "鲁A12 45",
        ] {
            assert!(Plate::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn generated_plates_parse(p in "[京沪鲁川闽豫][A-Z][A-Z0-9]{5,6}") {
            prop_assert!(Plate::parse(&p).is_ok());
        }
        #[test]
        fn never_panics(s in "\\PC{0,16}") { let _ = Plate::parse(&s); }
    }
}
