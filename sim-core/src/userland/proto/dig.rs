//! BIND's `dig` (nicolaka/netshoot's, from alpine's bind-tools; Debian's bind9-dnsutils):
//! its command line, the query it sends and what it prints (BIND 9.18's `bin/dig/dig.c` and
//! `dighost.c`).
//!
//! One query, over UDP to the first nameserver of resolv.conf (or `@SERVER`), with RD and
//! AD set and an EDNS0 OPT record (UDP size 1232, a client COOKIE); `+time=5 +tries=3`.
//! Without an answer it prints `;; communications error …` per timed-out try and
//! `;; connection timed out; no servers could be reached`, exit status 9.
//!
//! What it prints is made of parts each `+[no]FLAG` turns on or off: `+cmd` (the banner and
//! the global options), `+comments` (the header lines and the section titles), `+question`,
//! `+answer`, `+authority`, `+additional`, `+stats` (query time, server, date, size).
//! `+short` prints the answers' data alone. Records are printed as BIND's master-file style
//! does for dig: the owner name, then the TTL at column 24, the class at 32, the type at 40
//! and the data at 48, reached with tabs (a single space when a field overruns its column).
//! `traces/docker/dig/record.txt` is what it printed against Docker's embedded DNS; its
//! banner names that build (Debian's 9.18.49), which the simulator prints too. A name the
//! embedded DNS forwards comes back NXDOMAIN without the authority section a real upstream
//! adds (`dns::embedded_answer`), so dig shows no SOA for it.

use std::net::Ipv4Addr;

use simple_dns::rdata::{OPT, OPTCode, RData};
use simple_dns::{CLASS, Name, Packet, PacketFlag, QCLASS, QTYPE, Question, ResourceRecord, TYPE};

use super::dns::{self, QTYPE_A, QTYPE_PTR};
use super::nslookup::QUERY_TYPES;

/// The build whose banner the simulator prints.
pub const VERSION: &str = "9.18.49-1~deb12u3-Debian";
/// `+time`: seconds per try; `+tries`: tries in all.
pub const TIMEOUT_SECS: u64 = 5;
pub const TRIES: u8 = 3;
/// The UDP payload size dig 9.18 offers in its OPT record.
const EDNS_UDP: u16 = 1232;

/// A `dig` command line.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dig {
    /// The name asked for (for `-x`, the reverse name).
    pub name: String,
    /// As typed, for the banner (`dig web`, `dig -x 10.0.0.2 +short`).
    pub args: Vec<String>,
    pub qtype: u16,
    /// `@SERVER`.
    #[serde(default)]
    pub server: Option<Ipv4Addr>,
    pub show: Show,
}

/// Which parts of the answer dig prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Show {
    pub short: bool,
    pub cmd: bool,
    pub comments: bool,
    pub question: bool,
    pub answer: bool,
    pub authority: bool,
    pub additional: bool,
    pub stats: bool,
}

impl Default for Show {
    fn default() -> Show {
        Show {
            short: false,
            cmd: true,
            comments: true,
            question: true,
            answer: true,
            authority: true,
            additional: true,
            stats: true,
        }
    }
}

/// A type named on the command line: nslookup's table of the types the labs ask for.
fn qtype_by_name(t: &str) -> Option<u16> {
    QUERY_TYPES.iter().find(|(name, _)| name.eq_ignore_ascii_case(t)).map(|&(_, q)| q)
}

/// Reads dig's arguments (after `dig`): `@SERVER`, `-x ADDR`, `-t TYPE`, a type or a name,
/// and `+[no]FLAG`s. Errors in dig's words; `netsim:` for what the simulator does not model.
pub fn parse(args: &[String]) -> Result<Dig, String> {
    let mut show = Show::default();
    let (mut name, mut qtype, mut server) = (None, None, None);
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if let Some(s) = a.strip_prefix('@') {
            server = Some(s.parse::<Ipv4Addr>().map_err(|_| format!("netsim: dig @{s}: a server by address only"))?);
        } else if let Some(flag) = a.strip_prefix('+') {
            let (on, f) = match flag.strip_prefix("no") {
                Some(f) => (false, f),
                None => (true, flag),
            };
            match f {
                "short" => show.short = on,
                "cmd" => show.cmd = on,
                "comments" => show.comments = on,
                "question" => show.question = on,
                "answer" => show.answer = on,
                "authority" => show.authority = on,
                "additional" => show.additional = on,
                "stats" => show.stats = on,
                "all" => {
                    show = Show {
                        short: show.short,
                        cmd: on,
                        comments: on,
                        question: on,
                        answer: on,
                        authority: on,
                        additional: on,
                        stats: on,
                    }
                }
                _ => return Err(format!("netsim: dig +{flag} is not modelled")),
            }
        } else if a == "-x" {
            let addr = args.get(i).ok_or("dig: option requires an argument -- 'x'")?;
            i += 1;
            let ip: Ipv4Addr = addr.parse().map_err(|_| format!("dig: '{addr}' is not a legal IPv4 address"))?;
            name = Some(super::dns::ptr_name(ip));
            qtype = qtype.or(Some(QTYPE_PTR));
        } else if a == "-t" {
            let t = args.get(i).ok_or("dig: option requires an argument -- 't'")?;
            i += 1;
            qtype = Some(qtype_by_name(t).ok_or_else(|| format!("netsim: dig -t {t} is not modelled"))?);
        } else if a.starts_with('-') {
            return Err(format!("netsim: dig {a} is not modelled"));
        } else if let (Some(t), true) = (qtype_by_name(a), name.is_some()) {
            qtype = Some(t);
        } else if name.is_none() {
            name = Some(a.clone());
        } else {
            return Err(format!("netsim: dig with more than one query ({a}) is not modelled"));
        }
    }
    // Without a name dig asks for the root's nameservers.
    let name = name.ok_or("netsim: dig without a name (the root's NS) is not modelled")?;
    let mut name = name;
    if !name.ends_with('.') {
        name.push('.');
    }
    Ok(Dig { name, args: args.to_vec(), qtype: qtype.unwrap_or(QTYPE_A), server, show })
}

