//! Wire formats as real bytes.
//!
//! Header encoding and decoding goes through `etherparse` (Ethernet II, 802.1Q, ARP, IPv4,
//! ICMP, UDP, TCP, checksums); every reader of an IPv4 header uses `ipv4`'s checked view and
//! every checksum is `ipv4::checksum`. Only what no crate offers is written here by hand: the
//! VXLAN header (`vxlan`), the tcpdump-like one-line summaries (`pretty`) and the
//! field-by-field dissector the GUI shows (`dissect`, which must describe malformed headers
//! that a checked view refuses).
//!
//! Frames travel through the simulator as a plain `Vec<u8>` holding the whole Ethernet frame
//! (no FCS, no padding: veth and bridges do not pad, so `tcpdump` on a veth shows 42-byte ARP
//! frames, and so do our captures). The IP layer always builds its packets behind 14 bytes of
//! room for the Ethernet header, which the neighbour layer fills in place.

pub mod dissect;
pub mod ipv4;
pub mod pretty;
pub use pretty::printable;
pub mod vxlan;

use std::fmt;
use std::net::Ipv4Addr;

use etherparse::{
    ArpEthIpv4Packet, ArpOperation, EtherType, Icmpv4Header, Icmpv4Type, TcpHeader, TcpOptionElement, UdpHeader,
};
use serde::{Deserialize, Serialize};

pub const ETH_HLEN: usize = 14;
pub const VLAN_HLEN: usize = 4;
pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const ETHERTYPE_VLAN: u16 = 0x8100;
pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;

/// An IPv4 address written as `Ipv4Addr`'s `Display` writes it (`10.0.0.2`), in one
/// `write_str`. Hand-written because the standard one formats each octet through the
/// general integer path with its padding checks, and a traced run writes addresses into
/// every hop's line, comment and reason: a fifth of what `--pcap` cost went there.
#[derive(Clone, Copy)]
pub struct Dotted(pub Ipv4Addr);

impl Dotted {
    /// The dotted quad, made in `buf`.
    fn text(self, buf: &mut [u8; 15]) -> &str {
        let mut n = 0;
        for (i, o) in self.0.octets().into_iter().enumerate() {
            if i > 0 {
                buf[n] = b'.';
                n += 1;
            }
            if o >= 100 {
                buf[n] = b'0' + o / 100;
                n += 1;
            }
            if o >= 10 {
                buf[n] = b'0' + o / 10 % 10;
                n += 1;
            }
            buf[n] = b'0' + o % 10;
            n += 1;
        }
        std::str::from_utf8(&buf[..n]).unwrap_or("?")
    }

    /// Appends the dotted quad to a line being made, without the formatting machinery.
    pub fn push_to(self, s: &mut String) {
        s.push_str(self.text(&mut [0; 15]));
    }
}

impl fmt::Display for Dotted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0; 15];
        let text = self.text(&mut buf);
        if f.width().is_some() || f.precision().is_some() { f.pad(text) } else { f.write_str(text) }
    }
}

/// A MAC address, printed and parsed the way `ip link` spells it (`02:42:ac:11:00:02`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    pub const BROADCAST: Mac = Mac([0xff; 6]);
    pub const ZERO: Mac = Mac([0; 6]);
    pub fn is_broadcast(&self) -> bool {
        self.0 == [0xff; 6]
    }
    /// Group bit set: broadcast and multicast.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }

    /// `xx:xx:xx:xx:xx:xx`, made in `buf`.
    fn text(self, buf: &mut [u8; 17]) -> &str {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        *buf = [b':'; 17];
        for (i, b) in self.0.into_iter().enumerate() {
            buf[3 * i] = HEX[usize::from(b >> 4)];
            buf[3 * i + 1] = HEX[usize::from(b & 0xf)];
        }
        std::str::from_utf8(buf).unwrap_or("?")
    }

    /// Appends the address to a line being made, without the formatting machinery.
    pub fn push_to(self, s: &mut String) {
        s.push_str(self.text(&mut [0; 17]));
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One write_str of the 17 characters: reasons and summaries print MACs on every hop.
        let mut buf = [0; 17];
        let text = self.text(&mut buf);
        if f.width().is_some() { f.pad(text) } else { f.write_str(text) }
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Mac {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut out = [0u8; 6];
        let mut n = 0;
        for part in s.split(':') {
            if n == 6 || part.is_empty() || part.len() > 2 {
                return Err(format!("`{s}` is not a MAC address (want six hex bytes like 02:42:ac:11:00:02)"));
            }
            out[n] =
                u8::from_str_radix(part, 16).map_err(|_| format!("`{s}` is not a MAC address: `{part}` is not hex"))?;
            n += 1;
        }
        if n != 6 {
            return Err(format!("`{s}` is not a MAC address (want six hex bytes like 02:42:ac:11:00:02)"));
        }
        Ok(Mac(out))
    }
}

