//! What `nslookup NAME [SERVER]` sends and prints, as each of the two programs a student meets
//! does it:
//!
//! - **busybox** (`networking/nslookup.c` with `FEATURE_NSLOOKUP_BIG`, its default): the
//!   applet alpine's and busybox's images run. It builds every query first — A then AAAA for
//!   a name, one PTR for an IPv4 address, or one per `-type=` — and writes them all on one
//!   connected UDP socket. It prints `Server:`/`Address:` (`127.0.0.11:53`, the port after a
//!   colon) when the first datagram arrives, then a block per reply in the order the replies
//!   come: `Non-authoritative answer:` and the records, or `** server can't find NAME:
//!   RCODE`, each block closed by an empty line. A SERVFAIL is asked again at once (twice
//!   per query and round); unanswered queries are sent again every `timeout / retry`
//!   (2.5 s) until `timeout` (5 s). With no reply at all it says `;; connection timed out;
//!   no servers could be reached`; a query left unanswered gets `*** Can't find NAME: No
//!   answer`. It exits 1 when any reply carried an error code.
//! - **BIND 9** (Debian's `bind9-dnsutils`; hosts and Debian-based images): one query, the
//!   port after a `#`, the records under `Non-authoritative answer:`, and an empty line at
//!   the end ([`bind_output`]). Only the queries it sends first are modelled: its AAAA
//!   follow-up, which prints nothing for Docker's names, is not sent.
//!
//! `traces/docker/busybox-nslookup/record.txt` is what busybox printed on the Docker Engine;
//! `sim-core/tests/nslookup_output.rs` compares the simulator's lines with it.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::dns::{self, ParsedResponse, QTYPE_A, QTYPE_AAAA, QTYPE_PTR};

/// Which `nslookup` a namespace runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    #[default]
    Bind,
    Busybox,
}

/// The query types `-type=` names, in the order busybox sends them when several are given
/// (its `qtypes` table; `AAAA` with `FEATURE_IPV6`).
pub const QUERY_TYPES: &[(&str, u16)] = &[
    ("SOA", 6),
    ("NS", 2),
    ("A", QTYPE_A),
    ("AAAA", QTYPE_AAAA),
    ("CNAME", 5),
    ("MX", 15),
    ("TXT", 16),
    ("SRV", 33),
    ("PTR", QTYPE_PTR),
    ("ANY", 255),
];

/// What the command line asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opts {
    /// `-type=`, as query type numbers; empty: the program's guess (A (+AAAA) for a name,
    /// PTR for an address).
    #[serde(default)]
    pub types: Vec<u16>,
    /// `-port=`.
    #[serde(default = "dns_port")]
    pub port: u16,
    /// `-timeout=` in seconds (5).
    #[serde(default = "five")]
    pub timeout: u32,
    /// `-retry=` (2): busybox sends unanswered queries again every `timeout / retry`.
    #[serde(default = "two")]
    pub retry: u32,
}

fn dns_port() -> u16 {
    53
}
fn five() -> u32 {
    5
}
fn two() -> u32 {
    2
}

impl Default for Opts {
    fn default() -> Opts {
        Opts { types: Vec::new(), port: 53, timeout: 5, retry: 2 }
    }
}

/// One query of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Query {
    /// The name as asked (a reverse name for an address), as the program prints it.
    name: String,
    bytes: Vec<u8>,
    answered: bool,
}

/// What the program does next: datagrams to write, lines to print, its exit status once it
/// has one, and when to wake it (nanoseconds on the caller's clock) if nothing comes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Out {
    pub send: Vec<Vec<u8>>,
    pub lines: Vec<String>,
    pub exit: Option<u8>,
    pub wake: Option<u64>,
}

/// One run of `nslookup`, fed the replies its socket receives and the wake-ups it asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nslookup {
    pub flavour: Flavour,
    /// The server as `Server:` names it (resolv.conf's word, or the argument).
    server_name: String,
    pub server: Ipv4Addr,
    pub port: u16,
    queries: Vec<Query>,
    /// A datagram has come (busybox prints the server on the first).
    heard: bool,
    /// Replies that ended a query.
    answered: usize,
    /// SERVFAILs busybox may still ask again this round.
    servfail_retry: usize,
    /// Sends so far, and how many BIND makes.
    rounds: u32,
    tries: u32,
    exit: u8,
    timeout_ns: u64,
    interval_ns: u64,
    start_ns: u64,
    /// The wake-up asked for last; an earlier one is stale.
    wake_ns: u64,
    done: bool,
}