/// The query dig sends: id, RD and AD, the question, and an OPT record with a client cookie.
pub fn query(d: &Dig, id: u16, cookie: [u8; 8]) -> Result<Vec<u8>, String> {
    let mut p = Packet::new_query(id);
    p.set_flags(PacketFlag::RECURSION_DESIRED | PacketFlag::AUTHENTIC_DATA);
    let qname = Name::new(d.name.trim_end_matches('.')).map_err(|e| e.to_string())?;
    let qtype = QTYPE::TYPE(TYPE::from(d.qtype));
    p.questions.push(Question::new(qname, qtype, QCLASS::CLASS(CLASS::IN), false));
    let opt = OPT {
        opt_codes: vec![OPTCode { code: 10, data: cookie.to_vec().into() }],
        udp_packet_size: EDNS_UDP,
        version: 0,
    };
    *p.opt_mut() = Some(opt);
    p.build_bytes_vec().map_err(|e| e.to_string())
}

/// The lines dig prints for the reply `bytes`, which took `rtt_ms` and came from `server`;
/// `when` is the date the stats line gives.
pub fn output(d: &Dig, bytes: &[u8], server: Ipv4Addr, rtt_ms: u64, when: &str) -> Result<Vec<String>, String> {
    let p = Packet::parse(bytes).map_err(|e| e.to_string())?;
    let s = d.show;
    let mut out = Vec::new();
    if s.short {
        for r in &p.answers {
            out.push(rdata(&r.rdata));
        }
        return Ok(out);
    }
    if s.cmd {
        out.push(String::new());
        out.push(format!("; <<>> DiG {VERSION} <<>> {}", d.args.join(" ")));
        out.push(";; global options: +cmd".into());
    }
    if s.comments {
        let status = dns::parse_response(bytes).map(|r| dns::rcode_text(r.rcode)).map_err(|e| e.to_string())?;
        let mut flags = Vec::new();
        for (f, w) in [
            (PacketFlag::RESPONSE, "qr"),
            (PacketFlag::AUTHORITATIVE_ANSWER, "aa"),
            (PacketFlag::TRUNCATION, "tc"),
            (PacketFlag::RECURSION_DESIRED, "rd"),
            (PacketFlag::RECURSION_AVAILABLE, "ra"),
            (PacketFlag::AUTHENTIC_DATA, "ad"),
            (PacketFlag::CHECKING_DISABLED, "cd"),
        ] {
            if p.has_flags(f) {
                flags.push(w);
            }
        }
        let additional = p.additional_records.len() + usize::from(p.opt().is_some());
        out.push(";; Got answer:".into());
        out.push(format!(";; ->>HEADER<<- opcode: QUERY, status: {status}, id: {}", p.id()));
        out.push(format!(
            ";; flags: {}; QUERY: {}, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {additional}",
            flags.join(" "),
            p.questions.len(),
            p.answers.len(),
            p.name_servers.len()
        ));
        if !p.has_flags(PacketFlag::RECURSION_AVAILABLE) && p.has_flags(PacketFlag::RECURSION_DESIRED) {
            out.push(";; WARNING: recursion requested but not available".into());
        }
        out.push(String::new());
    }
    if s.question {
        if s.comments {
            out.push(";; QUESTION SECTION:".into());
        }
        for q in &p.questions {
            let name = format!(";{}.", q.qname);
            let mut l = name.clone();
            pad(&mut l, 32);
            l.push_str("IN");
            pad(&mut l, 40);
            l.push_str(&qtype_text(&q.qtype));
            out.push(l);
        }
        if s.comments {
            out.push(String::new());
        }
    }
    for (on, title, records) in [
        (s.answer, "ANSWER", &p.answers),
        (s.authority, "AUTHORITY", &p.name_servers),
        (s.additional, "ADDITIONAL", &p.additional_records),
    ] {
        if !on || records.is_empty() {
            continue;
        }
        if s.comments {
            out.push(format!(";; {title} SECTION:"));
        }
        for r in records {
            out.push(record(r));
        }
        if s.comments {
            out.push(String::new());
        }
    }
    if s.stats {
        out.push(format!(";; Query time: {rtt_ms} msec"));
        out.push(format!(";; SERVER: {server}#53({server}) (UDP)"));
        out.push(format!(";; WHEN: {when}"));
        out.push(format!(";; MSG SIZE  rcvd: {}", bytes.len()));
        out.push(String::new());
    }
    Ok(out)
}

