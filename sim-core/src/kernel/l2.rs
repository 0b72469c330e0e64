//! Link layer: what each kind of device does with a frame it receives or must send.
//!
//! Receive follows `__netif_receive_skb`: taps (our records), 802.1Q untagging, then the
//! device's rx_handler (a bridge port hands the frame to its bridge, a macvlan parent to its
//! children), and only then the protocol handlers of the device's own namespace.

use crate::kernel::frag::DefragUser;
use crate::kernel::l3::NfVerdict;
use crate::kernel::netfilter::{Hook, PacketMeta};
use crate::kernel::qdisc::Verdict;
use crate::kernel::trace::{Dir, DropReason, MacvlanHop, VxlanMiss, Why};
use crate::kernel::{BrPort, DevId, DevKind, Event, FdbEntry, Held, Kernel, Nud, Userland, VxFdb};
use crate::plan::MacvlanMode;
use crate::wire::{self, ArpRepr, Mac, vxlan};

impl<U: Userland> Kernel<U> {
    /// A frame that crossed a link arrives (the `Arrive` event).
    pub(crate) fn arrive(&mut self, dev: DevId, frame: Vec<u8>) {
        self.stats.hops += 1;
        self.dev_rx(dev, frame);
    }

    pub(crate) fn dev_rx(&mut self, dev: DevId, mut frame: Vec<u8>) {
        let d = self.dev(dev);
        if !d.up {
            return self.drop_frame(dev, &frame, DropReason::DevDown);
        }
        let ns = d.ns;
        let (master, has_uppers) = (d.master, !d.uppers.is_empty());
        let st = &mut self.dev_mut(dev).stats;
        st.rx_packets += 1;
        st.rx_bytes += frame.len() as u64;
        self.record(ns, Some(dev), Dir::Rx, Some(&frame));
        if frame.len() < wire::ETH_HLEN {
            return self.drop_frame(dev, &frame, DropReason::Runt);
        }
        // vlan_do_receive: a tag is stripped only when a VLAN device for it sits on this
        // device; otherwise the frame goes on tagged (a bridge forwards it as it is).
        if wire::ethertype(&frame) == wire::ETHERTYPE_VLAN && frame.len() >= wire::ETH_HLEN + wire::VLAN_HLEN {
            let vid = u16::from_be_bytes([frame[14], frame[15]]) & 0x0fff;
            let upper = self
                .dev(dev)
                .uppers
                .iter()
                .copied()
                .find(|u| matches!(self.dev(*u).kind, DevKind::Vlan { vid: v, .. } if v == vid));
            if let Some(u) = upper {
                wire::pop_vlan_tag(&mut frame);
                self.note(|| Why::Vlan { dev: u, vid, pushed: false });
                return self.dev_rx(u, frame);
            }
            if master.is_none() {
                return self.drop_frame(dev, &frame, DropReason::NoVlanDevice { vid });
            }
        }
        if let Some(br) = master {
            return self.bridge_rx(br, dev, frame);
        }
        if has_uppers {
            match self.macvlan_rx(dev, frame) {
                Some(f) => frame = f,
                None => return,
            }
        }
        self.l2_deliver(dev, frame);
    }

    /// Protocol delivery to the device's own stack, after the PACKET_HOST check.
    pub(crate) fn l2_deliver(&mut self, dev: DevId, frame: Vec<u8>) {
        let dst = wire::eth_dst(&frame);
        let d = self.dev(dev);
        if dst != d.mac && !dst.is_multicast() && !matches!(d.kind, DevKind::Loopback) {
            return self.drop_frame(dev, &frame, DropReason::OtherHost { dst });
        }
        match wire::ethertype(&frame) {
            wire::ETHERTYPE_ARP => self.arp_rcv(dev, frame),
            wire::ETHERTYPE_IPV4 => self.ip_rcv(dev, frame),
            t => self.drop_frame(dev, &frame, DropReason::NoEthertypeHandler(t)),
        }
    }

