//! The IPv4 stack of a namespace: ARP and the neighbour table, routing with longest-prefix
//! match, forwarding, local delivery and ICMP errors, with netfilter at Linux's five hooks.

use std::net::Ipv4Addr;

use crate::engine::SimTime;
use crate::kernel::frag::DefragUser;
use crate::kernel::ipvs::{Forward, InOutcome, IpvsNote, TcpFlags};
use crate::kernel::netfilter::{AddrType, Hook, HookCtx, InputStage, Netfilter, PacketMeta, RejectWith, Verdict};
use crate::kernel::trace::{Dir, DropReason, Local, Sent, Why};
use crate::kernel::{DevId, DevKind, Event, IfAddr, Kernel, Neigh, NsId, Nud, Userland, defaults, wheel};
use crate::wire::{self, ArpRepr, IcmpError, Ipv4Params, Mac};

/// What the namespace's local table says about an address (the `addrtype` match's view).
pub(crate) fn addr_type_in<U: Userland>(w: &Kernel<U>, ns: NsId, ip: Ipv4Addr) -> AddrType {
    let n = w.netns(ns);
    addr_type_of(&n.addrs, n.lo, ip)
}

fn addr_type_of(addrs: &[IfAddr], lo: DevId, ip: Ipv4Addr) -> AddrType {
    if ip.is_broadcast() {
        return AddrType::Broadcast;
    }
    if ip.is_multicast() {
        return AddrType::Multicast;
    }
    if ip.is_unspecified() {
        return AddrType::Unspec;
    }
    for a in addrs {
        // 127.0.0.0/8 on lo is local as a whole (the local table's `local 127.0.0.0/8`).
        if a.addr.addr == ip || (a.dev == lo && a.addr.contains(ip)) {
            return AddrType::Local;
        }
        if a.addr.len < 31 && a.addr.broadcast() == ip {
            return AddrType::Broadcast;
        }
    }
    AddrType::Unicast
}

/// What a netfilter hook decided about a packet: `NF_ACCEPT`, `NF_DROP`, or `NF_DROP` by a
/// REJECT rule, whose answer the caller sends once it has recorded the drop (`Kernel::nf_reject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NfVerdict {
    Accept,
    Drop,
    Reject(RejectWith),
}

impl<U: Userland> Kernel<U> {
    pub(crate) fn next_ip_id(&mut self, ns: NsId) -> u16 {
        let n = self.netns_mut(ns);
        n.ip_id = n.ip_id.wrapping_add(1);
        n.ip_id
    }

    /// Runs one netfilter hook of namespace `ns` on an IPv4 packet, recording its notes.
    #[inline(always)]
    pub(crate) fn nf_hook(
        &mut self,
        ns: NsId,
        hook: Hook,
        ip: &mut [u8],
        meta: &mut PacketMeta,
        in_dev: Option<DevId>,
        out_dev: Option<DevId>,
    ) -> NfVerdict {
        // Most namespaces have no rules: every packet passes four or five hooks, so the answer
        // is given here, inlined, before the call that sets up a hook's context.
        if self.netns(ns).nf.is_inert() {
            return NfVerdict::Accept;
        }
        self.nf_hook_stage(ns, hook, None, ip, meta, in_dev, out_dev)
    }

    #[allow(clippy::too_many_arguments)]
    fn nf_hook_stage(
        &mut self,
        ns: NsId,
        hook: Hook,
        stage: Option<InputStage>,
        ip: &mut [u8],
        meta: &mut PacketMeta,
        in_dev: Option<DevId>,
        out_dev: Option<DevId>,
    ) -> NfVerdict {
        if self.netns(ns).nf.is_inert() {
            return NfVerdict::Accept;
        }
        let now = self.now.as_nanos();
        let devs = &self.devs;
        // Disjoint borrows: the hook mutates `nf` while its context reads addresses and devices.
        let n = &mut self.ns[ns.0 as usize];
        let (nf, addrs, lo, ns_devs) = (&mut n.nf, &n.addrs, n.lo, &n.devs);
        let addr_type = |a: Ipv4Addr| addr_type_of(addrs, lo, a);
        let primary = |name: &str| {
            ns_devs
                .iter()
                .find(|d| devs[d.0 as usize].name == name)
                .and_then(|d| addrs.iter().find(|a| a.dev == *d))
                .map(|a| a.addr.addr)
        };
        let ctx = HookCtx {
            in_if: in_dev.map(|d| devs[d.0 as usize].name.as_str()),
            out_if: out_dev.map(|d| devs[d.0 as usize].name.as_str()),
            addr_type: &addr_type,
            if_primary_addr: &primary,
        };
        let mut r = match stage {
            Some(st) => nf.hook_input(st, ip, meta, &ctx, now),
            None => nf.hook(hook, ip, meta, &ctx, now),
        };
        if self.explaining() {
            self.why.extend(r.notes.drain(..).map(|note| Why::Netfilter { ns, note }));
        }
        match (r.verdict, r.reject) {
            (Verdict::Accept, _) => NfVerdict::Accept,
            (Verdict::Drop, None) => NfVerdict::Drop,
            (Verdict::Drop, Some(w)) => NfVerdict::Reject(w),
        }
    }

    // ----- ARP ---------------------------------------------------------------------------

    pub(crate) fn arp_rcv(&mut self, dev: DevId, frame: Vec<u8>) {
        let ns = self.dev(dev).ns;
        let Some(arp) = ArpRepr::parse(&frame[wire::ETH_HLEN..]) else {
            return self.drop_frame(dev, &frame, DropReason::MalformedArp);
        };
        let for_us = addr_type_in(self, ns, arp.target_ip) == AddrType::Local;
        // arp_process routes the request (ip_route_input_noref(tip, sip)): the sender must
        // pass rp_filter, and a gratuitous request (sender = a local address) fails it.
        let request = arp.op == wire::ARP_REQUEST && arp.sender_ip != arp.target_ip;
        if request && for_us && (arp.sender_ip.is_unspecified() || self.rp_filter_ok(dev, arp.sender_ip)) {
            if let Some(why) = self.arp_ignores(dev, arp.sender_ip, arp.target_ip) {
                // Consumed unanswered, and nothing learnt from it.
                return self.drop_frame(dev, &frame, why);
            }
            let reply = self.arp_reply_to(dev, &arp);
            if !arp.sender_ip.is_unspecified() {
                self.neigh_learn(ns, dev, arp.sender_ip, arp.sender_mac, false, true);
            }
            let ip = arp.target_ip;
            self.record_deliver(ns, dev, || Why::ArpReply { ip });
            self.originate(|w| {
                w.note(|| Why::ArpReply { ip });
                w.dev_xmit(dev, reply);
            });
            return;
        }
        if request && !for_us && !arp.sender_ip.is_unspecified() && self.arp_proxies(dev, arp.sender_ip, arp.target_ip)
        {
            let reply = self.arp_reply_to(dev, &arp);
            self.neigh_learn(ns, dev, arp.sender_ip, arp.sender_mac, false, true);
            let ip = arp.target_ip;
            self.record_deliver(ns, dev, || Why::ArpProxyReply { ip });
            // A request sent to this host's own MAC is answered at once; a broadcast one
            // waits a random time below proxy_delay (arp_process, `pneigh_enqueue`).
            if wire::eth_dst(&frame) == self.dev(dev).mac {
                self.proxy_arp_send(dev, reply);
            } else {
                let wait = SimTime::from_micros(self.rng.range(0, defaults::PROXY_DELAY_MS * 1000 - 1));
                self.schedule(wait, Event::ProxyArp { dev, frame: reply });
            }
            return;
        }
        // Replies (and requests not for us, gratuitous ones included) only update entries
        // that exist: arp_accept=0 never creates one from unsolicited ARP.
        let is_reply = arp.op == wire::ARP_REPLY && wire::eth_dst(&frame) == self.dev(dev).mac;
        if let Some(e) = self.netns(ns).neigh.get(&(dev, arp.sender_ip))
            && !matches!(e.state, Nud::Incomplete | Nud::Failed | Nud::Permanent)
            && e.mac != arp.sender_mac
            && arp.sender_ip != arp.target_ip
            && self.now <= e.updated + defaults::LOCKTIME
        {
            // "If several different ARP replies follow back-to-back, use the FIRST one"
            // (arp_process): another address within locktime of the last change is no
            // override, and neigh_update then leaves the entry as it is.
            let (ip, kept) = (arp.sender_ip, e.mac);
            return self.drop_frame(dev, &frame, DropReason::NeighLocktime { ip, kept });
        }
        if self.netns(ns).neigh.contains_key(&(dev, arp.sender_ip)) {
            self.neigh_learn(ns, dev, arp.sender_ip, arp.sender_mac, is_reply, false);
            let (ip, mac) = (arp.sender_ip, arp.sender_mac);
            self.record_deliver(ns, dev, || Why::Local(Local::ArpUpdatesNeighbour { ip, mac }));
        } else {
            self.drop_frame(dev, &frame, DropReason::ArpNotForUs);
        }
    }

    pub(crate) fn record_deliver(&mut self, ns: NsId, dev: DevId, w: impl FnOnce() -> Why) {
        if self.explaining() {
            let mark = self.why_mark();
            self.why.push(w());
            self.record(ns, Some(dev), Dir::Deliver, None);
            self.why_reset(mark);
        }
    }

    /// `neigh_update`: a reply confirms (REACHABLE); a request from the host creates or
    /// refreshes a STALE entry. Queued packets leave as soon as the address is known.
    fn neigh_learn(&mut self, ns: NsId, dev: DevId, ip: Ipv4Addr, mac: Mac, confirmed: bool, create: bool) {
        let now = self.now;
        let n = self.netns_mut(ns);
        let entry = match n.neigh.get_mut(&(dev, ip)) {
            Some(e) => e,
            None if create => {
                let epoch = n.new_neigh_life();
                n.neigh.entry((dev, ip)).or_insert(Neigh {
                    mac,
                    state: Nud::Stale,
                    confirmed: SimTime::ZERO,
                    updated: now,
                    probes: 0,
                    multicast: false,
                    queue: Vec::new(),
                    epoch,
                })
            }
            None => return,
        };
        if entry.state == Nud::Permanent {
            return;
        }
        let changed = entry.mac != mac;
        let new_state = if confirmed {
            entry.confirmed = now;
            Nud::Reachable
        } else if changed || matches!(entry.state, Nud::Incomplete | Nud::Failed) {
            Nud::Stale
        } else {
            entry.state
        };
        let old_state = entry.state;
        entry.mac = mac;
        entry.state = new_state;
        // __neigh_update touches `updated` and the timer only for a change of state or
        // address: an ARP request repeating a known MAC leaves a DELAY entry's probe armed.
        if old_state != new_state || changed {
            entry.updated = now;
            entry.epoch = entry.epoch.wrapping_add(1);
        }
        let queue = std::mem::take(&mut entry.queue);
        if old_state != new_state || changed {
            let s = new_state.name();
            self.note(|| Why::NeighUpdate { ip, mac, state: s });
        }
        let src = self.dev(dev).mac;
        for (mut f, why) in queue {
            // The packet leaves with its own reasons (NAT, route, …), not those of the ARP
            // reply that released it.
            let saved = std::mem::replace(&mut self.why, why);
            wire::write_eth_header(&mut f, src, mac, wire::ETHERTYPE_IPV4);
            self.note(|| Why::Neigh { ip, dev, state: "resolved: queued packet sent", mac: Some(mac) });
            self.dev_xmit(dev, f);
            self.why = saved;
        }
    }

