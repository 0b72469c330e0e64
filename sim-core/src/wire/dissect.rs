//! A frame layer by layer, every field named with the bytes it came from: what the GUI's
//! inspector shows (Wireshark's middle pane) and highlights in the hex view.
//!
//! Fields are read by hand-indexing the frame, so each knows its exact byte range (etherparse's
//! slices lose the offsets). Names and spellings follow Wireshark's, so what students read here
//! is what they read there. Nothing here panics, whatever the bytes: a header cut short keeps
//! the fields that fit and the list ends with a "Malformed" layer (inside an ICMP error's quote,
//! where a cut is normal, just with the fields that fit).

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use super::{ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_VLAN, PROTO_ICMP, PROTO_TCP, PROTO_UDP, ipv4, vxlan};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
    /// Byte offsets within the whole outer frame.
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// "Ethernet II", "802.1Q", "ARP", "IPv4", "ICMP", "UDP", "TCP", "VXLAN", "DNS", "HTTP",
    /// "MySQL" (one per MySQL packet), "Data" (bytes nothing here decodes), "Malformed".
    pub name: String,
    /// One line, as Wireshark's tree header.
    pub summary: String,
    /// Byte offsets within the whole outer frame; every field of the layer lies inside.
    pub range: Range<usize>,
    pub fields: Vec<Field>,
    /// 0 for the outer frame, 1 for the frame inside VXLAN or the packet an ICMP error quotes, …
    pub depth: u8,
}

/// Nesting followed at most (VXLAN in VXLAN, an ICMP error quoting an ICMP error, …): crafted
/// bytes could otherwise nest until the stack runs out.
const MAX_DEPTH: u8 = 4;
/// MySQL packets shown per segment; the rest of the segment is one "Data" layer.
const MAX_MYSQL_PACKETS: usize = 64;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const MYSQL_PORT: u16 = 3306;
const DNS_PORT: u16 = 53;

/// The layers of one Ethernet frame (no FCS), outermost first; inner frames follow their
/// carrier with a larger `depth`.
pub fn dissect(frame: &[u8]) -> Vec<Layer> {
    let mut d = Dissector { frame, out: Vec::new() };
    d.ethernet(0, frame.len(), 0);
    d.out
}

/// `0000  02 42 0a 00 00 02 02 42  0a 00 00 05 08 00 45 00   .B.....B......E.`: 16 bytes a
/// line, printable ASCII on the right, as Wireshark's bytes pane.
pub fn hex_dump(frame: &[u8]) -> Vec<String> {
    frame
        .chunks(16)
        .enumerate()
        .map(|(i, chunk)| {
            let mut hex = String::with_capacity(50);
            for (j, b) in chunk.iter().enumerate() {
                let _ = write!(hex, "{b:02x} ");
                if j == 7 {
                    hex.push(' ');
                }
            }
            let ascii: String =
                chunk.iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' }).collect();
            format!("{:04x}  {hex:<50} {ascii}", i * 16)
        })
        .collect()
}

/// One layer being read. `at..end` are the bytes it may use, as offsets in the whole frame, so
/// every field it adds already has its final range.
struct Hdr<'a> {
    frame: &'a [u8],
    at: usize,
    end: usize,
    /// Header length as far as known: the layer's range covers it (and every field).
    len: usize,
    /// Inside an ICMP error's quote, where running out of bytes is normal.
    quoted: bool,
    /// Why reading stopped, when it was not for lack of bytes.
    why: Option<String>,
    layer: Layer,
}

impl<'a> Hdr<'a> {
    fn new(frame: &'a [u8], at: usize, end: usize, name: &str, depth: u8, quoted: bool) -> Self {
        let end = end.min(frame.len());
        let at = at.min(end);
        let layer = Layer { name: name.into(), summary: name.into(), range: at..at, fields: Vec::new(), depth };
        Hdr { frame, at, end, len: 0, quoted, why: None, layer }
    }

    fn avail(&self) -> usize {
        self.end - self.at
    }

    fn bytes(&self, off: usize, len: usize) -> Option<&'a [u8]> {
        let s = self.at.checked_add(off)?;
        let e = s.checked_add(len)?;
        if e > self.end {
            return None;
        }
        self.frame.get(s..e)
    }

    fn rest(&self, off: usize) -> &'a [u8] {
        self.bytes(off, self.avail().saturating_sub(off)).unwrap_or_default()
    }

    fn u8(&self, off: usize) -> Option<u8> {
        self.bytes(off, 1).map(|b| b[0])
    }

    fn u16(&self, off: usize) -> Option<u16> {
        self.bytes(off, 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn field(&mut self, name: &str, off: usize, len: usize, value: impl Into<String>) {
        let s = self.at.saturating_add(off).min(self.end);
        let e = s.saturating_add(len).min(self.end);
        self.layer.fields.push(Field { name: name.into(), value: value.into(), range: s..e });
    }

    /// A big-endian number of `len` (1 to 4) bytes, added as a field shown by `show`.
    fn be(&mut self, name: &str, off: usize, len: usize, show: impl Fn(u32) -> String) -> Option<u32> {
        let v = self.bytes(off, len)?.iter().fold(0u32, |a, &b| a << 8 | u32::from(b));
        self.field(name, off, len, show(v));
        Some(v)
    }

    fn mac(&mut self, name: &str, off: usize) -> Option<String> {
        let b = self.bytes(off, 6)?;
        let text = mac_text(b);
        let note = if b == [0xff; 6] {
            " (broadcast)"
        } else if b[0] & 1 == 1 {
            " (multicast)"
        } else {
            ""
        };
        self.field(name, off, 6, format!("{text}{note}"));
        Some(text)
    }

    fn addr(&mut self, name: &str, off: usize) -> Option<Ipv4Addr> {
        let b = self.bytes(off, 4)?;
        let a = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
        self.field(name, off, 4, a.to_string());
        Some(a)
    }

    fn stop<T>(&mut self, why: String) -> Option<T> {
        self.why = Some(why);
        None
    }

    /// The layer as read: the header's `len` bytes, and at least every field.
    fn done(mut self) -> Layer {
        let fields_end = self.layer.fields.iter().map(|f| f.range.end).max().unwrap_or(self.at);
        let end = self.at.saturating_add(self.len).min(self.end).max(fields_end);
        self.layer.range = self.at..end;
        self.layer
    }
}

/// Where an IPv4 packet's payload stands: what the L4 checksums and dispatch need.
struct Ip {
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    /// The whole payload is in the frame, so checksums can be verified.
    complete: bool,
    quoted: bool,
}

struct Dissector<'a> {
    frame: &'a [u8],
    out: Vec<Layer>,
}

