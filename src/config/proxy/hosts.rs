//! Which hosts the environment's proxy is not for: loopback servers, and those a
//! `NO_PROXY` list names. Pure functions of strings.

use std::net::IpAddr;

/// Whether `host` is a loopback name or address (an IPv4-mapped one too), which
/// environment proxies never apply to.
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.strip_suffix('.').unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// Whether the `NO_PROXY` list `list` names `host` (on `port`): comma- or space-separated
/// entries, each `*` (every host), a domain (`example.com`, `.example.com` or
/// `*.example.com`: the domain and its subdomains), an IP address or a CIDR range
/// (`10.0.0.0/8`, `fd00::/8`), optionally with `:port` (then only that port matches).
/// Case does not matter.
pub(crate) fn no_proxy_matches(list: &str, host: &str, port: u16) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let ip = host.parse::<IpAddr>().ok();
    list.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| entry_matches(&entry.to_ascii_lowercase(), &host, ip, port))
}

fn entry_matches(entry: &str, host: &str, ip: Option<IpAddr>, port: u16) -> bool {
    if entry == "*" {
        return true;
    }
    let (pattern, entry_port) = split_port(entry);
    if entry_port.is_some_and(|p| p != port) {
        return false;
    }
    if let Some((network, bits)) = pattern.split_once('/') {
        return match (ip, network.parse::<IpAddr>(), bits.parse::<u8>()) {
            (Some(ip), Ok(network), Ok(bits)) => in_network(ip, network, bits),
            _ => false,
        };
    }
    if let Ok(address) = pattern.parse::<IpAddr>() {
        return ip == Some(address);
    }
    let domain = pattern
        .trim_start_matches('*')
        .trim_start_matches('.')
        .trim_end_matches('.');
    !domain.is_empty()
        && (host == domain
            || host
                .strip_suffix(domain)
                .is_some_and(|rest| rest.ends_with('.')))
}

/// Splits `host:port`, `[v6]:port` and `[v6]`; a bare IPv6 address has no port.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((address, tail)) => (address, tail.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (entry, None),
        };
    }
    match entry.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => match port.parse() {
            Ok(port) => (name, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn in_network(ip: IpAddr, network: IpAddr, bits: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_addresses() {
        for host in [
            "localhost",
            "LOCALHOST.",
            "127.0.0.1",
            "127.255.0.9",
            "[::1]",
            "::1",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["localhost.example.com", "10.0.0.1", "[::2]", "example.com"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn no_proxy_entries_match_domains_on_label_boundaries() {
        let list = ".example.com,*.test,exact.org";
        assert!(no_proxy_matches(list, "example.com", 80));
        assert!(no_proxy_matches(list, "a.b.example.com", 80));
        assert!(no_proxy_matches(list, "x.test", 80));
        assert!(no_proxy_matches(list, "EXACT.org.", 80));
        assert!(no_proxy_matches(list, "sub.exact.org", 80));
        assert!(!no_proxy_matches(list, "badexample.com", 80));
        assert!(!no_proxy_matches(list, "notexact.org", 80));
        assert!(!no_proxy_matches("", "example.com", 80));
    }

    #[test]
    fn no_proxy_entries_match_addresses_ranges_and_ports() {
        assert!(no_proxy_matches("192.168.1.7", "192.168.1.7", 80));
        assert!(!no_proxy_matches("192.168.1.7", "192.168.1.8", 80));
        assert!(no_proxy_matches("192.168.0.0/16", "192.168.200.1", 80));
        assert!(no_proxy_matches("fd00::/8", "[fd12::1]", 80));
        assert!(no_proxy_matches("::2", "[::2]", 80));
        assert!(no_proxy_matches("0.0.0.0/0", "8.8.8.8", 80));
        assert!(!no_proxy_matches("10.0.0.0/33", "10.0.0.1", 80));
        assert!(no_proxy_matches("example.com:8080", "example.com", 8080));
        assert!(!no_proxy_matches("example.com:8080", "example.com", 443));
        assert!(no_proxy_matches("[fd00::1]:443", "fd00::1", 443));
    }
}
