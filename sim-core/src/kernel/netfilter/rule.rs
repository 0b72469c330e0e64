//! Rules: parsing iptables command lines, printing them the way `iptables-save` 1.8.9 does, and
//! matching them against packets.

mod list;

use std::fmt::{self, Write as _};
use std::sync::Arc;

use super::eval::EvalPkt;
use super::nat::{PROTO_ICMP, PROTO_TCP, PROTO_UDP};
use super::{AddrType, Hook, Ipv4Addr, RuleError, Table, Verdict};

pub use self::list::{ListFlags, Names};
pub(super) use self::list::{header as list_header, num_plain as list_num};

/// Bits of `-m conntrack --ctstate` / `-m state --state`, in the order iptables prints them.
pub(super) mod ct_bits {
    pub const INVALID: u8 = 1;
    pub const NEW: u8 = 2;
    pub const RELATED: u8 = 4;
    pub const ESTABLISHED: u8 = 8;
    pub const UNTRACKED: u8 = 16;
    pub const SNAT: u8 = 32;
    pub const DNAT: u8 = 64;
}

const CT_NAMES: [(&str, u8); 7] = [
    ("INVALID", ct_bits::INVALID),
    ("NEW", ct_bits::NEW),
    ("RELATED", ct_bits::RELATED),
    ("ESTABLISHED", ct_bits::ESTABLISHED),
    ("UNTRACKED", ct_bits::UNTRACKED),
    ("SNAT", ct_bits::SNAT),
    ("DNAT", ct_bits::DNAT),
];

/// `RTN_*` types as `-m addrtype` numbers them (bit = 1 << RTN_x).
const ADDRTYPE_NAMES: [&str; 12] = [
    "UNSPEC",
    "UNICAST",
    "LOCAL",
    "BROADCAST",
    "ANYCAST",
    "MULTICAST",
    "BLACKHOLE",
    "UNREACHABLE",
    "PROHIBIT",
    "THROW",
    "NAT",
    "XRESOLVE",
];

/// `-m addrtype`'s types in a mask, as iptables prints them (`LOCAL,BROADCAST`).
fn addrtype_names(mask: u16) -> String {
    let names: Vec<&str> =
        ADDRTYPE_NAMES.iter().enumerate().filter(|(b, _)| mask & (1 << b) != 0).map(|(_, n)| *n).collect();
    names.join(",")
}

/// Conntrack states in a mask, as iptables prints them (`RELATED,ESTABLISHED`).
fn ct_names(mask: u8) -> String {
    let names: Vec<&str> = CT_NAMES.iter().filter(|(_, b)| mask & b != 0).map(|(n, _)| *n).collect();
    names.join(",")
}

fn addrtype_bit(t: AddrType) -> u16 {
    match t {
        AddrType::Unspec => 1,
        AddrType::Unicast => 1 << 1,
        AddrType::Local => 1 << 2,
        AddrType::Broadcast => 1 << 3,
        AddrType::Multicast => 1 << 5,
    }
}

const TCP_FLAG_NAMES: [(&str, u8); 6] =
    [("FIN", 0x01), ("SYN", 0x02), ("RST", 0x04), ("PSH", 0x08), ("ACK", 0x10), ("URG", 0x20)];

/// ICMP type names accepted by `--icmp-type` (type, code range).
const ICMP_NAMES: [(&str, u8, u8, u8); 37] = [
    ("any", 255, 0, 255),
    ("echo-reply", 0, 0, 255),
    ("pong", 0, 0, 255),
    ("destination-unreachable", 3, 0, 255),
    ("network-unreachable", 3, 0, 0),
    ("host-unreachable", 3, 1, 1),
    ("protocol-unreachable", 3, 2, 2),
    ("port-unreachable", 3, 3, 3),
    ("fragmentation-needed", 3, 4, 4),
    ("source-route-failed", 3, 5, 5),
    ("network-unknown", 3, 6, 6),
    ("host-unknown", 3, 7, 7),
    ("network-prohibited", 3, 9, 9),
    ("host-prohibited", 3, 10, 10),
    ("TOS-network-unreachable", 3, 11, 11),
    ("TOS-host-unreachable", 3, 12, 12),
    ("communication-prohibited", 3, 13, 13),
    ("host-precedence-violation", 3, 14, 14),
    ("precedence-cutoff", 3, 15, 15),
    ("source-quench", 4, 0, 255),
    ("redirect", 5, 0, 255),
    ("network-redirect", 5, 0, 0),
    ("host-redirect", 5, 1, 1),
    ("TOS-network-redirect", 5, 2, 2),
    ("TOS-host-redirect", 5, 3, 3),
    ("echo-request", 8, 0, 255),
    ("ping", 8, 0, 255),
    ("router-advertisement", 9, 0, 255),
    ("router-solicitation", 10, 0, 255),
    ("time-exceeded", 11, 0, 255),
    ("ttl-exceeded", 11, 0, 255),
    ("ttl-zero-during-transit", 11, 0, 0),
    ("ttl-zero-during-reassembly", 11, 1, 1),
    ("parameter-problem", 12, 0, 255),
    ("timestamp-request", 13, 0, 255),
    ("timestamp-reply", 14, 0, 255),
    ("address-mask-request", 17, 0, 255),
];

const PROTO_NAMES: [(&str, u8); 9] = [
    ("icmp", 1),
    ("igmp", 2),
    ("tcp", 6),
    ("udp", 17),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("sctp", 132),
    ("udplite", 136),
];

/// Targets iptables has but this simulator does not implement (a clearer error than "no chain").
const UNSUPPORTED_TARGETS: [&str; 20] = [
    "QUEUE",
    "NFQUEUE",
    "NOTRACK",
    "CT",
    "CONNMARK",
    "TCPMSS",
    "TPROXY",
    "TRACE",
    "TEE",
    "CLASSIFY",
    "DSCP",
    "TOS",
    "TTL",
    "CHECKSUM",
    "NETMAP",
    "SET",
    "AUDIT",
    "NFLOG",
    "ULOG",
    "CLUSTERIP",
];

const BUILTIN_TARGETS: [&str; 10] =
    ["ACCEPT", "DROP", "RETURN", "REJECT", "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "MARK", "LOG"];

/// What REJECT answers with (`--reject-with`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectWith {
    IcmpNetUnreachable,
    IcmpHostUnreachable,
    IcmpPortUnreachable,
    IcmpProtoUnreachable,
    IcmpNetProhibited,
    IcmpHostProhibited,
    IcmpAdminProhibited,
    TcpReset,
}

impl RejectWith {
    const ALL: [(RejectWith, &'static str, &'static str); 8] = [
        (RejectWith::IcmpNetUnreachable, "icmp-net-unreachable", "net-unreach"),
        (RejectWith::IcmpHostUnreachable, "icmp-host-unreachable", "host-unreach"),
        (RejectWith::IcmpPortUnreachable, "icmp-port-unreachable", "port-unreach"),
        (RejectWith::IcmpProtoUnreachable, "icmp-proto-unreachable", "proto-unreach"),
        (RejectWith::IcmpNetProhibited, "icmp-net-prohibited", "net-prohib"),
        (RejectWith::IcmpHostProhibited, "icmp-host-prohibited", "host-prohib"),
        (RejectWith::IcmpAdminProhibited, "icmp-admin-prohibited", "admin-prohib"),
        (RejectWith::TcpReset, "tcp-reset", "tcp-rst"),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(r, ..)| *r == self).map_or("?", |(_, n, _)| n)
    }

    /// The ICMP (type, code) to send, or None for a TCP RST.
    pub fn icmp(self) -> Option<(u8, u8)> {
        Some(match self {
            RejectWith::IcmpNetUnreachable => (3, 0),
            RejectWith::IcmpHostUnreachable => (3, 1),
            RejectWith::IcmpPortUnreachable => (3, 3),
            RejectWith::IcmpProtoUnreachable => (3, 2),
            RejectWith::IcmpNetProhibited => (3, 9),
            RejectWith::IcmpHostProhibited => (3, 10),
            RejectWith::IcmpAdminProhibited => (3, 13),
            RejectWith::TcpReset => return None,
        })
    }
}