    /// Upper-layer confirmation that `dst`'s next hop is reachable (`neigh_confirm`).
    pub(crate) fn neigh_confirm(&mut self, ns: NsId, dst: Ipv4Addr) {
        let Some((OutRoute::Main(i), _)) = self.route_output(ns, dst, None) else { return };
        let r = &self.netns(ns).routes[i];
        let key = (r.dev, r.via.unwrap_or(dst));
        let now = self.now;
        if let Some(e) = self.netns_mut(ns).neigh.get_mut(&key)
            && e.state != Nud::Permanent
        {
            e.confirmed = now;
        }
    }

    fn arp_solicit(&mut self, ns: NsId, dev: DevId, ip: Ipv4Addr, unicast: Option<Mac>, src_hint: Option<Ipv4Addr>) {
        let mac = self.dev(dev).mac;
        // arp_announce 0: the queued packet's source if it is local; 1: only if it is in a
        // subnet of this device that holds the target too (`inet_addr_onlink`); 2: never.
        // Otherwise the device's best address for the target (`inet_select_addr`).
        let announce = self.conf(dev).arp_announce;
        let n = self.netns(ns);
        let onlink = |s: &Ipv4Addr| n.addrs.iter().any(|a| a.dev == dev && a.addr.contains(*s) && a.addr.contains(ip));
        let sender_ip = src_hint
            .filter(|s| addr_type_in(self, ns, *s) == AddrType::Local)
            .filter(|s| match announce {
                0 => true,
                1 => onlink(s),
                _ => false,
            })
            .or_else(|| self.select_src(ns, dev, ip))
            .unwrap_or(Ipv4Addr::UNSPECIFIED);
        let req = ArpRepr { op: wire::ARP_REQUEST, sender_mac: mac, sender_ip, target_mac: Mac::ZERO, target_ip: ip };
        self.dev_xmit(dev, req.frame(mac, unicast.unwrap_or(Mac::BROADCAST)));
    }

    /// The reply to ARP request `arp` from `dev`, with `dev`'s MAC for the target address.
    fn arp_reply_to(&self, dev: DevId, arp: &ArpRepr) -> Vec<u8> {
        let mac = self.dev(dev).mac;
        let reply = ArpRepr {
            op: wire::ARP_REPLY,
            sender_mac: mac,
            sender_ip: arp.target_ip,
            target_mac: arp.sender_mac,
            target_ip: arp.sender_ip,
        };
        reply.frame(mac, arp.sender_mac)
    }

    /// Why a request for local address `tip` from `sip` that came in on `dev` goes
    /// unanswered, if it does (`arp_ignore` in net/ipv4/arp.c, `inet_confirm_addr`; then
    /// `arp_filter`, which asks for the route back to the sender, from `tip`, and answers only
    /// where it leaves by `dev`).
    fn arp_ignores(&self, dev: DevId, sip: Ipv4Addr, tip: Ipv4Addr) -> Option<DropReason> {
        let conf = self.conf(dev);
        let level = conf.arp_ignore;
        let n = self.netns(self.dev(dev).ns);
        let on_dev = |subnet: bool| {
            n.addrs.iter().any(|a| {
                a.dev == dev && a.addr.addr == tip && (!subnet || sip.is_unspecified() || a.addr.contains(sip))
            })
        };
        let ignored = match level {
            1 => !on_dev(false),
            2 => !on_dev(true),
            8 => true,
            // 3: not for host-scope addresses, which are lo's; 4–7 are reserved and answer.
            _ => false,
        };
        if ignored {
            return Some(DropReason::ArpIgnored { tip, level });
        }
        if conf.arp_filter {
            let ns = self.dev(dev).ns;
            let out = self.route_output(ns, sip, None).map(|(rt, _)| self.out_dev(ns, rt));
            if out != Some(dev) {
                return Some(DropReason::ArpFiltered { sip, tip, via: out });
            }
        }
        None
    }

    /// Whether `dev` answers for `tip`, not its own, in another's place: the namespace
    /// forwards, `proxy_arp` is on, the route to `tip` leaves by another device, and the
    /// sender passes rp_filter (`arp_fwd_proxy` in net/ipv4/arp.c; `medium_id` is 0).
    fn arp_proxies(&self, dev: DevId, sip: Ipv4Addr, tip: Ipv4Addr) -> bool {
        let ns = self.dev(dev).ns;
        if !self.netns(ns).ip_forward || !self.conf(dev).proxy_arp {
            return false;
        }
        let Some(i) = self.route_lookup(ns, tip, None) else { return false };
        self.netns(ns).routes[i].dev != dev && self.rp_filter_ok(dev, sip)
    }

    /// A proxied ARP reply leaves (at once, or when its wait is over).
    pub(crate) fn proxy_arp_send(&mut self, dev: DevId, frame: Vec<u8>) {
        let ip = ArpRepr::parse(&frame[wire::ETH_HLEN..]).map(|a| a.sender_ip).unwrap_or(Ipv4Addr::UNSPECIFIED);
        self.originate(|w| {
            w.note(|| Why::ArpProxyReply { ip });
            w.dev_xmit(dev, frame);
        });
    }

    /// Reverse-path filtering of source `src` arriving on `dev` (`__fib_validate_source`):
    /// strict (1) wants the route back to `src` to leave by `dev`, loose (2) any route back.
    fn rp_filter_ok(&self, dev: DevId, src: Ipv4Addr) -> bool {
        let ns = self.dev(dev).ns;
        match self.conf(dev).rp_filter {
            0 => true,
            level => match self.route_lookup(ns, src, None) {
                None => false,
                Some(i) => level == 2 || self.netns(ns).routes[i].dev == dev,
            },
        }
    }

    /// An unsolicited ARP request for the device's own address (sender = target = own IP),
    /// as dockerd sends on a new interface.
    pub(crate) fn arp_announce(&mut self, ns: NsId, dev: DevId) {
        let Some(ip) = self.netns(ns).addrs.iter().find(|a| a.dev == dev).map(|a| a.addr.addr) else { return };
        if !self.dev(dev).up {
            return;
        }
        let mac = self.dev(dev).mac;
        let req =
            ArpRepr { op: wire::ARP_REQUEST, sender_mac: mac, sender_ip: ip, target_mac: Mac::ZERO, target_ip: ip };
        self.originate(|w| {
            w.note(|| Why::Sent(Sent::UnsolicitedArp { ip }));
            w.dev_xmit(dev, req.frame(mac, Mac::BROADCAST));
        });
    }

    /// Sends an IP packet (a frame with 14 bytes of room) to `nexthop` on `dev`, resolving
    /// the link-layer address as `neigh_output` does.
    pub(crate) fn neigh_output(&mut self, ns: NsId, dev: DevId, nexthop: Ipv4Addr, mut frame: Vec<u8>) {
        let d = self.dev(dev);
        let src_mac = d.mac;
        if matches!(d.kind, DevKind::Loopback) {
            wire::write_eth_header(&mut frame, Mac::ZERO, Mac::ZERO, wire::ETHERTYPE_IPV4);
            return self.dev_xmit(dev, frame);
        }
        if nexthop.is_broadcast()
            || self.netns(ns).addrs.iter().any(|a| a.dev == dev && a.addr.len < 31 && a.addr.broadcast() == nexthop)
        {
            wire::write_eth_header(&mut frame, src_mac, Mac::BROADCAST, wire::ETHERTYPE_IPV4);
            return self.dev_xmit(dev, frame);
        }
        let now = self.now;
        let reach = self.netns(ns).reachable_time;
        let trace = self.explaining();
        let confirm = self.dst_pending_confirm;
        // Kept with the packet if it has to wait for ARP (no allocation when not tracing).
        let why = if trace { self.why.clone() } else { Vec::new() };
        let n = self.netns_mut(ns);
        // `sock_confirm_neigh`: a packet that carries the bit confirms the neighbour it goes
        // to before the entry is looked at.
        if confirm
            && let Some(e) = n.neigh.get_mut(&(dev, nexthop))
            && e.state != Nud::Permanent
        {
            e.confirmed = now;
        }
        match n.neigh.get_mut(&(dev, nexthop)) {
            Some(e) if matches!(e.state, Nud::Permanent | Nud::Reachable | Nud::Delay | Nud::Probe | Nud::Stale) => {
                if e.state == Nud::Reachable && now.saturating_sub(e.confirmed) > reach {
                    e.state = Nud::Stale;
                }
                let mut arm = None;
                if e.state == Nud::Stale {
                    // First use of a stale entry: send anyway, re-confirm after delay_first_probe_time.
                    e.state = Nud::Delay;
                    e.updated = now;
                    e.epoch = e.epoch.wrapping_add(1);
                    arm = Some(e.epoch);
                }
                let (mac, state) = (e.mac, e.state);
                if let Some(epoch) = arm {
                    self.schedule(
                        self.neigh_timeout(defaults::DELAY_FIRST_PROBE),
                        Event::Neigh { ns, dev, ip: nexthop, epoch },
                    );
                }
                if trace {
                    self.note(|| Why::Neigh { ip: nexthop, dev, state: state.name(), mac: Some(mac) });
                }
                wire::write_eth_header(&mut frame, src_mac, mac, wire::ETHERTYPE_IPV4);
                self.dev_xmit(dev, frame)
            }
            Some(e) if e.state == Nud::Incomplete => {
                if e.queue.len() >= defaults::UNRES_QLEN {
                    e.queue.remove(0);
                }
                e.queue.push((frame, why));
                let q = e.queue.len();
                if trace {
                    self.note(|| Why::Neigh { ip: nexthop, dev, state: "INCOMPLETE", mac: None });
                    let mark = self.why_mark();
                    self.note(|| Why::Local(Local::QueuedWhileResolving { nexthop, waiting: q }));
                    self.record(ns, Some(dev), Dir::Deliver, None);
                    self.why_reset(mark);
                }
            }
            _ => {
                // No entry, or FAILED: start resolving (__neigh_event_send).
                let src_hint = wire::ipv4_info(&frame[wire::ETH_HLEN..]).ok().map(|i| i.src);
                let life = n.new_neigh_life();
                let e = n.neigh.entry((dev, nexthop)).or_insert(Neigh {
                    mac: Mac::ZERO,
                    state: Nud::Incomplete,
                    confirmed: SimTime::ZERO,
                    updated: now,
                    probes: 0,
                    multicast: true,
                    queue: Vec::new(),
                    epoch: life,
                });
                e.state = Nud::Incomplete;
                e.mac = Mac::ZERO;
                e.probes = 1;
                e.multicast = true;
                e.updated = now;
                e.queue.clear();
                e.queue.push((frame, why));
                e.epoch = e.epoch.wrapping_add(1);
                let epoch = e.epoch;
                self.schedule(defaults::ARP_RETRANS, Event::Neigh { ns, dev, ip: nexthop, epoch });
                // The ARP request is explained by the resolution, not by the packet it waits for.
                self.originate(|w| {
                    w.note(|| Why::Neigh { ip: nexthop, dev, state: "none → INCOMPLETE", mac: None });
                    w.note(|| Why::ArpProbe { ip: nexthop, attempt: 1, max: defaults::MCAST_SOLICIT, queued: 1 });
                    w.arp_solicit(ns, dev, nexthop, None, src_hint);
                });
            }
        }
    }

