//! Connection tracking (`nf_conntrack`) with NAT bindings (`nf_nat`).
//!
//! A connection has two tuples, as seen in the original and in the reply direction. NAT is
//! expressed, as in Linux, by changing the reply tuple: DNAT changes its source, SNAT its
//! destination. Every packet is then translated by the generic rule of `nf_nat_packet`: at a
//! DST-manip hook (PREROUTING, OUTPUT) or SRC-manip hook (INPUT, POSTROUTING), if the connection
//! has the matching NAT status for this direction, the packet's destination (source) becomes
//! that of the inverted tuple of the other direction.
//!
//! Simplifications (documented choices):
//! * TCP: a reduced state machine (SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSE_WAIT,
//!   LAST_ACK, TIME_WAIT, CLOSE) without window tracking. As with Linux' default
//!   `nf_conntrack_tcp_loose=1`, a pure ACK without entry picks the connection up (NEW, TCP state
//!   ESTABLISHED); a SYN-ACK, RST or FIN without entry is INVALID. A SYN reopens a connection in
//!   TIME_WAIT or CLOSE.
//! * UDP: 30 s, refreshed by every packet; a packet after the reply that comes more than 2 s
//!   after the first makes it a stream: 120 s and ASSURED (`nf_conntrack_udp_packet`,
//!   net/netfilter/nf_conntrack_proto_udp.c). A lone query and its answer stay unassured.
//! * ICMP: echo request/reply tracked by identifier (30 s); other non-error ICMP is INVALID;
//!   errors are RELATED to the connection of the embedded packet, or INVALID.
//! * No defragmentation: non-first fragments of TCP/UDP/ICMP are INVALID.
//! * Other protocols: tracked by addresses, 600 s.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use super::nat::{self, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, Manip, PROTO_ICMP, PROTO_TCP, PROTO_UDP, PktInfo};
use super::rule::{NatTarget, ct_bits};
use super::{Endpoint, Hook, HookCtx, Ipv4Addr, NatField, NoteKind};

const SEC: u64 = 1_000_000_000;

/// Where SNAT/MASQUERADE look for a free source port when the original one is taken (the
/// default `ip_local_port_range`; chosen in order, so deterministically).
const PORT_POOL: std::ops::RangeInclusive<u16> = 32768..=60999;

/// A connection as a note names it: `tcp 10.0.0.9:4000 → 10.0.0.5:8080 (reply 172.17.0.2:80 →
/// 10.0.0.9:4000)`, the reply shown only where NAT made it differ from the inverse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnDesc {
    orig: Tuple,
    reply: Tuple,
}

impl fmt::Display for ConnDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let icmp = self.orig.proto == PROTO_ICMP;
        let ep = |f: &mut fmt::Formatter<'_>, (a, p): (Ipv4Addr, u16)| {
            let a = crate::wire::Dotted(a);
            if p == 0 && !icmp { write!(f, "{a}") } else { write!(f, "{a}:{p}") }
        };
        let (o, r) = (self.orig, self.reply);
        write!(f, "{} ", proto_name(o.proto))?;
        ep(f, o.src_ep())?;
        f.write_str(" → ")?;
        ep(f, o.dst_ep())?;
        if r != o.invert() {
            f.write_str(" (reply ")?;
            ep(f, r.src_ep())?;
            f.write_str(" → ")?;
            ep(f, r.dst_ep())?;
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// One direction of a connection. ICMP echo: `sport` is the identifier, `dport` the type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct Tuple {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
}

impl Tuple {
    fn of(i: &PktInfo) -> Tuple {
        let (sport, dport) = match i.proto {
            PROTO_TCP | PROTO_UDP => (i.sport, i.dport),
            PROTO_ICMP => (i.sport, u16::from(i.icmp_type)),
            _ => (0, 0),
        };
        Tuple { src: i.src, dst: i.dst, sport, dport, proto: i.proto }
    }

    /// The tuple of a packet going the other way (`nf_ct_invert_tuple`).
    pub(super) fn invert(&self) -> Tuple {
        match self.proto {
            PROTO_ICMP => Tuple {
                src: self.dst,
                dst: self.src,
                sport: self.sport,
                dport: if self.dport == u16::from(ICMP_ECHO_REQUEST) {
                    u16::from(ICMP_ECHO_REPLY)
                } else {
                    u16::from(ICMP_ECHO_REQUEST)
                },
                proto: self.proto,
            },
            _ => Tuple { src: self.dst, dst: self.src, sport: self.dport, dport: self.sport, proto: self.proto },
        }
    }

