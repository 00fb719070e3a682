//! `ClientIp`: the caller's address — the socket peer, or, when `server.trust_forwarded_for` is
//! set and the peer is one of `server.trusted_proxies`, the nearest `X-Forwarded-For` hop that
//! is not itself a trusted proxy. The rightmost hops are the ones our proxies appended; the
//! leftmost is whatever the client wrote, so taking it would let anyone pick the address the
//! throttles and lockouts count against.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};
use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

use crate::{error::AppError, state::AppState};

#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

/// One entry of `server.trusted_proxies`: an address (`10.0.0.2`) or a network (`10.0.0.0/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet(IpNet);

impl ProxyNet {
    pub fn parse(s: &str) -> Option<ProxyNet> {
        let s = s.trim();
        s.parse::<IpNet>()
            .ok()
            .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
            .map(ProxyNet)
    }

    fn contains(&self, ip: &IpAddr) -> bool {
        self.0.contains(ip)
    }
}

impl<'de> Deserialize<'de> for ProxyNet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ProxyNet::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "trusted_proxies: `{s}` is not an IP address or network"
            ))
        })
    }
}

/// The client's address as the proxies saw it (see the module doc); `peer` when the header is
/// not to be trusted, absent, or names only proxies.
pub fn resolve(peer: IpAddr, forwarded_for: Option<&str>, proxies: &[ProxyNet]) -> IpAddr {
    let trusted = |ip: &IpAddr| proxies.iter().any(|p| p.contains(ip));
    if !trusted(&peer) {
        return peer;
    }
    for hop in forwarded_for.unwrap_or("").rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if trusted(&ip) => continue,
            Ok(ip) => return ip,
            Err(_) => break,
        }
    }
    peer
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Some(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
        else {
            return Ok(ClientIp("unknown".into()));
        };
        let server = &state.config.server;
        if !server.trust_forwarded_for {
            return Ok(ClientIp(peer.to_string()));
        }
        let header = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        Ok(ClientIp(
            resolve(peer, header, &server.trusted_proxies).to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies() -> Vec<ProxyNet> {
        ["127.0.0.1", "10.0.0.0/24", "::1"]
            .iter()
            .map(|s| ProxyNet::parse(s).unwrap())
            .collect()
    }

    #[test]
    fn a_client_written_first_hop_is_not_believed() {
        // nginx appends the address it saw: the client's own "1.1.1.1" stays on the left.
        let got = resolve(ip("127.0.0.1"), Some("1.1.1.1, 203.0.113.7"), &proxies());
        assert_eq!(got, ip("203.0.113.7"));
    }

    #[test]
    fn hops_added_by_trusted_proxies_are_skipped() {
        let got = resolve(
            ip("10.0.0.3"),
            Some("203.0.113.7, 10.0.0.2, 127.0.0.1"),
            &proxies(),
        );
        assert_eq!(got, ip("203.0.113.7"));
    }

    #[test]
    fn a_peer_that_is_not_a_proxy_is_the_client() {
        let got = resolve(ip("198.51.100.9"), Some("203.0.113.7"), &proxies());
        assert_eq!(got, ip("198.51.100.9"));
    }

    #[test]
    fn garbage_or_only_proxies_leave_the_peer() {
        assert_eq!(
            resolve(ip("127.0.0.1"), Some("nonsense"), &proxies()),
            ip("127.0.0.1")
        );
        assert_eq!(
            resolve(ip("127.0.0.1"), Some("10.0.0.2"), &proxies()),
            ip("127.0.0.1")
        );
        assert_eq!(resolve(ip("::1"), None, &proxies()), ip("::1"));
        // Garbage left of a real hop does not hide it.
        assert_eq!(
            resolve(ip("127.0.0.1"), Some("x, 203.0.113.7"), &proxies()),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn proxies_parse_as_addresses_or_networks() {
        assert!(ProxyNet::parse("10.0.0.0/8").is_some());
        assert!(ProxyNet::parse("fd00::/8").is_some());
        assert!(ProxyNet::parse(" 192.0.2.1 ").is_some());
        assert!(ProxyNet::parse("example.com").is_none());
        assert!(ProxyNet::parse("10.0.0.0/33").is_none());
    }
}
