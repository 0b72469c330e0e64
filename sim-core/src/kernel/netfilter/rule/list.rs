//! A rule as `iptables -L` prints it, in iptables 1.8.9 (nf_tables): the counters, target,
//! protocol and options columns (`print_rule_details` in iptables' `iptables/xshared.c`), the
//! interfaces under `-v` (`print_ifaces`), the addresses (`print_ipv4_addresses` in
//! `iptables/nft-ipv4.c`), then each match's and the target's own `print` (`extensions/
//! libxt_tcp.c`, `libxt_icmp.c`, `libxt_addrtype.c`, `libxt_MARK.c`, `libxt_LOG.c`…).
//! Hand-written: no crate prints iptables' listing. traces/kernel/iptables-list/ records each
//! form on the kernel, and sim-core/tests/iptables_list.rs replays it.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use super::{ICMP_NAMES, Match, NatTarget, PROTO_NAMES, Ports, Rule, Statistic, TCP_FLAG_NAMES, Target};

/// `iptables -L`'s options that change what it prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListFlags {
    /// `-n`: addresses, ports and protocols as numbers, no name looked up.
    pub numeric: bool,
    /// `-v`: counters, interfaces, and the policy's counters in the chain's header.
    pub verbose: bool,
    /// `-x`: counters exact, not in K, M, G.
    pub exact: bool,
    /// `--line-numbers`.
    pub line_numbers: bool,
}

/// What names an address: the machine's `/etc/hosts` lines (what gethostbyaddr(3) finds
/// without DNS; a container's address has no PTR record there and prints as a number).
pub struct Names<'a> {
    pub hosts: &'a [(Ipv4Addr, String)],
}

/// Debian's `/etc/networks` (netbase), which getnetbyaddr(3) reads: `127.0.0.0/8` prints as
/// `loopback/8`.
const NETWORKS: [(Ipv4Addr, &str); 3] = [
    (Ipv4Addr::new(0, 0, 0, 0), "default"),
    (Ipv4Addr::new(127, 0, 0, 0), "loopback"),
    (Ipv4Addr::new(169, 254, 0, 0), "link-local"),
];

/// syslog's level names as libxt_LOG prints them.
const LOG_LEVELS: [&str; 8] = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"];

/// `xtables_print_num`: `-x` gives the number in a column of eight (the header's `bytes`
/// title is ten wide all the same), otherwise up to 99999 in a column of five and above that
/// rounded to K, M, G, T in four and the letter.
pub(in crate::kernel::netfilter) fn num(n: u64, f: ListFlags, out: &mut String) {
    if f.exact {
        let _ = write!(out, "{n:>8} ");
        return;
    }
    if n <= 99_999 {
        let _ = write!(out, "{n:>5} ");
        return;
    }
    let mut n = n;
    for unit in ['K', 'M', 'G'] {
        n = (n + 500) / 1000;
        if n <= 9999 {
            let _ = write!(out, "{n:>4}{unit} ");
            return;
        }
    }
    let _ = write!(out, "{:>4}T ", (n + 500) / 1000);
}

/// The same number in a chain's header (`FMT_NOTABLE`: no column).
pub(in crate::kernel::netfilter) fn num_plain(n: u64, f: ListFlags) -> String {
    let mut s = String::new();
    num(n, f, &mut s);
    s.trim_start().to_string()
}

/// The column titles under a chain's header (`print_header`).
pub(in crate::kernel::netfilter) fn header(f: ListFlags) -> String {
    let mut s = String::new();
    if f.line_numbers {
        s.push_str("num  ");
    }
    if f.verbose {
        if f.exact {
            let _ = write!(s, "{:>8} {:>10} ", "pkts", "bytes");
        } else {
            let _ = write!(s, "{:>5} {:>5} ", "pkts", "bytes");
        }
    }
    s.push_str("target     prot opt");
    if f.verbose {
        let _ = write!(s, " {:<6} {:<6} ", "in", "out");
    }
    let _ = write!(s, " {:<19}  {:<19} ", "source", "destination");
    s
}

/// The service /etc/services names for a port, the first one listed.
fn service(port: u16, proto: &str) -> Option<&'static str> {
    static SERVICES: &str = include_str!("../services.txt");
    SERVICES.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (pp, name) = l.split_once(' ')?;
        let (p, pr) = pp.split_once('/')?;
        (pr == proto && p.parse() == Ok(port)).then_some(name)
    })
}

fn port(p: u16, proto: &str, numeric: bool) -> String {
    match service(p, proto).filter(|_| !numeric) {
        Some(name) => name.to_string(),
        None => p.to_string(),
    }
}

/// libxt_tcp's and libxt_udp's `print_ports`: nothing for the whole range.
fn ports(out: &mut String, name: &str, p: &Option<Ports>, proto: &str, numeric: bool) {
    let Some(p) = p else { return };
    if p.lo == 0 && p.hi == u16::MAX && !p.neg {
        return;
    }
    let inv = if p.neg { "!" } else { "" };
    if p.lo == p.hi {
        let _ = write!(out, " {name}:{inv}{}", port(p.lo, proto, numeric));
    } else {
        let _ = write!(out, " {name}s:{inv}{}:{}", port(p.lo, proto, numeric), port(p.hi, proto, numeric));
    }
}