/// The name busybox and BIND look up for `arg`: an IPv4 address (as inet_pton reads it) is
/// asked as its reverse name.
fn reverse_of(arg: &str) -> Option<String> {
    let ip: Ipv4Addr = arg.parse().ok()?;
    Some(dns::ptr_name(ip))
}

impl Nslookup {
    /// A run asking `server` about `name`. `ids` draws each query's id (res_mkquery's
    /// random one). `Err` holds the lines and status of a run that cannot send anything.
    pub fn new(
        flavour: Flavour,
        name: &str,
        opts: &Opts,
        (server_name, server): (String, Ipv4Addr),
        mut ids: impl FnMut() -> u16,
    ) -> Result<Nslookup, (Vec<String>, u8)> {
        let mut asks: Vec<(String, u16)> = Vec::new();
        if opts.types.is_empty() {
            match reverse_of(name) {
                Some(ptr) => asks.push((ptr, QTYPE_PTR)),
                None => {
                    asks.push((name.to_string(), QTYPE_A));
                    if flavour == Flavour::Busybox {
                        asks.push((name.to_string(), QTYPE_AAAA));
                    }
                }
            }
        } else {
            for &(_, t) in QUERY_TYPES.iter().filter(|(_, t)| opts.types.contains(t)) {
                asks.push((name.to_string(), t));
                if flavour == Flavour::Bind {
                    break;
                }
            }
        }
        let mut queries = Vec::with_capacity(asks.len());
        for (n, t) in asks {
            match dns::build_query_type(ids(), &n, t) {
                Ok(bytes) => queries.push(Query { name: n, bytes, answered: false }),
                // res_mkquery refuses what DNS cannot carry (a label over 63 octets, …) and
                // returns -1, which busybox keeps as the query's length: its write(2) of
                // that many bytes fails with EMSGSIZE, and it gives up on the server
                // (recorded in traces/docker/busybox-nslookup/record.txt).
                Err(_) if flavour == Flavour::Busybox => {
                    let lines = vec![
                        format!("nslookup: write to '{server_name}': Message too long"),
                        ";; connection timed out; no servers could be reached".to_string(),
                        String::new(),
                    ];
                    return Err((lines, 1));
                }
                // BIND's words for it were not recorded.
                Err(e) => return Err((vec![format!("netsim: nslookup: cannot ask for {e}")], 1)),
            }
        }
        let timeout_ns = u64::from(opts.timeout.max(1)) * 1_000_000_000;
        // busybox: `retry_interval = timeout / default_retry` in milliseconds.
        let interval_ns = (u64::from(opts.timeout.max(1)) * 1000 / u64::from(opts.retry.max(1))) * 1_000_000;
        Ok(Nslookup {
            flavour,
            server_name,
            server,
            port: opts.port,
            queries,
            heard: false,
            answered: 0,
            servfail_retry: 0,
            rounds: 0,
            tries: opts.retry.max(1),
            exit: 0,
            timeout_ns,
            interval_ns,
            start_ns: 0,
            wake_ns: 0,
            done: false,
        })
    }

    /// Whether the program has exited.
    pub fn done(&self) -> bool {
        self.done
    }

    /// The first writes.
    pub fn start(&mut self, now: u64) -> Out {
        self.start_ns = now;
        self.send_round(now)
    }

    /// Every unanswered query again (all of them at the start).
    fn send_round(&mut self, now: u64) -> Out {
        self.rounds += 1;
        self.servfail_retry = 2 * self.queries.len();
        let send = self.queries.iter().filter(|q| !q.answered).map(|q| q.bytes.clone()).collect();
        self.wake_ns = match self.flavour {
            Flavour::Busybox => now + self.interval_ns.min(self.timeout_ns - (now - self.start_ns)),
            Flavour::Bind => now + self.timeout_ns,
        };
        Out { send, wake: Some(self.wake_ns), ..Out::default() }
    }

