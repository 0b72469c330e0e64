//! Userland on simulated sockets: Docker's embedded DNS server, the stub resolver of every
//! client (glibc's: one UDP query to the namespace's nameserver, 5 s timeout, 2 tries), an
//! HTTP server that is the tutorial's PHP webapp, a MySQL server, and the clients students
//! type: curl, mysql, nslookup. The protocols themselves live in `proto` as sans-IO state
//! machines; this module moves their bytes through the kernel's TCP and UDP sockets.

use std::net::Ipv4Addr;

use crate::engine::SimTime;
use crate::kernel::NsId;
use crate::kernel::tcp::TcpKey;
use crate::userland::World;
use crate::userland::apps::{AppKind, DnsRecord, DnsZones};
use crate::userland::proto::webapp::WebServer;
use crate::userland::proto::{dns, http, mysql, nc, nslookup, webapp, weblog, wget};

/// The embedded DNS server's address inside every sandbox on a user-defined network.
pub const EMBEDDED_DNS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);

/// The nameserver of a namespace with no embedded DNS (a host, a container on the default
/// bridge): the lab's hosts name none, and Docker gives such a container its fallback
/// servers, 8.8.8.8 first (libnetwork `resolvconf/resolvconf.go`, `defaultIPv4Dns`). It is
/// outside the lab: reached by a default route, it knows none of the lab's names and answers
/// NXDOMAIN at once. Its frames are not simulated.
pub const OUTSIDE_DNS: Ipv4Addr = Ipv4Addr::new(8, 8, 8, 8);

/// Per-connection protocol state, next to the TCP connection it rides on.
#[derive(Clone, Debug)]
pub enum Stream {
    HttpServer(http::RequestParser),
    HttpClient(http::ResponseParser),
    MysqlServer(Box<mysql::ServerConn>),
    /// `job`: the webapp's HTTP connection waiting for this query's outcome.
    MysqlClient {
        conn: Box<mysql::ClientConn>,
        job: Option<TcpKey>,
    },
    /// `nc -z`: connecting, to close as soon as the connection is up.
    NcScan,
    /// nc copying a connection to its standard output.
    Nc(NcConn),
    /// One side of a connection docker-proxy relays.
    Proxy(crate::userland::proxy::Relay),
}

/// One connection of `nc` without `-z`, a client's or a listener's. Its standard input is
/// empty (a step's program reads none), so nc shuts its sending side as soon as the
/// connection is its (`readwrite`'s first read of stdin returns 0) and prints what arrives
/// until the peer closes.
#[derive(Clone, Debug, Default)]
pub struct NcConn {
    /// Announced and copying: a listener's prints its connect line first, after the reverse
    /// lookup of its peer; until then what arrives waits.
    ready: bool,
    /// Bytes that arrived, and the part of a line not yet printed.
    rcvd: u64,
    line: Vec<u8>,
    /// The peer has closed; nc acts on it once the connection is ready.
    eof: bool,
    /// `-w`: when the current wait ends, whether anything arrived during it, and how many
    /// silent waits are left (`readwrite`'s `netretry`).
    deadline: SimTime,
    heard: bool,
    silent_left: u8,
}

/// A query in flight from a client's stub resolver.
#[derive(Clone, Debug)]
pub struct Lookup {
    pub app: usize,
    pub name: String,
    pub id: u16,
    pub tries: u8,
    /// When the current try times out.
    pub deadline: SimTime,
    /// The webapp's form post this lookup serves.
    pub job: Option<WebJob>,
    /// What this PTR lookup names (`name` is then the reverse name).
    pub reverse: Option<Reverse>,
}

/// The address a reverse lookup names, and what waits for the name.
#[derive(Clone, Debug)]
pub enum Reverse {
    /// The source of ping's (or traceroute's) reply, printed once named.
    Reply(EchoReply),
    /// The peer of a connection `nc -l -v` accepted, named in its connect line.
    NcPeer(TcpKey),
}

impl Reverse {
    fn addr(&self) -> Ipv4Addr {
        match self {
            Reverse::Reply(r) => r.from,
            Reverse::NcPeer(k) => k.remote.0,
        }
    }
}

impl From<EchoReply> for Reverse {
    fn from(r: EchoReply) -> Reverse {
        Reverse::Reply(r)
    }
}

/// An echo reply ping has counted and not yet printed, or an ICMP error about one of its
/// requests (`error`: what iputils prints after `icmp_seq=N`) it has not yet counted.
#[derive(Clone, Debug)]
pub struct EchoReply {
    pub from: Ipv4Addr,
    pub seq: u16,
    pub ttl: u8,
    /// Its round trip, in nanoseconds.
    pub rtt: u64,
    pub error: Option<String>,
}

/// A form post the webapp is storing: its HTTP connection and the posted fields.
#[derive(Clone, Debug)]
pub struct WebJob {
    pub http: TcpKey,
    pub fields: Vec<(String, String)>,
}

/// glibc's resolver: `timeout:5 attempts:2`.
const DNS_TIMEOUT: SimTime = SimTime::from_secs(5);
const DNS_TRIES: u8 = 2;
/// App timer tags owned by this module.
pub(crate) const TAG_DNS_TIMEOUT: u32 = 50;
/// The app timer of curl's `--max-time` (above the DNS timers' tags).
pub(crate) const TAG_MAX_TIME: u32 = 100;
/// The app timer of `nc -w`.
pub(crate) const TAG_NC_WAIT: u32 = 101;
/// The wake-up `nslookup` asked for.
pub(crate) const TAG_NSLOOKUP: u32 = 102;

impl World {
    /// The nameserver a namespace's resolv.conf names (127.0.0.11 in a sandbox on a
    /// user-defined or swarm network).
    pub fn nameserver(&self, ns: NsId) -> Option<Ipv4Addr> {
        self.user.resolver.get(&ns).copied()
    }

    /// What an embedded DNS server in `ns` answers now.
    pub fn dns_zones(&self, ns: NsId) -> Option<DnsZones> {
        match &self.user.apps.get(*self.user.dns_server.get(&ns)?)?.kind {
            AppKind::DnsServer { keys: Some(keys), .. } => {
                Some(DnsZones(keys.iter().filter_map(|k| self.user.zones.get(k).cloned()).collect()))
            }
            AppKind::DnsServer { zones, .. } => Some(zones.clone()),
            _ => None,
        }
    }

    /// Whether `ns` runs an embedded DNS server.
    pub fn has_dns_server(&self, ns: NsId) -> bool {
        self.user.dns_server.contains_key(&ns)
    }

    /// The keys of the world's zones the embedded DNS server in `ns` asks, if it names them.
    pub fn dns_keys(&self, ns: NsId) -> Option<&[String]> {
        match &self.user.apps.get(*self.user.dns_server.get(&ns)?)?.kind {
            AppKind::DnsServer { keys: Some(keys), .. } => Some(keys),
            _ => None,
        }
    }

    /// Every name the embedded DNS server in `ns` answers, as `docker network inspect`'s
    /// reader would list them.
    pub fn dns_records(&self, ns: NsId) -> Option<Vec<DnsRecord>> {
        self.dns_zones(ns).as_ref().map(DnsZones::records)
    }

