//! A violation record number: 1–32 visible characters.

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct RecordNo(String);

impl RecordNo {
    pub fn parse(s: &str) -> Result<RecordNo, String> {
        let t = s.trim();
        let n = t.chars().count();
        if (1..=32).contains(&n) && t.chars().all(|c| !c.is_control()) {
            Ok(RecordNo(t.to_string()))
        } else {
            Err("record_no must be 1 to 32 characters".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::string_newtype!(RecordNo);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!(RecordNo::parse("3701001234567890").is_ok());
        assert!(RecordNo::parse("").is_err());
        assert!(RecordNo::parse(&"x".repeat(33)).is_err());
        assert!(RecordNo::parse(&"记".repeat(32)).is_ok());
    }
}