impl fmt::Display for RejectWith {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct AddrMatch {
    neg: bool,
    addr: u32,
    mask: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct IfMatch {
    neg: bool,
    /// As given; a trailing `+` matches every name with that prefix.
    name: String,
}

impl IfMatch {
    fn matches(&self, dev: Option<&str>) -> bool {
        // Linux compares against an empty name on hooks without that device.
        let dev = dev.unwrap_or("");
        let hit = match self.name.strip_suffix('+') {
            Some(prefix) => dev.starts_with(prefix),
            None => dev == self.name,
        };
        hit != self.neg
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ports {
    neg: bool,
    lo: u16,
    hi: u16,
}

impl Ports {
    fn matches(&self, port: u16) -> bool {
        (self.lo <= port && port <= self.hi) != self.neg
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Match {
    Tcp {
        sport: Option<Ports>,
        dport: Option<Ports>,
        flags: Option<(bool, u8, u8)>,
    },
    Udp {
        sport: Option<Ports>,
        dport: Option<Ports>,
    },
    /// `ty` 255 is "any".
    Icmp {
        neg: bool,
        ty: u8,
        code_lo: u8,
        code_hi: u8,
    },
    AddrType {
        src: Option<(bool, u16)>,
        dst: Option<(bool, u16)>,
        limit_in: bool,
        limit_out: bool,
    },
    /// `-m conntrack` (net/netfilter/xt_conntrack.c): the connection's state, and its
    /// tuples as conntrack recorded them: the original direction's addresses and ports before
    /// any NAT, the reply's after it (`--ctorigdstport 8080` still matches a connection
    /// DNATed to port 80), and which direction the packet travels.
    Conntrack(Box<CtMatch>),
    State {
        state: Option<(bool, u8)>,
    },
    Mark {
        mark: Option<(bool, u32, u32)>,
    },
    /// `-m ipvs --ipvs`: the packet belongs to an IPVS connection (skb->ipvs_property).
    Ipvs {
        ipvs: Option<bool>,
    },
    Comment(Option<String>),
    /// `-m iprange` (net/netfilter/xt_iprange.c): the source or destination lies within an
    /// inclusive range of addresses.
    IpRange {
        src: Option<(bool, u32, u32)>,
        dst: Option<(bool, u32, u32)>,
    },
    /// `-m length --length MIN[:MAX]` (net/netfilter/xt_length.c): the IPv4 total length lies
    /// in the range (`ntohs(ip_hdr(skb)->tot_len)`), header included.
    Length {
        len: Option<Ports>,
    },
    /// `-m statistic` (net/netfilter/xt_statistic.c): every nth packet that reaches it, or each
    /// with a probability. `state` is the nth mode's counter, which the kernel keeps per rule
    /// and starts at `every - 1 - packet`, or the random mode's generator.
    Statistic {
        mode: Option<Statistic>,
        invert: bool,
        every: Option<u32>,
        packet: Option<u32>,
        /// `--probability` as the kernel compares it: `lround(p * 2^31)`.
        probability: Option<u32>,
        state: u64,
    },
}

/// `-m conntrack`'s options, each with whether it is negated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct CtMatch {
    state: Option<(bool, u8)>,
    proto: Option<(bool, u8)>,
    /// `--ctorigsrc`, `--ctorigdst`, `--ctreplsrc`, `--ctrepldst`: address and mask.
    addrs: [Option<(bool, u32, u32)>; 4],
    /// `--ctorigsrcport`, `--ctorigdstport`, `--ctreplsrcport`, `--ctrepldstport`.
    ports: [Option<Ports>; 4],
    /// `--ctdir`: true for REPLY.
    reply: Option<bool>,
}

/// The tuple options of `-m conntrack`, in the order libxt_conntrack prints them.
const CT_ADDR_OPTS: [&str; 4] = ["--ctorigsrc", "--ctorigdst", "--ctreplsrc", "--ctrepldst"];
const CT_PORT_OPTS: [&str; 4] = ["--ctorigsrcport", "--ctorigdstport", "--ctreplsrcport", "--ctrepldstport"];

impl CtMatch {
    fn is_empty(&self) -> bool {
        *self == CtMatch::default()
    }

    /// libxt_conntrack's `conntrack_dump`: `prefix` is `--ct` for iptables-save, `ct` for
    /// iptables -L; `numeric` prints 0.0.0.0 where -L would say `anywhere`. A negated option
    /// has `!` before it; the direction says ORIGINAL or REPLY, never `!`.
    fn dump(&self, out: &mut String, prefix: &str, numeric: bool) {
        let bang = |neg: bool| if neg { " !" } else { "" };
        if let Some((neg, mask)) = self.state {
            let _ = write!(out, "{} {prefix}state {}", bang(neg), ct_names(mask));
        }
        if let Some((neg, p)) = self.proto {
            let _ = write!(out, "{} {prefix}proto {p}", bang(neg));
        }
        for (name, a) in ["origsrc", "origdst", "replsrc", "repldst"].iter().zip(&self.addrs) {
            if let Some((neg, v, mask)) = a {
                let _ = write!(out, "{} {prefix}{name}", bang(*neg));
                if *v == 0 && !numeric {
                    out.push_str(" anywhere");
                } else {
                    let _ = write!(out, " {}", Ipv4Addr::from(*v));
                    if *mask != u32::MAX {
                        let _ = write!(out, "/{}", mask.count_ones());
                    }
                }
            }
        }
        for (name, r) in ["origsrcport", "origdstport", "replsrcport", "repldstport"].iter().zip(&self.ports) {
            if let Some(r) = r {
                let _ = write!(out, "{} {prefix}{name} {}", bang(r.neg), r.lo);
                if r.hi != r.lo {
                    let _ = write!(out, ":{}", r.hi);
                }
            }
        }
        if let Some(reply) = self.reply {
            let _ = write!(out, " {prefix}dir {}", if reply { "REPLY" } else { "ORIGINAL" });
        }
    }

    /// Whether the packet's connection is as asked. A packet conntrack holds no entry for
    /// (INVALID, untracked) fails every tuple and direction option, as in `conntrack_mt`.
    fn matches(&self, bits: u8, ct: Option<&CtView>) -> bool {
        if self.state.is_some_and(|(neg, m)| (bits & m != 0) == neg) {
            return false;
        }
        let tuple_opts = self.proto.is_some()
            || self.addrs.iter().any(Option::is_some)
            || self.ports.iter().any(Option::is_some)
            || self.reply.is_some();
        if !tuple_opts {
            return true;
        }
        let Some(ct) = ct else { return false };
        let [orig, repl] = ct.tuples;
        let addr = [orig.0, orig.1, repl.0, repl.1];
        let port = [orig.2, orig.3, repl.2, repl.3];
        self.proto.is_none_or(|(neg, p)| (ct.proto == p) != neg)
            && self
                .addrs
                .iter()
                .zip(addr)
                .all(|(m, a)| m.is_none_or(|(neg, v, mask)| ((u32::from(a) & mask) == v) != neg))
            && self.ports.iter().zip(port).all(|(m, p)| m.is_none_or(|r| ct.has_ports && r.matches(p)))
            && self.reply.is_none_or(|r| ct.reply == r)
    }
}

/// What `-m conntrack` sees of a packet's connection: (source, destination, source port,
/// destination port) of the original and the reply tuple, the protocol, and the direction the
/// packet travels.
#[derive(Clone, Copy, Debug)]
pub(super) struct CtView {
    pub tuples: [(Ipv4Addr, Ipv4Addr, u16, u16); 2],
    pub proto: u8,
    pub has_ports: bool,
    pub reply: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Statistic {
    Nth,
    Random,
}

impl Match {
    fn load(name: &str) -> Result<Match, RuleError> {
        Ok(match name {
            "tcp" => Match::Tcp { sport: None, dport: None, flags: None },
            "udp" => Match::Udp { sport: None, dport: None },
            "icmp" => Match::Icmp { neg: false, ty: 255, code_lo: 0, code_hi: 255 },
            "addrtype" => Match::AddrType { src: None, dst: None, limit_in: false, limit_out: false },
            "conntrack" => Match::Conntrack(Box::default()),
            "iprange" => Match::IpRange { src: None, dst: None },
            "state" => Match::State { state: None },
            "mark" => Match::Mark { mark: None },
            "ipvs" => Match::Ipvs { ipvs: None },
            "comment" => Match::Comment(None),
            "length" => Match::Length { len: None },
            "statistic" => {
                Match::Statistic { mode: None, invert: false, every: None, packet: None, probability: None, state: 0 }
            }
            other => return Err(RuleError::new(format!("unknown or unsupported match `-m {other}`"))),
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Match::Tcp { .. } => "tcp",
            Match::Udp { .. } => "udp",
            Match::Icmp { .. } => "icmp",
            Match::AddrType { .. } => "addrtype",
            Match::Conntrack(_) => "conntrack",
            Match::IpRange { .. } => "iprange",
            Match::State { .. } => "state",
            Match::Mark { .. } => "mark",
            Match::Ipvs { .. } => "ipvs",
            Match::Comment(_) => "comment",
            Match::Length { .. } => "length",
            Match::Statistic { .. } => "statistic",
        }
    }

    /// Whether `opt` is an option of this match module.
    fn owns(&self, opt: &str) -> bool {
        match self {
            Match::Tcp { .. } => TCP_OPTS.contains(&opt),
            Match::Udp { .. } => UDP_OPTS.contains(&opt),
            Match::Icmp { .. } => opt == "--icmp-type",
            Match::AddrType { .. } => {
                ["--src-type", "--dst-type", "--limit-iface-in", "--limit-iface-out"].contains(&opt)
            }
            Match::Conntrack(_) => {
                ["--ctstate", "--ctproto", "--ctdir"].contains(&opt)
                    || CT_ADDR_OPTS.contains(&opt)
                    || CT_PORT_OPTS.contains(&opt)
            }
            Match::IpRange { .. } => ["--src-range", "--dst-range"].contains(&opt),
            Match::State { .. } => opt == "--state",
            Match::Mark { .. } => opt == "--mark",
            Match::Ipvs { .. } => opt == "--ipvs",
            Match::Comment(_) => opt == "--comment",
            Match::Length { .. } => opt == "--length",
            Match::Statistic { .. } => ["--mode", "--probability", "--every", "--packet"].contains(&opt),
        }
    }

    /// Parses option `opt` (owned by this match) and its arguments.
    fn parse_opt(&mut self, opt: &str, neg: bool, a: &mut Args<'_>) -> Result<(), RuleError> {
        let dup = || RuleError::new(format!("multiple `{opt}` options not allowed in one `-m` match"));
        let no_neg = |neg: bool| {
            if neg { Err(RuleError::new(format!("option `{opt}` cannot be negated with `!`"))) } else { Ok(()) }
        };
        match self {
            Match::Tcp { sport, dport, flags } => match opt {
                "--sport" | "--source-port" | "--dport" | "--destination-port" => {
                    let slot = if opt.starts_with("--s") { sport } else { dport };
                    if slot.is_some() {
                        return Err(dup());
                    }
                    *slot = parse_ports(a.value(opt)?, neg)?;
                }
                "--tcp-flags" | "--syn" => {
                    if flags.is_some() {
                        return Err(dup());
                    }
                    *flags = Some(if opt == "--syn" {
                        (neg, 0x17, 0x02)
                    } else {
                        let mask = parse_tcp_flags(a.value(opt)?)?;
                        let cmp = parse_tcp_flags(a.value(opt)?)?;
                        (neg, mask, cmp)
                    });
                }
                _ => unreachable_opt(opt)?,
            },
            Match::Udp { sport, dport } => {
                let slot = if opt.starts_with("--s") { sport } else { dport };
                if slot.is_some() {
                    return Err(dup());
                }
                *slot = parse_ports(a.value(opt)?, neg)?;
            }
            Match::Icmp { neg: n, ty, code_lo, code_hi } => {
                let (t, lo, hi) = parse_icmp_type(a.value(opt)?)?;
                (*n, *ty, *code_lo, *code_hi) = (neg, t, lo, hi);
            }
            Match::AddrType { src, dst, limit_in, limit_out } => match opt {
                "--src-type" | "--dst-type" => {
                    let slot = if opt == "--src-type" { src } else { dst };
                    if slot.is_some() {
                        return Err(dup());
                    }
                    *slot = Some((neg, parse_addrtypes(a.value(opt)?)?));
                }
                "--limit-iface-in" => {
                    no_neg(neg)?;
                    *limit_in = true;
                }
                _ => {
                    no_neg(neg)?;
                    *limit_out = true;
                }
            },
            Match::State { state } => {
                if state.is_some() {
                    return Err(dup());
                }
                *state = Some((neg, parse_ct_states(a.value(opt)?, false)?));
            }
            Match::Conntrack(ct) => match opt {
                "--ctstate" => {
                    if ct.state.is_some() {
                        return Err(dup());
                    }
                    ct.state = Some((neg, parse_ct_states(a.value(opt)?, true)?));
                }
                "--ctproto" => {
                    let v = a.value(opt)?;
                    let p = match v.to_ascii_lowercase().as_str() {
                        "tcp" => PROTO_TCP,
                        "udp" => PROTO_UDP,
                        "icmp" => PROTO_ICMP,
                        n => n
                            .parse::<u8>()
                            .map_err(|_| RuleError::new(format!("unknown protocol \"{v}\" specified")))?,
                    };
                    ct.proto = Some((neg, p));
                }
                "--ctdir" => {
                    no_neg(neg)?;
                    let v = a.value(opt)?;
                    ct.reply = Some(match v {
                        "ORIGINAL" => false,
                        "REPLY" => true,
                        _ => return Err(RuleError::new(format!("Unknown --ctdir value \"{v}\""))),
                    });
                }
                _ => {
                    if let Some(i) = CT_ADDR_OPTS.iter().position(|o| *o == opt) {
                        let (v, m) = parse_addr(a.value(opt)?)?;
                        ct.addrs[i] = Some((neg, v, m));
                    } else {
                        let i = CT_PORT_OPTS.iter().position(|o| *o == opt).expect("owned option");
                        ct.ports[i] =
                            Some(parse_ports(a.value(opt)?, neg)?.unwrap_or(Ports { neg, lo: 0, hi: u16::MAX }));
                    }
                }
            },
            Match::IpRange { src, dst } => {
                let v = a.value(opt)?;
                let bad = || RuleError::new(format!("iprange match: Bad IP address \"{v}\""));
                let (lo, hi) = v.split_once('-').unwrap_or((v, v));
                let (lo, hi): (Ipv4Addr, Ipv4Addr) = (lo.parse().map_err(|_| bad())?, hi.parse().map_err(|_| bad())?);
                let slot = if opt == "--src-range" { src } else { dst };
                *slot = Some((neg, u32::from(lo), u32::from(hi)));
            }
            Match::Mark { mark } => {
                if mark.is_some() {
                    return Err(dup());
                }
                let (v, m) = parse_value_mask(a.value(opt)?)?;
                *mark = Some((neg, v, m));
            }
            Match::Ipvs { ipvs } => {
                if ipvs.is_some() {
                    return Err(dup());
                }
                *ipvs = Some(neg);
            }
            Match::Length { len } => {
                if len.is_some() {
                    return Err(dup());
                }
                *len = Some(parse_length(a.value(opt)?, neg)?);
            }
            Match::Comment(c) => {
                no_neg(neg)?;
                if c.is_some() {
                    return Err(dup());
                }
                let text = a.value(opt)?;
                if text.len() > 255 {
                    return Err(RuleError::new("comment too long (at most 255 bytes)"));
                }
                *c = Some(text.to_string());
            }
            Match::Statistic { mode, invert, every, packet, probability, .. } => {
                let number = |v: &str| {
                    v.parse::<u32>().map_err(|_| RuleError::new(format!("statistic: bad value for `{opt}`: `{v}`")))
                };
                match opt {
                    "--mode" => {
                        no_neg(neg)?;
                        let v = a.value(opt)?;
                        *mode = Some(match v {
                            "nth" => Statistic::Nth,
                            "random" => Statistic::Random,
                            _ => return Err(RuleError::new(format!("Bad mode \"{v}\""))),
                        });
                    }
                    "--probability" => {
                        let v = a.value(opt)?;
                        let p = v.parse::<f64>().ok().filter(|p| (0.0..=1.0).contains(p)).ok_or_else(|| {
                            RuleError::new(format!("statistic: `--probability` {v}: not between 0 and 1"))
                        })?;
                        *invert |= neg;
                        *probability = Some((p * f64::from(0x8000_0000u32)).round() as u32);
                    }
                    "--every" => {
                        let n = number(a.value(opt)?)?;
                        if n == 0 {
                            return Err(RuleError::new("statistic: `--every` must be at least 1"));
                        }
                        *invert |= neg;
                        *every = Some(n);
                    }
                    _ => {
                        no_neg(neg)?;
                        *packet = Some(number(a.value(opt)?)?);
                    }
                }
                if let Match::Statistic { every: Some(n), packet, state, .. } = self {
                    // libxt_statistic: `count = every - 1 - packet`.
                    *state = u64::from(*n - 1).saturating_sub(u64::from(packet.unwrap_or(0)));
                }
            }
        }
        Ok(())
    }

    /// iptables' final check of the match.
    fn finish(&self) -> Result<(), RuleError> {
        let missing = |what: &str| Err(RuleError::new(format!("`-m {}` needs {what}", self.name())));
        match self {
            Match::AddrType { src: None, dst: None, .. } => missing("`--src-type` or `--dst-type`"),
            Match::AddrType { limit_in: true, limit_out: true, .. } => {
                Err(RuleError::new("`--limit-iface-in` and `--limit-iface-out` are mutually exclusive"))
            }
            Match::Conntrack(ct) if ct.is_empty() => Err(RuleError::new("conntrack: At least one option is required")),
            Match::IpRange { src: None, dst: None } => {
                Err(RuleError::new("iprange match: You must specify `--src-range' or `--dst-range'"))
            }
            Match::State { state: None } => missing("`--state`"),
            Match::Mark { mark: None } => missing("`--mark`"),
            Match::Ipvs { ipvs: None } => missing("`--ipvs` (the only ipvs option supported)"),
            Match::Comment(None) => missing("`--comment`"),
            Match::Length { len: None } => missing("`--length`"),
            Match::Statistic { mode: None, .. } => missing("`--mode`"),
            Match::Statistic { mode: Some(Statistic::Random), probability: None, .. } => {
                Err(RuleError::new("--probability must be specified when using random mode"))
            }
            Match::Statistic { mode: Some(Statistic::Nth), every: None, .. } => {
                Err(RuleError::new("--every and --packet must be specified when using nth mode"))
            }
            // iptables 1.8.9 refuses `--every` alone (seen on this machine, exit status 2).
            Match::Statistic { mode: Some(Statistic::Nth), packet: None, .. } => {
                Err(RuleError::new("statistic: option \"--every\" also requires \"--packet\"."))
            }
            Match::Statistic { mode: Some(Statistic::Random), every, packet, .. }
                if every.is_some() || packet.is_some() =>
            {
                Err(RuleError::new("statistic: `--every` and `--packet` are for nth mode"))
            }
            Match::Statistic { mode: Some(Statistic::Nth), probability: Some(_), .. } => {
                Err(RuleError::new("statistic: `--probability` is for random mode"))
            }
            Match::Statistic { every: Some(n), packet: Some(p), .. } if p >= n => {
                Err(RuleError::new("the --packet p must be 0 <= p <= n-1"))
            }
            _ => Ok(()),
        }
    }

    fn matches(&mut self, p: &EvalPkt<'_, '_>, mark: u32) -> bool {
        let i = p.info;
        match self {
            Match::Tcp { sport, dport, flags } => {
                i.proto == PROTO_TCP
                    && i.l4_ok
                    && sport.is_none_or(|r| r.matches(i.sport))
                    && dport.is_none_or(|r| r.matches(i.dport))
                    && flags.is_none_or(|(neg, mask, cmp)| ((i.tcp_flags & mask) == cmp) != neg)
            }
            Match::Udp { sport, dport } => {
                i.proto == PROTO_UDP
                    && i.l4_ok
                    && sport.is_none_or(|r| r.matches(i.sport))
                    && dport.is_none_or(|r| r.matches(i.dport))
            }
            Match::Icmp { neg, ty, code_lo, code_hi } => {
                i.proto == PROTO_ICMP
                    && i.l4_ok
                    && ((*ty == 255 || (i.icmp_type == *ty && *code_lo <= i.icmp_code && i.icmp_code <= *code_hi))
                        != *neg)
            }
            Match::AddrType { src, dst, .. } => {
                // --limit-iface-in/out would restrict the lookup to the device; the hook context
                // only knows namespace-wide address types, so they are accepted but not applied.
                let t = |a: Ipv4Addr| addrtype_bit((p.ctx.addr_type)(a));
                src.is_none_or(|(neg, m)| (t(i.src) & m != 0) != neg)
                    && dst.is_none_or(|(neg, m)| (t(i.dst) & m != 0) != neg)
            }
            Match::State { state } => state.is_none_or(|(neg, m)| (p.ct_bits & m != 0) != neg),
            Match::Conntrack(ct) => ct.matches(p.ct_bits, p.ct.as_ref()),
            Match::IpRange { src, dst } => {
                let within = |r: &Option<(bool, u32, u32)>, a: Ipv4Addr| {
                    r.is_none_or(|(neg, lo, hi)| (lo..=hi).contains(&u32::from(a)) != neg)
                };
                within(src, i.src) && within(dst, i.dst)
            }
            Match::Mark { mark: m } => m.is_none_or(|(neg, v, mask)| ((mark & mask) == v) != neg),
            Match::Ipvs { ipvs } => ipvs.is_none_or(|neg| p.ipvs != neg),
            Match::Comment(_) => true,
            Match::Length { len } => len.is_none_or(|r| r.matches(i.total_len)),
            Match::Statistic { mode, invert, every, probability, state, .. } => {
                let hit = match mode {
                    // xt_statistic: the counter runs 0..=every-1 and the packet that brings it
                    // back to 0 matches.
                    Some(Statistic::Nth) => {
                        let last = u64::from(every.unwrap_or(1) - 1);
                        *state = if *state >= last { 0 } else { *state + 1 };
                        *state == 0
                    }
                    // get_random_u32() & 0x7FFFFFFF < probability, from a generator the rule
                    // keeps (splitmix64), so a run repeats itself.
                    _ => {
                        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                        let mut z = *state;
                        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                        z ^= z >> 31;
                        ((z as u32) & 0x7FFF_FFFF) < probability.unwrap_or(0)
                    }
                };
                hit != *invert
            }
        }
    }

    fn write(&self, out: &mut String) {
        let bang = |neg: bool| if neg { " !" } else { "" };
        let _ = write!(out, " -m {}", self.name());
        match self {
            Match::Tcp { sport, dport, flags } => {
                write_ports(out, "--sport", sport);
                write_ports(out, "--dport", dport);
                if let Some((neg, mask, cmp)) = flags {
                    let _ = write!(out, "{} --tcp-flags {} {}", bang(*neg), tcp_flags_str(*mask), tcp_flags_str(*cmp));
                }
            }
            Match::Udp { sport, dport } => {
                write_ports(out, "--sport", sport);
                write_ports(out, "--dport", dport);
            }
            Match::Icmp { neg, ty, code_lo, code_hi } => {
                let _ = write!(out, "{} --icmp-type ", bang(*neg));
                if *ty == 255 {
                    out.push_str("any");
                } else {
                    let _ = write!(out, "{ty}");
                    if *code_lo != 0 || *code_hi != 255 {
                        let _ = write!(out, "/{code_lo}");
                    }
                }
            }
            Match::AddrType { src, dst, limit_in, limit_out } => {
                for (opt, v) in [("--src-type", src), ("--dst-type", dst)] {
                    if let Some((neg, mask)) = v {
                        let _ = write!(out, "{} {opt} {}", bang(*neg), addrtype_names(*mask));
                    }
                }
                if *limit_in {
                    out.push_str(" --limit-iface-in");
                }
                if *limit_out {
                    out.push_str(" --limit-iface-out");
                }
            }
            Match::State { state } => {
                if let Some((neg, mask)) = state {
                    let _ = write!(out, "{} --state {}", bang(*neg), ct_names(*mask));
                }
            }
            Match::Conntrack(ct) => ct.dump(out, "--ct", true),
            // libxt_iprange's save: `!` before the option, the range as FROM-TO.
            Match::IpRange { src, dst } => {
                for (opt, r) in [("--src-range", src), ("--dst-range", dst)] {
                    if let Some((neg, lo, hi)) = r {
                        let _ = write!(out, "{} {opt} {}-{}", bang(*neg), Ipv4Addr::from(*lo), Ipv4Addr::from(*hi));
                    }
                }
            }
            Match::Mark { mark } => {
                if let Some((neg, v, m)) = mark {
                    let _ = write!(out, "{} --mark {v:#x}", bang(*neg));
                    if *m != u32::MAX {
                        let _ = write!(out, "/{m:#x}");
                    }
                }
            }
            Match::Ipvs { ipvs } => {
                if let Some(neg) = ipvs {
                    let _ = write!(out, "{} --ipvs", bang(*neg));
                }
            }
            Match::Comment(c) => {
                if let Some(c) = c {
                    out.push_str(" --comment");
                    save_string(out, c);
                }
            }
            // libxt_length's save: one number when the range is one length.
            Match::Length { len } => {
                if let Some(r) = len {
                    let _ = write!(out, "{} --length {}", bang(r.neg), r.lo);
                    if r.hi != r.lo {
                        let _ = write!(out, ":{}", r.hi);
                    }
                }
            }
            // libxt_statistic's save: the mode, `!` before the value it negates.
            Match::Statistic { mode, invert, every, packet, probability, .. } => {
                let bang = bang(*invert);
                match mode {
                    Some(Statistic::Random) => {
                        let p = f64::from(probability.unwrap_or(0)) / f64::from(0x8000_0000u32);
                        let _ = write!(out, " --mode random{bang} --probability {p:.11}");
                    }
                    _ => {
                        let (n, p) = (every.unwrap_or(1), packet.unwrap_or(0));
                        let _ = write!(out, " --mode nth{bang} --every {n} --packet {p}");
                    }
                }
            }
        }
    }
}

const TCP_OPTS: [&str; 6] = ["--sport", "--source-port", "--dport", "--destination-port", "--tcp-flags", "--syn"];
const UDP_OPTS: [&str; 4] = ["--sport", "--source-port", "--dport", "--destination-port"];

fn unreachable_opt(opt: &str) -> Result<(), RuleError> {
    Err(RuleError::new(format!("unknown option `{opt}`")))
}

fn write_ports(out: &mut String, opt: &str, p: &Option<Ports>) {
    if let Some(p) = p {
        let bang = if p.neg { " !" } else { "" };
        if p.lo == p.hi {
            let _ = write!(out, "{bang} {opt} {}", p.lo);
        } else {
            let _ = write!(out, "{bang} {opt} {}:{}", p.lo, p.hi);
        }
    }
}

/// Address range and optional port range of DNAT `--to-destination` / SNAT `--to-source`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct NatRange {
    pub min_ip: Ipv4Addr,
    pub max_ip: Ipv4Addr,
    pub ports: Option<(u16, u16)>,
}

impl fmt::Display for NatRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `--to-source :53`: the port alone, the address kept.
        if !self.min_ip.is_unspecified() {
            write!(f, "{}", self.min_ip)?;
        }
        if self.max_ip != self.min_ip {
            write!(f, "-{}", self.max_ip)?;
        }
        if let Some((lo, hi)) = self.ports {
            write!(f, ":{lo}")?;
            if hi != lo {
                write!(f, "-{hi}")?;
            }
        }
        Ok(())
    }
}

/// The NAT targets: they set up the connection's binding (terminal, like ACCEPT).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum NatTarget {
    Dnat(NatRange),
    Snat(NatRange),
    Masquerade(Option<(u16, u16)>),
    Redirect(Option<(u16, u16)>),
}

impl NatTarget {
    fn name(&self) -> &'static str {
        match self {
            NatTarget::Dnat(_) => "DNAT",
            NatTarget::Snat(_) => "SNAT",
            NatTarget::Masquerade(_) => "MASQUERADE",
            NatTarget::Redirect(_) => "REDIRECT",
        }
    }