    /// A datagram from the server (the socket is connected to it).
    pub fn reply(&mut self, bytes: &[u8]) -> Out {
        let mut out = Out::default();
        if self.done {
            return out;
        }
        let first = !std::mem::replace(&mut self.heard, true);
        if self.flavour == Flavour::Busybox && first {
            out.lines.push(format!("Server:\t\t{}", self.server_name));
            out.lines.push(format!("Address:\t{}:{}", self.server, self.port));
            out.lines.push(String::new());
        }
        if bytes.len() < 4 {
            return out;
        }
        let Some(qn) = self.queries.iter().position(|q| q.bytes[..2] == bytes[..2]) else { return out };
        if self.queries[qn].answered {
            return out;
        }
        let rcode = bytes[3] & 0x0f;
        match self.flavour {
            Flavour::Busybox => {
                if rcode == dns::RCODE_SERVFAIL && self.servfail_retry > 0 {
                    // "Retry immediately on SERVFAIL".
                    self.servfail_retry -= 1;
                    out.send.push(self.queries[qn].bytes.clone());
                    return out;
                }
                self.queries[qn].answered = true;
                if rcode != dns::RCODE_NOERROR {
                    out.lines.push(format!(
                        "** server can't find {}: {}",
                        self.queries[qn].name,
                        dns::rcode_text(rcode)
                    ));
                    self.exit = 1;
                } else {
                    match dns::parse_response(bytes) {
                        Ok(r) => out.lines.extend(busybox_records(&r)),
                        Err(_) => {
                            out.lines.push(format!("*** Can't find {}: Parse error", self.queries[qn].name));
                            self.exit = 1;
                        }
                    }
                }
                out.lines.push(String::new());
                self.answered += 1;
                if self.answered == self.queries.len() {
                    self.finish(&mut out);
                }
            }
            Flavour::Bind => {
                let Ok(r) = dns::parse_response(bytes) else { return out };
                self.queries[qn].answered = true;
                self.answered += 1;
                out.lines
                    .extend(bind_output(self.server, self.port, &self.queries[qn].name, &r).lines().map(String::from));
                out.lines.push(String::new());
                self.exit = u8::from(r.rcode != dns::RCODE_NOERROR);
                self.finish(&mut out);
            }
        }
        out
    }

    /// `out`'s queries put to a server outside the lab, which answers each at once as
    /// `dns::outside_answer` does: the rest of the run, to its exit.
    pub fn ask_outside(&mut self, out: Out) -> Out {
        let mut done = Out { lines: out.lines, exit: out.exit, ..Out::default() };
        for q in &out.send {
            if let Some(a) = dns::outside_answer(q) {
                let o = self.reply(&a);
                done.lines.extend(o.lines);
                done.exit = done.exit.or(o.exit);
            }
        }
        done
    }

    /// The wake-up asked for: send again, or give up.
    pub fn wake(&mut self, now: u64) -> Out {
        let mut out = Out::default();
        if self.done || now < self.wake_ns {
            return out;
        }
        let over = match self.flavour {
            Flavour::Busybox => now - self.start_ns >= self.timeout_ns,
            // BIND: as many tries as `-retry=`, each `-timeout=` long.
            Flavour::Bind => self.rounds >= self.tries,
        };
        if !over {
            return self.send_round(now);
        }
        if self.answered == 0 {
            out.lines.push(";; connection timed out; no servers could be reached".into());
            out.lines.push(String::new());
            self.exit = 1;
            self.done = true;
            out.exit = Some(1);
            return out;
        }
        self.finish(&mut out);
        out
    }

    /// The end: busybox names each query left without an answer.
    fn finish(&mut self, out: &mut Out) {
        let mut missing = false;
        for q in self.queries.iter().filter(|q| !q.answered) {
            out.lines.push(format!("*** Can't find {}: No answer", q.name));
            missing = true;
        }
        if missing {
            out.lines.push(String::new());
        }
        self.done = true;
        out.exit = Some(self.exit);
    }
}

/// busybox's `parse_reply` for the records a Docker sandbox's resolver sends: A and PTR.
fn busybox_records(r: &ParsedResponse) -> Vec<String> {
    let mut lines = Vec::new();
    if !r.authoritative {
        lines.push("Non-authoritative answer:".to_string());
    }
    for a in &r.answers {
        lines.push(format!("Name:\t{}", a.name.strip_suffix('.').unwrap_or(&a.name)));
        lines.push(format!("Address: {}", a.addr));
    }
    for p in &r.ptrs {
        lines.push(format!("{}\tname = {}", p.owner, p.target));
    }
    lines
}