    /// Changes a network's zone in the world's table (a container joined it or left).
    pub fn apply_zone_op(&mut self, op: crate::userland::dns_zone::ZoneOp) {
        use crate::userland::dns_zone::DnsZone;
        let key = op.key().to_string();
        let z = self.user.zones.entry(key.clone()).or_insert_with(|| std::sync::Arc::new(DnsZone::new(key)));
        // Shared only with a copy of the world (a checkpoint), which keeps the zone it had.
        std::sync::Arc::make_mut(z).apply(op);
    }

    /// The world's zone `key` (`None` before any container joined its network).
    pub fn zone(&self, key: &str) -> Option<&crate::userland::dns_zone::DnsZone> {
        self.user.zones.get(key).map(|z| &**z)
    }

    /// Makes the embedded DNS server in `ns` ask the world's zones `keys`, in order.
    pub fn set_dns_keys(&mut self, ns: NsId, new: Vec<String>) {
        let Some(&app) = self.user.dns_server.get(&ns) else { return };
        if let AppKind::DnsServer { keys, .. } = &mut self.user.apps[app].kind {
            *keys = Some(new);
        }
    }

    /// A namespace's /etc/hosts: names its resolver answers from the file, first.
    pub fn set_hosts(&mut self, ns: NsId, names: Vec<(String, Ipv4Addr)>) {
        self.user.hosts.insert(ns, names);
    }

    /// The aliases `ns`'s embedded DNS answers for that sandbox alone: `(alias, name)`.
    pub fn set_dns_links(&mut self, ns: NsId, links: Vec<(String, String)>) {
        if links.is_empty() {
            self.user.dns_links.remove(&ns);
        } else {
            self.user.dns_links.insert(ns, links);
        }
    }

    /// The name a query from `ns` asks for once its sandbox's link aliases are applied
    /// (libnetwork `sandbox.go`, `ResolveName`: a local alias is looked up first, and
    /// stands for its container's name, also as `ALIAS.NETWORK`).
    fn unalias(&self, ns: NsId, qname: &str) -> Option<String> {
        let links = self.user.dns_links.get(&ns)?;
        links.iter().find_map(|(alias, name)| {
            if qname.eq_ignore_ascii_case(alias) {
                return Some(name.clone());
            }
            let (head, rest) = qname.split_once('.')?;
            head.eq_ignore_ascii_case(alias).then(|| format!("{name}.{rest}"))
        })
    }

    /// Replaces what an embedded DNS server answers (a container joined or left a network).
    pub fn set_dns_zones(&mut self, ns: NsId, new: DnsZones) {
        let Some(&app) = self.user.dns_server.get(&ns) else { return };
        if let AppKind::DnsServer { zones, keys, .. } = &mut self.user.apps[app].kind {
            *zones = new;
            *keys = None;
        }
    }

