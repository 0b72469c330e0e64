//! Sockets as programs see them: the calls a program makes (bind, sendto, a ping socket's
//! echo requests, a local port) and what the kernel hands back to it when something arrives
//! (`Userland`). TCP's state machine is in `tcp`.
//!
//! Each socket belongs to an owner, a number the program side chose (netsim's programs use
//! their index); the kernel only stores it and passes it back, as Linux passes a file
//! descriptor's wakeup to whichever process holds it.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use super::tcp::TcpKey;
use super::trace::{Dir, Local, Sent, Why};
use super::{DevId, Kernel, NsId, defaults};
use crate::engine::SimTime;
use crate::wire::{self, Ipv4Params};

/// What a socket call can fail with, named as errno names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Errno {
    /// No route to the destination.
    ENETUNREACH,
    /// No free local port.
    EADDRNOTAVAIL,
}

/// A socket's route (`sk_dst_cache`): empty until its first send, refilled whenever
/// `Kernel::route_cached` finds it stale.
#[derive(Clone, Copy, Debug, Default)]
pub struct DstCache(Option<CachedDst>);

#[derive(Clone, Copy, Debug)]
struct CachedDst {
    /// `Kernel::dst_gen` when it was made.
    made: u64,
    ns: NsId,
    dst: Ipv4Addr,
    rt: super::l3::OutRoute,
    src: Ipv4Addr,
    mtu: u32,
    /// When the learnt path MTU in `mtu` expires (`SimTime::MAX` if none applies).
    until: SimTime,
}

impl CachedDst {
    fn dst_now(&self) -> Dst {
        Dst { rt: self.rt, src: self.src, mtu: self.mtu }
    }
}

/// Where a socket's packet to one destination goes: the route, the source the route picks,
/// and the MTU the packet must fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dst {
    pub rt: super::l3::OutRoute,
    pub src: Ipv4Addr,
    pub mtu: u32,
}

/// `IP_MTU_DISCOVER` (ip(7)), as `ping -M` names it: whether a socket's packets carry DF.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Pmtudisc {
    /// The default (`ip_no_pmtu_disc=0`): DF when the packet fits the path MTU; a bigger
    /// one leaves in fragments without it.
    #[default]
    Want,
    /// DF always; a packet bigger than the path MTU fails with EMSGSIZE.
    Do,
    /// Never DF.
    Dont,
    /// DF always, checked against the device's MTU only (the path MTU is not used).
    Probe,
}

impl Pmtudisc {
    pub fn is_want(&self) -> bool {
        *self == Pmtudisc::Want
    }
}

/// Why an echo request could not be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PingSendError {
    /// connect()'s route lookup failed (ENETUNREACH).
    Unreachable,
    /// EMSGSIZE under `-M do`/`probe`: the packet exceeds this MTU.
    TooBig { mtu: u32 },
}

impl Errno {
    /// strerror(3)'s words.
    pub fn text(self) -> &'static str {
        match self {
            Errno::ENETUNREACH => "Network is unreachable",
            Errno::EADDRNOTAVAIL => "Cannot assign requested address",
        }
    }
}

