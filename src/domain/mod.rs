//! Domain newtypes parsed at the edge ("parse, don't validate"): a value of one of these types
//! is valid by construction. Each has `parse()` and a `Deserialize` that calls it, so a bad
//! field in a JSON body becomes a 422 naming the field.

mod code;
mod id_number;
mod person_name;
mod phone;
mod plate;
mod record;

pub use code::SmsCode;
pub use id_number::IdNumber;
pub use person_name::PersonName;
pub use phone::PhoneNumber;
pub use plate::Plate;
pub use record::RecordNo;

/// Implements `Deserialize` (from a string, through `parse`), `Serialize` and `Display`.
macro_rules! string_newtype {
    ($t:ty) => {
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as serde::Deserialize>::deserialize(d)?;
                <$t>::parse(&s).map_err(serde::de::Error::custom)
            }
        }
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl utoipa::PartialSchema for $t {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <String as utoipa::PartialSchema>::schema()
            }
        }
        impl utoipa::ToSchema for $t {}
    };
}
pub(crate) use string_newtype;