    /// The programs that ended since the last call, in the order they did.
    pub fn take_exited(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.user.exited)
    }

    /// A line `app` prints (on its standard output or error, as a terminal shows them):
    /// into the trace, and into the app's log when it keeps one. Notes about what the
    /// simulator did go to `app_note`.
    pub(crate) fn print(&mut self, app: usize, line: impl FnOnce() -> String) {
        let ns = self.user.apps[app].ns;
        if self.user.apps[app].log.is_none() {
            return self.app_log(ns, line);
        }
        let line = line();
        if let Some(log) = &mut self.user.apps[app].log {
            log.push_str(&line);
            log.push('\n');
        }
        self.app_log(ns, || line);
    }

    /// A line saying why `app` failed: printed, except curl's under `-s` without `-S`,
    /// which says nothing and only exits with its code (a note keeps the words).
    pub(crate) fn print_error(&mut self, app: usize, line: String) {
        if let AppKind::Curl { quiet_errors: true, .. } = self.user.apps[app].kind {
            let ns = self.user.apps[app].ns;
            return self.app_note(ns, || format!("{line} (not shown: -s)"));
        }
        self.print(app, || line);
    }

    /// Keeps what `app` prints from now on (a container's main process: `docker logs`).
    pub fn keep_output(&mut self, app: usize) {
        if let Some(a) = self.user.apps.get_mut(app) {
            a.log.get_or_insert_with(String::new);
        }
    }

    /// Writes `text` into `app`'s kept log (what a server writes as it starts), not the trace.
    pub fn write_log(&mut self, app: usize, text: &str) {
        if let Some(log) = self.user.apps.get_mut(app).and_then(|a| a.log.as_mut()) {
            log.push_str(text);
        }
    }

    /// What `app` printed since `keep_output`.
    pub fn output_of(&self, app: usize) -> Option<&str> {
        self.user.apps.get(app)?.log.as_deref()
    }

    /// Stops `app` as SIGTERM stops a program that dies of it (dockerd stopping a
    /// docker-proxy): its listening sockets close; connections it had are left to the kernel.
    pub fn stop_program(&mut self, app: usize) {
        let Some(ns) = self.user.apps.get(app).map(|a| a.ns) else { return };
        let ports: Vec<u16> = self.netns(ns).tcp_listen.iter().filter(|(_, o)| **o == app).map(|(p, _)| *p).collect();
        for p in ports {
            self.unlisten_tcp(ns, p, app);
        }
        self.app_finish(app);
    }

    /// `app` ends with exit status `status`.
    pub(crate) fn app_fail(&mut self, app: usize, status: u8) {
        self.user.apps[app].status = status;
        self.app_finish(app);
    }

    pub(crate) fn app_finish(&mut self, app: usize) {
        if !self.user.apps[app].done {
            self.user.exited.push(app);
        }
        self.user.apps[app].done = true;
        // A finished ping closes its socket, and its echo identifier is free again.
        if let AppKind::Ping { ident, .. } = self.user.apps[app].kind {
            let ns = self.user.apps[app].ns;
            self.close_ping(ns, ident, app);
        }
    }

    // ----- resolver ---------------------------------------------------------------------

    /// Starts resolving `name` for `app`; the answer comes back through `resolved`.
    pub(crate) fn resolve_start(&mut self, ns: NsId, app: usize, name: String, job: Option<WebJob>) {
        if name.eq_ignore_ascii_case("localhost") {
            return self.resolved(ns, app, &name, Ok(vec![Ipv4Addr::LOCALHOST]), job);
        }
        // `hosts: files dns` (glibc's nsswitch; musl reads /etc/hosts first too): the first
        // line that names it answers.
        let file = self.user.hosts.get(&ns).and_then(|h| h.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)));
        if let Some(&(_, ip)) = file {
            self.app_note(ns, || format!("/etc/hosts: {name} → {ip}"));
            return self.resolved(ns, app, &name, Ok(vec![ip]), job);
        }
        if dns::check_name(&name).is_err() {
            // glibc refuses a name DNS cannot carry before it opens a socket.
            return self.resolved(ns, app, &name, Err("Name or service not known".into()), job);
        }
        let Some(server) = self.nameserver(ns) else {
            // The outside's nameserver: it knows no lab name, or cannot be reached at all.
            let r = if self.route_output(ns, OUTSIDE_DNS, None).is_some() {
                self.app_note(ns, || format!("no embedded DNS here: the nameserver {OUTSIDE_DNS} is outside the lab and knows no lab names (NXDOMAIN)"));
                "Name or service not known"
            } else {
                self.app_note(ns, || format!("no embedded DNS here, and no route to the nameserver {OUTSIDE_DNS}"));
                "Temporary failure in name resolution"
            };
            return self.resolved(ns, app, &name, Err(r.into()), job);
        };
        let Some(sport) = self.free_ephemeral_port(|w, p| w.udp_bound(ns, p)) else {
            // glibc's resolver cannot bind its socket: the lookup fails as a temporary failure.
            self.app_note(ns, || "no free local UDP port for the resolver's socket (EADDRNOTAVAIL)".into());
            return self.resolved(ns, app, &name, Err("Temporary failure in name resolution".into()), job);
        };
        let id = self.rng.next_u32() as u16;
        self.bind_udp_shared(ns, sport, app);
        let deadline = self.now + DNS_TIMEOUT;
        let l = Lookup { app, name: name.clone(), id, tries: 1, deadline, job, reverse: None };
        self.user.lookups.insert((ns, sport), l);
        self.dns_send(ns, server, sport, id, &name, dns::QTYPE_A);
        self.set_timer(app, DNS_TIMEOUT, TAG_DNS_TIMEOUT);
    }

    /// Names the address of `r` as glibc's getnameinfo does: /etc/hosts first, then a PTR
    /// query to the nameserver; what waits for the name goes on once it has an answer
    /// (`reverse_done`).
    pub(crate) fn reverse_start(&mut self, ns: NsId, app: usize, r: impl Into<Reverse>) {
        let r = r.into();
        let from = r.addr();
        let file = self.user.hosts.get(&ns).and_then(|h| h.iter().find(|(_, ip)| *ip == from));
        if let Some((name, _)) = file {
            let name = name.clone();
            return self.reverse_done(ns, app, r, Some(name));
        }
        // No nameserver in the lab (the outside's knows no lab address), no free port:
        // getnameinfo falls back to the digits.
        let Some(server) = self.nameserver(ns) else { return self.reverse_done(ns, app, r, None) };
        let Some(sport) = self.free_ephemeral_port(|w, p| w.udp_bound(ns, p)) else {
            return self.reverse_done(ns, app, r, None);
        };
        let id = self.rng.next_u32() as u16;
        let name = dns::ptr_name(from);
        self.bind_udp_shared(ns, sport, app);
        let deadline = self.now + DNS_TIMEOUT;
        let l = Lookup { app, name: name.clone(), id, tries: 1, deadline, job: None, reverse: Some(r) };
        self.user.lookups.insert((ns, sport), l);
        self.dns_send(ns, server, sport, id, &name, dns::QTYPE_PTR);
        self.set_timer(app, DNS_TIMEOUT, TAG_DNS_TIMEOUT);
    }

    /// A reverse lookup is over: `name` is the answer (`None`: none, and getnameinfo gives
    /// the digits).
    fn reverse_done(&mut self, ns: NsId, app: usize, r: Reverse, name: Option<String>) {
        match r {
            Reverse::Reply(r) => {
                let name = name.unwrap_or_else(|| r.from.to_string());
                self.echo_reply_shown(ns, app, r, Some(name))
            }
            Reverse::NcPeer(key) => self.nc_accepted(ns, app, key, name),
        }
    }

    fn dns_send(&mut self, ns: NsId, server: Ipv4Addr, sport: u16, id: u16, name: &str, qtype: u16) {
        // `resolve_start` checked the name; a reverse name always fits.
        let Ok(q) = dns::build_query_type(id, name, qtype) else { return };
        let who = format!("resolver: {}? {name}", dns::qtype_text(qtype));
        self.send_udp(ns, None, (server, 53), sport, &q, who);
    }

    /// An app timer with tag `TAG_DNS_TIMEOUT`: retry or give up the app's lookups whose try
    /// is over (an app may have several in flight, each with its own deadline).
    pub(crate) fn dns_timeout(&mut self, ns: NsId, app: usize) {
        let now = self.now;
        let due: Vec<(u16, Lookup)> = self
            .user
            .lookups
            .iter()
            .filter(|((n, _), l)| *n == ns && l.app == app && l.deadline <= now)
            .map(|((_, p), l)| (*p, l.clone()))
            .collect();
        for (sport, l) in due {
            if l.tries < DNS_TRIES {
                if let Some(server) = self.nameserver(ns)
                    && let Some(x) = self.user.lookups.get_mut(&(ns, sport))
                {
                    x.tries += 1;
                    x.deadline = now + DNS_TIMEOUT;
                    let qtype = if l.reverse.is_some() { dns::QTYPE_PTR } else { dns::QTYPE_A };
                    self.dns_send(ns, server, sport, l.id, &l.name, qtype);
                    self.set_timer(app, DNS_TIMEOUT, TAG_DNS_TIMEOUT);
                }
            } else {
                self.user.lookups.remove(&(ns, sport));
                self.unbind_udp(ns, sport);
                if let Some(r) = l.reverse {
                    self.reverse_done(ns, app, r, None);
                    continue;
                }
                self.resolved(ns, app, &l.name, Err("connection timed out; no servers could be reached".into()), l.job);
            }
        }
    }

    /// A DNS response for one of our lookups.
    fn dns_response(&mut self, ns: NsId, sport: u16, payload: &[u8]) {
        let Some(l) = self.user.lookups.get(&(ns, sport)).cloned() else { return };
        let Ok(resp) = dns::parse_response(payload) else { return };
        if resp.id != l.id {
            return;
        }
        self.user.lookups.remove(&(ns, sport));
        self.unbind_udp(ns, sport);
        if let Some(r) = l.reverse {
            let name = resp.ptrs.first().map(|p| p.target.clone());
            return self.reverse_done(ns, l.app, r, name);
        }
        let r = match resp.rcode {
            0 if !resp.answers.is_empty() => Ok(resp.answers.iter().map(|a| a.addr).collect()),
            0 | 3 => Err("Name or service not known".to_string()),
            _ => Err("Temporary failure in name resolution".to_string()),
        };
        self.resolved(ns, l.app, &l.name, r, l.job);
    }

    /// A name is resolved (or not): the app that asked goes on.
    fn resolved(&mut self, ns: NsId, app: usize, name: &str, r: Result<Vec<Ipv4Addr>, String>, job: Option<WebJob>) {
        let first = r.as_ref().ok().and_then(|v| v.first().copied());
        if let Some(ip) = first {
            self.app_note(ns, || format!("resolved {name} → {ip}"));
        }
        match (&mut self.user.apps[app].kind, first) {
            (AppKind::Ping { dst, .. }, Some(ip)) => {
                *dst = ip;
                self.app_timer(app, 0);
            }
            (AppKind::Curl { dst, .. }, Some(ip)) | (AppKind::MysqlClient { dst, .. }, Some(ip)) => {
                *dst = ip;
                self.client_connect(ns, app);
            }
            (AppKind::Nc { dst, .. }, Some(ip)) => {
                *dst = ip;
                self.nc_connect(ns, app);
            }
            (AppKind::Traceroute { dst, .. }, Some(ip)) => {
                *dst = ip;
                self.traceroute_start(ns, app);
            }
            (AppKind::Http { mysql: Some(m), .. }, Some(ip)) => {
                let Some(job) = job else { return };
                let insert = webapp::insert(m, &job.fields);
                let conn = mysql::ClientConn::new(&m.user, &m.password, Some(&m.database), vec![insert]);
                if let Some(key) = self.connect(ns, app, (ip, 3306), Vec::new(), false) {
                    self.user
                        .streams
                        .insert((ns, key), Stream::MysqlClient { conn: Box::new(conn), job: Some(job.http) });
                }
            }
            (AppKind::Http { .. }, None) => {
                let msg = format!(
                    "Connection failed: php_network_getaddresses: getaddrinfo failed: {}",
                    r.err().unwrap_or_default()
                );
                if let Some(job) = job {
                    self.web_reply(ns, job.http, 200, &msg);
                }
            }
            (kind, None) => {
                let tool = kind.tool_name();
                let e = r.err().unwrap_or_default();
                // curl: CURLE_COULDNT_RESOLVE_HOST (6); iputils ping: 2 for an error other
                // than no reply; busybox and mysql: 1.
                let (line, status) = match kind {
                    AppKind::Curl { wget: Some(_), .. } => (wget::bad_address(name), 1),
                    AppKind::Nc { .. } => (nc::bad_address(name), 1),
                    AppKind::Traceroute { .. } => (crate::userland::proto::traceroute::bad_address(name), 1),
                    AppKind::Curl { .. } => (format!("curl: (6) Could not resolve host: {name}"), 6),
                    AppKind::MysqlClient { .. } => {
                        (format!("ERROR 2005 (HY000): Unknown MySQL server host '{name}' (-2)"), 1)
                    }
                    AppKind::Ping { flavour, .. } => flavour.bad_address(name, &e),
                    _ => (format!("{tool}: {name}: {e}"), 1),
                };
                self.print_error(app, line);
                self.app_fail(app, status);
            }
            _ => {}
        }
    }

    // ----- UDP: the embedded DNS server and resolver answers -------------------------------

    /// UDP for a service app; returns false if the app is not one of ours.
    pub(crate) fn service_udp(
        &mut self,
        ns: NsId,
        app: usize,
        src: (Ipv4Addr, u16),
        (local, dport): (Ipv4Addr, u16),
        payload: &[u8],
    ) -> bool {
        if self.user.lookups.contains_key(&(ns, dport)) {
            self.dns_response(ns, dport, payload);
            return true;
        }
        if let AppKind::Dig(_) = self.user.apps[app].kind {
            self.dig_rx(ns, app, src, payload);
            return true;
        }
        if let AppKind::Nslookup { prog: Some(p), sport, .. } = &self.user.apps[app].kind {
            // Its socket is connected to the server: nothing else reaches it.
            if *sport == dport && src == (p.server, p.port) {
                let out = self.nslookup_prog(app).map(|p| p.reply(payload)).unwrap_or_default();
                self.nslookup_apply(ns, app, out);
            }
            return true;
        }
        let AppKind::DnsServer { zones, keys, .. } = &self.user.apps[app].kind else { return false };
        let Ok(q) = dns::parse_query(payload) else { return true };
        let linked = self.unalias(ns, q.name.trim_end_matches('.'));
        let qname = linked.as_deref().unwrap_or(q.name.trim_end_matches('.'));
        let found = match keys {
            Some(keys) => crate::userland::dns_zone::resolve(
                keys.iter().filter_map(|k| self.user.zones.get(k).map(|z| &**z)),
                qname,
            ),
            None => zones.lookup(qname),
        };
        let mut addrs = found.map(<[Ipv4Addr]>::to_vec);
        // Several addresses come back shuffled (resolver.go handleIPQuery).
        if let Some(a) = &mut addrs {
            for i in (1..a.len()).rev() {
                let j = self.rng.range(0, i as u64) as usize;
                a.swap(i, j);
            }
        }
        let ptr = dns::ptr_addr(qname).and_then(|ip| match keys {
            Some(keys) => keys.iter().find_map(|k| self.user.zones.get(k)?.ptr(ip)),
            None => zones.ptr(ip),
        });
        let sandbox = Known { addrs, ptr };
        let Some((resp, served)) = dns::embedded_answer(payload, &sandbox) else { return true };
        self.app_note(ns, || format!("embedded DNS: {}? {} → {}", dns::qtype_text(q.qtype), q.name, served.explain()));
        // dockerd's socket is bound to 127.0.0.11, so the answer comes from there and
        // conntrack turns its port back into 53.
        self.send_udp(ns, Some(local), src, dport, &resp, "embedded DNS answer");
        true
    }

    // ----- nslookup --------------------------------------------------------------------

    fn nslookup_prog(&mut self, app: usize) -> Option<&mut nslookup::Nslookup> {
        match &mut self.user.apps[app].kind {
            AppKind::Nslookup { prog: Some(p), .. } => Some(p),
            _ => None,
        }
    }

    /// `nslookup` starts: it picks its server, opens a socket connected to it and writes
    /// its queries.
    pub(crate) fn nslookup_start(&mut self, ns: NsId, app: usize) {
        let AppKind::Nslookup { name, flavour, server, opts, .. } = &self.user.apps[app].kind else { return };
        let (name, flavour, opts) = (name.clone(), *flavour, opts.clone());
        let (server_name, ip, outside) = match server {
            Some(s) => match s.parse::<Ipv4Addr>() {
                Ok(ip) => (s.clone(), ip, false),
                Err(_) => {
                    let line = format!("netsim: nslookup: the server must be an IPv4 address, not {s:?}");
                    self.print(app, || line);
                    return self.app_fail(app, 1);
                }
            },
            None => match self.nameserver(ns) {
                Some(ip) => (ip.to_string(), ip, false),
                None => (OUTSIDE_DNS.to_string(), OUTSIDE_DNS, true),
            },
        };
        let rng = &mut self.rng;
        let prog = nslookup::Nslookup::new(flavour, &name, &opts, (server_name, ip), || rng.next_u32() as u16);
        let mut prog = match prog {
            Ok(p) => p,
            Err((lines, status)) => {
                for l in lines {
                    self.print(app, || l);
                }
                return self.app_fail(app, status);
            }
        };
        if self.route_output(ns, ip, None).is_none() {
            // connect(2) on its UDP socket fails: ENETUNREACH.
            let line = match flavour {
                nslookup::Flavour::Busybox => {
                    format!("nslookup: can't connect to remote host ({ip}): Network is unreachable")
                }
                nslookup::Flavour::Bind => ";; connection timed out; no servers could be reached".to_string(),
            };
            self.print(app, || line);
            return self.app_fail(app, 1);
        }
        let now = self.now.as_nanos();
        let out = prog.start(now);
        if outside {
            // Outside the lab: its answer to each query, at once and without frames.
            self.print(app, || {
                format!(
                    "no embedded DNS here: nslookup asks {ip}, outside the lab, which knows no lab names (NXDOMAIN)"
                )
            });
            let done = prog.ask_outside(out);
            for l in done.lines {
                self.print(app, || l);
            }
            return self.app_fail(app, done.exit.unwrap_or(1));
        }
        let Some(sport) = self.free_ephemeral_port(|w, p| w.udp_bound(ns, p)) else {
            self.print(app, || "nslookup: bind: Address already in use".to_string());
            return self.app_fail(app, 1);
        };
        self.bind_udp_shared(ns, sport, app);
        if let AppKind::Nslookup { prog: slot, sport: port, .. } = &mut self.user.apps[app].kind {
            *slot = Some(Box::new(prog));
            *port = sport;
        }
        self.nslookup_apply(ns, app, out);
    }

    /// The wake-up `nslookup` asked for.
    pub(crate) fn nslookup_wake(&mut self, ns: NsId, app: usize) {
        let now = self.now.as_nanos();
        if let Some(out) = self.nslookup_prog(app).map(|p| p.wake(now)) {
            self.nslookup_apply(ns, app, out);
        }
    }

    /// What `nslookup` does next: write, print, arm its timer, exit.
    fn nslookup_apply(&mut self, ns: NsId, app: usize, out: nslookup::Out) {
        let AppKind::Nslookup { prog: Some(p), sport, .. } = &self.user.apps[app].kind else { return };
        let (to, sport) = ((p.server, p.port), *sport);
        for q in &out.send {
            let who = match dns::parse_query(q) {
                Ok(q) => format!("nslookup: {}? {}", dns::qtype_text(q.qtype), q.name),
                Err(_) => "nslookup".to_string(),
            };
            self.send_udp(ns, None, to, sport, q, who);
        }
        for l in out.lines {
            self.print(app, || l);
        }
        if let Some(status) = out.exit {
            self.unbind_udp(ns, sport);
            return self.app_fail(app, status);
        }
        if let Some(at) = out.wake {
            let after = SimTime::from_nanos(at.saturating_sub(self.now.as_nanos()));
            self.set_timer(app, after, TAG_NSLOOKUP);
        }
    }

    // ----- TCP clients ------------------------------------------------------------------

    /// curl's `--max-time` ran out before it was done: libcurl's error 28 (`Curl_timeleft`,
    /// lib/multi.c), in the words for a connection not yet made or a transfer under way, and
    /// the socket closed (a SYN not yet answered is forgotten, a connection gets its FIN).
    pub(crate) fn curl_max_time(&mut self, ns: NsId, app: usize) {
        let AppKind::Curl { max_time: Some(max), .. } = self.user.apps[app].kind else { return };
        let ms = max.as_nanos() / 1_000_000;
        let conn = self.netns(ns).tcp.iter().find(|(_, c)| c.owner == app).map(|(k, c)| (*k, c.state, c.rx_bytes));
        let line = match conn {
            Some((_, state, got)) if state != crate::kernel::tcp::TcpState::SynSent => {
                format!("curl: (28) Operation timed out after {ms} milliseconds with {got} bytes received")
            }
            None if self.user.lookups.values().any(|l| l.app == app) => {
                format!("curl: (28) Resolving timed out after {ms} milliseconds")
            }
            _ => format!("curl: (28) Connection timed out after {ms} milliseconds"),
        };
        if let Some((key, ..)) = conn {
            self.user.streams.remove(&(ns, key));
            self.tcp_close(ns, key);
        }
        self.print_error(app, line);
        self.app_fail(app, 28);
    }

    /// nc: the target is resolved; connect, with `-w`'s alarm armed.
    pub(crate) fn nc_connect(&mut self, ns: NsId, app: usize) {
        let AppKind::Nc { dst, port, opts, zero, .. } = self.user.apps[app].kind else { return };
        match self.tcp_connect(ns, app, (dst, port), Vec::new(), false, None) {
            Ok(key) => {
                let stream = if zero { Stream::NcScan } else { Stream::Nc(NcConn::default()) };
                self.user.streams.insert((ns, key), stream);
                if let Some(secs) = opts.wait {
                    self.set_timer(app, SimTime::from_secs(secs.into()), TAG_NC_WAIT);
                }
            }
            Err(e) => self.nc_done(app, Err(e.text())),
        }
    }

    /// nc's connect is over: the connection is up (`Ok`, for `-z` the end of it) or failed
    /// with strerror's words; nc prints what its verbosity asks and, unless it goes on to
    /// copy, exits.
    fn nc_done(&mut self, app: usize, r: Result<(), &str>) {
        let AppKind::Nc { dst, ref host, port, opts, zero } = self.user.apps[app].kind else { return };
        let line = match r {
            Ok(()) => nc::open(opts, host, dst, port),
            Err(what) => nc::failed(opts, host, dst, port, what),
        };
        if let Some(l) = line {
            self.print(app, || l);
        }
        if r.is_ok() && !zero {
            return;
        }
        if let Some(l) = nc::totals(opts, 0, 0) {
            self.print(app, || l);
        }
        // nc_bloaty.c: a port that does not answer is a failure of the run.
        self.app_fail(app, if r.is_ok() { 0 } else { 1 });
    }

    /// `nc -w`'s alarm. A connect still under way is abandoned (ETIMEDOUT,
    /// `connect_w_timeout`); on a connection that is copying, it is `readwrite`'s poll
    /// timeout: after two waits in a row with nothing from the peer, nc exits 0.
    pub(crate) fn nc_wait(&mut self, ns: NsId, app: usize) {
        // Its one connection, found by owner as `curl_max_time` finds curl's.
        let Some(key) = self.netns(ns).tcp.iter().find(|(_, c)| c.owner == app).map(|(k, _)| *k) else { return };
        let now = self.now;
        let wait = match self.user.apps[app].kind {
            AppKind::Nc { opts: nc::NcOpts { wait: Some(w), .. }, .. } => SimTime::from_secs(w.into()),
            _ => return,
        };
        match self.user.streams.get_mut(&(ns, key)) {
            Some(Stream::Nc(c)) if c.ready => {
                if now < c.deadline {
                    return;
                }
                if !c.heard {
                    c.silent_left = c.silent_left.saturating_sub(1);
                }
                c.heard = false;
                if c.silent_left == 0 {
                    return self.nc_end(ns, app, key);
                }
                c.deadline = now + wait;
                self.set_timer(app, wait, TAG_NC_WAIT);
            }
            Some(Stream::Nc(_) | Stream::NcScan) => {
                self.user.streams.remove(&(ns, key));
                self.tcp_close(ns, key);
                self.nc_done(app, Err("Connection timed out"));
            }
            _ => {}
        }
    }

    /// A connection a program opened is up.
    pub(crate) fn service_connected(&mut self, ns: NsId, app: usize, key: TcpKey) {
        match self.user.streams.get_mut(&(ns, key)) {
            Some(Stream::Proxy(_)) => self.proxy_connected(ns, key),
            Some(Stream::NcScan) => {
                self.user.streams.remove(&(ns, key));
                // nc exits: close(2) sends the FIN after the handshake's ACK.
                self.tcp_close(ns, key);
                self.nc_done(app, Ok(()));
            }
            Some(Stream::Nc(c)) => {
                c.ready = true;
                if let AppKind::Nc { opts: nc::NcOpts { wait: Some(w), .. }, .. } = self.user.apps[app].kind {
                    let wait = SimTime::from_secs(w.into());
                    (c.deadline, c.silent_left) = (self.now + wait, 2);
                    self.set_timer(app, wait, TAG_NC_WAIT);
                }
                self.nc_done(app, Ok(()));
                // Its empty standard input: shutdown(SHUT_WR).
                self.tcp_write(ns, key, &[], true);
            }
            _ => {}
        }
    }

    /// `nc -l`, started: binds its port (a free one if it has none) and listens.
    pub(crate) fn nc_listen(&mut self, ns: NsId, app: usize) {
        let AppKind::NcListen { port, opts, .. } = self.user.apps[app].kind else { return };
        let port = match port {
            0 => self.free_ephemeral_port(|w, p| w.netns(ns).tcp_listen.contains_key(&p)).unwrap_or(0),
            p => p,
        };
        let name = self.netns(ns).name.clone();
        if port == 0 || self.listen_tcp(ns, port, app, &name).is_err() {
            self.print(app, || nc::BIND_IN_USE.to_string());
            return self.app_fail(app, 1);
        }
        if let AppKind::NcListen { port: p, .. } = &mut self.user.apps[app].kind {
            *p = port;
        }
        if opts.verbose > 0 {
            self.print(app, || nc::listening(port));
        }
    }

    /// `nc -l` accepted a connection. Unless it runs `-e PROG` for every connection (`-k`),
    /// this is its only one: it closes its listening socket (`dolisten` moves the accepted
    /// socket onto it). With `-v` it names the peer first.
    fn nc_accept(&mut self, ns: NsId, app: usize, key: TcpKey) {
        let AppKind::NcListen { port, opts, keep, ref reply } = self.user.apps[app].kind else { return };
        if !(keep && reply.is_some()) {
            self.unlisten_tcp(ns, port, app);
        }
        // nc closes when it is done (its program has written, or the copy is over), not
        // when the peer's FIN is read: that may come while it looks its peer up.
        self.tcp_hold(ns, key);
        self.user.streams.insert((ns, key), Stream::Nc(NcConn::default()));
        if opts.verbose > 0 && !opts.numeric {
            self.reverse_start(ns, app, Reverse::NcPeer(key));
        } else {
            self.nc_accepted(ns, app, key, None);
        }
    }

    /// A connection `nc -l` accepted is announced (`name`: its peer's, if it has one): `-e
    /// PROG` answers it and exits, closing it; else nc copies it as a client does.
    fn nc_accepted(&mut self, ns: NsId, app: usize, key: TcpKey, name: Option<String>) {
        let AppKind::NcListen { opts, keep, ref reply, .. } = self.user.apps[app].kind else { return };
        let reply = reply.clone();
        if opts.verbose > 0 {
            self.print(app, || nc::connect_from(key.local, name.as_deref(), key.remote));
        }
        if let Some(reply) = reply {
            self.user.streams.remove(&(ns, key));
            self.tcp_write(ns, key, &reply, true);
            if !keep {
                self.app_finish(app);
            }
            return;
        }
        self.tcp_write(ns, key, &[], true);
        let Some(Stream::Nc(c)) = self.user.streams.get_mut(&(ns, key)) else { return };
        c.ready = true;
        let eof = c.eof;
        self.nc_print(ns, app, key, &[]);
        if eof {
            self.nc_end(ns, app, key);
        }
    }

    /// nc's copy to standard output: `data` arrived; whole lines are printed.
    fn nc_print(&mut self, ns: NsId, app: usize, key: TcpKey, data: &[u8]) {
        let Some(Stream::Nc(c)) = self.user.streams.get_mut(&(ns, key)) else { return };
        c.rcvd += data.len() as u64;
        c.heard |= !data.is_empty();
        c.line.extend_from_slice(data);
        if !c.ready {
            return;
        }
        let Some(end) = c.line.iter().rposition(|b| *b == b'\n') else { return };
        let text: Vec<u8> = c.line.drain(..=end).collect();
        for l in String::from_utf8_lossy(&text[..end]).split('\n') {
            let l = l.to_string();
            self.print(app, || l);
        }
    }

    /// The peer closed a connection nc copies: nc prints what is left and exits 0.
    fn nc_end(&mut self, ns: NsId, app: usize, key: TcpKey) {
        let Some(Stream::Nc(c)) = self.user.streams.remove(&(ns, key)) else { return };
        if !c.line.is_empty() {
            let l = String::from_utf8_lossy(&c.line).into_owned();
            self.print(app, || l);
        }
        self.tcp_close(ns, key);
        let opts = match self.user.apps[app].kind {
            AppKind::Nc { opts, .. } | AppKind::NcListen { opts, .. } => opts,
            _ => return,
        };
        if let Some(l) = nc::totals(opts, 0, c.rcvd) {
            self.print(app, || l);
        }
        self.app_finish(app);
    }

    /// curl or mysql: the target is resolved; open the connection.
    pub(crate) fn client_connect(&mut self, ns: NsId, app: usize) {
        let (dst, port) = match &self.user.apps[app].kind {
            AppKind::Curl { dst, port, .. } | AppKind::MysqlClient { dst, port, .. } => (*dst, *port),
            _ => return,
        };
        if let AppKind::Curl { wget: Some(o), .. } = &self.user.apps[app].kind
            && let Some(line) = wget::connecting(o, dst, port)
        {
            self.print(app, || line);
        }
        let key = match self.try_connect(ns, app, (dst, port), Vec::new(), false, None) {
            Ok(key) => key,
            Err(what) => {
                // connect(2) failed at once (no route): each program's line for a failed
                // connection, and curl's CURLE_COULDNT_CONNECT (7), 1 for the others.
                let (line, status) = match self.user.apps[app].kind {
                    AppKind::Curl { wget: Some(_), .. } => (wget::cant_connect(dst, &what), 1),
                    AppKind::Curl { .. } => (format!("curl: (7) Failed to connect to {dst} port {port}: {what}"), 7),
                    _ => (format!("ERROR 2003 (HY000): Can't connect to MySQL server on '{dst}' ({what})"), 1),
                };
                self.print_error(app, line);
                self.app_fail(app, status);
                return;
            }
        };
        // The stream exists before the first byte leaves: between macvlan siblings the
        // answer can come back within this same event, and it must find its parser.
        match &self.user.apps[app].kind {
            AppKind::Curl { host, method, path, data, wget, .. } => {
                let req = match wget {
                    Some(o) => wget::request(o, path, data.as_deref()),
                    None => http::curl_request(method, host, port, path, data.as_deref()).to_bytes(),
                };
                let parser = match method.as_str() {
                    "HEAD" => http::ResponseParser::for_head(),
                    _ => http::ResponseParser::new(),
                };
                self.user.streams.insert((ns, key), Stream::HttpClient(parser));
                self.tcp_write(ns, key, &req, false);
            }
            AppKind::MysqlClient { user, password, database, queries, .. } => {
                let conn = Box::new(mysql::ClientConn::new(user, password, database.as_deref(), queries.clone()));
                self.user.streams.insert((ns, key), Stream::MysqlClient { conn, job: None });
            }
            _ => {}
        }
    }

    /// A passive connection was accepted by a service app.
    pub(crate) fn service_accept(&mut self, ns: NsId, app: usize, key: TcpKey) {
        let stream = match &mut self.user.apps[app].kind {
            AppKind::Http { connections, .. } => {
                *connections += 1;
                Stream::HttpServer(http::RequestParser::new())
            }
            AppKind::MysqlServer { password, next_conn, .. } => {
                *next_conn += 1;
                let (id, pw) = (*next_conn, password.clone());
                let mut salt = [0u8; 20];
                for b in &mut salt {
                    // The scramble is printable ASCII, as MySQL makes it.
                    *b = 0x21 + (self.rng.next_u32() % 94) as u8;
                }
                let (conn, greeting) = mysql::ServerConn::new(id, salt, vec![("root".into(), pw)]);
                self.tcp_queue(ns, key, &greeting, false);
                Stream::MysqlServer(Box::new(conn))
            }
            _ => return,
        };
        self.user.streams.insert((ns, key), stream);
    }

    /// accept(2) returned `key` to `app`: the programs that act only then (nc, docker-proxy).
    pub(crate) fn service_established(&mut self, ns: NsId, app: usize, key: TcpKey) {
        match self.user.apps[app].kind {
            AppKind::NcListen { .. } => self.nc_accept(ns, app, key),
            AppKind::DockerProxy { .. } => self.proxy_accept(ns, app, key),
            _ => {}
        }
    }

    /// Bytes arrived on a connection that carries a protocol stream.
    pub(crate) fn service_rx(&mut self, ns: NsId, app: usize, key: TcpKey, data: &[u8]) -> bool {
        let Some(stream) = self.user.streams.get_mut(&(ns, key)) else { return false };
        match stream {
            Stream::HttpServer(p) => match p.push(data) {
                Ok(Some(req)) => {
                    *p = http::RequestParser::new();
                    self.http_request(ns, app, key, req);
                }
                Ok(None) => {}
                Err(e) => {
                    self.app_log(ns, || format!("http: bad request: {e}"));
                    let r = http::php_response(400, webapp::HTTP_DATE, "Bad Request");
                    self.tcp_write(ns, key, &r.to_bytes(), true);
                }
            },
            Stream::HttpClient(p) => match p.push(data) {
                Ok(Some(resp)) => {
                    self.user.streams.remove(&(ns, key));
                    self.curl_done(ns, app, key, Ok(resp));
                }
                Ok(None) => {}
                Err(e) => {
                    self.user.streams.remove(&(ns, key));
                    self.curl_done(ns, app, key, Err(e));
                }
            },
            Stream::MysqlServer(conn) => {
                let AppKind::MysqlServer { db, .. } = &mut self.user.apps[app].kind else { return true };
                let out = conn.on_data(db, data);
                for l in out.log {
                    self.app_log(ns, || format!("mysqld: {l}"));
                }
                self.tcp_write(ns, key, &out.send, out.close);
            }
            // Closed as soon as it is up: nothing reaches nc.
            Stream::NcScan => {}
            Stream::Nc(_) => self.nc_print(ns, app, key, data),
            Stream::Proxy(_) => self.proxy_rx(ns, key, data),
            Stream::MysqlClient { conn, job } => {
                let job = *job;
                let out = conn.on_data(data);
                let results = out.results;
                let done = out.done;
                if done {
                    // The client sent COM_QUIT (or the login failed): the server's FIN is expected.
                    self.user.streams.remove(&(ns, key));
                }
                self.tcp_write(ns, key, &out.send, done);
                match job {
                    None => {
                        for r in &results {
                            for line in mysql::format_result(r).lines() {
                                let line = line.to_string();
                                self.app_log(ns, || line);
                            }
                        }
                        if done {
                            self.app_finish(app);
                        }
                    }
                    Some(http) => {
                        for l in out.log {
                            // What the webapp said to MySQL: PHP logs none of it.
                            self.app_note(ns, || format!("webapp → mysql: {l}"));
                        }
                        if let Some(r) = results.last() {
                            self.web_reply(ns, http, 200, &webapp::outcome(Some(r)));
                        } else if done {
                            // Login failed: the client ends without a query result.
                            self.web_reply(ns, http, 200, &webapp::outcome(None));
                        }
                    }
                }
            }
        }
        true
    }

    /// The peer reset or refused a connection, or the SYNs timed out.
    pub(crate) fn service_failed(&mut self, ns: NsId, app: usize, key: TcpKey, what: &str) {
        let Some(stream) = self.user.streams.remove(&(ns, key)) else { return };
        match stream {
            Stream::HttpClient(_) if matches!(self.user.apps[app].kind, AppKind::Curl { wget: Some(_), .. }) => {
                let line = wget::cant_connect(key.remote.0, what);
                self.print(app, || line);
                self.app_fail(app, 1);
            }
            // A reset once the connection was up: the request went, and reading the
            // response failed (CURLE_RECV_ERROR, lib/transfer.c).
            Stream::HttpClient(_) if what == "Connection reset by peer" => {
                self.print_error(app, format!("curl: (56) Recv failure: {what}"));
                self.app_fail(app, 56);
            }
            Stream::HttpClient(_) => {
                let (ip, port) = key.remote;
                // curl: CURLE_OPERATION_TIMEDOUT (28) for a timeout, CURLE_COULDNT_CONNECT (7)
                // for every other failed connect (refused, no route to host, …).
                let code = if what.contains("timed out") { 28 } else { 7 };
                let line = format!("curl: ({code}) Failed to connect to {ip} port {port}: {what}");
                self.print_error(app, line);
                self.app_fail(app, code);
            }
            Stream::MysqlClient { job: None, .. } => {
                let (ip, _) = key.remote;
                let line = format!("ERROR 2003 (HY000): Can't connect to MySQL server on '{ip}' ({what})");
                self.print(app, || line);
                self.app_fail(app, 1);
            }
            Stream::MysqlClient { job: Some(http), .. } => {
                self.web_reply(ns, http, 200, &format!("Connection failed: {what}"));
            }
            Stream::NcScan | Stream::Nc(_) => self.nc_done(app, Err(what)),
            Stream::Proxy(crate::userland::proxy::Relay::Back { front, .. }) => self.proxy_failed(ns, app, front, what),
            _ => {}
        }
    }

    /// The peer closed; a client waiting for a response without a length takes what it has.
    pub(crate) fn service_eof(&mut self, ns: NsId, app: usize, key: TcpKey) {
        if let Some(Stream::Proxy(_)) = self.user.streams.get(&(ns, key)) {
            return self.proxy_eof(ns, key);
        }
        if let Some(Stream::Nc(c)) = self.user.streams.get_mut(&(ns, key)) {
            c.eof = true;
            if c.ready {
                self.nc_end(ns, app, key);
            }
            return;
        }
        if let Some(Stream::HttpClient(p)) = self.user.streams.get_mut(&(ns, key)) {
            let r = p.eof();
            self.user.streams.remove(&(ns, key));
            match r {
                Some(resp) => self.curl_done(ns, app, key, Ok(resp)),
                None => self.curl_done(ns, app, key, Err("Empty reply from server".into())),
            }
        } else if let Some(Stream::MysqlClient { job: None, .. }) = self.user.streams.get(&(ns, key)) {
            self.user.streams.remove(&(ns, key));
            self.print(app, || "ERROR 2013 (HY000): Lost connection to MySQL server during query".into());
            self.app_fail(app, 1);
        }
    }

    fn curl_done(&mut self, ns: NsId, app: usize, key: TcpKey, r: Result<http::Response, String>) {
        if let AppKind::Curl { wget: Some(o), path, .. } = &self.user.apps[app].kind {
            let files = &self.user.files;
            let (lines, ok, saved) = match &r {
                Ok(resp) => {
                    let d = wget::response(o, path, resp, 0, |f| files.contains(&(ns, f.to_string())));
                    (d.lines, d.ok, d.saved)
                }
                // busybox reads the status line first: anything else is a bad reply.
                Err(_) => (vec!["wget: error getting response".to_string()], false, None),
            };
            if let Some(f) = saved {
                self.user.files.insert((ns, f));
            }
            for line in lines {
                self.print(app, || line);
            }
            self.tcp_write(ns, key, &[], true);
            self.app_fail(app, if ok { 0 } else { 1 });
            return;
        }
        let (out, quiet_errors) = match &self.user.apps[app].kind {
            AppKind::Curl { out, quiet_errors, .. } => (out.clone(), *quiet_errors),
            _ => (Default::default(), false),
        };
        match r {
            Ok(resp) => {
                let status = format!("HTTP/1.1 {} {} ({} bytes)", resp.status, resp.reason, resp.body.len());
                self.app_log(ns, || format!("curl: {status}"));
                let failed = out.fail && resp.status >= 400;
                // curl(1): `-I` and `-i` print the head as it came, its blank line included;
                // `--fail` prints neither head nor body of an error.
                if (out.head || out.include) && !failed {
                    let head = format!("HTTP/1.1 {} {}", resp.status, resp.reason);
                    self.print(app, || head);
                    for (name, value) in &resp.headers {
                        let line = format!("{name}: {value}");
                        self.print(app, || line);
                    }
                    self.print(app, String::new);
                }
                match (&out.output, failed) {
                    (_, true) => {
                        // lib/http.c `http_should_fail`: "The requested URL returned error".
                        if !quiet_errors {
                            let line = format!("curl: (22) The requested URL returned error: {}", resp.status);
                            self.print_error(app, line);
                        }
                        self.user.apps[app].status = 22;
                    }
                    (Some(file), false) => {
                        if file != "/dev/null" && file != "-" {
                            self.user.files.insert((ns, file.clone()));
                        }
                    }
                    (None, false) => {
                        let body = String::from_utf8_lossy(&resp.body).to_string();
                        for line in body.lines().filter(|l| !l.trim().is_empty()) {
                            let line = line.to_string();
                            self.print(app, || line);
                        }
                    }
                }
                if let Some(w) = &out.write_out {
                    let text = curl_write_out(w, &resp);
                    for line in text.lines() {
                        let line = line.to_string();
                        self.print(app, || line);
                    }
                }
            }
            Err(e) => {
                let (line, code) = if e.contains("Empty reply") {
                    ("curl: (52) Empty reply from server".to_string(), 52)
                } else {
                    (format!("curl: (8) Weird server reply: {e}"), 8)
                };
                self.print_error(app, line);
                self.user.apps[app].status = code;
            }
        }
        // curl closes its connection when it has the whole response.
        self.tcp_write(ns, key, &[], true);
        self.app_finish(app);
    }

    // ----- the webapp -------------------------------------------------------------------

    fn http_request(&mut self, ns: NsId, app: usize, key: TcpKey, req: http::Request) {
        let line = format!("{} {} HTTP/1.1 ({} bytes of body)", req.method, req.path, req.body.len());
        self.app_log(ns, || format!("httpd: {line}"));
        let AppKind::Http { mysql, server, .. } = &self.user.apps[app].kind else { return };
        let (mysql, server) = (mysql.clone(), server.clone());
        // A client that asks the server to close (busybox wget) is answered, then the
        // server closes, as Apache and nginx do.
        let close = req.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if close {
            self.user.close_after.insert((ns, key));
        }
        match (req.method.as_str(), mysql) {
            ("POST", Some(m)) => {
                let job = WebJob { http: key, fields: http::parse_form(&req.body) };
                self.app_log(ns, || format!("webapp: form posted; connecting to MySQL at `{}`", m.host));
                self.resolve_start(ns, app, m.host, Some(job));
            }
            (method @ ("GET" | "HEAD"), Some(m)) => {
                let r = http::php_response(200, webapp::HTTP_DATE, &webapp::form(&m));
                let fin = self.user.close_after.remove(&(ns, key));
                let bytes = if method == "HEAD" { r.head_bytes() } else { r.to_bytes() };
                self.tcp_write(ns, key, &bytes, fin);
            }
            (method, None) => {
                let r = webapp::static_page(&server, method, &req.path, close);
                self.access_log(app, key, &req, &server, &r);
                let fin = self.user.close_after.remove(&(ns, key));
                let bytes = if method == "HEAD" { r.head_bytes() } else { r.to_bytes() };
                self.tcp_write(ns, key, &bytes, fin);
            }
            _ => {
                let r = http::php_response(405, webapp::HTTP_DATE, "Method Not Allowed");
                let fin = self.user.close_after.remove(&(ns, key));
                self.tcp_write(ns, key, &r.to_bytes(), fin);
            }
        }
    }

    /// A web image's line for a request it answered, into its container's log when the app
    /// keeps one (`weblog`); not a line of the hop log, which notes the request already.
    fn access_log(&mut self, app: usize, key: TcpKey, req: &http::Request, server: &WebServer, r: &http::Response) {
        let AppKind::Http { connections, .. } = self.user.apps[app].kind else { return };
        if self.user.apps[app].log.is_none() {
            return;
        }
        let a = weblog::Access {
            client: key.remote.0,
            method: &req.method,
            path: &req.path,
            status: r.status,
            body: if req.method == "HEAD" { 0 } else { r.body.len() },
            host: req.header("host"),
            referer: req.header("referer"),
            agent: req.header("user-agent"),
            forwarded_for: req.header("x-forwarded-for"),
            connection: connections,
        };
        let line = weblog::request(server, self.now, &a);
        self.write_log(app, &line);
    }

    fn web_reply(&mut self, ns: NsId, http: TcpKey, status: u16, msg: &str) {
        self.app_log(ns, || format!("webapp: {msg}"));
        let r = webapp::page(status, msg);
        let fin = self.user.close_after.remove(&(ns, http));
        self.tcp_write(ns, http, &r.to_bytes(), fin);
    }
}

