//! The IPv4 stack of a namespace: ARP and the neighbour table, routing with longest-prefix
//! match, forwarding, local delivery and ICMP errors, with netfilter at Linux's five hooks.

use std::net::Ipv4Addr;

use crate::engine::SimTime;
use crate::ipvs::{Forward, InOutcome, TcpFlags};
use crate::netfilter::{AddrType, Hook, HookCtx, InputStage, Netfilter, PacketMeta, Verdict};
use crate::trace::{Dir, Why};
use crate::wire::{self, ArpRepr, IcmpError, Ipv4Params, Mac};
use crate::world::{DevId, DevKind, Event, IfAddr, Neigh, NsId, Nud, World, defaults};

/// What the namespace's local table says about an address (the `addrtype` match's view).
pub(crate) fn addr_type_in(w: &World, ns: NsId, ip: Ipv4Addr) -> AddrType {
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

impl World {
    pub(crate) fn next_ip_id(&mut self, ns: NsId) -> u16 {
        let n = self.netns_mut(ns);
        n.ip_id = n.ip_id.wrapping_add(1);
        n.ip_id
    }

    /// Runs one netfilter hook of namespace `ns` on an IPv4 packet, recording its notes.
    pub(crate) fn nf_hook(
        &mut self,
        ns: NsId,
        hook: Hook,
        ip: &mut [u8],
        meta: &mut PacketMeta,
        in_dev: Option<DevId>,
        out_dev: Option<DevId>,
    ) -> Verdict {
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
    ) -> Verdict {
        if self.netns(ns).nf.is_inert() {
            return Verdict::Accept;
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
        let r = match stage {
            Some(st) => nf.hook_input(st, ip, meta, &ctx, now),
            None => nf.hook(hook, ip, meta, &ctx, now),
        };
        if self.explaining() {
            for n in &r.notes {
                self.why.push(Why::Netfilter(n.to_string()));
            }
        }
        r.verdict
    }

    // ----- ARP ---------------------------------------------------------------------------

    pub(crate) fn arp_rcv(&mut self, dev: DevId, frame: Vec<u8>) {
        let ns = self.dev(dev).ns;
        let Some(arp) = ArpRepr::parse(&frame[wire::ETH_HLEN..]) else {
            return self.drop_frame(dev, &frame, || "malformed ARP".into());
        };
        let for_us = addr_type_in(self, ns, arp.target_ip) == AddrType::Local;
        if arp.op == wire::ARP_REQUEST && for_us && arp.sender_ip != arp.target_ip {
            // arp_ignore=0: answer for any local address, on whichever interface asked.
            let mac = self.dev(dev).mac;
            let reply = ArpRepr {
                op: wire::ARP_REPLY,
                sender_mac: mac,
                sender_ip: arp.target_ip,
                target_mac: arp.sender_mac,
                target_ip: arp.sender_ip,
            };
            if !arp.sender_ip.is_unspecified() {
                self.neigh_learn(ns, dev, arp.sender_ip, arp.sender_mac, false, true);
            }
            let ip = arp.target_ip;
            self.record_deliver(ns, dev, || Why::ArpReply { ip });
            self.originate(|w| {
                w.note(|| Why::ArpReply { ip });
                w.dev_xmit(dev, reply.frame(mac, arp.sender_mac));
            });
            return;
        }
        // Replies (and requests not for us, gratuitous ones included) only update entries
        // that exist: arp_accept=0 never creates one from unsolicited ARP.
        let is_reply = arp.op == wire::ARP_REPLY && wire::eth_dst(&frame) == self.dev(dev).mac;
        if self.netns(ns).neigh.contains_key(&(dev, arp.sender_ip)) {
            self.neigh_learn(ns, dev, arp.sender_ip, arp.sender_mac, is_reply, false);
            let (ip, mac) = (arp.sender_ip, arp.sender_mac);
            self.record_deliver(ns, dev, || Why::Local {
                what: format!("ARP from {ip} ({mac}) updates the neighbour entry"),
            });
        } else {
            self.drop_frame(dev, &frame, || {
                "ARP not for a local address and no neighbour entry to update (arp_accept=0)".into()
            });
        }
    }

    fn record_deliver(&mut self, ns: NsId, dev: DevId, w: impl FnOnce() -> Why) {
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
            None if create => n.neigh.entry((dev, ip)).or_insert(Neigh {
                mac,
                state: Nud::Stale,
                confirmed: SimTime::ZERO,
                updated: now,
                probes: 0,
                queue: Vec::new(),
                epoch: 0,
            }),
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
        entry.updated = now;
        entry.epoch = entry.epoch.wrapping_add(1);
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
            let dn = self.dev(dev).name.clone();
            self.note(|| Why::Neigh { ip, dev: dn, state: "resolved: queued packet sent", mac: Some(mac) });
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
        // arp_announce=0: the queued packet's source if it is local, else the device's address.
        let sender_ip = src_hint
            .filter(|s| addr_type_in(self, ns, *s) == AddrType::Local)
            .or_else(|| self.select_src(ns, dev, ip))
            .unwrap_or(Ipv4Addr::UNSPECIFIED);
        let req = ArpRepr { op: wire::ARP_REQUEST, sender_mac: mac, sender_ip, target_mac: Mac::ZERO, target_ip: ip };
        self.dev_xmit(dev, req.frame(mac, unicast.unwrap_or(Mac::BROADCAST)));
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
            w.note(|| Why::App(format!("dockerd: unsolicited ARP for {ip} on a new interface")));
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
        // Kept with the packet if it has to wait for ARP (no allocation when not tracing).
        let why = if trace { self.why.clone() } else { Vec::new() };
        let n = self.netns_mut(ns);
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
                    self.schedule(defaults::DELAY_FIRST_PROBE, Event::Neigh { ns, dev, ip: nexthop, epoch });
                }
                if trace {
                    let dn = self.dev(dev).name.clone();
                    self.note(|| Why::Neigh { ip: nexthop, dev: dn, state: state.name(), mac: Some(mac) });
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
                    let dn = self.dev(dev).name.clone();
                    self.note(|| Why::Neigh { ip: nexthop, dev: dn, state: "INCOMPLETE", mac: None });
                    let mark = self.why_mark();
                    self.note(|| Why::Local { what: format!("queued while resolving {nexthop} ({q} waiting)") });
                    self.record(ns, Some(dev), Dir::Deliver, None);
                    self.why_reset(mark);
                }
            }
            _ => {
                // No entry, or FAILED: start resolving (__neigh_event_send).
                let src_hint = wire::ipv4_info(&frame[wire::ETH_HLEN..]).ok().map(|i| i.src);
                let e = n.neigh.entry((dev, nexthop)).or_insert(Neigh {
                    mac: Mac::ZERO,
                    state: Nud::Incomplete,
                    confirmed: SimTime::ZERO,
                    updated: now,
                    probes: 0,
                    queue: Vec::new(),
                    epoch: 0,
                });
                e.state = Nud::Incomplete;
                e.mac = Mac::ZERO;
                e.probes = 1;
                e.updated = now;
                e.queue.clear();
                e.queue.push((frame, why));
                e.epoch = e.epoch.wrapping_add(1);
                let epoch = e.epoch;
                self.schedule(defaults::ARP_RETRANS, Event::Neigh { ns, dev, ip: nexthop, epoch });
                // The ARP request is explained by the resolution, not by the packet it waits for.
                let dn = self.dev(dev).name.clone();
                self.originate(|w| {
                    w.note(|| Why::Neigh { ip: nexthop, dev: dn, state: "none → INCOMPLETE", mac: None });
                    w.note(|| Why::ArpProbe { ip: nexthop, attempt: 1, max: defaults::MCAST_SOLICIT, queued: 1 });
                    w.arp_solicit(ns, dev, nexthop, None, src_hint);
                });
            }
        }
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
                    let name = self.dev(dev).name.clone();
                    let mark = self.why_mark();
                    self.note(|| Why::Drop(format!("no ARP reply from {ip} on {name} after {max} requests")));
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
                if e.confirmed >= e.updated {
                    e.state = Nud::Reachable;
                    return;
                }
                e.state = Nud::Probe;
                e.probes = 1;
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
        let i = self.route_lookup(ns, dst, oif)?;
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
            Err(e) => return self.drop_frame(dev, &frame, || format!("ip_rcv: {e}")),
        };
        frame.truncate(wire::ETH_HLEN + info.total_len);
        let mut meta = self.rx_meta.take().unwrap_or_default();
        if self.nf_hook(ns, Hook::Prerouting, &mut frame[wire::ETH_HLEN..], &mut meta, Some(dev), None) == Verdict::Drop
        {
            return self.drop_frame(dev, &frame, || "netfilter PREROUTING dropped it".into());
        }
        self.ip_rcv_finish(ns, dev, frame, meta)
    }

    fn ip_rcv_finish(&mut self, ns: NsId, dev: DevId, frame: Vec<u8>, meta: PacketMeta) {
        let Ok(info) = wire::ipv4_info(&frame[wire::ETH_HLEN..]) else { return };
        match addr_type_in(self, ns, info.dst) {
            AddrType::Local | AddrType::Broadcast => self.ip_local_deliver(ns, dev, frame, meta),
            AddrType::Multicast => self.drop_frame(dev, &frame, || "multicast: no group joined".into()),
            _ => {
                if !self.netns(ns).ip_forward {
                    return self
                        .drop_frame(dev, &frame, || format!("{} is not a local address and ip_forward=0", info.dst));
                }
                self.ip_forward(ns, dev, frame, meta)
            }
        }
    }

    fn ip_forward(&mut self, ns: NsId, in_dev: DevId, mut frame: Vec<u8>, mut meta: PacketMeta) {
        let info = match wire::ipv4_info(&frame[wire::ETH_HLEN..]) {
            Ok(i) => i,
            Err(_) => return,
        };
        let Some(ri) = self.route_lookup(ns, info.dst, None) else {
            self.drop_frame(in_dev, &frame, || format!("no route to {}", info.dst));
            return self.icmp_send(ns, &frame[wire::ETH_HLEN..], IcmpError::NetUnreachable);
        };
        let r = self.netns(ns).routes[ri].clone();
        if self.explaining() {
            let t = self.route_text(&r);
            self.note(|| Why::Route { route: t });
        }
        if info.ttl <= 1 {
            self.drop_frame(in_dev, &frame, || "TTL expired in transit".into());
            return self.icmp_send(ns, &frame[wire::ETH_HLEN..], IcmpError::TtlExceeded);
        }
        if self.nf_hook(ns, Hook::Forward, &mut frame[wire::ETH_HLEN..], &mut meta, Some(in_dev), Some(r.dev))
            == Verdict::Drop
        {
            return self.drop_frame(in_dev, &frame, || "netfilter FORWARD dropped it".into());
        }
        if !self.netns(ns).ipvs.is_empty() {
            self.ipvs_out(ns, &mut frame, &mut meta);
        }
        let ttl = info.ttl;
        self.note(|| Why::Forward { ttl });
        wire::ipv4_decrease_ttl(&mut frame[wire::ETH_HLEN..]);
        let mtu = self.dev(r.dev).mtu as usize;
        if info.total_len > mtu {
            let df = frame[wire::ETH_HLEN + 6] & 0x40 != 0;
            let out_name = self.dev(r.dev).name.clone();
            self.drop_frame(in_dev, &frame, || {
                format!("packet of {} bytes exceeds the MTU {mtu} of {out_name}", info.total_len)
            });
            if df {
                self.icmp_send(ns, &frame[wire::ETH_HLEN..], IcmpError::FragNeeded { mtu: mtu as u16 });
            }
            return;
        }
        self.ip_finish_output(ns, r.dev, r.via.unwrap_or(info.dst), frame, meta)
    }

    fn ip_local_deliver(&mut self, ns: NsId, dev: DevId, mut frame: Vec<u8>, mut meta: PacketMeta) {
        if self.netns(ns).ipvs.is_empty() {
            if self.nf_hook(ns, Hook::Input, &mut frame[wire::ETH_HLEN..], &mut meta, Some(dev), None) == Verdict::Drop
            {
                return self.drop_frame(dev, &frame, || "netfilter INPUT dropped it".into());
            }
        } else {
            let ip = &mut frame[wire::ETH_HLEN..];
            if self.nf_hook_stage(ns, Hook::Input, Some(InputStage::BeforeIpvs), ip, &mut meta, Some(dev), None)
                == Verdict::Drop
            {
                return self.drop_frame(dev, &frame, || "netfilter INPUT dropped it".into());
            }
            let Some((frame2, meta2)) = self.ipvs_in(ns, dev, frame, meta) else { return };
            (frame, meta) = (frame2, meta2);
            let ip = &mut frame[wire::ETH_HLEN..];
            if self.nf_hook_stage(ns, Hook::Input, Some(InputStage::AfterIpvs), ip, &mut meta, Some(dev), None)
                == Verdict::Drop
            {
                return self.drop_frame(dev, &frame, || "netfilter INPUT dropped it".into());
            }
        }
        let Ok(info) = wire::ipv4_info(&frame[wire::ETH_HLEN..]) else { return };
        let ip = &frame[wire::ETH_HLEN..wire::ETH_HLEN + info.total_len];
        if !wire::l4_checksum_ok(&info, ip) {
            return self.drop_frame(dev, &frame, || "bad transport checksum".into());
        }
        self.stats.delivered += 1;
        match info.proto {
            wire::PROTO_ICMP => self.icmp_rcv(ns, dev, &info, ip),
            wire::PROTO_UDP => self.udp_rcv(ns, dev, &info, ip, &frame),
            wire::PROTO_TCP => self.tcp_rcv(ns, dev, &info, ip),
            p => self.drop_frame(dev, &frame, || format!("no handler for IP protocol {p}")),
        }
    }

    fn icmp_rcv(&mut self, ns: NsId, dev: DevId, info: &wire::Ipv4Info, ip: &[u8]) {
        let l4 = &ip[info.ihl..info.total_len];
        if l4.len() < 8 {
            return;
        }
        match l4[0] {
            8 => {
                // Echo request: the kernel answers itself (icmp_echo).
                let (ident, seq) = (u16::from_be_bytes([l4[4], l4[5]]), u16::from_be_bytes([l4[6], l4[7]]));
                let (src, dst) = (info.src, info.dst);
                self.record_deliver(ns, dev, || Why::Local {
                    what: format!("ICMP echo request for local {dst} → kernel sends echo reply"),
                });
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
                    w.note(|| Why::Local { what: format!("kernel: ICMP echo reply to {src} icmp_seq={seq}") });
                    w.ip_output(ns, reply, rt, None);
                });
            }
            _ => self.icmp_to_app(ns, dev, info, ip),
        }
    }

    fn udp_rcv(&mut self, ns: NsId, dev: DevId, info: &wire::Ipv4Info, ip: &[u8], frame: &[u8]) {
        let l4 = &ip[info.ihl..info.total_len];
        if l4.len() < 8 {
            return self.drop_frame(dev, frame, || "truncated UDP".into());
        }
        let dport = u16::from_be_bytes([l4[2], l4[3]]);
        if self.vxlan_rcv(ns, dport, info.src, &l4[8..]) {
            return;
        }
        if self.netns(ns).udp.contains_key(&dport) {
            return self.udp_to_app(ns, dev, info, ip);
        }
        if addr_type_in(self, ns, info.dst) != AddrType::Local {
            return self.drop_frame(dev, frame, || format!("UDP broadcast to port {dport}: no socket"));
        }
        self.drop_frame(dev, frame, || format!("no UDP socket on port {dport} → ICMP port unreachable"));
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
                self.drop_frame(dev, &frame, || "IPVS: the service has no real server → ICMP port unreachable".into());
                self.icmp_send(ns, &frame[wire::ETH_HLEN..], IcmpError::PortUnreachable);
                None
            }
            InOutcome::Drop(why) => {
                self.drop_frame(dev, &frame, || why);
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
                    self.drop_frame(dev, &frame, || format!("IPVS: no route to real server {}", real.0));
                    return None;
                };
                let r = self.netns(ns).routes[ri].clone();
                if self.explaining() {
                    let t = self.route_text(&r);
                    self.note(|| Why::Route { route: t });
                }
                let ip = &mut frame[wire::ETH_HLEN..];
                if self.nf_hook(ns, Hook::Output, ip, &mut meta, None, Some(r.dev)) == Verdict::Drop {
                    self.drop_frame(r.dev, &frame, || "netfilter OUTPUT dropped it".into());
                    return None;
                }
                self.ip_finish_output(ns, r.dev, r.via.unwrap_or(real.0), frame, meta);
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
            self.note(|| {
                Why::Ipvs(format!("IPVS reply from real server {}:{} → source {}:{}", src.0, src.1, vip.0, vip.1))
            });
        }
    }

    // ----- output ------------------------------------------------------------------------

    /// A locally generated packet leaves: OUTPUT (re-routing if NAT changed the
    /// destination), then POSTROUTING and the neighbour layer.
    pub(crate) fn ip_output(&mut self, ns: NsId, mut frame: Vec<u8>, rt: OutRoute, oif: Option<DevId>) {
        let mut meta = PacketMeta::default();
        let dst0 = wire::ipv4_info(&frame[wire::ETH_HLEN..]).map(|i| i.dst).ok();
        let out_dev = self.out_dev(ns, rt);
        if self.explaining() {
            let route = match rt {
                OutRoute::Main(i) => self.route_text(&self.netns(ns).routes[i]),
                // The local table: `ip route show table local` prints it so.
                OutRoute::Local(lo) => match dst0 {
                    Some(d) => format!("local {d} dev {} table local", self.dev(lo).name),
                    None => format!("local dev {} table local", self.dev(lo).name),
                },
            };
            self.note(|| Why::Route { route });
        }
        if self.nf_hook(ns, Hook::Output, &mut frame[wire::ETH_HLEN..], &mut meta, None, Some(out_dev)) == Verdict::Drop
        {
            self.drop_frame(out_dev, &frame, || "netfilter OUTPUT dropped it".into());
            return;
        }
        let Ok(info) = wire::ipv4_info(&frame[wire::ETH_HLEN..]) else { return };
        let rt = if Some(info.dst) != dst0 {
            // ip_route_me_harder: NAT in OUTPUT changed the destination.
            match self.route_output(ns, info.dst, oif) {
                Some((rt, _)) => rt,
                None => return self.drop_frame(out_dev, &frame, || format!("no route to {} after NAT", info.dst)),
            }
        } else {
            rt
        };
        let (dev, nexthop) = match rt {
            OutRoute::Local(lo) => (lo, info.dst),
            OutRoute::Main(i) => {
                let r = &self.netns(ns).routes[i];
                (r.dev, r.via.unwrap_or(info.dst))
            }
        };
        // A loopback source may leave only through lo or a device with route_localnet
        // (ip_route_output_key_hash_rcu: martian source), as when OUTPUT DNAT sends a
        // connection to 127.0.0.1 elsewhere.
        if info.src.is_loopback() && !matches!(self.dev(dev).kind, DevKind::Loopback) && !self.dev(dev).route_localnet {
            let name = self.dev(dev).name.clone();
            return self.drop_frame(dev, &frame, || {
                format!("source {} may not leave through {name}: route_localnet=0 (martian)", info.src)
            });
        }
        let mtu = self.dev(dev).mtu as usize;
        if info.total_len > mtu {
            return self.drop_frame(dev, &frame, || {
                format!("packet of {} bytes exceeds the MTU {mtu} (EMSGSIZE)", info.total_len)
            });
        }
        self.ip_finish_output(ns, dev, nexthop, frame, meta)
    }

    fn out_dev(&self, ns: NsId, rt: OutRoute) -> DevId {
        match rt {
            OutRoute::Local(lo) => lo,
            OutRoute::Main(i) => self.netns(ns).routes[i].dev,
        }
    }

    fn ip_finish_output(&mut self, ns: NsId, dev: DevId, nexthop: Ipv4Addr, mut frame: Vec<u8>, mut meta: PacketMeta) {
        if self.nf_hook(ns, Hook::Postrouting, &mut frame[wire::ETH_HLEN..], &mut meta, None, Some(dev))
            == Verdict::Drop
        {
            return self.drop_frame(dev, &frame, || "netfilter POSTROUTING dropped it".into());
        }
        if matches!(self.dev(dev).kind, DevKind::Loopback) {
            self.lo_meta = Some(meta);
        }
        self.neigh_output(ns, dev, nexthop, frame)
    }

    /// `icmp_send`: an ICMP error about `offending` (an IPv4 packet) back to its source.
    pub(crate) fn icmp_send(&mut self, ns: NsId, offending: &[u8], kind: IcmpError) {
        let Ok(info) = wire::ipv4_info(offending) else { return };
        // Never about ICMP errors, fragments after the first, or non-unicast sources.
        if info.proto == wire::PROTO_ICMP && offending.len() > info.ihl && ![0u8, 8].contains(&offending[info.ihl]) {
            return;
        }
        if info.src.is_unspecified() || info.src.is_broadcast() || info.src.is_multicast() {
            return;
        }
        let Some((rt, src)) = self.route_output(ns, info.src, None) else { return };
        // icmp_errors_use_inbound_ifaddr=0: the source is the address routing picks toward the
        // sender, unless the offending packet was for a local address (then that address).
        let src = if addr_type_in(self, ns, info.dst) == AddrType::Local { info.dst } else { src };
        let id = self.next_ip_id(ns);
        let p =
            Ipv4Params { src, dst: info.src, proto: wire::PROTO_ICMP, ttl: defaults::TTL, id, df: false, tos: 0xc0 };
        let f = wire::icmp_error_frame(&p, kind, &offending[..info.total_len]);
        self.originate(|w| {
            w.note(|| Why::Local { what: format!("ICMP {kind:?} sent to {}", info.src) });
            w.ip_output(ns, f, rt, None);
        });
    }
}

/// Where a locally generated packet goes: a main-table route, or local delivery via lo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutRoute {
    Main(usize),
    Local(DevId),
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