/// The lines for a query no server answered.
pub fn timed_out(d: &Dig, server: Ipv4Addr) -> Vec<String> {
    let mut out: Vec<String> =
        (1..TRIES).map(|_| format!(";; communications error to {server}#53: timed out")).collect();
    out.push(String::new());
    out.push(format!("; <<>> DiG {VERSION} <<>> {}", d.args.join(" ")));
    out.push(";; global options: +cmd".into());
    out.push(";; no servers could be reached".into());
    out
}

/// A question's type as dig names it (`A`, `PTR`, …).
fn qtype_text(q: &QTYPE) -> String {
    match q {
        QTYPE::TYPE(t) => dns::qtype_text((*t).into()),
        _ => "ANY".into(),
    }
}

/// Tabs (8 wide) up to `column`, or one space when the text has reached it.
fn pad(l: &mut String, column: usize) {
    let at = l.chars().fold(0, |c, ch| if ch == '\t' { (c / 8 + 1) * 8 } else { c + 1 });
    if at >= column {
        l.push(' ');
        return;
    }
    let tabs = column / 8 - at / 8;
    l.extend(std::iter::repeat_n('\t', tabs));
}

fn record(r: &ResourceRecord) -> String {
    let mut l = format!("{}.", r.name);
    pad(&mut l, 24);
    l.push_str(&r.ttl.to_string());
    pad(&mut l, 32);
    l.push_str("IN");
    pad(&mut l, 40);
    l.push_str(&dns::qtype_text(r.rdata.type_code().into()));
    pad(&mut l, 48);
    l.push_str(&rdata(&r.rdata));
    l
}

fn rdata(r: &RData) -> String {
    match r {
        RData::A(a) => Ipv4Addr::from(a.address).to_string(),
        RData::PTR(p) => format!("{}.", p.0),
        RData::AAAA(a) => std::net::Ipv6Addr::from(a.address).to_string(),
        other => format!("{other:?}"),
    }
}

/// `date`'s `%a %b %d %H:%M:%S UTC %Y` of `secs` seconds after 1970.
pub fn when(secs: u64) -> String {
    let c = crate::engine::Civil::of(secs as i64);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        c.weekday(),
        c.month_name(),
        c.day,
        c.hour,
        c.minute,
        c.second,
        c.year
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn dates_are_printed_as_date_prints_them() {
        // `date -u -d @1796522129` on Debian 12: Sun Dec  6 01:55:29 UTC 2026 (dig pads the
        // day with a zero).
        assert_eq!(when(1_796_522_129), "Sun Dec 06 01:55:29 UTC 2026");
        assert_eq!(when(0), "Thu Jan 01 00:00:00 UTC 1970");
    }

    #[test]
    fn records_line_up_in_columns_with_tabs() {
        let d = parse(&words("web")).unwrap();
        let mut p = Packet::new_reply(7);
        p.set_flags(PacketFlag::RECURSION_DESIRED | PacketFlag::RECURSION_AVAILABLE);
        let n = Name::new("web").unwrap();
        p.questions.push(Question::new(n.clone(), QTYPE::TYPE(TYPE::A), QCLASS::CLASS(CLASS::IN), false));
        p.answers.push(ResourceRecord::new(n, CLASS::IN, 600, RData::A(simple_dns::rdata::A { address: 0x0a57_0002 })));
        let bytes = p.build_bytes_vec().unwrap();
        let out = output(&d, &bytes, Ipv4Addr::new(127, 0, 0, 11), 0, "X").unwrap();
        assert!(out.contains(&";web.\t\t\t\tIN\tA".to_string()), "{out:?}");
        assert!(out.contains(&"web.\t\t\t600\tIN\tA\t10.87.0.2".to_string()), "{out:?}");
        assert!(out.contains(&";; flags: qr rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 0".to_string()));
    }

    #[test]
    fn the_command_line_is_read_as_dig_reads_it() {
        let d = parse(&words("-x 10.87.0.2 +short")).unwrap();
        assert_eq!((d.name.as_str(), d.qtype, d.show.short), ("2.0.87.10.in-addr.arpa.", QTYPE_PTR, true));
        let d = parse(&words("@127.0.0.11 web AAAA +noall +comments")).unwrap();
        assert_eq!(d.qtype, dns::QTYPE_AAAA);
        assert!(d.show.comments && !d.show.answer && !d.show.cmd);
        assert!(parse(&words("web +trace")).unwrap_err().starts_with("netsim:"));
    }
}