    /// The hooks the kernel allows this target in.
    pub(super) fn valid_at(&self, hook: Hook) -> bool {
        match self {
            NatTarget::Dnat(_) | NatTarget::Redirect(_) => matches!(hook, Hook::Prerouting | Hook::Output),
            NatTarget::Snat(_) => matches!(hook, Hook::Postrouting | Hook::Input),
            NatTarget::Masquerade(_) => hook == Hook::Postrouting,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Target {
    /// No `-j`: the rule only counts.
    None,
    Accept,
    Drop,
    Return,
    Jump(String),
    Goto(String),
    Reject(RejectWith),
    Nat(NatTarget),
    /// New mark = (mark & !mask) ^ value (`--set-xmark`, to which every MARK option maps).
    Mark {
        value: u32,
        mask: Option<u32>,
    },
    Log {
        prefix: Option<String>,
        level: u8,
    },
}

impl Target {
    fn from_name(name: &str, goto: bool) -> Result<Target, RuleError> {
        if name.is_empty() {
            return Err(RuleError::new("empty target name"));
        }
        if UNSUPPORTED_TARGETS.contains(&name) {
            return Err(RuleError::new(format!("target `{name}` is not supported by this simulator")));
        }
        if goto {
            if BUILTIN_TARGETS.contains(&name) {
                return Err(RuleError::new(format!("`-g` needs a user chain, `{name}` is a target")));
            }
            check_chain_name(name)?;
            return Ok(Target::Goto(name.to_string()));
        }
        Ok(match name {
            "ACCEPT" => Target::Accept,
            "DROP" => Target::Drop,
            "RETURN" => Target::Return,
            "REJECT" => Target::Reject(RejectWith::IcmpPortUnreachable),
            "DNAT" => Target::Nat(NatTarget::Dnat(NatRange {
                min_ip: Ipv4Addr::UNSPECIFIED,
                max_ip: Ipv4Addr::UNSPECIFIED,
                ports: None,
            })),
            "SNAT" => Target::Nat(NatTarget::Snat(NatRange {
                min_ip: Ipv4Addr::UNSPECIFIED,
                max_ip: Ipv4Addr::UNSPECIFIED,
                ports: None,
            })),
            "MASQUERADE" => Target::Nat(NatTarget::Masquerade(None)),
            "REDIRECT" => Target::Nat(NatTarget::Redirect(None)),
            "MARK" => Target::Mark { value: 0, mask: None },
            "LOG" => Target::Log { prefix: None, level: 4 },
            other => {
                check_chain_name(other)
                    .map_err(|e| RuleError::new(format!("unknown target `{other}` ({})", e.message)))?;
                Target::Jump(other.to_string())
            }
        })
    }

    /// Parses a target option; Ok(false) when `opt` is not one of this target's.
    fn parse_opt(&mut self, opt: &str, a: &mut Args<'_>, seen: &mut Vec<String>) -> Result<bool, RuleError> {
        let owned = match self {
            Target::Reject(_) => opt == "--reject-with",
            Target::Nat(NatTarget::Dnat(_)) => opt == "--to-destination",
            Target::Nat(NatTarget::Snat(_)) => opt == "--to-source",
            Target::Nat(NatTarget::Masquerade(_) | NatTarget::Redirect(_)) => opt == "--to-ports",
            Target::Mark { .. } => {
                ["--set-xmark", "--set-mark", "--and-mark", "--or-mark", "--xor-mark"].contains(&opt)
            }
            Target::Log { .. } => opt == "--log-prefix" || opt == "--log-level",
            _ => false,
        };
        if !owned {
            return Ok(false);
        }
        let key = if opt.contains("mark") { "mark" } else { opt };
        if seen.iter().any(|s| s == key) {
            return Err(RuleError::new(format!("target option `{opt}` given twice (or conflicting MARK options)")));
        }
        seen.push(key.to_string());
        let v = a.value(opt)?;
        match self {
            Target::Reject(w) => {
                *w = RejectWith::ALL
                    .iter()
                    .find(|(_, n, alias)| *n == v || *alias == v)
                    .map(|(r, ..)| *r)
                    .ok_or_else(|| RuleError::new(format!("unknown `--reject-with` type `{v}`")))?;
            }
            Target::Nat(NatTarget::Dnat(r) | NatTarget::Snat(r)) => *r = parse_nat_range(v)?,
            Target::Nat(NatTarget::Masquerade(p) | NatTarget::Redirect(p)) => *p = Some(parse_port_pair(v, '-')?),
            Target::Mark { value, mask } => {
                let (val, m) = parse_value_mask(v)?;
                let given_mask = v.contains('/');
                // iptables' translation of every MARK option to --set-xmark value/mask.
                (*value, *mask) = match opt {
                    "--set-xmark" => (val, Some(m)),
                    "--set-mark" => (val, Some(if given_mask { val | m } else { u32::MAX })),
                    _ if given_mask => {
                        return Err(RuleError::new(format!("`{opt}` takes a value without mask: `{v}`")));
                    }
                    "--and-mark" => (0, Some(!val)),
                    "--or-mark" => (val, Some(val)),
                    _ => (val, Some(0)),
                };
            }
            Target::Log { prefix, level } => {
                if opt == "--log-prefix" {
                    if v.len() > 29 {
                        return Err(RuleError::new(format!("`--log-prefix` too long (at most 29 bytes): `{v}`")));
                    }
                    *prefix = Some(v.to_string());
                } else {
                    *level = parse_log_level(v)?;
                }
            }
            _ => {}
        }
        Ok(true)
    }

    fn write(&self, out: &mut String) {
        match self {
            Target::None => {}
            Target::Accept => out.push_str(" -j ACCEPT"),
            Target::Drop => out.push_str(" -j DROP"),
            Target::Return => out.push_str(" -j RETURN"),
            Target::Jump(c) => {
                let _ = write!(out, " -j {c}");
            }
            Target::Goto(c) => {
                let _ = write!(out, " -g {c}");
            }
            Target::Reject(w) => {
                let _ = write!(out, " -j REJECT --reject-with {w}");
            }
            Target::Nat(n) => {
                let _ = write!(out, " -j {}", n.name());
                match n {
                    NatTarget::Dnat(r) => {
                        let _ = write!(out, " --to-destination {r}");
                    }
                    NatTarget::Snat(r) => {
                        let _ = write!(out, " --to-source {r}");
                    }
                    NatTarget::Masquerade(Some((lo, hi))) | NatTarget::Redirect(Some((lo, hi))) => {
                        let _ = write!(out, " --to-ports {lo}");
                        if hi != lo {
                            let _ = write!(out, "-{hi}");
                        }
                    }
                    _ => {}
                }
            }
            Target::Mark { value, mask } => {
                let _ = write!(out, " -j MARK --set-xmark {value:#x}/{:#x}", mask.unwrap_or(u32::MAX));
            }
            Target::Log { prefix, level } => {
                out.push_str(" -j LOG");
                if let Some(p) = prefix.as_deref().filter(|p| !p.is_empty()) {
                    out.push_str(" --log-prefix");
                    save_string(out, p);
                }
                if *level != 4 {
                    let _ = write!(out, " --log-level {level}");
                }
            }
        }
    }
}

/// One rule of a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    chain: String,
    src: Option<AddrMatch>,
    dst: Option<AddrMatch>,
    in_if: Option<IfMatch>,
    out_if: Option<IfMatch>,
    proto: Option<(bool, u8)>,
    matches: Vec<Match>,
    target: Target,
    pkts: u64,
    bytes: u64,
    /// `-A CHAIN canonical`, computed once and shared with the notes that quote it, so a
    /// packet's explanation costs no copy of the text.
    text: Arc<str>,
}

impl Rule {
    /// Parses `-A CHAIN options...` (as printed by `Display`), without checking that the chain or
    /// jump targets exist (that needs a table).
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        let toks = tokenize(text)?;
        match toks.first().map(String::as_str) {
            Some("-A" | "--append") => {}
            _ => return Err(RuleError::new(format!("a rule starts with `-A CHAIN`: `{text}`"))),
        }
        let chain = toks.get(1).ok_or_else(|| RuleError::new("`-A` needs a chain name"))?;
        parse_rule(chain, &toks[2..])
    }

    /// The chain the rule was written for.
    pub fn chain(&self) -> &str {
        &self.chain
    }

    /// The rule in iptables-save's canonical form, without `-A CHAIN`.
    pub fn canonical(&self) -> &str {
        self.text.get(self.chain.len() + 3..).unwrap_or("").trim_start()
    }

    /// `-A CHAIN canonical`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text, shared (what a note keeps).
    pub(super) fn shared_text(&self) -> Arc<str> {
        Arc::clone(&self.text)
    }

    /// Packets and bytes (IPv4 total length) that matched this rule.
    pub fn counters(&self) -> (u64, u64) {
        (self.pkts, self.bytes)
    }

    pub(super) fn set_counters(&mut self, pkts: u64, bytes: u64) {
        self.pkts = pkts;
        self.bytes = bytes;
    }

    pub(super) fn count(&mut self, bytes: u64) {
        self.pkts += 1;
        self.bytes += bytes;
    }

    pub(super) fn target(&self) -> &Target {
        &self.target
    }

    pub(super) fn jump_target(&self) -> Option<&str> {
        match &self.target {
            Target::Jump(c) | Target::Goto(c) => Some(c),
            _ => None,
        }
    }

    fn render(&mut self) {
        let mut out = format!("-A {}", self.chain);
        for (opt, a) in [("-s", &self.src), ("-d", &self.dst)] {
            if let Some(a) = a {
                let bang = if a.neg { " !" } else { "" };
                let _ = write!(out, "{bang} {opt} {}/{}", Ipv4Addr::from(a.addr), a.mask.count_ones());
            }
        }
        for (opt, i) in [("-i", &self.in_if), ("-o", &self.out_if)] {
            if let Some(i) = i {
                let bang = if i.neg { " !" } else { "" };
                let _ = write!(out, "{bang} {opt} {}", i.name);
            }
        }
        if let Some((neg, p)) = self.proto {
            let bang = if neg { " !" } else { "" };
            match PROTO_NAMES.iter().find(|(_, n)| *n == p) {
                Some((name, _)) => {
                    let _ = write!(out, "{bang} -p {name}");
                }
                None if p == 0 => {
                    let _ = write!(out, "{bang} -p all");
                }
                None => {
                    let _ = write!(out, "{bang} -p {p}");
                }
            }
        }
        for m in &self.matches {
            m.write(&mut out);
        }
        self.target.write(&mut out);
        self.text = out.into();
    }

    /// All matches true for this packet (`ipt_do_table`'s per-rule test).
    pub(super) fn matches(&mut self, p: &EvalPkt<'_, '_>, mark: u32) -> bool {
        let i = p.info;
        let addr_ok = |a: &Option<AddrMatch>, ip: Ipv4Addr| {
            a.as_ref().is_none_or(|a| ((u32::from(ip) & a.mask) == a.addr) != a.neg)
        };
        addr_ok(&self.src, i.src)
            && addr_ok(&self.dst, i.dst)
            && self.in_if.as_ref().is_none_or(|m| m.matches(p.ctx.in_if))
            && self.out_if.as_ref().is_none_or(|m| m.matches(p.ctx.out_if))
            && self.proto.is_none_or(|(neg, proto)| (proto == 0 || proto == i.proto) != neg)
            && self.matches.iter_mut().all(|m| m.matches(p, mark))
    }

    /// Targets that only exist in one table.
    pub(super) fn validate_table(&self, table: Table) -> Result<(), RuleError> {
        if let Target::Nat(n) = &self.target
            && table != Table::Nat
        {
            return Err(RuleError::new(format!("target {} is only valid in the nat table, not in {table}", n.name())));
        }
        Ok(())
    }

    /// What the kernel checks for a rule in the built-in chain of `hook`.
    pub(super) fn validate_hook(&self, hook: Hook) -> Result<(), RuleError> {
        let chain = hook.chain_name();
        let no_in = matches!(hook, Hook::Output | Hook::Postrouting);
        let no_out = matches!(hook, Hook::Prerouting | Hook::Input);
        if no_in && self.in_if.is_some() {
            return Err(RuleError::new(format!("can't use -i with {chain} (no input device there)")));
        }
        if no_out && self.out_if.is_some() {
            return Err(RuleError::new(format!("can't use -o with {chain} (no output device there)")));
        }
        for m in &self.matches {
            if let Match::AddrType { limit_in, limit_out, .. } = m
                && ((*limit_in && no_in) || (*limit_out && no_out))
            {
                return Err(RuleError::new(format!("addrtype: this --limit-iface option is not valid in {chain}")));
            }
        }
        match &self.target {
            Target::Nat(n) if !n.valid_at(hook) => {
                Err(RuleError::new(format!("target {} is not valid in chain {chain}", n.name())))
            }
            Target::Reject(_) if !matches!(hook, Hook::Input | Hook::Forward | Hook::Output) => {
                Err(RuleError::new(format!("target REJECT is only valid in INPUT, FORWARD and OUTPUT, not {chain}")))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A parsed iptables command.
#[derive(Debug)]
pub(super) enum Command {
    Append { rule: Rule },
    Insert { pos: usize, rule: Rule },
    Replace { pos: usize, rule: Rule },
    DeleteRule { rule: Rule },
    DeleteNum { chain: String, pos: usize },
    NewChain(String),
    DeleteChain(Option<String>),
    Flush(Option<String>),
    Zero(Option<String>),
    Policy { chain: String, verdict: Verdict },
}

/// Parses one iptables command line; a leading `-t TABLE` overrides `table`.
pub(super) fn parse_command(cmd: &str, table: Table) -> Result<(Table, Command), RuleError> {
    let toks = tokenize(cmd)?;
    let mut table = table;
    let mut i = 0;
    if let Some("-t" | "--table") = toks.first().map(String::as_str) {
        let name = toks.get(1).ok_or_else(|| RuleError::new("option `-t` requires a table name"))?;
        table = Table::from_name(name).ok_or_else(|| RuleError::new(format!("unknown table `{name}`")))?;
        i = 2;
    }
    let Some(c) = toks.get(i) else { return Err(RuleError::new("empty command")) };
    let rest = &toks[i + 1..];
    let chain = || {
        rest.first().map(String::as_str).ok_or_else(|| RuleError::new(format!("option `{c}` requires a chain name")))
    };
    let opt_chain = || -> Result<Option<String>, RuleError> {
        match rest {
            [] => Ok(None),
            [c] => Ok(Some(c.clone())),
            [_, extra, ..] => Err(RuleError::new(format!("unexpected argument `{extra}`"))),
        }
    };
    let num = |s: &str| s.parse::<usize>().ok().filter(|n| *n > 0);
    let command = match c.as_str() {
        "-A" | "--append" => Command::Append { rule: parse_rule(chain()?, &rest[1..])? },
        "-I" | "--insert" => {
            let ch = chain()?;
            match rest.get(1).and_then(|s| num(s)) {
                Some(pos) => Command::Insert { pos, rule: parse_rule(ch, &rest[2..])? },
                None => Command::Insert { pos: 1, rule: parse_rule(ch, &rest[1..])? },
            }
        }
        "-R" | "--replace" => {
            let ch = chain()?;
            let pos = rest
                .get(1)
                .and_then(|s| num(s))
                .ok_or_else(|| RuleError::new("`-R` needs a rule number (1, 2, ...) after the chain"))?;
            Command::Replace { pos, rule: parse_rule(ch, &rest[2..])? }
        }
        "-D" | "--delete" => {
            let ch = chain()?;
            match (rest.get(1).and_then(|s| num(s)), rest.len()) {
                (Some(pos), 2) => Command::DeleteNum { chain: ch.to_string(), pos },
                _ => Command::DeleteRule { rule: parse_rule(ch, &rest[1..])? },
            }
        }
        "-N" | "--new-chain" => {
            let name = opt_chain()?.ok_or_else(|| RuleError::new("`-N` requires a chain name"))?;
            check_chain_name(&name)?;
            Command::NewChain(name)
        }
        "-X" | "--delete-chain" => Command::DeleteChain(opt_chain()?),
        "-F" | "--flush" => Command::Flush(opt_chain()?),
        "-Z" | "--zero" => Command::Zero(opt_chain()?),
        "-P" | "--policy" => {
            let (ch, v) = match rest {
                [ch, v] => (ch, v),
                [_] | [] => return Err(RuleError::new("`-P` needs a chain and a policy (ACCEPT or DROP)")),
                [_, _, extra, ..] => return Err(RuleError::new(format!("unexpected argument `{extra}`"))),
            };
            let verdict = match v.as_str() {
                "ACCEPT" => Verdict::Accept,
                "DROP" => Verdict::Drop,
                other => return Err(RuleError::new(format!("bad policy `{other}` (ACCEPT or DROP)"))),
            };
            Command::Policy { chain: ch.clone(), verdict }
        }
        other => {
            return Err(RuleError::new(format!(
                "unknown command `{other}` (expected -A, -I, -R, -D, -N, -X, -F, -Z or -P)"
            )));
        }
    };
    Ok((table, command))
}

/// A rule's tokens after `-A CHAIN`, consumed left to right like getopt.
struct Args<'a> {
    toks: &'a [String],
    i: usize,
}

impl<'a> Args<'a> {
    fn next(&mut self) -> Option<&'a str> {
        let t = self.toks.get(self.i)?;
        self.i += 1;
        Some(t)
    }

    fn value(&mut self, opt: &str) -> Result<&'a str, RuleError> {
        self.next().ok_or_else(|| RuleError::new(format!("option `{opt}` requires an argument")))
    }
}

fn parse_rule(chain: &str, toks: &[String]) -> Result<Rule, RuleError> {
    check_chain_name(chain)?;
    let mut r = Rule {
        chain: chain.to_string(),
        src: None,
        dst: None,
        in_if: None,
        out_if: None,
        proto: None,
        matches: Vec::new(),
        target: Target::None,
        pkts: 0,
        bytes: 0,
        text: Arc::from(""),
    };
    let mut target_set = false;
    let mut target_opts = Vec::new();
    let mut a = Args { toks, i: 0 };
    let mut neg = false;
    while let Some(tok) = a.next() {
        if tok == "!" {
            if neg {
                return Err(RuleError::new("multiple `!` flags not allowed"));
            }
            neg = true;
            continue;
        }
        let cant_negate = |neg: bool| {
            if neg { Err(RuleError::new(format!("`!` cannot be used before `{tok}`"))) } else { Ok(()) }
        };
        let once = |set: bool| {
            if set { Err(RuleError::new(format!("multiple `{tok}` options not allowed"))) } else { Ok(()) }
        };
        match tok {
            "-s" | "--source" | "--src" | "-d" | "--destination" | "--dst" => {
                let slot = if tok.starts_with("-s") || tok.starts_with("--s") { &mut r.src } else { &mut r.dst };
                once(slot.is_some())?;
                let (addr, mask) = parse_addr(a.value(tok)?)?;
                // `-s 0.0.0.0/0` is the same as no -s (iptables-save omits it).
                *slot = (mask != 0 || neg).then_some(AddrMatch { neg, addr, mask });
            }
            "-i" | "--in-interface" | "-o" | "--out-interface" => {
                let slot = if tok.starts_with("-i") || tok.starts_with("--i") { &mut r.in_if } else { &mut r.out_if };
                once(slot.is_some())?;
                let name = a.value(tok)?;
                check_ifname(name)?;
                *slot = Some(IfMatch { neg, name: name.to_string() });
            }
            "-p" | "--protocol" => {
                once(r.proto.is_some())?;
                let p = parse_proto(a.value(tok)?)?;
                r.proto = (p != 0 || neg).then_some((neg, p));
            }
            "-m" | "--match" => {
                cant_negate(neg)?;
                r.matches.push(Match::load(a.value(tok)?)?);
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                cant_negate(neg)?;
                once(target_set)?;
                r.target = Target::from_name(a.value(tok)?, tok.starts_with("-g") || tok == "--goto")?;
                target_set = true;
            }
            "-c" | "--set-counters" => {
                cant_negate(neg)?;
                r.pkts = parse_u64(a.value(tok)?)?;
                r.bytes = parse_u64(a.value(tok)?)?;
            }
            "-f" | "--fragment" => return Err(RuleError::new("`-f` (fragment match) is not supported")),
            opt if opt.starts_with("--") => {
                if r.target.parse_opt(opt, &mut a, &mut target_opts)? {
                    cant_negate(neg)?;
                } else {
                    let idx = match r.matches.iter().rposition(|m| m.owns(opt)) {
                        Some(i) => i,
                        None => {
                            // iptables loads the protocol's match implicitly (`-p tcp --dport 80`).
                            let implicit = match r.proto {
                                Some((false, PROTO_TCP)) if TCP_OPTS.contains(&opt) => "tcp",
                                Some((false, PROTO_UDP)) if UDP_OPTS.contains(&opt) => "udp",
                                Some((false, PROTO_ICMP)) if opt == "--icmp-type" => "icmp",
                                _ => return Err(unknown_option(opt, &r)),
                            };
                            r.matches.push(Match::load(implicit)?);
                            r.matches.len() - 1
                        }
                    };
                    r.matches[idx].parse_opt(opt, neg, &mut a)?;
                }
            }
            other => return Err(RuleError::new(format!("unexpected argument `{other}`"))),
        }
        neg = false;
    }
    if neg {
        return Err(RuleError::new("`!` at the end of the rule, with nothing to negate"));
    }
    finish_rule(&r, &target_opts)?;
    r.render();
    Ok(r)
}

fn unknown_option(opt: &str, r: &Rule) -> RuleError {
    let hint = if TCP_OPTS.contains(&opt) || opt == "--icmp-type" {
        " (needs `-p tcp`, `-p udp` or `-p icmp` before it)"
    } else if r.target == Target::None
        && (opt.starts_with("--to-") || opt.contains("-mark") || opt.starts_with("--log-"))
    {
        " (target options come after `-j TARGET`)"
    } else {
        ""
    };
    RuleError::new(format!("unknown option `{opt}`{hint}"))
}

/// iptables' final checks of a whole rule.
fn finish_rule(r: &Rule, target_opts: &[String]) -> Result<(), RuleError> {
    let proto = match r.proto {
        Some((false, p)) => Some(p),
        _ => None,
    };
    for m in &r.matches {
        m.finish()?;
        let need = match m {
            Match::Tcp { .. } => Some(PROTO_TCP),
            Match::Udp { .. } => Some(PROTO_UDP),
            Match::Icmp { .. } => Some(PROTO_ICMP),
            _ => None,
        };
        if let Some(n) = need
            && proto != Some(n)
        {
            return Err(RuleError::new(format!("`-m {}` needs `-p {}`", m.name(), m.name())));
        }
    }
    let has = |o: &str| target_opts.iter().any(|s| s == o);
    let ports_ok = matches!(proto, Some(PROTO_TCP | PROTO_UDP));
    match &r.target {
        Target::Nat(NatTarget::Dnat(range)) => {
            if !has("--to-destination") {
                return Err(RuleError::new("DNAT needs `--to-destination IP[:PORT]`"));
            }
            if range.ports.is_some() && !ports_ok {
                return Err(RuleError::new("DNAT to a port needs `-p tcp` or `-p udp`"));
            }
        }
        Target::Nat(NatTarget::Snat(range)) => {
            if !has("--to-source") {
                return Err(RuleError::new("SNAT needs `--to-source IP[:PORT]`"));
            }
            if range.ports.is_some() && !ports_ok {
                return Err(RuleError::new("SNAT to a port needs `-p tcp` or `-p udp`"));
            }
        }
        Target::Nat(n @ (NatTarget::Masquerade(Some(_)) | NatTarget::Redirect(Some(_)))) if !ports_ok => {
            return Err(RuleError::new(format!("{} `--to-ports` needs `-p tcp` or `-p udp`", n.name())));
        }
        Target::Mark { mask: None, .. } => {
            return Err(RuleError::new("MARK needs one of --set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark"));
        }
        Target::Reject(RejectWith::TcpReset) if proto != Some(PROTO_TCP) => {
            return Err(RuleError::new("REJECT --reject-with tcp-reset is only valid with `-p tcp`"));
        }
        _ => {}
    }
    Ok(())
}

/// Splits a command line like iptables-restore does: whitespace separates, double or single
/// quotes group, a backslash escapes the next character.
pub(super) fn tokenize(s: &str) -> Result<Vec<String>, RuleError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_tok = false;
    let mut chars = s.chars();
    let unterminated = || RuleError::new(format!("unterminated quote in `{s}`"));
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_tok {
                    out.push(std::mem::take(&mut cur));
                    in_tok = false;
                }
            }
            '"' | '\'' => {
                in_tok = true;
                loop {
                    match chars.next() {
                        None => return Err(unterminated()),
                        Some(q) if q == c => break,
                        Some('\\') if c == '"' => cur.push(chars.next().ok_or_else(unterminated)?),
                        Some(x) => cur.push(x),
                    }
                }
            }
            '\\' => {
                in_tok = true;
                cur.push(chars.next().ok_or_else(|| RuleError::new(format!("trailing backslash in `{s}`")))?);
            }
            c => {
                in_tok = true;
                cur.push(c);
            }
        }
    }
    if in_tok {
        out.push(cur);
    }
    Ok(out)
}

