//! Which IP addresses a webhook may be sent to: the destination-safety rules against
//! server-side request forgery.
//!
//! [`classify`] says why an address is not a public destination (loopback, private,
//! link-local, CGNAT, multicast, reserved, documentation…), looking through the IPv6 forms
//! that embed an IPv4 address (mapped, compatible, 6to4, NAT64, Teredo). [`AllowList`] is the
//! operator's list of networks that are let through anyway (`HOOKLINE_ALLOW_NETWORKS`), and
//! [`check`] puts the two together.
//!
//! Pure: must not resolve names or open sockets (`crate::destination` does that and applies
//! these rules to what it finds).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;

/// Why an address is refused as a webhook destination. [`BlockedReason::as_str`] is a stable
/// snake_case name for logs and records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockedReason {
    /// `0.0.0.0/8`: "this network".
    ThisNetwork,
    /// `::`.
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`.
    Private,
    /// `100.64.0.0/10`: carrier-grade NAT.
    Cgnat,
    /// `169.254.0.0/16` (with the cloud metadata address 169.254.169.254), `fe80::/10`.
    LinkLocal,
    /// `192.0.0.0/24`: IETF protocol assignments.
    IetfProtocol,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `192.88.99.0/24`: the deprecated 6to4 relay anycast.
    Relay6to4,
    /// `198.18.0.0/15`: benchmarking.
    Benchmarking,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `240.0.0.0/4`, and IPv6 outside global unicast `2000::/3` not named otherwise.
    Reserved,
    /// `255.255.255.255`.
    Broadcast,
    /// `fc00::/7`: unique local addresses.
    UniqueLocal,
    /// `fec0::/10`: the deprecated site-local addresses.
    SiteLocal,
    /// `100::/64`: discard-only.
    Discard,
    /// `2001::/23` (beyond Teredo): IETF special-purpose assignments.
    IetfSpecial,
    /// `2001::/32`: Teredo tunnels, whose server and client addresses are not for us to reach.
    Teredo,
    /// `64:ff9b:1::/48`: NAT64 for local use.
    Nat64LocalUse,
    /// `::/96` (besides `::` and `::1`): the deprecated IPv4-compatible form.
    Ipv4Compatible,
    /// `::ffff:0:0:0/96`: the IPv4-translated form.
    Ipv4Translated,
    /// `5f00::/16`: SRv6 segment identifiers.
    Srv6,
}

impl BlockedReason {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ThisNetwork => "this_network",
            Self::Unspecified => "unspecified",
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::Cgnat => "cgnat",
            Self::LinkLocal => "link_local",
            Self::IetfProtocol => "ietf_protocol",
            Self::Documentation => "documentation",
            Self::Relay6to4 => "relay_6to4",
            Self::Benchmarking => "benchmarking",
            Self::Multicast => "multicast",
            Self::Reserved => "reserved",
            Self::Broadcast => "broadcast",
            Self::UniqueLocal => "unique_local",
            Self::SiteLocal => "site_local",
            Self::Discard => "discard",
            Self::IetfSpecial => "ietf_special",
            Self::Teredo => "teredo",
            Self::Nat64LocalUse => "nat64_local_use",
            Self::Ipv4Compatible => "ipv4_compatible",
            Self::Ipv4Translated => "ipv4_translated",
            Self::Srv6 => "srv6",
        }
    }

    /// What the address is, for a customer-facing message: "a loopback address".
    pub fn description(self) -> &'static str {
        match self {
            Self::ThisNetwork => "a \"this network\" address",
            Self::Unspecified => "the unspecified address",
            Self::Loopback => "a loopback address",
            Self::Private => "a private address",
            Self::Cgnat => "a carrier-grade NAT address",
            Self::LinkLocal => "a link-local address",
            Self::IetfProtocol => "an IETF protocol address",
            Self::Documentation => "a documentation address",
            Self::Relay6to4 => "a 6to4 relay address",
            Self::Benchmarking => "a benchmarking address",
            Self::Multicast => "a multicast address",
            Self::Reserved => "a reserved address",
            Self::Broadcast => "the broadcast address",
            Self::UniqueLocal => "a unique local address",
            Self::SiteLocal => "a site-local address",
            Self::Discard => "a discard-only address",
            Self::IetfSpecial => "an IETF special-purpose address",
            Self::Teredo => "a Teredo tunnel address",
            Self::Nat64LocalUse => "a local-use NAT64 address",
            Self::Ipv4Compatible => "a deprecated IPv4-compatible address",
            Self::Ipv4Translated => "an IPv4-translated address",
            Self::Srv6 => "an SRv6 segment identifier",
        }
    }
}

impl fmt::Display for BlockedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An address refused as a destination, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockedAddress {
    pub ip: IpAddr,
    /// The IPv4 address an IPv6 form embeds, when that is what is refused.
    pub embedded: Option<Ipv4Addr>,
    pub reason: BlockedReason,
}

impl fmt::Display for BlockedAddress {
    /// `127.0.0.1 is a loopback address`, or
    /// `::ffff:127.0.0.1 embeds 127.0.0.1, a loopback address`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.embedded {
            Some(inner) => write!(
                f,
                "{} embeds {inner}, {}",
                self.ip,
                self.reason.description()
            ),
            None => write!(f, "{} is {}", self.ip, self.reason.description()),
        }
    }
}

impl std::error::Error for BlockedAddress {}

/// Why `ip` is not a public destination, or `None` when it is one.
pub fn classify(ip: IpAddr) -> Option<BlockedReason> {
    blocked(ip).map(|(reason, _)| reason)
}

/// The reason and, for IPv6 forms refused because of the IPv4 address they embed, that address.
fn blocked(ip: IpAddr) -> Option<(BlockedReason, Option<Ipv4Addr>)> {
    match ip {
        IpAddr::V4(ip) => classify_v4(ip).map(|reason| (reason, None)),
        IpAddr::V6(ip) => classify_v6(ip),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<BlockedReason> {
    use BlockedReason::*;
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => ThisNetwork,
        (10, _, _) => Private,
        (100, 64..=127, _) => Cgnat,
        (127, _, _) => Loopback,
        (169, 254, _) => LinkLocal,
        (172, 16..=31, _) => Private,
        (192, 0, 0) => IetfProtocol,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Documentation,
        (192, 88, 99) => Relay6to4,
        (192, 168, _) => Private,
        (198, 18..=19, _) => Benchmarking,
        (224..=239, _, _) => Multicast,
        _ if ip == Ipv4Addr::BROADCAST => Broadcast,
        (240..=255, _, _) => Reserved,
        _ => return None,
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<(BlockedReason, Option<Ipv4Addr>)> {
    use BlockedReason::*;
    let segments = ip.segments();
    let embedded_low = Ipv4Addr::from_bits((ip.to_bits() & 0xffff_ffff) as u32);
    // Forms that carry an IPv4 address: refused when that address is.
    let through = |inner: Ipv4Addr| classify_v4(inner).map(|reason| (reason, Some(inner)));
    match segments {
        // `::ffff:a.b.c.d`, IPv4-mapped: a dual-stack socket connects to the IPv4 address.
        [0, 0, 0, 0, 0, 0xffff, _, _] => return through(embedded_low),
        // `64:ff9b::a.b.c.d`, the well-known NAT64 prefix: the gateway connects to the IPv4 address.
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => return through(embedded_low),
        // `2002:AABB:CCDD::/48`, 6to4: the site behind is the IPv4 address in bits 16..48.
        [0x2002, high, low, ..] => {
            let inner = Ipv4Addr::from_bits((u32::from(high) << 16) | u32::from(low));
            return through(inner);
        }
        _ => {}
    }
    let reason = match segments {
        [0, 0, 0, 0, 0, 0, 0, 0] => Unspecified,
        [0, 0, 0, 0, 0, 0, 0, 1] => Loopback,
        [0, 0, 0, 0, 0, 0, _, _] => Ipv4Compatible,
        [0, 0, 0, 0, 0xffff, 0, _, _] => Ipv4Translated,
        [0x64, 0xff9b, 1, ..] => Nat64LocalUse,
        [0x100, 0, 0, 0, ..] => Discard,
        [0x2001, 0, ..] => Teredo,
        [0x2001, 0x0db8, ..] => Documentation,
        [0x2001, 0x0000..=0x01ff, ..] => IetfSpecial,
        [0x3fff, 0x0000..=0x0fff, ..] => Documentation,
        [0x5f00, ..] => Srv6,
        [0xfc00..=0xfdff, ..] => UniqueLocal,
        [0xfe80..=0xfebf, ..] => LinkLocal,
        [0xfec0..=0xfeff, ..] => SiteLocal,
        [0xff00..=0xffff, ..] => Multicast,
        // Only 2000::/3 is global unicast; the rest is unassigned or reserved.
        [0x2000..=0x3fff, ..] => return None,
        _ => Reserved,
    };
    Some((reason, None))
}

/// Networks the operator lets webhooks reach although [`classify`] refuses them
/// (`HOOKLINE_ALLOW_NETWORKS`, e.g. `127.0.0.0/8,::1/128`). Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    networks: Vec<IpNet>,
}

/// A network in an allow-list that is not `address/prefix` nor a bare address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a network like 10.1.2.0/24 or ::1/128")]
pub struct InvalidNetwork(pub String);

impl AllowList {
    /// Loopback: `127.0.0.0/8` and `::1/128`.
    pub fn loopback() -> Self {
        Self::from_networks([
            IpNet::from_str("127.0.0.0/8").expect("a valid network"),
            IpNet::from_str("::1/128").expect("a valid network"),
        ])
    }

    pub fn from_networks(networks: impl IntoIterator<Item = IpNet>) -> Self {
        let mut list = Self::default();
        list.extend(networks);
        list
    }

    /// Parses comma-separated networks (`10.1.2.0/24, ::1/128`); a bare address stands for
    /// itself alone. Blank items are skipped.
    pub fn parse(text: &str) -> Result<Self, InvalidNetwork> {
        let networks = text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                IpNet::from_str(item)
                    .or_else(|_| IpAddr::from_str(item).map(IpNet::from))
                    .map(|network| network.trunc())
                    .map_err(|_| InvalidNetwork(item.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_networks(networks))
    }

    /// Adds networks not already listed.
    pub fn extend(&mut self, networks: impl IntoIterator<Item = IpNet>) {
        for network in networks {
            if !self.networks.contains(&network) {
                self.networks.push(network);
            }
        }
    }

    pub fn networks(&self) -> &[IpNet] {
        &self.networks
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Whether `ip` is in a listed network. An IPv4-mapped IPv6 address counts as its IPv4
    /// address, since that is where a connection to it goes.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        self.networks
            .iter()
            .any(|network| network.contains(&ip) || network.contains(&canonical))
    }
}

impl fmt::Display for AllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.networks.iter().map(IpNet::to_string).collect();
        f.write_str(&names.join(","))
    }
}

/// `Ok` when a webhook may be sent to `ip`: it is public, or the operator allows its network.
pub fn check(ip: IpAddr, allowed: &AllowList) -> Result<(), BlockedAddress> {
    match blocked(ip) {
        Some(_) if allowed.contains(ip) => Ok(()),
        Some((reason, embedded)) => Err(BlockedAddress {
            ip,
            embedded,
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn check_classify(text: &str, expected: Option<&str>) {
        let ip: IpAddr = text
            .parse()
            .unwrap_or_else(|_| panic!("{text:?} is not an IP address"));
        assert_eq!(
            classify(ip).map(BlockedReason::as_str),
            expected,
            "classify({text})"
        );
        assert_eq!(
            check(ip, &AllowList::default()).is_err(),
            expected.is_some(),
            "check({text})"
        );
    }

    /// Destinations that must be refused, and why; shared with the integration tests.
    const REFUSED: &str = include_str!("../tests/data/refused_destinations.txt");

    /// `(address, reason name)` for each line of [`REFUSED`].
    fn refused() -> Vec<(&'static str, &'static str)> {
        REFUSED
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| {
                line.split_once(char::is_whitespace)
                    .map(|(ip, reason)| (ip, reason.trim()))
                    .unwrap()
            })
            .collect()
    }

    /// Public destinations that must be let through.
    const ALLOWED: &[&str] = &[
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "9.255.255.255",
        "11.0.0.1",
        "100.63.255.255",
        "100.128.0.1",
        "126.255.255.255",
        "128.0.0.1",
        "169.253.255.255",
        "169.255.0.1",
        "172.15.255.255",
        "172.32.0.1",
        "192.0.1.1",
        "192.0.3.1",
        "192.88.98.1",
        "192.167.255.255",
        "192.169.0.1",
        "198.17.255.255",
        "198.20.0.1",
        "223.255.255.255",
        "2606:4700:4700::1111",
        "2001:4860:4860::8888",
        "2a00:1450:4001:81b::200e",
        "2001:200::1",
        "2001:db7:ffff::1",
        "64:ff9b::808:808",
        "64:ff9b::8.8.4.4",
        "::ffff:8.8.8.8",
        "2002:808:808::1",
        "3fff:1000::1",
    ];

    #[test]
    fn refuses_every_non_public_form() {
        let refused = refused();
        assert!(refused.len() >= 60, "only {} refused forms", refused.len());
        for (text, reason) in refused {
            check_classify(text, Some(reason));
        }
    }

    #[test]
    fn lets_public_addresses_through() {
        for text in ALLOWED {
            check_classify(text, None);
        }
    }

    #[test]
    fn reasons_have_stable_names_and_messages_name_the_address() {
        let blocked = |text: &str| {
            check(text.parse().unwrap(), &AllowList::default())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(blocked("127.0.0.1"), "127.0.0.1 is a loopback address");
        assert_eq!(
            blocked("::ffff:169.254.169.254"),
            "::ffff:169.254.169.254 embeds 169.254.169.254, a link-local address"
        );
        assert_eq!(
            blocked("2002:a00:1::1"),
            "2002:a00:1::1 embeds 10.0.0.1, a private address"
        );
        assert_eq!(BlockedReason::Cgnat.as_str(), "cgnat");
        assert_eq!(BlockedReason::LinkLocal.to_string(), "link_local");
    }

    #[test]
    fn the_allow_list_lets_listed_networks_through() {
        let allowed = AllowList::parse(" 127.0.0.0/8, ::1/128,10.1.2.0/24 ,192.168.1.7,")
            .expect("valid networks");
        assert_eq!(allowed.networks().len(), 4);
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        for text in [
            "127.0.0.1",
            "127.9.9.9",
            "::1",
            "::ffff:127.0.0.1",
            "10.1.2.200",
            "192.168.1.7",
        ] {
            assert_eq!(check(ip(text), &allowed), Ok(()), "{text}");
        }
        for text in [
            "10.1.3.1",
            "192.168.1.8",
            "169.254.169.254",
            "fd00::1",
            "::2",
        ] {
            assert!(check(ip(text), &allowed).is_err(), "{text}");
        }
        assert_eq!(check(ip("8.8.8.8"), &allowed), Ok(()));
        assert_eq!(AllowList::parse("").unwrap(), AllowList::default());
        assert_eq!(
            AllowList::parse("10.1.2.3/24").unwrap().to_string(),
            "10.1.2.0/24"
        );
        assert_eq!(
            AllowList::parse("127.0.0.0/8,localhost"),
            Err(InvalidNetwork("localhost".to_owned()))
        );
        assert!(AllowList::parse("10.0.0.0/33").is_err());
        assert!(AllowList::loopback().contains(ip("127.0.0.2")));
        assert!(AllowList::loopback().contains(ip("::1")));
    }
}