    fn has_ports(&self) -> bool {
        matches!(self.proto, PROTO_TCP | PROTO_UDP)
    }

    fn src_ep(&self) -> Endpoint {
        (self.src, if self.has_ports() || self.proto == PROTO_ICMP { self.sport } else { 0 })
    }

    fn dst_ep(&self) -> Endpoint {
        let port = match self.proto {
            PROTO_TCP | PROTO_UDP => self.dport,
            PROTO_ICMP => self.sport,
            _ => 0,
        };
        (self.dst, port)
    }

    /// `conntrack -L` form of the tuple.
    fn list(&self) -> String {
        match self.proto {
            PROTO_TCP | PROTO_UDP => {
                format!("src={} dst={} sport={} dport={}", self.src, self.dst, self.sport, self.dport)
            }
            PROTO_ICMP => format!("src={} dst={} type={} code=0 id={}", self.src, self.dst, self.dport, self.sport),
            _ => format!("src={} dst={}", self.src, self.dst),
        }
    }
}

fn proto_name(p: u8) -> &'static str {
    match p {
        PROTO_TCP => "tcp",
        PROTO_UDP => "udp",
        PROTO_ICMP => "icmp",
        _ => "unknown",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dir {
    Original,
    Reply,
}

impl Dir {
    fn idx(self) -> usize {
        self as usize
    }

    pub(super) fn other(self) -> Dir {
        match self {
            Dir::Original => Dir::Reply,
            Dir::Reply => Dir::Original,
        }
    }
}

/// `enum ip_conntrack_info`, as the state match sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CtInfo {
    New,
    Established,
    Related,
}

impl CtInfo {
    pub(super) fn name(self) -> &'static str {
        match self {
            CtInfo::New => "NEW",
            CtInfo::Established => "ESTABLISHED",
            CtInfo::Related => "RELATED",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TcpState {
    None,
    SynSent,
    SynRecv,
    Established,
    FinWait,
    CloseWait,
    LastAck,
    TimeWait,
    Close,
}

impl TcpState {
    fn name(self) -> &'static str {
        match self {
            TcpState::None => "NONE",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
        }
    }

    /// Linux' default `nf_conntrack_tcp_timeout_*`, in seconds.
    fn timeout(self) -> u64 {
        match self {
            TcpState::SynSent => 120,
            TcpState::SynRecv => 60,
            TcpState::Established => 432_000,
            TcpState::FinWait => 120,
            TcpState::CloseWait => 60,
            TcpState::LastAck => 30,
            TcpState::TimeWait => 120,
            TcpState::Close | TcpState::None => 10,
        }
    }
}

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// One tracked connection.
#[derive(Clone, Debug)]
pub(super) struct Conn {
    /// Original and reply tuple (the reply tuple carries the NAT binding).
    tuples: [Tuple; 2],
    seen_reply: bool,
    assured: bool,
    tcp: TcpState,
    fin_seen: [bool; 2],
    /// The nat table was consulted for this manip type (`nf_nat_initialized`), by `Manip::idx`.
    nat_done: [bool; 2],
    /// IPVS altered the reply tuple (`ip_vs_update_conntrack`): the different reply source is
    /// IPVS's doing, not a DNAT binding (no IPS_DST_NAT), so nf_nat leaves those packets alone.
    ipvs: bool,
    expires_ns: u64,
    /// UDP: after this, a packet of a connection that has had its reply makes it a stream
    /// (`ct->proto.udp.stream_ts`: 2 s after the first packet).
    stream_ns: u64,
}

impl Conn {
    /// The connection as `-m conntrack` sees it, for a packet travelling the reply way or not.
    pub(super) fn view(&self, reply: bool) -> super::rule::CtView {
        let t = |t: &Tuple| (t.src, t.dst, t.sport, t.dport);
        let o = &self.tuples[0];
        super::rule::CtView { tuples: [t(o), t(&self.tuples[1])], proto: o.proto, has_ports: o.has_ports(), reply }
    }

    fn new(t: Tuple, tcp: TcpState) -> Conn {
        Conn {
            tuples: [t, t.invert()],
            seen_reply: false,
            assured: false,
            tcp,
            fin_seen: [false; 2],
            nat_done: [false; 2],
            ipvs: false,
            expires_ns: 0,
            stream_ns: 0,
        }
    }