/// `xtables_save_string`: bare when only `[A-Za-z0-9_-]`, else double-quoted with `"`, `\` and `'`
/// escaped.
fn save_string(out: &mut String, v: &str) {
    out.push(' ');
    if !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        out.push_str(v);
        return;
    }
    out.push('"');
    for c in v.chars() {
        if matches!(c, '"' | '\\' | '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Rejects what iptables rejects as a chain name.
pub(super) fn check_chain_name(name: &str) -> Result<(), RuleError> {
    if name.is_empty() {
        return Err(RuleError::new("empty chain name"));
    }
    if name.len() > 28 {
        return Err(RuleError::new(format!("chain name `{name}` too long (must be under 29 chars)")));
    }
    if name.starts_with('-') || name.starts_with('!') {
        return Err(RuleError::new(format!("invalid chain name `{name}` (must not start with `-` or `!`)")));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(RuleError::new(format!("invalid chain name `{name}` (whitespace)")));
    }
    Ok(())
}

fn check_ifname(name: &str) -> Result<(), RuleError> {
    let base = name.strip_suffix('+').unwrap_or(name);
    if name.is_empty()
        || name.len() > 15
        || base.contains('+')
        || name.starts_with('-')
        || name.starts_with('!')
        || name.contains('/')
    {
        return Err(RuleError::new(format!("bad interface name `{name}`")));
    }
    Ok(())
}

fn parse_u64(s: &str) -> Result<u64, RuleError> {
    s.parse().map_err(|_| RuleError::new(format!("bad counter value `{s}`")))
}

/// Packets and bytes.
pub(super) type Counters = (u64, u64);

/// `[pkts:bytes]`.
pub(super) fn parse_counters(s: &str) -> Result<(u64, u64), RuleError> {
    let bad = || RuleError::new(format!("bad counters `{s}` (expected [packets:bytes])"));
    let inner = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')).ok_or_else(bad)?;
    let (p, b) = inner.split_once(':').ok_or_else(bad)?;
    Ok((p.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?))
}

/// Splits a leading `[pkts:bytes] ` off an iptables-restore line.
pub(super) fn strip_counters(line: &str) -> Result<(Option<Counters>, &str), RuleError> {
    if !line.starts_with('[') {
        return Ok((None, line));
    }
    let end = line.find(']').ok_or_else(|| RuleError::new(format!("bad counters in `{line}`")))?;
    let c = parse_counters(&line[..=end])?;
    Ok((Some(c), line[end + 1..].trim_start()))
}

/// `a.b.c.d[/len|/mask]`, returned masked as iptables stores it.
fn parse_addr(s: &str) -> Result<(u32, u32), RuleError> {
    let bad = |why: &str| RuleError::new(format!("bad address `{s}`: {why}"));
    let (host, mask) = match s.split_once('/') {
        Some((h, m)) => (h, Some(m)),
        None => (s, None),
    };
    let addr: Ipv4Addr = if host == "0" {
        Ipv4Addr::UNSPECIFIED
    } else {
        host.parse().map_err(|_| bad("expected an IPv4 address like 10.0.0.1 (host names are not resolved)"))?
    };
    let mask = match mask {
        None => u32::MAX,
        Some(m) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) => match m.parse::<u32>() {
            Ok(0) => 0,
            Ok(n @ 1..=32) => u32::MAX << (32 - n),
            _ => return Err(bad("prefix length must be 0..=32")),
        },
        Some(m) => {
            let m: Ipv4Addr = m.parse().map_err(|_| bad("mask must be a prefix length or a dotted mask"))?;
            let m = u32::from(m);
            if m.leading_ones() + m.trailing_zeros() != 32 {
                return Err(bad("non-contiguous masks are not supported"));
            }
            m
        }
    };
    Ok((u32::from(addr) & mask, mask))
}

fn parse_proto(s: &str) -> Result<u8, RuleError> {
    let l = s.to_ascii_lowercase();
    if l == "all" {
        return Ok(0);
    }
    if let Some((_, n)) = PROTO_NAMES.iter().find(|(name, _)| *name == l) {
        return Ok(*n);
    }
    s.parse::<u8>().map_err(|_| RuleError::new(format!("unknown protocol `{s}`")))
}

fn parse_port(s: &str) -> Result<u16, RuleError> {
    s.parse::<u16>()
        .map_err(|_| RuleError::new(format!("invalid port `{s}` (a number 0-65535; service names are not resolved)")))
}

/// `lo<sep>hi` or a single port.
fn parse_port_pair(s: &str, sep: char) -> Result<(u16, u16), RuleError> {
    let (lo, hi) = match s.split_once(sep) {
        Some((lo, hi)) => (parse_port(lo)?, parse_port(hi)?),
        None => {
            let p = parse_port(s)?;
            (p, p)
        }
    };
    if lo > hi {
        return Err(RuleError::new(format!("invalid port range `{s}` (min > max)")));
    }
    Ok((lo, hi))
}

/// `--sport`/`--dport` value: `N`, `N:M`, `:M`, `N:`. The full range without `!` is no test at all
/// (iptables-save omits it).
/// `--length MIN[:MAX]` (`MIN:` up to 65535, `:MAX` from 0), as libxt_length takes it.
fn parse_length(s: &str, neg: bool) -> Result<Ports, RuleError> {
    let num = |v: &str, dflt: u16| -> Result<u16, RuleError> {
        if v.is_empty() {
            return Ok(dflt);
        }
        v.parse::<u16>().map_err(|_| RuleError::new(format!("length: invalid length `{s}`")))
    };
    let (lo, hi) = match s.split_once(':') {
        Some((lo, hi)) => (num(lo, 0)?, num(hi, u16::MAX)?),
        None => {
            let n = num(s, 0)?;
            (n, n)
        }
    };
    if lo > hi {
        return Err(RuleError::new(format!("length: invalid range `{s}` (min > max)")));
    }
    Ok(Ports { neg, lo, hi })
}

fn parse_ports(s: &str, neg: bool) -> Result<Option<Ports>, RuleError> {
    let (lo, hi) = match s.split_once(':') {
        Some((lo, hi)) => {
            (if lo.is_empty() { 0 } else { parse_port(lo)? }, if hi.is_empty() { u16::MAX } else { parse_port(hi)? })
        }
        None => {
            let p = parse_port(s)?;
            (p, p)
        }
    };
    if lo > hi {
        return Err(RuleError::new(format!("invalid port range `{s}` (min > max)")));
    }
    Ok((neg || lo != 0 || hi != u16::MAX).then_some(Ports { neg, lo, hi }))
}

fn parse_tcp_flags(s: &str) -> Result<u8, RuleError> {
    let mut v = 0;
    for f in s.split(',') {
        v |= match f.to_ascii_uppercase().as_str() {
            "ALL" => 0x3f,
            "NONE" => 0,
            u => TCP_FLAG_NAMES
                .iter()
                .find(|(n, _)| *n == u)
                .map(|(_, b)| *b)
                .ok_or_else(|| RuleError::new(format!("unknown TCP flag `{f}`")))?,
        };
    }
    Ok(v)
}

fn tcp_flags_str(v: u8) -> String {
    if v == 0 {
        return "NONE".to_string();
    }
    let names: Vec<&str> = TCP_FLAG_NAMES.iter().filter(|(_, b)| v & b != 0).map(|(n, _)| *n).collect();
    names.join(",")
}

fn parse_icmp_type(s: &str) -> Result<(u8, u8, u8), RuleError> {
    if let Some((_, t, lo, hi)) = ICMP_NAMES.iter().find(|(n, ..)| n.eq_ignore_ascii_case(s)) {
        return Ok((*t, *lo, *hi));
    }
    let bad = || RuleError::new(format!("invalid ICMP type `{s}`"));
    match s.split_once('/') {
        Some((t, c)) => {
            let c = c.parse::<u8>().map_err(|_| bad())?;
            Ok((t.parse::<u8>().map_err(|_| bad())?, c, c))
        }
        None => Ok((s.parse::<u8>().map_err(|_| bad())?, 0, 255)),
    }
}

fn parse_addrtypes(s: &str) -> Result<u16, RuleError> {
    let mut mask = 0;
    for t in s.split(',') {
        let b = ADDRTYPE_NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(t))
            .ok_or_else(|| RuleError::new(format!("addrtype: bad type `{t}`")))?;
        mask |= 1 << b;
    }
    Ok(mask)
}

