//! IPVS (Linux Virtual Server) table, as used by Docker swarm for service VIPs (`lb-<net>` namespaces) and the
//! ingress routing mesh (`ingress_sbox`).
//!
//! Sans-IO and deterministic: time is passed in as `now` (u64 nanoseconds), there is no randomness, and every
//! iteration that reaches output goes through a `BTreeMap` or an explicit sort.
//!
//! Kernel model (net/netfilter/ipvs, ipvsadm 1.31):
//! * [`Ipvs::schedule`] is `ip_vs_in` at NF_INET_LOCAL_IN (`ip_vs_remote_request4`): look up an existing connection
//!   (client→VIP direction), otherwise find a service (`ip_vs_service_find`: fwmark table first, then
//!   proto/addr/port, then the proto/addr/port-0 catch-all) and let its scheduler pick a destination.
//! * [`Ipvs::reply`] is `ip_vs_out` (`ip_vs_reply4` at FORWARD / LOCAL_IN): a packet real→client that matches a
//!   Masq connection gets its source rewritten back to VIP:vport.  Route/Tunnel connections never see replies
//!   (kernel flag `IP_VS_CONN_F_NOOUTPUT`), so `reply` returns `None` for them.
//! * Destinations are kept in kernel list order: `__ip_vs_update_dest` does `list_add_rcu(&dest->n_list,
//!   &svc->destinations)`, i.e. the newest destination is first.  Schedulers walk that order, so round robin over
//!   dests added as d1, d2, d3 yields d3, d2, d1, d3, ...  `ipvsadm -Ln` sorts (ipvsadm default, `--nosort` off)
//!   so the listing shows d1, d2, d3.
//! * Connection counters follow the kernel: a new connection is bound *inactive* (`__ip_vs_update_dest` sets
//!   `IP_VS_CONN_F_INACTIVE` in the dest's conn_flags); TCP moves it to ActiveConn when it enters ESTABLISHED and
//!   back when it leaves; UDP connections stay inactive.
//! * TCP state machine and timeouts: `tcp_states[]` / `tcp_timeouts[]` of ip_vs_proto_tcp.c (current kernels,
//!   where INPUT `ack` in state NONE goes to CLOSE).  Every packet restarts the connection timer with the timeout
//!   of the (new) state, as `ip_vs_conn_put` does.
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::net::Ipv4Addr;

/// IP protocol numbers accepted by [`Ipvs::schedule`] and friends.
pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;

const NS_PER_SEC: u64 = 1_000_000_000;

/// A virtual service.  `Fwmark` services match on the packet mark (`ipvsadm -A -f <mark>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKey {
    Fwmark(u32),
    Tcp(Ipv4Addr, u16),
    Udp(Ipv4Addr, u16),
}

impl ServiceKey {
    /// (fwmark, protocol, addr, port) as the kernel's `ip_vs_service` stores them.
    fn parts(self) -> (u32, u8, Ipv4Addr, u16) {
        match self {
            ServiceKey::Fwmark(m) => (m, 0, Ipv4Addr::UNSPECIFIED, 0),
            ServiceKey::Tcp(a, p) => (0, IPPROTO_TCP, a, p),
            ServiceKey::Udp(a, p) => (0, IPPROTO_UDP, a, p),
        }
    }
}

/// Short name used in the trace: "FWM 256", "TCP 10.0.1.2:80".
impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Fwmark(m) => write!(f, "FWM {m}"),
            ServiceKey::Tcp(a, p) => write!(f, "TCP {a}:{p}"),
            ServiceKey::Udp(a, p) => write!(f, "UDP {a}:{p}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheduler {
    Rr,
    Wrr,
    Lc,
}

impl Scheduler {
    pub fn name(self) -> &'static str {
        match self {
            Scheduler::Rr => "rr",
            Scheduler::Wrr => "wrr",
            Scheduler::Lc => "lc",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Forward {
    /// NAT: destination rewritten to the real server, replies reverse-NATed (`-m`).
    Masq,
    /// Direct routing (`-g`): only the L2 destination changes; replies bypass the director.
    Route,
    /// IPIP tunnel (`-i`): replies bypass the director.
    Tunnel,
}

impl Forward {
    /// ipvsadm's `fwd_name()`.
    pub fn name(self) -> &'static str {
        match self {
            Forward::Masq => "Masq",
            Forward::Route => "Route",
            Forward::Tunnel => "Tunnel",
        }
    }
}

/// A real server of a service.  `port == 0` means "keep the packet's destination port".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dest {
    pub addr: Ipv4Addr,
    pub port: u16,
    pub weight: u32,
    pub fwd: Forward,
    pub active_conns: u32,
    pub inact_conns: u32,
}

/// A virtual service with its destinations in kernel list order (newest first).
#[derive(Clone, Debug)]
pub struct Service {
    pub key: ServiceKey,
    pub sched: Scheduler,
    pub dests: Vec<Dest>,
    /// rr/wrr cursor (`svc->sched_data` / `mark->cl`): `None` is the list head.
    cursor: Option<(Ipv4Addr, u16)>,
    /// wrr: current weight, max weight (minus gcd-1), gcd.
    wrr_cw: i64,
    wrr_mw: i64,
    wrr_di: i64,
}

impl Service {
    fn new(key: ServiceKey, sched: Scheduler) -> Self {
        Service { key, sched, dests: Vec::new(), cursor: None, wrr_cw: 0, wrr_mw: 0, wrr_di: 1 }
    }

    fn dest_index(&self, addr: Ipv4Addr, port: u16) -> Option<usize> {
        self.dests.iter().position(|d| d.addr == addr && d.port == port)
    }

    fn cursor_index(&self) -> Option<usize> {
        self.cursor.and_then(|(a, p)| self.dest_index(a, p))
    }

    /// `ip_vs_wrr_dest_changed` (also the init path when `init` is set).
    fn wrr_reset(&mut self, init: bool) {
        let mut g: i64 = 0;
        let mut max: i64 = 0;
        for d in &self.dests {
            let w = i64::from(d.weight);
            if w > 0 {
                g = if g > 0 { gcd(w, g) } else { w };
            }
            max = max.max(w);
        }
        self.wrr_di = if g > 0 { g } else { 1 };
        self.wrr_mw = max - (self.wrr_di - 1);
        self.cursor = None;
        if init || self.wrr_cw > self.wrr_mw || self.wrr_cw == 0 {
            self.wrr_cw = self.wrr_mw;
        } else if self.wrr_di > 1 {
            self.wrr_cw = (self.wrr_cw / self.wrr_di) * self.wrr_di + 1;
        }
    }

    /// Pick a destination index; `None` = "no destination available".
    fn pick(&mut self) -> Option<usize> {
        let n = self.dests.len();
        if n == 0 {
            return None;
        }
        match self.sched {
            // ip_vs_rr_schedule: walk circularly from the entry after the cursor, the cursor entry last.
            Scheduler::Rr => {
                let start = self.cursor_index().map_or(0, |c| c + 1);
                let hit = (0..n).map(|k| (start + k) % n).find(|&i| self.dests[i].weight > 0)?;
                self.cursor = Some((self.dests[hit].addr, self.dests[hit].port));
                Some(hit)
            }
            // ip_vs_wrr_schedule: classic LVS weighted round robin; passing the list head lowers cw by gcd.
            Scheduler::Wrr => {
                if self.wrr_mw <= 0 {
                    return None;
                }
                let mut pos: Option<usize> = self.cursor_index();
                let bound = (n + 1) * (usize::try_from(self.wrr_mw / self.wrr_di).unwrap_or(usize::MAX / 4) + 2);
                for _ in 0..bound {
                    let next = pos.map_or(0, |p| p + 1);
                    if next >= n {
                        pos = None;
                        self.wrr_cw -= self.wrr_di;
                        if self.wrr_cw <= 0 {
                            self.wrr_cw = self.wrr_mw;
                        }
                        continue;
                    }
                    pos = Some(next);
                    let w = i64::from(self.dests[next].weight);
                    if w > 0 && w >= self.wrr_cw {
                        self.cursor = Some((self.dests[next].addr, self.dests[next].port));
                        return Some(next);
                    }
                }
                None
            }
            // ip_vs_lc_schedule: least (active << 8) + inactive, first in list order wins ties.
            Scheduler::Lc => {
                let mut best: Option<(usize, u64)> = None;
                for (i, d) in self.dests.iter().enumerate() {
                    if d.weight == 0 {
                        continue;
                    }
                    let oh = (u64::from(d.active_conns) << 8) + u64::from(d.inact_conns);
                    if best.is_none_or(|(_, b)| oh < b) {
                        best = Some((i, oh));
                    }
                }
                best.map(|(i, _)| i)
            }
        }
    }
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// TCP flags seen on a packet (only the ones IPVS's state machine looks at).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
}