/// The program side of the kernel: what a socket's owner is told, within the event that
/// caused it, after the kernel's own answer (an ACK, a conntrack entry) has gone. A
/// userland decides when its programs run: netsim's (`userland::Programs`) run a wake-up
/// later, as a process the scheduler wakes does. Each call gets the kernel back, to make its
/// own socket calls and to reach its own state in `Kernel::user`.
pub trait Userland: Clone + Default + Sized {
    /// A datagram arrived for UDP port `to.1`, bound by `owner`.
    fn udp_rx(k: &mut Kernel<Self>, ns: NsId, owner: usize, from: (Ipv4Addr, u16), to: (Ipv4Addr, u16), data: &[u8]);
    /// An echo reply for the ping socket `owner` holds.
    fn echo_reply(k: &mut Kernel<Self>, ns: NsId, owner: usize, from: Ipv4Addr, ttl: u8, seq: u16);
    /// An ICMP error about an echo request of `owner`'s ping socket; `what` in iputils' words.
    fn echo_error(k: &mut Kernel<Self>, ns: NsId, owner: usize, from: Ipv4Addr, seq: u16, what: &str);
    /// A SYN arrived for `owner`'s listening port and its connection is in SYN_RECV, told at
    /// once rather than at accept(2) so a server that speaks first (MySQL's greeting) can
    /// queue its bytes with `tcp_queue`; they leave once the handshake completes and the
    /// program has been told (`tcp_established`, `tcp_uncork`). The SYN-ACK goes out right
    /// after this returns.
    fn tcp_accepted(k: &mut Kernel<Self>, ns: NsId, owner: usize, key: TcpKey);
    /// A connection that came to `owner`'s listening port is established: accept(2)
    /// returns it. Told when the handshake's ACK has been taken, before what it carries;
    /// what the program queued at `tcp_accepted` waits for its `tcp_uncork`.
    fn tcp_established(k: &mut Kernel<Self>, ns: NsId, _owner: usize, key: TcpKey) {
        k.tcp_uncork(ns, key)
    }
    /// A connection `owner` opened is established: connect(2) returns. Told after the
    /// handshake's ACK has gone out; what the program gave `tcp_connect` waits for its
    /// `tcp_uncork`.
    fn tcp_connected(k: &mut Kernel<Self>, ns: NsId, _owner: usize, key: TcpKey) {
        k.tcp_uncork(ns, key)
    }
    /// In-order bytes arrived on a connection of `owner`.
    fn tcp_data(k: &mut Kernel<Self>, ns: NsId, owner: usize, key: TcpKey, data: &[u8]);
    /// The peer closed its side (FIN): read(2) returns 0. The program's close follows its
    /// `tcp_read_eof`.
    fn tcp_eof(k: &mut Kernel<Self>, ns: NsId, owner: usize, key: TcpKey);
    /// The connection failed (refused, reset, timed out, an ICMP error in SYN_SENT): `what`
    /// in strerror's words.
    fn tcp_failed(k: &mut Kernel<Self>, ns: NsId, owner: usize, key: TcpKey, what: &str);
    /// A timer `owner` set with `Kernel::set_timer` fired.
    fn timer(k: &mut Kernel<Self>, owner: usize, tag: u32);
    /// An ICMP message for the raw ICMP socket `owner` holds (`raw_local_deliver`, before
    /// the stack's own ICMP handling): its source, the IP header's TTL, and the ICMP bytes.
    fn icmp_raw(_k: &mut Kernel<Self>, _ns: NsId, _owner: usize, _from: Ipv4Addr, _ttl: u8, _icmp: &[u8]) {}
}

/// No programs at all: a kernel that only forwards, answers ARP and pings, and sends RSTs.
impl Userland for () {
    fn udp_rx(_: &mut Kernel<()>, _: NsId, _: usize, _: (Ipv4Addr, u16), _: (Ipv4Addr, u16), _: &[u8]) {}
    fn echo_reply(_: &mut Kernel<()>, _: NsId, _: usize, _: Ipv4Addr, _: u8, _: u16) {}
    fn echo_error(_: &mut Kernel<()>, _: NsId, _: usize, _: Ipv4Addr, _: u16, _: &str) {}
    fn tcp_accepted(_: &mut Kernel<()>, _: NsId, _: usize, _: TcpKey) {}
    fn tcp_data(_: &mut Kernel<()>, _: NsId, _: usize, _: TcpKey, _: &[u8]) {}
    fn tcp_eof(k: &mut Kernel<()>, ns: NsId, _: usize, key: TcpKey) {
        k.tcp_read_eof(ns, key)
    }
    fn tcp_failed(_: &mut Kernel<()>, _: NsId, _: usize, _: TcpKey, _: &str) {}
    fn timer(_: &mut Kernel<()>, _: usize, _: u32) {}
}

/// What a socket is bound to beyond its port: a local address (`bind(2)`), or a device
/// (`SO_BINDTODEVICE`), which its packets leave through whatever the routes say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SockBind {
    Addr(Ipv4Addr),
    Dev(DevId),
}

impl<U: Userland> Kernel<U> {
    /// The source a socket bound with `bind` sends to `dst` from: its address, or what the
    /// route through its device chooses (`None`: no way to `dst`).
    pub fn bound_source(&self, ns: NsId, dst: Ipv4Addr, bind: SockBind) -> Option<Ipv4Addr> {
        match bind {
            SockBind::Addr(a) => Some(a),
            SockBind::Dev(d) => self.route_output(ns, dst, Some(d)).map(|(_, src)| src),
        }
    }

    /// A timer for `owner`: `U::timer(owner, tag)` runs `after` from now (timerfd). Inlined
    /// into the programs, as `schedule` is: a program that sends every interval sets one per
    /// send.
    #[inline(always)]
    pub fn set_timer(&mut self, owner: usize, after: SimTime, tag: u32) {
        self.schedule(after, super::Event::App { app: owner, tag });
    }