impl<'a> Dissector<'a> {
    fn hdr(&self, at: usize, end: usize, name: &str, depth: u8) -> Hdr<'a> {
        Hdr::new(self.frame, at, end, name, depth, false)
    }

    fn push(&mut self, h: Hdr<'a>) {
        self.out.push(h.done());
    }

    /// A header that stopped short: the fields that fit, then the rest as "Malformed".
    fn cut(&mut self, mut h: Hdr<'a>, what: &str) {
        let why = h.why.take().unwrap_or_else(|| format!("{what} cut short"));
        let (depth, end, quoted) = (h.layer.depth, h.end, h.quoted);
        let layer = h.done();
        let start = layer.range.end;
        if !layer.fields.is_empty() {
            self.out.push(layer);
        }
        if !quoted {
            self.malformed(start, end, depth, &why);
        }
    }

    fn malformed(&mut self, start: usize, end: usize, depth: u8, why: &str) {
        let end = end.min(self.frame.len()).max(start);
        let mut fields = Vec::new();
        if start < end {
            fields.push(Field { name: "Bytes".into(), value: format!("{} bytes", end - start), range: start..end });
        }
        let summary = format!("[Malformed Packet: {why}]");
        self.out.push(Layer { name: "Malformed".into(), summary, range: start..end, fields, depth });
    }

    /// Bytes nothing here decodes.
    fn data(&mut self, at: usize, end: usize, depth: u8) {
        let Some(b) = self.frame.get(at..end).filter(|b| !b.is_empty()) else { return };
        let mut value: String = b.iter().take(16).map(|x| format!("{x:02x}")).collect();
        if b.len() > 16 {
            value.push('…');
        }
        let _ = write!(value, " ({} bytes)", b.len());
        let fields = vec![Field { name: "Data".into(), value, range: at..end }];
        let summary = format!("Data ({} bytes)", b.len());
        self.out.push(Layer { name: "Data".into(), summary, range: at..end, fields, depth });
    }

    fn ethernet(&mut self, at: usize, end: usize, depth: u8) {
        let mut h = self.hdr(at, end, "Ethernet II", depth);
        let Some(mut ty) = eth_header(&mut h) else { return self.cut(h, "Ethernet header") };
        self.push(h);
        let mut off = at + 14;
        // Tags stack (802.1ad outside 802.1Q); each costs 4 bytes, so the loop ends.
        while ty == ETHERTYPE_VLAN || ty == ETHERTYPE_QINQ {
            let name = if ty == ETHERTYPE_VLAN { "802.1Q" } else { "802.1ad" };
            let mut v = self.hdr(off, end, name, depth);
            let Some(inner) = vlan_tag(&mut v) else { return self.cut(v, "802.1Q tag") };
            self.push(v);
            ty = inner;
            off += 4;
        }
        match ty {
            ETHERTYPE_IPV4 => self.ipv4(off, end, depth, false),
            ETHERTYPE_ARP => self.arp(off, end, depth),
            _ => self.data(off, end, depth),
        }
    }

    fn arp(&mut self, at: usize, end: usize, depth: u8) {
        let mut h = self.hdr(at, end, "ARP", depth);
        match arp_packet(&mut h) {
            Some(()) => self.push(h),
            None => self.cut(h, "ARP packet"),
        }
    }

    fn ipv4(&mut self, at: usize, end: usize, depth: u8, quoted: bool) {
        let mut h = Hdr::new(self.frame, at, end, "IPv4", depth, quoted);
        let Some(ip) = ipv4_header(&mut h) else { return self.cut(h, "IPv4 header") };
        let end = h.end;
        self.push(h);
        let bogus = if ip.version != 4 {
            Some(format!("bogus IP version ({})", ip.version))
        } else if ip.ihl < 20 {
            Some(format!("bogus IPv4 header length ({}, must be at least 20)", ip.ihl))
        } else if ip.total < ip.ihl {
            Some(format!("bogus IPv4 total length ({}, less than the header's {})", ip.total, ip.ihl))
        } else if at + ip.ihl > end {
            Some("IPv4 options cut short".into())
        } else {
            None
        };
        if let Some(why) = bogus {
            if !quoted {
                self.malformed((at + 20).min(end), end, depth, &why);
            }
            return;
        }
        // Bytes past the total length are Ethernet padding, not payload.
        let pay_end = (at + ip.total).min(end);
        let pay = at + ip.ihl;
        let ctx = Ip { src: ip.src, dst: ip.dst, proto: ip.proto, complete: at + ip.total <= end, quoted };
        if ip.frag_offset != 0 {
            return self.data(pay, pay_end, depth);
        }
        match ip.proto {
            PROTO_ICMP => self.icmp(pay, pay_end, depth, &ctx),
            PROTO_TCP => self.tcp(pay, pay_end, depth, &ctx),
            PROTO_UDP => self.udp(pay, pay_end, depth, &ctx),
            _ => self.data(pay, pay_end, depth),
        }
    }

    fn icmp(&mut self, at: usize, end: usize, depth: u8, ip: &Ip) {
        let mut h = Hdr::new(self.frame, at, end, "ICMP", depth, ip.quoted);
        let Some(ty) = icmp_message(&mut h, ip) else { return self.cut(h, "ICMP header") };
        self.push(h);
        // An error quotes the IP header and the start of the packet that caused it.
        if matches!(ty, 3 | 4 | 5 | 11 | 12) && at + 8 < end {
            if depth >= MAX_DEPTH {
                return self.data(at + 8, end, depth + 1);
            }
            self.ipv4(at + 8, end, depth + 1, true);
        }
    }

    fn udp(&mut self, at: usize, end: usize, depth: u8, ip: &Ip) {
        let mut h = Hdr::new(self.frame, at, end, "UDP", depth, ip.quoted);
        let Some((sport, dport, len)) = udp_header(&mut h, ip) else { return self.cut(h, "UDP header") };
        self.push(h);
        let pay = at + 8;
        let pay_end = if len >= 8 { (at + len).min(end) } else { end };
        // A quote cut short has no application data worth reading.
        if (ip.quoted && !ip.complete) || pay >= pay_end {
            return self.data(pay, pay_end, depth);
        }
        let payload = self.frame.get(pay..pay_end).unwrap_or_default();
        if dport == vxlan::PORT || sport == vxlan::PORT {
            self.vxlan(pay, pay_end, depth);
        } else if dport == DNS_PORT || sport == DNS_PORT || looks_like_dns(payload) {
            self.dns(pay, pay_end, depth, false);
        } else {
            self.data(pay, pay_end, depth);
        }
    }

    fn vxlan(&mut self, at: usize, end: usize, depth: u8) {
        let mut h = self.hdr(at, end, "VXLAN", depth);
        if vxlan_header(&mut h).is_none() {
            return self.cut(h, "VXLAN header");
        }
        self.push(h);
        if depth >= MAX_DEPTH {
            return self.data(at + 8, end, depth + 1);
        }
        self.ethernet(at + 8, end, depth + 1);
    }

    fn tcp(&mut self, at: usize, end: usize, depth: u8, ip: &Ip) {
        let mut h = Hdr::new(self.frame, at, end, "TCP", depth, ip.quoted);
        let Some((sport, dport, hlen)) = tcp_header(&mut h, ip) else { return self.cut(h, "TCP header") };
        self.push(h);
        let pay = at + hlen;
        if (ip.quoted && !ip.complete) || pay >= end {
            return self.data(pay, end, depth);
        }
        let payload = self.frame.get(pay..end).unwrap_or_default();
        if sport == MYSQL_PORT || dport == MYSQL_PORT {
            self.mysql(pay, end, depth, sport == MYSQL_PORT && dport != MYSQL_PORT);
        } else if sport == DNS_PORT || dport == DNS_PORT {
            self.dns(pay, end, depth, true);
        } else if looks_like_http(payload) {
            self.http(pay, end, depth);
        } else {
            self.data(pay, end, depth);
        }
    }

    fn dns(&mut self, at: usize, end: usize, depth: u8, over_tcp: bool) {
        let mut h = self.hdr(at, end, "DNS", depth);
        match dns_message(&mut h, over_tcp) {
            Some(()) => self.push(h),
            None => self.cut(h, "DNS message"),
        }
    }

    fn http(&mut self, at: usize, end: usize, depth: u8) {
        let mut h = self.hdr(at, end, "HTTP", depth);
        match http_message(&mut h) {
            Some(()) => self.push(h),
            None => self.cut(h, "HTTP header"),
        }
    }

    /// Every MySQL packet of one segment, a layer each. A server's reply to a query spans
    /// several packets (column count, definitions, EOF, rows, EOF): `reply` follows it.
    fn mysql(&mut self, at: usize, end: usize, depth: u8, from_server: bool) {
        let mut reply = Reply::Start;
        let mut p = at;
        for _ in 0..MAX_MYSQL_PACKETS {
            if p >= end {
                return;
            }
            let mut h = self.hdr(p, end, "MySQL", depth);
            let Some(len) = mysql_packet(&mut h, from_server, &mut reply) else {
                return self.cut(h, "MySQL packet header");
            };
            self.push(h);
            p += 4 + len;
        }
        self.data(p, end, depth);
    }
}

fn mac_text(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":")
}

