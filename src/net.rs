//! Network addresses: trusted proxy ranges, the client's address behind them, and which
//! addresses outgoing calls may reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;

/// Who is calling from where: the client's address and the `User-Agent`.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// The client's IP address: the TCP peer, or the address a trusted proxy forwarded for
    /// (`TRUSTED_PROXIES`); `unknown` when the server was not told.
    pub ip: String,
    /// The `User-Agent` header, cut to 256 characters.
    pub user_agent: Option<String>,
}

/// An address range such as `10.0.0.0/8` or `fd00::/8`; a bare address is a range of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Reads `address/prefix` or a bare address.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("'{text}' is not an address range like 10.0.0.0/8"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{text}' has a prefix length outside 0 to {max}"))?,
        };
        Ok(Self { network, prefix })
    }

    /// Whether `ip` lies in this range (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[full] & mask == b[full] & mask
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Reads a comma-separated list of ranges (`TRUSTED_PROXIES`, `WEBHOOK_ALLOW_PRIVATE`).
pub fn parse_ranges(text: &str) -> Result<Vec<Cidr>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(Cidr::parse)
        .collect()
}

/// The address of the client of a request: the TCP peer, unless the peer is a trusted proxy,
/// in which case the nearest untrusted address of `Forwarded` (or else `X-Forwarded-For`).
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let peer = canonical(peer.ip());
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    // Read from the nearest hop outwards: the first address no trusted proxy vouches for is
    // the client; anything before it may have been written by the client itself.
    chain
        .iter()
        .rev()
        .copied()
        .find(|ip| !is_trusted(*ip))
        .or_else(|| chain.first().copied())
        .unwrap_or(peer)
}

/// The addresses a request passed through, oldest first, from `Forwarded` when present, else
/// from `X-Forwarded-For`; entries that are not addresses (`unknown`, obfuscated) are skipped.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    key.eq_ignore_ascii_case("for")
                        .then(|| parse_node(value.trim_matches('"')))
                        .flatten()
                })
            })
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .filter_map(|v| parse_node(v))
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn parse_node(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(canonical(addr.ip()));
    }
    text.strip_prefix('[')
        .and_then(|t| t.split(']').next())
        .and_then(|t| t.parse::<Ipv6Addr>().ok())
        .map(|ip| canonical(IpAddr::V6(ip)))
}

/// Whether an outgoing call may reach `ip` without an explicit allowance: not loopback,
/// private, link-local (cloud metadata), shared, documentation, multicast or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || first == 0x0064 && ip.segments()[1] == 0xff9b)
}

/// Resolves host names for outgoing calls to customers' servers, keeping only public
/// addresses unless the host is named in `allowed` (on-premises receivers). The check runs on
/// the resolved address at every connection, so a name that later points inside is refused too.
#[derive(Clone, Debug)]
pub struct PublicResolver {
    allowed: std::sync::Arc<Vec<String>>,
}

impl PublicResolver {
    /// A resolver that lets `allowed` host names reach private addresses.
    pub fn new(allowed: Vec<String>) -> Self {
        Self {
            allowed: std::sync::Arc::new(allowed),
        }
    }

    /// Whether `host` may be reached at `ip`.
    pub fn permits(&self, host: &str, ip: IpAddr) -> bool {
        let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
        is_public(ip) || self.allowed.contains(&host)
    }

    /// Checks a URL whose host is an address (no name to resolve): `Err` names the problem.
    pub fn check_literal(&self, url: &reqwest::Url) -> Result<(), String> {
        let host = url.host_str().unwrap_or_default();
        let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() else {
            return Ok(());
        };
        if self.permits(host, ip) {
            Ok(())
        } else {
            Err(format!("{ip} is a private address; name the host in WEBHOOK_ALLOW_PRIVATE_HOSTS to allow it"))
        }
    }
}

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let this = self.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| this.permits(&host, a.ip()))
                .collect();
            if usable.is_empty() {
                let reason = if found.is_empty() {
                    format!("{host} has no address")
                } else {
                    format!("{host} resolves only to private addresses; name it in WEBHOOK_ALLOW_PRIVATE_HOSTS to allow it")
                };
                return Err(reason.into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(usable.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 40_000)
    }

    #[test]
    fn ranges_contain_what_they_say() {
        let net = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.200.3.4".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
        let one = Cidr::parse("192.168.1.7").unwrap();
        assert!(one.contains("192.168.1.7".parse().unwrap()));
        assert!(!one.contains("192.168.1.8".parse().unwrap()));
        let odd = Cidr::parse("172.16.0.0/12").unwrap();
        assert!(odd.contains("172.31.255.255".parse().unwrap()));
        assert!(!odd.contains("172.32.0.0".parse().unwrap()));
        assert!(Cidr::parse("fd00::/8")
            .unwrap()
            .contains("fd12::1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("ten").is_err());
    }

    #[test]
    fn forwarding_headers_count_only_from_a_trusted_peer() {
        let trusted = parse_ranges("10.0.0.0/8").unwrap();
        let forged = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(
            client_ip(peer("203.0.113.9"), &forged, &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap(),
            "an untrusted peer's headers are ignored"
        );
        let via_proxy = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.3")]);
        assert_eq!(
            client_ip(peer("10.0.0.2"), &via_proxy, &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap(),
            "the nearest untrusted hop is the client; what it wrote before is not believed"
        );
        let forwarded = headers(&[("forwarded", r#"for="[2001:db8::7]:4711";proto=https"#)]);
        assert_eq!(
            client_ip(peer("10.0.0.2"), &forwarded, &trusted),
            "2001:db8::7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(peer("10.0.0.2"), &HeaderMap::new(), &trusted),
            "10.0.0.2".parse::<IpAddr>().unwrap(),
            "no header: the proxy itself"
        );
        assert_eq!(
            client_ip(peer("10.0.0.2"), &forged, &[]),
            "10.0.0.2".parse::<IpAddr>().unwrap(),
            "nothing trusted by default"
        );
    }

    #[test]
    fn private_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
