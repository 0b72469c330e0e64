//! busybox `traceroute` as alpine's and busybox's images ship it (busybox's
//! `networking/traceroute.c`): what it sends, how it reads an answer, and what it prints.
//!
//! It probes one hop at a time: for each TTL from `-f` (1) to `-m` (30) it sends `-q` (3)
//! UDP datagrams, one after another, each to port `-p` (33434) plus the probe's sequence
//! number (counted from 1 over the whole run), from the port `connect()` chose. Each probe
//! waits up to `-w` seconds (5; the applet's help text says 3, its code sets 5) for an ICMP
//! message on a raw socket: a "time exceeded in transit" or any "destination unreachable"
//! that quotes a UDP datagram to that probe's port. Anything else is read and ignored.
//!
//! Each hop is one line: the TTL (`%2d`), then per probe `  *` for no answer or, when the
//! answer's source is the hop's first or differs from the last one printed, `  NAME (IP)`
//! (`  IP` with `-n`; NAME by getnameinfo, the digits when it finds none), then `  T ms`
//! (the round trip in µs as `%u.%03u`) and a mark for an unreachable: ` !` for a port
//! unreachable whose IP TTL is at most 1, ` !H`, ` !N`, ` !P`, ` !F-MTU`, ` !A`, ….
//! A port or protocol unreachable means the destination was reached; the run ends after the
//! hop where that happened, or where all but one probe (or all) met another unreachable.
//! It exits 0 whatever it found.
//!
//! `-l` is accepted and prints nothing: the code tests its flag against the argument of
//! `common_traceroute_main` (0 for IPv4) instead of the parsed options.
//! `traces/docker/traceroute/record.txt` is what the applet printed on Docker Engine 20.10.24.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// The first destination port: probe N goes to `port + N`.
pub const BASE_PORT: u16 = 33434;
/// The bytes of a probe with its IPv4 and UDP headers: 20 + 8 + `struct outdata_t` (the
/// sequence number, the TTL and an unused `struct timeval`, 16 bytes on 64-bit Linux).
pub const PACKLEN: usize = 46;
/// The largest `BYTES` argument.
pub const MAX_PACKLEN: usize = 32 * 1024;

/// What a `traceroute` command line asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opts {
    /// `-n`: addresses only, no reverse lookups.
    #[serde(default)]
    pub numeric: bool,
    /// `-f`: the first TTL.
    #[serde(default = "one")]
    pub first_ttl: u8,
    /// `-m`: the last TTL.
    #[serde(default = "thirty")]
    pub max_ttl: u8,
    /// `-q`: probes per hop.
    #[serde(default = "three")]
    pub nprobes: u32,
    /// `-p`: the base port.
    #[serde(default = "base_port")]
    pub port: u16,
    /// `-w`: seconds to wait for each probe's answer.
    #[serde(default = "five")]
    pub wait: u32,
    /// `-z`: milliseconds to wait before each probe of a hop but the first.
    #[serde(default)]
    pub pause_ms: u32,
    /// `BYTES`: the probe's size with its headers.
    #[serde(default = "packlen")]
    pub packlen: usize,
    /// `-F`: the probes carry DF.
    #[serde(default)]
    pub dont_fragment: bool,
}

fn one() -> u8 {
    1
}
fn thirty() -> u8 {
    30
}
fn three() -> u32 {
    3
}
fn five() -> u32 {
    5
}
fn base_port() -> u16 {
    BASE_PORT
}
fn packlen() -> usize {
    PACKLEN
}

impl Default for Opts {
    fn default() -> Opts {
        Opts {
            numeric: false,
            first_ttl: 1,
            max_ttl: 30,
            nprobes: 3,
            port: BASE_PORT,
            wait: 5,
            pause_ms: 0,
            packlen: PACKLEN,
            dont_fragment: false,
        }
    }
}

/// The first line: `traceroute to HOST (IP), M hops max, N byte packets`, HOST as typed.
pub fn header(target: &str, ip: Ipv4Addr, o: &Opts) -> String {
    format!("traceroute to {target} ({ip}), {} hops max, {} byte packets", o.max_ttl, o.packlen)
}

/// A probe's UDP payload: its sequence number and TTL (each a byte), then zeros.
pub fn payload(seq: u32, ttl: u8, o: &Opts) -> Vec<u8> {
    let mut p = vec![0; o.packlen - 28];
    p[0] = seq as u8;
    p[1] = ttl;
    p
}

/// The destination port of probe `seq` (the C sum, cut to 16 bits by `htons`).
pub fn probe_port(o: &Opts, seq: u32) -> u16 {
    (u32::from(o.port).wrapping_add(seq)) as u16
}

/// What an ICMP message says about probe `seq` (`packet4_ok`): `None` when it is about
/// something else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Time exceeded in transit: a router on the way.
    TimeExceeded,
    /// Destination unreachable with this code (and the next-hop MTU of code 4).
    Unreachable { code: u8, mtu: u16 },
}

