//! The frames each interface sent, reduced to signatures: what the oracle compares between
//! the Docker Engine's captures and the simulator's (`oracle/src/compare.rs`), where the
//! engine's own timing and programs leave little to hold in order; `netsim diff` judges the
//! kernel more closely (`conversations`). For every IPv4 TCP, UDP and ICMP packet leaving an
//! interface: its protocol, addresses, the well-known port (ephemeral ports are drawn at
//! random: the simulator's seed is not the other side's), TCP flags and ICMP type; of a
//! fragment, its offset and length. Left out, with reasons:
//! - ARP and IPv6: the kernel's neighbour timers and link-up noise (DAD, MLD) follow wall
//!   time and sysctls the simulator does not copy;
//! - how many copies: delayed ACKs and segment coalescing differ with timing;
//! - MACs, IP IDs, sequence numbers, ports above 32767, timestamps: random on each side.

use std::collections::{BTreeMap, BTreeSet};

/// Interface (`ns/if`) → the signatures of the IPv4 packets that left it.
pub type Flows = BTreeMap<String, BTreeSet<String>>;

/// The signature of an Ethernet frame, if it carries IPv4 TCP, UDP or ICMP.
pub fn signature(frame: &[u8]) -> Option<String> {
    let mut off = 12;
    let mut ethertype = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
    if ethertype == 0x8100 {
        off += 4;
        ethertype = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
    }
    if ethertype != 0x0800 {
        return None;
    }
    let ip = frame.get(off + 2..)?;
    let h = sim_core::wire::ipv4::header(ip).ok()?;
    let (proto, (src, dst)) = (h.protocol().0, sim_core::wire::ipv4::addrs(&h));
    let l4 = ip.get(h.slice().len()..)?;
    let port = |p: u16| if p >= 32768 { "*".to_string() } else { p.to_string() };
    // A fragment after the first carries no transport header: its place and size are what
    // both kernels must agree on (the data itself holds ping's timestamps). The first says
    // its size too, so the way a packet was cut is compared.
    let (_, more, offset) = sim_core::wire::ipv4::frag_fields(ip);
    let len = h.total_len();
    if offset > 0 {
        let name = match proto {
            1 => "icmp",
            6 => "tcp",
            17 => "udp",
            _ => return None,
        };
        let more = if more { ", more" } else { "" };
        return Some(format!("{name} {src} > {dst} fragment at {offset}, {len} bytes{more}"));
    }
    let first = if more { format!(", first fragment, {len} bytes") } else { String::new() };
    Some(match proto {
        1 => format!("icmp {src} > {dst} type {}{first}", l4.first()?),
        6 => {
            let (sp, dp, flags) =
                (u16::from_be_bytes([l4[0], l4[1]]), u16::from_be_bytes([l4[2], l4[3]]), *l4.get(13)?);
            let f: String = [(0x02, 'S'), (0x01, 'F'), (0x04, 'R')]
                .iter()
                .filter(|(b, _)| flags & b != 0)
                .map(|(_, c)| *c)
                .collect();
            let f = if f.is_empty() { ".".into() } else { f };
            format!("tcp {src}:{} > {dst}:{} [{f}]{first}", port(sp), port(dp))
        }
        17 => {
            let (sp, dp) =
                (u16::from_be_bytes([*l4.first()?, *l4.get(1)?]), u16::from_be_bytes([*l4.get(2)?, *l4.get(3)?]));
            format!("udp {src}:{} > {dst}:{}{first}", port(sp), port(dp))
        }
        _ => return None,
    })
}

/// Differences between the flows the simulator and the kernel sent, one line each.
pub fn compare(sim: &Flows, kernel: &Flows) -> Vec<String> {
    let mut out = Vec::new();
    let empty = BTreeSet::new();
    let ifaces: BTreeSet<&String> = sim.keys().chain(kernel.keys()).collect();
    for i in ifaces {
        let (s, k) = (sim.get(i).unwrap_or(&empty), kernel.get(i).unwrap_or(&empty));
        for x in k.difference(s) {
            out.push(format!("{i}: the kernel sent `{x}`, the simulator did not"));
        }
        for x in s.difference(k) {
            out.push(format!("{i}: the simulator sent `{x}`, the kernel did not"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::wire::{self, Ipv4Params};

    fn echo(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        let p =
            Ipv4Params { src: src.into(), dst: dst.into(), proto: wire::PROTO_ICMP, ttl: 64, id: 7, df: true, tos: 0 };
        let mut f = wire::icmp_echo_frame(&p, false, 1, 1, b"netsim");
        wire::write_eth_header(
            &mut f,
            wire::Mac([2, 0, 0, 0, 0, 1]),
            wire::Mac([2, 0, 0, 0, 0, 2]),
            wire::ETHERTYPE_IPV4,
        );
        f
    }

    #[test]
    fn signatures_keep_what_both_backends_share() {
        assert_eq!(signature(&echo([10, 0, 0, 1], [10, 0, 0, 2])).as_deref(), Some("icmp 10.0.0.1 > 10.0.0.2 type 8"));
        // An ARP frame is left out.
        let arp = wire::ArpRepr {
            op: wire::ARP_REQUEST,
            sender_mac: wire::Mac([2, 0, 0, 0, 0, 1]),
            sender_ip: [10, 0, 0, 1].into(),
            target_mac: wire::Mac::ZERO,
            target_ip: [10, 0, 0, 2].into(),
        };
        assert_eq!(signature(&arp.frame(wire::Mac([2, 0, 0, 0, 0, 1]), wire::Mac::BROADCAST)), None);
    }

    #[test]
    fn a_missing_or_extra_packet_is_reported() {
        let sig = signature(&echo([10, 0, 0, 1], [10, 0, 0, 2])).expect("icmp");
        let sim: Flows = [("a/eth0".to_string(), [sig.clone()].into())].into();
        let kernel = Flows::new();
        assert_eq!(compare(&sim, &kernel), vec![format!("a/eth0: the simulator sent `{sig}`, the kernel did not")]);
        assert_eq!(compare(&kernel, &sim), vec![format!("a/eth0: the kernel sent `{sig}`, the simulator did not")]);
        assert!(compare(&sim, &sim).is_empty());
    }
}