    /// Binds an ICMP echo identifier for `owner` (ping_get_port, net/ipv4/ping.c): from a
    /// random start, the next identifier no ping socket of this namespace holds; `None` with
    /// all 65536 held (sendmsg's autobind fails with EAGAIN).
    pub fn bind_ping(&mut self, ns: NsId, owner: usize) -> Option<u16> {
        let start = self.rng.next_u32() as u16;
        let held = &self.netns(ns).ping;
        let ident = (0..=u16::MAX).map(|k| start.wrapping_add(k)).find(|id| !held.contains_key(id))?;
        self.netns_mut(ns).ping.insert(ident, owner);
        Some(ident)
    }

    /// Closes `owner`'s ping socket: its identifier is free again.
    pub fn close_ping(&mut self, ns: NsId, ident: u16, owner: usize) {
        if self.netns(ns).ping.get(&ident) == Some(&owner) {
            self.netns_mut(ns).ping.remove(&ident);
            self.netns_mut(ns).ping_dev.remove(&ident);
        }
    }

    /// `SO_BINDTODEVICE` on the ping socket `ident`.
    pub fn bind_ping_dev(&mut self, ns: NsId, ident: u16, dev: DevId) {
        self.netns_mut(ns).ping_dev.insert(ident, dev);
    }

    /// Whether ICMP for ping socket `ident` that came in on `dev` reaches it.
    fn ping_hears(&mut self, ns: NsId, dev: DevId, ident: u16) -> bool {
        match self.netns(ns).ping_dev.get(&ident) {
            Some(&bound) if bound != dev => {
                self.deliver_note(ns, dev, Local::PingBoundElsewhere { ident });
                false
            }
            _ => true,
        }
    }

    /// Sends an echo request from a ping socket (the payload as the program made it, the TTL
    /// `IP_TTL` set, if any);
    /// `connect()`'s route lookup fails with ENETUNREACH, a packet too big for `-M do` with
    /// EMSGSIZE.
    /// A socket bound with `bind` sends from its address, or only through its device. With
    /// `confirm` (MSG_CONFIRM), the neighbour the request goes through is confirmed first
    /// (`ping_v4_sendmsg` → `dst_confirm_neigh`).
    #[allow(clippy::too_many_arguments)]
    pub fn ping_send(
        &mut self,
        ns: NsId,
        dst: Ipv4Addr,
        ident: u16,
        seq: u16,
        data: &[u8],
        pmtudisc: Pmtudisc,
        ttl: Option<u8>,
        bind: Option<SockBind>,
        confirm: bool,
    ) -> Result<(), PingSendError> {
        let oif = match bind {
            Some(SockBind::Dev(d)) => Some(d),
            _ => None,
        };
        let Some((rt, src)) = self.route_output(ns, dst, oif) else { return Err(PingSendError::Unreachable) };
        let src = match bind {
            Some(SockBind::Addr(a)) => a,
            _ => src,
        };
        let df = self.dont_fragment(ns, rt, dst, 20 + 8 + data.len(), pmtudisc)?;
        if confirm {
            self.neigh_confirm(ns, dst);
        }
        let id = self.next_ip_id(ns);
        let ttl = ttl.unwrap_or(defaults::TTL);
        let p = Ipv4Params { src, dst, proto: wire::PROTO_ICMP, ttl, id, df, tos: 0 };
        let f = wire::icmp_echo_frame(&p, false, ident, seq, data);
        self.originate(|w| {
            w.note(|| Why::Sent(Sent::EchoRequest { dst, seq }));
            w.ip_output(ns, f, rt, oif);
        });
        Ok(())
    }

    /// `__ip_make_skb`'s DF for a packet of `len` bytes on route `rt`: always under `do` and
    /// `probe` (which fail with EMSGSIZE when it does not fit, `ip_append_data`), never under
    /// `dont`, and under `want` when it fits the path MTU (a bigger one is fragmented).
    pub(crate) fn dont_fragment(
        &self,
        ns: NsId,
        rt: super::l3::OutRoute,
        dst: Ipv4Addr,
        len: usize,
        pmtudisc: Pmtudisc,
    ) -> Result<bool, PingSendError> {
        let mtu = match pmtudisc {
            Pmtudisc::Probe => self.dev(self.out_dev(ns, rt)).mtu,
            _ => self.route_mtu(ns, rt, dst),
        };
        let fits = len <= mtu as usize;
        match pmtudisc {
            Pmtudisc::Do | Pmtudisc::Probe if !fits => Err(PingSendError::TooBig { mtu }),
            Pmtudisc::Do | Pmtudisc::Probe => Ok(true),
            Pmtudisc::Dont => Ok(false),
            Pmtudisc::Want => Ok(fits),
        }
    }

    /// Opens a raw ICMP socket for `owner`, bound to the local address `bind` (unspecified:
    /// any): every ICMP message for that address is handed to it (`Userland::icmp_raw`).
    pub fn open_raw_icmp(&mut self, ns: NsId, owner: usize, bind: Ipv4Addr) {
        self.netns_mut(ns).raw_icmp.push((bind, owner));
    }