pub fn answer(icmp: &[u8], o: &Opts, seq: u32) -> Option<Answer> {
    let (ty, code) = (*icmp.first()?, *icmp.get(1)?);
    if !((ty, code) == (11, 0) || ty == 3) {
        return None;
    }
    let quoted = icmp.get(8..)?;
    let hlen = usize::from(quoted.first()? & 0x0f) * 4;
    if icmp.len() < 8 + hlen + 4 || *quoted.get(9)? != 17 {
        return None;
    }
    let dport = u16::from_be_bytes([quoted[hlen + 2], quoted[hlen + 3]]);
    if dport != probe_port(o, seq) {
        return None;
    }
    Some(if ty == 11 {
        Answer::TimeExceeded
    } else {
        Answer::Unreachable { code, mtu: if code == 4 { u16::from_be_bytes([icmp[6], icmp[7]]) } else { 0 } }
    })
}

/// What follows a probe's time for an unreachable of `code` whose IP TTL was `ttl`, and
/// what it means for the run: the destination reached, or one more unreachable.
pub fn mark(code: u8, mtu: u16, ttl: u8) -> (String, Reached) {
    let m = |s: &str| (s.to_string(), Reached::Unreachable);
    match code {
        3 => ((if ttl <= 1 { " !" } else { "" }).to_string(), Reached::There),
        0 => m(" !N"),
        1 => m(" !H"),
        2 => (" !P".to_string(), Reached::There),
        4 => (format!(" !F-{mtu}"), Reached::Unreachable),
        5 | 10 => m(if code == 5 { " !S" } else { " !C" }),
        9 | 13 => m(" !A"),
        14 => m(" !V"),
        15 => m(" !C"),
        6 | 7 => m(" !U"),
        8 => m(" !I"),
        11 | 12 => m(" !T"),
        _ => (format!(" !<{code}>"), Reached::Unreachable),
    }
}

/// What an unreachable tells the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reached {
    There,
    Unreachable,
}

/// A round trip of `nanos` as printed: `  %u.%03u ms` of whole microseconds.
pub fn rtt(nanos: u64) -> String {
    let us = nanos / 1000;
    format!("  {}.{:03} ms", us / 1000, us % 1000)
}

/// Where a hop's source is shown: `  IP` with `-n`, else `  NAME (IP)`.
pub fn source(o: &Opts, ip: Ipv4Addr, name: Option<&str>) -> String {
    if o.numeric { format!("  {ip}") } else { format!("  {} ({ip})", name.unwrap_or(&ip.to_string())) }
}

/// Whether the run ends after a hop: the destination answered, or all probes but one met
/// an unreachable.
pub fn done(reached: bool, unreachable: u32, o: &Opts) -> bool {
    reached || (unreachable > 0 && unreachable >= o.nprobes.saturating_sub(1))
}

/// `traceroute: bad address 'HOST'`: the name does not resolve.
pub fn bad_address(name: &str) -> String {
    format!("traceroute: bad address '{name}'")
}

/// connect(2) failed before the first probe (no route).
pub fn cant_connect(ip: Ipv4Addr, what: &str) -> String {
    format!("traceroute: can't connect to remote host ({ip}): {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn icmp_about(ty: u8, code: u8, dport: u16, proto: u8) -> Vec<u8> {
        let mut m = vec![ty, code, 0, 0, 0, 0, 0, 0];
        let mut ip = vec![0x45, 0, 0, 46, 0, 0, 0x40, 0, 1, proto, 0, 0, 10, 0, 0, 2, 10, 0, 0, 3];
        ip.extend_from_slice(&40000u16.to_be_bytes());
        ip.extend_from_slice(&dport.to_be_bytes());
        ip.extend_from_slice(&[0, 26, 0, 0]);
        m.extend(ip);
        m
    }

    #[test]
    fn answers_are_matched_by_the_probe_port_alone() {
        let o = Opts::default();
        assert_eq!(answer(&icmp_about(11, 0, 33435, 17), &o, 1), Some(Answer::TimeExceeded));
        assert_eq!(answer(&icmp_about(3, 3, 33436, 17), &o, 2), Some(Answer::Unreachable { code: 3, mtu: 0 }));
        // Another probe's, a reassembly timeout, a TCP segment's: not this probe's answer.
        assert_eq!(answer(&icmp_about(11, 0, 33435, 17), &o, 2), None);
        assert_eq!(answer(&icmp_about(11, 1, 33435, 17), &o, 1), None);
        assert_eq!(answer(&icmp_about(3, 3, 33435, 6), &o, 1), None);
        assert_eq!(answer(&[0, 0, 0, 0, 0, 1, 0, 1], &o, 1), None);
    }

    #[test]
    fn lines_are_printed_as_busybox_prints_them() {
        let o = Opts::default();
        assert_eq!(
            header("tgt", Ipv4Addr::new(10, 81, 0, 2), &o),
            "traceroute to tgt (10.81.0.2), 30 hops max, 46 byte packets"
        );
        assert_eq!(rtt(3_069_060_123), "  3069.060 ms");
        assert_eq!(rtt(4_999), "  0.004 ms");
        assert_eq!(source(&o, Ipv4Addr::new(10, 81, 0, 1), None), "  10.81.0.1 (10.81.0.1)");
        assert_eq!(mark(3, 0, 1).0, " !");
        assert_eq!(mark(3, 0, 63), (String::new(), Reached::There));
        assert_eq!(mark(4, 1400, 64).0, " !F-1400");
        let p = payload(7, 2, &o);
        assert_eq!((p.len(), p[0], p[1]), (18, 7, 2));
        assert!(done(false, 2, &o) && !done(false, 1, &o) && done(true, 0, &o));
    }
}
