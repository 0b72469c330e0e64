//! One-line, tcpdump-like summaries of frames, descending into 802.1Q tags and VXLAN.

use std::fmt::Write;
use std::net::Ipv4Addr;

use super::{ArpRepr, vxlan};
use etherparse::{LaxLinkExtSlice as LinkExtSlice, LaxNetSlice as NetSlice, LaxSlicedPacket, TransportSlice};

/// `02:..:01 > ff:..:ff, ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28` and so on.
pub fn summary(frame: &[u8]) -> String {
    // Room for a UDP or TCP line without growing (the hop log makes one per hop).
    let mut s = String::with_capacity(160);
    summarize(frame, &mut s, 0);
    s
}

/// Just the protocol name Wireshark would show in its Protocol column.
pub fn protocol(frame: &[u8]) -> &'static str {
    let Ok(p) = LaxSlicedPacket::from_ethernet(frame) else {
        return "ETH";
    };
    match (&p.net, &p.transport) {
        (Some(NetSlice::Arp(_)), _) => "ARP",
        (_, Some(TransportSlice::Icmpv4(_))) => "ICMP",
        (_, Some(TransportSlice::Tcp(_))) => "TCP",
        (_, Some(TransportSlice::Udp(u))) if u.destination_port() == vxlan::PORT => "VXLAN",
        (_, Some(TransportSlice::Udp(_))) => "UDP",
        (Some(NetSlice::Ipv4(_)), _) => "IPv4",
        _ => "ETH",
    }
}

fn summarize(frame: &[u8], s: &mut String, depth: usize) {
    if frame.len() < 14 {
        let _ = write!(s, "truncated frame, length {}", frame.len());
        return;
    }
    let src = super::eth_src(frame);
    let dst = super::eth_dst(frame);
    let _ = write!(s, "{src} > {dst}, ");
    let p = match LaxSlicedPacket::from_ethernet(frame) {
        Ok(p) => p,
        Err(e) => {
            let _ = write!(s, "malformed: {e}");
            return;
        }
    };
    for ext in &p.link_exts {
        if let LinkExtSlice::Vlan(v) = ext {
            let _ = write!(s, "vlan {}, ", v.vlan_identifier().value());
        }
    }
    match &p.net {
        Some(NetSlice::Arp(a)) => {
            let arp = ArpRepr::parse(a.slice());
            match arp {
                Some(a) if a.op == super::ARP_REQUEST && a.sender_ip == a.target_ip => {
                    let _ =
                        write!(s, "ARP, Request who-has {} tell {} (gratuitous), length 28", a.target_ip, a.sender_ip);
                }
                Some(a) if a.op == super::ARP_REQUEST => {
                    let _ = write!(s, "ARP, Request who-has {} tell {}, length 28", a.target_ip, a.sender_ip);
                }
                Some(a) => {
                    let _ = write!(s, "ARP, Reply {} is-at {}, length 28", a.sender_ip, a.sender_mac);
                }
                None => s.push_str("ARP, unsupported"),
            }
        }
        Some(NetSlice::Ipv4(ip)) => {
            let h = ip.header();
            let (src, dst) = (super::Dotted(h.source_addr()), super::Dotted(h.destination_addr()));
            let ttl = h.ttl();
            if super::ipv4::is_fragment(h.slice()) {
                // tcpdump: a first fragment shows its transport header, a later one only its
                // protocol; -v's header fields say where the fragment sits.
                let (_, more, off) = super::ipv4::frag_fields(h.slice());
                let proto = h.protocol().0;
                let data = ip.payload().payload;
                let icmp = (off == 0 && proto == super::PROTO_ICMP)
                    .then(|| etherparse::Icmpv4Slice::from_slice(data).ok())
                    .flatten();
                let what = match (icmp, proto) {
                    (Some(i), _) => format!("ICMP {}", icmp_text(&i)),
                    (None, super::PROTO_ICMP) => "icmp".to_string(),
                    (None, super::PROTO_TCP) => "tcp".to_string(),
                    (None, super::PROTO_UDP) => "udp".to_string(),
                    (None, p) => format!("ip-proto-{p}"),
                };
                let _ = write!(
                    s,
                    "IP {src} > {dst}: {what} (ttl {ttl}, id {}, offset {off}, flags [{}], length {})",
                    h.identification(),
                    if more { "+" } else { "none" },
                    h.total_len()
                );
                return;
            }
            match &p.transport {
                Some(TransportSlice::Icmpv4(icmp)) => {
                    let _ = write!(
                        s,
                        "IP {src} > {dst}: ICMP {}, length {} (ttl {ttl})",
                        icmp_text(icmp),
                        icmp.slice().len()
                    );
                }
                Some(TransportSlice::Udp(u)) => {
                    let (sp, dp) = (u.source_port(), u.destination_port());
                    let payload = u.payload();
                    if dp == vxlan::PORT
                        && let Some(vx) = vxlan::Packet::new_checked(payload)
                    {
                        let _ = write!(
                            s,
                            "IP {src}.{sp} > {dst}.{dp}: VXLAN, flags [I] (0x{:02x}), vni {}",
                            vx.flags(),
                            vx.vni()
                        );
                        if depth < 2 {
                            s.push_str(" | ");
                            summarize(vx.payload(), s, depth + 1);
                        }
                    } else {
                        let _ = write!(s, "IP {src}.{sp} > {dst}.{dp}: UDP, length {} (ttl {ttl})", payload.len());
                    }
                }
                Some(TransportSlice::Tcp(t)) => {
                    let mut flags = String::new();
                    for (on, c) in [(t.syn(), 'S'), (t.fin(), 'F'), (t.rst(), 'R'), (t.psh(), 'P')] {
                        if on {
                            flags.push(c);
                        }
                    }
                    if t.ack() {
                        flags.push('.');
                    }
                    let len = t.payload().len();
                    let _ = write!(
                        s,
                        "IP {src}.{} > {dst}.{}: Flags [{flags}], seq {}",
                        t.source_port(),
                        t.destination_port(),
                        t.sequence_number()
                    );
                    if len > 0 {
                        let _ = write!(s, ":{}", t.sequence_number().wrapping_add(len as u32));
                    }
                    if t.ack() {
                        let _ = write!(s, ", ack {}", t.acknowledgment_number());
                    }
                    let _ = write!(s, ", win {}, length {len} (ttl {ttl})", t.window_size());
                }
                _ => {
                    let _ = write!(s, "IP {src} > {dst}: proto {} (ttl {ttl})", h.protocol().0);
                }
            }
        }
        _ => {
            let _ = write!(s, "ethertype 0x{:04x}, length {}", super::ethertype(frame), frame.len());
        }
    }
}