fn tcp_flags(v: u8, numeric: bool) -> String {
    if numeric {
        return format!("0x{v:02X}");
    }
    if v == 0 {
        return "NONE".into();
    }
    TCP_FLAG_NAMES.iter().filter(|(_, b)| v & b != 0).map(|(n, _)| *n).collect::<Vec<_>>().join(",")
}

/// `xtables_ipmask_to_numeric`: nothing for a host, `/N` for a prefix, else the mask dotted.
fn mask(m: u32) -> String {
    if m == u32::MAX {
        String::new()
    } else if m.leading_ones() + m.trailing_zeros() == 32 {
        format!("/{}", m.count_ones())
    } else {
        format!("/{}", Ipv4Addr::from(m))
    }
}

impl Rule {
    /// The target's column: its name, empty for a rule without one.
    fn target_name(&self) -> &str {
        match &self.target {
            Target::None => "",
            Target::Accept => "ACCEPT",
            Target::Drop => "DROP",
            Target::Return => "RETURN",
            Target::Jump(c) | Target::Goto(c) => c,
            Target::Reject(_) => "REJECT",
            Target::Nat(n) => n.name(),
            Target::Mark { .. } => "MARK",
            Target::Log { .. } => "LOG",
        }
    }

    /// One line of `iptables -L` for this rule, the `num`th of its chain, without its newline.
    pub(in crate::kernel::netfilter) fn list_line(&self, num: usize, f: ListFlags, names: &Names<'_>) -> String {
        let mut out = String::new();
        if f.line_numbers {
            let _ = write!(out, "{num:<4} ");
        }
        if f.verbose {
            self::num(self.pkts, f, &mut out);
            self::num(self.bytes, f, &mut out);
        }
        let _ = write!(out, "{:<9} ", self.target_name());
        let (neg, proto) = self.proto.unwrap_or((false, 0));
        out.push(if neg { '!' } else { ' ' });
        // iptables 1.8.9 prints the protocol's number under -n, `0` for any.
        let pname = match PROTO_NAMES.iter().find(|(_, n)| *n == proto) {
            _ if f.numeric => proto.to_string(),
            Some((name, _)) => (*name).to_string(),
            None if proto == 0 => "all".into(),
            None => proto.to_string(),
        };
        let _ = write!(out, "{pname:<5}-- ");
        if f.verbose {
            let iface = |m: &Option<super::IfMatch>| match m {
                Some(m) => format!("{}{}", if m.neg { "!" } else { "" }, m.name),
                None if f.numeric => "*".into(),
                None => "any".into(),
            };
            let _ = write!(out, " {:<6} {:<6} ", iface(&self.in_if), iface(&self.out_if));
        }
        for a in [&self.src, &self.dst] {
            let (neg, addr, m) = a.as_ref().map_or((false, 0, 0), |a| (a.neg, a.addr, a.mask));
            out.push(if neg { '!' } else { ' ' });
            let text = if m == 0 && !f.numeric {
                "anywhere".to_string()
            } else {
                let ip = Ipv4Addr::from(addr);
                let name = (!f.numeric)
                    .then(|| {
                        names
                            .hosts
                            .iter()
                            .find(|(h, _)| *h == ip)
                            .map(|(_, n)| n.as_str())
                            .or_else(|| NETWORKS.iter().find(|(n, _)| *n == ip).map(|(_, n)| *n))
                    })
                    .flatten();
                format!("{}{}", name.map_or_else(|| ip.to_string(), str::to_string), mask(m))
            };
            let _ = write!(out, "{text:<19} ");
        }
        if matches!(self.target, Target::Goto(_)) {
            out.push_str("[goto] ");
        }
        for m in &self.matches {
            m.list(&mut out, f.numeric);
        }
        self.target.list(&mut out, f.numeric);
        out
    }
}

