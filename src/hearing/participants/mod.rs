//! Others in the room (issue 19 §2, DOMAIN.md "Others in the room"): the interpreter, the agent
//! or guardian and the legal supervisor the hearing's officer adds to a hearing. Owns the
//! `hearing_participants` table (migration `20261204700001_hearing_participants`): this file is
//! the model (roles, kinds, the input's limits, counted in characters, and the view); [`store`]
//! the SQL, [`service`] adding, the SMS code, joining, admission and leaving (each sealed into
//! the hearing's chain), [`agent`] which citizen steps an agent may take, `api` the routes.

pub mod agent;
mod api;
pub mod service;
pub mod store;

pub use api::router;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::AppError;

/// Longest participant name, in characters.
pub const MAX_NAME_CHARS: usize = 50;
/// Longest interpreter language, in characters.
pub const MAX_LANGUAGE_CHARS: usize = 40;
/// Longest phone as sent (`+86` and 11 digits).
pub const MAX_PHONE_CHARS: usize = 14;
/// Participants per hearing, all roles together.
pub const MAX_PER_HEARING: i64 = 10;

/// The role of someone the officer adds: each joins the call on its own seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantRole {
    /// Sign-language or verbal interpreter (无障碍环境建设法).
    Interpreter,
    /// 代理人 (kind `agent`) or 监护人 (kind `guardian`): may take some of the citizen's steps.
    Agent,
    /// 法制员: watches and listens; not seen or heard by the citizen.
    Supervisor,
}

impl ParticipantRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantRole::Interpreter => "interpreter",
            ParticipantRole::Agent => "agent",
            ParticipantRole::Supervisor => "supervisor",
        }
    }
    pub fn parse(s: &str) -> Option<ParticipantRole> {
        [Self::Interpreter, Self::Agent, Self::Supervisor]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// `kind`: an interpreter's `sign` or `verbal`, an agent's `agent` or `guardian`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantKind {
    Sign,
    Verbal,
    Agent,
    Guardian,
}

impl ParticipantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantKind::Sign => "sign",
            ParticipantKind::Verbal => "verbal",
            ParticipantKind::Agent => "agent",
            ParticipantKind::Guardian => "guardian",
        }
    }
    pub fn parse(s: &str) -> Option<ParticipantKind> {
        [Self::Sign, Self::Verbal, Self::Agent, Self::Guardian]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// `POST /api/v1/hearings/{id}/participants`. `role` and `kind` are read as text so that an
/// unknown one is 422 `role_invalid` / `kind_invalid` with the field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddParticipant {
    #[schema(value_type = ParticipantRole)]
    pub role: String,
    /// 1–50 characters, no control characters.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// A mainland mobile number (11 digits, `+86` allowed).
    #[schema(max_length = 14, pattern = r"^(\+86)?1[0-9]{10}$")]
    pub phone: String,
    /// Interpreters only (required): `sign` or a language's name, 1–40 characters, no control
    /// characters.
    #[schema(
        min_length = 1,
        max_length = 40,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub language: Option<String>,
    /// Interpreter: `sign` or `verbal` (default: `sign` when the language is `sign`, else
    /// `verbal`); agent: `agent` or `guardian` (default `agent`); a supervisor has none.
    #[schema(value_type = Option<ParticipantKind>)]
    pub kind: Option<String>,
}

/// A participant input that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub role: ParticipantRole,
    pub name: String,
    pub phone: crate::domain::PhoneNumber,
    pub language: Option<String>,
    pub kind: Option<ParticipantKind>,
}

fn invalid(code: &'static str, field: &str, message: impl Into<String>) -> AppError {
    AppError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
}

fn text_ok(s: &str, max: usize) -> bool {
    let n = s.chars().count();
    (1..=max).contains(&n) && !s.chars().any(char::is_control)
}