fn icmp_text(icmp: &etherparse::Icmpv4Slice<'_>) -> String {
    use etherparse::Icmpv4Type as T;
    use etherparse::icmpv4::DestUnreachableHeader as D;
    match icmp.icmp_type() {
        T::EchoRequest(e) => format!("echo request, id {}, seq {}", e.id, e.seq),
        T::EchoReply(e) => format!("echo reply, id {}, seq {}", e.id, e.seq),
        T::DestinationUnreachable(d) => {
            let what = match d {
                D::Network => "net unreachable".to_string(),
                D::Host => "host unreachable".to_string(),
                D::Port => "port unreachable".to_string(),
                D::FragmentationNeeded { next_hop_mtu } => format!("need to frag (mtu {next_hop_mtu})"),
                other => format!("unreachable {other:?}"),
            };
            match quoted_dst(icmp.payload()) {
                Some(q) => format!("{q} {what}"),
                None => what,
            }
        }
        T::TimeExceeded(_) => "time exceeded in-transit".to_string(),
        other => format!("{other:?}"),
    }
}

fn quoted_dst(quote: &[u8]) -> Option<Ipv4Addr> {
    super::ipv4::header(quote).ok().map(|h| h.destination_addr())
}

/// Payload as text for logs: printable ASCII kept, the rest escaped, long payloads cut.
pub fn printable(b: &[u8]) -> String {
    // Built in one allocation: a program's line quotes each datagram it receives, so this runs
    // once per packet of a run.
    let shown = &b[..b.len().min(80)];
    let mut s = String::with_capacity(shown.len() + 8);
    s.push('"');
    for &c in shown {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push('.'),
        }
    }
    if b.len() > 80 {
        s.push('…');
    }
    s.push('"');
    s
}
