//! Which host strings bind every interface: the one fact about addresses
//! that both the byte prefilter and the analysis decide by.

/// Does binding a server to `host` listen on every interface?
///
/// IPv4: the forms `inet_aton` (and so `getaddrinfo`) accepts for 0.0.0.0:
/// `0`, `0.0`, `0.0.0.0`, `000.0.0.0`, `0x0`. IPv6: any spelling of `::`.
/// Not `""`: Flask's `run()` replaces an empty host with 127.0.0.1.
pub fn binds_all_interfaces(host: &str) -> bool {
    if host.is_empty() {
        return false;
    }
    if host.contains(':') {
        return host.parse::<std::net::Ipv6Addr>().is_ok_and(|a| a.is_unspecified());
    }
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() <= 4 && parts.iter().all(|p| c_integer_is_zero(p))
}

/// A C integer literal (decimal, 0octal, 0xhex) whose value is zero.
fn c_integer_is_zero(p: &str) -> bool {
    let digits = match p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        Some(hex) => hex,
        None => p,
    };
    !digits.is_empty() && digits.bytes().all(|b| b == b'0')
}

/// One name per unspecified address: `"0.0.0.0"` for every IPv4 spelling,
/// `"::"` for every IPv6 one; `None` for other hosts.
pub fn canonical_host(host: &str) -> Option<&'static str> {
    binds_all_interfaces(host).then(|| if host.contains(':') { "::" } else { "0.0.0.0" })
}

/// The loopback twin of an all-interfaces host.
pub fn loopback_for(host: &str) -> &'static str {
    if host.contains(':') { "::1" } else { "127.0.0.1" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_interface_spellings() {
        for h in ["0.0.0.0", "0", "0.0", "000.000.000.000", "0x0", "::", "::0", "0:0:0:0:0:0:0:0", "0::", "::0.0.0.0"] {
            assert!(binds_all_interfaces(h), "{h}");
        }
        for h in ["", "127.0.0.1", "localhost", "::1", "0.0.0.1", "0.0.0.0.0", " 0.0.0.0", "[::]", "0x", "00:"] {
            assert!(!binds_all_interfaces(h), "{h}");
        }
    }
}
