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

/// [`summary`], appended to a line being made.
pub fn summary_into(frame: &[u8], s: &mut String) {
    summarize(frame, s, 0);
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
    // The hop log writes a summary per hop: its common lines (the MACs, UDP, TCP) are pushed
    // piece by piece, not run through the formatting machinery.
    super::eth_src(frame).push_to(s);
    s.push_str(" > ");
    super::eth_dst(frame).push_to(s);
    s.push_str(", ");
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
                        s.push_str("IP ");
                        src.push_to(s);
                        s.push('.');
                        num(s, sp);
                        s.push_str(" > ");
                        dst.push_to(s);
                        s.push('.');
                        num(s, dp);
                        s.push_str(": UDP, length ");
                        num(s, payload.len());
                        s.push_str(" (ttl ");
                        num(s, ttl);
                        s.push(')');
                    }
                }
                Some(TransportSlice::Tcp(t)) => {
                    let len = t.payload().len();
                    s.push_str("IP ");
                    src.push_to(s);
                    s.push('.');
                    num(s, t.source_port());
                    s.push_str(" > ");
                    dst.push_to(s);
                    s.push('.');
                    num(s, t.destination_port());
                    s.push_str(": Flags [");
                    for (on, c) in [(t.syn(), 'S'), (t.fin(), 'F'), (t.rst(), 'R'), (t.psh(), 'P'), (t.ack(), '.')] {
                        if on {
                            s.push(c);
                        }
                    }
                    s.push_str("], seq ");
                    num(s, t.sequence_number());
                    if len > 0 {
                        s.push(':');
                        num(s, t.sequence_number().wrapping_add(len as u32));
                    }
                    if t.ack() {
                        s.push_str(", ack ");
                        num(s, t.acknowledgment_number());
                    }
                    s.push_str(", win ");
                    num(s, t.window_size());
                    s.push_str(", length ");
                    num(s, len);
                    s.push_str(" (ttl ");
                    num(s, ttl);
                    s.push(')');
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

fn num(s: &mut String, n: impl itoa::Integer) {
    s.push_str(itoa::Buffer::new().format(n));
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
    let mut s = String::with_capacity(b.len().min(80) + 8);
    push_printable(&mut s, b);
    s
}

/// [`printable`], appended to a line being built: a program's line quotes each datagram it
/// receives, so this runs once per packet of a run.
pub fn push_printable(s: &mut String, b: &[u8]) {
    let shown = &b[..b.len().min(80)];
    s.push('"');
    // Runs of printable ASCII are copied whole; only the bytes between them are looked at.
    let mut rest = shown;
    while !rest.is_empty() {
        let run = rest.iter().position(|c| !(0x20..=0x7e).contains(c)).unwrap_or(rest.len());
        if let Ok(text) = std::str::from_utf8(&rest[..run]) {
            s.push_str(text);
        }
        let Some(&c) = rest.get(run) else { break };
        s.push_str(match c {
            b'\r' => "\\r",
            b'\n' => "\\n",
            _ => ".",
        });
        rest = &rest[run + 1..];
    }
    if b.len() > 80 {
        s.push('…');
    }
    s.push('"');
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn printable_escapes_and_cuts() {
        assert_eq!(printable(b""), "\"\"");
        assert_eq!(printable(b"GET / HTTP/1.1\r\nHost: web\r\n"), "\"GET / HTTP/1.1\\r\\nHost: web\\r\\n\"");
        assert_eq!(printable(&[0, b'a', 0xff, 0x7f, b'~', b' ']), "\".a..~ \"");
        assert_eq!(printable(&[b'x'; 81]), format!("\"{}…\"", "x".repeat(80)));
        assert_eq!(printable(&[b'x'; 80]), format!("\"{}\"", "x".repeat(80)));
    }
}
