//! The local runner has no login, so it listens on loopback addresses only.

use std::net::SocketAddr;

/// Parses `value` as a socket address and rejects any address but a loopback one.
pub fn parse_loopback(value: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = value
        .parse()
        .map_err(|_| format!("invalid address {value:?}: expected IP:PORT such as 127.0.0.1:8080"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{addr} is not a loopback address: the local runner has no login, so it listens only on 127.0.0.1 or [::1]"
        ));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_loopback_cases() {
        let cases = [
            ("ipv4 loopback", "127.0.0.1:8080", true),
            ("ipv6 loopback", "[::1]:8080", true),
            ("any port", "127.0.0.1:0", true),
            ("all interfaces", "0.0.0.0:8080", false),
            ("private address", "192.168.1.10:8080", false),
            ("no port", "127.0.0.1", false),
            ("host name", "localhost:8080", false),
        ];

        for (label, value, accepted) in cases {
            assert_eq!(parse_loopback(value).is_ok(), accepted, "{label}");
        }
    }
}