impl TcpFlags {
    pub const SYN: TcpFlags = TcpFlags { syn: true, ack: false, fin: false, rst: false };
    pub const SYN_ACK: TcpFlags = TcpFlags { syn: true, ack: true, fin: false, rst: false };
    pub const ACK: TcpFlags = TcpFlags { syn: false, ack: true, fin: false, rst: false };
    pub const FIN_ACK: TcpFlags = TcpFlags { syn: false, ack: true, fin: true, rst: false };
    pub const RST: TcpFlags = TcpFlags { syn: false, ack: false, fin: false, rst: true };

    /// `tcp_state_idx`: rst > syn > fin > ack.
    fn idx(self) -> Option<usize> {
        if self.rst {
            Some(3)
        } else if self.syn {
            Some(0)
        } else if self.fin {
            Some(1)
        } else if self.ack {
            Some(2)
        } else {
            None
        }
    }
}

/// Packet direction relative to a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// client → VIP / real server.
    Input,
    /// real server → client.
    Output,
}

/// IPVS TCP connection states (`IP_VS_TCP_S_*`, same order as the kernel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TcpState {
    None = 0,
    Established,
    SynSent,
    SynRecv,
    FinWait,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    SynAck,
}

impl TcpState {
    const ALL: [TcpState; 11] = [
        TcpState::None,
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::SynAck,
    ];

    /// `tcp_state_name_table`, as shown in /proc/net/ip_vs_conn and `ipvsadm -Lnc`.
    pub fn name(self) -> &'static str {
        [
            "NONE",
            "ESTABLISHED",
            "SYN_SENT",
            "SYN_RECV",
            "FIN_WAIT",
            "TIME_WAIT",
            "CLOSE",
            "CLOSE_WAIT",
            "LAST_ACK",
            "LISTEN",
            "SYNACK",
        ][self as usize]
    }
}

/// Default `tcp_timeouts[]` in seconds, indexed by [`TcpState`].
const TCP_TIMEOUTS: [u64; 11] = [2, 15 * 60, 2 * 60, 60, 2 * 60, 2 * 60, 10, 60, 30, 2 * 60, 120];
const UDP_TIMEOUT: u64 = 5 * 60;
/// `cp->timeout = 3*HZ` in `ip_vs_conn_new`, until the first state transition.
const NEW_CONN_TIMEOUT: u64 = 3;

