//! Reading the fields netfilter looks at from an IPv4 packet, and rewriting addresses, ports and
//! ICMP echo identifiers in place with incremental checksum updates (`nf_nat_ipv4_manip_pkt`).

use super::Endpoint;
use super::Ipv4Addr;
use super::conntrack::Tuple;
use crate::wire::ipv4::{checksum, checksum_update, checksum_update32};

pub(super) const PROTO_ICMP: u8 = 1;
pub(super) const PROTO_TCP: u8 = 6;
pub(super) const PROTO_UDP: u8 = 17;

pub(super) const ICMP_ECHO_REPLY: u8 = 0;
pub(super) const ICMP_ECHO_REQUEST: u8 = 8;

/// ICMP error types conntrack relates to connections (`icmp_error_message`).
pub(super) fn is_icmp_error(ty: u8) -> bool {
    matches!(ty, 3 | 4 | 5 | 11 | 12)
}

/// The fields of an IPv4 packet that matches and conntrack use.
#[derive(Clone, Copy, Debug)]
pub(super) struct PktInfo {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: u8,
    /// IPv4 total length (counters count it).
    pub total_len: u16,
    /// Header length in bytes.
    pub ihl: usize,
    /// End of the datagram within the buffer (total length, or less if truncated).
    pub end: usize,
    /// The transport header fields below are valid: first fragment and long enough (TCP 20, UDP 8,
    /// ICMP 8 bytes; 8 for every protocol when `inner`). Always true for other protocols.
    pub l4_ok: bool,
    /// TCP/UDP ports; for ICMP echo `sport` is the identifier.
    pub sport: u16,
    pub dport: u16,
    pub tcp_flags: u8,
    pub icmp_type: u8,
    pub icmp_code: u8,
}

fn rd16(b: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([b[off], b[off + 1]])
}

fn rd32(b: &[u8], off: usize) -> u32 {
    u32::from_be_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn wr16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_be_bytes());
}

/// Parses the IPv4 header at the start of `b`. None when it is not a valid IPv4 header.
pub(super) fn parse(b: &[u8]) -> Option<PktInfo> {
    parse_hdr(b, false)
}

/// Like [`parse`]; `inner` is for the header embedded in an ICMP error, of which only the first
/// 8 transport bytes are guaranteed.
pub(super) fn parse_hdr(b: &[u8], inner: bool) -> Option<PktInfo> {
    let h = crate::wire::ipv4::header(b).ok()?;
    let (ihl, total_len) = (h.slice().len(), h.total_len());
    if usize::from(total_len) < ihl {
        return None;
    }
    let end = usize::from(total_len).min(b.len());
    let first = h.fragments_offset().value() == 0;
    let proto = h.protocol().0;
    let l4 = &b[ihl..end];
    let mut i = PktInfo {
        src: h.source_addr(),
        dst: h.destination_addr(),
        proto,
        total_len,
        ihl,
        end,
        l4_ok: true,
        sport: 0,
        dport: 0,
        tcp_flags: 0,
        icmp_type: 0,
        icmp_code: 0,
    };
    let need = match proto {
        PROTO_TCP if !inner => 20,
        PROTO_TCP | PROTO_UDP | PROTO_ICMP => 8,
        _ => return Some(i),
    };
    i.l4_ok = first && l4.len() >= need;
    if !i.l4_ok {
        return Some(i);
    }
    match proto {
        PROTO_ICMP => {
            i.icmp_type = l4[0];
            i.icmp_code = l4[1];
            if matches!(i.icmp_type, ICMP_ECHO_REQUEST | ICMP_ECHO_REPLY) {
                i.sport = rd16(l4, 4);
            }
        }
        _ => {
            i.sport = rd16(l4, 0);
            i.dport = rd16(l4, 2);
            if proto == PROTO_TCP && l4.len() >= 14 {
                i.tcp_flags = l4[13] & 0x3f;
            }
        }
    }
    Some(i)
}