    /// Closes `owner`'s raw ICMP sockets.
    pub fn close_raw_icmp(&mut self, ns: NsId, owner: usize) {
        self.netns_mut(ns).raw_icmp.retain(|&(_, o)| o != owner);
    }

    /// `raw_v4_input`: a copy of an ICMP message to each raw ICMP socket bound to its
    /// destination or to any address.
    pub(crate) fn icmp_to_raw(&mut self, ns: NsId, info: &wire::Ipv4Info, ip: &[u8]) {
        let l4 = &ip[info.ihl..info.total_len];
        let owners: Vec<usize> = self
            .netns(ns)
            .raw_icmp
            .iter()
            .filter(|(b, _)| b.is_unspecified() || *b == info.dst)
            .map(|&(_, o)| o)
            .collect();
        for owner in owners {
            U::icmp_raw(self, ns, owner, info.src, info.ttl, l4);
        }
    }

    /// Whether a UDP port of `ns` is bound.
    pub fn udp_bound(&self, ns: NsId, port: u16) -> bool {
        self.netns(ns).udp.contains_key(&port)
    }

    /// Closes the UDP socket bound to `port`.
    pub fn unbind_udp(&mut self, ns: NsId, port: u16) {
        self.netns_mut(ns).udp.remove(&port);
    }

    /// Binds UDP port `port` for `owner` unless it is held; an owner that already holds it
    /// keeps it.
    pub fn bind_udp_shared(&mut self, ns: NsId, port: u16, owner: usize) {
        self.netns_mut(ns).udp.entry(port).or_insert(owner);
    }

    pub fn bind_udp(&mut self, ns: NsId, port: u16, owner: usize, name: &str) -> Result<(), String> {
        if self.netns(ns).udp.contains_key(&port) {
            return Err(format!("UDP port {port} is already bound in `{name}` (EADDRINUSE)"));
        }
        self.netns_mut(ns).udp.insert(port, owner);
        Ok(())
    }

    pub fn listen_tcp(&mut self, ns: NsId, port: u16, owner: usize, name: &str) -> Result<(), String> {
        self.listen_tcp_on(ns, None, port, owner, name)
    }

    /// listen(2) on `port` of one local address (`Some`) or of every one.
    pub fn listen_tcp_on(
        &mut self,
        ns: NsId,
        addr: Option<Ipv4Addr>,
        port: u16,
        owner: usize,
        name: &str,
    ) -> Result<(), String> {
        if self.netns(ns).tcp_listen.contains_key(&port) {
            return Err(format!("TCP port {port} is already listening in `{name}` (EADDRINUSE)"));
        }
        let n = self.netns_mut(ns);
        n.tcp_listen.insert(port, owner);
        if let Some(a) = addr.filter(|a| !a.is_unspecified()) {
            n.tcp_listen_addr.insert(port, a);
        }
        Ok(())
    }

    /// The listener a SYN to `dst:port` reaches (`__inet_lookup_listener`): one bound to
    /// that address or to every one.
    pub(crate) fn tcp_listener(&self, ns: NsId, dst: Ipv4Addr, port: u16) -> Option<usize> {
        let n = self.netns(ns);
        let owner = *n.tcp_listen.get(&port)?;
        n.tcp_listen_addr.get(&port).is_none_or(|a| *a == dst).then_some(owner)
    }

    /// close(2) on `owner`'s listening socket on `port`: a SYN to it is answered with a
    /// reset from now on. Connections it accepted stay.
    pub fn unlisten_tcp(&mut self, ns: NsId, port: u16, owner: usize) {
        if self.netns(ns).tcp_listen.get(&port) == Some(&owner) {
            self.netns_mut(ns).tcp_listen.remove(&port);
            self.netns_mut(ns).tcp_listen_addr.remove(&port);
        }
    }

    pub fn ephemeral_port(&mut self) -> u16 {
        let (lo, hi) = defaults::EPHEMERAL;
        self.rng.range(lo as u64, hi as u64) as u16
    }

    /// A local port for an outgoing socket, as `__inet_hash_connect`
    /// (net/ipv4/inet_hashtables.c) finds one: from a random offset, every port of
    /// `ip_local_port_range` in turn until one is free; `None` when all are held, which Linux
    /// reports as EADDRNOTAVAIL.
    pub fn free_ephemeral_port(&mut self, held: impl Fn(&Kernel<U>, u16) -> bool) -> Option<u16> {
        let (lo, hi) = defaults::EPHEMERAL;
        let start = self.ephemeral_port() - lo;
        let n = hi - lo + 1;
        (0..n).map(|k| lo + (start + k) % n).find(|&p| !held(self, p))
    }