    /// `nf_conntrack_alter_reply` for IPVS: replies come from the real server.
    pub(super) fn set_reply_src(&mut self, real: (Ipv4Addr, u16)) {
        self.ipvs = true;
        let r = &mut self.tuples[1];
        r.src = real.0;
        if r.proto == PROTO_TCP || r.proto == PROTO_UDP {
            r.sport = real.1;
        }
    }

    fn orig(&self) -> &Tuple {
        &self.tuples[0]
    }

    fn reply(&self) -> &Tuple {
        &self.tuples[1]
    }

    /// IPS_SRC_NAT: the reply goes to another source than the original came from.
    fn src_nat(&self) -> bool {
        self.orig().src_ep() != self.reply().dst_ep()
    }

    /// IPS_DST_NAT: the reply comes from another destination than the original went to.
    fn dst_nat(&self) -> bool {
        !self.ipvs && self.orig().dst_ep() != self.reply().src_ep()
    }

    pub(super) fn nat_bits(&self) -> u8 {
        (if self.src_nat() { ct_bits::SNAT } else { 0 }) | (if self.dst_nat() { ct_bits::DNAT } else { 0 })
    }

    pub(super) fn nat_done(&self, m: Manip) -> bool {
        self.nat_done[m.idx()]
    }

    pub(super) fn set_nat_done(&mut self, m: Manip) {
        self.nat_done[m.idx()] = true;
    }

    fn timeout_s(&self) -> u64 {
        match self.orig().proto {
            PROTO_TCP => self.tcp.timeout(),
            PROTO_UDP if self.assured => 120,
            PROTO_UDP | PROTO_ICMP => 30,
            _ => 600,
        }
    }

    /// What a note keeps of the connection: its two tuples.
    pub(super) fn describe(&self) -> ConnDesc {
        ConnDesc { orig: *self.orig(), reply: *self.reply() }
    }

    /// Does the binding rewrite packets of direction `dir` at manip type `m`? (`nf_nat_packet`)
    fn nat_applies(&self, dir: Dir, m: Manip) -> bool {
        match (m, dir) {
            (Manip::Src, Dir::Original) | (Manip::Dst, Dir::Reply) => self.src_nat(),
            (Manip::Dst, Dir::Original) | (Manip::Src, Dir::Reply) => self.dst_nat(),
        }
    }

    /// Applies the binding to a packet of direction `dir` at a hook of manip type `m`.
    pub(super) fn manip(&self, pkt: &mut [u8], _info: &PktInfo, dir: Dir, m: Manip) -> Option<NoteKind> {
        if !self.nat_applies(dir, m) {
            return None;
        }
        let target = self.tuples[dir.other().idx()].invert();
        let (from, to) = nat::manip_ip(pkt, &target, m)?;
        let field = if m == Manip::Src { NatField::Src } else { NatField::Dst };
        Some(match dir {
            Dir::Original => NoteKind::NatBinding { field, from, to },
            Dir::Reply => NoteKind::ReverseNat { field, from, to },
        })
    }

    /// `nf_nat_icmp_reply_translation`: an ICMP error about this connection travelling in `dir`.
    /// The embedded packet (which went the other way) gets the opposite manip, the outer header the
    /// normal one; then the ICMP checksum is recomputed.
    pub(super) fn icmp_reply_translation(
        &self,
        pkt: &mut [u8],
        info: &PktInfo,
        dir: Dir,
        m: Manip,
    ) -> Option<NoteKind> {
        if !self.nat_applies(dir, m) || info.end < info.ihl + 8 + 20 {
            return None;
        }
        let other = self.tuples[dir.other().idx()];
        let inner = nat::manip_ip(&mut pkt[info.ihl + 8..info.end], &other, m.invert());
        nat::fix_icmp_checksum(pkt, info);
        let outer = nat::manip_ip(pkt, &other.invert(), m);
        let field = if m == Manip::Src { NatField::Src } else { NatField::Dst };
        let (from, to) = match outer {
            Some((f, t)) => (f.0, t.0),
            None => {
                let a = if m == Manip::Src { info.src } else { info.dst };
                (a, a)
            }
        };
        let (inner_from, inner_to) = inner.unwrap_or(((Ipv4Addr::UNSPECIFIED, 0), (Ipv4Addr::UNSPECIFIED, 0)));
        (outer.is_some() || inner.is_some()).then_some(NoteKind::RelatedNat { field, from, to, inner_from, inner_to })
    }