impl AddParticipant {
    /// Every field's rule, in field order: 422 with a stable code and the field.
    pub fn check(&self) -> Result<Checked, AppError> {
        let role = ParticipantRole::parse(&self.role).ok_or_else(|| {
            invalid(
                "role_invalid",
                "role",
                "role must be interpreter, agent or supervisor",
            )
        })?;
        if !text_ok(&self.name, MAX_NAME_CHARS) {
            return Err(invalid(
                "name_invalid",
                "name",
                format!("name: 1 to {MAX_NAME_CHARS} characters, no control characters"),
            ));
        }
        let phone = crate::domain::PhoneNumber::parse(&self.phone)
            .map_err(|m| invalid("phone_invalid", "phone", m))?;
        let language = match (role, &self.language) {
            (ParticipantRole::Interpreter, Some(l)) if text_ok(l, MAX_LANGUAGE_CHARS) => {
                Some(l.clone())
            }
            (ParticipantRole::Interpreter, _) => {
                return Err(invalid(
                    "language_invalid",
                    "language",
                    format!(
                        "an interpreter needs a language: sign or its name, 1 to {MAX_LANGUAGE_CHARS} characters"
                    ),
                ));
            }
            (_, None) => None,
            (_, Some(_)) => {
                return Err(invalid(
                    "language_invalid",
                    "language",
                    "only an interpreter has a language",
                ));
            }
        };
        let kind = match &self.kind {
            None => None,
            Some(k) => Some(ParticipantKind::parse(k).ok_or_else(|| {
                invalid(
                    "kind_invalid",
                    "kind",
                    "kind must be sign, verbal, agent or guardian",
                )
            })?),
        };
        let kind = match (role, kind) {
            (ParticipantRole::Interpreter, None) => Some(match language.as_deref() {
                Some("sign") => ParticipantKind::Sign,
                _ => ParticipantKind::Verbal,
            }),
            (
                ParticipantRole::Interpreter,
                Some(k @ (ParticipantKind::Sign | ParticipantKind::Verbal)),
            )
            | (
                ParticipantRole::Agent,
                Some(k @ (ParticipantKind::Agent | ParticipantKind::Guardian)),
            ) => Some(k),
            (ParticipantRole::Agent, None) => Some(ParticipantKind::Agent),
            (ParticipantRole::Supervisor, None) => None,
            (r, Some(_)) => {
                return Err(invalid(
                    "kind_invalid",
                    "kind",
                    match r {
                        ParticipantRole::Interpreter => "an interpreter is sign or verbal",
                        ParticipantRole::Agent => "an agent is agent or guardian",
                        ParticipantRole::Supervisor => "a supervisor has no kind",
                    },
                ));
            }
        };
        Ok(Checked {
            role,
            name: self.name.clone(),
            phone,
            language,
            kind,
        })
    }
}

/// The name as the audit log shows it: the first character, the rest masked.
pub fn masked_name(name: &str) -> String {
    let mut c = name.chars();
    let first: String = c.next().into_iter().collect();
    format!("{first}{}", "*".repeat(c.count().min(4)))
}

/// Where a participant is: added (no code exchanged yet), waiting (joined with the code, not
/// yet admitted), admitted, left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantStatus {
    Added,
    Waiting,
    Admitted,
    Left,
}

/// A participant as the hearing's officer, its citizen, auditors and the participant see it
/// (the phone masked).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ParticipantView {
    pub id: String,
    pub hearing_id: String,
    pub role: ParticipantRole,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<ParticipantKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub name: String,
    pub phone_masked: String,
    pub status: ParticipantStatus,
    pub added_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joined_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admitted_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_at: Option<i64>,
    /// An agent's power of attorney or guardianship document, by SHA-256 (once uploaded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority_document_sha256: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(role: &str, language: Option<&str>, kind: Option<&str>) -> AddParticipant {
        AddParticipant {
            role: role.into(),
            name: "李四".into(),
            phone: "13912345678".into(),
            language: language.map(Into::into),
            kind: kind.map(Into::into),
        }
    }

    fn code(r: Result<Checked, AppError>) -> String {
        r.err().map(|e| e.code.to_string()).unwrap_or_default()
    }

    #[test]
    fn every_rule_has_its_code() {
        assert_eq!(code(add("judge", None, None).check()), "role_invalid");
        assert_eq!(
            code(add("interpreter", None, None).check()),
            "language_invalid"
        );
        assert_eq!(
            code(add("agent", Some("sign"), None).check()),
            "language_invalid"
        );
        assert_eq!(
            code(add("agent", None, Some("sign")).check()),
            "kind_invalid"
        );
        assert_eq!(
            code(add("supervisor", None, Some("agent")).check()),
            "kind_invalid"
        );
        let long = "语".repeat(MAX_LANGUAGE_CHARS + 1);
        assert_eq!(
            code(add("interpreter", Some(&long), None).check()),
            "language_invalid"
        );
        let ok = add("interpreter", Some(&"语".repeat(MAX_LANGUAGE_CHARS)), None).check();
        assert!(ok.is_ok());
        let mut a = add("supervisor", None, None);
        a.name = "名".repeat(MAX_NAME_CHARS + 1);
        assert_eq!(code(a.check()), "name_invalid");
        a.name = "名".repeat(MAX_NAME_CHARS);
        a.phone = "12".into();
        assert_eq!(code(a.check()), "phone_invalid");
        let sign = add("interpreter", Some("sign"), None).check().unwrap();
        assert_eq!(sign.kind, Some(ParticipantKind::Sign));
        let g = add("agent", None, Some("guardian")).check().unwrap();
        assert_eq!(g.kind, Some(ParticipantKind::Guardian));
        assert_eq!(masked_name("欧阳娜娜"), "欧***");
    }
}
