//! DNS messages for Docker's embedded DNS server (127.0.0.11) and its clients.
//!
//! Wire encoding and decoding is done by `simple-dns`. The embedded server's behaviour follows
//! moby `libnetwork/resolver.go` (`serveDNS`, `handleIPQuery`, `handleMXQuery`,
//! `handlePTRQuery`, `createRespMsg`) and miekg/dns `Msg.SetReply` / `Msg.SetRcode`, which it
//! calls.

use std::net::Ipv4Addr;

use simple_dns::rdata::{A, PTR, RData};
use simple_dns::{CLASS, Name, OPCODE, Packet, PacketFlag, QCLASS, QTYPE, Question, RCODE, ResourceRecord, TYPE};

/// TTL of every record the embedded server answers from its own data (`respTTL` in resolver.go).
pub const EMBEDDED_TTL: u32 = 600;
/// Query type numbers used here.
pub const QTYPE_A: u16 = 1;
pub const QTYPE_PTR: u16 = 12;
pub const QTYPE_MX: u16 = 15;
pub const QTYPE_AAAA: u16 = 28;
/// Response codes.
pub const RCODE_NOERROR: u8 = 0;
pub const RCODE_SERVFAIL: u8 = 2;
pub const RCODE_NXDOMAIN: u8 = 3;
/// Largest UDP reply without EDNS (`dns.MinMsgSize`).
const MIN_UDP_SIZE: usize = 512;

/// One A record of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Owner name, fully qualified with a trailing dot, case as on the wire (e.g. `mysql.`).
    pub name: String,
    pub addr: Ipv4Addr,
    pub ttl: u32,
}

/// One PTR record of a response: `owner` names `target` (both without the trailing dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtrAnswer {
    pub owner: String,
    pub target: String,
}

/// The parts of a response a client looks at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedResponse {
    pub id: u16,
    /// 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN.
    pub rcode: u8,
    /// The AA bit: nslookup says "Non-authoritative answer:" when it is clear.
    pub authoritative: bool,
    /// A records of the answer section, in wire order.
    pub answers: Vec<Answer>,
    /// PTR records of the answer section, in wire order (other record types are skipped).
    pub ptrs: Vec<PtrAnswer>,
}

/// The parts of a query a server looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedQuery {
    pub id: u16,
    /// Name of the first question, fully qualified with a trailing dot, case as on the wire.
    pub name: String,
    pub qtype: u16,
}

/// Text form of a wire name with a trailing dot (`.` for the root).
fn fqdn(name: &Name<'_>) -> String {
    format!("{name}.")
}

/// A standard query (opcode QUERY, RD set, class IN) for `name` with type `qtype`.
///
/// `Err` if `name` cannot be a query name: a label over 63 octets, an empty label, or a name
/// over 255 octets on the wire (RFC 1035 §2.3.4, §3.1). glibc refuses such a name before
/// sending anything, and getaddrinfo(3) answers "Name or service not known" (see
/// docs/linux-model.md, *Names the resolver refuses*).
pub fn build_query_type(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, String> {
    check_name(name)?;
    let mut packet = Packet::new_query(id);
    packet.set_flags(PacketFlag::RECURSION_DESIRED);
    let qname = Name::new(name).map_err(|e| format!("{name:?}: {e}"))?;
    let qtype = QTYPE::try_from(qtype).map_err(|e| format!("query type {qtype}: {e}"))?;
    packet.questions.push(Question::new(qname, qtype, QCLASS::CLASS(CLASS::IN), false));
    packet.build_bytes_vec().map_err(|e| format!("{name:?}: {e}"))
}

/// Whether `name` fits in a query: labels of 1 to 63 octets, at most 255 on the wire.
pub fn check_name(name: &str) -> Result<(), String> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return Ok(());
    }
    let mut wire = 1; // the root's zero octet
    for label in trimmed.split('.') {
        match label.len() {
            0 => return Err(format!("{name:?}: empty label")),
            n if n > 63 => return Err(format!("{name:?}: a label of {n} octets (at most 63)")),
            n => wire += n + 1,
        }
    }
    if wire > 255 {
        return Err(format!("{name:?}: {wire} octets on the wire (at most 255)"));
    }
    Ok(())
}