    /// `dev_queue_xmit`: a frame leaves through a device, through its qdisc if it has one
    /// other than the default. Inlined: two tests before the driver, on every frame sent
    /// (with a plain `#[inline]`, LLVM left it a call).
    #[inline(always)]
    pub(crate) fn dev_xmit(&mut self, dev: DevId, frame: Vec<u8>) {
        let d = self.dev(dev);
        if !d.up {
            return self.drop_frame(dev, &frame, DropReason::DevDown);
        }
        if d.qdisc.is_some() {
            return self.qdisc_enqueue(dev, frame);
        }
        self.dev_hard_start_xmit(dev, frame)
    }

    /// netem on the device's egress (`kernel::qdisc`): the frame is lost, or leaves later.
    fn qdisc_enqueue(&mut self, dev: DevId, frame: Vec<u8>) {
        let now = self.now;
        let Some(q) = self.dev_mut(dev).qdisc.as_mut() else { return };
        match q.enqueue(now, frame.len()) {
            Verdict::Lost => self.drop_frame(dev, &frame, DropReason::NetemLoss),
            Verdict::Overlimit => {
                let limit = q.netem.limit;
                self.drop_frame(dev, &frame, DropReason::QdiscOverlimit { limit })
            }
            // Nothing to wait for (loss alone): it leaves now, as netem dequeues it at once.
            Verdict::At(at) if at <= now => self.dev_hard_start_xmit(dev, frame),
            Verdict::At(at) => {
                let qdisc = (q.handle, q.generation);
                let meta = match self.dev(dev).kind {
                    DevKind::Loopback => self.lo_meta.take(),
                    _ => None,
                };
                let held = Held { dev, frame, meta, since: now, qdisc };
                self.schedule(at.saturating_sub(now), Event::Dequeue(Box::new(held)));
            }
        }
    }

    /// A frame netem held leaves now (the `Dequeue` event).
    pub(crate) fn qdisc_dequeue(&mut self, h: Held) {
        // A device taken down meanwhile flushed its queue (`dev_deactivate`), and a qdisc
        // replaced took what it held with it (`qdisc_graft`).
        let d = self.dev(h.dev);
        if !d.up || d.qdisc.as_ref().map(|q| (q.handle, q.generation)) != Some(h.qdisc) {
            return;
        }
        let (dev, held) = (h.dev, self.now.saturating_sub(h.since));
        self.note(|| Why::Netem { dev, held });
        self.lo_meta = h.meta;
        self.dev_hard_start_xmit(dev, h.frame)
    }

    /// The driver's transmit, where `tcpdump` sees the frame leave.
    fn dev_hard_start_xmit(&mut self, dev: DevId, frame: Vec<u8>) {
        let ns = self.dev(dev).ns;
        let st = &mut self.dev_mut(dev).stats;
        st.tx_packets += 1;
        st.tx_bytes += frame.len() as u64;
        self.record(ns, Some(dev), Dir::Tx, Some(&frame));
        match &self.dev(dev).kind {
            DevKind::Loopback => {
                let meta = self.lo_meta.take();
                self.schedule(crate::engine::SimTime::ZERO, Event::LoArrive(Box::new((dev, frame, meta))))
            }
            DevKind::Veth { peer, delay } => {
                let (peer, delay) = (*peer, *delay);
                if self.dev(peer).up {
                    let (csum_partial, confirm) = (self.csum_partial, self.dst_pending_confirm);
                    self.schedule(delay, Event::Arrive { dev: peer, frame, csum_partial, confirm });
                } else {
                    self.drop_frame(dev, &frame, DropReason::PeerDown);
                }
            }
            DevKind::Bridge(_) => self.bridge_xmit(dev, frame),
            DevKind::Vxlan(_) => self.vxlan_xmit(dev, frame),
            DevKind::Macvlan { parent, mode } => {
                let (parent, mode) = (*parent, *mode);
                self.macvlan_xmit(dev, parent, mode, frame)
            }
            DevKind::Vlan { parent, vid } => {
                let (parent, vid) = (*parent, *vid);
                let mut frame = frame;
                wire::push_vlan_tag(&mut frame, vid);
                self.note(|| Why::Vlan { dev, vid, pushed: true });
                self.dev_xmit(parent, frame)
            }
        }
    }