impl Serialize for Mac {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Destination MAC of a frame. Callers guarantee at least 14 bytes.
#[inline]
pub fn eth_dst(frame: &[u8]) -> Mac {
    Mac(mac_at(frame, 0))
}

#[inline]
pub fn eth_src(frame: &[u8]) -> Mac {
    Mac(mac_at(frame, 6))
}

/// The six bytes at `at`, with one bounds check rather than one per byte: every hop reads
/// a frame's MACs more than once.
#[inline]
fn mac_at(frame: &[u8], at: usize) -> [u8; 6] {
    let mut m = [0; 6];
    m.copy_from_slice(&frame[at..at + 6]);
    m
}

#[inline]
pub fn ethertype(frame: &[u8]) -> u16 {
    u16::from_be_bytes([frame[12], frame[13]])
}

/// Writes the Ethernet II header into the first 14 bytes.
#[inline]
pub fn write_eth_header(frame: &mut [u8], src: Mac, dst: Mac, ethertype: u16) {
    let h = &mut frame[..ETH_HLEN];
    h[..6].copy_from_slice(&dst.0);
    h[6..12].copy_from_slice(&src.0);
    h[12..].copy_from_slice(&ethertype.to_be_bytes());
}

/// Inserts an 802.1Q tag after the MAC addresses.
pub fn push_vlan_tag(frame: &mut Vec<u8>, vid: u16) {
    let inner_type = ethertype(frame);
    let tag = etherparse::SingleVlanHeader {
        pcp: etherparse::VlanPcp::ZERO,
        drop_eligible_indicator: false,
        vlan_id: etherparse::VlanId::try_new(vid & 0x0fff).unwrap_or(etherparse::VlanId::ZERO),
        ether_type: EtherType(inner_type),
    };
    frame[12..14].copy_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
    frame.splice(14..14, tag.to_bytes());
}

/// If the frame carries an 802.1Q tag, returns its VLAN id and removes the tag.
pub fn pop_vlan_tag(frame: &mut Vec<u8>) -> Option<u16> {
    if frame.len() < ETH_HLEN + VLAN_HLEN || ethertype(frame) != ETHERTYPE_VLAN {
        return None;
    }
    let (tag, _) = etherparse::SingleVlanHeader::from_slice(&frame[14..]).ok()?;
    frame.drain(12..16);
    Some(tag.vlan_id.value())
}

/// An ARP packet for Ethernet/IPv4, as a plain value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpRepr {
    pub op: u16,
    pub sender_mac: Mac,
    pub sender_ip: Ipv4Addr,
    pub target_mac: Mac,
    pub target_ip: Ipv4Addr,
}

pub const ARP_REQUEST: u16 = 1;
pub const ARP_REPLY: u16 = 2;

impl ArpRepr {
    pub fn parse(payload: &[u8]) -> Option<ArpRepr> {
        let p = etherparse::ArpPacket::from_slice(payload).ok()?;
        let p = p.try_eth_ipv4().ok()?;
        Some(ArpRepr {
            op: p.operation.0,
            sender_mac: Mac(p.sender_mac),
            sender_ip: Ipv4Addr::from(p.sender_ipv4),
            target_mac: Mac(p.target_mac),
            target_ip: Ipv4Addr::from(p.target_ipv4),
        })
    }

    /// A whole Ethernet frame carrying this ARP packet.
    pub fn frame(&self, eth_src: Mac, eth_dst: Mac) -> Vec<u8> {
        let arp = ArpEthIpv4Packet {
            operation: ArpOperation(self.op),
            sender_mac: self.sender_mac.0,
            sender_ipv4: self.sender_ip.octets(),
            target_mac: self.target_mac.0,
            target_ipv4: self.target_ip.octets(),
        };
        let mut f = vec![0u8; ETH_HLEN];
        write_eth_header(&mut f, eth_src, eth_dst, ETHERTYPE_ARP);
        f.extend_from_slice(&arp.to_bytes());
        f
    }
}