    /// How long the DELAY timer due in `d` waits: it is armed in jiffies on the kernel's timer
    /// wheel (`neigh_add_timer`), which never fires early and rounds a far expiry up to its
    /// slot's boundary, so the 5 s of DELAY end up to 256 ms late (`wheel::bucket`). The 1 s
    /// ARP retransmissions stay on the dot: the kernel's come up to 32 ms late as well, but
    /// iputils' records show an unanswered neighbour failing before the request that ping
    /// sends 3 s after its first (`sim-core/tests/ping_output.rs`), which late retransmissions
    /// would put after it; what decides that race on the kernel is not modelled.
    fn neigh_timeout(&self, d: SimTime) -> SimTime {
        let clk = wheel::jiffies(self.now);
        let (tick, _) = wheel::bucket(clk + wheel::to_jiffies(d), clk);
        wheel::tick_time(tick).saturating_sub(self.now)
    }

    /// The neighbour timer (`neigh_timer_handler`).
    pub(crate) fn neigh_timer(&mut self, ns: NsId, dev: DevId, ip: Ipv4Addr, epoch: u32) {
        let now = self.now;
        let Some(e) = self.netns_mut(ns).neigh.get_mut(&(dev, ip)) else { return };
        if e.epoch != epoch {
            return;
        }
        match e.state {
            Nud::Incomplete | Nud::Probe => {
                let max = if e.state == Nud::Incomplete { defaults::MCAST_SOLICIT } else { defaults::UCAST_SOLICIT };
                if e.probes >= max {
                    e.state = Nud::Failed;
                    e.epoch = e.epoch.wrapping_add(1);
                    let queue = std::mem::take(&mut e.queue);
                    self.note(|| Why::NeighUpdate { ip, mac: Mac::ZERO, state: "FAILED" });
                    let mark = self.why_mark();
                    self.note(|| Why::Drop(DropReason::NeighFailed { ip, dev, max }));
                    self.record(ns, Some(dev), Dir::Drop, None);
                    self.why_reset(mark);
                    // arp_error_report: each queued packet earns its sender a host unreachable.
                    for (f, _) in queue {
                        self.icmp_send(ns, &f[wire::ETH_HLEN..], IcmpError::HostUnreachable);
                    }
                    return;
                }
                e.probes += 1;
                e.epoch = e.epoch.wrapping_add(1);
                let (attempt, epoch, queued) = (e.probes, e.epoch, e.queue.len());
                let unicast = (e.state == Nud::Probe).then_some(e.mac);
                let src_hint =
                    e.queue.first().and_then(|(f, _)| wire::ipv4_info(&f[wire::ETH_HLEN..]).ok()).map(|i| i.src);
                self.schedule(defaults::ARP_RETRANS, Event::Neigh { ns, dev, ip, epoch });
                self.note(|| Why::ArpProbe { ip, attempt, max, queued });
                self.arp_solicit(ns, dev, ip, unicast, src_hint);
            }
            Nud::Delay => {
                // Confirmed within delay_probe_time of now, not of when the timer was due: the
                // wheel fires it late, so a confirmation at the start of DELAY is too old by
                // then (`neigh_timer_handler`).
                let window = wheel::to_jiffies(defaults::DELAY_FIRST_PROBE);
                if e.confirmed >= e.updated && wheel::jiffies(now) <= wheel::jiffies(e.confirmed) + window {
                    e.state = Nud::Reachable;
                    return;
                }
                e.state = Nud::Probe;
                e.probes = 1;
                e.multicast = false;
                e.updated = now;
                e.epoch = e.epoch.wrapping_add(1);
                let (epoch, mac) = (e.epoch, e.mac);
                self.schedule(defaults::ARP_RETRANS, Event::Neigh { ns, dev, ip, epoch });
                self.note(|| Why::ArpProbe { ip, attempt: 1, max: defaults::UCAST_SOLICIT, queued: 0 });
                self.arp_solicit(ns, dev, ip, Some(mac), None);
            }
            _ => {}
        }
    }

    // ----- routing -----------------------------------------------------------------------

    /// Longest-prefix match in the main table (then lowest metric), over routes whose
    /// device is up. `oif` restricts the lookup to one device, as a bound socket does.
    pub fn route_lookup(&self, ns: NsId, dst: Ipv4Addr, oif: Option<DevId>) -> Option<usize> {
        let n = self.netns(ns);
        let mut best: Option<(usize, u8, u32)> = None;
        for (i, r) in n.routes.iter().enumerate() {
            if !r.dst.contains(dst) || !self.dev(r.dev).up || oif.is_some_and(|o| o != r.dev) {
                continue;
            }
            let better = match best {
                None => true,
                Some((_, len, metric)) => r.dst.len > len || (r.dst.len == len && r.metric < metric),
            };
            if better {
                best = Some((i, r.dst.len, r.metric));
            }
        }
        best.map(|b| b.0)
    }

    /// Source address selection (`inet_select_addr`): an address on the device in the same
    /// subnet as the destination, else its primary, else any address in the namespace.
    pub(crate) fn select_src(&self, ns: NsId, dev: DevId, dst: Ipv4Addr) -> Option<Ipv4Addr> {
        let n = self.netns(ns);
        n.addrs
            .iter()
            .find(|a| a.dev == dev && a.addr.contains(dst))
            .or_else(|| n.addrs.iter().find(|a| a.dev == dev))
            .or_else(|| n.addrs.iter().find(|a| a.dev != n.lo))
            .map(|a| a.addr.addr)
    }

    /// Output route for a locally generated packet: `Out::Route(idx)` or local delivery via
    /// lo. Returns the route choice and the source address to use.
    pub(crate) fn route_output(&self, ns: NsId, dst: Ipv4Addr, oif: Option<DevId>) -> Option<(OutRoute, Ipv4Addr)> {
        if addr_type_in(self, ns, dst) == AddrType::Local {
            let lo = self.netns(ns).lo;
            let src = if dst.is_loopback() { Ipv4Addr::LOCALHOST } else { dst };
            return Some((OutRoute::Local(lo), src));
        }
        let Some(i) = self.route_lookup(ns, dst, oif) else {
            // `ip_route_output_key_hash_rcu`: with an output device given and no route through
            // it, "the destination is on link": ARP for it there (seen on Linux 6.18:
            // `ping -I eth1` to an address of eth0's subnet leaves `FAILED` on eth1).
            let dev = oif.filter(|&d| self.dev(d).up)?;
            return Some((OutRoute::OnLink(dev), self.select_src(ns, dev, dst)?));
        };
        let r = &self.netns(ns).routes[i];
        let src = r.src.or_else(|| self.select_src(ns, r.dev, r.via.unwrap_or(dst)))?;
        Some((OutRoute::Main(i), src))
    }

    // ----- input -------------------------------------------------------------------------

    /// `ip_rcv`: header checks, then PREROUTING.
    pub(crate) fn ip_rcv(&mut self, dev: DevId, mut frame: Vec<u8>) {
        let ns = self.dev(dev).ns;
        let info = match wire::ipv4_info(&frame[wire::ETH_HLEN..]) {
            Ok(i) => i,
            Err(e) => return self.drop_frame(dev, &frame, DropReason::IpRcv(e)),
        };
        frame.truncate(wire::ETH_HLEN + info.total_len);
        let mut meta = self.rx_meta.take().unwrap_or_default();
        // nf_defrag_ipv4: where conntrack runs, it sees whole packets.
        if !self.netns(ns).nf.is_inert() && wire::ipv4::is_fragment(&frame[wire::ETH_HLEN..]) {
            let Some((whole, max)) = self.ip_defrag(ns, dev, frame, DefragUser::Conntrack) else { return };
            (frame, meta.frag_max) = (whole, max);
        }
        let v = self.nf_hook(ns, Hook::Prerouting, &mut frame[wire::ETH_HLEN..], &mut meta, Some(dev), None);
        if v != NfVerdict::Accept {
            return self.nf_refused(dev, Hook::Prerouting, v, &frame, &meta, None);
        }
        self.ip_rcv_finish(ns, dev, frame, meta)
    }

    fn ip_rcv_finish(&mut self, ns: NsId, dev: DevId, frame: Vec<u8>, meta: PacketMeta) {
        let Ok(info) = wire::ipv4_fields(&frame[wire::ETH_HLEN..]) else { return };
        // ip_route_input validates the source of whatever it routes in (lo's packets keep
        // their route and skip it).
        if !info.src.is_unspecified()
            && !matches!(self.dev(dev).kind, DevKind::Loopback)
            && !self.rp_filter_ok(dev, info.src)
        {
            let level = self.conf(dev).rp_filter;
            return self.drop_frame(dev, &frame, DropReason::RpFilter { src: info.src, level });
        }
        match addr_type_in(self, ns, info.dst) {
            AddrType::Local | AddrType::Broadcast => self.ip_local_deliver(ns, dev, frame, meta),
            AddrType::Multicast => self.drop_frame(dev, &frame, DropReason::MulticastNotJoined),
            _ => {
                if !self.netns(ns).ip_forward {
                    return self.drop_frame(dev, &frame, DropReason::NotLocalNoForward { dst: info.dst });
                }
                self.ip_forward(ns, dev, frame, meta)
            }
        }
    }