impl Match {
    fn list(&self, out: &mut String, numeric: bool) {
        let bang = |neg: bool| if neg { "!" } else { "" };
        match self {
            Match::Tcp { sport, dport, flags } => {
                out.push_str(" tcp");
                ports(out, "spt", sport, "tcp", numeric);
                ports(out, "dpt", dport, "tcp", numeric);
                if let Some((neg, m, c)) = flags {
                    let _ = write!(out, " flags:{}{}/{}", bang(*neg), tcp_flags(*m, numeric), tcp_flags(*c, numeric));
                }
            }
            Match::Udp { sport, dport } => {
                out.push_str(" udp");
                ports(out, "spt", sport, "udp", numeric);
                ports(out, "dpt", dport, "udp", numeric);
            }
            Match::Icmp { neg, ty, code_lo, code_hi } => {
                out.push_str(" icmp");
                let name = ICMP_NAMES.iter().find(|(_, t, lo, hi)| (t, lo, hi) == (ty, code_lo, code_hi));
                match name.filter(|_| !numeric) {
                    Some((n, ..)) => {
                        let _ = write!(out, " {}{n}", bang(*neg));
                    }
                    None => {
                        if *neg {
                            out.push_str(" !");
                        }
                        let _ = write!(out, "type {ty}");
                        if code_lo == code_hi {
                            let _ = write!(out, " code {code_lo}");
                        } else if *code_lo != 0 || *code_hi != u8::MAX {
                            let _ = write!(out, " codes {code_lo}-{code_hi}");
                        }
                    }
                }
            }
            Match::AddrType { src, dst, limit_in, limit_out } => {
                out.push_str(" ADDRTYPE match");
                for (what, v) in [("src-type", src), ("dst-type", dst)] {
                    if let Some((neg, mask)) = v {
                        let _ = write!(out, " {what} {}{}", bang(*neg), super::addrtype_names(*mask));
                    }
                }
                if *limit_in {
                    out.push_str(" limit-in");
                }
                if *limit_out {
                    out.push_str(" limit-out");
                }
            }
            Match::State { state } => {
                if let Some((neg, mask)) = state {
                    if *neg {
                        out.push_str(" !");
                    }
                    let _ = write!(out, " state {}", super::ct_names(*mask));
                }
            }
            Match::Conntrack(ct) => ct.dump(out, "ct", numeric),
            // libxt_iprange's print.
            Match::IpRange { src, dst } => {
                for (what, r) in [("source", src), ("destination", dst)] {
                    if let Some((neg, lo, hi)) = r {
                        let _ = write!(
                            out,
                            " {what} IP range{} {}-{}",
                            if *neg { " !" } else { "" },
                            Ipv4Addr::from(*lo),
                            Ipv4Addr::from(*hi)
                        );
                    }
                }
            }
            Match::Mark { mark } => {
                if let Some((neg, v, m)) = mark {
                    let _ = write!(out, " mark match {}{v:#x}", if *neg { "! " } else { "" });
                    if *m != u32::MAX {
                        let _ = write!(out, "/{m:#x}");
                    }
                }
            }
            Match::Ipvs { ipvs } => {
                if let Some(neg) = ipvs {
                    let _ = write!(out, "{} ipvs", if *neg { " !" } else { "" });
                }
            }
            Match::Comment(c) => {
                if let Some(c) = c {
                    let _ = write!(out, " /* {c} */");
                }
            }
            Match::Length { len } => {
                if let Some(r) = len {
                    let _ = write!(out, " length {}{}", bang(r.neg), r.lo);
                    if r.hi != r.lo {
                        let _ = write!(out, ":{}", r.hi);
                    }
                }
            }
            Match::Statistic { mode, invert, every, packet, probability, .. } => {
                let inv = if *invert { " !" } else { "" };
                match mode {
                    Some(Statistic::Random) => {
                        let p = f64::from(probability.unwrap_or(0)) / f64::from(0x8000_0000u32);
                        let _ = write!(out, " statistic mode random{inv} probability {p:.11}");
                    }
                    _ => {
                        let _ = write!(out, " statistic mode nth{inv} every {}", every.unwrap_or(1));
                        if let Some(p) = packet.filter(|p| *p != 0) {
                            let _ = write!(out, " packet {p}");
                        }
                    }
                }
            }
        }
    }
}

impl Target {
    fn list(&self, out: &mut String, numeric: bool) {
        match self {
            Target::Reject(w) => {
                let _ = write!(out, " reject-with {w}");
            }
            Target::Nat(NatTarget::Dnat(r) | NatTarget::Snat(r)) => {
                let _ = write!(out, " to:{r}");
            }
            Target::Nat(NatTarget::Masquerade(Some((lo, hi)))) => {
                let _ = write!(out, " masq ports: {lo}");
                if hi != lo {
                    let _ = write!(out, "-{hi}");
                }
            }
            Target::Nat(NatTarget::Redirect(Some((lo, hi)))) => {
                let _ = write!(out, " redir ports {lo}");
                if hi != lo {
                    let _ = write!(out, "-{hi}");
                }
            }
            // libxt_MARK's `mark_tg_print`: the shortest word for what the mask does.
            Target::Mark { value, mask } => {
                let m = mask.unwrap_or(u32::MAX);
                let _ = if *value == 0 {
                    write!(out, " MARK and {:#x}", !m)
                } else if *value == m {
                    write!(out, " MARK or {value:#x}")
                } else if m == 0 {
                    write!(out, " MARK xor {value:#x}")
                } else if m == u32::MAX {
                    write!(out, " MARK set {value:#x}")
                } else {
                    write!(out, " MARK xset {value:#x}/{m:#x}")
                };
            }
            Target::Log { prefix, level } => {
                if numeric {
                    let _ = write!(out, " LOG flags 0 level {level}");
                } else {
                    let name = LOG_LEVELS.get(usize::from(*level)).copied().unwrap_or("?");
                    let _ = write!(out, " LOG level {name}");
                }
                if let Some(p) = prefix.as_deref().filter(|p| !p.is_empty()) {
                    let _ = write!(out, " prefix \"{p}\"");
                }
            }
            _ => {}
        }
    }
}
