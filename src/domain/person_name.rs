//! A person's real name as on the resident ID card: 2 to 30 Chinese characters (CJK unified
//! ideographs, extensions A–G, compatibility ideographs, 〇), parts of a minority or transliterated
//! name joined by the middle dot `·` (U+00B7; the look-alikes `•` `・` `‧` `．` are stored as
//! `·`), never at either end or doubled. Surrounding spaces are trimmed; nothing else is
//! allowed (no Latin letters, digits, spaces or control characters inside).

/// Characters of a name, at most (the longest minority names on ID cards are about 20).
pub const MAX_NAME_CHARS: usize = 30;
const MIDDLE_DOT: char = '\u{00B7}';

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct PersonName(String);

fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3007}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2EBEF}'
        | '\u{30000}'..='\u{323AF}')
}

impl PersonName {
    pub fn parse(s: &str) -> Result<PersonName, String> {
        let err = || {
            format!(
                "name must be 2 to {MAX_NAME_CHARS} Chinese characters, parts joined by a middle dot ·"
            )
        };
        let t: String = s
            .trim()
            .chars()
            .map(|c| match c {
                '\u{2022}' | '\u{30FB}' | '\u{2027}' | '\u{FF0E}' | '\u{FF65}' => MIDDLE_DOT,
                c => c,
            })
            .collect();
        let n = t.chars().count();
        if !(2..=MAX_NAME_CHARS).contains(&n) {
            return Err(err());
        }
        let parts_ok = t
            .split(MIDDLE_DOT)
            .all(|part| !part.is_empty() && part.chars().all(is_han));
        if !parts_ok {
            return Err(err());
        }
        Ok(PersonName(t))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::string_newtype!(PersonName);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        for (input, stored) in [
            ("张三", "张三"),
            (" 欧阳娜娜 ", "欧阳娜娜"),
            ("买买提·艾力", "买买提·艾力"),
            ("阿依古丽•吐尔逊", "阿依古丽·吐尔逊"),
            ("爱新觉罗・溥仪", "爱新觉罗·溥仪"),
            ("李〇", "李〇"),
            ("𠀀𠀁", "𠀀𠀁"),
        ] {
            assert_eq!(
                PersonName::parse(input).unwrap().as_str(),
                stored,
                "{input}"
            );
        }
        for bad in [
            "",
            "张",
            "·张三",
            "张三·",
            "买买提··艾力",
            "张 三",
            "Zhang San",
            "张三1",
            "张\u{0}三",
            "张三<script>",
            &"张".repeat(MAX_NAME_CHARS + 1),
        ] {
            assert!(PersonName::parse(bad).is_err(), "{bad}");
        }
        assert!(PersonName::parse(&"张".repeat(MAX_NAME_CHARS)).is_ok());
    }

    proptest! {
        #[test]
        fn han_names_parse(a in "[\u{4E00}-\u{9FA5}]{1,10}", b in "[\u{4E00}-\u{9FA5}]{1,10}") {
            let plain = format!("{a}{b}");
            let p = PersonName::parse(&plain).unwrap();
            prop_assert_eq!(p.as_str(), plain.as_str());
            let dotted = format!("{a}·{b}");
            let d = PersonName::parse(&dotted).unwrap();
            prop_assert_eq!(d.as_str(), dotted.as_str());
        }
        #[test]
        fn parsed_names_are_han_and_dots(s in "\\PC{0,40}") {
            if let Ok(n) = PersonName::parse(&s) {
                let count = n.as_str().chars().count();
                prop_assert!((2..=MAX_NAME_CHARS).contains(&count));
                prop_assert!(n.as_str().chars().all(|c| c == MIDDLE_DOT || is_han(c)));
            }
        }
    }
}