/// The fields of an IPv4 header the stack sets when it originates a packet.
#[derive(Clone, Copy, Debug)]
pub struct Ipv4Params {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: u8,
    pub ttl: u8,
    pub id: u16,
    pub df: bool,
    pub tos: u8,
}

impl Ipv4Params {
    /// The 20-byte header (no options) of a packet with `payload_len` bytes behind it,
    /// checksummed: DSCP from `tos` (ECN 0), DF as asked, no fragment offset. The same bytes
    /// as etherparse's `Ipv4Header` (a test holds them to it), made on the stack and copied
    /// into the frame once: every packet a stack sends starts here.
    #[inline]
    pub fn header(&self, payload_len: usize) -> [u8; 20] {
        let total = (20 + payload_len) as u16;
        let flags: u16 = if self.df { 0x4000 } else { 0 };
        let [t0, t1] = total.to_be_bytes();
        let [i0, i1] = self.id.to_be_bytes();
        let [f0, f1] = flags.to_be_bytes();
        let [s0, s1, s2, s3] = self.src.octets();
        let [d0, d1, d2, d3] = self.dst.octets();
        let mut h =
            [0x45, self.tos & 0xfc, t0, t1, i0, i1, f0, f1, self.ttl, self.proto, 0, 0, s0, s1, s2, s3, d0, d1, d2, d3];
        let csum = ipv4::checksum(&h);
        h[10..12].copy_from_slice(&csum.to_be_bytes());
        h
    }
}

/// A frame with an unfilled Ethernet header and an IPv4 packet behind it. Inlined, so the
/// transport header (8 bytes for UDP) is copied as the array it is, not by memcpy (with
/// five callers, a plain `#[inline]` was not taken).
#[inline(always)]
fn frame_with(p: &Ipv4Params, l4: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(ETH_HLEN + 20 + l4.len() + payload.len());
    f.extend_from_slice(&[0; ETH_HLEN]);
    f.extend_from_slice(&p.header(l4.len() + payload.len()));
    f.extend_from_slice(l4);
    f.extend_from_slice(payload);
    f
}

/// UDP datagram in an IPv4 packet, checksummed, behind 14 bytes of Ethernet room.
pub fn udp_frame(p: &Ipv4Params, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = (UdpHeader::LEN + payload.len()) as u16;
    let mut udp = [0; 8];
    udp[0..2].copy_from_slice(&sport.to_be_bytes());
    udp[2..4].copy_from_slice(&dport.to_be_bytes());
    udp[4..6].copy_from_slice(&len.to_be_bytes());
    let mut f = frame_with(p, &udp, payload);
    // RFC 768: a sum of 0 is sent as all ones (0 means "no checksum").
    let l4 = ETH_HLEN + 20;
    let csum = match l4_checksum(p.src, p.dst, p.proto, &f[l4..]) {
        0 => 0xffff,
        c => c,
    };
    f[l4 + 6..l4 + 8].copy_from_slice(&csum.to_be_bytes());
    f
}

/// UDP with checksum 0, as the VXLAN driver sends its outer header over IPv4.
pub fn udp_frame_nocsum(p: &Ipv4Params, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let udp = UdpHeader {
        source_port: sport,
        destination_port: dport,
        length: (UdpHeader::LEN + payload.len()) as u16,
        checksum: 0,
    };
    frame_with(p, &udp.to_bytes(), payload)
}

pub fn icmp_echo_frame(p: &Ipv4Params, reply: bool, ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let echo = etherparse::IcmpEchoHeader { id: ident, seq };
    let ty = if reply { Icmpv4Type::EchoReply(echo) } else { Icmpv4Type::EchoRequest(echo) };
    let icmp = Icmpv4Header::with_checksum(ty, data);
    frame_with(p, &icmp.to_bytes(), data)
}