    /// sendto(2) on a UDP socket of `ns` bound to `sport` (and to the address `bound`, which is
    /// then the source whatever the route prefers), with the TTL `IP_TTL` set, if any. `who`
    /// names the sender in the packet's reasons. Fails as sendto does when no route leads to
    /// `dst` (ENETUNREACH).
    #[allow(clippy::too_many_arguments)]
    pub fn udp_sendto(
        &mut self,
        ns: NsId,
        bound: Option<Ipv4Addr>,
        dst: Ipv4Addr,
        dport: u16,
        sport: u16,
        payload: &[u8],
        ttl: Option<u8>,
        who: Cow<'static, str>,
    ) -> Result<(), Errno> {
        self.udp_sendto_cached(&mut DstCache::default(), ns, bound, dst, dport, sport, payload, ttl, who)
    }

    /// `udp_sendto` from a socket that keeps its route in `cache` between sends.
    #[allow(clippy::too_many_arguments)]
    pub fn udp_sendto_cached(
        &mut self,
        cache: &mut DstCache,
        ns: NsId,
        bound: Option<Ipv4Addr>,
        dst: Ipv4Addr,
        dport: u16,
        sport: u16,
        payload: &[u8],
        ttl: Option<u8>,
        who: Cow<'static, str>,
    ) -> Result<(), Errno> {
        let Some(Dst { rt, src, mtu }) = self.route_cached(cache, ns, dst) else { return Err(Errno::ENETUNREACH) };
        let src = bound.unwrap_or(src);
        // Linux 6.18 gives DF-set UDP a running IP ID (seen: 0x9306, 0x9307 from one socket).
        // DF as `dont_fragment` gives it under `want`: when the packet fits the path MTU.
        let df = 20 + 8 + payload.len() <= mtu as usize;
        let id = self.next_ip_id(ns);
        let ttl = ttl.unwrap_or(defaults::TTL);
        let p = Ipv4Params { src, dst, proto: wire::PROTO_UDP, ttl, id, df, tos: 0 };
        let f = wire::udp_frame(&p, sport, dport, payload);
        let n = payload.len();
        self.originate(|w| {
            w.note(|| Why::Sent(Sent::Udp { who, bytes: n, dst, dport }));
            // The checksum is offloaded (`csum_partial`): udp_send_skb leaves it to the device.
            w.csum_partial = true;
            w.ip_output_on(ns, f, rt, mtu);
        });
        Ok(())
    }

    /// The route, source and path MTU toward `dst` (no bound device), from `cache` while
    /// nothing it was made from has changed: `__sk_dst_check` (net/core/sock.c) checks a
    /// socket's `sk_dst_cache` (include/net/sock.h) against the route's generation before each
    /// use, and so is this checked against `Kernel::dst_gen`, which every change of a route,
    /// an address, a device or a learnt path MTU moves on, and against the time a learnt path
    /// MTU it holds expires. `None` (ENETUNREACH) is not kept.
    #[inline]
    pub(crate) fn route_cached(&self, cache: &mut DstCache, ns: NsId, dst: Ipv4Addr) -> Option<Dst> {
        if let Some(c) = &cache.0
            && c.made == self.dst_gen
            && c.ns == ns
            && c.dst == dst
            && self.now < c.until
        {
            debug_assert_eq!(Some(c.dst_now()), self.route_uncached(ns, dst).map(|(d, _)| d), "a stale route");
            return Some(c.dst_now());
        }
        let (d, until) = self.route_uncached(ns, dst)?;
        cache.0 = Some(CachedDst { made: self.dst_gen, ns, dst, rt: d.rt, src: d.src, mtu: d.mtu, until });
        Some(d)
    }

    fn route_uncached(&self, ns: NsId, dst: Ipv4Addr) -> Option<(Dst, SimTime)> {
        let (rt, src) = self.route_output(ns, dst, None)?;
        let (mtu, until) = self.route_mtu_until(ns, rt, dst);
        Some((Dst { rt, src, mtu }, until))
    }

    /// A datagram for the UDP socket of `app`, the owner of its destination port.
    pub(crate) fn udp_to_app(&mut self, ns: NsId, dev: DevId, app: usize, info: &wire::Ipv4Info, ip: &[u8]) {
        let l4 = &ip[info.ihl..info.total_len];
        let (sport, dport) = (u16::from_be_bytes([l4[0], l4[1]]), u16::from_be_bytes([l4[2], l4[3]]));
        let payload = &l4[8..];
        let (src, dst) = (info.src, info.dst);
        self.deliver_note(ns, dev, Local::UdpToPort { src: (src, sport), dport });
        U::udp_rx(self, ns, app, (src, sport), (dst, dport), payload);
    }