fn hex_bytes(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn dec(v: u32) -> String {
    v.to_string()
}

fn ethertype_text(t: u32) -> String {
    let name = match t as u16 {
        ETHERTYPE_IPV4 => "IPv4",
        ETHERTYPE_ARP => "ARP",
        ETHERTYPE_VLAN => "802.1Q Virtual LAN",
        ETHERTYPE_QINQ => "802.1ad Provider Bridge (Q-in-Q)",
        0x86dd => "IPv6",
        0x88cc => "LLDP",
        _ => "Unknown",
    };
    format!("{name} (0x{t:04x})")
}

fn eth_header(h: &mut Hdr) -> Option<u16> {
    let dst = h.mac("Destination", 0)?;
    let src = h.mac("Source", 6)?;
    h.layer.summary = format!("Ethernet II, Src: {src}, Dst: {dst}");
    let ty = h.be("Type", 12, 2, ethertype_text)?;
    h.len = 14;
    Some(ty as u16)
}

fn vlan_tag(h: &mut Hdr) -> Option<u16> {
    const PCP: [&str; 8] = [
        "Best Effort (default)",
        "Background",
        "Excellent Effort",
        "Critical Applications",
        "Video, < 100ms latency and jitter",
        "Voice, < 10ms latency and jitter",
        "Internetwork Control",
        "Network Control",
    ];
    // Priority, DEI and ID share the two TCI bytes, as Wireshark's bit fields do.
    let tci = h.be("Priority", 0, 2, |t| format!("{} ({})", t >> 13, PCP[(t >> 13) as usize & 7]))?;
    let (pri, dei, id) = (tci >> 13, (tci >> 12) & 1, tci & 0x0fff);
    h.field("DEI", 0, 2, if dei == 1 { "1 (eligible)" } else { "0 (ineligible)" });
    h.field("ID", 0, 2, id.to_string());
    h.layer.summary = format!("802.1Q Virtual LAN, PRI: {pri}, DEI: {dei}, ID: {id}");
    let ty = h.be("Type", 2, 2, ethertype_text)?;
    h.len = 4;
    Some(ty as u16)
}

fn arp_op(op: u32) -> &'static str {
    match op {
        1 => "request",
        2 => "reply",
        3 => "reverse request",
        4 => "reverse reply",
        _ => "unknown",
    }
}

fn arp_packet(h: &mut Hdr) -> Option<()> {
    h.be("Hardware type", 0, 2, |v| if v == 1 { "Ethernet (1)".into() } else { format!("Unknown ({v})") })?;
    let ptype = h.be("Protocol type", 2, 2, ethertype_text)?;
    let hlen = h.be("Hardware size", 4, 1, dec)? as usize;
    let plen = h.be("Protocol size", 5, 1, dec)? as usize;
    let op = h.be("Opcode", 6, 2, |v| format!("{} ({v})", arp_op(v)))?;
    h.layer.summary = format!("Address Resolution Protocol ({})", arp_op(op));
    // Address sizes come from the packet: Ethernet/IPv4 is 6 and 4, anything else shows as hex.
    let mut off = 8;
    let mut ips = Vec::new();
    for (name, is_hw) in [
        ("Sender MAC address", true),
        ("Sender IP address", false),
        ("Target MAC address", true),
        ("Target IP address", false),
    ] {
        let n = if is_hw { hlen } else { plen };
        let b = h.bytes(off, n)?;
        let text = match (is_hw, n) {
            (true, 6) => mac_text(b),
            (false, 4) if ptype == u32::from(ETHERTYPE_IPV4) => Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
            _ => hex_bytes(b),
        };
        h.field(name, off, n, text.clone());
        if !is_hw {
            ips.push(text);
        }
        off += n;
    }
    if op == 1 && ips[0] == ips[1] {
        h.layer.summary = "Address Resolution Protocol (request/gratuitous ARP)".into();
    }
    h.len = off;
    Some(())
}

fn ip_proto_name(p: u32) -> &'static str {
    match p as u8 {
        PROTO_ICMP => "ICMP",
        2 => "IGMP",
        PROTO_TCP => "TCP",
        PROTO_UDP => "UDP",
        47 => "GRE",
        50 => "ESP",
        _ => "Unknown",
    }
}

fn dscp_name(d: u32) -> String {
    match d {
        0 => "CS0".into(),
        46 => "EF".into(),
        d if d % 8 == 0 => format!("CS{}", d / 8),
        10 | 12 | 14 | 18 | 20 | 22 | 26 | 28 | 30 | 34 | 36 | 38 => format!("AF{}{}", d / 8, (d % 8) / 2),
        d => format!("Unknown ({d})"),
    }
}

/// `0x1234 [correct]`, or what it should have been. `check` is the one's-complement sum over
/// the covered bytes (stored checksum included): 0 when the checksum is right.
fn checksum_text(stored: u16, check: u16) -> String {
    if check == 0 {
        return format!("0x{stored:04x} [correct]");
    }
    // The sum without the stored field, complemented, is what the sender should have written.
    let sum = u32::from(!check) + u32::from(!stored);
    let expected = !(((sum & 0xffff) + (sum >> 16)) as u16);
    format!("0x{stored:04x} [incorrect, should be 0x{expected:04x}]")
}

/// The TCP/UDP checksum over the IPv4 pseudo-header and `seg` (0 when right).
fn l4_check(ip: &Ip, seg: &[u8]) -> u16 {
    let mut pseudo = [0u8; 12];
    pseudo[..4].copy_from_slice(&ip.src);
    pseudo[4..8].copy_from_slice(&ip.dst);
    pseudo[9] = ip.proto;
    pseudo[10..].copy_from_slice(&(seg.len() as u16).to_be_bytes());
    // The pseudo-header has even length, so the two sums add.
    let sum = u32::from(!ipv4::checksum(&pseudo)) + u32::from(!ipv4::checksum(seg));
    !(((sum & 0xffff) + (sum >> 16)) as u16)
}

struct Ipv4Head {
    version: u8,
    ihl: usize,
    total: usize,
    frag_offset: u32,
    proto: u8,
    src: [u8; 4],
    dst: [u8; 4],
}

fn ipv4_header(h: &mut Hdr) -> Option<Ipv4Head> {
    let vihl = h.be("Version", 0, 1, |v| (v >> 4).to_string())?;
    let ihl = (vihl as usize & 0x0f) * 4;
    h.field("Header Length", 0, 1, format!("{ihl} bytes ({})", vihl & 0x0f));
    h.be("Differentiated Services Field", 1, 1, |t| {
        let ecn = ["Not-ECT", "ECT(1)", "ECT(0)", "CE"][t as usize & 3];
        format!("0x{t:02x} (DSCP: {}, ECN: {ecn})", dscp_name(t >> 2))
    })?;
    let total = h.be("Total Length", 2, 2, dec)? as usize;
    h.be("Identification", 4, 2, |v| format!("0x{v:04x} ({v})"))?;
    h.be("Flags", 6, 1, |b| {
        let mut s = format!("0x{:x}", b >> 5);
        for (bit, name) in [(0x80, "Reserved bit"), (0x40, "Don't fragment"), (0x20, "More fragments")] {
            if b & bit != 0 {
                let _ = write!(s, ", {name}");
            }
        }
        s
    })?;
    // Wireshark shows the offset in bytes (the field counts 8-byte blocks).
    let frag_offset = h.be("Fragment Offset", 6, 2, |v| ((v & 0x1fff) * 8).to_string())? & 0x1fff;
    h.be("Time to Live", 8, 1, dec)?;
    let proto = h.be("Protocol", 9, 1, |p| format!("{} ({p})", ip_proto_name(p)))? as u8;
    let stored = h.u16(10)?;
    let verdict = match h.bytes(0, ihl) {
        Some(hdr) if ihl >= 20 => checksum_text(stored, ipv4::checksum(hdr)),
        _ => format!("0x{stored:04x} [unverified]"),
    };
    h.field("Header Checksum", 10, 2, verdict);
    let src = h.addr("Source Address", 12)?;
    let dst = h.addr("Destination Address", 16)?;
    h.layer.summary = format!("Internet Protocol Version 4, Src: {src}, Dst: {dst}");
    h.len = 20;
    if ihl > 20 && h.bytes(20, ihl - 20).is_some() {
        h.field("Options", 20, ihl - 20, format!("({} bytes)", ihl - 20));
        h.len = ihl;
    }
    let version = (vihl >> 4) as u8;
    Some(Ipv4Head { version, ihl, total, frag_offset, proto, src: src.octets(), dst: dst.octets() })
}