    fn ip_forward(&mut self, ns: NsId, in_dev: DevId, mut frame: Vec<u8>, mut meta: PacketMeta) {
        let info = match wire::ipv4_fields(&frame[wire::ETH_HLEN..]) {
            Ok(i) => i,
            Err(_) => return,
        };
        let Some(ri) = self.route_lookup(ns, info.dst, None) else {
            self.drop_frame(in_dev, &frame, DropReason::NoRoute { dst: info.dst });
            return self.icmp_send(ns, &frame[wire::ETH_HLEN..], IcmpError::NetUnreachable);
        };
        let r = self.netns(ns).routes[ri];
        self.note(|| Why::Route(r));
        if info.ttl <= 1 {
            self.drop_frame(in_dev, &frame, DropReason::TtlExpired);
            return self.icmp_send(ns, &frame[wire::ETH_HLEN..], IcmpError::TtlExceeded);
        }
        // ip_forward (net/ipv4/ip_forward.c) in its order: the MTU is checked first, so a
        // "fragmentation needed" quotes the packet as it came in; the TTL is decremented
        // next, and NF_INET_FORWARD sees (and REJECT quotes) the decremented packet.
        let mtu = self.dev(r.dev).mtu as usize;
        // ip_exceeds_mtu: only a packet with DF is refused; one without goes out in fragments.
        if info.total_len > mtu && wire::ipv4::frag_fields(&frame[wire::ETH_HLEN..]).0 {
            self.drop_frame(in_dev, &frame, DropReason::ForwardTooBig { len: info.total_len, mtu, out: r.dev });
            return self.icmp_send(ns, &frame[wire::ETH_HLEN..], IcmpError::FragNeeded { mtu: mtu as u16 });
        }
        let ttl = info.ttl;
        wire::ipv4::decrease_ttl(&mut frame[wire::ETH_HLEN..]);
        let v = self.nf_hook(ns, Hook::Forward, &mut frame[wire::ETH_HLEN..], &mut meta, Some(in_dev), Some(r.dev));
        if v != NfVerdict::Accept {
            return self.nf_refused(in_dev, Hook::Forward, v, &frame, &meta, None);
        }
        if !self.netns(ns).ipvs.is_empty() {
            self.ipvs_out(ns, &mut frame, &mut meta);
        }
        self.note(|| Why::Forward { ttl });
        self.ip_finish_output(ns, r.dev, r.via.unwrap_or(info.dst), frame, meta, mtu)
    }

    fn ip_local_deliver(&mut self, ns: NsId, dev: DevId, mut frame: Vec<u8>, mut meta: PacketMeta) {
        if wire::ipv4::is_fragment(&frame[wire::ETH_HLEN..]) {
            let Some((whole, _)) = self.ip_defrag(ns, dev, frame, DefragUser::Local) else { return };
            frame = whole;
        }
        if self.netns(ns).ipvs.is_empty() {
            let v = self.nf_hook(ns, Hook::Input, &mut frame[wire::ETH_HLEN..], &mut meta, Some(dev), None);
            if v != NfVerdict::Accept {
                return self.nf_refused(dev, Hook::Input, v, &frame, &meta, None);
            }
        } else {
            let ip = &mut frame[wire::ETH_HLEN..];
            let v = self.nf_hook_stage(ns, Hook::Input, Some(InputStage::BeforeIpvs), ip, &mut meta, Some(dev), None);
            if v != NfVerdict::Accept {
                return self.nf_refused(dev, Hook::Input, v, &frame, &meta, None);
            }
            let Some((frame2, meta2)) = self.ipvs_in(ns, dev, frame, meta) else { return };
            (frame, meta) = (frame2, meta2);
            let ip = &mut frame[wire::ETH_HLEN..];
            let v = self.nf_hook_stage(ns, Hook::Input, Some(InputStage::AfterIpvs), ip, &mut meta, Some(dev), None);
            if v != NfVerdict::Accept {
                return self.nf_refused(dev, Hook::Input, v, &frame, &meta, None);
            }
        }
        let Ok(info) = wire::ipv4_fields(&frame[wire::ETH_HLEN..]) else { return };
        let ip = &frame[wire::ETH_HLEN..wire::ETH_HLEN + info.total_len];
        // `udp4_csum_init`: a datagram with CHECKSUM_PARTIAL is not summed again.
        let trusted = self.csum_partial && info.proto == wire::PROTO_UDP;
        if !trusted && !wire::l4_checksum_ok(&info, ip) {
            return self.drop_frame(dev, &frame, DropReason::BadChecksum);
        }
        self.stats.delivered += 1;
        match info.proto {
            wire::PROTO_ICMP => self.icmp_rcv(ns, dev, &info, ip),
            wire::PROTO_UDP => self.udp_rcv(ns, dev, &info, ip, &frame),
            wire::PROTO_TCP => self.tcp_rcv(ns, dev, &info, ip),
            p => self.drop_frame(dev, &frame, DropReason::NoProtoHandler(p)),
        }
    }

    fn icmp_rcv(&mut self, ns: NsId, dev: DevId, info: &wire::Ipv4Info, ip: &[u8]) {
        let l4 = &ip[info.ihl..info.total_len];
        if l4.len() < 8 {
            return;
        }
        if !self.netns(ns).raw_icmp.is_empty() {
            self.icmp_to_raw(ns, info, ip);
        }
        match l4[0] {
            8 => {
                // Echo request: the kernel answers itself (icmp_echo).
                let (ident, seq) = (u16::from_be_bytes([l4[4], l4[5]]), u16::from_be_bytes([l4[6], l4[7]]));
                let (src, dst) = (info.src, info.dst);
                self.record_deliver(ns, dev, || Why::Local(Local::EchoRequest { dst }));
                if addr_type_in(self, ns, dst) != AddrType::Local {
                    return; // broadcast pings are ignored (icmp_echo_ignore_broadcasts=1)
                }
                let Some((rt, _)) = self.route_output(ns, src, None) else { return };
                let id = self.next_ip_id(ns);
                let p = Ipv4Params {
                    src: dst,
                    dst: src,
                    proto: wire::PROTO_ICMP,
                    ttl: defaults::TTL,
                    id,
                    df: false,
                    tos: 0,
                };
                let reply = wire::icmp_echo_frame(&p, true, ident, seq, &l4[8..]);
                self.originate(|w| {
                    w.note(|| Why::Local(Local::EchoReply { to: src, seq }));
                    w.ip_output(ns, reply, rt, None);
                });
            }
            _ => self.icmp_to_app(ns, dev, info, ip),
        }
    }

    fn udp_rcv(&mut self, ns: NsId, dev: DevId, info: &wire::Ipv4Info, ip: &[u8], frame: &[u8]) {
        let l4 = &ip[info.ihl..info.total_len];
        if l4.len() < 8 {
            return self.drop_frame(dev, frame, DropReason::TruncatedUdp);
        }
        let dport = u16::from_be_bytes([l4[2], l4[3]]);
        if self.vxlan_rcv(ns, dport, info.src, &l4[8..]) {
            return;
        }
        if let Some(&app) = self.netns(ns).udp.get(&dport) {
            return self.udp_to_app(ns, dev, app, info, ip);
        }
        if addr_type_in(self, ns, info.dst) != AddrType::Local {
            return self.drop_frame(dev, frame, DropReason::UdpBroadcastNoSocket { dport });
        }
        self.drop_frame(dev, frame, DropReason::NoUdpSocket { dport });
        self.icmp_send(ns, ip, IcmpError::PortUnreachable);
    }

    // ----- IPVS --------------------------------------------------------------------------

    /// `ip_vs_in` at LOCAL_IN: a packet for a virtual service goes to a real server, through
    /// OUTPUT and POSTROUTING (`ip_vs_nat_xmit`), and never reaches a socket here. Returns the
    /// packet when IPVS leaves it to the local stack.
    fn ipvs_in(
        &mut self,
        ns: NsId,
        dev: DevId,
        mut frame: Vec<u8>,
        mut meta: PacketMeta,
    ) -> Option<(Vec<u8>, PacketMeta)> {
        let Some((proto, src, dst, flags)) = ipvs_tuple(&frame[wire::ETH_HLEN..]) else { return Some((frame, meta)) };
        let now = self.now.as_nanos();
        let out = self.netns_mut(ns).ipvs.schedule_pkt(now, meta.mark, proto, src, dst, flags);
        match out {
            InOutcome::NotIpvs => Some((frame, meta)),
            InOutcome::NoDest => {
                self.drop_frame(dev, &frame, DropReason::IpvsNoDest);
                self.icmp_send(ns, &frame[wire::ETH_HLEN..], IcmpError::PortUnreachable);
                None
            }
            InOutcome::Drop { conn, dest, expired } => {
                self.drop_frame(dev, &frame, DropReason::IpvsDestGone { conn: conn.0, dest, expired });
                None
            }
            InOutcome::Scheduled { real, new, fwd, explain, .. } => {
                self.note(|| Why::Ipvs(explain));
                meta.ipvs = true;
                if fwd == Forward::Masq {
                    Netfilter::rewrite(&mut frame[wire::ETH_HLEN..], false, real.0, real.1);
                    if new {
                        self.netns_mut(ns).nf.ipvs_alter_reply(&mut meta, real);
                    }
                }
                let Some(ri) = self.route_lookup(ns, real.0, None) else {
                    self.drop_frame(dev, &frame, DropReason::IpvsNoRoute { real: real.0 });
                    return None;
                };
                let r = self.netns(ns).routes[ri];
                self.note(|| Why::Route(r));
                let ip = &mut frame[wire::ETH_HLEN..];
                let v = self.nf_hook(ns, Hook::Output, ip, &mut meta, None, Some(r.dev));
                if v != NfVerdict::Accept {
                    self.nf_refused(r.dev, Hook::Output, v, &frame, &meta, None);
                    return None;
                }
                let mtu = self.dev(r.dev).mtu as usize;
                self.ip_finish_output(ns, r.dev, r.via.unwrap_or(real.0), frame, meta, mtu);
                None
            }
        }
    }

    /// `ip_vs_out` at FORWARD: a real server's reply gets the virtual address back as source.
    fn ipvs_out(&mut self, ns: NsId, frame: &mut [u8], meta: &mut PacketMeta) {
        let Some((proto, src, dst, flags)) = ipvs_tuple(&frame[wire::ETH_HLEN..]) else { return };
        let now = self.now.as_nanos();
        if let Some(vip) = self.netns_mut(ns).ipvs.reply_pkt(now, proto, src, dst, flags) {
            Netfilter::rewrite(&mut frame[wire::ETH_HLEN..], true, vip.0, vip.1);
            meta.ipvs = true;
            self.note(|| Why::Ipvs(IpvsNote::Reply { real: src, vip }));
        }
    }

