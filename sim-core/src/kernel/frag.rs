//! IPv4 fragments: reassembly (net/ipv4/ip_fragment.c) and the path MTU a namespace learnt
//! (net/ipv4/route.c, `__ip_rt_update_pmtu`). Cutting a packet into fragments is a wire
//! operation (`wire::ipv4::fragment`); the output path calls it (`l3::ip_finish_output`).
//!
//! Reassembly happens where Linux does it: before local delivery (`ip_local_deliver`,
//! `IP_DEFRAG_LOCAL_DELIVER`), and in a namespace whose netfilter tracks connections before
//! PREROUTING (`nf_defrag_ipv4`, `IP_DEFRAG_CONNTRACK_IN`; also on a bridge that calls
//! iptables, `br_netfilter`), so conntrack and NAT see whole packets. A packet reassembled
//! on its way through is cut again on the way out, at the size of the largest fragment it
//! came in (`frag_max_size`), so the wire shows what arrived.
//!
//! The bytes are put together by etherparse's `IpDefragBuf`; what it does not do as Linux
//! does is written here: a fragment that overlaps another one (not an exact duplicate, which
//! is ignored) discards the whole queue (`inet_frag_queue_insert`, RFC 5722 as Linux applies
//! it to IPv4), a queue lives 30 s (`ipfrag_time`), and a local queue that expires with its
//! first fragment answers "fragment reassembly time exceeded" (`ip_expire`).

use std::net::Ipv4Addr;

use etherparse::IpFragOffset;
use etherparse::defrag::IpDefragBuf;

use super::trace::{DropReason, Local, Why};
use super::{DevId, Event, Kernel, NsId, Userland};
use crate::engine::SimTime;
use crate::wire::{self, IcmpError};

/// `ipfrag_time`: how long a queue waits for its missing fragments.
pub const IPFRAG_TIME: SimTime = SimTime::from_secs(30);
/// `ip_rt_mtu_expires`: how long a learnt path MTU holds.
pub const PMTU_EXPIRES: SimTime = SimTime::from_secs(600);
/// `ip_rt_min_pmtu`: a smaller MTU in a "fragmentation needed" is raised to this.
pub const MIN_PMTU: u32 = 552;

/// Who reassembles: a queue of each kind is separate, as the kernel keys them by `user`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DefragUser {
    /// Before local delivery: an expired queue answers its sender.
    Local,
    /// Before conntrack (PREROUTING, or a bridge's br_netfilter): expires silently.
    Conntrack,
}

/// A queue's key: `ipq`'s (saddr, daddr, id, protocol, user).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FragKey {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub id: u16,
    pub proto: u8,
    pub user: DefragUser,
}

/// The fragments of one packet received so far.
#[derive(Clone, Debug)]
pub struct FragQueue {
    buf: IpDefragBuf,
    /// Each fragment's data as (start, end) in bytes, to tell a duplicate from an overlap.
    pieces: Vec<(usize, usize)>,
    /// The frame of the first fragment (offset 0): its link and IP headers head the
    /// reassembled packet, and an expired queue quotes it.
    first: Option<Vec<u8>>,
    /// The largest fragment's total length (`q.max_size`).
    max_size: u16,
    /// When the first fragment came: the timer that expires the queue carries it.
    born: SimTime,
}