/// ICMP error kinds a router or host sends back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IcmpError {
    NetUnreachable,
    HostUnreachable,
    PortUnreachable,
    FragNeeded {
        mtu: u16,
    },
    TtlExceeded,
    /// Time exceeded, code 1: a fragment queue expired (`ip_expire`).
    FragTimeExceeded,
    /// Destination unreachable, code 2: what `REJECT --reject-with icmp-proto-unreachable` sends.
    ProtoUnreachable,
    /// Code 9 (`icmp-net-prohibited`).
    NetProhibited,
    /// Code 10 (`icmp-host-prohibited`).
    HostProhibited,
    /// Code 13, communication administratively prohibited (`icmp-admin-prohibited`).
    AdminProhibited,
}

/// An ICMP error quoting the offending IP header and the first 8 bytes of its payload
/// (RFC 792; Linux quotes more, up to 576 bytes in all; we quote as Linux does).
pub fn icmp_error_frame(p: &Ipv4Params, kind: IcmpError, offending_ip: &[u8]) -> Vec<u8> {
    use etherparse::icmpv4::{DestUnreachableHeader as D, TimeExceededCode};
    let ty = match kind {
        IcmpError::NetUnreachable => Icmpv4Type::DestinationUnreachable(D::Network),
        IcmpError::HostUnreachable => Icmpv4Type::DestinationUnreachable(D::Host),
        IcmpError::PortUnreachable => Icmpv4Type::DestinationUnreachable(D::Port),
        IcmpError::FragNeeded { mtu } => {
            Icmpv4Type::DestinationUnreachable(D::FragmentationNeeded { next_hop_mtu: mtu })
        }
        IcmpError::TtlExceeded => Icmpv4Type::TimeExceeded(TimeExceededCode::TtlExceededInTransit),
        IcmpError::FragTimeExceeded => Icmpv4Type::TimeExceeded(TimeExceededCode::FragmentReassemblyTimeExceeded),
        IcmpError::ProtoUnreachable => Icmpv4Type::DestinationUnreachable(D::Protocol),
        IcmpError::NetProhibited => Icmpv4Type::DestinationUnreachable(D::NetworkProhibited),
        IcmpError::HostProhibited => Icmpv4Type::DestinationUnreachable(D::HostProhibited),
        IcmpError::AdminProhibited => Icmpv4Type::DestinationUnreachable(D::FilterProhibited),
    };
    // Linux: icmp_send quotes as much as fits in 576 bytes (room = 576 - 20 - 8).
    let quote = &offending_ip[..offending_ip.len().min(548)];
    let icmp = Icmpv4Header::with_checksum(ty, quote);
    frame_with(p, &icmp.to_bytes(), quote)
}

/// The TCP fields the stack fills per segment.
#[derive(Clone, Debug, Default)]
pub struct TcpRepr {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub syn: bool,
    pub ackf: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
    pub window: u16,
    /// Options exactly as Linux orders them.
    pub mss: Option<u16>,
    pub sack_perm: bool,
    pub ts: Option<(u32, u32)>,
    pub wscale: Option<u8>,
    /// SACK blocks (RFC 2018), at most four, in the order they are sent; a first block
    /// below `ack` is a D-SACK (RFC 2883): what arrived beyond a gap, or a repeat.
    pub sack: Vec<(u32, u32)>,
}

pub fn tcp_frame(p: &Ipv4Params, t: &TcpRepr, payload: &[u8]) -> Vec<u8> {
    let mut h = TcpHeader::new(t.sport, t.dport, t.seq, t.window);
    h.acknowledgment_number = t.ack;
    h.syn = t.syn;
    h.ack = t.ackf;
    h.fin = t.fin;
    h.rst = t.rst;
    h.psh = t.psh;
    // Linux's SYN layout: mss, sackOK, TS, nop, wscale; later segments: nop, nop, TS.
    let mut opts: Vec<TcpOptionElement> = Vec::new();
    if let Some(mss) = t.mss {
        opts.push(TcpOptionElement::MaximumSegmentSize(mss));
    }
    match (t.sack_perm, t.ts) {
        (true, Some((v, e))) => {
            opts.push(TcpOptionElement::SelectiveAcknowledgementPermitted);
            opts.push(TcpOptionElement::Timestamp(v, e));
        }
        (true, None) => {
            opts.push(TcpOptionElement::Noop);
            opts.push(TcpOptionElement::Noop);
            opts.push(TcpOptionElement::SelectiveAcknowledgementPermitted);
        }
        (false, Some((v, e))) => {
            opts.push(TcpOptionElement::Noop);
            opts.push(TcpOptionElement::Noop);
            opts.push(TcpOptionElement::Timestamp(v, e));
        }
        (false, None) => {}
    }
    if let Some(ws) = t.wscale {
        opts.push(TcpOptionElement::Noop);
        opts.push(TcpOptionElement::WindowScale(ws));
    }
    // After the timestamps: nop, nop, SACK (tcp_options_write).
    if let Some((&first, rest)) = t.sack.split_first() {
        let mut more = [None; 3];
        for (slot, block) in more.iter_mut().zip(rest) {
            *slot = Some(*block);
        }
        opts.push(TcpOptionElement::Noop);
        opts.push(TcpOptionElement::Noop);
        opts.push(TcpOptionElement::SelectiveAcknowledgement(first, more));
    }
    let _ = h.set_options(&opts);
    let mut f = frame_with(p, &h.to_bytes(), payload);
    let l4 = ETH_HLEN + 20;
    let csum = l4_checksum(p.src, p.dst, p.proto, &f[l4..]);
    f[l4 + 16..l4 + 18].copy_from_slice(&csum.to_be_bytes());
    f
}