fn icmp_type_name(t: u8) -> &'static str {
    match t {
        0 => "Echo (ping) reply",
        3 => "Destination unreachable",
        4 => "Source quench (flow control)",
        5 => "Redirect",
        8 => "Echo (ping) request",
        11 => "Time-to-live exceeded",
        12 => "Parameter problem",
        13 => "Timestamp request",
        14 => "Timestamp reply",
        _ => "Unknown",
    }
}

fn icmp_code_name(t: u8, c: u8) -> Option<&'static str> {
    Some(match (t, c) {
        (3, 0) => "Network unreachable",
        (3, 1) => "Host unreachable",
        (3, 2) => "Protocol unreachable",
        (3, 3) => "Port unreachable",
        (3, 4) => "Fragmentation needed",
        (3, 5) => "Source route failed",
        (3, 6) => "Destination network unknown",
        (3, 7) => "Destination host unknown",
        (3, 9) => "Destination network administratively prohibited",
        (3, 10) => "Destination host administratively prohibited",
        (3, 13) => "Communication administratively filtered",
        (5, 0) => "Redirect for network",
        (5, 1) => "Redirect for host",
        (11, 0) => "Time to live exceeded in transit",
        (11, 1) => "Fragment reassembly time exceeded",
        _ => return None,
    })
}

/// The ICMP header and, for echo, its data; returns the type. The layer covers the whole
/// message, quote included, as Wireshark's ICMP tree does.
fn icmp_message(h: &mut Hdr, ip: &Ip) -> Option<u8> {
    let ty = h.be("Type", 0, 1, |t| format!("{t} ({})", icmp_type_name(t as u8)))? as u8;
    let code = h.be("Code", 1, 1, |c| match icmp_code_name(ty, c as u8) {
        Some(n) => format!("{c} ({n})"),
        None => c.to_string(),
    })? as u8;
    let mut summary = format!("Internet Control Message Protocol, {}", icmp_type_name(ty));
    if let Some(n) = icmp_code_name(ty, code) {
        let _ = write!(summary, " ({n})");
    }
    h.layer.summary = summary.clone();
    let stored = h.u16(2)?;
    let verdict = if ip.complete {
        checksum_text(stored, ipv4::checksum(h.rest(0)))
    } else {
        format!("0x{stored:04x} [unverified]")
    };
    h.field("Checksum", 2, 2, verdict);
    h.len = h.avail();
    match ty {
        0 | 8 | 13 | 14 => {
            let id = h.be("Identifier", 4, 2, |v| format!("0x{v:04x} ({v})"))?;
            let seq = h.be("Sequence Number", 6, 2, dec)?;
            let _ = write!(summary, ", id=0x{id:04x}, seq={seq}");
            let data = h.avail() - 8;
            if data > 0 {
                h.field("Data", 8, data, format!("({data} bytes)"));
            }
        }
        3 if code == 4 => {
            h.be("Unused", 4, 2, |v| format!("0x{v:04x}"))?;
            let mtu = h.be("MTU of next hop", 6, 2, dec)?;
            let _ = write!(summary, ", MTU {mtu}");
        }
        5 => {
            h.addr("Gateway Address", 4)?;
        }
        12 => {
            h.be("Pointer", 4, 1, dec)?;
        }
        _ => {
            h.be("Unused", 4, 4, |v| format!("0x{v:08x}"))?;
        }
    }
    h.layer.summary = summary;
    Some(ty)
}

fn udp_header(h: &mut Hdr, ip: &Ip) -> Option<(u16, u16, usize)> {
    let sport = h.be("Source Port", 0, 2, dec)? as u16;
    let dport = h.be("Destination Port", 2, 2, dec)? as u16;
    h.layer.summary = format!("User Datagram Protocol, Src Port: {sport}, Dst Port: {dport}");
    let len = h.be("Length", 4, 2, dec)? as usize;
    let stored = h.u16(6)?;
    let seg = h.rest(0);
    let verdict = if stored == 0 {
        // Over IPv4 a zero checksum means "none" (RFC 768); VXLAN sends it so.
        "0x0000 [zero-value ignored]".to_string()
    } else if ip.complete && seg.len() == len {
        checksum_text(stored, l4_check(ip, seg))
    } else {
        format!("0x{stored:04x} [unverified]")
    };
    h.field("Checksum", 6, 2, verdict);
    h.len = 8;
    Some((sport, dport, len))
}

fn vxlan_header(h: &mut Hdr) -> Option<u32> {
    h.be("Flags", 0, 1, |f| {
        let i = if f & 0x08 != 0 { "VNI valid" } else { "VNI not valid: Linux drops it" };
        format!("0x{f:02x} ({i})")
    })?;
    h.be("Reserved", 1, 3, |v| format!("0x{v:06x}"))?;
    let vni = h.be("VXLAN Network Identifier (VNI)", 4, 3, dec)?;
    h.layer.summary = format!("Virtual eXtensible Local Area Network, VNI: {vni}");
    h.be("Reserved", 7, 1, |v| format!("0x{v:02x}"))?;
    h.len = vxlan::HEADER_LEN;
    Some(vni)
}

/// Flag names in Wireshark's order (lowest bit first): `0x012 (SYN, ACK)`.
fn tcp_flags_text(flags: u16) -> String {
    let names: Vec<&str> = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "AE"]
        .iter()
        .enumerate()
        .filter(|(i, _)| flags & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect();
    let names = if names.is_empty() { "<None>".to_string() } else { names.join(", ") };
    format!("0x{flags:03x} ({names})")
}

/// The TCP header with its options; returns the ports and the header length.
fn tcp_header(h: &mut Hdr, ip: &Ip) -> Option<(u16, u16, usize)> {
    let sport = h.be("Source Port", 0, 2, dec)? as u16;
    let dport = h.be("Destination Port", 2, 2, dec)? as u16;
    h.layer.summary = format!("Transmission Control Protocol, Src Port: {sport}, Dst Port: {dport}");
    let seq = h.be("Sequence Number (raw)", 4, 4, dec)?;
    let ack = h.be("Acknowledgment Number (raw)", 8, 4, dec)?;
    let off_flags = h.u16(12)?;
    let hlen = usize::from(off_flags >> 12) * 4;
    h.field("Header Length", 12, 1, format!("{hlen} bytes ({})", off_flags >> 12));
    let flags = off_flags & 0x0fff;
    h.field("Flags", 12, 2, tcp_flags_text(flags));
    h.be("Window", 14, 2, dec)?;
    let stored = h.u16(16)?;
    let verdict = if ip.complete {
        checksum_text(stored, l4_check(ip, h.rest(0)))
    } else {
        format!("0x{stored:04x} [unverified]")
    };
    h.field("Checksum", 16, 2, verdict);
    h.be("Urgent Pointer", 18, 2, dec)?;
    h.len = 20;
    let mut summary = format!("{}, Seq: {seq}", h.layer.summary);
    if flags & 0x10 != 0 {
        let _ = write!(summary, ", Ack: {ack}");
    }
    let _ = write!(summary, ", Len: {}", h.avail().saturating_sub(hlen));
    h.layer.summary = summary;
    if hlen < 20 {
        return h.stop(format!("bogus TCP header length ({hlen}, must be at least 20)"));
    }
    h.bytes(20, hlen - 20)?;
    h.len = hlen;
    tcp_options(h, hlen);
    Some((sport, dport, hlen))
}