    // ----- bridge ----------------------------------------------------------------------------

    /// Inlined into its two callers: every bridged frame looks its destination up here.
    #[inline(always)]
    fn bridge_fdb_get(&mut self, br: DevId, mac: Mac) -> Option<FdbEntry> {
        let now = self.now;
        let DevKind::Bridge(b) = &mut self.dev_mut(br).kind else { return None };
        let e = *b.fdb.get(&mac)?;
        if !e.permanent && now.saturating_sub(e.updated) > b.ageing {
            // Aged out (br_fdb_cleanup would have removed it by now).
            b.fdb.remove(&mac);
            return None;
        }
        Some(e)
    }

    fn bridge_learn(&mut self, br: DevId, src: Mac, port: DevId) {
        let now = self.now;
        let DevKind::Bridge(b) = &mut self.devs[br.0 as usize].kind else { return };
        let moved_from = match b.fdb.get_mut(&src) {
            Some(e) if e.permanent => return,
            Some(e) if e.port == port => {
                e.updated = now;
                return;
            }
            Some(e) => {
                let old = e.port;
                *e = FdbEntry { port, updated: now, local: false, permanent: false, seq: e.seq };
                Some(old)
            }
            None => {
                b.fdb_insert(src, port, now, false, false);
                None
            }
        };
        self.note(|| Why::Learned { bridge: br, mac: src, port, moved_from });
    }

    /// Whether br_netfilter hands this bridged frame to iptables (`br_nf_pre_routing`).
    #[inline]
    fn bridge_calls_iptables(&self, br: DevId, frame: &[u8]) -> bool {
        let ns = self.dev(br).ns;
        self.netns(ns).bridge_nf_call_iptables
            && !self.netns(ns).nf.is_inert()
            && wire::ethertype(frame) == wire::ETHERTYPE_IPV4
            && frame.len() >= wire::ETH_HLEN + 20
    }

    /// `br_handle_frame`: a frame arrived on a bridge port.
    fn bridge_rx(&mut self, br: DevId, port: DevId, mut frame: Vec<u8>) {
        if !self.dev(br).up {
            return self.drop_frame(port, &frame, DropReason::BridgeDown);
        }
        // br_netfilter's PREROUTING reassembles for conntrack (nf_defrag_ipv4) before the
        // bridge decides anything; the frame goes on whole and is cut again on its way out.
        let mut frag_max = 0;
        if self.bridge_calls_iptables(br, &frame) && wire::ipv4::is_fragment(&frame[wire::ETH_HLEN..]) {
            let ns = self.dev(br).ns;
            let Some((whole, max)) = self.ip_defrag(ns, port, frame, DefragUser::Conntrack) else { return };
            (frame, frag_max) = (whole, max);
        }
        let (src, dst) = (wire::eth_src(&frame), wire::eth_dst(&frame));
        // br_handle_frame_finish: only a port with BR_LEARNING teaches the FDB.
        if !src.is_multicast() && !src.is_zero() && self.dev(port).brport.learning {
            self.bridge_learn(br, src, port);
        }
        if dst.is_multicast() {
            return self.bridge_flood(br, Some(port), frame, true, frag_max);
        }
        match self.bridge_fdb_get(br, dst) {
            Some(e) if e.local => {
                self.note(|| Why::BridgeLocal { bridge: br });
                self.bridge_up(br, frame)
            }
            Some(e) if e.port == port && !self.dev(port).brport.hairpin => {
                let mark = self.why_mark();
                self.note(|| Why::HairpinDrop { bridge: br, port });
                self.drop_frame(port, &frame, DropReason::HairpinOff { port });
                self.why_reset(mark);
            }
            // br_forward → should_deliver: nothing passes from one isolated port to another.
            Some(e) if self.dev(port).brport.isolated && self.dev(e.port).brport.isolated => {
                self.note(|| Why::FdbHit { bridge: br, mac: dst, port: e.port });
                self.drop_frame(port, &frame, DropReason::PortIsolated { from: port, to: e.port });
            }
            Some(e) => {
                self.note(|| Why::FdbHit { bridge: br, mac: dst, port: e.port });
                self.bridge_forward(br, Some(port), e.port, frame, frag_max)
            }
            None => self.bridge_flood(br, Some(port), frame, false, frag_max),
        }
    }