/// What BIND 9 `nslookup` prints for the reply `resp` from `server` to its query for `name`,
/// without the empty line it ends with.
///
/// Docker's embedded server never sets AA, so answers come under "Non-authoritative answer:".
/// Each A record prints as `Name:\t<owner without trailing dot>` + `Address: <ip>`, each PTR
/// as `<owner>\tname = <target>.` (BIND writes the target fully qualified); an empty NOERROR
/// answer prints `*** Can't find <name>: No answer`; any other rcode prints `** server can't
/// find <name>: <RCODE>`.
pub fn bind_output(server: Ipv4Addr, port: u16, name: &str, resp: &ParsedResponse) -> String {
    let mut out = format!("Server:\t\t{server}\nAddress:\t{server}#{port}\n\n");
    let shown = name.strip_suffix('.').unwrap_or(name);
    if resp.rcode != dns::RCODE_NOERROR {
        out.push_str(&format!("** server can't find {shown}: {}\n", dns::rcode_text(resp.rcode)));
        return out;
    }
    if !resp.authoritative {
        out.push_str("Non-authoritative answer:\n");
    }
    if resp.answers.is_empty() && resp.ptrs.is_empty() {
        out.push_str(&format!("*** Can't find {shown}: No answer\n"));
    }
    for a in &resp.answers {
        let owner = a.name.strip_suffix('.').unwrap_or(&a.name);
        out.push_str(&format!("Name:\t{owner}\nAddress: {}\n", a.addr));
    }
    for p in &resp.ptrs {
        out.push_str(&format!("{}\tname = {}.\n", p.owner, p.target));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn server() -> (String, Ipv4Addr) {
        ("127.0.0.11".into(), Ipv4Addr::new(127, 0, 0, 11))
    }

    fn busybox(name: &str) -> Nslookup {
        let mut id = 0x100;
        Nslookup::new(Flavour::Busybox, name, &Opts::default(), server(), || {
            id += 1;
            id
        })
        .unwrap()
    }

    /// The embedded DNS's answer to `query` when it knows `c2` as 10.83.0.3.
    fn answer(query: &[u8]) -> Vec<u8> {
        let known = |n: &str| (n == "c2").then(|| vec![Ipv4Addr::new(10, 83, 0, 3)]);
        dns::embedded_answer(query, &known).unwrap().0
    }

    fn with_rcode(mut reply: Vec<u8>, rcode: u8) -> Vec<u8> {
        reply[3] = (reply[3] & 0xf0) | rcode;
        reply
    }

    #[test]
    fn busybox_asks_a_then_aaaa_and_prints_a_block_per_reply() {
        let mut p = busybox("c2");
        let out = p.start(0);
        let types: Vec<u16> = out.send.iter().map(|q| dns::parse_query(q).unwrap().qtype).collect();
        assert_eq!(types, [QTYPE_A, QTYPE_AAAA]);
        assert_eq!(out.wake, Some(5 * S / 2), "the retry interval: timeout / retry");
        // The AAAA answer first: its block comes first.
        let first = p.reply(&answer(&out.send[1]));
        assert_eq!(
            first.lines,
            ["Server:\t\t127.0.0.11", "Address:\t127.0.0.11:53", "", "Non-authoritative answer:", ""]
        );
        let second = p.reply(&answer(&out.send[0]));
        assert_eq!(second.lines, ["Non-authoritative answer:", "Name:\tc2", "Address: 10.83.0.3", ""]);
        assert_eq!((second.exit, p.done()), (Some(0), true));
    }

    #[test]
    fn busybox_sends_again_every_interval_and_gives_up_at_the_timeout() {
        let mut p = busybox("c2");
        let out = p.start(0);
        assert!(p.wake(S).send.is_empty(), "a stale wake-up does nothing");
        let again = p.wake(5 * S / 2);
        assert_eq!(again.send, out.send, "both queries again");
        assert_eq!(again.wake, Some(5 * S));
        // One answered in the second round, the other never.
        let a = p.reply(&answer(&out.send[0]));
        assert_eq!(a.exit, None);
        let end = p.wake(5 * S);
        assert_eq!(end.lines, ["*** Can't find c2: No answer", ""]);
        assert_eq!(end.exit, Some(0), "a query left unanswered is not an error code");
        let mut silent = busybox("c2");
        silent.start(0);
        silent.wake(5 * S / 2);
        let end = silent.wake(5 * S);
        assert_eq!(end.lines, [";; connection timed out; no servers could be reached", ""]);
        assert_eq!(end.exit, Some(1));
    }

    #[test]
    fn busybox_asks_again_at_once_on_servfail_twice_per_query() {
        let mut p = busybox("c2");
        let out = p.start(0);
        let servfail = with_rcode(answer(&out.send[0]), dns::RCODE_SERVFAIL);
        // 2 × 2 queries' worth of immediate retries this round, then the SERVFAIL stands.
        for _ in 0..4 {
            assert_eq!(p.reply(&servfail).send, vec![out.send[0].clone()]);
        }
        let last = p.reply(&servfail);
        assert!(last.send.is_empty());
        assert!(last.lines.contains(&"** server can't find c2: SERVFAIL".to_string()));
        let end = p.reply(&answer(&out.send[1]));
        assert_eq!(end.exit, Some(1), "an error code in any reply");
    }

    #[test]
    fn an_address_is_asked_as_its_reverse_name() {
        let mut p = busybox("10.83.0.3");
        let out = p.start(0);
        let q = dns::parse_query(&out.send[0]).unwrap();
        assert_eq!((out.send.len(), q.name.as_str(), q.qtype), (1, "3.0.83.10.in-addr.arpa.", QTYPE_PTR));
        let nx = p.reply(&answer(&out.send[0]));
        assert!(nx.lines.contains(&"** server can't find 3.0.83.10.in-addr.arpa: NXDOMAIN".to_string()));
        let mut id = 7;
        let opts = Opts { types: vec![15, QTYPE_A], ..Opts::default() };
        let mut typed = Nslookup::new(Flavour::Busybox, "c2", &opts, server(), || {
            id += 1;
            id
        })
        .unwrap();
        let types: Vec<u16> = typed.start(0).send.iter().map(|q| dns::parse_query(q).unwrap().qtype).collect();
        assert_eq!(types, [QTYPE_A, 15], "in busybox's table order, not the command line's");
    }

    #[test]
    fn bind_prints_its_own_format_and_exits_1_on_nxdomain() {
        let mut p = Nslookup::new(Flavour::Bind, "c2", &Opts::default(), server(), || 9).unwrap();
        let out = p.start(0);
        assert_eq!(out.send.len(), 1);
        assert_eq!(out.wake, Some(5 * S));
        let done = p.reply(&answer(&out.send[0]));
        assert_eq!(
            done.lines.join("\n"),
            "Server:\t\t127.0.0.11\nAddress:\t127.0.0.11#53\n\nNon-authoritative answer:\nName:\tc2\nAddress: 10.83.0.3\n"
        );
        assert_eq!(done.exit, Some(0));
        let mut nx = Nslookup::new(Flavour::Bind, "nosuch", &Opts::default(), server(), || 9).unwrap();
        let q = nx.start(0).send.remove(0);
        let done = nx.reply(&answer(&q));
        assert_eq!(done.lines[3], "** server can't find nosuch: NXDOMAIN");
        assert_eq!(done.exit, Some(1));
        let mut lost = Nslookup::new(Flavour::Bind, "c2", &Opts::default(), server(), || 9).unwrap();
        lost.start(0);
        assert_eq!(lost.wake(5 * S).send.len(), 1, "a second try");
        assert_eq!(lost.wake(10 * S).exit, Some(1));
    }

    #[test]
    fn bind_writes_a_ptr_target_fully_qualified() {
        let r = ParsedResponse {
            ptrs: vec![dns::PtrAnswer { owner: "3.0.83.10.in-addr.arpa".into(), target: "c2.dnsnet".into() }],
            ..Default::default()
        };
        let out = bind_output(Ipv4Addr::new(127, 0, 0, 11), 53, "3.0.83.10.in-addr.arpa", &r);
        assert!(out.ends_with("Non-authoritative answer:\n3.0.83.10.in-addr.arpa\tname = c2.dnsnet.\n"), "{out}");
    }
}