impl<U: Userland> Kernel<U> {
    /// `ip_defrag`: takes a fragment (`frame`, an Ethernet frame whose IPv4 header
    /// `ipv4_info` accepted). Returns the whole packet, as a frame, and the largest fragment's
    /// size when this one completes it; `None` while fragments are missing (the fragment is
    /// held) or when it was dropped.
    pub(crate) fn ip_defrag(
        &mut self,
        ns: NsId,
        dev: DevId,
        frame: Vec<u8>,
        user: DefragUser,
    ) -> Option<(Vec<u8>, u16)> {
        let ip = &frame[wire::ETH_HLEN..];
        let h = match wire::ipv4::received(ip) {
            Ok(h) => h,
            // br_validate_ipv4 drops what ip_rcv would.
            Err(e) => {
                self.drop_frame(dev, &frame, DropReason::IpRcv(e));
                return None;
            }
        };
        let (hlen, total) = (h.slice().len(), usize::from(h.total_len()));
        let key = FragKey {
            src: h.source_addr(),
            dst: h.destination_addr(),
            id: h.identification(),
            proto: h.protocol().0,
            user,
        };
        let (_, more, off) = wire::ipv4::frag_fields(ip);
        let data = &ip[hlen..total];
        let (start, end) = (off, off + data.len());
        let now = self.now;
        let q = self.netns_mut(ns).frags.entry(key).or_insert_with(|| FragQueue {
            buf: IpDefragBuf::new(etherparse::IpNumber(key.proto), Vec::new(), Vec::new()),
            pieces: Vec::new(),
            first: None,
            max_size: 0,
            born: now,
        });
        let fresh = q.pieces.is_empty();
        if q.pieces.contains(&(start, end)) {
            // An exact duplicate (a retransmitted copy): dropped, the queue kept.
            self.drop_frame(dev, &frame, DropReason::FragDuplicate);
            return None;
        }
        if q.pieces.iter().any(|&(s, e)| start < e && s < end) {
            self.netns_mut(ns).frags.remove(&key);
            self.drop_frame(dev, &frame, DropReason::FragOverlap);
            return None;
        }
        let Some(at) = IpFragOffset::try_new((off / 8) as u16).ok() else {
            self.netns_mut(ns).frags.remove(&key);
            self.drop_frame(dev, &frame, DropReason::FragTooBig);
            return None;
        };
        if q.buf.add(at, more, data).is_err() {
            // A length that does not fit what earlier fragments said, or a packet that would
            // exceed 65535 bytes: the kernel kills the queue (ip_frag_queue's `discard_qp`).
            self.netns_mut(ns).frags.remove(&key);
            self.drop_frame(dev, &frame, DropReason::FragTooBig);
            return None;
        }
        q.pieces.push((start, end));
        q.max_size = q.max_size.max(total as u16);
        if off == 0 {
            q.first = Some(frame[..wire::ETH_HLEN + total].to_vec());
        }
        let (complete, have, born) = (q.buf.is_complete() && q.first.is_some(), q.pieces.len(), q.born);
        if fresh {
            self.schedule(IPFRAG_TIME, Event::Frag { ns, key, born });
        }
        if !complete {
            self.record_deliver(ns, dev, || Why::Local(Local::FragmentHeld { id: key.id, have }));
            return None;
        }
        let q = self.netns_mut(ns).frags.remove(&key).expect("present above");
        let first = q.first.expect("complete means the first is in");
        let hlen = usize::from(first[wire::ETH_HLEN] & 0x0f) * 4;
        let (payload, _) = q.buf.take_bufs();
        let mut whole = Vec::with_capacity(wire::ETH_HLEN + hlen + payload.len());
        whole.extend_from_slice(&first[..wire::ETH_HLEN + hlen]);
        whole.extend_from_slice(&payload);
        let ip = &mut whole[wire::ETH_HLEN..];
        let len = (hlen + payload.len()) as u16;
        ip[2..4].copy_from_slice(&len.to_be_bytes());
        // ip_frag_reasm: DF only if every fragment had it, which a fragment cannot.
        ip[6..8].copy_from_slice(&[0, 0]);
        ip[10..12].copy_from_slice(&[0, 0]);
        let c = wire::ipv4::checksum(&ip[..hlen]);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        self.note(|| Why::Local(Local::Reassembled { id: key.id, fragments: have, bytes: len as usize }));
        // Its fragments were summed in software before they were cut (`csum_partial`).
        self.csum_partial = false;
        Some((whole, q.max_size))
    }

    /// `ip_expire`: a queue still waiting 30 s after its first fragment is dropped; a local
    /// one whose first fragment came answers "fragment reassembly time exceeded".
    pub(crate) fn frag_timer(&mut self, ns: NsId, key: FragKey, born: SimTime) {
        let n = self.netns_mut(ns);
        if n.frags.get(&key).is_none_or(|q| q.born != born) {
            return;
        }
        let q = n.frags.remove(&key).expect("present above");
        if key.user == DefragUser::Local
            && let Some(first) = q.first
        {
            self.icmp_send(ns, &first[wire::ETH_HLEN..], IcmpError::FragTimeExceeded);
        }
    }

    /// The MTU toward `dst` through a device of `dev_mtu`: lower when a "fragmentation
    /// needed" taught this namespace a smaller path MTU that has not expired; and when that
    /// path MTU expires (`SimTime::MAX` if none applies).
    pub(crate) fn path_mtu_until(&self, ns: NsId, dst: Ipv4Addr, dev_mtu: u32) -> (u32, SimTime) {
        let n = self.netns(ns);
        if n.pmtu.is_empty() {
            return (dev_mtu, SimTime::MAX);
        }
        match n.pmtu.get(&dst) {
            Some(&(mtu, until)) if until > self.now => (mtu.min(dev_mtu), until),
            _ => (dev_mtu, SimTime::MAX),
        }
    }