/// A standard query for `name`, type A, class IN, recursion desired, with `id`; `Err` as
/// `build_query_type`.
pub fn build_query(id: u16, name: &str) -> Result<Vec<u8>, String> {
    build_query_type(id, name, QTYPE_A)
}

/// Decodes a response; `Err` if the bytes are not a DNS message or the QR bit is clear.
pub fn parse_response(bytes: &[u8]) -> Result<ParsedResponse, String> {
    let packet = Packet::parse(bytes).map_err(|e| format!("malformed DNS message: {e}"))?;
    if !packet.has_flags(PacketFlag::RESPONSE) {
        return Err("DNS message is a query, not a response".to_string());
    }
    let mut answers = Vec::new();
    let mut ptrs = Vec::new();
    for rr in &packet.answers {
        match &rr.rdata {
            RData::A(a) => answers.push(Answer { name: fqdn(&rr.name), addr: Ipv4Addr::from(a.address), ttl: rr.ttl }),
            RData::PTR(p) => ptrs.push(PtrAnswer { owner: rr.name.to_string(), target: p.0.to_string() }),
            _ => {}
        }
    }
    // simple-dns folds unassigned codes into `Reserved`; the low four bits are in the header.
    let rcode = match packet.rcode() {
        RCODE::Reserved => bytes[3] & 0x0f,
        r => r as u8,
    };
    let authoritative = packet.has_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    Ok(ParsedResponse { id: packet.id(), rcode, authoritative, answers, ptrs })
}

/// Decodes a query; `Err` if the bytes are not a DNS message, the QR bit is set, or there is no
/// question. Only the first question is reported.
pub fn parse_query(bytes: &[u8]) -> Result<ParsedQuery, String> {
    let packet = Packet::parse(bytes).map_err(|e| format!("malformed DNS message: {e}"))?;
    if packet.has_flags(PacketFlag::RESPONSE) {
        return Err("DNS message is a response, not a query".to_string());
    }
    let q = packet.questions.first().ok_or("DNS query has no question")?;
    Ok(ParsedQuery { id: packet.id(), name: fqdn(&q.qname), qtype: q.qtype.into() })
}

/// miekg/dns `SetReply`: id and opcode copied, RD and CD copied for QUERY, QR set, NOERROR,
/// first question echoed. AA, TC, RA clear.
fn set_reply<'a>(query: &Packet<'a>) -> Packet<'a> {
    let mut resp = Packet::new_reply(query.id());
    *resp.opcode_mut() = query.opcode();
    if query.opcode() == OPCODE::StandardQuery {
        for flag in [PacketFlag::RECURSION_DESIRED, PacketFlag::CHECKING_DISABLED] {
            if query.has_flags(flag) {
                resp.set_flags(flag);
            }
        }
    }
    resp.questions.extend(query.questions.first().cloned());
    resp
}

/// RCODE names as busybox's nslookup, BIND's nslookup and dig print them (busybox's
/// `rcodes` table; BIND's `rcodetext`).
pub fn rcode_text(rcode: u8) -> String {
    const NAMES: [&str; 11] = [
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
        "NOTZONE",
    ];
    NAMES.get(usize::from(rcode)).map_or_else(|| rcode.to_string(), |s| (*s).to_string())
}

/// A query type as the hop log names it (`A`, `AAAA`, `PTR`, …, or its number).
pub fn qtype_text(qtype: u16) -> String {
    match QTYPE::try_from(qtype) {
        Ok(QTYPE::TYPE(t)) => format!("{t:?}"),
        _ => qtype.to_string(),
    }
}