/// Parsed view of a received TCP segment (flags, numbers, the options that matter).
pub fn parse_tcp(l4: &[u8]) -> Option<(TcpRepr, &[u8])> {
    let (h, payload) = TcpHeader::from_slice(l4).ok()?;
    let mut t = TcpRepr {
        sport: h.source_port,
        dport: h.destination_port,
        seq: h.sequence_number,
        ack: h.acknowledgment_number,
        syn: h.syn,
        ackf: h.ack,
        fin: h.fin,
        rst: h.rst,
        psh: h.psh,
        window: h.window_size,
        ..Default::default()
    };
    for o in h.options_iterator().flatten() {
        match o {
            TcpOptionElement::MaximumSegmentSize(m) => t.mss = Some(m),
            TcpOptionElement::SelectiveAcknowledgementPermitted => t.sack_perm = true,
            TcpOptionElement::Timestamp(v, e) => t.ts = Some((v, e)),
            TcpOptionElement::WindowScale(w) => t.wscale = Some(w),
            TcpOptionElement::SelectiveAcknowledgement(first, rest) => {
                t.sack = std::iter::once(first).chain(rest.into_iter().flatten()).collect();
            }
            _ => {}
        }
    }
    Some((t, payload))
}

/// Offsets and fields of an IPv4 packet that the forwarding path reads often.
#[derive(Clone, Copy, Debug)]
pub struct Ipv4Info {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: u8,
    pub ttl: u8,
    pub ihl: usize,
    pub total_len: usize,
}

/// Reads and validates an IPv4 header (version, lengths, header checksum) like `ip_rcv`.
/// Inlined: every packet received is checked here, and the call cost a fifth of the check.
#[inline(always)]
pub fn ipv4_info(ip: &[u8]) -> Result<Ipv4Info, &'static str> {
    let ihl = ipv4::received_len(ip)?;
    Ok(Ipv4Info {
        src: Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
        dst: Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]),
        proto: ip[9],
        ttl: ip[8],
        ihl,
        total_len: usize::from(u16::from_be_bytes([ip[2], ip[3]])),
    })
}

/// The fields of an IPv4 header `ipv4_info` accepted earlier on this packet's way, read
/// without checking the checksum again, as the kernel reads `ip_hdr(skb)` after `ip_rcv`
/// (netfilter and IPVS keep the header's checksum right when they rewrite it). Lengths are
/// still checked: a packet that no longer holds its header is refused, not read past.
#[inline(always)]
pub fn ipv4_fields(ip: &[u8]) -> Result<Ipv4Info, &'static str> {
    if ip.len() < 20 || ip[0] >> 4 != 4 {
        return Err("not an IPv4 header");
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total_len = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if ihl < 20 || total_len < ihl || total_len > ip.len() {
        return Err("bad IPv4 length");
    }
    Ok(Ipv4Info {
        src: Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
        dst: Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]),
        proto: ip[9],
        ttl: ip[8],
        ihl,
        total_len,
    })
}