    /// `__ip_rt_update_pmtu`: a "fragmentation needed" about a packet to `dst` lowers the
    /// path MTU to `mtu` (never under 552) for ten minutes.
    pub(crate) fn update_pmtu(&mut self, ns: NsId, dst: Ipv4Addr, mtu: u32) {
        let (mtu, now) = (mtu.max(MIN_PMTU), self.now);
        let n = self.netns_mut(ns);
        match n.pmtu.get(&dst) {
            Some(&(have, t)) if have <= mtu && t > now => {}
            _ => {
                n.pmtu.insert(dst, (mtu, now + PMTU_EXPIRES));
                self.dst_changed();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::testkit::{A_MAC, veth_pair as receiver};
    use crate::wire::Ipv4Params;

    /// An echo request of `size` bytes of data from a to b, cut for an MTU of 1500, as frames
    /// addressed to b's eth0.
    fn fragments(k: &Kernel<()>, eth0: DevId, size: usize) -> Vec<Vec<u8>> {
        let p = Ipv4Params {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 0, 2),
            proto: wire::PROTO_ICMP,
            ttl: 64,
            id: 0x20e8,
            df: false,
            tos: 0,
        };
        let f = wire::icmp_echo_frame(&p, false, 7, 1, &vec![0x5a; size]);
        let mut out = wire::ipv4::fragment(&f[wire::ETH_HLEN..], 1500, wire::ETH_HLEN);
        for f in &mut out {
            wire::write_eth_header(f, A_MAC, k.dev(eth0).mac, wire::ETHERTYPE_IPV4);
        }
        out
    }

    /// (length, MF, offset, ICMP type and code of a first fragment or whole packet).
    type Shape = (usize, bool, usize, Option<(u8, u8)>);

    /// The IPv4 packets b sent back over the veth.
    fn sent(k: &mut Kernel<()>) -> Vec<Shape> {
        let scheduled = k.take_scheduled();
        let out = scheduled
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Arrive { frame, .. } if wire::ethertype(frame) == wire::ETHERTYPE_IPV4 => {
                    let ip = &frame[wire::ETH_HLEN..];
                    let h = wire::ipv4::header(ip).expect("IPv4");
                    let (_, mf, off) = wire::ipv4::frag_fields(ip);
                    let l4 = &ip[h.slice().len()..];
                    Some((usize::from(h.total_len()), mf, off, (off == 0).then(|| (l4[0], l4[1]))))
                }
                _ => None,
            })
            .collect();
        for (at, e) in scheduled {
            if !matches!(e, Event::Arrive { .. }) {
                k.schedule_at(at, e);
            }
        }
        out
    }

    /// Fragments in any order, a duplicate among them, make one packet: b answers the 3008
    /// bytes of ICMP once, cut to its MTU as the kernel cuts it (1500, 1500, 68).
    #[test]
    fn fragments_in_any_order_are_put_together_once() {
        let (mut k, _, eth0) = receiver();
        let mut frags = fragments(&k, eth0, 3000);
        assert_eq!(frags.iter().map(|f| f.len() - wire::ETH_HLEN).collect::<Vec<_>>(), [1500, 1500, 68]);
        frags.reverse();
        frags.insert(1, frags[0].clone());
        for f in frags {
            k.dev_rx(eth0, f);
        }
        let reply = sent(&mut k);
        assert_eq!(
            reply,
            [(1500, true, 0, Some((0, 0))), (1500, true, 1480, None), (68, false, 2960, None)],
            "one echo reply, in three fragments"
        );
    }

    /// A fragment that overlaps another without repeating it exactly discards the whole
    /// packet: the rest arriving later makes nothing.
    #[test]
    fn an_overlapping_fragment_discards_the_packet() {
        let (mut k, b, eth0) = receiver();
        let frags = fragments(&k, eth0, 3000);
        k.dev_rx(eth0, frags[0].clone());
        // The second fragment moved back by 8 bytes: it overlaps the first's last 8.
        let mut overlap = frags[1].clone();
        let ip = &mut overlap[wire::ETH_HLEN..];
        ip[6..8].copy_from_slice(&(0x2000u16 | (1472 / 8)).to_be_bytes());
        ip[10..12].copy_from_slice(&[0, 0]);
        let c = wire::ipv4::checksum(&ip[..20]);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        k.dev_rx(eth0, overlap);
        assert!(k.netns(b).frags.is_empty(), "the queue is gone");
        for f in &frags[1..] {
            k.dev_rx(eth0, f.clone());
        }
        assert_eq!(sent(&mut k), [], "no answer: the first fragment went with the queue");
    }

    /// A packet whose last fragment never comes: 30 s after the first fragment the queue
    /// expires, and b tells a with "fragment reassembly time exceeded" (time exceeded, code
    /// 1) quoting the first fragment; a queue without its first fragment expires silently.
    #[test]
    fn an_incomplete_packet_expires_after_30_s_and_says_so() {
        for (keep, answer) in [(vec![0, 1], Some((11, 1))), (vec![1, 2], None)] {
            let (mut k, b, eth0) = receiver();
            let frags = fragments(&k, eth0, 3000);
            for i in keep {
                k.dev_rx(eth0, frags[i].clone());
            }
            assert_eq!(sent(&mut k), []);
            let timers: Vec<(SimTime, Event)> = k.take_scheduled();
            let [(at, Event::Frag { ns, key, born })] = timers[..] else { panic!("one timer: {timers:?}") };
            assert_eq!(at, IPFRAG_TIME, "ipfrag_time after the first fragment came");
            k.now = at;
            k.frag_timer(ns, key, born);
            assert!(k.netns(b).frags.is_empty());
            let got: Vec<_> = sent(&mut k).into_iter().map(|(_, _, _, icmp)| icmp).collect();
            assert_eq!(got, answer.map(Some).into_iter().collect::<Vec<_>>());
        }
    }
}
