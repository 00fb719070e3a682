//! Join tokens: short-lived, bound to one hearing, role and participant, signed with HMAC-SHA256
//! by the server (`v1.<base64url(JSON claims)>.<base64url(tag)>`). Also TURN REST credentials.
//!
//! The hearing module mints tokens through [`mint`] (its `/join` and `/join-token` endpoints);
//! the signalling socket verifies them. Owns no storage: a token is valid until it expires.

use axum::extract::FromRef;
use base64::{Engine, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD};
use ring::hmac;
use serde::{Deserialize, Serialize};
use signaling::{IceServer, Role};

use super::Call;

/// What a client gets to join the call (API.md: `{join_token, ws_url, ice_servers}`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JoinGrant {
    pub join_token: String,
    pub ws_url: String,
    #[schema(value_type = Vec<Object>)]
    pub ice_servers: Vec<IceServer>,
    /// When the client turns to audio-only by itself (`call.audio_only_*`, docs/call.md).
    pub audio_only: AudioOnly,
}

/// The weak-link rule handed to clients: below `kbps` for `after_s` seconds, video off; above
/// `2 × kbps` for `back_after_s` seconds, video on again. `kbps` 0: never automatically.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AudioOnly {
    pub kbps: u32,
    pub after_s: u32,
    pub back_after_s: u32,
}

impl AudioOnly {
    pub fn of(cfg: &super::CallConfig) -> AudioOnly {
        AudioOnly {
            kbps: cfg.audio_only_kbps,
            after_s: cfg.audio_only_after_s.max(1),
            back_after_s: cfg.video_back_after_s.max(1),
        }
    }
}

/// The claims inside a join token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// hearing id
    pub h: String,
    /// `citizen` or `officer`
    pub r: String,
    /// participant id (citizen id or officer user id)
    pub p: String,
    /// expiry, unix ms
    pub e: i64,
    /// random nonce (two tokens are never equal)
    pub n: String,
}

/// The signing key of join tokens.
#[derive(Clone)]
pub struct TokenKey(hmac::Key);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    pub fn new(secret: &[u8]) -> TokenKey {
        TokenKey(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    pub fn sign(&self, c: &Claims) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).unwrap_or_default());
        let tag = hmac::sign(&self.0, format!("v1.{body}").as_bytes());
        format!("v1.{body}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The claims of a genuine, unexpired token.
    pub fn verify(&self, token: &str, now_ms: i64) -> Option<Claims> {
        let rest = token.strip_prefix("v1.")?;
        let (body, tag) = rest.split_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        hmac::verify(&self.0, format!("v1.{body}").as_bytes(), &tag).ok()?;
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
        (claims.e > now_ms).then_some(claims)
    }
}

/// TURN REST credentials (coturn `use-auth-secret`): username `expiry:participant`, password
/// base64(HMAC-SHA1(secret, username)).
pub fn turn_credentials(
    secret: &[u8],
    participant_id: &str,
    expiry_unix_s: i64,
) -> (String, String) {
    let username = format!("{expiry_unix_s}:{participant_id}");
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, username.as_bytes());
    (username, STANDARD.encode(tag.as_ref()))
}

/// The ICE servers handed to one participant: the configured STUN servers, and the TURN servers
/// with fresh REST credentials when a TURN secret is configured.
pub fn ice_servers(call: &Call, participant_id: &str) -> Vec<IceServer> {
    let cfg = &call.config;
    let mut out = Vec::new();
    if !cfg.stun_urls.is_empty() {
        out.push(IceServer {
            urls: cfg.stun_urls.clone(),
            ..Default::default()
        });
    }
    if !cfg.turn_urls.is_empty()
        && let Some(secret) = call.turn_secret.as_deref()
    {
        let expiry = call.clock.now_ms() / 1000 + cfg.turn_ttl_s as i64;
        let (username, credential) = turn_credentials(secret, participant_id, expiry);
        out.push(IceServer {
            urls: cfg.turn_urls.clone(),
            username: Some(username),
            credential: Some(credential),
        });
    }
    out
}

/// The WebSocket URL of a hearing's call (absolute when `server.public_url` is set).
pub fn ws_url(call: &Call, hearing_id: &str) -> String {
    ws_url_at(&call.public_url, hearing_id)
}

/// The WebSocket URL of a hearing's call at a base URL (`http(s)://…`; otherwise the path).
pub fn ws_url_at(base: &str, hearing_id: &str) -> String {
    let path = format!("/ws/hearings/{hearing_id}");
    let base = base.trim_end_matches('/');
    if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}{path}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}{path}")
    } else {
        path
    }
}

/// Mints a join grant for a participant of a hearing (the caller has checked who may join).
pub fn mint<S>(
    state: &S,
    hearing_id: &str,
    role: Role,
    participant_id: &str,
) -> anyhow::Result<JoinGrant>
where
    Call: FromRef<S>,
{
    let call = &Call::from_ref(state);
    let claims = Claims {
        h: hearing_id.to_owned(),
        r: role.as_str().to_owned(),
        p: participant_id.to_owned(),
        e: call.clock.now_ms() + call.config.join_token_ttl_s as i64 * 1000,
        n: crate::ids::random_token()?.chars().take(16).collect(),
    };
    Ok(JoinGrant {
        join_token: call.tokens.sign(&claims),
        ws_url: ws_url(call, hearing_id),
        ice_servers: ice_servers(call, participant_id),
        audio_only: AudioOnly::of(&call.config),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(e: i64) -> Claims {
        Claims {
            h: "h1".into(),
            r: "citizen".into(),
            p: "c1".into(),
            e,
            n: "x".into(),
        }
    }

    #[test]
    fn tokens_verify_only_when_genuine_and_unexpired() {
        let k = TokenKey::new(b"secret");
        let t = k.sign(&claims(1000));
        assert_eq!(k.verify(&t, 999), Some(claims(1000)));
        assert_eq!(k.verify(&t, 1000), None, "expired");
        assert_eq!(TokenKey::new(b"other").verify(&t, 0), None, "wrong key");
        let mut forged = t.clone();
        forged.replace_range(5..6, if &t[5..6] == "A" { "B" } else { "A" });
        assert_eq!(k.verify(&forged, 0), None);
        for bad in ["", "v1.", "v1..", "v2.a.b", "garbage", "v1.e30.AAAA"] {
            assert_eq!(k.verify(bad, 0), None, "{bad}");
        }
    }

    #[test]
    fn turn_rest_credentials_match_coturn() {
        // coturn: password = base64(hmac-sha1(secret, "expiry:user"))
        let (u, p) = turn_credentials(b"north", "c1", 1700000000);
        assert_eq!(u, "1700000000:c1");
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, b"north");
        assert_eq!(
            STANDARD.decode(&p).unwrap(),
            hmac::sign(&key, u.as_bytes()).as_ref()
        );
        assert_eq!(p.len(), 28);
    }
}