/// The IPv4 address a reverse name stands for: `4.3.2.1.in-addr.arpa` is 1.2.3.4 (RFC 1035
/// §3.5). Case and a trailing dot do not matter.
pub fn ptr_addr(name: &str) -> Option<Ipv4Addr> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let head = name.len().checked_sub(".in-addr.arpa".len()).filter(|&i| name.is_char_boundary(i))?;
    if !name[head..].eq_ignore_ascii_case(".in-addr.arpa") {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut parts = name[..head].split('.');
    for o in octets.iter_mut().rev() {
        let p = parts.next()?;
        // inet_pton's digits: no sign, no leading zero but "0" itself.
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) || (p.len() > 1 && p.starts_with('0'))
        {
            return None;
        }
        *o = p.parse().ok()?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

/// The reverse name of `ip`, as nslookup and getnameinfo ask it.
pub fn ptr_name(ip: Ipv4Addr) -> String {
    let [a, b, c, d] = ip.octets();
    format!("{d}.{c}.{b}.{a}.in-addr.arpa")
}

/// What a sandbox's embedded DNS knows: its names, and the reverse names of its containers.
pub trait Sandbox {
    /// The container addresses `name` answers with (lower-cased, no trailing dot), in
    /// answer order (the caller shuffles, as Docker does for several), or `None` when the
    /// sandbox does not know the name.
    fn addrs(&self, name: &str) -> Option<Vec<Ipv4Addr>>;
    /// What a PTR query for `ip` answers: `<container>.<network>` (`network.ResolveIP` in
    /// libnetwork `network.go`), or `None`.
    fn ptr(&self, ip: Ipv4Addr) -> Option<String>;
}

/// A sandbox that knows names only (tests and fuzzing).
impl<F: Fn(&str) -> Option<Vec<Ipv4Addr>>> Sandbox for F {
    fn addrs(&self, name: &str) -> Option<Vec<Ipv4Addr>> {
        self(name)
    }
    fn ptr(&self, _: Ipv4Addr) -> Option<String> {
        None
    }
}

/// What the embedded DNS says of a query: answered from the sandbox, or sent upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Served {
    Local,
    Forwarded,
}

impl Served {
    /// The hop log's words for it.
    pub fn explain(self) -> &'static str {
        match self {
            Served::Local => "answered from the sandbox's records",
            Served::Forwarded => "not a name of the sandbox: forwarded upstream, which knows no lab names (NXDOMAIN)",
        }
    }
}

/// What the lab's outside world answers `query` with: a resolver that knows none of the lab's
/// names (the upstream Docker forwards to, the nameserver of a namespace without an
/// embedded DNS): NXDOMAIN, as for a name the embedded server forwards.
pub fn outside_answer(query: &[u8]) -> Option<Vec<u8>> {
    embedded_answer(query, &|_: &str| None).map(|(bytes, _)| bytes)
}