impl AppKind {
    pub(crate) fn tool_name(&self) -> &'static str {
        match self {
            AppKind::Ping { .. } => "ping",
            AppKind::Curl { wget: Some(_), .. } => "wget",
            AppKind::Curl { .. } => "curl",
            AppKind::MysqlClient { .. } => "mysql",
            AppKind::Nslookup { .. } => "nslookup",
            AppKind::Nc { .. } | AppKind::NcListen { .. } => "nc",
            AppKind::Traceroute { .. } => "traceroute",
            AppKind::Dig(_) => "dig",
            _ => "app",
        }
    }
}

/// What one query may be answered with: the names' addresses and the reverse name the
/// sandbox's zones hold for it, looked up beforehand.
struct Known {
    addrs: Option<Vec<Ipv4Addr>>,
    ptr: Option<String>,
}

impl dns::Sandbox for Known {
    fn addrs(&self, _: &str) -> Option<Vec<Ipv4Addr>> {
        self.addrs.clone()
    }
    fn ptr(&self, _: Ipv4Addr) -> Option<String> {
        self.ptr.clone()
    }
}

/// curl's `-w FORMAT` after a transfer (curl(1) *--write-out*): the variables the simulator
/// knows filled in, `\n`, `\r` and `\t` as the characters they name, `%%` as `%`; an unknown
/// variable is left out, as curl does after its warning.
fn curl_write_out(format: &str, resp: &http::Response) -> String {
    let mut out = String::new();
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("%{") {
            let Some(end) = r.find('}') else {
                out.push_str(rest);
                break;
            };
            match &r[..end] {
                "http_code" | "response_code" => out.push_str(&format!("{:03}", resp.status)),
                "size_download" => out.push_str(&resp.body.len().to_string()),
                "content_type" => out.push_str(resp.header("content-type").unwrap_or_default()),
                _ => {}
            }
            rest = &r[end + 1..];
            continue;
        }
        let (text, skip) = match (c, rest.as_bytes().get(1)) {
            ('%', Some(b'%')) => ("%", 2),
            ('\\', Some(b'n')) => ("\n", 2),
            ('\\', Some(b'r')) => ("\r", 2),
            ('\\', Some(b't')) => ("\t", 2),
            _ => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
                continue;
            }
        };
        out.push_str(text);
        rest = &rest[skip..];
    }
    out
}