    // ----- output ------------------------------------------------------------------------

    /// A locally generated packet leaves: OUTPUT (re-routing if NAT changed the
    /// destination), then POSTROUTING and the neighbour layer. `frame` is one of `wire`'s
    /// packets, its IPv4 header made by `Ipv4Params::header`.
    pub(crate) fn ip_output(&mut self, ns: NsId, frame: Vec<u8>, rt: OutRoute, oif: Option<DevId>) {
        self.ip_output_meta(ns, frame, rt, oif, PacketMeta::default(), None)
    }

    /// `ip_output` of a packet whose sender already knows the MTU of `rt` toward the packet's
    /// destination (`route_mtu`, at this instant): it is not looked up again unless NAT in
    /// OUTPUT sends the packet elsewhere.
    pub(crate) fn ip_output_on(&mut self, ns: NsId, frame: Vec<u8>, rt: OutRoute, mtu: u32) {
        self.ip_output_meta(ns, frame, rt, None, PacketMeta::default(), Some(mtu))
    }

    /// `ip_output` of a packet that already carries netfilter state (a REJECT rule's RST
    /// carries the rejected packet's connection).
    fn ip_output_meta(
        &mut self,
        ns: NsId,
        mut frame: Vec<u8>,
        rt: OutRoute,
        oif: Option<DevId>,
        mut meta: PacketMeta,
        known_mtu: Option<u32>,
    ) {
        // Every packet sent here was made by this stack (`Ipv4Params::header`), so its header
        // checksum is right by construction: the header is read with its lengths checked,
        // which accepts exactly what `ipv4_info` would, without summing it again.
        let info0 = wire::ipv4_fields(&frame[wire::ETH_HLEN..]);
        let dst0 = info0.as_ref().map(|i| i.dst).ok();
        let out_dev = self.out_dev(ns, rt);
        if self.explaining() {
            let why = match rt {
                OutRoute::Main(i) => Why::Route(self.netns(ns).routes[i]),
                OutRoute::Local(lo) => Why::LocalRoute { dst: dst0, lo },
                OutRoute::OnLink(dev) => Why::OnLinkRoute { dst: dst0.unwrap_or(Ipv4Addr::UNSPECIFIED), dev },
            };
            self.note(|| why);
        }
        // Without rules the hook leaves the packet as it was: it is read again only after rules.
        let rules = !self.netns(ns).nf.is_inert();
        let v = self.nf_hook(ns, Hook::Output, &mut frame[wire::ETH_HLEN..], &mut meta, None, Some(out_dev));
        if v != NfVerdict::Accept {
            return self.nf_refused(out_dev, Hook::Output, v, &frame, &meta, None);
        }
        let info = if rules { wire::ipv4_info(&frame[wire::ETH_HLEN..]) } else { info0 };
        let Ok(info) = info else { return };
        let (rt, known_mtu) = if Some(info.dst) != dst0 {
            // ip_route_me_harder: NAT in OUTPUT changed the destination.
            match self.route_output(ns, info.dst, oif) {
                Some((rt, _)) => (rt, None),
                None => return self.drop_frame(out_dev, &frame, DropReason::NoRouteAfterNat { dst: info.dst }),
            }
        } else {
            (rt, known_mtu)
        };
        let (dev, nexthop) = match rt {
            OutRoute::Local(lo) | OutRoute::OnLink(lo) => (lo, info.dst),
            OutRoute::Main(i) => {
                let r = &self.netns(ns).routes[i];
                (r.dev, r.via.unwrap_or(info.dst))
            }
        };
        // A loopback source may leave only through lo or a device with route_localnet
        // (ip_route_output_key_hash_rcu: martian source), as when OUTPUT DNAT sends a
        // connection to 127.0.0.1 elsewhere.
        if info.src.is_loopback() && !matches!(self.dev(dev).kind, DevKind::Loopback) && !self.dev(dev).route_localnet {
            return self.drop_frame(dev, &frame, DropReason::Martian { src: info.src, dev });
        }
        let mtu = known_mtu.unwrap_or_else(|| self.route_mtu(ns, rt, info.dst)) as usize;
        // The socket chose DF (`__ip_make_skb`): a packet with DF that does not fit is refused
        // here; one without leaves in fragments.
        if info.total_len > mtu && wire::ipv4::frag_fields(&frame[wire::ETH_HLEN..]).0 {
            return self.drop_frame(dev, &frame, DropReason::TooBig { len: info.total_len, mtu });
        }
        self.ip_finish_output(ns, dev, nexthop, frame, meta, mtu)
    }

    pub(crate) fn out_dev(&self, ns: NsId, rt: OutRoute) -> DevId {
        match rt {
            OutRoute::Local(dev) | OutRoute::OnLink(dev) => dev,
            OutRoute::Main(i) => self.netns(ns).routes[i].dev,
        }
    }

    /// The MTU a packet to `dst` on route `rt` must fit: its device's, lowered by a path MTU
    /// a "fragmentation needed" taught (the route exception `ip_mtu` reads); the local
    /// table's route is lo's.
    pub(crate) fn route_mtu(&self, ns: NsId, rt: OutRoute, dst: Ipv4Addr) -> u32 {
        self.route_mtu_until(ns, rt, dst).0
    }

    /// `route_mtu`, and until when it holds while nothing changes (a learnt path MTU
    /// expires; `SimTime::MAX` when none applies).
    pub(crate) fn route_mtu_until(&self, ns: NsId, rt: OutRoute, dst: Ipv4Addr) -> (u32, SimTime) {
        let dev_mtu = self.dev(self.out_dev(ns, rt)).mtu;
        match rt {
            OutRoute::Main(_) => self.path_mtu_until(ns, dst, dev_mtu),
            OutRoute::Local(_) | OutRoute::OnLink(_) => (dev_mtu, SimTime::MAX),
        }
    }