    /// TCP state update for a packet of a known connection (simplified `tcp_packet`).
    fn tcp_update(&mut self, dir: Dir, flags: u8) {
        use TcpState as S;
        self.tcp = if flags & RST != 0 {
            S::Close
        } else if flags & SYN != 0 && flags & ACK != 0 {
            if dir == Dir::Reply && self.tcp == S::SynSent { S::SynRecv } else { self.tcp }
        } else if flags & SYN != 0 {
            self.tcp
        } else if flags & FIN != 0 {
            self.fin_seen[dir.idx()] = true;
            if self.fin_seen == [true, true] {
                S::LastAck
            } else if dir == Dir::Original {
                S::FinWait
            } else {
                S::CloseWait
            }
        } else if flags & ACK != 0 {
            match self.tcp {
                S::SynRecv if dir == Dir::Original => S::Established,
                S::LastAck => S::TimeWait,
                s => s,
            }
        } else {
            self.tcp
        };
        if self.tcp == S::Established && self.seen_reply {
            self.assured = true;
        }
    }
}

/// Result of `nf_conntrack_in` for one packet.
pub(super) enum Classified {
    Invalid(&'static str),
    New(Box<Conn>),
    Tracked { id: u64, dir: Dir, info: CtInfo, first_reply: bool },
}

/// The conntrack table: both tuples of each connection point to it.
#[derive(Clone, Debug, Default)]
pub(super) struct Conntrack {
    map: HashMap<Tuple, (u64, Dir)>,
    /// By id, so listing is in creation order (deterministic).
    conns: BTreeMap<u64, Conn>,
    next_id: u64,
    now_ns: u64,
    next_gc_ns: u64,
}

impl Conntrack {
    pub(super) fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    pub(super) fn get(&self, id: u64) -> Option<&Conn> {
        self.conns.get(&id)
    }

    /// Moves the clock; once per simulated second, drops expired entries.
    pub(super) fn advance(&mut self, now_ns: u64) {
        self.now_ns = self.now_ns.max(now_ns);
        if self.now_ns >= self.next_gc_ns {
            self.next_gc_ns = self.now_ns.saturating_add(SEC);
            let now = self.now_ns;
            let dead: Vec<u64> = self.conns.iter().filter(|(_, c)| c.expires_ns <= now).map(|(id, _)| *id).collect();
            for id in dead {
                self.remove(id);
            }
        }
    }

    /// `nf_conntrack_tcp_set_closing` (net/netfilter/nf_conntrack_proto_tcp.c), after REJECT
    /// answered a segment of this connection with a RST: the entry goes to CLOSE and expires
    /// after CLOSE's timeout, unless it was in CLOSE already.
    pub(super) fn set_closing(&mut self, id: u64, now_ns: u64) {
        if let Some(c) = self.conns.get_mut(&id)
            && c.orig().proto == PROTO_TCP
            && c.tcp != TcpState::Close
        {
            c.tcp = TcpState::Close;
            c.expires_ns = now_ns.saturating_add(TcpState::Close.timeout() * SEC);
        }
    }

    fn remove(&mut self, id: u64) {
        if let Some(c) = self.conns.remove(&id) {
            for t in &c.tuples {
                if self.map.get(t).is_some_and(|(i, _)| *i == id) {
                    self.map.remove(t);
                }
            }
        }
    }

    /// Looks a tuple up, treating expired entries as gone (timeouts are evaluated lazily).
    fn lookup(&mut self, t: &Tuple) -> Option<(u64, Dir)> {
        let (id, dir) = *self.map.get(t)?;
        match self.conns.get(&id) {
            Some(c) if c.expires_ns > self.now_ns => Some((id, dir)),
            _ => {
                self.remove(id);
                self.map.remove(t);
                None
            }
        }
    }

