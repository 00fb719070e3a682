//! The served OpenAPI document: utoipa's, completed with what every route shares so that the
//! modules' annotations need not repeat it. Adds the bearer security scheme (required by every
//! operation outside [`PUBLIC`]), the error answers that the shared extractors and the storage
//! layer give (401/403 for authenticated operations; 400/404/413/415/422 where there is a body;
//! 400/404/422 where there are path or query parameters; 429 where there is a request budget;
//! 503 everywhere), and the formats and limits of the shared value types (phone, SMS code,
//! plate, dates, audit paging and sizes). Schemathesis
//! checks the result against the live server (`scripts/schemathesis.sh`).

use serde_json::{Value, json};

/// Operations that need no session (method, path).
pub const PUBLIC: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/sms-code"),
    ("post", "/api/v1/auth/citizen"),
    ("post", "/api/v1/auth/officer"),
    ("post", "/api/v1/auth/web-ticket"),
    ("get", "/api/v1/brigades"),
    ("get", "/api/v1/brigades/{id}/slots"),
    ("get", "/api/v1/audit/checkpoint"),
    ("get", "/api/v1/audit/keys"),
    ("get", "/api/v1/audit/witnesses"),
    ("post", "/api/v1/sms/receipts/{provider}"),
    // a hearing participant exchanges their SMS code for a session (issue 19 §2)
    ("post", "/api/v1/hearings/{id}/participants/{pid}/join"),
];

/// Operations with a request budget (logins, codes): they may answer 429 with `Retry-After`.
pub const THROTTLED: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/sms-code"),
    ("post", "/api/v1/auth/citizen"),
    ("post", "/api/v1/auth/citizen/phone"),
    ("post", "/api/v1/auth/officer"),
    ("post", "/api/v1/hearings/join"),
    ("post", "/api/v1/hearings/{id}/sms-code"),
    ("post", "/api/v1/hearings/{id}/participants/{pid}/join"),
    ("post", "/api/v1/hearings/{id}/participants/{pid}/sms-code"),
    ("post", "/api/v1/selftest/echo"),
    ("post", "/api/v1/bookings/{id}/selftest"),
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

/// The largest index or size the log can hold (stored as a signed 64-bit integer).
const MAX_INDEX: i64 = i64::MAX;

/// A date `YYYY-MM-DD`.
fn date() -> Value {
    json!({"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})
}

/// The shared value types' schemas (their `parse` functions in `crate::domain`).
fn value_types() -> [(&'static str, Value); 4] {
    [
        (
            "PhoneNumber",
            json!({"type": "string", "pattern": "^1[0-9]{10}$",
                   "description": "A mainland mobile number: 11 digits starting with 1."}),
        ),
        (
            "SmsCode",
            json!({"type": "string", "pattern": "^[0-9]{6}$"}),
        ),
        (
            "Plate",
            json!({"type": "string", "pattern": "^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][A-Z0-9]{5,6}$"}),
        ),
        (
            "RecordNo",
            json!({"type": "string", "minLength": 1, "maxLength": 32}),
        ),
    ]
}

/// Limits of parameters: (path, parameter, schema keys to set).
fn parameter_limits() -> Vec<(&'static str, &'static str, Value)> {
    let d = date();
    vec![
        ("/api/v1/brigades/{id}/slots", "from", d.clone()),
        ("/api/v1/brigades/{id}/slots", "to", d.clone()),
        ("/api/v1/bookings", "date", d.clone()),
        (
            "/api/v1/admin/brigades/{id}/closed-dates/{date}",
            "date",
            d.clone(),
        ),
        ("/api/v1/audit/hearings", "date", d),
        (
            "/api/v1/audit/entries",
            "limit",
            json!({"minimum": 1, "maximum": 1000}),
        ),
        (
            "/api/v1/audit/entries",
            "from",
            json!({"maximum": MAX_INDEX}),
        ),
        (
            "/api/v1/audit/entries/{seq}/proof",
            "seq",
            json!({"maximum": MAX_INDEX}),
        ),
        (
            "/api/v1/audit/entries/{seq}/proof",
            "tree_size",
            json!({"maximum": MAX_INDEX}),
        ),
        (
            "/api/v1/audit/consistency",
            "from",
            json!({"minimum": 1, "maximum": MAX_INDEX}),
        ),
        (
            "/api/v1/audit/consistency",
            "to",
            json!({"maximum": MAX_INDEX}),
        ),
        (
            "/api/v1/audit/hearings/{id}/bundle",
            "consistency_from",
            json!({"minimum": 1, "maximum": MAX_INDEX}),
        ),
    ]
}

/// Limits of body fields: (schema, property, schema keys to set).
fn property_limits() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "OfficerLogin",
            "badge",
            json!({"minLength": 1, "maxLength": 32}),
        ),
        (
            "OfficerLogin",
            "password",
            json!({"minLength": 1, "maxLength": 256}),
        ),
        ("JoinRequest", "code", json!({"pattern": "^[0-9]{6}$"})),
        (
            "RedeemTicket",
            "ticket",
            json!({"pattern": "^[0-9a-f]{64}$"}),
        ),
        (
            "BindPhone",
            "phone_code",
            json!({"minLength": 1, "maxLength": 128}),
        ),
    ]
}