    /// POSTROUTING, then `ip_fragment` when the packet exceeds `mtu` or came in fragments,
    /// then the neighbour layer for each piece. Inlined into its three callers: every packet
    /// sent or forwarded passes here on its way to `neigh_output`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn ip_finish_output(
        &mut self,
        ns: NsId,
        dev: DevId,
        nexthop: Ipv4Addr,
        mut frame: Vec<u8>,
        mut meta: PacketMeta,
        mtu: usize,
    ) {
        let v = self.nf_hook(ns, Hook::Postrouting, &mut frame[wire::ETH_HLEN..], &mut meta, None, Some(dev));
        if v != NfVerdict::Accept {
            return self.nf_refused(dev, Hook::Postrouting, v, &frame, &meta, None);
        }
        if matches!(self.dev(dev).kind, DevKind::Loopback) {
            self.lo_meta = Some(meta);
            return self.neigh_output(ns, dev, nexthop, frame);
        }
        let len = frame.len() - wire::ETH_HLEN;
        if len <= mtu && meta.frag_max == 0 {
            return self.neigh_output(ns, dev, nexthop, frame);
        }
        let mtu = if meta.frag_max > 0 { mtu.min(usize::from(meta.frag_max)) } else { mtu };
        let pieces = wire::ipv4::fragment(&frame[wire::ETH_HLEN..], mtu, wire::ETH_HLEN);
        if pieces.len() > 1 {
            let n = pieces.len();
            self.note(|| Why::Local(Local::Fragmented { bytes: len, mtu, fragments: n }));
        }
        // A packet is summed in software before it is cut (`csum_partial`).
        let partial = std::mem::replace(&mut self.csum_partial, false);
        for p in pieces {
            let mark = self.why_mark();
            self.neigh_output(ns, dev, nexthop, p);
            self.why_reset(mark);
        }
        self.csum_partial = partial;
    }

    /// `icmp_send`: an ICMP error about `offending` (an IPv4 packet) back to its source.
    pub(crate) fn icmp_send(&mut self, ns: NsId, offending: &[u8], kind: IcmpError) {
        let Ok(info) = wire::ipv4_info(offending) else { return };
        // __icmp_send (net/ipv4/icmp.c): only about the first fragment (IP_OFFSET clear) ...
        if u16::from_be_bytes([offending[6], offending[7]]) & 0x1fff != 0 {
            return;
        }
        // ... never about an ICMP error (icmp_pointers[].error: types 3, 4, 5, 11, 12, and any
        // type above NR_ICMP_TYPES) nor an ICMP packet too short to say its type ...
        if info.proto == wire::PROTO_ICMP {
            match offending.get(info.ihl) {
                Some(&t) if !matches!(t, 3 | 4 | 5 | 11 | 12) && t <= 18 => {}
                _ => return,
            }
        }
        // ... nor about a packet to a broadcast or multicast address (RTCF_BROADCAST |
        // RTCF_MULTICAST), nor from a source that is not one host.
        if matches!(addr_type_in(self, ns, info.dst), AddrType::Broadcast | AddrType::Multicast) {
            return;
        }
        if info.src.is_unspecified() || info.src.is_broadcast() || info.src.is_multicast() {
            return;
        }
        let Some((rt, src)) = self.route_output(ns, info.src, None) else { return };
        if !self.icmp_xrlim_allow(ns, rt, info.src, kind) {
            if self.explaining() {
                let mark = self.why_mark();
                self.why.push(Why::Local(Local::IcmpRateLimited { kind, to: info.src }));
                self.record(ns, None, Dir::Deliver, None);
                self.why_reset(mark);
            }
            return;
        }
        // icmp_errors_use_inbound_ifaddr=0: the source is the address routing picks toward the
        // sender, unless the offending packet was for a local address (then that address).
        let src = if addr_type_in(self, ns, info.dst) == AddrType::Local { info.dst } else { src };
        let id = self.next_ip_id(ns);
        let p =
            Ipv4Params { src, dst: info.src, proto: wire::PROTO_ICMP, ttl: defaults::TTL, id, df: false, tos: 0xc0 };
        let f = wire::icmp_error_frame(&p, kind, &offending[..info.total_len]);
        self.originate(|w| {
            w.note(|| Why::Local(Local::IcmpErrorSent { kind, to: info.src }));
            w.ip_output(ns, f, rt, None);
        });
    }

    /// `icmpv4_xrlim_allow`: the errors netsim sends (destination unreachable, time exceeded)
    /// are in `icmp_ratemask`, so each takes a token from its destination's bucket, except
    /// "fragmentation needed", which path MTU discovery needs (`icmpv4_mask_allow`); a new
    /// destination's bucket starts full, and errors leaving through loopback are free.
    fn icmp_xrlim_allow(&mut self, ns: NsId, rt: OutRoute, to: Ipv4Addr, kind: IcmpError) -> bool {
        if matches!(kind, IcmpError::FragNeeded { .. })
            || matches!(self.dev(self.out_dev(ns, rt)).kind, DevKind::Loopback)
        {
            return true;
        }
        let (now, cost) = (self.now, defaults::ICMP_RATELIMIT);
        let full = SimTime::from_nanos(cost.as_nanos() * defaults::ICMP_BURST);
        let (tokens, last) = self.netns_mut(ns).icmp_peers.entry(to).or_insert((full, now));
        let t = SimTime::from_nanos(
            (tokens.as_nanos() + now.as_nanos().saturating_sub(last.as_nanos())).min(full.as_nanos()),
        );
        *last = now;
        let allow = t >= cost;
        *tokens = if allow { SimTime::from_nanos(t.as_nanos() - cost.as_nanos()) } else { t };
        allow
    }

    /// A hook refused `frame` (the whole frame as it was at `hook`, with `meta`): its drop is
    /// recorded at `at`, then a REJECT is answered from `at`'s namespace (`nf_reject`).
    pub(crate) fn nf_refused(
        &mut self,
        at: DevId,
        hook: Hook,
        v: NfVerdict,
        frame: &[u8],
        meta: &PacketMeta,
        bridged_in: Option<DevId>,
    ) {
        let reject = match v {
            NfVerdict::Reject(w) => Some(w),
            _ => None,
        };
        let reason = DropReason::Netfilter { chain: hook.chain_name(), bridged: bridged_in.is_some(), reject };
        self.drop_frame(at, frame, reason);
        self.nf_reject(self.dev(at).ns, hook, v, frame, meta, bridged_in)
    }

    /// The answer of a REJECT rule (net/ipv4/netfilter/ipt_REJECT.c, `reject_tg`):
    /// a TCP RST for `tcp-reset` (nf_reject_ipv4.c `nf_send_reset`), otherwise an ICMP
    /// destination unreachable of the rule's code (`nf_send_unreach`, which leaves the rest to
    /// `icmp_send`). Either comes from this namespace and is routed to the sender as any packet
    /// it makes; `bridged_in` is the bridge port a bridged frame came in on (br_netfilter).
    /// Does nothing unless `v` is a REJECT.
    fn nf_reject(
        &mut self,
        ns: NsId,
        hook: Hook,
        v: NfVerdict,
        frame: &[u8],
        meta: &PacketMeta,
        bridged_in: Option<DevId>,
    ) {
        let NfVerdict::Reject(with) = v else { return };
        let Some(Ok(info)) = frame.get(wire::ETH_HLEN..).map(wire::ipv4_info) else { return };
        let ip = &frame[wire::ETH_HLEN..wire::ETH_HLEN + info.total_len];
        // Both answer only the first fragment (IP_OFFSET clear) ...
        if u16::from_be_bytes([ip[6], ip[7]]) & 0x1fff != 0 {
            return;
        }
        // ... of a packet whose route is not broadcast or multicast (RTCF_BROADCAST |
        // RTCF_MULTICAST; a bridged packet has br_netfilter's fake route, with neither) ...
        if bridged_in.is_none() && matches!(addr_type_in(self, ns, info.dst), AddrType::Broadcast | AddrType::Multicast)
        {
            return;
        }
        // ... and whose transport checksum is right (nf_reject_ip_tcphdr_get and
        // nf_send_unreach check it with nf_ip_checksum; a UDP checksum of 0 is none).
        if !wire::l4_checksum_ok(&info, ip) {
            return;
        }
        let Some((_, code)) = with.icmp() else {
            return self.reject_reset(ns, &info, ip, frame, meta, bridged_in);
        };
        // icmp_send answers no frame sent to a link-layer broadcast or multicast address
        // (pkt_type != PACKET_HOST); a locally made packet has no link-layer header yet.
        if hook != Hook::Output && wire::eth_dst(frame).is_multicast() {
            return;
        }
        let kind = match code {
            0 => IcmpError::NetUnreachable,
            1 => IcmpError::HostUnreachable,
            2 => IcmpError::ProtoUnreachable,
            9 => IcmpError::NetProhibited,
            10 => IcmpError::HostProhibited,
            13 => IcmpError::AdminProhibited,
            _ => IcmpError::PortUnreachable,
        };
        // In FORWARD the packet's TTL is already decremented (ip_forward): the quote carries
        // 63 from a sender's 64.
        self.icmp_send(ns, ip, kind);
    }

    /// `nf_send_reset`: a RST to the sender of the TCP segment in `ip`, in the name of the
    /// address and port it was for.
    fn reject_reset(
        &mut self,
        ns: NsId,
        info: &wire::Ipv4Info,
        ip: &[u8],
        frame: &[u8],
        meta: &PacketMeta,
        bridged_in: Option<DevId>,
    ) {
        // nf_reject_ip_tcphdr_get: a whole TCP header, and never a RST for a RST.
        if info.proto != wire::PROTO_TCP {
            return;
        }
        let Some((seg, payload)) = wire::parse_tcp(&ip[info.ihl..]) else { return };
        if seg.rst {
            return;
        }
        // ip_route_me_harder: routed to the sender from this namespace; no route, no RST.
        let Some((rt, _)) = self.route_output(ns, info.src, None) else { return };
        // nf_reject_ip_tcphdr_put and nf_reject_iphdr_put build the RST the stack sends for a
        // segment no socket wants (tcp_v4_send_reset).
        let mut rst = super::tcp::reset_reply(info, &seg, payload.len() as u32);
        let now = self.now.as_nanos();
        let rmeta = self.netns_mut(ns).nf.reset_meta(meta, now);
        let (from, to) = ((info.dst, seg.dport), (info.src, seg.sport));
        let why = move || Why::Local(Local::RejectTcpReset { to, from });
        match bridged_in {
            // A bridged segment's RST leaves through the port the segment came in on, straight to
            // the driver, with the segment's MACs swapped (so it seems to come from the
            // destination), not through this namespace's IP output.
            Some(port) => {
                wire::write_eth_header(&mut rst, wire::eth_dst(frame), wire::eth_src(frame), wire::ETHERTYPE_IPV4);
                self.originate(|w| {
                    w.note(why);
                    w.dev_xmit(port, rst);
                });
            }
            None => self.originate(|w| {
                w.note(why);
                w.ip_output_meta(ns, rst, rt, None, rmeta, None);
            }),
        }
    }
}

/// Where a locally generated packet goes: a main-table route, or local delivery via lo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutRoute {
    Main(usize),
    Local(DevId),
    /// No route, but a socket bound to this device: the destination is taken to be on it.
    OnLink(DevId),
}

/// (protocol, source, destination, TCP flags) of a TCP or UDP packet, for IPVS.
type IpvsTuple = (u8, (Ipv4Addr, u16), (Ipv4Addr, u16), Option<TcpFlags>);

fn ipvs_tuple(ip: &[u8]) -> Option<IpvsTuple> {
    let info = wire::ipv4_info(ip).ok()?;
    if !(info.proto == wire::PROTO_TCP || info.proto == wire::PROTO_UDP) || ip.len() < info.ihl + 8 {
        return None;
    }
    let l4 = &ip[info.ihl..];
    let (sport, dport) = (u16::from_be_bytes([l4[0], l4[1]]), u16::from_be_bytes([l4[2], l4[3]]));
    let flags = (info.proto == wire::PROTO_TCP && l4.len() >= 14).then(|| {
        let f = l4[13];
        TcpFlags { fin: f & 0x01 != 0, syn: f & 0x02 != 0, rst: f & 0x04 != 0, ack: f & 0x10 != 0 }
    });
    Some((info.proto, (info.src, sport), (info.dst, dport), flags))
}

#[cfg(test)]
mod tests {
    //! REJECT's answers (`Kernel::nf_reject`), field by field as Linux 6.18 sent them in the
    //! capture traces/kernel/linux/reject.pcapng; the bridged and OUTPUT rejects, which that
    //! lab lacks, as nf_reject_ipv4.c builds them: the RST, icmp_send's error, and the cases
    //! neither answers.

    use super::*;
    use crate::scenario::Loaded;
    use crate::sim::Sim;
    use crate::wire::TcpRepr;
    use crate::{SimTime, Until};

    /// a (10.0.0.1) — r (10.0.0.254 | 10.0.1.254) — b (10.0.1.1), with `rules` ((ns, rule) in
    /// the plan's syntax) and `traffic`.
    fn routed(rules: &[(&str, &str)], traffic: &str) -> Sim {
        let rules: Vec<String> = rules.iter().map(|(ns, r)| format!("(ns: \"{ns}\", rule: \"{r}\")")).collect();
        let plan = format!(
            r#"
            namespaces: [(name: "a"), (name: "r", ip_forward: true), (name: "b")],
            links: [
                Veth(name: "eth0", ns: "a", peer: "eth0", peer_ns: "r"),
                Veth(name: "eth1", ns: "r", peer: "eth0", peer_ns: "b"),
            ],
            addresses: [
                (ns: "a", dev: "eth0", addr: "10.0.0.1/24"), (ns: "r", dev: "eth0", addr: "10.0.0.254/24"),
                (ns: "r", dev: "eth1", addr: "10.0.1.254/24"), (ns: "b", dev: "eth0", addr: "10.0.1.1/24"),
            ],
            routes: [(ns: "a", dst: "default", via: "10.0.0.254"), (ns: "b", dst: "default", via: "10.0.1.254")],
            iptables: [{}],
            "#,
            rules.join(", ")
        );
        run(&plan, traffic)
    }

    fn run(plan: &str, traffic: &str) -> Sim {
        let text = format!("Scenario(name: \"t\", seed: 5, plan: ({plan}), traffic: [{traffic}])");
        let l = Loaded::from_str("inline.ron", &text).unwrap_or_else(|e| panic!("{e}"));
        let mut s = l.build(None).unwrap_or_else(|e| panic!("{e}"));
        s.run_until(Until::Idle);
        s
    }

    fn dev(s: &Sim, path: &str) -> DevId {
        let (ns, name) = path.split_once('/').expect("ns/dev");
        let ns = s.world.ns_by_name(ns).expect("namespace");
        s.world.dev_by_name(ns, name).expect("device")
    }

    /// The frames that left `path`, from record `from` on.
    fn sent(s: &Sim, path: &str, from: usize) -> Vec<Vec<u8>> {
        let d = dev(s, path);
        s.records()[from..]
            .iter()
            .filter(|r| r.dir == Dir::Tx && r.dev == Some(d))
            .filter_map(|r| r.frame.clone())
            .collect()
    }