fn parse_ct_states(s: &str, allow_nat: bool) -> Result<u8, RuleError> {
    let mut mask = 0;
    for t in s.split(',') {
        let b = CT_NAMES
            .iter()
            .filter(|(_, b)| allow_nat || *b & (ct_bits::SNAT | ct_bits::DNAT) == 0)
            .find(|(n, _)| n.eq_ignore_ascii_case(t))
            .map(|(_, b)| *b)
            .ok_or_else(|| RuleError::new(format!("bad conntrack state `{t}`")))?;
        mask |= b;
    }
    Ok(mask)
}

/// A number as strtoul(…, 0) reads it: `0x` hex, leading `0` octal, else decimal.
fn parse_u32_auto(s: &str) -> Option<u32> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u32::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// `value[/mask]`, mask defaulting to all ones.
fn parse_value_mask(s: &str) -> Result<(u32, u32), RuleError> {
    let bad = || RuleError::new(format!("bad mark value `{s}`"));
    match s.split_once('/') {
        Some((v, m)) => Ok((parse_u32_auto(v).ok_or_else(bad)?, parse_u32_auto(m).ok_or_else(bad)?)),
        None => Ok((parse_u32_auto(s).ok_or_else(bad)?, u32::MAX)),
    }
}

fn parse_log_level(s: &str) -> Result<u8, RuleError> {
    const LEVELS: [&str; 8] = ["emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"];
    match s {
        "err" => return Ok(3),
        "warn" => return Ok(4),
        "panic" => return Ok(0),
        _ => {}
    }
    if let Some(i) = LEVELS.iter().position(|l| *l == s) {
        return Ok(i as u8);
    }
    s.parse::<u8>().ok().filter(|l| *l <= 7).ok_or_else(|| RuleError::new(format!("bad log level `{s}`")))
}

/// `IP[-IP][:PORT[-PORT]]`.
fn parse_nat_range(s: &str) -> Result<NatRange, RuleError> {
    let (ips, ports) = match s.split_once(':') {
        Some((i, p)) => (i, Some(parse_port_pair(p, '-')?)),
        None => (s, None),
    };
    let ip = |t: &str| t.parse::<Ipv4Addr>().map_err(|_| RuleError::new(format!("bad NAT address `{t}` in `{s}`")));
    let (min_ip, max_ip) = match ips.split_once('-') {
        Some((a, b)) => (ip(a)?, ip(b)?),
        // A port without an address keeps the packet's address (Docker's `--to-source :53`).
        None if ips.is_empty() && ports.is_some() => (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED),
        None => (ip(ips)?, ip(ips)?),
    };
    if u32::from(min_ip) > u32::from(max_ip) {
        return Err(RuleError::new(format!("bad NAT address range `{ips}` (min > max)")));
    }
    Ok(NatRange { min_ip, max_ip, ports })
}