fn error_answer(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

fn add_answer(op: &mut Value, status: &str, description: &str) {
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        responses
            .entry(status)
            .or_insert_with(|| error_answer(description));
    }
}

fn merge(target: &mut Value, keys: &Value) {
    if let (Some(t), Some(k)) = (target.as_object_mut(), keys.as_object()) {
        for (key, v) in k {
            t.insert(key.clone(), v.clone());
        }
    }
}

/// Completes one operation.
fn complete(method: &str, path: &str, op: &mut Value) {
    if !PUBLIC.contains(&(method, path)) {
        op["security"] = json!([{"bearer": []}]);
        add_answer(
            op,
            "401",
            "Missing, unknown or expired token (`unauthorized`).",
        );
        add_answer(
            op,
            "403",
            "The session's role may not do this (`forbidden`).",
        );
    }
    if THROTTLED.contains(&(method, path)) {
        add_answer(
            op,
            "429",
            "Over the request budget; retry after `Retry-After` seconds.",
        );
    }
    if op.get("requestBody").is_some() {
        add_answer(
            op,
            "404",
            "Something the body or path names does not exist (`not_found`).",
        );
        add_answer(op, "400", "Malformed JSON (`bad_json`).");
        add_answer(op, "413", "The body is too large (`body_too_large`).");
        add_answer(op, "415", "Not `Content-Type: application/json`.");
        add_answer(
            op,
            "422",
            "A field is missing or invalid (`invalid_field`, `field`).",
        );
    }
    let params: Vec<String> = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p["in"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if params.iter().any(|p| p == "path") {
        add_answer(op, "400", "A path segment is not UTF-8 (`bad_path`).");
        add_answer(op, "404", "Not found (`not_found`).");
    }
    if !params.is_empty() {
        add_answer(
            op,
            "422",
            "A path or query value is missing or invalid (`invalid_field`, `field`).",
        );
    }
    add_answer(
        op,
        "503",
        "Storage or a backing service is unavailable for now; retry (`Retry-After`).",
    );
}

/// The document served at `/api/v1/openapi.json`.
pub fn document(api: &utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(api).unwrap_or_else(|_| json!({}));
    doc["components"]["securitySchemes"]["bearer"] = json!({"type": "http", "scheme": "bearer", "description": "A session token from /api/v1/auth/*."});
    for (name, schema) in value_types() {
        doc["components"]["schemas"][name] = schema;
    }
    for (schema, prop, keys) in property_limits() {
        if let Some(p) = doc["components"]["schemas"][schema]["properties"].get_mut(prop) {
            merge(p, &keys);
        }
    }
    let limits = parameter_limits();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            for method in METHODS {
                let Some(op) = item.get_mut(*method) else {
                    continue;
                };
                complete(method, path, op);
                let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                    continue;
                };
                for p in params {
                    let name = p["name"].as_str().unwrap_or_default().to_string();
                    for (lp, ln, keys) in &limits {
                        if lp == path && *ln == name {
                            merge(&mut p["schema"], keys);
                        }
                    }
                }
            }
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_operations() {
        let api = crate::startup::routes::api().split_for_parts().1;
        let doc = document(&api);
        let me = &doc["paths"]["/api/v1/auth/me"]["get"];
        assert!(me["responses"]["401"].is_object(), "{me}");
        assert_eq!(me["security"], json!([{"bearer": []}]));
        let login = &doc["paths"]["/api/v1/auth/officer"]["post"];
        assert!(login["security"].is_null());
        assert!(login["responses"]["415"].is_object());
        assert_eq!(
            doc["components"]["schemas"]["PhoneNumber"]["pattern"],
            "^1[0-9]{10}$"
        );
    }
}