    /// The IPv4 packet of a frame, if it is one of protocol `proto`.
    fn ip_of(frame: &[u8], proto: u8) -> Option<&[u8]> {
        let ip = frame.get(wire::ETH_HLEN..)?;
        let info = wire::ipv4_info(ip).ok()?;
        (info.proto == proto).then_some(&ip[..info.total_len])
    }

    fn tcp_with(frames: &[Vec<u8>], flags: u8) -> Vec<Vec<u8>> {
        frames
            .iter()
            .filter_map(|f| ip_of(f, wire::PROTO_TCP))
            .filter(|ip| ip[33] == flags)
            .map(<[u8]>::to_vec)
            .collect()
    }

    fn be32(b: &[u8]) -> u32 {
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    fn apps(s: &Sim) -> Vec<String> {
        s.app_output().into_iter().map(|(_, t)| t).collect()
    }

    const RST: u8 = 0x04;
    const RST_ACK: u8 = 0x14;
    const SYN: u8 = 0x02;

    /// `icmpv4_xrlim_allow` (net/ipv4/icmp.c, `inet_peer_xrlim_allow`): six errors to one
    /// destination at once, then one a second.
    #[test]
    fn icmp_errors_to_one_destination_are_limited_to_six_then_one_a_second() {
        let s =
            routed(&[], r#"UdpSend(ns: "a", dst: "10.0.1.1", dport: 9, payload: "x", count: 12, interval: "150ms")"#);
        let errors: Vec<SimTime> = s
            .records()
            .iter()
            .filter(|r| r.dir == Dir::Tx && r.dev == Some(dev(&s, "b/eth0")))
            .filter(|r| r.frame.as_deref().and_then(|f| ip_of(f, wire::PROTO_ICMP)).is_some_and(|ip| ip[20] == 3))
            .map(|r| r.time)
            .collect();
        // Datagrams every 150 ms from 0 to 1.65 s. The first six take the full bucket down to
        // 0.75 s of tokens; the one at 1.05 s finds 1.05 s and is answered; the rest find less
        // than a second's worth.
        assert_eq!(errors.len(), 7, "{errors:?}");
        assert!(errors[6] > SimTime::from_millis(1050) && errors[6] < SimTime::from_millis(1051), "{errors:?}");
    }

    #[test]
    fn tcp_reset_answers_a_syn_with_a_rst_ack_in_the_name_of_its_destination() {
        let rule = "-A FORWARD -p tcp -m tcp --dport 81 -j REJECT --reject-with tcp-reset";
        let s = routed(&[("r", rule)], r#"TcpConnect(at: "1s", ns: "a", dst: "10.0.1.1", dport: 81)"#);
        let syns = tcp_with(&sent(&s, "a/eth0", 0), SYN);
        assert_eq!(syns.len(), 1, "the RST ends the connect: no SYN is retried");
        let rsts = tcp_with(&sent(&s, "r/eth0", 0), RST_ACK);
        assert_eq!(rsts.len(), 1, "one RST|ACK from the router");
        let (syn, rst) = (&syns[0], &rsts[0]);
        // nf_reject_iphdr_put: addresses swapped, TOS 0, ID 0, DF, TTL 64; 20 + 20 bytes.
        assert_eq!(&rst[12..16], &[10, 0, 1, 1], "from the address the SYN was for");
        assert_eq!(&rst[16..20], &[10, 0, 0, 1]);
        assert_eq!((rst[1], &rst[4..6], rst[6] & 0x40, rst[8]), (0, &[0u8, 0][..], 0x40, 64));
        assert_eq!(rst.len(), 40);
        // nf_reject_ip_tcphdr_put, for a segment without ACK: seq 0, ack = its seq + SYN.
        assert_eq!((&rst[20..22], &rst[22..24]), (&syn[22..24], &syn[20..22]), "ports swapped");
        assert_eq!(be32(&rst[24..28]), 0);
        assert_eq!(be32(&rst[28..32]), be32(&syn[24..28]).wrapping_add(1));
        assert_eq!((rst[32] >> 4, &rst[34..36]), (5, &[0u8, 0][..]), "no options, window 0");
        let info = wire::ipv4_info(rst).expect("valid IPv4");
        assert!(wire::l4_checksum_ok(&info, rst), "TCP checksum");
        let out = apps(&s);
        assert!(out.iter().any(|l| l.ends_with("→ 10.0.1.1:81: Connection refused")), "{out:?}");
    }

    #[test]
    fn tcp_reset_answers_a_segment_with_ack_at_the_number_it_acknowledges() {
        // The server's FIN is rejected on its way back: the RST goes to the server, in the
        // client's name, with the FIN's ack as its seq and no ACK of its own.
        let rule = "-A FORWARD -p tcp -m tcp --sport 85 --tcp-flags FIN FIN -j REJECT --reject-with tcp-reset";
        let s = routed(
            &[("r", rule)],
            r#"TcpListen(ns: "b", port: 85, reply: "hello", close_after_reply: true),
               TcpConnect(at: "1s", ns: "a", dst: "10.0.1.1", dport: 85, send: "hi")"#,
        );
        let fins: Vec<Vec<u8>> = sent(&s, "b/eth0", 0)
            .iter()
            .filter_map(|f| ip_of(f, wire::PROTO_TCP))
            .filter(|ip| ip[33] & 0x01 != 0)
            .map(<[u8]>::to_vec)
            .collect();
        assert_eq!(fins.len(), 1, "the server's FIN");
        let rsts: Vec<Vec<u8>> =
            tcp_with(&sent(&s, "r/eth1", 0), RST).into_iter().filter(|ip| ip[12..16] == [10, 0, 0, 1]).collect();
        assert_eq!(rsts.len(), 1, "the router's RST toward the server");
        let (fin, rst) = (&fins[0], &rsts[0]);
        assert_eq!(be32(&rst[24..28]), be32(&fin[28..32]), "seq = the FIN's ack");
        assert_eq!((be32(&rst[28..32]), rst[8]), (0, 64));
        // nf_ct_set_closing: the router's entry is CLOSE (10 s), and the RST, carrying it as
        // RELATED, was not tracked as a packet of its own.
        let r = s.world.ns_by_name("r").expect("r");
        let ct = crate::kernel::show::show(&s.world, r, crate::kernel::show::What::Conntrack);
        assert!(ct.contains(" CLOSE src=10.0.0.1 dst=10.0.1.1 ") && ct.contains("dport=85"), "{ct}");
        let why: Vec<String> = s
            .records()
            .iter()
            .filter(|r| {
                r.dir == Dir::Tx && r.frame.as_deref().is_some_and(|f| ip_of(f, 6).is_some_and(|ip| ip == &rst[..]))
            })
            .flat_map(|r| r.why.iter().map(|y| y.show(&s.world).to_string()))
            .collect();
        assert!(why.iter().any(|w| w.contains("REJECT --reject-with tcp-reset")), "{why:?}");
        assert!(!why.iter().any(|w| w.contains("INVALID")), "{why:?}");
    }

    #[test]
    fn every_icmp_reject_with_sends_its_code_quoting_the_forwarded_packet() {
        for (with, code, text) in [
            ("", 3, "Destination Port Unreachable"),
            (" --reject-with icmp-net-unreachable", 0, "Destination Net Unreachable"),
            (" --reject-with icmp-host-unreachable", 1, "Destination Host Unreachable"),
            (" --reject-with icmp-proto-unreachable", 2, "Destination Protocol Unreachable"),
            (" --reject-with icmp-net-prohibited", 9, "Destination Net Prohibited"),
            (" --reject-with icmp-host-prohibited", 10, "Destination Host Prohibited"),
            (" --reject-with icmp-admin-prohibited", 13, "Packet filtered"),
        ] {
            let rule = format!("-A FORWARD -p icmp -m icmp --icmp-type 8 -j REJECT{with}");
            let s = routed(&[("r", &rule)], r#"Ping(at: "1s", ns: "a", dst: "10.0.1.1", count: 1)"#);
            let echo = sent(&s, "a/eth0", 0).iter().find_map(|f| ip_of(f, wire::PROTO_ICMP).map(<[u8]>::to_vec));
            let echo = echo.expect("the echo request");
            let errs: Vec<Vec<u8>> =
                sent(&s, "r/eth0", 0).iter().filter_map(|f| ip_of(f, wire::PROTO_ICMP)).map(<[u8]>::to_vec).collect();
            assert_eq!(errs.len(), 1, "{with}: one error");
            let e = &errs[0];
            assert_eq!((e[20], e[21]), (3, code), "{with}: type and code");
            // icmp_send: from the router's address toward the sender, TOS 0xc0, DF clear, TTL 64.
            assert_eq!((&e[12..16], &e[16..20]), (&[10, 0, 0, 254][..], &[10, 0, 0, 1][..]), "{with}");
            assert_eq!((e[1], e[6] & 0x40, e[8]), (0xc0, 0, 64), "{with}");
            // The whole echo request is quoted, as the router had it at FORWARD: TTL 63.
            let mut at_forward = echo.clone();
            wire::ipv4::decrease_ttl(&mut at_forward);
            assert_eq!(&e[28..], &at_forward[..], "{with}: the quote");
            assert_eq!(wire::ipv4::checksum(&e[20..]), 0, "{with}: ICMP checksum");
            let out = apps(&s);
            assert!(out.iter().any(|l| *l == format!("From 10.0.0.254 icmp_seq=1 {text}")), "{with}: {out:?}");
        }
    }

    #[test]
    fn an_icmp_reject_ends_a_connect_with_its_errno() {
        let s = routed(
            &[
                ("r", "-A FORWARD -p tcp -m tcp --dport 82 -j REJECT"),
                ("r", "-A FORWARD -p tcp -m tcp --dport 83 -j REJECT --reject-with icmp-admin-prohibited"),
                ("r", "-A FORWARD -p tcp -m tcp --dport 84 -j REJECT --reject-with icmp-net-unreachable"),
            ],
            r#"TcpConnect(at: "1s", ns: "a", dst: "10.0.1.1", dport: 82),
               TcpConnect(at: "2s", ns: "a", dst: "10.0.1.1", dport: 83),
               TcpConnect(at: "3s", ns: "a", dst: "10.0.1.1", dport: 84)"#,
        );
        let out = apps(&s);
        for (port, err) in [(82, "Connection refused"), (83, "No route to host"), (84, "Network is unreachable")] {
            assert!(out.iter().any(|l| l.ends_with(&format!("→ 10.0.1.1:{port}: {err}"))), "{port}: {out:?}");
        }
        assert_eq!(tcp_with(&sent(&s, "a/eth0", 0), SYN).len(), 3, "no SYN is retried");
        assert!(s.now() < SimTime::from_secs(10), "the run ends without waiting for SYN timeouts");
    }

    #[test]
    fn an_input_reject_answers_from_the_rejecting_host() {
        let s = routed(
            &[("b", "-A INPUT -p udp -m udp --dport 9 -j REJECT")],
            r#"UdpSend(at: "1s", ns: "a", dst: "10.0.1.1", dport: 9, payload: "x")"#,
        );
        let errs: Vec<Vec<u8>> =
            sent(&s, "b/eth0", 0).iter().filter_map(|f| ip_of(f, wire::PROTO_ICMP)).map(<[u8]>::to_vec).collect();
        assert_eq!(errs.len(), 1);
        let e = &errs[0];
        assert_eq!((&e[12..16], &e[16..20], e[20], e[21]), (&[10, 0, 1, 1][..], &[10, 0, 0, 1][..], 3, 3));
        assert_eq!(e[28 + 8], 63, "quoted as it arrived: decremented once, by the router");
        let out = apps(&s);
        assert!(
            out.iter().any(|l| l
                .ends_with("ICMP from 10.0.1.1: Destination Port Unreachable (ECONNREFUSED on a connected socket)")),
            "{out:?}"
        );
    }

    #[test]
    fn an_output_reject_answers_the_sender_itself_through_lo() {
        let s = routed(
            &[
                ("a", "-A OUTPUT -p tcp -m tcp --dport 10 -j REJECT --reject-with tcp-reset"),
                ("a", "-A OUTPUT -p udp -m udp --dport 9 -j REJECT"),
            ],
            r#"TcpConnect(at: "1s", ns: "a", dst: "10.0.1.1", dport: 10),
               UdpSend(at: "2s", ns: "a", dst: "10.0.1.1", dport: 9, payload: "x")"#,
        );
        assert!(sent(&s, "a/eth0", 0).iter().all(|f| ip_of(f, 6).is_none() && ip_of(f, 17).is_none()));
        let lo = sent(&s, "a/lo", 0);
        let rst = tcp_with(&lo, RST_ACK);
        assert_eq!(rst.len(), 1);
        assert_eq!((&rst[0][12..16], &rst[0][16..20]), (&[10, 0, 1, 1][..], &[10, 0, 0, 1][..]));
        let err = lo.iter().find_map(|f| ip_of(f, wire::PROTO_ICMP)).expect("the port unreachable");
        assert_eq!((&err[12..16], &err[16..20], err[21]), (&[10, 0, 0, 1][..], &[10, 0, 0, 1][..], 3));
        let out = apps(&s);
        assert!(out.iter().any(|l| l.ends_with("→ 10.0.1.1:10: Connection refused")), "{out:?}");
    }

    /// Frames handed to b/eth0 one at a time, each counted by the ICMP errors or RSTs b sends.
    fn answers(s: &mut Sim, frame: Vec<u8>) -> usize {
        let from = s.records().len();
        let d = dev(s, "b/eth0");
        s.world.dev_rx(d, frame);
        s.absorb();
        sent(s, "b/eth0", from).iter().filter(|f| ip_of(f, 1).is_some() || ip_of(f, 6).is_some()).count()
    }

    #[test]
    fn no_answer_to_an_icmp_error_a_broadcast_a_later_fragment_a_bad_checksum_or_a_rst() {
        let mut s = routed(
            &[
                ("b", "-A INPUT -p tcp -j REJECT --reject-with tcp-reset"),
                ("b", "-A INPUT -p udp -j REJECT"),
                ("b", "-A INPUT -p icmp -j REJECT"),
            ],
            r#"Ping(at: "1s", ns: "a", dst: "10.0.1.1", count: 1)"#,
        );
        let (r_mac, b_mac) = (s.world.dev(dev(&s, "r/eth1")).mac, s.world.dev(dev(&s, "b/eth0")).mac);
        let eth = |mut f: Vec<u8>, dst: Mac| {
            wire::write_eth_header(&mut f, r_mac, dst, wire::ETHERTYPE_IPV4);
            f
        };
        let p = |dst: [u8; 4], proto: u8| Ipv4Params {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: dst.into(),
            proto,
            ttl: 63,
            id: 7,
            df: false,
            tos: 0,
        };
        let udp = |dst| wire::udp_frame(&p(dst, wire::PROTO_UDP), 40000, 9, b"x");
        let syn = TcpRepr { sport: 40000, dport: 80, seq: 1, syn: true, window: 100, ..Default::default() };
        let tcp = |t: &TcpRepr| wire::tcp_frame(&p([10, 0, 1, 1], wire::PROTO_TCP), t, &[]);
        let refix = |f: &mut Vec<u8>| {
            let ip = &mut f[wire::ETH_HLEN..];
            ip[10..12].copy_from_slice(&[0, 0]);
            let c = wire::ipv4::checksum(&ip[..20]);
            ip[10..12].copy_from_slice(&c.to_be_bytes());
        };
        // Controls: a UDP datagram and a SYN are answered.
        assert_eq!(answers(&mut s, eth(udp([10, 0, 1, 1]), b_mac)), 1, "control: UDP");
        assert_eq!(answers(&mut s, eth(tcp(&syn), b_mac)), 1, "control: SYN");
        // An ICMP error, and a type above NR_ICMP_TYPES, count as errors: not answered ...
        let about = udp([10, 0, 1, 1]);
        let err = wire::icmp_error_frame(&p([10, 0, 1, 1], 1), IcmpError::PortUnreachable, &about[14..]);
        assert_eq!(answers(&mut s, eth(err, b_mac)), 0, "an ICMP error");
        let icmp = |ty: u8| {
            let mut m = vec![ty, 0, 0, 0, 0, 1, 0, 1];
            let c = wire::ipv4::checksum(&m);
            m[2..4].copy_from_slice(&c.to_be_bytes());
            let mut f = wire::udp_frame(&p([10, 0, 1, 1], wire::PROTO_ICMP), 0, 0, &[]);
            f.truncate(wire::ETH_HLEN + 20);
            f.extend_from_slice(&m);
            let ip = &mut f[wire::ETH_HLEN..];
            ip[2..4].copy_from_slice(&28u16.to_be_bytes());
            ip[9] = wire::PROTO_ICMP;
            f
        };
        let mut t42 = icmp(42);
        refix(&mut t42);
        assert_eq!(answers(&mut s, eth(t42, b_mac)), 0, "ICMP type 42");
        // ... an informational one is (timestamp request, type 13).
        let mut t13 = icmp(13);
        refix(&mut t13);
        assert_eq!(answers(&mut s, eth(t13, b_mac)), 1, "ICMP type 13");
        // A broadcast destination, or a link-layer broadcast.
        assert_eq!(answers(&mut s, eth(udp([10, 0, 1, 255]), Mac::BROADCAST)), 0, "to 10.0.1.255");
        assert_eq!(answers(&mut s, eth(udp([10, 0, 1, 1]), Mac::BROADCAST)), 0, "to ff:ff:ff:ff:ff:ff");
        // A fragment after the first.
        let mut frag = udp([10, 0, 1, 1]);
        frag[wire::ETH_HLEN + 7] = 1;
        refix(&mut frag);
        assert_eq!(answers(&mut s, eth(frag, b_mac)), 0, "fragment offset 8");
        // A wrong transport checksum.
        let mut bad = udp([10, 0, 1, 1]);
        bad[wire::ETH_HLEN + 26] ^= 0xff;
        assert_eq!(answers(&mut s, eth(bad, b_mac)), 0, "bad UDP checksum");
        let mut bad = tcp(&syn);
        bad[wire::ETH_HLEN + 36] ^= 0xff;
        assert_eq!(answers(&mut s, eth(bad, b_mac)), 0, "bad TCP checksum");
        // No RST for a RST.
        let rst = TcpRepr { rst: true, ..syn.clone() };
        let rst = TcpRepr { syn: false, ..rst };
        assert_eq!(answers(&mut s, eth(tcp(&rst), b_mac)), 0, "a RST");
    }

    #[test]
    fn a_bridged_segment_is_reset_through_its_ingress_port_with_the_macs_swapped() {
        let plan = |br_addr: &str| {
            format!(
                r#"
                namespaces: [(name: "host"), (name: "ns1"), (name: "ns2")],
                links: [
                    Bridge(name: "br0", ns: "host"),
                    Veth(name: "eth0", ns: "ns1", peer: "veth1", peer_ns: "host", peer_master: "br0"),
                    Veth(name: "eth0", ns: "ns2", peer: "veth2", peer_ns: "host", peer_master: "br0"),
                ],
                addresses: [(ns: "ns1", dev: "eth0", addr: "10.0.0.1/24"), (ns: "ns2", dev: "eth0", addr: "10.0.0.2/24"){br_addr}],
                iptables: [(ns: "host", rule: "-A FORWARD -p tcp -m tcp --dport 81 -j REJECT --reject-with tcp-reset")],
                "#
            )
        };
        let traffic = r#"TcpConnect(at: "1s", ns: "ns1", dst: "10.0.0.2", dport: 81)"#;
        let s = run(&plan(r#", (ns: "host", dev: "br0", addr: "10.0.0.254/24")"#), traffic);
        let rsts = tcp_with(&sent(&s, "host/veth1", 0), RST_ACK);
        assert_eq!(rsts.len(), 1, "the RST leaves by the port the SYN came in on");
        let frame = sent(&s, "host/veth1", 0).into_iter().find(|f| ip_of(f, 6).is_some_and(|ip| ip[33] == RST_ACK));
        let frame = frame.expect("RST frame");
        let (m1, m2) = (s.world.dev(dev(&s, "ns1/eth0")).mac, s.world.dev(dev(&s, "ns2/eth0")).mac);
        assert_eq!((wire::eth_src(&frame), wire::eth_dst(&frame)), (m2, m1), "as if from ns2");
        assert_eq!(&frame[wire::ETH_HLEN + 12..wire::ETH_HLEN + 16], &[10, 0, 0, 2]);
        assert!(tcp_with(&sent(&s, "host/br0", 0), RST_ACK).is_empty(), "not through the bridge's IP output");
        assert!(apps(&s).iter().any(|l| l.ends_with("→ 10.0.0.2:81: Connection refused")));
        // ip_route_me_harder needs a route to the client: a bridge without an address sends none.
        let s = run(&plan(""), traffic);
        assert!(tcp_with(&sent(&s, "host/veth1", 0), RST_ACK).is_empty());
        assert!(tcp_with(&sent(&s, "ns1/eth0", 0), SYN).len() > 1, "the client retries");
    }
}