/// What Docker's embedded DNS server (127.0.0.11:53, UDP) replies to `query`, and whether it
/// answered it itself.
///
/// Behaviour (moby `libnetwork/resolver.go`):
/// * **A**, name known with ≥1 address: NOERROR, one A record per address, owner name exactly
///   as the question spelled it, class IN, TTL 600, RA set.
/// * **AAAA** or **MX**, name known: NOERROR with no records, RA set (the simulator has no IPv6,
///   so a known name is always "present without IPv6 address").
/// * **PTR** for the address of a container on one of the sandbox's networks: NOERROR, one
///   PTR record naming `<container>.<network>.`, TTL 600, RA set (`handlePTRQuery`).
/// * Anything else (unknown name, A for a known name with no addresses, a PTR for another
///   address, SRV, TXT, …): Docker forwards it to the host's nameservers and relays their
///   answer. A lab's outside world is a resolver that knows none of the lab's names, so the
///   answer is what such a resolver sends: NXDOMAIN, RD copied, RA set, no records (the
///   authority section a real upstream adds is not modelled; no client here prints it).
/// * The reply echoes the first question; id, opcode, RD and CD are copied; no EDNS OPT record
///   is sent back; names are not compressed (miekg's default for local answers).
/// * A reply over 512 bytes (or the query's EDNS UDP size if larger) loses answers from the end
///   until it fits, and TC is set, as miekg `Msg.Truncate` does.
///
/// Returns `None` (no reply; the client times out) for bytes that are not a DNS message, for a
/// message with QR set, and for a query with no question — the cases where Docker writes
/// nothing or miekg drops the message. Query types `simple-dns` cannot represent (e.g. 65
/// HTTPS) also fail to parse and get `None`.
pub fn embedded_answer(query: &[u8], sandbox: &impl Sandbox) -> Option<(Vec<u8>, Served)> {
    let query = Packet::parse(query).ok()?;
    if query.has_flags(PacketFlag::RESPONSE) {
        return None;
    }
    let question = query.questions.first()?;
    let key = fqdn(&question.qname);
    let key = key.trim_end_matches('.').to_ascii_lowercase();

    let mut resp = set_reply(&query);
    resp.set_flags(PacketFlag::RECURSION_AVAILABLE);
    let served = match question.qtype {
        QTYPE::TYPE(TYPE::A) => match sandbox.addrs(&key) {
            Some(addrs) if !addrs.is_empty() => {
                for addr in addrs {
                    let rdata = RData::A(A { address: u32::from(addr) });
                    resp.answers.push(ResourceRecord::new(question.qname.clone(), CLASS::IN, EMBEDDED_TTL, rdata));
                }
                Served::Local
            }
            _ => Served::Forwarded,
        },
        QTYPE::TYPE(TYPE::AAAA | TYPE::MX) if sandbox.addrs(&key).is_some() => Served::Local,
        QTYPE::TYPE(TYPE::PTR) => match ptr_addr(&key).and_then(|ip| sandbox.ptr(ip)) {
            Some(host) => {
                let target = Name::new(&host).ok()?.into_owned();
                let rdata = RData::PTR(PTR(target));
                resp.answers.push(ResourceRecord::new(question.qname.clone(), CLASS::IN, EMBEDDED_TTL, rdata));
                Served::Local
            }
            None => Served::Forwarded,
        },
        _ => Served::Forwarded,
    };
    if served == Served::Forwarded {
        *resp.rcode_mut() = RCODE::NameError;
    }

    let max = query.opt().map_or(MIN_UDP_SIZE, |opt| usize::from(opt.udp_packet_size).max(MIN_UDP_SIZE));
    let mut bytes = resp.build_bytes_vec().ok()?;
    if bytes.len() > max {
        resp.set_flags(PacketFlag::TRUNCATION);
        while bytes.len() > max && resp.answers.pop().is_some() {
            bytes = resp.build_bytes_vec().ok()?;
        }
    }
    Some((bytes, served))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox(name: &str) -> Option<Vec<Ipv4Addr>> {
        match name {
            "mysql" => Some(vec![Ipv4Addr::new(10, 0, 1, 2)]),
            "web" => Some(vec![Ipv4Addr::new(10, 0, 1, 5), Ipv4Addr::new(10, 0, 1, 3), Ipv4Addr::new(10, 0, 1, 4)]),
            "many" => Some((1..=60).map(|i| Ipv4Addr::new(10, 0, 2, i)).collect()),
            "v6only" => Some(vec![]),
            _ => None,
        }
    }

    fn flags(bytes: &[u8]) -> u16 {
        u16::from_be_bytes([bytes[2], bytes[3]])
    }
    const QR: u16 = 0x8000;
    const AA: u16 = 0x0400;
    const TC: u16 = 0x0200;
    const RD: u16 = 0x0100;
    const RA: u16 = 0x0080;

    #[test]
    fn query_round_trip_and_wire_bytes() {
        let q = build_query(0x1234, "mysql").unwrap();
        // Header: id, flags RD, QDCOUNT 1; question: 5 "mysql" 0, type A, class IN.
        assert_eq!(q, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05mysql\x00\x00\x01\x00\x01".to_vec());
        assert_eq!(build_query(0x1234, "mysql.").unwrap(), q);
        let parsed = parse_query(&q).unwrap();
        assert_eq!(parsed, ParsedQuery { id: 0x1234, name: "mysql.".into(), qtype: QTYPE_A });
        let aaaa = parse_query(&build_query_type(7, "db.example.com", QTYPE_AAAA).unwrap()).unwrap();
        assert_eq!((aaaa.name.as_str(), aaaa.qtype), ("db.example.com.", QTYPE_AAAA));
        assert!(parse_response(&q).is_err(), "a query is not a response");
    }

    #[test]
    fn answer_for_known_name() {
        let q = build_query(42, "mysql").unwrap();
        let (r, served) = embedded_answer(&q, &sandbox).unwrap();
        assert_eq!(served, Served::Local);
        assert_eq!(flags(&r), QR | RD | RA, "NOERROR, QR RD RA set, AA/TC clear");
        let p = parse_response(&r).unwrap();
        assert_eq!(p.id, 42);
        assert_eq!(p.rcode, RCODE_NOERROR);
        assert_eq!(p.answers, vec![Answer { name: "mysql.".into(), addr: Ipv4Addr::new(10, 0, 1, 2), ttl: 600 }]);
        // Question echoed.
        let echoed = Packet::parse(&r).unwrap();
        assert_eq!(echoed.questions.len(), 1);
        assert_eq!(fqdn(&echoed.questions[0].qname), "mysql.");
        assert!(parse_query(&r).is_err(), "a response is not a query");
    }

    #[test]
    fn rd_is_copied_not_forced() {
        let mut q = build_query(9, "mysql").unwrap();
        q[2] &= !0x01; // clear RD
        let r = embedded_answer(&q, &sandbox).unwrap().0;
        assert_eq!(flags(&r), QR | RA);
    }

    #[test]
    fn name_match_is_case_insensitive_and_echoes_case() {
        for name in ["MySQL", "MYSQL.", "mysql."] {
            let r = embedded_answer(&build_query(1, name).unwrap(), &sandbox).unwrap().0;
            let p = parse_response(&r).unwrap();
            assert_eq!(p.answers.len(), 1, "{name}");
            assert_eq!(p.answers[0].addr, Ipv4Addr::new(10, 0, 1, 2));
            let want = format!("{}.", name.trim_end_matches('.'));
            assert_eq!(p.answers[0].name, want, "owner name spelled as asked");
        }
        let seen = std::cell::RefCell::new(Vec::new());
        embedded_answer(&build_query(1, "Web.Sandbox.").unwrap(), &|n: &str| {
            seen.borrow_mut().push(n.to_string());
            None
        });
        assert_eq!(seen.into_inner(), vec!["web.sandbox".to_string()]);
    }

    #[test]
    fn aaaa_and_mx_for_known_name_are_empty_noerror() {
        for qtype in [QTYPE_AAAA, QTYPE_MX] {
            let r = embedded_answer(&build_query_type(5, "mysql", qtype).unwrap(), &sandbox).unwrap().0;
            assert_eq!(flags(&r), QR | RD | RA);
            let p = parse_response(&r).unwrap();
            assert_eq!((p.rcode, p.answers.len()), (RCODE_NOERROR, 0));
            assert_eq!(Packet::parse(&r).unwrap().answers.len(), 0);
        }
    }

    #[test]
    fn unknown_names_get_the_upstream_nxdomain() {
        // Docker forwards what its sandbox does not know; the lab's upstream knows no names.
        for (name, qtype) in [("nosuch", QTYPE_A), ("nosuch", QTYPE_AAAA), ("google.com", QTYPE_A), ("v6only", QTYPE_A)]
        {
            let (r, served) = embedded_answer(&build_query_type(77, name, qtype).unwrap(), &sandbox).unwrap();
            assert_eq!(served, Served::Forwarded, "{name}");
            assert_eq!(flags(&r), QR | RD | RA | u16::from(RCODE_NXDOMAIN), "{name}");
            let p = parse_response(&r).unwrap();
            assert_eq!((p.id, p.rcode, p.answers.len()), (77, RCODE_NXDOMAIN, 0));
            assert_eq!(Packet::parse(&r).unwrap().questions.len(), 1, "question echoed");
        }
    }

    #[test]
    fn other_types_are_forwarded() {
        // TXT (16), PTR (12) of a name, SRV (33) on a known name: not answered locally.
        for qtype in [16, 12, 33] {
            let (r, served) = embedded_answer(&build_query_type(3, "mysql", qtype).unwrap(), &sandbox).unwrap();
            assert_eq!(
                (parse_response(&r).unwrap().rcode, served),
                (RCODE_NXDOMAIN, Served::Forwarded),
                "type {qtype}"
            );
        }
    }

    struct WithPtr;
    impl Sandbox for WithPtr {
        fn addrs(&self, name: &str) -> Option<Vec<Ipv4Addr>> {
            sandbox(name)
        }
        fn ptr(&self, ip: Ipv4Addr) -> Option<String> {
            (ip == Ipv4Addr::new(10, 83, 0, 3)).then(|| "c2.dnsnet".to_string())
        }
    }

    #[test]
    fn ptr_for_a_container_names_it_on_its_network() {
        // As traces/docker/busybox-nslookup/record.txt: `3.0.83.10.in-addr.arpa name = c2.dnsnet`.
        let q = build_query_type(8, "3.0.83.10.in-addr.arpa", QTYPE_PTR).unwrap();
        let (r, served) = embedded_answer(&q, &WithPtr).unwrap();
        assert_eq!((flags(&r), served), (QR | RD | RA, Served::Local));
        let p = parse_response(&r).unwrap();
        assert_eq!(p.ptrs, vec![PtrAnswer { owner: "3.0.83.10.in-addr.arpa".into(), target: "c2.dnsnet".into() }]);
        assert_eq!(Packet::parse(&r).unwrap().answers[0].ttl, EMBEDDED_TTL);
        let other = build_query_type(8, "4.0.83.10.in-addr.arpa.", QTYPE_PTR).unwrap();
        assert_eq!(parse_response(&embedded_answer(&other, &WithPtr).unwrap().0).unwrap().rcode, RCODE_NXDOMAIN);
    }

    #[test]
    fn reverse_names() {
        assert_eq!(ptr_name(Ipv4Addr::new(10, 83, 0, 3)), "3.0.83.10.in-addr.arpa");
        assert_eq!(ptr_addr("3.0.83.10.in-addr.arpa"), Some(Ipv4Addr::new(10, 83, 0, 3)));
        assert_eq!(ptr_addr("3.0.83.10.IN-ADDR.ARPA."), Some(Ipv4Addr::new(10, 83, 0, 3)));
        for bad in
            ["0.83.10.in-addr.arpa", "1.3.0.83.10.in-addr.arpa", "03.0.83.10.in-addr.arpa", "x.in-addr.arpa", "é"]
        {
            assert_eq!(ptr_addr(bad), None, "{bad}");
        }
    }

    #[test]
    fn ttl_is_600_and_order_is_kept() {
        let r = embedded_answer(&build_query(2, "web").unwrap(), &sandbox).unwrap().0;
        let p = parse_response(&r).unwrap();
        let addrs: Vec<_> = p.answers.iter().map(|a| a.addr).collect();
        assert_eq!(addrs, sandbox("web").unwrap());
        assert!(p.answers.iter().all(|a| a.ttl == EMBEDDED_TTL && a.name == "web."));
    }

    #[test]
    fn large_answer_is_truncated_to_512() {
        let r = embedded_answer(&build_query(2, "many").unwrap(), &sandbox).unwrap().0;
        assert!(r.len() <= 512);
        assert_eq!(flags(&r) & (TC | AA), TC);
        let p = parse_response(&r).unwrap();
        // 12 header + 11 question + n * (6 name + 10 + 4) <= 512
        assert_eq!(p.answers.len(), (512 - 23) / 20);
        assert_eq!(p.answers[0].addr, Ipv4Addr::new(10, 0, 2, 1), "answers dropped from the end");
    }

    #[test]
    fn garbage_and_responses_get_no_reply() {
        assert_eq!(embedded_answer(b"\x00\x01\x02", &sandbox), None);
        let resp = embedded_answer(&build_query(1, "mysql").unwrap(), &sandbox).unwrap().0;
        assert_eq!(embedded_answer(&resp, &sandbox), None);
        assert!(parse_response(b"\x00").is_err());
        assert!(parse_query(b"").is_err());
    }

    use crate::userland::proto::testpcap::write as write_pcap;

    fn udp_frame(src: ([u8; 4], u16), dst: ([u8; 4], u16), payload: &[u8]) -> Vec<u8> {
        let builder = etherparse::PacketBuilder::ethernet2([2, 0x42, 10, 0, 1, 7], [2, 0x42, 10, 0, 1, 1])
            .ipv4(src.0, dst.0, 64)
            .udp(src.1, dst.1);
        let mut out = Vec::with_capacity(builder.size(payload.len()));
        builder.write(&mut out, payload).unwrap();
        out
    }

    #[test]
    fn tshark_dissects_query_and_answer() {
        let client = ([10, 0, 1, 7], 41000);
        let server = ([127, 0, 0, 11], 53);
        let q_ok = build_query(0xbeef, "web").unwrap();
        let r_ok = embedded_answer(&q_ok, &sandbox).unwrap().0;
        let q_bad = build_query(0xbef0, "nosuch").unwrap();
        let r_bad = embedded_answer(&q_bad, &sandbox).unwrap().0;
        let frames = vec![
            udp_frame(client, server, &q_ok),
            udp_frame(server, client, &r_ok),
            udp_frame(client, server, &q_bad),
            udp_frame(server, client, &r_bad),
        ];
        let dir = std::env::temp_dir().join(format!("httpdns-dns-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pcap = dir.join("dns.pcap");
        write_pcap(&pcap, &frames);

        let fields = [
            "frame.number",
            "dns.id",
            "dns.flags.response",
            "dns.flags.recavail",
            "dns.flags.rcode",
            "dns.qry.name",
            "dns.a",
            "dns.resp.ttl",
            "_ws.malformed",
            "_ws.expert",
        ];
        let mut cmd = std::process::Command::new("tshark");
        cmd.arg("-r").arg(&pcap).args(["-n", "-T", "fields", "-E", "separator=|", "-E", "aggregator=,"]);
        for f in fields {
            cmd.args(["-e", f]);
        }
        let out = cmd.output().expect("tshark must be installed (apt-get install tshark)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        eprintln!("tshark:\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success());
        std::fs::remove_dir_all(&dir).unwrap();

        let rows: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('|').collect()).collect();
        assert_eq!(rows.len(), 4);
        for row in &rows {
            assert_eq!(row.len(), fields.len());
            assert_eq!(row[8], "", "malformed: {row:?}");
            assert_eq!(row[9], "", "expert info: {row:?}");
        }
        assert_eq!(rows[0][1..6], ["0xbeef", "0", "", "", "web"]);
        assert_eq!(rows[1][1..8], ["0xbeef", "1", "1", "0", "web", "10.0.1.5,10.0.1.3,10.0.1.4", "600,600,600"]);
        // NXDOMAIN with RA, as an upstream resolver relays it.
        assert_eq!(rows[3][1..8], ["0xbef0", "1", "1", "3", "nosuch", "", ""]);
    }
}
