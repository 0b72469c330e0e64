//! A small IPv4 prefix type (`a.b.c.d/n`) used by the IPAM model.
//!
//! Unlike a masked network type, [`Ipv4Prefix`] keeps the address exactly as given, so that
//! `10.10.10.0/8` can be reported back as Docker does (`invalid subnet 10.10.10.0/8: it should
//! be 10.0.0.0/8`). Use [`Ipv4Prefix::masked`] to get the canonical form.
//!
//! Ordering (derived: address first, then length) is the same as moby's
//! `netiputil.PrefixCompare`, which the dynamic subnet allocator relies on.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 address plus a prefix length, e.g. `172.17.0.0/16`.
///
/// The fields are public for convenience. Parsing and [`Ipv4Prefix::new`] only produce
/// lengths up to 32; if a larger `len` is written by hand, the methods treat it as 32 (they
/// never panic).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Prefix {
    /// The address as given (host bits may be set).
    pub addr: Ipv4Addr,
    /// The prefix length, 0..=32.
    pub len: u8,
}

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

impl Ipv4Prefix {
    /// Builds a prefix; fails when `len > 32`. The address is kept as given (not masked).
    pub fn new(addr: Ipv4Addr, len: u8) -> Result<Self, PrefixParseError> {
        if len > 32 {
            return Err(PrefixParseError { input: format!("{addr}/{len}") });
        }
        Ok(Ipv4Prefix { addr, len })
    }

    /// Parses `a.b.c.d/n` strictly: dotted quad without leading zeros (as Go's `netip`),
    /// a decimal length 0..=32 without sign or leading zeros. Never panics.
    pub fn parse(s: &str) -> Result<Self, PrefixParseError> {
        let err = || PrefixParseError { input: s.to_string() };
        let (a, l) = s.split_once('/').ok_or_else(err)?;
        let addr = parse_ipv4(a).ok_or_else(err)?;
        if l.is_empty() || l.len() > 2 || !l.bytes().all(|b| b.is_ascii_digit()) || (l.len() > 1 && l.starts_with('0'))
        {
            return Err(err());
        }
        let len: u8 = l.parse().map_err(|_| err())?;
        if len > 32 {
            return Err(err());
        }
        Ok(Ipv4Prefix { addr, len })
    }

    /// The prefix length clamped to 32.
    pub fn bits(&self) -> u8 {
        self.len.min(32)
    }

    /// The netmask as a `u32` (e.g. `0xffff0000` for /16).
    pub fn mask_u32(&self) -> u32 {
        match self.bits() {
            0 => 0,
            n => u32::MAX << (32 - u32::from(n)),
        }
    }

    /// The netmask as an address (e.g. `255.255.0.0`).
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.mask_u32())
    }

    /// First address of the prefix as a `u32`.
    pub fn first_u32(&self) -> u32 {
        u32::from(self.addr) & self.mask_u32()
    }

    /// Last address of the prefix as a `u32`.
    pub fn last_u32(&self) -> u32 {
        self.first_u32() | !self.mask_u32()
    }

    /// The network address (host bits cleared).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.first_u32())
    }

    /// The last address of the prefix (the broadcast address for prefixes shorter than /31).
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.last_u32())
    }

    /// The canonical form: same length, host bits cleared.
    pub fn masked(&self) -> Ipv4Prefix {
        Ipv4Prefix { addr: self.network(), len: self.bits() }
    }

    /// True when no host bit is set and the length is valid.
    pub fn is_masked(&self) -> bool {
        self.len <= 32 && self.addr == self.network()
    }

    /// Number of addresses covered (1 for /32, 2^32 for /0).
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.bits()))
    }

    /// Whether `ip` lies inside the prefix.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask_u32() == self.first_u32()
    }

    /// Whether `other` lies entirely inside `self`.
    pub fn contains_prefix(&self, other: &Ipv4Prefix) -> bool {
        other.bits() >= self.bits() && self.contains(other.network())
    }

    /// Whether the two prefixes share at least one address.
    pub fn overlaps(&self, other: &Ipv4Prefix) -> bool {
        self.first_u32() <= other.last_u32() && other.first_u32() <= self.last_u32()
    }

    /// The `n`-th address of the prefix (0 = network address), if `n < size()`.
    pub fn nth(&self, n: u64) -> Option<Ipv4Addr> {
        (n < self.size()).then(|| Ipv4Addr::from(self.first_u32() + n as u32))
    }

    /// Offset of `ip` from the network address, if `ip` is inside the prefix.
    pub fn offset_of(&self, ip: Ipv4Addr) -> Option<u64> {
        self.contains(ip).then(|| u64::from(u32::from(ip) - self.first_u32()))
    }

    /// Every address of the prefix, network to broadcast, in order (lazy).
    pub fn addrs(&self) -> impl Iterator<Item = Ipv4Addr> + use<> {
        (u64::from(self.first_u32())..=u64::from(self.last_u32())).map(|v| Ipv4Addr::from(v as u32))
    }

    /// The prefix split into `/new_len` subnets, in order (lazy). Empty when `new_len` is
    /// shorter than the prefix or longer than 32.
    pub fn subnets(&self, new_len: u8) -> impl Iterator<Item = Ipv4Prefix> + use<> {
        let (first, last) = (u64::from(self.first_u32()), u64::from(self.last_u32()));
        let ok = new_len >= self.bits() && new_len <= 32;
        let step = 1u64 << (32 - u32::from(new_len.min(32)));
        let count = if ok { (last - first + 1) / step } else { 0 };
        (0..count).map(move |i| Ipv4Prefix { addr: Ipv4Addr::from((first + i * step) as u32), len: new_len })
    }
}

impl fmt::Display for Ipv4Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl FromStr for Ipv4Prefix {
    type Err = PrefixParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ipv4Prefix::parse(s)
    }
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