    /// The bridge device's own stack sends a frame (`br_dev_xmit`).
    fn bridge_xmit(&mut self, br: DevId, frame: Vec<u8>) {
        let dst = wire::eth_dst(&frame);
        if dst.is_multicast() {
            return self.bridge_flood(br, None, frame, false, 0);
        }
        match self.bridge_fdb_get(br, dst) {
            Some(e) if !e.local => {
                self.note(|| Why::FdbHit { bridge: br, mac: dst, port: e.port });
                self.dev_xmit(e.port, frame)
            }
            Some(_) => self.drop_frame(br, &frame, DropReason::BridgeToItself),
            None => self.bridge_flood(br, None, frame, false, 0),
        }
    }

    /// Frame goes up to the bridge device's own stack.
    fn bridge_up(&mut self, br: DevId, frame: Vec<u8>) {
        let ns = self.dev(br).ns;
        let st = &mut self.dev_mut(br).stats;
        st.rx_packets += 1;
        st.rx_bytes += frame.len() as u64;
        self.record(ns, Some(br), Dir::Rx, Some(&frame));
        self.l2_deliver(br, frame)
    }

    /// `br_flood`: out of every port that takes this kind of frame (`ingress` is None for
    /// what the bridge's own stack sends).
    fn bridge_flood(&mut self, br: DevId, ingress: Option<DevId>, frame: Vec<u8>, local_copy: bool, frag_max: u16) {
        let mac = wire::eth_dst(&frame);
        let from_isolated = ingress.is_some_and(|i| self.dev(i).brport.isolated);
        let takes = |p: &BrPort| {
            // The port's flood flag for the frame's kind; the bridge's own multicast and
            // broadcast go out whatever the port says (`skb->dev != br->dev`).
            let flood = if mac == Mac::BROADCAST {
                p.bcast_flood || ingress.is_none()
            } else if mac.is_multicast() {
                p.mcast_flood || ingress.is_none()
            } else {
                p.flood
            };
            flood && !(from_isolated && p.isolated)
        };
        let ports: Vec<DevId> = match &self.dev(br).kind {
            // br_add_if puts a new port at the head of the port list (list_add_rcu) and
            // br_flood walks it from there: the newest port gets a flooded frame first.
            // should_deliver: back out of the ingress port only in hairpin mode.
            DevKind::Bridge(b) => b
                .ports
                .iter()
                .rev()
                .copied()
                .filter(|p| {
                    let d = self.dev(*p);
                    d.up && (Some(*p) != ingress || d.brport.hairpin) && takes(&d.brport)
                })
                .collect(),
            _ => Vec::new(),
        };
        self.note(|| Why::Flood { bridge: br, mac, ports: ports.len(), broadcast: mac.is_multicast() });
        if local_copy {
            let mark = self.why_mark();
            self.note(|| Why::BridgeLocal { bridge: br });
            self.bridge_up(br, frame.clone());
            self.why_reset(mark);
        }
        for p in ports {
            let mark = self.why_mark();
            self.bridge_forward(br, ingress, p, frame.clone(), frag_max);
            self.why_reset(mark);
        }
    }