/// `tcp_states[]` of ip_vs_proto_tcp.c: [INPUT syn/fin/ack/rst, OUTPUT ..., INPUT-ONLY ...][state].
#[rustfmt::skip]
const TCP_STATES: [[TcpState; 11]; 12] = {
    use TcpState::{
        Close as CL, CloseWait as CW, Established as ES, FinWait as FW, LastAck as LA, Listen as LI, SynRecv as SR,
        SynSent as SS, TimeWait as TW,
    };
    [
        // INPUT      sNO sES sSS sSR sFW sTW sCL sCW sLA sLI sSA
        /*syn*/ [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
        /*fin*/ [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
        /*ack*/ [CL, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        /*rst*/ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
        // OUTPUT
        /*syn*/ [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
        /*fin*/ [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
        /*ack*/ [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
        /*rst*/ [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
        // INPUT-ONLY
        /*syn*/ [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
        /*fin*/ [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
        /*ack*/ [CL, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        /*rst*/ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
    ]
};

/// Connection handle (creation order; `ipvsadm -Lnc` lists connections in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// An IPVS connection entry (`struct ip_vs_conn`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conn {
    pub id: ConnId,
    pub proto: u8,
    pub client: (Ipv4Addr, u16),
    pub vip: (Ipv4Addr, u16),
    /// Real server address and port actually used (dest port, or the packet's dport when the dest port is 0).
    pub real: (Ipv4Addr, u16),
    pub svc: ServiceKey,
    /// The destination entry (addr, configured port) this connection is bound to.
    pub dest: (Ipv4Addr, u16),
    pub fwd: Forward,
    pub fwmark: u32,
    /// TCP state (UDP connections stay `None` and show as "UDP").
    pub state: TcpState,
    /// Counted in InActConn (`IP_VS_CONN_F_INACTIVE`).
    pub inactive: bool,
    /// Current timeout in seconds (`cp->timeout`).
    pub timeout_s: u64,
    /// Absolute expiry time in ns; the connection is gone once `now >= expires`.
    pub expires: u64,
}

impl Conn {
    fn state_name(&self) -> &'static str {
        if self.proto == IPPROTO_TCP { self.state.name() } else { "UDP" }
    }
}

/// Result of [`Ipvs::schedule`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InOutcome {
    /// Not IPVS's business: the packet continues (local delivery).  Returned for protocols other than TCP/UDP
    /// (an ICMP echo to the VIP is answered by the namespace's own stack, as in Docker), when no service
    /// matches, and — with known TCP flags — for a TCP packet without SYN (or with RST) and no connection
    /// (`tcp_conn_schedule` only schedules on SYN; the local stack will then answer with a RST).
    NotIpvs,
    /// The packet belongs to connection `conn`; for Masq rewrite the destination to `real` and route it out
    /// (`ip_vs_nat_xmit`); for Route/Tunnel forward it unchanged to `real.0`.  It never reaches a local socket.
    Scheduled { conn: ConnId, real: (Ipv4Addr, u16), new: bool, fwd: Forward, explain: IpvsNote },
    /// A service matched but its scheduler found no destination (none, or all weight 0).  The kernel
    /// (`ip_vs_leave`) then sends ICMP destination-unreachable / port-unreachable (type 3 code 3) to the client
    /// and drops the packet — for TCP and UDP alike (cache_bypass is off by default; the FTP special case does
    /// not apply).  The caller must emit that ICMP error and drop.
    NoDest,
    /// Drop silently: the connection's destination was removed from its service (`IP_VS_DEST_F_AVAILABLE`
    /// cleared).  With `expire_nodest_conn` the connection is also expired (see [`Sysctls`]).
    Drop { conn: ConnId, dest: (Ipv4Addr, u16), expired: bool },
}

/// An IPVS decision as the trace keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpvsNote {
    /// A new connection: the service, its scheduler and the destination it chose.
    New { svc: ServiceKey, sched: Scheduler, dest: (Ipv4Addr, u16), fwd: Forward },
    /// A packet of a connection IPVS already has.
    Existing {
        conn: ConnId,
        svc: ServiceKey,
        client: (Ipv4Addr, u16),
        real: (Ipv4Addr, u16),
        fwd: Forward,
        state: &'static str,
    },
    /// A real server's reply gets the virtual address back as its source (`ip_vs_out`).
    Reply { real: (Ipv4Addr, u16), vip: (Ipv4Addr, u16) },
}

impl fmt::Display for IpvsNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            IpvsNote::New { svc, sched, dest, fwd } => {
                write!(f, "IPVS {svc} {} → {}:{} ({})", sched.name(), dest.0, dest.1, fwd.name())
            }
            IpvsNote::Existing { conn, svc, client, real, fwd, state } => write!(
                f,
                "IPVS conn #{} {svc} {}:{} → {}:{} ({}, {state})",
                conn.0,
                client.0,
                client.1,
                real.0,
                real.1,
                fwd.name()
            ),
            IpvsNote::Reply { real, vip } => {
                write!(f, "IPVS reply from real server {}:{} → source {}:{}", real.0, real.1, vip.0, vip.1)
            }
        }
    }
}

/// The IPVS sysctls that change packet handling (`net.ipv4.vs.*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sysctls {
    /// `expire_nodest_conn` (kernel default 0; Docker sets 1 in its load-balancer namespaces).  A packet of a
    /// connection whose destination was deleted is dropped either way; with 1 the connection is expired at once,
    /// so the next SYN (or UDP datagram) is scheduled afresh.  (The kernel reschedules the very packet when the
    /// connection does not use an old conntrack entry; with `net.ipv4.vs.conntrack=1`, as Docker sets, it drops
    /// it — that is what is modelled.)
    pub expire_nodest_conn: bool,
    /// `conn_reuse_mode` (kernel default 1): a SYN hitting a connection in TIME_WAIT expires it and is scheduled
    /// as a new connection.  0 reuses the old connection (same real server).
    pub conn_reuse_mode: u8,
}

impl Default for Sysctls {
    fn default() -> Self {
        Sysctls { expire_nodest_conn: false, conn_reuse_mode: 1 }
    }
}

type InKey = (u8, Ipv4Addr, u16, Ipv4Addr, u16);

/// The IPVS table of one network namespace.
#[derive(Clone, Debug)]
pub struct Ipvs {
    services: BTreeMap<ServiceKey, Service>,
    conns: BTreeMap<ConnId, Conn>,
    /// (proto, client, cport, vip, vport) → conn (`ip_vs_conn_in_get`).
    in_idx: BTreeMap<InKey, ConnId>,
    /// (proto, real, rport, client, cport) → conn (`ip_vs_conn_out_get`).
    out_idx: BTreeMap<InKey, ConnId>,
    next_conn: u64,
    tcp_timeouts: [u64; 11],
    udp_timeout: u64,
    pub sysctls: Sysctls,
}

impl Default for Ipvs {
    fn default() -> Self {
        Ipvs {
            services: BTreeMap::new(),
            conns: BTreeMap::new(),
            in_idx: BTreeMap::new(),
            out_idx: BTreeMap::new(),
            next_conn: 1,
            tcp_timeouts: TCP_TIMEOUTS,
            udp_timeout: UDP_TIMEOUT,
            sysctls: Sysctls::default(),
        }
    }
}

/// libipvs `ipvs_cmp_services` / `ipvs_cmp_dests` compute `ntohl(a) - ntohl(b)` into an `int`: reproduce the
/// wrap-around (10.x sorts after 192.x because the difference overflows).
fn c_diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

fn cmp_services(a: &ServiceKey, b: &ServiceKey) -> Ordering {
    let (fa, pa, aa, qa) = a.parts();
    let (fb, pb, ab, qb) = b.parts();
    let r = c_diff(fa, fb);
    if r != 0 {
        return r.cmp(&0);
    }
    let r = i32::from(pa) - i32::from(pb);
    if r != 0 {
        return r.cmp(&0);
    }
    let r = c_diff(u32::from(aa), u32::from(ab));
    if r != 0 {
        return r.cmp(&0);
    }
    (i32::from(qa) - i32::from(qb)).cmp(&0)
}

fn cmp_dests(a: &Dest, b: &Dest) -> Ordering {
    let r = c_diff(u32::from(a.addr), u32::from(b.addr));
    if r != 0 {
        return r.cmp(&0);
    }
    (i32::from(a.port) - i32::from(b.port)).cmp(&0)
}

/// Insertion sort: never panics with the (possibly non-transitive) C comparators above.
fn c_sort<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && cmp(&v[j - 1], &v[j]) == Ordering::Greater {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

impl Ipvs {
    pub fn new() -> Self {
        Self::default()
    }

    // ----- configuration (ipvsadm -A/-D/-a/-e/-d, --set) -------------------------------------------------------

    pub fn add_service(&mut self, key: ServiceKey, sched: Scheduler) -> Result<(), String> {
        if self.services.contains_key(&key) {
            return Err("Service already exists".into());
        }
        let mut svc = Service::new(key, sched);
        svc.wrr_reset(true);
        self.services.insert(key, svc);
        Ok(())
    }

    /// Remove a service.  Its connections are kept until they expire, but (as with the kernel's dest trash)
    /// their destinations are no longer available, so their packets are dropped.
    pub fn del_service(&mut self, key: ServiceKey) -> Result<(), String> {
        self.services.remove(&key).map(|_| ()).ok_or_else(|| "No such service".into())
    }

    pub fn add_dest(
        &mut self,
        key: ServiceKey,
        addr: Ipv4Addr,
        port: u16,
        weight: u32,
        fwd: Forward,
    ) -> Result<(), String> {
        let svc = self.services.get_mut(&key).ok_or("Service not defined")?;
        if svc.dest_index(addr, port).is_some() {
            return Err("Destination already exists".into());
        }
        // A dest re-added while connections still reference it is the kernel's trash entry coming back:
        // it keeps counting those connections.
        let (mut active, mut inact) = (0, 0);
        for c in self.conns.values().filter(|c| c.svc == key && c.dest == (addr, port)) {
            if c.inactive {
                inact += 1;
            } else {
                active += 1;
            }
        }
        svc.dests.insert(0, Dest { addr, port, weight, fwd, active_conns: active, inact_conns: inact });
        if svc.sched == Scheduler::Wrr {
            svc.wrr_reset(false);
        }
        Ok(())
    }

    /// `ipvsadm -e`: change weight and forwarding method of a destination.
    pub fn edit_dest(
        &mut self,
        key: ServiceKey,
        addr: Ipv4Addr,
        port: u16,
        weight: u32,
        fwd: Forward,
    ) -> Result<(), String> {
        let svc = self.services.get_mut(&key).ok_or("Service not defined")?;
        let i = svc.dest_index(addr, port).ok_or("No such destination")?;
        svc.dests[i].weight = weight;
        svc.dests[i].fwd = fwd;
        if svc.sched == Scheduler::Wrr {
            svc.wrr_reset(false);
        }
        Ok(())
    }

    pub fn del_dest(&mut self, key: ServiceKey, addr: Ipv4Addr, port: u16) -> Result<(), String> {
        let svc = self.services.get_mut(&key).ok_or("Service not defined")?;
        let i = svc.dest_index(addr, port).ok_or("No such destination")?;
        // ip_vs_rr_del_dest: a cursor on the removed entry moves to its predecessor.
        if svc.cursor == Some((addr, port)) {
            svc.cursor = if i == 0 { None } else { Some((svc.dests[i - 1].addr, svc.dests[i - 1].port)) };
        }
        svc.dests.remove(i);
        if svc.sched == Scheduler::Wrr {
            svc.wrr_reset(false);
        }
        Ok(())
    }

    /// `ipvsadm --set tcp tcpfin udp` (seconds; 0 leaves a value unchanged, as in the kernel).
    pub fn set_timeouts(&mut self, tcp: u64, tcpfin: u64, udp: u64) {
        if tcp != 0 {
            self.tcp_timeouts[TcpState::Established as usize] = tcp;
        }
        if tcpfin != 0 {
            self.tcp_timeouts[TcpState::FinWait as usize] = tcpfin;
        }
        if udp != 0 {
            self.udp_timeout = udp;
        }
    }

    /// `(tcp, tcpfin, udp)` as `ipvsadm -L --timeout` shows them (default 900 120 300).
    pub fn timeouts(&self) -> (u64, u64, u64) {
        (
            self.tcp_timeouts[TcpState::Established as usize],
            self.tcp_timeouts[TcpState::FinWait as usize],
            self.udp_timeout,
        )
    }

    /// True when there are no services (connections may still linger).
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    pub fn service(&self, key: ServiceKey) -> Option<&Service> {
        self.services.get(&key)
    }

    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.services.values()
    }

    pub fn conn(&self, id: ConnId) -> Option<&Conn> {
        self.conns.get(&id)
    }

    /// Connections in creation order (may include ones past their expiry until [`Ipvs::expire`] runs).
    pub fn conns(&self) -> impl Iterator<Item = &Conn> {
        self.conns.values()
    }

    // ----- packet path -------------------------------------------------------------------------------------------

    /// LOCAL_IN for a packet addressed to this namespace, without TCP flag information: a TCP packet with no
    /// connection is scheduled whatever its flags (like `sloppy_tcp`), and no TCP state transition happens —
    /// report flags with [`Ipvs::tcp_flags`], or use [`Ipvs::schedule_pkt`] which does both like the kernel.
    pub fn schedule(
        &mut self,
        now: u64,
        fwmark: u32,
        proto: u8,
        src: (Ipv4Addr, u16),
        dst: (Ipv4Addr, u16),
    ) -> InOutcome {
        self.schedule_pkt(now, fwmark, proto, src, dst, None)
    }

    /// LOCAL_IN (`ip_vs_in`).  `tcp` is the packet's TCP flags when known (then a new TCP connection is only
    /// created on SYN without RST, and the INPUT state transition is applied).
    pub fn schedule_pkt(
        &mut self,
        now: u64,
        fwmark: u32,
        proto: u8,
        src: (Ipv4Addr, u16),
        dst: (Ipv4Addr, u16),
        tcp: Option<TcpFlags>,
    ) -> InOutcome {
        if proto != IPPROTO_TCP && proto != IPPROTO_UDP {
            return InOutcome::NotIpvs;
        }
        let tcp = if proto == IPPROTO_TCP { tcp } else { None };
        let key = (proto, src.0, src.1, dst.0, dst.1);
        if let Some(id) = self.lookup(now, &self.in_idx.get(&key).copied()) {
            let c = &self.conns[&id];
            // conn_reuse_mode: a SYN for a connection in TIME_WAIT starts a new one.
            let reuse = self.sysctls.conn_reuse_mode != 0
                && tcp.is_some_and(|f| f.syn && !f.rst)
                && c.state == TcpState::TimeWait;
            if reuse {
                self.remove_conn(id);
            } else if !self.dest_available(c.svc, c.dest) {
                let dest = c.dest;
                if self.sysctls.expire_nodest_conn {
                    self.remove_conn(id);
                    return InOutcome::Drop { conn: id, dest, expired: true };
                }
                return InOutcome::Drop { conn: id, dest, expired: false };
            } else {
                self.touch(now, id, Dir::Input, tcp);
                let c = &self.conns[&id];
                let explain = IpvsNote::Existing {
                    conn: id,
                    svc: c.svc,
                    client: c.client,
                    real: c.real,
                    fwd: c.fwd,
                    state: c.state_name(),
                };
                return InOutcome::Scheduled { conn: id, real: c.real, new: false, fwd: c.fwd, explain };
            }
        }
        if tcp.is_some_and(|f| !f.syn || f.rst) {
            return InOutcome::NotIpvs;
        }
        let Some(skey) = self.find_service(fwmark, proto, dst) else {
            return InOutcome::NotIpvs;
        };
        let svc = self.services.get_mut(&skey).expect("found");
        let Some(i) = svc.pick() else {
            return InOutcome::NoDest;
        };
        let d = &mut svc.dests[i];
        d.inact_conns += 1;
        let real = (d.addr, if d.port == 0 { dst.1 } else { d.port });
        let explain = IpvsNote::New { svc: skey, sched: svc.sched, dest: (d.addr, d.port), fwd: d.fwd };
        let id = ConnId(self.next_conn);
        self.next_conn += 1;
        let conn = Conn {
            id,
            proto,
            client: src,
            vip: dst,
            real,
            svc: skey,
            dest: (d.addr, d.port),
            fwd: d.fwd,
            fwmark,
            state: TcpState::None,
            inactive: true,
            timeout_s: NEW_CONN_TIMEOUT,
            expires: now + NEW_CONN_TIMEOUT * NS_PER_SEC,
        };
        let fwd = conn.fwd;
        self.in_idx.insert(key, id);
        self.out_idx.insert((proto, real.0, real.1, src.0, src.1), id);
        self.conns.insert(id, conn);
        self.touch(now, id, Dir::Input, tcp);
        InOutcome::Scheduled { conn: id, real, new: true, fwd, explain }
    }

    /// Reply direction (`ip_vs_out`), without TCP flag information.
    pub fn reply(
        &mut self,
        now: u64,
        proto: u8,
        src: (Ipv4Addr, u16),
        dst: (Ipv4Addr, u16),
    ) -> Option<(Ipv4Addr, u16)> {
        self.reply_pkt(now, proto, src, dst, None)
    }

    /// Reply direction (`ip_vs_out`): a packet real→client of a Masq connection; returns the (VIP, vport) to
    /// write as its source and applies the OUTPUT state transition when `tcp` is known.
    pub fn reply_pkt(
        &mut self,
        now: u64,
        proto: u8,
        src: (Ipv4Addr, u16),
        dst: (Ipv4Addr, u16),
        tcp: Option<TcpFlags>,
    ) -> Option<(Ipv4Addr, u16)> {
        if proto != IPPROTO_TCP && proto != IPPROTO_UDP {
            return None;
        }
        let tcp = if proto == IPPROTO_TCP { tcp } else { None };
        let id = self.lookup(now, &self.out_idx.get(&(proto, src.0, src.1, dst.0, dst.1)).copied())?;
        if self.conns[&id].fwd != Forward::Masq {
            return None;
        }
        self.touch(now, id, Dir::Output, tcp);
        Some(self.conns[&id].vip)
    }

    /// `-m ipvs --ipvs`: whether the packet carries `skb->ipvs_property`, i.e. belongs to an IPVS connection.
    /// Matches the DNATed client→real direction (src = client, dst = real) and, since `handle_response` marks
    /// replies too, the reverse-NATed reply (src = VIP:vport, dst = client).  Expiry is not checked here (no
    /// `now`); run [`Ipvs::expire`] first.
    pub fn is_ipvs(&self, proto: u8, src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16)) -> bool {
        let fwd = self.out_idx.get(&(proto, dst.0, dst.1, src.0, src.1));
        let rev = self.in_idx.get(&(proto, dst.0, dst.1, src.0, src.1));
        fwd.into_iter().chain(rev).any(|id| self.conns.contains_key(id))
    }

    /// Report TCP flags seen on a packet of connection `conn` in direction `dir` (`set_tcp_state`): updates the
    /// state, the Active/InAct counters, and restarts the timer with the new state's timeout.
    pub fn tcp_flags(&mut self, now: u64, conn: ConnId, dir: Dir, flags: TcpFlags) {
        if self.conns.get(&conn).is_some_and(|c| c.proto == IPPROTO_TCP) {
            self.touch(now, conn, dir, Some(flags));
        }
    }

    /// Remove every connection whose timer has run out (`now >= expires`).
    pub fn expire(&mut self, now: u64) {
        let dead: Vec<ConnId> = self.conns.values().filter(|c| now >= c.expires).map(|c| c.id).collect();
        for id in dead {
            self.remove_conn(id);
        }
    }

    // ----- ipvsadm output ----------------------------------------------------------------------------------------

    /// `ipvsadm -Ln`, byte for byte as ipvsadm 1.31 prints it (`print_title`, `print_service_entry`; services and
    /// dests sorted with libipvs's comparators).  Note that ipvsadm prints the dest line with
    /// `"  -> %-28s %-7s %-6d %-10u %-10u\n"`, so those lines end in padding spaces (InActConn is padded to 10).
    pub fn ipvsadm_ln(&self) -> String {
        let mut out = String::from(
            "IP Virtual Server version 1.2.1 (size=4096)\n\
             Prot LocalAddress:Port Scheduler Flags\n  \
             -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
        );
        let mut svcs: Vec<&Service> = self.services.values().collect();
        c_sort(&mut svcs, |a, b| cmp_services(&a.key, &b.key));
        for svc in svcs {
            let name = match svc.key {
                ServiceKey::Fwmark(m) => format!("FWM  {m}"),
                ServiceKey::Tcp(a, p) => format!("TCP  {a}:{p}"),
                ServiceKey::Udp(a, p) => format!("UDP  {a}:{p}"),
            };
            let _ = writeln!(out, "{name} {}", svc.sched.name());
            let mut dests: Vec<&Dest> = svc.dests.iter().collect();
            c_sort(&mut dests, |a, b| cmp_dests(a, b));
            for d in dests {
                let dname = format!("{}:{}", d.addr, d.port);
                let _ = writeln!(
                    out,
                    "  -> {dname:<28} {:<7} {:<6} {:<10} {:<10}",
                    d.fwd.name(),
                    d.weight,
                    d.active_conns,
                    d.inact_conns
                );
            }
        }
        out
    }

    /// `ipvsadm -Lnc`: `"%-3s %02d:%02d  %-11s %-18s %-18s %s\n"` per connection, expiry in whole seconds
    /// remaining (rounded down, like /proc/net/ip_vs_conn).  Connections are listed in creation order (the
    /// kernel's order is that of a randomly seeded hash table).
    pub fn ipvsadm_lnc(&self, now: u64) -> String {
        let mut out = String::from("IPVS connection entries\n");
        let _ = writeln!(out, "pro expire {:<11} {:<18} {:<18} destination", "state", "source", "virtual");
        for c in self.conns.values().filter(|c| now < c.expires) {
            let secs = (c.expires - now) / NS_PER_SEC;
            let proto = if c.proto == IPPROTO_TCP { "TCP" } else { "UDP" };
            let src = format!("{}:{}", c.client.0, c.client.1);
            let vip = format!("{}:{}", c.vip.0, c.vip.1);
            let dst = format!("{}:{}", c.real.0, c.real.1);
            let (m, sec, state) = (secs / 60, secs % 60, c.state_name());
            let _ = writeln!(out, "{proto:<3} {m:02}:{sec:02}  {state:<11} {src:<18} {vip:<18} {dst}");
        }
        out
    }

    /// `ipvsadm -L --timeout`.
    pub fn ipvsadm_timeout(&self) -> String {
        let (t, f, u) = self.timeouts();
        format!("Timeout (tcp tcpfin udp): {t} {f} {u}\n")
    }

    // ----- internals ---------------------------------------------------------------------------------------------

    /// `ip_vs_service_find`: fwmark table first, then proto/addr/port, then the port-0 catch-all.
    fn find_service(&self, fwmark: u32, proto: u8, dst: (Ipv4Addr, u16)) -> Option<ServiceKey> {
        let mk = |port| if proto == IPPROTO_TCP { ServiceKey::Tcp(dst.0, port) } else { ServiceKey::Udp(dst.0, port) };
        let mut cands = Vec::with_capacity(3);
        if fwmark != 0 {
            cands.push(ServiceKey::Fwmark(fwmark));
        }
        cands.push(mk(dst.1));
        cands.push(mk(0));
        cands.into_iter().find(|k| self.services.contains_key(k))
    }

    /// Resolve an index hit, dropping the connection if its timer has already run out.
    fn lookup(&mut self, now: u64, hit: &Option<ConnId>) -> Option<ConnId> {
        let id = (*hit)?;
        let expired = self.conns.get(&id).is_none_or(|c| now >= c.expires);
        if expired {
            self.remove_conn(id);
            return None;
        }
        Some(id)
    }

    fn dest_available(&self, svc: ServiceKey, dest: (Ipv4Addr, u16)) -> bool {
        self.services.get(&svc).is_some_and(|s| s.dest_index(dest.0, dest.1).is_some())
    }

    fn dest_mut(&mut self, svc: ServiceKey, dest: (Ipv4Addr, u16)) -> Option<&mut Dest> {
        let s = self.services.get_mut(&svc)?;
        let i = s.dest_index(dest.0, dest.1)?;
        Some(&mut s.dests[i])
    }

    /// A packet of `id` seen in `dir`: state transition (`ip_vs_set_state`) and timer restart.
    fn touch(&mut self, now: u64, id: ConnId, dir: Dir, tcp: Option<TcpFlags>) {
        let udp_timeout = self.udp_timeout;
        let Some(c) = self.conns.get_mut(&id) else { return };
        let mut counter_change: Option<bool> = None; // Some(new_inactive)
        if c.proto == IPPROTO_UDP {
            c.timeout_s = udp_timeout;
        } else if let Some(idx) = tcp.and_then(TcpFlags::idx) {
            let off = match dir {
                Dir::Output => 4,
                Dir::Input if c.fwd != Forward::Masq => 8,
                Dir::Input => 0,
            };
            let new_state = TCP_STATES[off + idx][c.state as usize];
            let est = new_state == TcpState::Established;
            if c.inactive == est {
                counter_change = Some(!est);
                c.inactive = !est;
            }
            c.state = new_state;
            c.timeout_s = self.tcp_timeouts[new_state as usize];
        }
        c.expires = now + c.timeout_s * NS_PER_SEC;
        let (svc, dest) = (c.svc, c.dest);
        if let (Some(inactive), Some(d)) = (counter_change, self.dest_mut(svc, dest)) {
            if inactive {
                d.active_conns = d.active_conns.saturating_sub(1);
                d.inact_conns += 1;
            } else {
                d.inact_conns = d.inact_conns.saturating_sub(1);
                d.active_conns += 1;
            }
        }
    }

    fn remove_conn(&mut self, id: ConnId) {
        let Some(c) = self.conns.remove(&id) else { return };
        let ik = (c.proto, c.client.0, c.client.1, c.vip.0, c.vip.1);
        if self.in_idx.get(&ik) == Some(&id) {
            self.in_idx.remove(&ik);
        }
        let ok = (c.proto, c.real.0, c.real.1, c.client.0, c.client.1);
        if self.out_idx.get(&ok) == Some(&id) {
            self.out_idx.remove(&ok);
        }
        if let Some(d) = self.dest_mut(c.svc, c.dest) {
            if c.inactive {
                d.inact_conns = d.inact_conns.saturating_sub(1);
            } else {
                d.active_conns = d.active_conns.saturating_sub(1);
            }
        }
    }
}

/// All TCP states, for callers that want to enumerate them.
pub fn tcp_states() -> &'static [TcpState] {
    &TcpState::ALL
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = NS_PER_SEC;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn real(o: &InOutcome) -> (Ipv4Addr, u16) {
        match o {
            InOutcome::Scheduled { real, .. } => *real,
            other => panic!("not scheduled: {other:?}"),
        }
    }

    fn conn_of(o: &InOutcome) -> ConnId {
        match o {
            InOutcome::Scheduled { conn, .. } => *conn,
            other => panic!("not scheduled: {other:?}"),
        }
    }

    fn fwm3() -> Ipvs {
        let mut v = Ipvs::new();
        v.add_service(ServiceKey::Fwmark(256), Scheduler::Rr).unwrap();
        for a in ["10.0.0.5", "10.0.0.6", "10.0.0.7"] {
            v.add_dest(ServiceKey::Fwmark(256), ip(a), 0, 1, Forward::Masq).unwrap();
        }
        v
    }

    const VIP: (Ipv4Addr, u16) = (Ipv4Addr::new(10, 0, 0, 2), 80);

    #[test]
    fn rr_cycles_in_kernel_list_order() {
        let mut v = fwm3();
        let picks: Vec<Ipv4Addr> =
            (0..6).map(|i| real(&v.schedule(0, 256, IPPROTO_TCP, (ip("10.0.9.1"), 40000 + i), VIP)).0).collect();
        // list_add_rcu puts the newest dest first: .7, .6, .5, then around again.
        let want: Vec<Ipv4Addr> = ["10.0.0.7", "10.0.0.6", "10.0.0.5"].iter().cycle().take(6).map(|s| ip(s)).collect();
        assert_eq!(picks, want);
        assert!(v.conns().all(|c| c.inactive));
        assert_eq!(v.service(ServiceKey::Fwmark(256)).unwrap().dests.iter().map(|d| d.inact_conns).sum::<u32>(), 6);
    }

    #[test]
    fn connection_sticks_and_port0_keeps_dport() {
        let mut v = fwm3();
        let c = (ip("10.0.9.1"), 40000);
        let first = v.schedule(0, 256, IPPROTO_TCP, c, VIP);
        let InOutcome::Scheduled { new: true, real: r1, ref explain, .. } = first else { panic!("{first:?}") };
        assert_eq!(r1, (ip("10.0.0.7"), 80));
        assert_eq!(explain.to_string(), "IPVS FWM 256 rr → 10.0.0.7:0 (Masq)");
        for t in 1..5 {
            let o = v.schedule(t * S, 256, IPPROTO_TCP, c, VIP);
            assert!(
                matches!(o, InOutcome::Scheduled { new: false, real, conn, .. } if real == r1 && conn == conn_of(&first))
            );
        }
        // Same client port to another vport: new connection, port kept.
        let o = v.schedule(5 * S, 256, IPPROTO_TCP, c, (VIP.0, 8080));
        assert_eq!(real(&o), (ip("10.0.0.6"), 8080));
    }

    #[test]
    fn dest_port_is_used_when_nonzero() {
        let mut v = Ipvs::new();
        let k = ServiceKey::Tcp(ip("10.0.1.2"), 80);
        v.add_service(k, Scheduler::Rr).unwrap();
        v.add_dest(k, ip("10.0.1.3"), 8080, 1, Forward::Masq).unwrap();
        let o = v.schedule(0, 0, IPPROTO_TCP, (ip("10.0.9.1"), 1234), (ip("10.0.1.2"), 80));
        assert_eq!(real(&o), (ip("10.0.1.3"), 8080));
        // Another port on the VIP does not match; a port-0 service is the catch-all.
        assert_eq!(v.schedule(0, 0, IPPROTO_TCP, (ip("10.0.9.1"), 1234), (ip("10.0.1.2"), 81)), InOutcome::NotIpvs);
        let any = ServiceKey::Tcp(ip("10.0.1.2"), 0);
        v.add_service(any, Scheduler::Rr).unwrap();
        v.add_dest(any, ip("10.0.1.4"), 0, 1, Forward::Masq).unwrap();
        let o = v.schedule(0, 0, IPPROTO_TCP, (ip("10.0.9.1"), 1234), (ip("10.0.1.2"), 81));
        assert_eq!(real(&o), (ip("10.0.1.4"), 81));
    }

    #[test]
    fn reply_rewrites_source_and_is_ipvs() {
        let mut v = fwm3();
        let c = (ip("10.0.9.1"), 40000);
        let r = real(&v.schedule(0, 256, IPPROTO_UDP, c, (VIP.0, 53)));
        assert_eq!(v.reply(S, IPPROTO_UDP, r, c), Some((VIP.0, 53)));
        assert_eq!(v.reply(S, IPPROTO_TCP, r, c), None, "wrong protocol");
        assert_eq!(v.reply(S, IPPROTO_UDP, r, (c.0, 40001)), None, "other client port");
        assert_eq!(v.reply(S, IPPROTO_UDP, (ip("10.0.0.99"), 53), c), None, "other server");
        assert!(v.is_ipvs(IPPROTO_UDP, c, r), "DNATed client→real");
        assert!(v.is_ipvs(IPPROTO_UDP, (VIP.0, 53), c), "reverse-NATed reply");
        assert!(!v.is_ipvs(IPPROTO_UDP, c, (VIP.0, 53)), "not yet DNATed");
        assert!(!v.is_ipvs(IPPROTO_TCP, c, r));
        assert!(!v.is_ipvs(IPPROTO_UDP, (ip("10.0.9.2"), 40000), r));
    }

    #[test]
    fn route_conns_get_no_reply_rewrite() {
        let mut v = Ipvs::new();
        let k = ServiceKey::Fwmark(300);
        v.add_service(k, Scheduler::Rr).unwrap();
        v.add_dest(k, ip("10.0.0.5"), 0, 1, Forward::Route).unwrap();
        let c = (ip("10.0.9.1"), 5000);
        let o = v.schedule(0, 300, IPPROTO_UDP, c, VIP);
        assert!(matches!(o, InOutcome::Scheduled { fwd: Forward::Route, .. }));
        assert_eq!(v.reply(0, IPPROTO_UDP, real(&o), c), None);
    }

    #[test]
    fn weight_zero_skipped_and_no_dest() {
        let mut v = fwm3();
        v.edit_dest(ServiceKey::Fwmark(256), ip("10.0.0.6"), 0, 0, Forward::Masq).unwrap();
        let picks: Vec<Ipv4Addr> =
            (0..4).map(|i| real(&v.schedule(0, 256, IPPROTO_UDP, (ip("10.0.9.1"), 100 + i), VIP)).0).collect();
        assert_eq!(picks, [ip("10.0.0.7"), ip("10.0.0.5"), ip("10.0.0.7"), ip("10.0.0.5")]);
        for a in ["10.0.0.5", "10.0.0.7"] {
            v.edit_dest(ServiceKey::Fwmark(256), ip(a), 0, 0, Forward::Masq).unwrap();
        }
        assert_eq!(v.schedule(0, 256, IPPROTO_UDP, (ip("10.0.9.1"), 999), VIP), InOutcome::NoDest);
        // Existing connections keep working on a quiescent (weight 0) dest.
        assert!(matches!(
            v.schedule(S, 256, IPPROTO_UDP, (ip("10.0.9.1"), 100), VIP),
            InOutcome::Scheduled { new: false, .. }
        ));
        let mut e = Ipvs::new();
        e.add_service(ServiceKey::Fwmark(257), Scheduler::Rr).unwrap();
        assert_eq!(e.schedule(0, 257, IPPROTO_TCP, (ip("10.0.9.1"), 1), VIP), InOutcome::NoDest);
        assert_eq!(e.schedule(0, 258, IPPROTO_TCP, (ip("10.0.9.1"), 1), VIP), InOutcome::NotIpvs);
        assert_eq!(e.schedule(0, 257, IPPROTO_ICMP, (ip("10.0.9.1"), 0), (VIP.0, 0)), InOutcome::NotIpvs);
    }

    #[test]
    fn fwmark_service_found_before_proto_addr() {
        let mut v = fwm3();
        let k = ServiceKey::Tcp(VIP.0, 80);
        v.add_service(k, Scheduler::Rr).unwrap();
        v.add_dest(k, ip("10.0.1.3"), 80, 1, Forward::Masq).unwrap();
        let o = v.schedule(0, 256, IPPROTO_TCP, (ip("10.0.9.1"), 1), VIP);
        assert!(matches!(&o, InOutcome::Scheduled { explain, .. } if explain.to_string().starts_with("IPVS FWM 256 ")));
        let o = v.schedule(0, 0, IPPROTO_TCP, (ip("10.0.9.1"), 2), VIP);
        assert_eq!(real(&o), (ip("10.0.1.3"), 80));
        // An unknown mark falls through to proto/addr/port.
        let o = v.schedule(0, 999, IPPROTO_TCP, (ip("10.0.9.1"), 3), VIP);
        assert_eq!(real(&o), (ip("10.0.1.3"), 80));
    }

    #[test]
    fn expiry() {
        let mut v = fwm3();
        let c = (ip("10.0.9.1"), 40000);
        let r = real(&v.schedule(0, 256, IPPROTO_UDP, c, VIP));
        assert_eq!(v.conns().next().unwrap().timeout_s, 300);
        v.expire(300 * S - 1);
        assert_eq!(v.conns().count(), 1);
        // A reply refreshes the timer.
        assert!(v.reply(100 * S, IPPROTO_UDP, r, c).is_some());
        v.expire(399 * S);
        assert_eq!(v.conns().count(), 1);
        assert!(v.ipvsadm_lnc(399 * S).contains("UDP 00:01  UDP"));
        v.expire(400 * S);
        assert_eq!(v.conns().count(), 0);
        assert!(!v.is_ipvs(IPPROTO_UDP, c, r));
        let d = &v.service(ServiceKey::Fwmark(256)).unwrap().dests;
        assert!(d.iter().all(|d| d.active_conns == 0 && d.inact_conns == 0));
        // Lazy expiry: without expire(), a late packet still gets a fresh connection.
        let a = v.schedule(0, 256, IPPROTO_UDP, c, VIP);
        let b = v.schedule(301 * S, 256, IPPROTO_UDP, c, VIP);
        assert!(matches!(b, InOutcome::Scheduled { new: true, .. }));
        assert_ne!(conn_of(&a), conn_of(&b));
        assert_eq!(v.conns().count(), 1);
        assert_eq!(v.reply(302 * S, IPPROTO_UDP, real(&a), c), None, "old real no longer matches");
    }

    #[test]
    fn ipvsadm_ln_exact() {
        let mut v = Ipvs::new();
        v.add_service(ServiceKey::Fwmark(256), Scheduler::Rr).unwrap();
        v.add_dest(ServiceKey::Fwmark(256), ip("10.0.0.5"), 0, 1, Forward::Masq).unwrap();
        let k = ServiceKey::Tcp(ip("10.0.1.2"), 80);
        v.add_service(k, Scheduler::Rr).unwrap();
        v.add_dest(k, ip("10.0.1.3"), 80, 1, Forward::Masq).unwrap();
        // ipvsadm: "%-10u\n" for InActConn, hence the 9 trailing spaces after a single-digit count.
        let want = "IP Virtual Server version 1.2.1 (size=4096)\n\
                    Prot LocalAddress:Port Scheduler Flags\n\
                    \x20 -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
                    TCP  10.0.1.2:80 rr\n\
                    \x20 -> 10.0.1.3:80                  Masq    1      0          0         \n\
                    FWM  256 rr\n\
                    \x20 -> 10.0.0.5:0                   Masq    1      0          0         \n";
        assert_eq!(v.ipvsadm_ln(), want);
        // With trailing whitespace trimmed it is exactly the documented sample.
        let text = v.ipvsadm_ln();
        let trimmed: Vec<&str> = text.lines().map(str::trim_end).collect();
        assert_eq!(trimmed[5], "FWM  256 rr");
        assert_eq!(trimmed[6], "  -> 10.0.0.5:0                   Masq    1      0          0");
        assert_eq!(Ipvs::new().ipvsadm_ln().lines().count(), 3);
    }

    #[test]
    fn ipvsadm_ln_sorting_and_columns() {
        let mut v = Ipvs::new();
        for m in [258, 256] {
            v.add_service(ServiceKey::Fwmark(m), Scheduler::Rr).unwrap();
        }
        let u = ServiceKey::Udp(ip("10.0.1.2"), 53);
        let t = ServiceKey::Tcp(ip("10.0.1.9"), 80);
        v.add_service(u, Scheduler::Wrr).unwrap();
        v.add_service(t, Scheduler::Lc).unwrap();
        v.add_dest(u, ip("10.0.1.20"), 53, 10, Forward::Tunnel).unwrap();
        v.add_dest(u, ip("10.0.1.3"), 53, 2, Forward::Route).unwrap();
        let got = v.ipvsadm_ln();
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(lines[3], "TCP  10.0.1.9:80 lc");
        assert_eq!(lines[4], "UDP  10.0.1.2:53 wrr");
        assert_eq!(lines[5], "  -> 10.0.1.3:53                  Route   2      0          0         ");
        assert_eq!(lines[6], "  -> 10.0.1.20:53                 Tunnel  10     0          0         ");
        assert_eq!(lines[7], "FWM  256 rr");
        assert_eq!(lines[8], "FWM  258 rr");
        // libipvs compares addresses as int(ntohl(a) - ntohl(b)): 192.168.x sorts before 10.x.
        let k = ServiceKey::Fwmark(256);
        v.add_dest(k, ip("10.0.0.1"), 0, 1, Forward::Masq).unwrap();
        v.add_dest(k, ip("192.168.0.1"), 0, 1, Forward::Masq).unwrap();
        let got = v.ipvsadm_ln();
        let a = got.find("192.168.0.1:0").unwrap();
        let b = got.find("10.0.0.1:0").unwrap();
        assert!(a < b);
    }

    #[test]
    fn tcp_handshake_and_fin_counters() {
        let mut v = fwm3();
        let k = ServiceKey::Fwmark(256);
        let c = (ip("10.0.9.1"), 40000);
        let counts = |v: &Ipvs| {
            let d = v.service(k).unwrap().dests.iter().find(|d| d.addr == ip("10.0.0.7")).unwrap().clone();
            (d.active_conns, d.inact_conns)
        };
        let o = v.schedule_pkt(0, 256, IPPROTO_TCP, c, VIP, Some(TcpFlags::SYN));
        let (id, r) = (conn_of(&o), real(&o));
        assert_eq!(v.conn(id).unwrap().state, TcpState::SynRecv);
        assert_eq!(counts(&v), (0, 1));
        assert_eq!(v.reply_pkt(S / 1000, IPPROTO_TCP, r, c, Some(TcpFlags::SYN_ACK)), Some(VIP));
        assert_eq!(v.conn(id).unwrap().state, TcpState::SynRecv);
        assert_eq!(counts(&v), (0, 1));
        v.schedule_pkt(2 * S / 1000, 256, IPPROTO_TCP, c, VIP, Some(TcpFlags::ACK));
        assert_eq!(v.conn(id).unwrap().state, TcpState::Established);
        assert_eq!(counts(&v), (1, 0));
        assert!(v.ipvsadm_ln().contains("  -> 10.0.0.7:0                   Masq    1      1          0         \n"));
        assert_eq!(
            v.ipvsadm_lnc(S),
            "IPVS connection entries\n\
             pro expire state       source             virtual            destination\n\
             TCP 14:59  ESTABLISHED 10.0.9.1:40000     10.0.0.2:80        10.0.0.7:80\n"
        );
        // Client FIN: ESTABLISHED → CLOSE_WAIT (INPUT table), counted inactive again.
        v.schedule_pkt(10 * S, 256, IPPROTO_TCP, c, VIP, Some(TcpFlags::FIN_ACK));
        assert_eq!(v.conn(id).unwrap().state, TcpState::CloseWait);
        assert_eq!(counts(&v), (0, 1));
        // Server FIN → TIME_WAIT (120 s), final ACK keeps TIME_WAIT.
        v.reply_pkt(11 * S, IPPROTO_TCP, r, c, Some(TcpFlags::FIN_ACK));
        v.schedule_pkt(12 * S, 256, IPPROTO_TCP, c, VIP, Some(TcpFlags::ACK));
        let conn = v.conn(id).unwrap();
        assert_eq!((conn.state, conn.timeout_s, conn.expires), (TcpState::TimeWait, 120, 132 * S));
        assert!(v.ipvsadm_lnc(12 * S).contains("TCP 02:00  TIME_WAIT"));
        v.expire(132 * S);
        assert_eq!(counts(&v), (0, 0));
        assert!(v.conn(id).is_none());
    }

    #[test]
    fn server_fin_goes_fin_wait_and_tcp_flags_api() {
        let mut v = fwm3();
        let c = (ip("10.0.9.1"), 40000);
        let o = v.schedule(0, 256, IPPROTO_TCP, c, VIP);
        let id = conn_of(&o);
        assert_eq!(v.conn(id).unwrap().timeout_s, 3, "no flags yet: ip_vs_conn_new's 3 s");
        v.tcp_flags(0, id, Dir::Input, TcpFlags::SYN);
        v.tcp_flags(0, id, Dir::Output, TcpFlags::SYN_ACK);
        v.tcp_flags(0, id, Dir::Input, TcpFlags::ACK);
        assert_eq!(v.conn(id).unwrap().timeout_s, 900);
        v.tcp_flags(S, id, Dir::Output, TcpFlags::FIN_ACK);
        let conn = v.conn(id).unwrap();
        assert_eq!((conn.state, conn.timeout_s, conn.inactive), (TcpState::FinWait, 120, true));
        v.tcp_flags(2 * S, id, Dir::Input, TcpFlags::RST);
        assert_eq!(v.conn(id).unwrap().state, TcpState::Close);
        assert_eq!(v.conn(id).unwrap().timeout_s, 10);
        assert_eq!(v.timeouts(), (900, 120, 300));
        assert_eq!(v.ipvsadm_timeout(), "Timeout (tcp tcpfin udp): 900 120 300\n");
    }

    #[test]
    fn tcp_without_syn_is_not_scheduled() {
        let mut v = fwm3();
        let c = (ip("10.0.9.1"), 40000);
        assert_eq!(v.schedule_pkt(0, 256, IPPROTO_TCP, c, VIP, Some(TcpFlags::ACK)), InOutcome::NotIpvs);
        assert_eq!(v.schedule_pkt(0, 256, IPPROTO_TCP, c, VIP, Some(TcpFlags::RST)), InOutcome::NotIpvs);
        assert_eq!(v.conns().count(), 0);
    }

    #[test]
    fn time_wait_reuse() {
        let mut v = fwm3();
        let c = (ip("10.0.9.1"), 40000);
        let a = v.schedule_pkt(0, 256, IPPROTO_TCP, c, VIP, Some(TcpFlags::SYN));
        let id = conn_of(&a);
        v.tcp_flags(0, id, Dir::Output, TcpFlags::FIN_ACK); // SYN_RECV → TIME_WAIT
        assert_eq!(v.conn(id).unwrap().state, TcpState::TimeWait);
        let b = v.schedule_pkt(S, 256, IPPROTO_TCP, c, VIP, Some(TcpFlags::SYN));
        assert!(matches!(b, InOutcome::Scheduled { new: true, .. }));
        assert_ne!(real(&a), real(&b), "rescheduled to the next dest");
        assert!(v.conn(id).is_none());
        // conn_reuse_mode = 0: the TIME_WAIT connection is reused.
        let mut v = fwm3();
        v.sysctls.conn_reuse_mode = 0;
        let a = v.schedule_pkt(0, 256, IPPROTO_TCP, c, VIP, Some(TcpFlags::SYN));
        v.tcp_flags(0, conn_of(&a), Dir::Output, TcpFlags::FIN_ACK);
        let b = v.schedule_pkt(S, 256, IPPROTO_TCP, c, VIP, Some(TcpFlags::SYN));
        assert!(matches!(b, InOutcome::Scheduled { new: false, .. }));
    }

    #[test]
    fn deleted_dest_drops_and_rr_cursor_moves() {
        let mut v = fwm3();
        let k = ServiceKey::Fwmark(256);
        let c = (ip("10.0.9.1"), 1);
        let r = real(&v.schedule(0, 256, IPPROTO_UDP, c, VIP)); // .7, cursor on .7
        v.del_dest(k, ip("10.0.0.7"), 0).unwrap();
        assert!(matches!(v.schedule(S, 256, IPPROTO_UDP, c, VIP), InOutcome::Drop { .. }));
        assert_eq!(v.conns().count(), 1, "kept until it expires");
        // Cursor was on the removed first entry → head → next pick is the new first entry (.6).
        assert_eq!(real(&v.schedule(S, 256, IPPROTO_UDP, (c.0, 2), VIP)).0, ip("10.0.0.6"));
        v.sysctls.expire_nodest_conn = true;
        assert!(matches!(v.schedule(2 * S, 256, IPPROTO_UDP, c, VIP), InOutcome::Drop { .. }));
        assert!(!v.is_ipvs(IPPROTO_UDP, c, r));
        let o = v.schedule(3 * S, 256, IPPROTO_UDP, c, VIP);
        assert!(matches!(o, InOutcome::Scheduled { new: true, .. }));
        assert_eq!(real(&o).0, ip("10.0.0.5"));
    }

    #[test]
    fn readded_dest_recounts_conns() {
        let mut v = fwm3();
        let k = ServiceKey::Fwmark(256);
        v.schedule(0, 256, IPPROTO_UDP, (ip("10.0.9.1"), 1), VIP);
        v.del_dest(k, ip("10.0.0.7"), 0).unwrap();
        v.add_dest(k, ip("10.0.0.7"), 0, 1, Forward::Masq).unwrap();
        assert_eq!(v.service(k).unwrap().dests[0].inact_conns, 1);
        assert!(matches!(
            v.schedule(S, 256, IPPROTO_UDP, (ip("10.0.9.1"), 1), VIP),
            InOutcome::Scheduled { new: false, .. }
        ));
        v.expire(1000 * S);
        assert_eq!(v.service(k).unwrap().dests[0].inact_conns, 0);
    }

    #[test]
    fn wrr_and_lc() {
        let mut v = Ipvs::new();
        let k = ServiceKey::Fwmark(256);
        v.add_service(k, Scheduler::Wrr).unwrap();
        v.add_dest(k, ip("10.0.0.5"), 0, 1, Forward::Masq).unwrap();
        v.add_dest(k, ip("10.0.0.6"), 0, 3, Forward::Masq).unwrap(); // list: [.6 (3), .5 (1)]
        let picks: Vec<u8> =
            (0..8).map(|i| real(&v.schedule(0, 256, IPPROTO_UDP, (ip("10.0.9.1"), i), VIP)).0.octets()[3]).collect();
        // Adding .6 left cw at 1 (ip_vs_wrr_dest_changed keeps cw <= mw), so the first round is cw = 1.
        assert_eq!(picks, [6, 5, 6, 6, 6, 5, 6, 6]);

        let mut v = Ipvs::new();
        v.add_service(k, Scheduler::Lc).unwrap();
        v.add_dest(k, ip("10.0.0.5"), 0, 1, Forward::Masq).unwrap();
        v.add_dest(k, ip("10.0.0.6"), 0, 1, Forward::Masq).unwrap();
        let a = v.schedule_pkt(0, 256, IPPROTO_TCP, (ip("10.0.9.1"), 1), VIP, Some(TcpFlags::SYN));
        assert_eq!(real(&a).0, ip("10.0.0.6"), "tie: first in list");
        v.tcp_flags(0, conn_of(&a), Dir::Input, TcpFlags::ACK); // → ESTABLISHED, overhead 256
        let picks: Vec<u8> =
            (2..6).map(|i| real(&v.schedule(0, 256, IPPROTO_UDP, (ip("10.0.9.1"), i), VIP)).0.octets()[3]).collect();
        assert_eq!(picks, [5, 5, 5, 5], "inactive conns weigh 1, active 256");
    }

    #[test]
    fn config_errors() {
        let mut v = Ipvs::new();
        let k = ServiceKey::Fwmark(256);
        assert!(v.is_empty());
        assert_eq!(v.del_service(k), Err("No such service".into()));
        assert_eq!(v.add_dest(k, ip("10.0.0.5"), 0, 1, Forward::Masq), Err("Service not defined".into()));
        v.add_service(k, Scheduler::Rr).unwrap();
        assert!(!v.is_empty());
        assert_eq!(v.add_service(k, Scheduler::Rr), Err("Service already exists".into()));
        v.add_dest(k, ip("10.0.0.5"), 0, 1, Forward::Masq).unwrap();
        assert_eq!(v.add_dest(k, ip("10.0.0.5"), 0, 1, Forward::Masq), Err("Destination already exists".into()));
        assert_eq!(v.del_dest(k, ip("10.0.0.6"), 0), Err("No such destination".into()));
        assert_eq!(v.edit_dest(k, ip("10.0.0.6"), 0, 1, Forward::Masq), Err("No such destination".into()));
        v.del_dest(k, ip("10.0.0.5"), 0).unwrap();
        v.del_service(k).unwrap();
        assert!(v.is_empty());
        assert_eq!(tcp_states().len(), 11);
    }
}