/// Which end of a packet a NAT manipulation rewrites (`nf_nat_manip_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Manip {
    Src,
    Dst,
}

impl Manip {
    pub(super) fn idx(self) -> usize {
        self as usize
    }

    pub(super) fn invert(self) -> Manip {
        match self {
            Manip::Src => Manip::Dst,
            Manip::Dst => Manip::Src,
        }
    }
}

/// Rewrites the IPv4 header at the start of `buf` (a whole packet, or the header embedded in an
/// ICMP error, possibly truncated) so that its source (`Manip::Src`) or destination becomes
/// `target`'s source or destination, port included: TCP/UDP ports, ICMP echo identifier (always
/// `target.sport`). Fixes the IPv4 header checksum and, when present in `buf`, the TCP checksum
/// (full header needed, as Linux), the UDP checksum (unless 0 = none) and the ICMP echo checksum.
/// Returns (before, after) when something changed.
pub(super) fn manip_ip(buf: &mut [u8], target: &Tuple, manip: Manip) -> Option<(Endpoint, Endpoint)> {
    let info = parse_hdr(buf, true)?;
    let (aoff, new_addr) = match manip {
        Manip::Src => (12, target.src),
        Manip::Dst => (16, target.dst),
    };
    let old_addr = rd32(buf, aoff);
    let new_addr = u32::from(new_addr);
    let (l4, end) = (info.ihl, info.end);
    let mut ports = (0, 0);
    if info.l4_ok {
        match info.proto {
            PROTO_TCP | PROTO_UDP => {
                let poff = l4 + if manip == Manip::Src { 0 } else { 2 };
                let (old_p, new_p) = (rd16(buf, poff), if manip == Manip::Src { target.sport } else { target.dport });
                ports = (old_p, new_p);
                let csum_off = if info.proto == PROTO_TCP { l4 + 16 } else { l4 + 6 };
                let has_csum = if info.proto == PROTO_TCP { end >= l4 + 20 } else { end >= l4 + 8 };
                if has_csum {
                    let old = rd16(buf, csum_off);
                    // UDP checksum 0 means "no checksum": leave it so.
                    if info.proto == PROTO_TCP || old != 0 {
                        // The pseudo-header covers the addresses.
                        let mut c = checksum_update32(old, old_addr, new_addr);
                        c = checksum_update(c, old_p, new_p);
                        if info.proto == PROTO_UDP && c == 0 {
                            c = 0xffff;
                        }
                        wr16(buf, csum_off, c);
                    }
                }
                wr16(buf, poff, new_p);
            }
            PROTO_ICMP if matches!(info.icmp_type, ICMP_ECHO_REQUEST | ICMP_ECHO_REPLY) => {
                let (old_id, new_id) = (info.sport, target.sport);
                ports = (old_id, new_id);
                let c = checksum_update(rd16(buf, l4 + 2), old_id, new_id);
                wr16(buf, l4 + 2, c);
                wr16(buf, l4 + 4, new_id);
            }
            _ => {}
        }
    }
    let c = checksum_update32(rd16(buf, 10), old_addr, new_addr);
    wr16(buf, 10, c);
    buf[aoff..aoff + 4].copy_from_slice(&new_addr.to_be_bytes());
    let before = (Ipv4Addr::from(old_addr), ports.0);
    let after = (Ipv4Addr::from(new_addr), ports.1);
    (before != after).then_some((before, after))
}

/// Recomputes the ICMP checksum of a complete (not truncated) ICMP message, after its embedded
/// packet was rewritten (`nf_nat_icmp_reply_translation` does the same).
pub(super) fn fix_icmp_checksum(pkt: &mut [u8], info: &PktInfo) {
    if info.end != usize::from(info.total_len) || info.end < info.ihl + 8 {
        return;
    }
    let l4 = info.ihl;
    pkt[l4 + 2] = 0;
    pkt[l4 + 3] = 0;
    let c = checksum(&pkt[l4..info.end]);
    wr16(pkt, l4 + 2, c);
}