    /// `br_forward`, with br_netfilter's FORWARD hook for bridged IPv4. A frame br_netfilter
    /// reassembled (`frag_max` > 0) leaves in fragments no bigger than the largest it came in
    /// (`br_nf_dev_queue_xmit`).
    fn bridge_forward(&mut self, br: DevId, ingress: Option<DevId>, out: DevId, mut frame: Vec<u8>, frag_max: u16) {
        let ns = self.dev(br).ns;
        if ingress.is_some() && self.bridge_calls_iptables(br, &frame) {
            let mut meta = PacketMeta::default();
            meta.frag_max = frag_max;
            for hook in [Hook::Prerouting, Hook::Forward, Hook::Postrouting] {
                let (i, o) = match hook {
                    Hook::Prerouting => (Some(br), None),
                    Hook::Forward => (Some(br), Some(br)),
                    _ => (None, Some(br)),
                };
                let v = self.nf_hook(ns, hook, &mut frame[wire::ETH_HLEN..], &mut meta, i, o);
                if v != NfVerdict::Accept {
                    return self.nf_refused(br, hook, v, &frame, &meta, ingress);
                }
            }
        }
        let mtu = (self.dev(out).mtu as usize).min(usize::from(frag_max));
        if frag_max == 0 || frame.len() - wire::ETH_HLEN <= mtu {
            return self.dev_xmit(out, frame);
        }
        let pieces = wire::ipv4::fragment(&frame[wire::ETH_HLEN..], mtu, wire::ETH_HLEN);
        // A packet is summed in software before it is cut (`csum_partial`).
        let partial = std::mem::replace(&mut self.csum_partial, false);
        for mut p in pieces {
            p[..wire::ETH_HLEN].copy_from_slice(&frame[..wire::ETH_HLEN]);
            let mark = self.why_mark();
            self.dev_xmit(out, p);
            self.why_reset(mark);
        }
        self.csum_partial = partial;
    }

    // ----- macvlan ---------------------------------------------------------------------------

    /// `macvlan_handle_frame` on the parent. Returns the frame if the parent keeps it.
    fn macvlan_rx(&mut self, parent: DevId, frame: Vec<u8>) -> Option<Vec<u8>> {
        let dst = wire::eth_dst(&frame);
        let children: Vec<DevId> = self
            .dev(parent)
            .uppers
            .iter()
            .copied()
            .filter(|u| matches!(self.dev(*u).kind, DevKind::Macvlan { .. }))
            .collect();
        if dst.is_multicast() {
            // A child's own broadcast can come back (a hairpin bridge port reflects it): who
            // gets it depends on the sender's mode (macvlan_handle_frame and
            // macvlan_process_broadcast, drivers/net/macvlan.c). A private child gets only
            // its own frame back and the parent none; a VEPA child's goes to the VEPA and
            // bridge siblings; a bridge child's to the VEPA ones (its bridge siblings had it
            // on the way out); a frame from elsewhere to every child.
            let src = wire::eth_src(&frame);
            let sender = children.iter().copied().find(|c| self.dev(*c).mac == src);
            let mode = |c: DevId| match self.dev(c).kind {
                DevKind::Macvlan { mode, .. } => mode,
                _ => MacvlanMode::Private,
            };
            let to: Vec<DevId> = match sender.map(|s| (s, mode(s))) {
                Some((s, MacvlanMode::Private)) => vec![s],
                Some((s, MacvlanMode::Vepa)) => {
                    children.into_iter().filter(|c| *c != s && mode(*c) != MacvlanMode::Private).collect()
                }
                Some((s, MacvlanMode::Bridge)) => {
                    children.into_iter().filter(|c| *c != s && mode(*c) == MacvlanMode::Vepa).collect()
                }
                None => children,
            };
            let private = sender.is_some_and(|s| mode(s) == MacvlanMode::Private);
            for c in to {
                let mark = self.why_mark();
                self.note(|| Why::Macvlan { dev: c, what: MacvlanHop::BroadcastFromParent });
                self.dev_rx(c, frame.clone());
                self.why_reset(mark);
            }
            return if private { None } else { Some(frame) };
        }
        if let Some(c) = children.into_iter().find(|c| self.dev(*c).mac == dst) {
            self.note(|| Why::Macvlan { dev: c, what: MacvlanHop::ToChild(dst) });
            self.dev_rx(c, frame);
            return None;
        }
        Some(frame)
    }