/// Each option as its own field (`TCP Option - Maximum segment size: 1460 bytes`), after an
/// "Options" field over them all.
fn tcp_options(h: &mut Hdr, hlen: usize) {
    if hlen <= 20 {
        return;
    }
    let mut opts: Vec<(String, usize, usize, String)> = Vec::new();
    let mut o = 20;
    while o < hlen {
        let kind = h.u8(o).unwrap_or(0);
        if kind <= 1 {
            let name = if kind == 0 { "End of Option List (EOL)" } else { "No-Operation (NOP)" };
            opts.push((name.into(), o, 1, String::new()));
            o += 1;
            if kind == 0 {
                break;
            }
            continue;
        }
        let len = usize::from(h.u8(o + 1).unwrap_or(0));
        if len < 2 || o + len > hlen {
            opts.push(("Malformed option".into(), o, hlen - o, format!("kind {kind}, length {len}")));
            break;
        }
        let Some(b) = h.bytes(o, len) else { break };
        let be16 = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let be32 = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let (name, value) = match (kind, len) {
            (2, 4) => ("Maximum segment size", format!("{} bytes", be16(2))),
            (3, 3) => ("Window scale", format!("{} (multiply by {})", b[2], 1u32 << b[2].min(14))),
            (4, 2) => ("SACK permitted", String::new()),
            (5, _) => {
                let blocks: Vec<String> =
                    (2..len.saturating_sub(7)).step_by(8).map(|i| format!("{}-{}", be32(i), be32(i + 4))).collect();
                ("SACK", blocks.join(" "))
            }
            (8, 10) => ("Timestamps", format!("TSval {}, TSecr {}", be32(2), be32(6))),
            _ => ("Unknown", format!("kind {kind}, {len} bytes")),
        };
        opts.push((name.into(), o, len, value));
        o += len;
    }
    let names: Vec<&str> = opts.iter().map(|(n, ..)| n.as_str()).collect();
    h.field("Options", 20, hlen - 20, format!("({} bytes), {}", hlen - 20, names.join(", ")));
    for (name, off, len, value) in opts {
        h.field(&format!("TCP Option - {name}"), off, len, value);
    }
}

fn dns_type_name(t: u16) -> String {
    let name = match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        41 => "OPT",
        65 => "HTTPS",
        255 => "ANY",
        _ => return format!("Unknown ({t})"),
    };
    name.into()
}

fn dns_class_name(c: u16) -> String {
    match c {
        1 => "IN".into(),
        3 => "CH".into(),
        4 => "HS".into(),
        255 => "ANY".into(),
        _ => format!("0x{c:04x}"),
    }
}

fn dns_rcode_name(r: u16) -> &'static str {
    match r {
        0 => "No error",
        1 => "Format error",
        2 => "Server failure",
        3 => "No such name",
        4 => "Not implemented",
        5 => "Refused",
        _ => "Unknown",
    }
}

fn dns_opcode_name(o: u16) -> &'static str {
    match o {
        0 => "Standard query",
        1 => "Inverse query",
        2 => "Server status request",
        4 => "Zone change notification",
        5 => "Dynamic update",
        _ => "Unknown operation",
    }
}

/// Where one question or record sits in the message (offsets in the message).
struct Rr {
    start: usize,
    end: usize,
    ty: u16,
    class: u16,
    ttl: u32,
    rdlen: usize,
}

fn skip_dns_name(msg: &[u8], mut p: usize) -> Option<usize> {
    loop {
        let l = *msg.get(p)?;
        match l & 0xc0 {
            0 if l == 0 => return Some(p + 1),
            0 => p += 1 + usize::from(l),
            // A compression pointer ends the name in place.
            0xc0 => return msg.get(p + 1).map(|_| p + 2),
            _ => return None,
        }
    }
}

