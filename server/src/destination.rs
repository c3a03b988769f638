//! Where a webhook may be sent: resolves a destination's host and applies
//! [`crate::address`]'s rules to every address found.
//!
//! [`Destinations`] is the delivery client's DNS resolver: it refuses a name outright when any
//! of its addresses is refused, and hands on only the addresses it checked, so the address
//! checked is the address connected to (no second lookup an attacker could answer
//! differently). Hosts written as IP addresses never reach a resolver, so the sender checks
//! them with [`Destinations::check_literal`] first. The name lookup itself is a
//! [`HostLookup`]: the system resolver in the server, a fixed table in tests.
//!
//! Must not send requests; it only says where they may go.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::address::{self, AllowList, BlockedAddress};

/// What a [`HostLookup`] returns: every address the name has.
pub type Lookup<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Turns a host name into its addresses, unchecked.
pub trait HostLookup: fmt::Debug + Send + Sync {
    fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a>;
}

/// The operating system's resolver (`getaddrinfo` through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl HostLookup for SystemLookup {
    fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a> {
        Box::pin(async move {
            let addresses = tokio::net::lookup_host((host, 0)).await?;
            Ok(addresses.map(|address| address.ip()).collect())
        })
    }
}

/// A destination a webhook must not be sent to, or whose host could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    /// The URL's host is, or resolves to, a refused address.
    #[error("refused: {}{blocked}", host.as_ref().map(|host| format!("{host} resolves to {}; ", blocked.ip)).unwrap_or_default())]
    Blocked {
        /// The name that resolved to the address; `None` when the URL gave the address itself.
        host: Option<String>,
        blocked: BlockedAddress,
    },
    #[error("{host} has no addresses")]
    NoAddresses { host: String },
    #[error("could not resolve {host}: {source}")]
    Lookup { host: String, source: io::Error },
    #[error("{0:?} is not a URL with a host")]
    NoHost(String),
}

impl DestinationError {
    /// The refused address, when that is what went wrong.
    pub fn blocked(&self) -> Option<&BlockedAddress> {
        match self {
            Self::Blocked { blocked, .. } => Some(blocked),
            _ => None,
        }
    }
}

/// The destination rules with the lookup they apply to; cheap to clone.
#[derive(Debug, Clone)]
pub struct Destinations {
    lookup: Arc<dyn HostLookup>,
    allowed: Arc<AllowList>,
}

impl Destinations {
    pub fn new(lookup: Arc<dyn HostLookup>, allowed: AllowList) -> Self {
        Self {
            lookup,
            allowed: Arc::new(allowed),
        }
    }

    /// The networks let through although refused by the rules.
    pub fn allowed(&self) -> &AllowList {
        &self.allowed
    }

    /// The addresses of `host`, all of them allowed; an error if any one is refused.
    pub async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, DestinationError> {
        let addresses =
            self.lookup
                .lookup(host)
                .await
                .map_err(|source| DestinationError::Lookup {
                    host: host.to_owned(),
                    source,
                })?;
        if addresses.is_empty() {
            return Err(DestinationError::NoAddresses {
                host: host.to_owned(),
            });
        }
        for &ip in &addresses {
            address::check(ip, &self.allowed).map_err(|blocked| DestinationError::Blocked {
                host: Some(host.to_owned()),
                blocked,
            })?;
        }
        Ok(addresses)
    }

    /// Checks a URL whose host is an IP address, which is connected to without a lookup.
    /// Returns the host name to resolve otherwise (the client's resolver checks it then).
    pub fn check_literal<'u>(&self, url: &'u Url) -> Result<Option<&'u str>, DestinationError> {
        let host = url
            .host_str()
            .ok_or_else(|| DestinationError::NoHost(url.to_string()))?;
        let bare = host
            .strip_prefix('[')
            .and_then(|host| host.strip_suffix(']'))
            .unwrap_or(host);
        match bare.parse::<IpAddr>() {
            Ok(ip) => address::check(ip, &self.allowed)
                .map(|()| None)
                .map_err(|blocked| DestinationError::Blocked {
                    host: None,
                    blocked,
                }),
            Err(_) => Ok(Some(host)),
        }
    }

    /// Checks a URL as far as can be done before sending: its literal address, or every address
    /// its host resolves to now (used when an endpoint is saved).
    pub async fn check_url(&self, url: &Url) -> Result<(), DestinationError> {
        match self.check_literal(url)? {
            Some(host) => self.resolve(host).await.map(|_| ()),
            None => Ok(()),
        }
    }
}

impl Resolve for Destinations {
    fn resolve(&self, name: Name) -> Resolving {
        let destinations = self.clone();
        Box::pin(async move {
            let addresses = Destinations::resolve(&destinations, name.as_str()).await?;
            // Port 0: the client puts in the URL's port (or the scheme's).
            let addrs: Addrs = Box::new(
                addresses
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect::<Vec<_>>()
                    .into_iter(),
            );
            Ok(addrs)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[derive(Debug)]
    struct Table(HashMap<&'static str, Vec<IpAddr>>);

    impl HostLookup for Table {
        fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a> {
            let found = self.0.get(host).cloned().unwrap_or_default();
            Box::pin(async move { Ok(found) })
        }
    }

    fn destinations() -> Destinations {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let table = Table(HashMap::from([
            ("public.test", vec![ip("93.184.216.34"), ip("2606:4700::1")]),
            ("mixed.test", vec![ip("93.184.216.34"), ip("10.0.0.1")]),
            ("metadata.test", vec![ip("169.254.169.254")]),
        ]));
        Destinations::new(Arc::new(table), AllowList::default())
    }

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[tokio::test]
    async fn a_name_is_refused_when_any_address_is() {
        let destinations = destinations();
        assert_eq!(destinations.resolve("public.test").await.unwrap().len(), 2);
        let error = destinations.resolve("mixed.test").await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "refused: mixed.test resolves to 10.0.0.1; 10.0.0.1 is a private address"
        );
        assert!(destinations.resolve("metadata.test").await.is_err());
        assert!(matches!(
            destinations.resolve("nowhere.test").await,
            Err(DestinationError::NoAddresses { .. })
        ));
    }

    #[tokio::test]
    async fn literal_addresses_are_checked_without_a_lookup() {
        let destinations = destinations();
        let refused = |text: &str| destinations.check_literal(&url(text)).unwrap_err();
        assert_eq!(
            refused("http://127.0.0.1:8080/hooks").to_string(),
            "refused: 127.0.0.1 is a loopback address"
        );
        assert!(refused("http://[::ffff:127.0.0.1]/").blocked().is_some());
        assert!(refused("http://[fd00::1]:9/").blocked().is_some());
        // The URL parser turns these spellings into 127.0.0.1 before anyone connects.
        assert!(refused("http://2130706433/").blocked().is_some());
        assert!(refused("http://0x7f.1/").blocked().is_some());
        assert_eq!(
            destinations
                .check_literal(&url("https://8.8.8.8/hooks"))
                .unwrap(),
            None
        );
        assert_eq!(
            destinations
                .check_literal(&url("https://public.test/hooks"))
                .unwrap(),
            Some("public.test")
        );
        assert!(
            destinations
                .check_url(&url("https://public.test/"))
                .await
                .is_ok()
        );
        assert!(
            destinations
                .check_url(&url("https://mixed.test/"))
                .await
                .is_err()
        );
    }
}