    /// `nf_conntrack_in`: classifies the packet, updating the connection it belongs to.
    pub(super) fn classify(&mut self, pkt: &[u8], info: &PktInfo, now_ns: u64) -> Classified {
        if matches!(info.proto, PROTO_TCP | PROTO_UDP | PROTO_ICMP) && !info.l4_ok {
            return Classified::Invalid("no complete transport header (truncated, or a non-first fragment)");
        }
        if info.proto == PROTO_ICMP && nat::is_icmp_error(info.icmp_type) {
            return self.classify_icmp_error(pkt, info);
        }
        if info.proto == PROTO_ICMP && !matches!(info.icmp_type, ICMP_ECHO_REQUEST | ICMP_ECHO_REPLY) {
            return Classified::Invalid("ICMP type not tracked by conntrack");
        }
        let t = Tuple::of(info);
        let flags = info.tcp_flags;
        if let Some((id, dir)) = self.lookup(&t) {
            let reopen = info.proto == PROTO_TCP
                && dir == Dir::Original
                && flags & (SYN | ACK | RST) == SYN
                && self.conns.get(&id).is_some_and(|c| matches!(c.tcp, TcpState::TimeWait | TcpState::Close));
            if reopen {
                self.remove(id);
            } else if let Some(c) = self.conns.get_mut(&id) {
                let info_state = if dir == Dir::Reply || c.seen_reply { CtInfo::Established } else { CtInfo::New };
                let first_reply = dir == Dir::Reply && !c.seen_reply;
                // Before this packet's reply bit is set: the first reply itself is not a stream's.
                if c.orig().proto == PROTO_UDP && c.seen_reply && now_ns > c.stream_ns {
                    c.assured = true;
                }
                if dir == Dir::Reply {
                    c.seen_reply = true;
                    if !matches!(c.orig().proto, PROTO_TCP | PROTO_ICMP | PROTO_UDP) {
                        c.assured = true;
                    }
                }
                if c.orig().proto == PROTO_TCP {
                    c.tcp_update(dir, flags);
                }
                c.expires_ns = now_ns.saturating_add(c.timeout_s() * SEC);
                return Classified::Tracked { id, dir, info: info_state, first_reply };
            }
        }
        let tcp = match info.proto {
            PROTO_TCP if flags & (SYN | ACK | RST | FIN) == SYN => TcpState::SynSent,
            // nf_conntrack_tcp_loose: pick up an established connection from a pure ACK.
            PROTO_TCP if flags & (SYN | RST | FIN) == 0 && flags & ACK != 0 => TcpState::Established,
            PROTO_TCP => return Classified::Invalid("TCP packet that cannot start a connection (no SYN, no entry)"),
            PROTO_ICMP if info.icmp_type != ICMP_ECHO_REQUEST => {
                return Classified::Invalid("ICMP echo reply without a request");
            }
            _ => TcpState::None,
        };
        Classified::New(Box::new(Conn::new(t, tcp)))
    }

    /// An ICMP error is RELATED to the connection of the packet it quotes (`nf_conntrack_inet_error`).
    fn classify_icmp_error(&mut self, pkt: &[u8], info: &PktInfo) -> Classified {
        let Some(inner) = pkt.get(info.ihl + 8..info.end).and_then(|b| nat::parse_hdr(b, true)) else {
            return Classified::Invalid("ICMP error without a complete embedded header");
        };
        if inner.proto == PROTO_ICMP && !matches!(inner.icmp_type, ICMP_ECHO_REQUEST | ICMP_ECHO_REPLY) {
            return Classified::Invalid("ICMP error about an untracked ICMP message");
        }
        if matches!(inner.proto, PROTO_TCP | PROTO_UDP | PROTO_ICMP) && !inner.l4_ok {
            return Classified::Invalid("ICMP error without 8 bytes of the embedded transport header");
        }
        // The quoted packet went the other way: its inverted tuple is the one this error travels in.
        match self.lookup(&Tuple::of(&inner).invert()) {
            Some((id, dir)) => Classified::Tracked { id, dir, info: CtInfo::Related, first_reply: false },
            None => Classified::Invalid("ICMP error about no tracked connection"),
        }
    }

    /// `nf_conntrack_confirm`. None when a connection with one of these tuples already exists.
    pub(super) fn confirm(&mut self, mut conn: Conn, now_ns: u64) -> Option<u64> {
        if self.lookup(&conn.tuples[0]).is_some() || self.lookup(&conn.tuples[1]).is_some() {
            return None;
        }
        // A path that skipped a nat hook gets the null binding, like Linux at confirm time.
        conn.nat_done = [true; 2];
        conn.expires_ns = now_ns.saturating_add(conn.timeout_s() * SEC);
        conn.stream_ns = now_ns.saturating_add(2 * SEC);
        let id = self.next_id;
        self.next_id += 1;
        self.map.insert(conn.tuples[0], (id, Dir::Original));
        self.map.insert(conn.tuples[1], (id, Dir::Reply));
        self.conns.insert(id, conn);
        Some(id)
    }