/// The byte extent of every question and record, section by section, and where the last one
/// ends: `simple-dns` parses the values but keeps no offsets.
fn dns_walk(msg: &[u8], counts: [u16; 4]) -> Option<([Vec<Rr>; 4], usize)> {
    let be16 = |p: usize| msg.get(p..p + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let mut out: [Vec<Rr>; 4] = Default::default();
    let mut p = 12;
    for (section, &n) in counts.iter().enumerate() {
        for _ in 0..n {
            let start = p;
            p = skip_dns_name(msg, p)?;
            let (ty, class) = (be16(p)?, be16(p + 2)?);
            if section == 0 {
                p += 4;
                out[0].push(Rr { start, end: p, ty, class, ttl: 0, rdlen: 0 });
                continue;
            }
            let ttl = u32::from(be16(p + 4)?) << 16 | u32::from(be16(p + 6)?);
            let rdlen = usize::from(be16(p + 8)?);
            p += 10 + rdlen;
            if p > msg.len() {
                return None;
            }
            out[section].push(Rr { start, end: p, ty, class, ttl, rdlen });
        }
    }
    Some((out, p))
}

/// Docker's embedded DNS server listens on a random port behind 127.0.0.11:53's DNAT, so a
/// query can leave with no port 53 on it; Wireshark spots those by heuristic too. Strict: one
/// standard query question, records filling the datagram exactly, and simple-dns agreeing.
fn looks_like_dns(p: &[u8]) -> bool {
    let Some(h) = p.get(..12) else { return false };
    let be16 = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    let counts = [be16(4), be16(6), be16(8), be16(10)];
    counts[0] == 1
        && (h[2] >> 3) & 0xf == 0
        && dns_walk(p, counts).is_some_and(|(_, end)| end == p.len())
        && simple_dns::Packet::parse(p).is_ok()
}

fn dns_name(n: &simple_dns::Name) -> String {
    let s = n.to_string();
    if s.is_empty() { "<Root>".into() } else { s }
}

fn rdata_text(r: &simple_dns::rdata::RData, rdlen: usize) -> String {
    use simple_dns::rdata::RData;
    match r {
        RData::A(a) => format!("addr {}", Ipv4Addr::from(a.address)),
        RData::AAAA(a) => format!("addr {}", Ipv6Addr::from(a.address)),
        RData::CNAME(n) => format!("cname {}", dns_name(&n.0)),
        RData::NS(n) => format!("ns {}", dns_name(&n.0)),
        RData::PTR(n) => format!("domain name {}", dns_name(&n.0)),
        RData::MX(m) => format!("preference {}, mx {}", m.preference, dns_name(&m.exchange)),
        RData::SRV(s) => {
            format!("priority {}, weight {}, port {}, target {}", s.priority, s.weight, s.port, dns_name(&s.target))
        }
        _ => format!("{rdlen} bytes of data"),
    }
}

fn dns_message(h: &mut Hdr, over_tcp: bool) -> Option<()> {
    // Over TCP a two-byte length comes first (RFC 1035 4.2.2).
    let base = if over_tcp {
        h.be("Length", 0, 2, dec)?;
        2
    } else {
        0
    };
    let id = h.be("Transaction ID", base, 2, |v| format!("0x{v:04x}"))?;
    let flags = h.u16(base + 2)?;
    let response = flags & 0x8000 != 0;
    let (opcode, rcode) = ((flags >> 11) & 0xf, flags & 0xf);
    let mut what = dns_opcode_name(opcode).to_string();
    if response {
        let _ = write!(what, " response, {}", dns_rcode_name(rcode));
    }
    h.field("Flags", base + 2, 2, format!("0x{flags:04x} {what}"));
    let bit = |m: u16| if flags & m != 0 { "Yes" } else { "No" };
    h.field("Response", base + 2, 2, if response { "Message is a response" } else { "Message is a query" });
    h.field("Opcode", base + 2, 2, format!("{} ({opcode})", dns_opcode_name(opcode)));
    if response {
        h.field("Authoritative", base + 2, 2, bit(0x0400));
    }
    h.field("Truncated", base + 2, 2, bit(0x0200));
    h.field("Recursion desired", base + 2, 2, bit(0x0100));
    if response {
        h.field("Recursion available", base + 2, 2, bit(0x0080));
        h.field("Reply code", base + 2, 2, format!("{} ({rcode})", dns_rcode_name(rcode)));
    }
    let mut counts = [0u16; 4];
    for (i, name) in ["Questions", "Answer RRs", "Authority RRs", "Additional RRs"].into_iter().enumerate() {
        counts[i] = h.be(name, base + 4 + 2 * i, 2, dec)? as u16;
    }
    h.len = base + 12;
    h.layer.summary = format!("Domain Name System ({})", if response { "response" } else { "query" });
    let mut msg = h.rest(base);
    if over_tcp && let Some(n) = h.u16(0) {
        msg = &msg[..msg.len().min(usize::from(n))];
    }
    let packet = match simple_dns::Packet::parse(msg) {
        Ok(p) => p,
        Err(e) => return h.stop(format!("DNS: {e}")),
    };
    let Some((sections, _)) = dns_walk(msg, counts) else {
        return h.stop("DNS: records run past the message".into());
    };
    let mut info = format!("{} 0x{id:04x}", what.split(',').next().unwrap_or_default());
    for (i, rr) in sections[0].iter().enumerate() {
        let name = packet.questions.get(i).map(|q| dns_name(&q.qname)).unwrap_or_default();
        let (ty, class) = (dns_type_name(rr.ty), dns_class_name(rr.class & 0x7fff));
        let _ = write!(info, " {ty} {name}");
        h.field("Query", base + rr.start, rr.end - rr.start, format!("{name}: type {ty}, class {class}"));
    }
    if response && rcode != 0 {
        let _ = write!(info, " {}", dns_rcode_name(rcode));
    }
    // simple-dns lifts the EDNS OPT record out of the additional section: skip it when pairing.
    let mut additional = packet.additional_records.iter();
    let mut opt_seen = false;
    for (section, name) in [(1, "Answer"), (2, "Authority"), (3, "Additional")] {
        for (i, rr) in sections[section].iter().enumerate() {
            let record = match section {
                1 => packet.answers.get(i),
                2 => packet.name_servers.get(i),
                _ if rr.ty == 41 && !opt_seen => {
                    opt_seen = true;
                    let value = format!("<Root>: type OPT, UDP payload size {}", rr.class);
                    h.field(name, base + rr.start, rr.end - rr.start, value);
                    continue;
                }
                _ => additional.next(),
            };
            let owner = record.map(|r| dns_name(&r.name)).unwrap_or_default();
            let rdata = record.map(|r| rdata_text(&r.rdata, rr.rdlen)).unwrap_or_default();
            let ty = dns_type_name(rr.ty);
            let class = dns_class_name(rr.class & 0x7fff);
            let value = format!("{owner}: type {ty}, class {class}, ttl {}, {rdata}", rr.ttl);
            h.field(name, base + rr.start, rr.end - rr.start, value);
            if section == 1 {
                let _ = write!(info, " {ty} {}", rdata.strip_prefix("addr ").unwrap_or(&rdata));
            }
        }
    }
    h.len = base + msg.len();
    h.layer.summary = format!("{}: {info}", h.layer.summary);
    Some(())
}

const HTTP_METHODS: [&[u8]; 9] =
    [b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"OPTIONS", b"PATCH", b"CONNECT", b"TRACE"];

/// Only the start of a message is HTTP; later segments of a body are just data.
fn looks_like_http(p: &[u8]) -> bool {
    p.starts_with(b"HTTP/1.") || HTTP_METHODS.iter().any(|m| p.starts_with(m) && p.get(m.len()) == Some(&b' '))
}

fn http_message(h: &mut Hdr) -> Option<()> {
    let data = h.rest(0);
    let line_len = data.iter().position(|&c| c == b'\r' || c == b'\n').unwrap_or(data.len());
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let (status, first_line, parsed) = if data.starts_with(b"HTTP/1.") {
        let mut r = httparse::Response::new(&mut headers);
        let status = match r.parse(data) {
            Ok(s) => s,
            Err(e) => return h.stop(format!("HTTP: {e}")),
        };
        let (code, reason) = (r.code.unwrap_or(0), r.reason.unwrap_or(""));
        let line = format!("HTTP/1.{} {code} {reason}", r.version.unwrap_or(1));
        h.field("Status Line", 0, line_len, line.trim_end());
        // "HTTP/1.1 200 OK": single spaces, which httparse insists on.
        h.field("Response Version", 0, 8, format!("HTTP/1.{}", r.version.unwrap_or(1)));
        if r.code.is_some() {
            h.field("Status Code", 9, 3, code.to_string());
            h.field("Response Phrase", 13, reason.len(), reason);
        }
        (status, line, r.headers.len())
    } else {
        let mut r = httparse::Request::new(&mut headers);
        let status = match r.parse(data) {
            Ok(s) => s,
            Err(e) => return h.stop(format!("HTTP: {e}")),
        };
        let (method, path) = (r.method.unwrap_or(""), r.path.unwrap_or(""));
        let line = format!("{method} {path} HTTP/1.{}", r.version.unwrap_or(1));
        h.field("Request Line", 0, line_len, line.clone());
        h.field("Request Method", 0, method.len(), method);
        if r.path.is_some() {
            h.field("Request URI", method.len() + 1, path.len(), path);
        }
        if let Some(v) = r.version {
            h.field("Request Version", method.len() + path.len() + 2, 8, format!("HTTP/1.{v}"));
        }
        (status, line, r.headers.len())
    };
    h.layer.summary = format!("Hypertext Transfer Protocol, {}", first_line.trim_end());
    h.len = line_len;
    let httparse::Status::Complete(head_len) = status else {
        h.field("Headers", line_len, data.len() - line_len, "[the headers continue in the next segment]");
        h.len = data.len();
        return Some(());
    };
    // httparse copied names and values, not where they were: walk the header lines for ranges.
    let mut content_length = None;
    let mut p = line_len;
    for header in headers.iter().take(parsed) {
        for eol in [b'\r', b'\n'] {
            if data.get(p) == Some(&eol) {
                p += 1;
            }
        }
        let len = data[p.min(data.len())..].iter().position(|&c| c == b'\r' || c == b'\n').unwrap_or(0);
        let value = String::from_utf8_lossy(header.value).into_owned();
        if header.name.eq_ignore_ascii_case("content-length") {
            content_length = value.trim().parse::<usize>().ok();
        }
        h.field(header.name, p, len, value);
        p += len;
    }
    let body = data.len() - head_len.min(data.len());
    if body > 0 {
        let text = &data[head_len..];
        let mut value = format!("{body} bytes");
        if let Some(n) = content_length.filter(|&n| n != body) {
            let _ = write!(value, " (of {n})");
        }
        if text.iter().all(|&c| (0x20..0x7f).contains(&c) || c == b'\n' || c == b'\r' || c == b'\t') {
            let shown: String = String::from_utf8_lossy(text).chars().take(80).collect();
            let _ = write!(value, ": {}", shown.escape_debug());
        }
        h.field("Body", head_len, body, value);
    }
    h.len = data.len();
    Some(())
}

/// Where a server's reply to a query stands, packet by packet within one segment.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reply {
    /// The next packet starts a reply: OK, ERR, or a result set's column count.
    Start,
    /// Column definitions still expected (until the EOF that ends them).
    Columns(u64),
    /// Rows, until an EOF.
    Rows,
}

/// Reads a MySQL packet's body, adding each part as a field.
struct My<'h, 'a> {
    h: &'h mut Hdr<'a>,
    p: usize,
    lim: usize,
}