    /// `macvlan_queue_xmit`: in bridge mode, siblings are switched locally; everything else
    /// leaves through the parent's wire (so the parent itself is never reached). A sibling
    /// receives through `dev_forward_skb` → `netif_rx`, the backlog: later, as its own event,
    /// not inside the sender's call (a server's answer cannot overtake its request's return).
    fn macvlan_xmit(&mut self, dev: DevId, parent: DevId, mode: MacvlanMode, frame: Vec<u8>) {
        let dst = wire::eth_dst(&frame);
        if mode == MacvlanMode::Bridge {
            let siblings: Vec<DevId> = self
                .dev(parent)
                .uppers
                .iter()
                .copied()
                // Only bridge-mode siblings are switched to locally: macvlan_broadcast masks
                // the siblings by the sender's mode, and a unicast goes to a sibling only if
                // that sibling is in bridge mode (drivers/net/macvlan.c, macvlan_queue_xmit).
                .filter(|u| {
                    *u != dev && matches!(self.dev(*u).kind, DevKind::Macvlan { mode: MacvlanMode::Bridge, .. })
                })
                .collect();
            if dst.is_multicast() {
                for s in siblings {
                    let mark = self.why_mark();
                    self.note(|| Why::Macvlan { dev, what: MacvlanHop::BroadcastToSibling });
                    let (frame, csum_partial, confirm) = (frame.clone(), self.csum_partial, self.dst_pending_confirm);
                    self.schedule(crate::engine::SimTime::ZERO, Event::Arrive { dev: s, frame, csum_partial, confirm });
                    self.why_reset(mark);
                }
            } else if let Some(s) = siblings.into_iter().find(|s| self.dev(*s).mac == dst) {
                self.note(|| Why::Macvlan { dev, what: MacvlanHop::ToSibling { mac: dst, sibling: s } });
                let (csum_partial, confirm) = (self.csum_partial, self.dst_pending_confirm);
                return self
                    .schedule(crate::engine::SimTime::ZERO, Event::Arrive { dev: s, frame, csum_partial, confirm });
            }
        }
        self.note(|| Why::Macvlan { dev, what: MacvlanHop::OutThroughParent(parent) });
        self.dev_xmit(parent, frame)
    }

    // ----- vxlan -----------------------------------------------------------------------------

