//! A frame layer by layer, every field named with the bytes it came from: what the GUI's
//! inspector shows (Wireshark's middle pane). Reads by hand-indexing so each field knows its
//! byte range; never panics, whatever the bytes: a layer cut short ends in a "Malformed" layer.

use std::net::Ipv4Addr;
use std::ops::Range;

use super::vxlan;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
    /// Byte offsets within the whole outer frame.
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// "Ethernet II", "802.1Q", "ARP", "IPv4", "ICMP", "UDP", "TCP", "VXLAN", "DNS", "HTTP", "MySQL".
    pub name: String,
    /// One line, as Wireshark's tree header.
    pub summary: String,
    pub range: Range<usize>,
    pub fields: Vec<Field>,
    /// 0 for the outer frame, 1 for the frame inside VXLAN (or quoted by ICMP), …
    pub depth: u8,
}

/// The layers of one Ethernet frame (without FCS).
pub fn dissect(frame: &[u8]) -> Vec<Layer> {
    let mut out = Vec::new();
    ethernet(frame, 0, 0, &mut out);
    out
}

/// `0000  02 42 0a 00 00 02 02 42  0a 00 00 05 08 00 45 00   .B.....B......E.`
pub fn hex_dump(frame: &[u8]) -> Vec<String> {
    frame
        .chunks(16)
        .enumerate()
        .map(|(i, c)| {
            let mut hex = String::new();
            for (j, b) in c.iter().enumerate() {
                hex.push_str(&format!("{b:02x}"));
                hex.push(' ');
                if j == 7 {
                    hex.push(' ');
                }
            }
            let ascii: String =
                c.iter().map(|b| if b.is_ascii_graphic() || *b == b' ' { *b as char } else { '.' }).collect();
            format!("{:04x}  {hex:<50} {ascii}", i * 16)
        })
        .collect()
}

/// A layer being built over `buf[start..]`, whose offsets are shifted by `base` into the frame.
struct Builder<'a> {
    buf: &'a [u8],
    base: usize,
    start: usize,
    layer: Layer,
}