/// Verifies the UDP/TCP/ICMP checksum of a received IPv4 packet's payload.
pub fn l4_checksum_ok(info: &Ipv4Info, ip: &[u8]) -> bool {
    let l4 = &ip[info.ihl..info.total_len];
    match info.proto {
        PROTO_ICMP => ipv4::checksum(l4) == 0,
        PROTO_UDP => {
            if l4.len() < 8 {
                return false;
            }
            let csum = u16::from_be_bytes([l4[6], l4[7]]);
            csum == 0 || pseudo_checksum(info, l4) == 0
        }
        PROTO_TCP => l4.len() >= 20 && pseudo_checksum(info, l4) == 0,
        _ => true,
    }
}

#[inline(always)]
fn pseudo_checksum(info: &Ipv4Info, l4: &[u8]) -> u16 {
    l4_checksum(info.src, info.dst, info.proto, l4)
}

/// The Internet checksum of a transport segment with its pseudo-header (RFC 768, RFC 793):
/// what to write in the segment's checksum field while it holds 0, or 0 for a segment whose
/// checksum is right.
fn l4_checksum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, l4: &[u8]) -> u16 {
    // The pseudo-header's words as two 32-bit addresses and two small numbers: the same
    // ones'-complement sum (2^16 = 1 modulo 0xffff), with no header bytes laid out.
    let pseudo = u64::from(u32::from(src)) + u64::from(u32::from(dst)) + u64::from(proto) + l4.len() as u64;
    let (sum, carry) = ipv4::sum_words(l4).overflowing_add(pseudo);
    !ipv4::fold(sum + u64::from(carry))
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{IpNumber, Ipv4Header};

    /// The header as etherparse builds it: the judge of `Ipv4Params::header`.
    fn ipv4_header(p: &Ipv4Params, payload_len: usize) -> Ipv4Header {
        let mut h = Ipv4Header::new(payload_len as u16, p.ttl, IpNumber(p.proto), p.src.octets(), p.dst.octets())
            .unwrap_or_default();
        h.identification = p.id;
        h.dont_fragment = p.df;
        h.dscp = etherparse::IpDscp::try_new(p.tos >> 2).unwrap_or(etherparse::IpDscp::ZERO);
        h.header_checksum = h.calc_header_checksum();
        h
    }

    proptest::proptest! {
        /// What `ipv4_fields` reads of a packet `ipv4_info` accepts is what `ipv4_info` read.
        #[test]
        fn fields_are_infos(src: [u8; 4], dst: [u8; 4], ttl: u8, id: u16, df: bool, len in 0usize..100) {
            let p = Ipv4Params { src: src.into(), dst: dst.into(), proto: PROTO_UDP, ttl, id, df, tos: 0 };
            let f = udp_frame(&p, 1, 2, &vec![0; len]);
            let (a, b) = (ipv4_info(&f[ETH_HLEN..]).unwrap(), ipv4_fields(&f[ETH_HLEN..]).unwrap());
            proptest::prop_assert_eq!(format!("{a:?}"), format!("{b:?}"));
            proptest::prop_assert!(ipv4_fields(&f[ETH_HLEN..ETH_HLEN + 19]).is_err());
        }

        /// The IPv4 header and UDP datagram made in place are etherparse's, byte for byte.
        #[test]
        fn emitted_headers_are_etherparses(
            src: [u8; 4], dst: [u8; 4], ttl: u8, id: u16, df: bool, tos: u8,
            sport: u16, dport: u16, payload in proptest::collection::vec(proptest::num::u8::ANY, 0..1500),
        ) {
            let p = Ipv4Params { src: src.into(), dst: dst.into(), proto: PROTO_UDP, ttl, id, df, tos };
            let ip = ipv4_header(&p, UdpHeader::LEN + payload.len());
            let udp = UdpHeader::with_ipv4_checksum(sport, dport, &ip, &payload).unwrap();
            let want = [&[0u8; ETH_HLEN][..], &ip.to_bytes(), &udp.to_bytes(), &payload].concat();
            proptest::prop_assert_eq!(udp_frame(&p, sport, dport, &payload), want);
        }
    }

    fn params() -> Ipv4Params {
        Ipv4Params {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 0, 2),
            proto: PROTO_UDP,
            ttl: 64,
            id: 0x1234,
            df: true,
            tos: 0,
        }
    }

    #[test]
    fn udp_frame_checksums_verify_with_etherparse() {
        let mut f = udp_frame(&params(), 40000, 9, b"hello");
        write_eth_header(&mut f, Mac([2, 0, 0, 0, 0, 1]), Mac([2, 0, 0, 0, 0, 2]), ETHERTYPE_IPV4);
        let copy = f.clone();
        let p = etherparse::SlicedPacket::from_ethernet(&copy).unwrap();
        let Some(etherparse::NetSlice::Ipv4(ip)) = p.net else { panic!("no ipv4") };
        let h = ip.header().to_header();
        assert_eq!(h.header_checksum, h.calc_header_checksum());
        assert!(h.dont_fragment);
        assert_eq!(h.identification, 0x1234);
        let Some(etherparse::TransportSlice::Udp(u)) = p.transport else { panic!("no udp") };
        let uh = u.to_header();
        assert_eq!(uh.checksum, uh.calc_checksum_ipv4(&h, u.payload()).unwrap());
        let info = ipv4_info(&f[14..]).unwrap();
        assert!(l4_checksum_ok(&info, &f[14..]));
        // A flipped payload bit must fail our check.
        let n = f.len() - 1;
        f[n] ^= 1;
        assert!(!l4_checksum_ok(&ipv4_info(&f[14..]).unwrap(), &f[14..]));
    }

    #[test]
    fn ttl_decrement_keeps_header_checksum_valid() {
        let mut f = udp_frame(&params(), 1, 2, b"x");
        for _ in 0..63 {
            ipv4::decrease_ttl(&mut f[14..]);
            assert_eq!(ipv4::checksum(&f[14..34]), 0);
        }
    }

    #[test]
    fn tcp_syn_has_linux_option_layout() {
        let mut p = params();
        p.proto = PROTO_TCP;
        let t = TcpRepr {
            sport: 40000,
            dport: 80,
            seq: 1,
            syn: true,
            window: 64240,
            mss: Some(1460),
            sack_perm: true,
            ts: Some((1, 0)),
            wscale: Some(7),
            ..Default::default()
        };
        let f = tcp_frame(&p, &t, &[]);
        // 14 + 20 + 40: the 74-byte SYN Linux sends.
        assert_eq!(f.len(), 74);
        let info = ipv4_info(&f[14..]).unwrap();
        assert!(l4_checksum_ok(&info, &f[14..]));
        let (back, _) = parse_tcp(&f[34..]).unwrap();
        assert_eq!(back.mss, Some(1460));
        assert_eq!(back.wscale, Some(7));
        assert_eq!(back.ts, Some((1, 0)));
    }

    #[test]
    fn vlan_tag_push_pop_round_trip() {
        let f0 = ArpRepr {
            op: ARP_REQUEST,
            sender_mac: Mac([2, 0, 0, 0, 0, 1]),
            sender_ip: Ipv4Addr::new(10, 0, 0, 1),
            target_mac: Mac::ZERO,
            target_ip: Ipv4Addr::new(10, 0, 0, 2),
        }
        .frame(Mac([2, 0, 0, 0, 0, 1]), Mac::BROADCAST);
        assert_eq!(f0.len(), 42);
        let mut f = f0.clone();
        push_vlan_tag(&mut f, 10);
        assert_eq!(ethertype(&f), ETHERTYPE_VLAN);
        let copy = f.clone();
        let parsed = etherparse::SlicedPacket::from_ethernet(&copy).unwrap();
        assert!(parsed.vlan().is_some());
        assert_eq!(pop_vlan_tag(&mut f), Some(10));
        assert_eq!(f, f0);
    }

    #[test]
    fn ethernet_header_is_etherparses() {
        let (src, dst) = (Mac([2, 0, 0, 0, 0, 1]), Mac([0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa]));
        let mut f = [0u8; ETH_HLEN];
        write_eth_header(&mut f, src, dst, ETHERTYPE_VLAN);
        let h =
            etherparse::Ethernet2Header { source: src.0, destination: dst.0, ether_type: EtherType(ETHERTYPE_VLAN) };
        assert_eq!(f, h.to_bytes());
        assert_eq!((eth_src(&f), eth_dst(&f), ethertype(&f)), (src, dst, ETHERTYPE_VLAN));
    }

    #[test]
    fn mac_parse_and_print() {
        let m: Mac = "02:42:AC:11:00:02".parse().unwrap();
        assert_eq!(m.to_string(), "02:42:ac:11:00:02");
        assert!("02:42:ac:11:00".parse::<Mac>().is_err());
        assert!("zz:42:ac:11:00:02".parse::<Mac>().is_err());
    }
}