impl<'a> My<'_, 'a> {
    fn take(&mut self, n: usize) -> Option<(usize, &'a [u8])> {
        if self.p.checked_add(n)? > self.lim {
            return None;
        }
        let at = self.p;
        self.p += n;
        self.h.bytes(at, n).map(|b| (at, b))
    }

    /// A little-endian integer of `n` bytes (at most 8).
    fn int(&mut self, name: &str, n: usize, show: impl Fn(u64) -> String) -> Option<u64> {
        let (at, b) = self.take(n)?;
        let v = b.iter().rev().fold(0u64, |a, &x| a << 8 | u64::from(x));
        self.h.field(name, at, n, show(v));
        Some(v)
    }

    fn text(&mut self, name: &str, n: usize) -> Option<String> {
        let (at, b) = self.take(n)?;
        let s = String::from_utf8_lossy(b).into_owned();
        self.h.field(name, at, n, s.clone());
        Some(s)
    }

    fn hex(&mut self, name: &str, n: usize) -> Option<()> {
        let (at, b) = self.take(n)?;
        let s = hex_bytes(b);
        self.h.field(name, at, n, s);
        Some(())
    }

    /// NUL-terminated (the NUL is in the range, not the value); without a NUL, the rest.
    fn nul_str(&mut self, name: &str) -> Option<String> {
        let rest = self.lim.checked_sub(self.p)?;
        let b = self.h.bytes(self.p, rest)?;
        let n = b.iter().position(|&c| c == 0);
        let s = String::from_utf8_lossy(&b[..n.unwrap_or(rest)]).into_owned();
        let len = n.map_or(rest, |n| n + 1);
        self.h.field(name, self.p, len, s.clone());
        self.p += len;
        Some(s)
    }

    /// A length-encoded integer: `(value, size)`, value `None` for 0xfb (NULL).
    fn peek_lenenc(&self) -> Option<(Option<u64>, usize)> {
        let first = *self.h.bytes(self.p, 1)?.first()?;
        let n = match first {
            0xfb => return Some((None, 1)),
            0xfc => 2,
            0xfd => 3,
            0xfe => 8,
            0xff => return None,
            v => return Some((Some(u64::from(v)), 1)),
        };
        if self.p + 1 + n > self.lim {
            return None;
        }
        let b = self.h.bytes(self.p + 1, n)?;
        Some((Some(b.iter().rev().fold(0u64, |a, &x| a << 8 | u64::from(x))), 1 + n))
    }

    fn lenenc(&mut self, name: &str) -> Option<u64> {
        let (v, size) = self.peek_lenenc()?;
        let v = v?;
        self.h.field(name, self.p, size, v.to_string());
        self.p += size;
        Some(v)
    }

    /// A length-encoded string, or NULL.
    fn lenenc_str(&mut self, name: &str) -> Option<String> {
        let (v, size) = self.peek_lenenc()?;
        let Some(n) = v else {
            self.h.field(name, self.p, 1, "NULL");
            self.p += 1;
            return Some("NULL".into());
        };
        let n = usize::try_from(n).ok()?;
        let end = self.p.checked_add(size)?.checked_add(n)?;
        if end > self.lim {
            return None;
        }
        let b = self.h.bytes(self.p + size, n)?;
        let s = String::from_utf8_lossy(b).into_owned();
        self.h.field(name, self.p, size + n, s.clone());
        self.p = end;
        Some(s)
    }

    fn rest_text(&mut self, name: &str) -> String {
        let n = self.lim.saturating_sub(self.p);
        if n == 0 {
            return String::new();
        }
        self.text(name, n).unwrap_or_default()
    }
}

const COM_QUIT: u64 = 0x01;
const COM_INIT_DB: u64 = 0x02;
const COM_QUERY: u64 = 0x03;
const COM_FIELD_LIST: u64 = 0x04;
const CLIENT_CONNECT_WITH_DB: u64 = 0x0000_0008;
const CLIENT_PROTOCOL_41: u64 = 0x0000_0200;
const CLIENT_SECURE_CONNECTION: u64 = 0x0000_8000;
const CLIENT_PLUGIN_AUTH: u64 = 0x0008_0000;
const CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: u64 = 0x0020_0000;

fn mysql_command_name(c: u64) -> &'static str {
    match c {
        0x00 => "Sleep",
        COM_QUIT => "Quit",
        COM_INIT_DB => "Use Database",
        COM_QUERY => "Query",
        COM_FIELD_LIST => "Show Fields",
        0x05 => "Create Database",
        0x06 => "Drop Database",
        0x07 => "Refresh",
        0x08 => "Shutdown",
        0x09 => "Statistics",
        0x0a => "Process List",
        0x0b => "Connect",
        0x0c => "Kill Server Thread",
        0x0d => "Dump Debuginfo",
        0x0e => "Ping",
        0x11 => "Change User",
        0x16 => "Prepare Statement",
        0x17 => "Execute Statement",
        0x19 => "Close Statement",
        0x1a => "Reset Statement",
        0x1b => "Set Option",
        0x1c => "Fetch Data",
        0x1f => "Reset Connection",
        _ => "Unknown",
    }
}

fn mysql_charset(c: u64) -> String {
    let name = match c {
        8 => "latin1 COLLATE latin1_swedish_ci",
        33 => "utf8 COLLATE utf8_general_ci",
        45 => "utf8mb4 COLLATE utf8mb4_general_ci",
        63 => "binary COLLATE binary",
        255 => "utf8mb4 COLLATE utf8mb4_0900_ai_ci",
        _ => "unknown",
    };
    format!("{name} ({c})")
}

fn mysql_type_name(t: u64) -> String {
    let name = match t {
        0x01 => "FIELD_TYPE_TINY",
        0x02 => "FIELD_TYPE_SHORT",
        0x03 => "FIELD_TYPE_LONG",
        0x08 => "FIELD_TYPE_LONGLONG",
        0x0c => "FIELD_TYPE_DATETIME",
        0x0f => "FIELD_TYPE_VARCHAR",
        0xfc => "FIELD_TYPE_BLOB",
        0xfd => "FIELD_TYPE_VAR_STRING",
        0xfe => "FIELD_TYPE_STRING",
        _ => "unknown",
    };
    format!("{name} ({t})")
}

fn hex16(v: u64) -> String {
    format!("0x{v:04x}")
}

/// One MySQL packet (3-byte little-endian length, sequence id, body); returns the body length
/// as the header says (the body may continue in the next segment).
fn mysql_packet(h: &mut Hdr, from_server: bool, reply: &mut Reply) -> Option<usize> {
    let len = h.bytes(0, 3).map(|b| usize::from(b[0]) | usize::from(b[1]) << 8 | usize::from(b[2]) << 16)?;
    h.field("Packet Length", 0, 3, len.to_string());
    let seq = h.be("Packet Number", 3, 1, dec)? as u8;
    h.len = 4 + len;
    let lim = (4 + len).min(h.avail());
    let body = h.bytes(4, lim - 4).unwrap_or_default();
    let first = body.first().copied();
    let mut m = My { h: &mut *h, p: 4, lim };
    let summary = match (from_server, first) {
        (_, None) => "empty packet".to_string(),
        (true, Some(first)) => mysql_response(&mut m, first, seq, len, reply),
        (false, Some(_)) => mysql_request(&mut m, seq, len),
    };
    let cut = if 4 + len > h.avail() { " [continues in the next segment]" } else { "" };
    h.layer.summary = format!("MySQL Protocol: {summary}{cut}");
    Some(len)
}

fn mysql_request(m: &mut My, seq: u8, len: usize) -> String {
    // The login request answers the greeting (packet 0), so it is packet 1; commands start a
    // new exchange at 0.
    if seq == 1 && len >= 32 {
        let mut s = "Login Request".to_string();
        let _ = mysql_login(m, len, &mut s);
        return s;
    }
    if seq != 0 {
        m.hex("Payload", m.lim - m.p);
        return "Request (authentication data)".into();
    }
    let Some(cmd) = m.int("Command", 1, |c| format!("{} ({c})", mysql_command_name(c))) else {
        return "Request".into();
    };
    let name = mysql_command_name(cmd);
    match cmd {
        COM_QUERY => format!("Request {name}: {}", m.rest_text("Statement")),
        COM_INIT_DB => format!("Request {name}: {}", m.rest_text("Schema")),
        COM_FIELD_LIST => format!("Request {name}: {}", m.nul_str("Table Name").unwrap_or_default()),
        _ => {
            if m.lim > m.p {
                m.hex("Payload", m.lim - m.p);
            }
            format!("Request {name}")
        }
    }
}