impl<'a> Builder<'a> {
    fn new(buf: &'a [u8], base: usize, start: usize, name: &str, depth: u8) -> Self {
        Builder {
            buf,
            base,
            start,
            layer: Layer {
                name: name.into(),
                summary: name.into(),
                range: base + start..base + start,
                fields: vec![],
                depth,
            },
        }
    }
    fn bytes(&self, off: usize, len: usize) -> Option<&'a [u8]> {
        self.buf.get(self.start + off..self.start + off + len)
    }
    fn u8(&self, off: usize) -> Option<u8> {
        self.bytes(off, 1).map(|b| b[0])
    }
    fn u16(&self, off: usize) -> Option<u16> {
        self.bytes(off, 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&self, off: usize) -> Option<u32> {
        self.bytes(off, 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn ip(&self, off: usize) -> Option<Ipv4Addr> {
        self.bytes(off, 4).map(|b| Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }
    fn mac(&self, off: usize) -> Option<String> {
        self.bytes(off, 6).map(|b| b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":"))
    }
    fn field(&mut self, name: &str, off: usize, len: usize, value: impl Into<String>) {
        let a = self.base + self.start + off;
        self.layer.fields.push(Field { name: name.into(), value: value.into(), range: a..a + len });
    }
    fn finish(mut self, len: usize, summary: String, out: &mut Vec<Layer>) {
        let end = (self.start + len).min(self.buf.len());
        self.layer.range = self.base + self.start..self.base + end;
        self.layer.summary = summary;
        out.push(self.layer);
    }
}

fn malformed(base: usize, at: usize, end: usize, what: &str, depth: u8, out: &mut Vec<Layer>) {
    out.push(Layer {
        name: "Malformed".into(),
        summary: format!("[Malformed: {what} cut short]"),
        range: base + at..base + end.max(at),
        fields: vec![],
        depth,
    });
}

fn ethertype_name(t: u16) -> &'static str {
    match t {
        0x0800 => "IPv4",
        0x0806 => "ARP",
        0x8100 => "802.1Q",
        0x86dd => "IPv6",
        _ => "unknown",
    }
}

/// Ethernet at `buf[0..]`, the frame's byte `base`.
fn ethernet(buf: &[u8], base: usize, depth: u8, out: &mut Vec<Layer>) {
    let mut b = Builder::new(buf, base, 0, "Ethernet II", depth);
    let (Some(dst), Some(src), Some(mut ty)) = (b.mac(0), b.mac(6), b.u16(12)) else {
        return malformed(base, 0, buf.len(), "Ethernet header", depth, out);
    };
    b.field("Destination", 0, 6, dst.clone());
    b.field("Source", 6, 6, src.clone());
    b.field("Type", 12, 2, format!("{} (0x{ty:04x})", ethertype_name(ty)));
    b.finish(14, format!("Ethernet II, Src: {src}, Dst: {dst}"), out);
    let mut off = 14;
    while ty == 0x8100 {
        let mut v = Builder::new(buf, base, off, "802.1Q", depth);
        let (Some(tci), Some(inner)) = (v.u16(0), v.u16(2)) else {
            return malformed(base, off, buf.len(), "802.1Q tag", depth, out);
        };
        v.field("Priority", 0, 2, format!("{}", tci >> 13));
        v.field("DEI", 0, 2, format!("{}", (tci >> 12) & 1));
        v.field("ID", 0, 2, format!("{}", tci & 0x0fff));
        v.field("Type", 2, 2, format!("{} (0x{inner:04x})", ethertype_name(inner)));
        v.finish(
            4,
            format!("802.1Q Virtual LAN, PRI: {}, DEI: {}, ID: {}", tci >> 13, (tci >> 12) & 1, tci & 0xfff),
            out,
        );
        ty = inner;
        off += 4;
    }
    match ty {
        0x0806 => arp(buf, base, off, depth, out),
        0x0800 => ipv4(buf, base, off, depth, out),
        _ => {}
    }
}

fn arp(buf: &[u8], base: usize, off: usize, depth: u8, out: &mut Vec<Layer>) {
    let mut b = Builder::new(buf, base, off, "ARP", depth);
    let (Some(htype), Some(ptype), Some(hlen), Some(plen), Some(op), Some(smac), Some(sip), Some(tmac), Some(tip)) =
        (b.u16(0), b.u16(2), b.u8(4), b.u8(5), b.u16(6), b.mac(8), b.ip(14), b.mac(18), b.ip(24))
    else {
        return malformed(base, off, buf.len(), "ARP", depth, out);
    };
    let opname = match op {
        1 => "request",
        2 => "reply",
        _ => "unknown",
    };
    b.field("Hardware type", 0, 2, if htype == 1 { "Ethernet (1)".into() } else { htype.to_string() });
    b.field("Protocol type", 2, 2, format!("{} (0x{ptype:04x})", ethertype_name(ptype)));
    b.field("Hardware size", 4, 1, hlen.to_string());
    b.field("Protocol size", 5, 1, plen.to_string());
    b.field("Opcode", 6, 2, format!("{opname} ({op})"));
    b.field("Sender MAC address", 8, 6, smac);
    b.field("Sender IP address", 14, 4, sip.to_string());
    b.field("Target MAC address", 18, 6, tmac);
    b.field("Target IP address", 24, 4, tip.to_string());
    b.finish(28, format!("Address Resolution Protocol ({opname})"), out);
}

fn proto_name(p: u8) -> &'static str {
    match p {
        1 => "ICMP",
        6 => "TCP",
        17 => "UDP",
        _ => "unknown",
    }
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn ipv4(buf: &[u8], base: usize, off: usize, depth: u8, out: &mut Vec<Layer>) {
    let mut b = Builder::new(buf, base, off, "IPv4", depth);
    let (
        Some(vihl),
        Some(tos),
        Some(total),
        Some(id),
        Some(frag),
        Some(ttl),
        Some(proto),
        Some(csum),
        Some(src),
        Some(dst),
    ) = (b.u8(0), b.u8(1), b.u16(2), b.u16(4), b.u16(6), b.u8(8), b.u8(9), b.u16(10), b.ip(12), b.ip(16))
    else {
        return malformed(base, off, buf.len(), "IPv4 header", depth, out);
    };
    let ihl = usize::from(vihl & 0x0f) * 4;
    b.field("Version", 0, 1, (vihl >> 4).to_string());
    b.field("Header Length", 0, 1, format!("{ihl} bytes ({})", vihl & 0x0f));
    b.field("Differentiated Services Field", 1, 1, format!("0x{tos:02x} (DSCP: {}, ECN: {})", tos >> 2, tos & 3));
    b.field("Total Length", 2, 2, total.to_string());
    b.field("Identification", 4, 2, format!("0x{id:04x} ({id})"));
    let flags: Vec<&str> = [(0x4000, "Don't fragment"), (0x2000, "More fragments")]
        .iter()
        .filter(|(m, _)| frag & m != 0)
        .map(|(_, n)| *n)
        .collect();
    b.field(
        "Flags",
        6,
        2,
        format!(
            "0x{:x}{}",
            frag >> 13,
            if flags.is_empty() { String::new() } else { format!(", {}", flags.join(", ")) }
        ),
    );
    b.field("Fragment Offset", 6, 2, ((frag & 0x1fff) * 8).to_string());
    b.field("Time to Live", 8, 1, ttl.to_string());
    b.field("Protocol", 9, 1, format!("{} ({proto})", proto_name(proto)));
    let status = match b.bytes(0, ihl) {
        Some(h) if ihl >= 20 => {
            if checksum(h) == 0 {
                "correct"
            } else {
                "incorrect"
            }
        }
        _ => "unverified",
    };
    b.field("Header Checksum", 10, 2, format!("0x{csum:04x} [{status}]"));
    b.field("Source Address", 12, 4, src.to_string());
    b.field("Destination Address", 16, 4, dst.to_string());
    if ihl < 20 || buf.len() < off + ihl {
        b.finish(20, format!("Internet Protocol Version 4, Src: {src}, Dst: {dst}"), out);
        return malformed(base, off + 20, buf.len(), "IPv4 options", depth, out);
    }
    // A quoted header in an ICMP error may be cut after 8 bytes of payload: read what is there.
    let end = (off + usize::from(total)).min(buf.len()).max(off + ihl);
    b.finish(end - off, format!("Internet Protocol Version 4, Src: {src}, Dst: {dst}"), out);
    if frag & 0x1fff != 0 {
        return;
    }
    let l4 = off + ihl;
    let inner = &buf[..end];
    match proto {
        1 => icmp(inner, base, l4, depth, out),
        6 => tcp(inner, base, l4, depth, out),
        17 => udp(inner, base, l4, depth, out),
        _ => {}
    }
}

fn icmp(buf: &[u8], base: usize, off: usize, depth: u8, out: &mut Vec<Layer>) {
    let mut b = Builder::new(buf, base, off, "ICMP", depth);
    let (Some(ty), Some(code), Some(csum)) = (b.u8(0), b.u8(1), b.u16(2)) else {
        return malformed(base, off, buf.len(), "ICMP header", depth, out);
    };
    let tname = match ty {
        0 => "Echo (ping) reply",
        3 => "Destination unreachable",
        8 => "Echo (ping) request",
        11 => "Time-to-live exceeded",
        _ => "unknown",
    };
    let cname = match (ty, code) {
        (3, 0) => " (Network unreachable)",
        (3, 1) => " (Host unreachable)",
        (3, 3) => " (Port unreachable)",
        (3, 4) => " (Fragmentation needed)",
        (11, 0) => " (Time to live exceeded in transit)",
        _ => "",
    };
    b.field("Type", 0, 1, format!("{ty} ({tname})"));
    b.field("Code", 1, 1, format!("{code}{cname}"));
    let ok = buf.get(off..).map(|d| checksum(d) == 0).unwrap_or(false);
    b.field("Checksum", 2, 2, format!("0x{csum:04x} [{}]", if ok { "correct" } else { "incorrect" }));
    let mut summary = format!("Internet Control Message Protocol, {tname}");
    if matches!(ty, 0 | 8)
        && let (Some(id), Some(seq)) = (b.u16(4), b.u16(6))
    {
        b.field("Identifier", 4, 2, format!("0x{id:04x} ({id})"));
        b.field("Sequence Number", 6, 2, seq.to_string());
        summary = format!("{summary}, id=0x{id:04x}, seq={seq}");
    }
    if ty == 3
        && code == 4
        && let Some(mtu) = b.u16(6)
    {
        b.field("MTU of next hop", 6, 2, mtu.to_string());
    }
    b.finish(buf.len().saturating_sub(off), summary, out);
    // An error quotes the packet that caused it.
    if matches!(ty, 3 | 11) && buf.len() > off + 8 {
        ipv4(buf, base, off + 8, depth + 1, out);
    }
}

fn udp(buf: &[u8], base: usize, off: usize, depth: u8, out: &mut Vec<Layer>) {
    let mut b = Builder::new(buf, base, off, "UDP", depth);
    let (Some(sp), Some(dp)) = (b.u16(0), b.u16(2)) else {
        return malformed(base, off, buf.len(), "UDP header", depth, out);
    };
    b.field("Source Port", 0, 2, sp.to_string());
    b.field("Destination Port", 2, 2, dp.to_string());
    let (Some(len), Some(csum)) = (b.u16(4), b.u16(6)) else {
        // An ICMP error quotes only the ports and length.
        b.finish(buf.len() - off, format!("User Datagram Protocol, Src Port: {sp}, Dst Port: {dp}"), out);
        return;
    };
    b.field("Length", 4, 2, len.to_string());
    b.field("Checksum", 6, 2, format!("0x{csum:04x}"));
    b.finish(8, format!("User Datagram Protocol, Src Port: {sp}, Dst Port: {dp}"), out);
    let payload = off + 8;
    if payload >= buf.len() {
        return;
    }
    if dp == vxlan::PORT {
        vxlan_layer(buf, base, payload, depth, out);
    } else if sp == 53 || dp == 53 || looks_like_dns(&buf[payload..]) {
        // Docker's embedded DNS listens on a random port behind 127.0.0.11:53's DNAT.
        dns(buf, base, payload, depth, out);
    }
}

fn looks_like_dns(data: &[u8]) -> bool {
    simple_dns::Packet::parse(data).is_ok_and(|p| p.questions.len() == 1)
}

fn vxlan_layer(buf: &[u8], base: usize, off: usize, depth: u8, out: &mut Vec<Layer>) {
    let mut b = Builder::new(buf, base, off, "VXLAN", depth);
    let (Some(flags), Some(vni)) = (b.u8(0), b.u32(4)) else {
        return malformed(base, off, buf.len(), "VXLAN header", depth, out);
    };
    let vni = vni >> 8;
    b.field("Flags", 0, 1, format!("0x{flags:02x}{}", if flags & 0x08 != 0 { " (VNI valid)" } else { "" }));
    b.field("VXLAN Network Identifier (VNI)", 4, 3, vni.to_string());
    b.finish(8, format!("Virtual eXtensible Local Area Network, VNI: {vni}"), out);
    ethernet(&buf[off + 8..], base + off + 8, depth + 1, out);
}

fn tcp(buf: &[u8], base: usize, off: usize, depth: u8, out: &mut Vec<Layer>) {
    let mut b = Builder::new(buf, base, off, "TCP", depth);
    let (Some(sp), Some(dp)) = (b.u16(0), b.u16(2)) else {
        return malformed(base, off, buf.len(), "TCP header", depth, out);
    };
    b.field("Source Port", 0, 2, sp.to_string());
    b.field("Destination Port", 2, 2, dp.to_string());
    let Some(seq) = b.u32(4) else {
        b.finish(buf.len() - off, format!("Transmission Control Protocol, Src Port: {sp}, Dst Port: {dp}"), out);
        return;
    };
    b.field("Sequence Number (raw)", 4, 4, seq.to_string());
    let (Some(ack), Some(hl), Some(flags), Some(win), Some(csum), Some(urg)) =
        (b.u32(8), b.u8(12), b.u8(13), b.u16(14), b.u16(16), b.u16(18))
    else {
        b.finish(
            buf.len() - off,
            format!("Transmission Control Protocol, Src Port: {sp}, Dst Port: {dp}, Seq: {seq}"),
            out,
        );
        return;
    };
    let hlen = usize::from(hl >> 4) * 4;
    b.field("Acknowledgment Number (raw)", 8, 4, ack.to_string());
    b.field("Header Length", 12, 1, format!("{hlen} bytes ({})", hl >> 4));
    let names: Vec<&str> = [(0x20, "URG"), (0x10, "ACK"), (0x08, "PSH"), (0x04, "RST"), (0x02, "SYN"), (0x01, "FIN")]
        .iter()
        .filter(|(m, _)| flags & m != 0)
        .map(|(_, n)| *n)
        .collect();
    b.field("Flags", 12, 2, format!("0x{:03x} ({})", u16::from(hl & 0x0f) << 8 | u16::from(flags), names.join(", ")));
    b.field("Window", 14, 2, win.to_string());
    b.field("Checksum", 16, 2, format!("0x{csum:04x}"));
    b.field("Urgent Pointer", 18, 2, urg.to_string());
    if hlen < 20 || buf.len() < off + hlen {
        b.finish(20, format!("Transmission Control Protocol, Src Port: {sp}, Dst Port: {dp}"), out);
        return malformed(base, off + 20, buf.len(), "TCP options", depth, out);
    }
    let mut o = 20;
    while o < hlen {
        let kind = b.u8(o).unwrap_or(0);
        let len = if kind <= 1 { 1 } else { usize::from(b.u8(o + 1).unwrap_or(2)).max(2) };
        let (name, value) = match kind {
            0 => ("End of Option List", String::new()),
            1 => ("No-Operation (NOP)", String::new()),
            2 => ("Maximum segment size", b.u16(o + 2).map(|v| format!("{v} bytes")).unwrap_or_default()),
            3 => (
                "Window scale",
                b.u8(o + 2).map(|v| format!("{v} (multiply by {})", 1u32 << v.min(14))).unwrap_or_default(),
            ),
            4 => ("SACK permitted", String::new()),
            8 => (
                "Timestamps",
                match (b.u32(o + 2), b.u32(o + 6)) {
                    (Some(a), Some(e)) => format!("TSval {a}, TSecr {e}"),
                    _ => String::new(),
                },
            ),
            _ => ("Option", format!("kind {kind}")),
        };
        b.field(&format!("Option: {name}"), o, len.min(hlen - o), value);
        if kind == 0 {
            break;
        }
        o += len;
    }
    let payload = off + hlen;
    let plen = buf.len().saturating_sub(payload);
    b.finish(
        hlen,
        format!("Transmission Control Protocol, Src Port: {sp}, Dst Port: {dp}, Seq: {seq}, Len: {plen}"),
        out,
    );
    if plen == 0 {
        return;
    }
    if sp == 3306 || dp == 3306 {
        mysql(buf, base, payload, depth, sp == 3306, out);
    } else if sp == 53 || dp == 53 {
        // DNS over TCP: a two-byte length first.
        if buf.len() > payload + 2 {
            dns(buf, base, payload + 2, depth, out);
        }
    } else {
        http(buf, base, payload, depth, out);
    }
}

fn dns(buf: &[u8], base: usize, off: usize, depth: u8, out: &mut Vec<Layer>) {
    let data = &buf[off..];
    let mut b = Builder::new(buf, base, off, "DNS", depth);
    let Ok(p) = simple_dns::Packet::parse(data) else {
        return malformed(base, off, buf.len(), "DNS message", depth, out);
    };
    let (Some(id), Some(flags)) = (b.u16(0), b.u16(2)) else { return };
    let response = flags & 0x8000 != 0;
    b.field("Transaction ID", 0, 2, format!("0x{id:04x}"));
    let rcode = match flags & 0x000f {
        0 => "No error",
        1 => "Format error",
        2 => "Server failure",
        3 => "No such name",
        5 => "Refused",
        _ => "other",
    };
    let mut f = vec![if response { "Response" } else { "Query" }.to_string()];
    f.push(format!("opcode {}", (flags >> 11) & 0xf));
    for (m, n) in [(0x0400, "AA"), (0x0200, "TC"), (0x0100, "RD"), (0x0080, "RA")] {
        if flags & m != 0 {
            f.push(n.into());
        }
    }
    if response {
        f.push(format!("rcode: {rcode}"));
    }
    b.field("Flags", 2, 2, format!("0x{flags:04x} ({})", f.join(", ")));
    b.field("Questions", 4, 2, p.questions.len().to_string());
    b.field("Answer RRs", 6, 2, p.answers.len().to_string());
    b.field("Authority RRs", 8, 2, p.name_servers.len().to_string());
    b.field("Additional RRs", 10, 2, p.additional_records.len().to_string());
    let body = 12..data.len();
    let mut names = Vec::new();
    for q in &p.questions {
        names.push(q.qname.to_string());
        b.field("Query", body.start, body.len(), format!("{}: type {:?}, class {:?}", q.qname, q.qtype, q.qclass));
    }
    for a in &p.answers {
        let rdata = match &a.rdata {
            simple_dns::rdata::RData::A(x) => format!("addr {}", Ipv4Addr::from(x.address)),
            other => format!("{:?}", other.type_code()),
        };
        b.field("Answer", body.start, body.len(), format!("{}: class {:?}, ttl {}, {rdata}", a.name, a.class, a.ttl));
    }
    let what = if response { "response" } else { "query" };
    b.finish(data.len(), format!("Domain Name System ({what}) 0x{id:04x} {}", names.join(" ")), out);
}

fn http(buf: &[u8], base: usize, off: usize, depth: u8, out: &mut Vec<Layer>) {
    let data = &buf[off..];
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut b = Builder::new(buf, base, off, "HTTP", depth);
    let first_line = data.iter().position(|&c| c == b'\r').unwrap_or(data.len());
    let (head_len, summary) = if data.starts_with(b"HTTP/1.") {
        let mut r = httparse::Response::new(&mut headers);
        match r.parse(data) {
            Ok(s) => {
                let n = if let httparse::Status::Complete(n) = s { n } else { data.len() };
                let line =
                    format!("HTTP/1.{} {} {}", r.version.unwrap_or(1), r.code.unwrap_or(0), r.reason.unwrap_or(""));
                b.field("Status line", 0, first_line, line.clone());
                push_headers(&mut b, data, r.headers);
                (n, line)
            }
            Err(_) => return,
        }
    } else {
        let mut r = httparse::Request::new(&mut headers);
        match r.parse(data) {
            Ok(s) if r.method.is_some() => {
                let n = if let httparse::Status::Complete(n) = s { n } else { data.len() };
                let line =
                    format!("{} {} HTTP/1.{}", r.method.unwrap_or(""), r.path.unwrap_or(""), r.version.unwrap_or(1));
                b.field("Request line", 0, first_line, line.clone());
                push_headers(&mut b, data, r.headers);
                (n, line)
            }
            _ => return,
        }
    };
    if data.len() > head_len {
        b.field("Body", head_len, data.len() - head_len, format!("{} bytes", data.len() - head_len));
    }
    b.finish(data.len(), format!("Hypertext Transfer Protocol: {summary}"), out);
}

fn push_headers(b: &mut Builder<'_>, data: &[u8], headers: &[httparse::Header<'_>]) {
    for h in headers.iter().filter(|h| !h.name.is_empty()) {
        // httparse hands out slices of `data`: their offset is the header's place.
        let at = (h.name.as_ptr() as usize).saturating_sub(data.as_ptr() as usize).min(data.len());
        let len = (h.value.as_ptr() as usize + h.value.len()).saturating_sub(h.name.as_ptr() as usize);
        b.field(h.name, at, len.min(data.len() - at), String::from_utf8_lossy(h.value).into_owned());
    }
}