    /// Whether a reply tuple is taken (`nf_nat_used_tuple`).
    fn used(&mut self, reply: &Tuple) -> bool {
        self.lookup(reply).is_some()
    }

    /// Sets up the binding of a NAT target on a new connection (`nf_nat_setup_info`). Returns the
    /// note, or None when there is no address to use (the packet is then dropped, as Linux does).
    pub(super) fn bind(
        &mut self,
        conn: &mut Conn,
        target: &NatTarget,
        hook: Hook,
        ctx: &HookCtx<'_>,
    ) -> Option<NoteKind> {
        let orig = *conn.orig();
        match target {
            NatTarget::Dnat(_) | NatTarget::Redirect(_) => {
                let (ip, ports) = match target {
                    NatTarget::Dnat(r) if r.min_ip.is_unspecified() => (orig.dst, r.ports),
                    NatTarget::Dnat(r) => (r.min_ip, r.ports),
                    NatTarget::Redirect(p) if hook == Hook::Output => (Ipv4Addr::LOCALHOST, *p),
                    NatTarget::Redirect(p) => (ctx.in_if.and_then(|d| (ctx.if_primary_addr)(d))?, *p),
                    _ => return None,
                };
                let from = orig.dst_ep();
                let mut reply = *conn.reply();
                reply.src = ip;
                if reply.has_ports()
                    && let Some((lo, hi)) = ports
                {
                    reply.sport = lo;
                    for p in lo..=hi {
                        let cand = Tuple { sport: p, ..reply };
                        if !self.used(&cand) {
                            reply = cand;
                            break;
                        }
                    }
                }
                conn.tuples[1] = reply;
                let to = reply.src_ep();
                Some(match target {
                    NatTarget::Dnat(_) => NoteKind::Dnat { from, to },
                    _ => NoteKind::Redirect { from, to },
                })
            }
            NatTarget::Snat(_) | NatTarget::Masquerade(_) => {
                let (ip, ports) = match target {
                    NatTarget::Snat(r) if r.min_ip.is_unspecified() => (orig.src, r.ports),
                    NatTarget::Snat(r) => (r.min_ip, r.ports),
                    NatTarget::Masquerade(p) => (ctx.out_if.and_then(|d| (ctx.if_primary_addr)(d))?, *p),
                    _ => return None,
                };
                let from = orig.src_ep();
                let mut reply = *conn.reply();
                reply.dst = ip;
                // The "port" of the reply tuple's destination: TCP/UDP dport, ICMP identifier.
                let with_port = |t: &Tuple, p: u16| match t.proto {
                    PROTO_TCP | PROTO_UDP => Tuple { dport: p, ..*t },
                    _ => Tuple { sport: p, ..*t },
                };
                if reply.has_ports() || reply.proto == PROTO_ICMP {
                    let keep = orig.src_ep().1;
                    let first_free = |ct: &mut Conntrack, it: &mut dyn Iterator<Item = u16>| {
                        it.map(|p| with_port(&reply, p)).find(|cand| !ct.used(cand))
                    };
                    let chosen = match ports {
                        Some((lo, hi)) => first_free(self, &mut (lo..=hi)),
                        None => first_free(self, &mut std::iter::once(keep).chain(PORT_POOL.filter(|p| *p != keep))),
                    };
                    reply = chosen.unwrap_or_else(|| with_port(&reply, ports.map_or(keep, |p| p.0)));
                }
                conn.tuples[1] = reply;
                let to = reply.dst_ep();
                Some(match target {
                    NatTarget::Snat(_) => NoteKind::Snat { from, to },
                    _ => NoteKind::Masquerade { from, to },
                })
            }
        }
    }

    /// `conntrack -L` lines, oldest first.
    pub(super) fn entries(&self) -> Vec<String> {
        let now = self.now_ns;
        self.conns
            .values()
            .filter(|c| c.expires_ns > now)
            .map(|c| {
                let o = c.orig();
                let mut s = format!("{:<8} {} {} ", proto_name(o.proto), o.proto, (c.expires_ns - now) / SEC);
                if o.proto == PROTO_TCP {
                    s += c.tcp.name();
                    s.push(' ');
                }
                s += &o.list();
                if !c.seen_reply {
                    s += " [UNREPLIED]";
                }
                s.push(' ');
                s += &c.reply().list();
                if c.assured {
                    s += " [ASSURED]";
                }
                s += " mark=0 use=1";
                s
            })
            .collect()
    }
}