/// HandshakeResponse41: what the `mysql` client (and proto::mysql's client) sends.
fn mysql_login(m: &mut My, len: usize, s: &mut String) -> Option<()> {
    if len == 32 {
        *s = "SSL Request".into();
    }
    let caps = m.int("Client Capabilities", 2, hex16)?;
    let caps = caps | m.int("Extended Client Capabilities", 2, hex16)? << 16;
    if caps & CLIENT_PROTOCOL_41 == 0 {
        *s = "Login Request (pre-4.1 protocol, not decoded)".into();
        return None;
    }
    m.int("MAX Packet", 4, |v| v.to_string())?;
    m.int("Charset", 1, mysql_charset)?;
    m.hex("Unused", 23)?;
    let user = m.nul_str("Username")?;
    *s = format!("Login Request, user {user}");
    // The auth response: length-encoded, one length byte, or NUL-terminated, by capability.
    let start = m.p;
    if caps & (CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_SECURE_CONNECTION) != 0 {
        let n = if caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
            let (v, size) = m.peek_lenenc()?;
            m.p += size;
            usize::try_from(v?).ok()?
        } else {
            m.take(1)?.1[0].into()
        };
        let (_, b) = m.take(n)?;
        m.h.field("Password", start, m.p - start, hex_bytes(b));
    } else {
        m.nul_str("Password")?;
    }
    if caps & CLIENT_CONNECT_WITH_DB != 0 {
        let db = m.nul_str("Schema")?;
        let _ = write!(s, ", schema {db}");
    }
    if caps & CLIENT_PLUGIN_AUTH != 0 {
        m.nul_str("Client Auth Plugin")?;
    }
    Some(())
}

fn mysql_response(m: &mut My, first: u8, seq: u8, len: usize, reply: &mut Reply) -> String {
    match first {
        0x0a if seq == 0 => {
            let mut s = "Server Greeting".to_string();
            let _ = mysql_greeting(m, &mut s);
            s
        }
        0xff => {
            let mut s = "Response Error".to_string();
            let _ = mysql_err(m, &mut s);
            *reply = Reply::Start;
            s
        }
        0xfe if len < 9 => {
            m.int("Response Code", 1, |_| "EOF (0xfe)".into());
            m.int("Warnings", 2, |v| v.to_string());
            m.int("Server Status", 2, hex16);
            *reply = if matches!(*reply, Reply::Columns(_)) { Reply::Rows } else { Reply::Start };
            "Response EOF".into()
        }
        0xfe if *reply == Reply::Start => {
            m.int("Response Code", 1, |_| "Auth Switch Request (0xfe)".into());
            let plugin = m.nul_str("Auth Method Name").unwrap_or_default();
            if m.lim > m.p {
                m.hex("Auth Method Data", m.lim - m.p);
            }
            format!("Auth Switch Request, {plugin}")
        }
        0x00 if *reply == Reply::Start && len >= 7 => {
            let mut s = "Response OK".to_string();
            let _ = mysql_ok(m, &mut s);
            s
        }
        _ => mysql_result_set(m, len, reply),
    }
}

fn mysql_greeting(m: &mut My, s: &mut String) -> Option<()> {
    let proto = m.int("Protocol", 1, |v| v.to_string())?;
    let version = m.nul_str("Version")?;
    let id = m.int("Thread ID", 4, |v| v.to_string())?;
    *s = format!("Server Greeting, protocol {proto}, version {version}, connection id {id}");
    m.text("Salt", 8)?;
    m.take(1)?;
    m.int("Server Capabilities", 2, hex16)?;
    m.int("Server Language", 1, mysql_charset)?;
    m.int("Server Status", 2, hex16)?;
    m.int("Extended Server Capabilities", 2, hex16)?;
    let auth_len = m.int("Authentication Plugin Length", 1, |v| v.to_string())?;
    m.hex("Unused", 10)?;
    // The salt's second part: max(13, length - 8) bytes, the last a NUL.
    let n = (auth_len.saturating_sub(8).max(13) as usize).min(m.lim - m.p);
    let (at, b) = m.take(n)?;
    let salt = String::from_utf8_lossy(b.split(|&c| c == 0).next().unwrap_or_default()).into_owned();
    m.h.field("Salt", at, n, salt);
    if m.p < m.lim {
        m.nul_str("Authentication Plugin")?;
    }
    Some(())
}

fn mysql_ok(m: &mut My, s: &mut String) -> Option<()> {
    m.int("Response Code", 1, |_| "OK (0x00)".into())?;
    let rows = m.lenenc("Affected Rows")?;
    *s = format!("Response OK, {rows} row{} affected", if rows == 1 { "" } else { "s" });
    m.lenenc("Last INSERT ID")?;
    m.int("Server Status", 2, hex16)?;
    m.int("Warnings", 2, |v| v.to_string())?;
    // MySQL 5.5 writes the info message length-encoded.
    if m.p < m.lim {
        let msg = m.lenenc_str("Message")?;
        let _ = write!(s, " ({msg})");
    }
    Some(())
}

fn mysql_err(m: &mut My, s: &mut String) -> Option<()> {
    m.int("Response Code", 1, |_| "ERR (0xff)".into())?;
    let code = m.int("Error Code", 2, |v| v.to_string())?;
    *s = format!("Response Error {code}");
    // Protocol 4.1 puts '#' and a five-character SQL state before the message.
    let state = if m.h.u8(m.p) == Some(b'#') {
        let (at, b) = m.take(6)?;
        let state = String::from_utf8_lossy(&b[1..]).into_owned();
        m.h.field("SQL state", at, 6, state.clone());
        format!(" ({state})")
    } else {
        String::new()
    };
    let msg = m.rest_text("Error message");
    *s = format!("Response Error {code}{state}: {msg}");
    Some(())
}

fn mysql_result_set(m: &mut My, len: usize, reply: &mut Reply) -> String {
    // A column count is one length-encoded integer filling the packet.
    let count = m.peek_lenenc().filter(|&(v, size)| v.is_some() && size == len).and_then(|(v, _)| v);
    match (*reply, count) {
        (Reply::Start, Some(_)) => {
            let n = m.lenenc("Number of fields").unwrap_or(0);
            *reply = Reply::Columns(n);
            format!("Response, {n} field{}", if n == 1 { "" } else { "s" })
        }
        // Mid-reply at the segment's start: a definition begins with the catalog "def".
        (Reply::Columns(_), _) | (Reply::Start, None) if m.h.bytes(m.p, 4) == Some(&b"\x03def"[..]) => {
            if let Reply::Columns(n) = *reply {
                *reply = Reply::Columns(n.saturating_sub(1));
            } else {
                *reply = Reply::Columns(0);
            }
            let mut s = "Field".to_string();
            let _ = mysql_column(m, &mut s);
            s
        }
        _ => {
            *reply = Reply::Rows;
            let mut values = Vec::new();
            while m.p < m.lim {
                let Some(v) = m.lenenc_str("Text") else { break };
                values.push(v);
            }
            format!("Row: {}", values.join(", "))
        }
    }
}

fn mysql_column(m: &mut My, s: &mut String) -> Option<()> {
    m.lenenc_str("Catalog")?;
    m.lenenc_str("Database")?;
    let table = m.lenenc_str("Table")?;
    m.lenenc_str("Original table")?;
    let name = m.lenenc_str("Name")?;
    *s = format!("Field {table}.{name}");
    m.lenenc_str("Original name")?;
    m.lenenc("Length of fixed fields")?;
    m.int("Charset number", 2, mysql_charset)?;
    m.int("Length", 4, |v| v.to_string())?;
    m.int("Type", 1, mysql_type_name)?;
    m.int("Flags", 2, hex16)?;
    m.int("Decimals", 1, |v| v.to_string())?;
    Some(())
}

#[cfg(test)]
mod tests;