/// MySQL packets (3-byte length, sequence id, payload) in one TCP segment.
fn mysql(buf: &[u8], base: usize, off: usize, depth: u8, from_server: bool, out: &mut Vec<Layer>) {
    let mut b = Builder::new(buf, base, off, "MySQL", depth);
    let data = &buf[off..];
    let mut at = 0;
    let mut summaries = Vec::new();
    while at + 4 <= data.len() {
        let len = usize::from(data[at]) | usize::from(data[at + 1]) << 8 | usize::from(data[at + 2]) << 16;
        let seq = data[at + 3];
        let body = &data[at + 4..(at + 4 + len).min(data.len())];
        let what = mysql_packet(body, seq, from_server);
        b.field("Packet Length", at, 3, len.to_string());
        b.field("Packet Number", at + 3, 1, seq.to_string());
        b.field("Payload", at + 4, body.len(), what.clone());
        summaries.push(what);
        at += 4 + len;
    }
    let summary = format!("MySQL Protocol: {}", summaries.join("; "));
    b.finish(data.len(), summary, out);
}

fn cstr(b: &[u8]) -> (String, usize) {
    let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    (String::from_utf8_lossy(&b[..n]).into_owned(), n + 1)
}

fn mysql_packet(body: &[u8], seq: u8, from_server: bool) -> String {
    let Some(&first) = body.first() else { return "empty".into() };
    if from_server {
        match first {
            0x0a if seq == 0 => {
                let (version, n) = cstr(&body[1..]);
                let id = body.get(1 + n..5 + n).map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]])).unwrap_or(0);
                format!("Server Greeting: protocol 10, version {version}, connection id {id}")
            }
            0x00 => format!("OK, affected rows {}", body.get(1).copied().unwrap_or(0)),
            0xff => {
                let code = body.get(1..3).map(|x| u16::from_le_bytes([x[0], x[1]])).unwrap_or(0);
                let (state, msg) = if body.get(3) == Some(&b'#') {
                    (String::from_utf8_lossy(body.get(4..9).unwrap_or(&[])).into_owned(), body.get(9..).unwrap_or(&[]))
                } else {
                    (String::new(), body.get(3..).unwrap_or(&[]))
                };
                format!("Error {code} ({state}): {}", String::from_utf8_lossy(msg))
            }
            0xfe if body.len() < 9 => "EOF".into(),
            _ => format!("Response, {} bytes", body.len()),
        }
    } else if seq == 1 && body.len() > 32 {
        let (user, n) = cstr(&body[32..]);
        let mut s = format!("Login Request: user {user}");
        // The auth response (length-prefixed), then the database if CLIENT_CONNECT_WITH_DB.
        if let Some(&alen) = body.get(32 + n) {
            let db_at = 32 + n + 1 + usize::from(alen);
            if let Some(rest) = body.get(db_at..).filter(|r| !r.is_empty()) {
                let (db, _) = cstr(rest);
                if !db.is_empty() {
                    s.push_str(&format!(", schema {db}"));
                }
            }
        }
        s
    } else {
        match first {
            0x01 => "Command: Quit".into(),
            0x02 => format!("Command: Use Database {}", String::from_utf8_lossy(&body[1..])),
            0x03 => format!("Command: Query {}", String::from_utf8_lossy(&body[1..])),
            _ => format!("Request, {} bytes", body.len()),
        }
    }
}

#[cfg(test)]
mod tests;