    fn vxlan_xmit(&mut self, dev: DevId, frame: Vec<u8>) {
        let DevKind::Vxlan(vx) = &self.dev(dev).kind else { return };
        let (proxy, l2miss, l3miss, vni) = (vx.proxy, vx.l2miss, vx.l3miss, vx.vni);
        let now = self.now;
        if proxy && wire::ethertype(&frame) == wire::ETHERTYPE_ARP {
            return self.vxlan_arp_reduce(dev, frame, l3miss);
        }
        let dst = wire::eth_dst(&frame);
        let DevKind::Vxlan(vx) = &mut self.devs[dev.0 as usize].kind else { return };
        let mut targets: Vec<(std::net::Ipv4Addr, &'static str)> = Vec::new();
        if !dst.is_multicast() {
            match vx.fdb.get(&dst).copied() {
                Some(e) if e.permanent || now.saturating_sub(e.updated) <= vx.ageing => {
                    targets.push((e.dst, if e.permanent { "fdb permanent" } else { "fdb learned" }))
                }
                Some(_) => {
                    vx.fdb.remove(&dst);
                }
                None => {}
            }
        }
        if targets.is_empty() {
            targets.extend(vx.default_dst.iter().map(|d| (*d, "fdb 00:00:00:00:00:00 (head-end replication)")));
        }
        if targets.is_empty() {
            let miss = if l2miss { VxlanMiss::L2Miss(dst) } else { VxlanMiss::NoFdb(dst) };
            let mark = self.why_mark();
            self.note(|| Why::VxlanMiss { dev, miss });
            self.drop_frame(dev, &frame, DropReason::VxlanMiss(miss));
            self.why_reset(mark);
            return;
        }
        let last = targets.len() - 1;
        let mut frame = Some(frame);
        for (i, (remote, how)) in targets.into_iter().enumerate() {
            let f = if i == last { frame.take().unwrap_or_default() } else { frame.clone().unwrap_or_default() };
            let mark = self.why_mark();
            self.note(|| Why::VxlanEncap { dev, vni, remote, fdb: how });
            self.vxlan_encap(dev, remote, f);
            self.why_reset(mark);
        }
    }

    fn vxlan_encap(&mut self, dev: DevId, remote: std::net::Ipv4Addr, inner: Vec<u8>) {
        let DevKind::Vxlan(vx) = &self.dev(dev).kind else { return };
        let (vni, local, dstport, u_ns, u_dev, csum, range) =
            (vx.vni, vx.local, vx.dstport, vx.underlay_ns, vx.underlay_dev, vx.udpcsum, vx.srcport);
        let Some((rt, src)) = self.route_output(u_ns, remote, u_dev) else {
            return self.drop_frame(dev, &inner, DropReason::VxlanNoUnderlayRoute { remote });
        };
        let src = local.unwrap_or(src);
        let sport = vxlan_src_port(&inner, range);
        let mut payload = Vec::with_capacity(vxlan::HEADER_LEN + inner.len());
        payload.extend_from_slice(&vxlan::Repr { vni }.to_bytes());
        payload.extend_from_slice(&inner);
        let id = self.next_ip_id(u_ns);
        let p = wire::Ipv4Params {
            src,
            dst: remote,
            proto: wire::PROTO_UDP,
            ttl: crate::kernel::defaults::TTL,
            id,
            df: false,
            tos: 0,
        };
        let outer = if csum {
            wire::udp_frame(&p, sport, dstport, &payload)
        } else {
            wire::udp_frame_nocsum(&p, sport, dstport, &payload)
        };
        self.ip_output(u_ns, outer, rt, None)
    }

    /// `arp_reduce`: with `proxy`, ARP never crosses the underlay. Requests are answered from
    /// the device's neighbour table; everything else is consumed.
    fn vxlan_arp_reduce(&mut self, dev: DevId, frame: Vec<u8>, l3miss: bool) {
        let ns = self.dev(dev).ns;
        let Some(req) = ArpRepr::parse(&frame[wire::ETH_HLEN..]) else {
            return self.drop_frame(dev, &frame, DropReason::MalformedArp);
        };
        if req.op != wire::ARP_REQUEST || req.sender_ip == req.target_ip {
            let mark = self.why_mark();
            self.note(|| Why::VxlanMiss { dev, miss: VxlanMiss::NotARequest });
            self.drop_frame(dev, &frame, DropReason::VxlanProxyConsumes);
            self.why_reset(mark);
            return;
        }
        let entry = self
            .netns(ns)
            .neigh
            .get(&(dev, req.target_ip))
            .filter(|n| matches!(n.state, Nud::Permanent | Nud::Reachable))
            .map(|n| n.mac);
        match entry {
            Some(mac) => {
                let reply = ArpRepr {
                    op: wire::ARP_REPLY,
                    sender_mac: mac,
                    sender_ip: req.target_ip,
                    target_mac: req.sender_mac,
                    target_ip: req.sender_ip,
                };
                let ip = req.target_ip;
                self.note(|| Why::VxlanProxyArp { dev, ip, mac });
                // The reply enters the stack as if received on the vxlan device (netif_rx).
                self.dev_rx(dev, reply.frame(mac, req.sender_mac));
            }
            None => {
                let miss = if l3miss { VxlanMiss::L3Miss(req.target_ip) } else { VxlanMiss::NoNeigh(req.target_ip) };
                let mark = self.why_mark();
                self.note(|| Why::VxlanMiss { dev, miss });
                self.drop_frame(dev, &frame, DropReason::VxlanMiss(miss));
                self.why_reset(mark);
            }
        }
    }

    /// A UDP datagram for a VXLAN socket in namespace `ns`. Returns false if no device claims it.
    pub(crate) fn vxlan_rcv(
        &mut self,
        ns: crate::kernel::NsId,
        dport: u16,
        outer_src: std::net::Ipv4Addr,
        udp_payload: &[u8],
    ) -> bool {
        let Some(devs) = self.netns(ns).vxlan_socks.get(&dport) else { return false };
        let Some(pkt) = vxlan::Packet::new_checked(udp_payload) else { return true };
        let Some(repr) = vxlan::Repr::parse(&pkt) else { return true };
        let Some(dev) =
            devs.iter().copied().find(|d| matches!(&self.dev(*d).kind, DevKind::Vxlan(v) if v.vni == repr.vni))
        else {
            let vni = repr.vni;
            self.note(|| Why::Drop(DropReason::VxlanNoVni { vni, dport }));
            return true;
        };
        let inner = pkt.payload().to_vec();
        if inner.len() < wire::ETH_HLEN {
            return true;
        }
        let now = self.now;
        let src_mac = wire::eth_src(&inner);
        if let DevKind::Vxlan(vx) = &mut self.devs[dev.0 as usize].kind
            && vx.learning
            && !src_mac.is_multicast()
            && vx.fdb.get(&src_mac).is_none_or(|e| !e.permanent)
        {
            vx.fdb.insert(src_mac, VxFdb { dst: outer_src, permanent: false, updated: now });
        }
        self.note(|| Why::VxlanDecap { dev, vni: repr.vni, remote: outer_src });
        // The inner frame's checksum is checked again, as the outer one's status does not
        // carry over to it.
        self.csum_partial = false;
        self.dev_rx(dev, inner);
        true
    }
}

/// Outer UDP source port from a hash of the inner flow (`udp_flow_src_port`, from
/// `skb_get_hash`), scaled into the local port range so it is stable per flow. The kernel's
/// flow hash puts the lower address and port first (`__flow_hash_consistentify`), so a flow
/// and its reply share one port, and an ARP frame hashes on its protocol alone. A TCP
/// segment is the exception: it carries its socket's random `sk_txhash`, one per side, so each
/// direction has a port of its own (as recorded in traces/kernel/linux/vxlan-two-hosts.pcapng:
/// ARP and ICMP echo one port both ways, the TCP connection two).
/// `range` is the device's `srcport MIN MAX`: the port is MIN up to, not including, MAX; with
/// none (or MIN = MAX) the local port range.
pub(crate) fn vxlan_src_port(inner: &[u8], range: Option<(u16, u16)>) -> u16 {
    let mut h: u32 = 0x811c9dc5;
    let mut eat = |b: &[u8]| {
        for x in b {
            h ^= *x as u32;
            h = h.wrapping_mul(0x0100_0193);
        }
    };
    let ip = inner.get(wire::ETH_HLEN..).unwrap_or_default();
    if wire::ethertype(inner) == wire::ETHERTYPE_IPV4
        && let Ok(h) = wire::ipv4::header(ip)
    {
        let ihl = h.slice().len();
        let tcp = h.protocol().0 == wire::PROTO_TCP;
        let ports = ((tcp || h.protocol().0 == wire::PROTO_UDP) && ip.len() >= ihl + 4).then(|| &ip[ihl..ihl + 4]);
        let (a, b) = (&ip[12..16], &ip[16..20]);
        let (pa, pb) = ports.map_or((&[][..], &[][..]), |p| (&p[..2], &p[2..]));
        // The lower endpoint first, unless a socket's own hash makes each direction its own.
        let swap = !tcp && (b, pb) < (a, pa);
        let ((a, pa), (b, pb)) = if swap { ((b, pb), (a, pa)) } else { ((a, pa), (b, pb)) };
        eat(a);
        eat(b);
        eat(&ip[9..10]);
        eat(pa);
        eat(pb);
    } else {
        eat(inner.get(12..14).unwrap_or_default());
    }
    let (lo, hi) = range.filter(|(lo, hi)| lo < hi).unwrap_or(crate::kernel::defaults::EPHEMERAL);
    (((h as u64) * (hi - lo) as u64) >> 32) as u16 + lo
}
