//! Prefixes as Docker reads them: Go's `net.ParseCIDR` strictness and its error words, over
//! the simulator's one prefix type (`plan::Ipv4Net`), which keeps the address as given so
//! that `10.10.10.0/8` can be reported back as Docker does (`invalid subnet 10.10.10.0/8: it
//! should be 10.0.0.0/8`).

use std::fmt;
use std::net::Ipv4Addr;

pub use crate::plan::Ipv4Net;

/// Error returned when a string is not an `a.b.c.d/n` IPv4 prefix, or a length exceeds 32.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixParseError {
    /// The rejected input.
    pub input: String,
}

impl fmt::Display for PrefixParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Same wording as Go's net.ParseCIDR error.
        write!(f, "invalid CIDR address: {}", self.input)
    }
}

impl std::error::Error for PrefixParseError {}

/// A prefix from an address and a length, as Docker takes one apart; fails when `len > 32`.
/// The address is kept as given (not truncated).
pub fn checked(addr: Ipv4Addr, len: u8) -> Result<Ipv4Net, PrefixParseError> {
    if len > 32 {
        return Err(PrefixParseError { input: format!("{addr}/{len}") });
    }
    Ok(Ipv4Net { addr, len })
}

/// `a.b.c.d/n` as Go's `net.ParseCIDR` takes it: a dotted quad without leading zeros (as
/// `netip`), a decimal length 0..=32 without sign or leading zeros. Never panics.
pub fn parse_cidr(s: &str) -> Result<Ipv4Net, PrefixParseError> {
    let err = || PrefixParseError { input: s.to_string() };
    let (a, l) = s.split_once('/').ok_or_else(err)?;
    let addr = parse_ipv4(a).ok_or_else(err)?;
    if l.is_empty() || l.len() > 2 || !l.bytes().all(|b| b.is_ascii_digit()) || (l.len() > 1 && l.starts_with('0')) {
        return Err(err());
    }
    let len: u8 = l.parse().map_err(|_| err())?;
    if len > 32 {
        return Err(err());
    }
    Ok(Ipv4Net { addr, len })
}

/// Strict dotted-quad parser (no leading zeros, exactly four decimal octets), like Go's
/// `netip.ParseAddr` for IPv4. Never panics.
pub fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for o in octets.iter_mut() {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) || (p.len() > 1 && p.starts_with('0'))
        {
            return None;
        }
        *o = p.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}
