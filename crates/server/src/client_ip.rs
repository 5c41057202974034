//! Who the client is, by address: the one function every per-address rule
//! uses (the registration limit, the sign-in throttle by address, the cap on
//! passkey ceremonies per address, the per-address rate limit).
//!
//! The client's address is the TCP peer's, unless the peer is one of the
//! `trusted_proxies`: then it is the rightmost `X-Forwarded-For` entry that
//! is not itself a trusted proxy (each proxy appends the address it saw, so
//! entries left of the last untrusted one were written by the client and
//! prove nothing). With no trusted proxy configured, `X-Forwarded-For` is
//! ignored: a client cannot choose its own address.
//!
//! [`resolve`] runs first on every request and leaves a [`ClientIp`] in its
//! extensions; handlers and later layers read that, never the peer address.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

/// The client's address, as [`client_ip`] decided it (IPv4-mapped IPv6 as IPv4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// The client address of a request, if it came through our accept loop.
    pub fn of(extensions: &axum::http::Extensions) -> Option<IpAddr> {
        extensions.get::<ClientIp>().map(|c| c.0)
    }
}

/// An address or a network (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether `ip` lies in this network (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{text}` is not an address or a network like 10.0.0.0/8"))?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{text}`: the prefix length must be 0–{max}"))?,
        };
        Ok(Self { addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl fmt::Debug for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Parses `trusted_proxies`: addresses or networks separated by commas or
/// whitespace, at most [`MAX_TRUSTED_PROXIES`](symbolon_core::limits::MAX_TRUSTED_PROXIES).
pub fn parse_trusted(text: &str) -> Result<Vec<IpNet>, String> {
    let nets = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .map(IpNet::from_str)
        .collect::<Result<Vec<_>, _>>()?;
    let max = symbolon_core::limits::MAX_TRUSTED_PROXIES;
    if nets.len() > max {
        return Err(format!("at most {max} entries"));
    }
    Ok(nets)
}

/// A list of addresses or networks: one string (comma- or space-separated)
/// or, in the TOML file, an array of strings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(untagged)]
pub enum AddressList {
    Text(String),
    List(Vec<String>),
}

impl AddressList {
    pub fn parse(&self) -> Result<Vec<IpNet>, String> {
        match self {
            Self::Text(t) => parse_trusted(t),
            Self::List(l) => parse_trusted(&l.join(",")),
        }
    }
}

/// One entry of `X-Forwarded-For`: an address, perhaps with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn forwarded_entry(entry: &str) -> Option<IpAddr> {
    let e = entry.trim();
    if let Ok(ip) = e.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = e.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    e.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|r| r.parse().ok())
}

/// The client's address: `peer`, unless `peer` is a trusted proxy; then
/// the rightmost `X-Forwarded-For` entry that is not a trusted proxy (all
/// the header's lines, in order). When every entry is a trusted proxy, the
/// leftmost of them; an entry that is not an address ends the walk there
/// (nothing to its left is believed).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut nearest = peer;
    for entry in entries.iter().rev() {
        let Some(ip) = forwarded_entry(entry) else {
            break;
        };
        let ip = ip.to_canonical();
        if !is_trusted(ip) {
            return ip;
        }
        nearest = ip;
    }
    nearest
}

/// The first layer of every request: records its [`ClientIp`] (none for a
/// router driven without our accept loop, which gives no peer).
pub async fn resolve(
    State(trusted): State<Arc<[IpNet]>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    if let Some(peer) = peer {
        let ip = client_ip(peer, req.headers(), &trusted);
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(lines: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for l in lines {
            h.append("x-forwarded-for", l.parse().unwrap());
        }
        h
    }

    #[test]
    fn networks_parse_and_contain() {
        let n: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(n.contains(ip("10.1.2.3")) && !n.contains(ip("11.0.0.1")));
        assert!(n.contains(ip("::ffff:10.9.9.9")), "mapped IPv4");
        let one: IpNet = "192.0.2.7".parse().unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let v6: IpNet = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")) && !v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.5")));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "proxy",
            "10.0.0.0/-1",
            "",
        ] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
        assert_eq!(
            parse_trusted("10.0.0.0/8, 192.0.2.7  ::1").unwrap().len(),
            3
        );
        assert!(parse_trusted("").unwrap().is_empty());
        let many = vec!["10.0.0.1"; symbolon_core::limits::MAX_TRUSTED_PROXIES];
        assert!(parse_trusted(&many.join(",")).is_ok());
        let too_many = vec!["10.0.0.1"; symbolon_core::limits::MAX_TRUSTED_PROXIES + 1];
        assert!(parse_trusted(&too_many.join(",")).is_err());
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_peer() {
        let trusted = parse_trusted("10.0.0.0/8").unwrap();
        let spoof = xff(&["198.51.100.9"]);
        // An untrusted peer: its header is ignored.
        assert_eq!(
            client_ip(ip("203.0.113.5"), &spoof, &trusted),
            ip("203.0.113.5")
        );
        // No trusted proxies at all: ignored too.
        assert_eq!(client_ip(ip("10.0.0.2"), &spoof, &[]), ip("10.0.0.2"));
        // A trusted peer: the rightmost untrusted entry, whatever the client
        // put to its left.
        let h = xff(&["1.1.1.1, 198.51.100.9", "10.0.0.3"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("198.51.100.9"));
        // Ports and brackets are read.
        let h = xff(&["[2001:db8::5]:443"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("2001:db8::5"));
        let h = xff(&["198.51.100.9:4711"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("198.51.100.9"));
        // Only proxies: the leftmost; none: the peer.
        let h = xff(&["10.0.0.9, 10.0.0.3"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("10.0.0.9"));
        assert_eq!(
            client_ip(ip("10.0.0.2"), &HeaderMap::new(), &trusted),
            ip("10.0.0.2")
        );
        // Garbage stops the walk: nothing left of it is believed.
        let h = xff(&["198.51.100.9, unknown, 10.0.0.3"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("10.0.0.3"));
        // A mapped peer is the IPv4 it maps.
        assert_eq!(
            client_ip(ip("::ffff:203.0.113.5"), &spoof, &trusted),
            ip("203.0.113.5")
        );
    }
}