    /// Records a delivery to a socket, with what it was, when tracing (checked inline:
    /// every datagram received passes here).
    #[inline(always)]
    pub(crate) fn deliver_note(&mut self, ns: NsId, dev: DevId, what: Local) {
        if self.explaining() {
            let mark = self.why_mark();
            self.why.push(Why::Local(what));
            self.record(ns, Some(dev), Dir::Deliver, None);
            self.why_reset(mark);
        }
    }

    /// ICMP that is not an echo request: replies for ping, errors for whoever sent the
    /// quoted packet.
    pub(crate) fn icmp_to_app(&mut self, ns: NsId, dev: DevId, info: &wire::Ipv4Info, ip: &[u8]) {
        let l4 = &ip[info.ihl..info.total_len];
        let (ty, code) = (l4[0], l4[1]);
        if ty == 0 {
            let (ident, seq) = (u16::from_be_bytes([l4[4], l4[5]]), u16::from_be_bytes([l4[6], l4[7]]));
            let Some(&app) = self.netns(ns).ping.get(&ident) else {
                return self.deliver_note(ns, dev, Local::EchoReplyNoSocket { ident });
            };
            if !self.ping_hears(ns, dev, ident) {
                return;
            }
            let (src, ttl) = (info.src, info.ttl);
            self.deliver_note(ns, dev, Local::EchoReplyToSocket { ident });
            U::echo_reply(self, ns, app, src, ttl, seq);
            return;
        }
        if !(ty == 3 || ty == 11) || l4.len() < 8 + 20 {
            return self.deliver_note(ns, dev, Local::IcmpIgnored { ty, code });
        }
        let quoted = &l4[8..];
        let Ok(q) = wire::ipv4::header(quoted) else {
            return self.deliver_note(ns, dev, Local::IcmpQuotesNothing { ty, code });
        };
        let (qihl, qproto, (qsrc, qdst)) = (q.slice().len(), q.protocol().0, wire::ipv4::addrs(&q));
        let from = info.src;
        // The next-hop MTU of a "fragmentation needed" (RFC 1191); 0 in any other error.
        let mtu = if (ty, code) == (3, 4) { u16::from_be_bytes([l4[6], l4[7]]) } else { 0 };
        self.deliver_note(ns, dev, Local::IcmpErrorAbout { dst: qdst, ty, code, mtu });
        let what = icmp_error_text(ty, code, mtu);
        // The sockets' err handlers (ping_err, __udp4_lib_err, tcp_v4_err) lower the path MTU
        // toward the quoted destination, for every later packet of this namespace to it.
        if mtu > 0 && self.netns(ns).addrs.iter().any(|a| a.addr.addr == qsrc) {
            self.update_pmtu(ns, qdst, u32::from(mtu));
        }
        if quoted.len() < qihl + 8 {
            return;
        }
        let q4 = &quoted[qihl..];
        match qproto {
            wire::PROTO_ICMP => {
                let (ident, seq) = (u16::from_be_bytes([q4[4], q4[5]]), u16::from_be_bytes([q4[6], q4[7]]));
                if let Some(&app) = self.netns(ns).ping.get(&ident)
                    && self.ping_hears(ns, dev, ident)
                {
                    U::echo_error(self, ns, app, from, seq, &what);
                }
            }
            wire::PROTO_UDP => {
                let sport = u16::from_be_bytes([q4[0], q4[1]]);
                if self.netns(ns).udp.contains_key(&sport) {
                    // udp_err: a connected socket without IP_RECVERR hears only of hard errors.
                    let errno = match icmp_errno(ty, code) {
                        Some((name, _, true)) => format!("{name} on a connected socket"),
                        _ => "no error on a socket without IP_RECVERR".to_string(),
                    };
                    self.app_note(ns, || format!("udp :{sport}: ICMP from {from}: {what} ({errno})"));
                }
            }
            wire::PROTO_TCP => {
                let (sport, dport) = (u16::from_be_bytes([q4[0], q4[1]]), u16::from_be_bytes([q4[2], q4[3]]));
                let key = TcpKey { local: (qsrc, sport), remote: (qdst, dport) };
                let qseq = u32::from_be_bytes([q4[4], q4[5], q4[6], q4[7]]);
                let Some(c) = self.netns(ns).tcp.get(&key) else { return };
                // tcp_v4_err: an error quoting a sequence number outside what is in flight is
                // stale; in SYN_SENT a fatal one ends the connect() with its errno.
                let in_flight = qseq.wrapping_sub(c.snd_una) <= c.snd_nxt.wrapping_sub(c.snd_una);
                match tcp_connect_icmp_error(ty, code) {
                    Some(err) if in_flight && c.state == super::tcp::TcpState::SynSent => {
                        let app = c.owner;
                        self.netns_mut(ns).tcp.remove(&key);
                        self.app_note(ns, || format!("tcp {qsrc}:{sport} → {qdst}:{dport}: {err}"));
                        U::tcp_failed(self, ns, app, key, err);
                    }
                    _ => {
                        self.app_note(ns, || format!("tcp {qsrc}:{sport} → {qdst}:{dport}: ICMP from {from}: {what}"));
                        if mtu > 0 && in_flight {
                            self.tcp_mtu_reduced(ns, key, u32::from(mtu).max(super::frag::MIN_PMTU));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// What iputils' ping prints after `From ADDR icmp_seq=N` for an ICMP error of this type and
/// code, with the next-hop MTU of a "fragmentation needed" (ping4.c, `pr_icmph`). Shared with the kernel backend's agent, so both print the same
/// words.
pub fn icmp_error_text(ty: u8, code: u8, mtu: u16) -> String {
    let what = match (ty, code) {
        (3, 0) => "Destination Net Unreachable",
        (3, 1) => "Destination Host Unreachable",
        (3, 2) => "Destination Protocol Unreachable",
        (3, 3) => "Destination Port Unreachable",
        // The MTU is the error's (`ee_info`), as iputils 20221126 prints it.
        (3, 4) => return format!("Frag needed and DF set (mtu = {mtu})"),
        (3, 5) => "Source Route Failed",
        (3, 6) => "Destination Net Unknown",
        (3, 7) => "Destination Host Unknown",
        (3, 8) => "Source Host Isolated",
        (3, 9) => "Destination Net Prohibited",
        (3, 10) => "Destination Host Prohibited",
        (3, 11) => "Destination Net Unreachable for Type of Service",
        (3, 12) => "Destination Host Unreachable for Type of Service",
        (3, 13) => "Packet filtered",
        (3, 14) => "Precedence Violation",
        (3, 15) => "Precedence Cutoff",
        (3, c) => return format!("Dest Unreachable, Bad Code: {c}"),
        (11, 0) => "Time to live exceeded",
        (11, 1) => "Frag reassembly time exceeded",
        (11, c) => return format!("Time exceeded, Bad Code: {c}"),
        (t, c) => return format!("Bad ICMP type: {t}, code: {c}"),
    };
    what.to_string()
}

/// What an ICMP error means to a socket: `icmp_err_convert` (net/ipv4/icmp.c) for destination
/// unreachable codes 0–15, EHOSTUNREACH for time exceeded and EPROTO for a parameter problem
/// (`tcp_v4_err`, `udp_err`). (errno name, strerror words, fatal: a "hard" error that a
/// connected UDP socket reports without IP_RECVERR; "fragmentation needed" is marked so here
/// because `__udp4_lib_err` reports EMSGSIZE for it although `icmp_err_convert` does not.)
fn icmp_errno(ty: u8, code: u8) -> Option<(&'static str, &'static str, bool)> {
    const NET: (&str, &str) = ("ENETUNREACH", "Network is unreachable");
    const HOST: (&str, &str) = ("EHOSTUNREACH", "No route to host");
    let ((name, text), fatal) = match (ty, code) {
        (3, 0 | 11) => (NET, false),
        (3, 6 | 9) => (NET, true),
        (3, 1 | 12) => (HOST, false),
        (3, 10 | 13..=15) => (HOST, true),
        (3, 2) => (("ENOPROTOOPT", "Protocol not available"), true),
        (3, 3) => (("ECONNREFUSED", "Connection refused"), true),
        (3, 4) => (("EMSGSIZE", "Message too long"), true),
        (3, 5) => (("EOPNOTSUPP", "Operation not supported"), false),
        (3, 7) => (("EHOSTDOWN", "Host is down"), true),
        (3, 8) => (("ENONET", "Machine is not on the network"), true),
        (11, _) => (HOST, false),
        (12, _) => (("EPROTO", "Protocol error"), true),
        _ => return None,
    };
    Some((name, text, fatal))
}

/// The error a TCP connect(2) in SYN_SENT fails with when an ICMP error about its SYN arrives
/// (net/ipv4/tcp_ipv4.c, `tcp_v4_err`: every one ends the attempt but "fragmentation needed",
/// which only lowers the path MTU), in strerror's words.
pub fn tcp_connect_icmp_error(ty: u8, code: u8) -> Option<&'static str> {
    if (ty, code) == (3, 4) {
        return None;
    }
    icmp_errno(ty, code).map(|(_, text, _)| text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Event;
    use crate::wire;

    /// The kernel runs with no programs at all (`Kernel<()>`): a datagram to a port nobody
    /// bound is answered by the kernel itself with ICMP port unreachable, as Linux does
    /// (`__udp4_lib_rcv` → `icmp_send`), and nothing reaches a program.
    #[test]
    fn a_kernel_without_programs_answers_for_itself() {
        let (mut k, _, eth0) = crate::kernel::testkit::veth_pair();
        let p = wire::Ipv4Params {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 0, 2),
            proto: wire::PROTO_UDP,
            ttl: 64,
            id: 1,
            df: true,
            tos: 0,
        };
        let mut f = wire::udp_frame(&p, 40000, 9, b"anyone?");
        wire::write_eth_header(&mut f, crate::kernel::testkit::A_MAC, k.dev(eth0).mac, wire::ETHERTYPE_IPV4);
        k.take_scheduled();
        k.dev_rx(eth0, f);
        let scheduled = k.take_scheduled();
        let answers: Vec<&Vec<u8>> = scheduled
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Arrive { frame, .. } => Some(frame),
                _ => None,
            })
            .collect();
        assert_eq!(answers.len(), 1, "one frame back over the veth");
        let ip = &answers[0][wire::ETH_HLEN..];
        let h = wire::ipv4::header(ip).expect("IPv4");
        assert_eq!((h.protocol().0, h.source_addr(), h.destination_addr()), (wire::PROTO_ICMP, p.dst, p.src));
        let icmp = &ip[h.slice().len()..];
        assert_eq!((icmp[0], icmp[1]), (3, 3), "destination unreachable, port unreachable");
    }

    /// A sender's cached route (`sk_dst_cache`) is dropped when the routes change under it,
    /// as `__sk_dst_check` finds a route obsolete: a more specific route added between two
    /// datagrams takes the next one. (Adding a route leaves the old one where it was, so a
    /// cache that missed the change would still send through eth0.)
    #[test]
    fn a_cached_route_is_dropped_when_a_route_changes_mid_run() {
        use crate::plan::{Plan, RoutePlan};
        use crate::scenario::Loaded;
        use crate::sim::Until;
        let text = r#"Scenario(name: "t", seed: 5, plan: (
            namespaces: [(name: "a"), (name: "b"), (name: "c")],
            links: [
                Veth(name: "eth0", ns: "a", peer: "eth0", peer_ns: "b"),
                Veth(name: "eth1", ns: "a", peer: "eth0", peer_ns: "c"),
            ],
            addresses: [
                (ns: "a", dev: "eth0", addr: "10.0.0.1/24"), (ns: "b", dev: "eth0", addr: "10.0.0.2/24"),
                (ns: "a", dev: "eth1", addr: "10.0.1.1/24"), (ns: "c", dev: "eth0", addr: "10.0.1.2/24"),
            ],
            routes: [(ns: "a", dst: "10.9.0.0/16", via: "10.0.0.2")],
        ), traffic: [UdpSend(ns: "a", dst: "10.9.0.9", dport: 9, payload: "x", count: 3, interval: "1s")])"#;
        let l = Loaded::from_str("inline.ron", text).unwrap_or_else(|e| panic!("{e}"));
        let mut s = l.build(None).unwrap_or_else(|e| panic!("{e}"));
        // Two datagrams (at 0 and 1 s) on the /16 route, the third (2 s) after the change.
        s.run_until(Until::Time(SimTime::from_millis(1500)));
        let more = Plan {
            routes: vec![RoutePlan {
                ns: "a".into(),
                dst: "10.9.0.0/24".parse().expect("a prefix"),
                via: Some(Ipv4Addr::new(10, 0, 1, 2)),
                dev: None,
                src: None,
                metric: 0,
            }],
            ..Plan::default()
        };
        s.world.extend(&more).unwrap_or_else(|e| panic!("{e}"));
        s.run_until(Until::Idle);
        let a = s.world.ns_by_name("a").expect("a");
        let udp_out = |dev: &str| {
            let d = s.world.dev_by_name(a, dev).expect("device");
            s.records()
                .iter()
                .filter(|r| r.dir == super::Dir::Tx && r.dev == Some(d))
                .filter_map(|r| r.frame.as_deref())
                .filter(|f| wire::ipv4_info(&f[wire::ETH_HLEN..]).is_ok_and(|i| i.proto == wire::PROTO_UDP))
                .count()
        };
        assert_eq!((udp_out("eth0"), udp_out("eth1")), (2, 1));
    }
}
