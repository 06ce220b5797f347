//! Who a request comes from, for the per-client limits and the log.
//!
//! Normally the TCP peer. Behind a reverse proxy every request comes from the proxy, so all
//! clients would share one room-creation limit; with the proxy's address among the trusted
//! proxies (`--trusted-proxy`), the client is the right-most address in `X-Forwarded-For`
//! that is not itself a trusted proxy (proxies append, so entries to the left of the last
//! trusted hop are whatever the client claimed). A peer that is not trusted cannot claim any
//! address: its header is ignored.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client behind `peer`, given the request's headers and the trusted proxies.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&canonical(*ip)));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    // Several headers count as one comma-separated list, in order.
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        // A hop that is not an address (`unknown`, garbage) ends what can be believed.
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, what a dual-stack socket reports) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().expect("net")).collect()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).expect("ascii"));
        }
        headers
    }

    #[test]
    fn untrusted_peers_are_the_client_whatever_they_claim() {
        let headers = forwarded(&["203.0.113.7"]);
        assert_eq!(
            client_ip(ip("198.51.100.1"), &headers, &[]),
            ip("198.51.100.1")
        );
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("198.51.100.1"), &headers, &trusted),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_last_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "::1/128"]);
        // The client claimed 1.2.3.4; the first proxy saw 203.0.113.7; 10.0.0.2 is a proxy.
        let headers = forwarded(&["1.2.3.4, 203.0.113.7", "10.0.0.2"]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &headers, &trusted),
            ip("203.0.113.7")
        );
        assert_eq!(client_ip(ip("::1"), &headers, &trusted), ip("203.0.113.7"));
        // A dual-stack socket reports IPv4 peers as mapped IPv6.
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.1"), &headers, &trusted),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn missing_or_broken_headers_leave_the_last_believable_hop() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
        let headers = forwarded(&["203.0.113.7, garbage, 10.0.0.3"]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &headers, &trusted),
            ip("10.0.0.3")
        );
        let headers = forwarded(&["2001:db8::5"]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &headers, &trusted),
            ip("2001:db8::5")
        );
    }
}
