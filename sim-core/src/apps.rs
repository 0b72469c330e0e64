//! Applications and sockets: ping, UDP senders and listeners, and a small TCP with Linux's
//! handshake options, so captures show real protocols. Apps are state machines fed by the
//! stack and by their own timers; they never see the engine.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

pub use crate::dns_zone::{DnsZone, DnsZones};
use crate::engine::SimTime;
use crate::trace::{Dir, Why};
use crate::wire::{self, Ipv4Params, TcpRepr};
use crate::world::{DevId, Event, NsId, World, defaults};

/// A traffic step of a scenario.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Traffic {
    /// `ping -c COUNT -i INTERVAL -s SIZE DST` from `ns`, starting at `at`. `dst` is an
    /// address or a name, resolved through the namespace's nameserver first.
    Ping {
        #[serde(default)]
        at: SimTime,
        ns: String,
        dst: String,
        #[serde(default = "three")]
        count: u32,
        #[serde(default = "one_second")]
        interval: SimTime,
        #[serde(default = "ping_size")]
        size: usize,
    },
    /// A UDP socket bound to `port`; with `echo` it sends every datagram back.
    UdpListen {
        ns: String,
        port: u16,
        #[serde(default)]
        echo: bool,
    },
    /// `count` datagrams carrying `payload` to `dst:dport`.
    UdpSend {
        #[serde(default)]
        at: SimTime,
        ns: String,
        dst: Ipv4Addr,
        dport: u16,
        #[serde(default)]
        sport: Option<u16>,
        payload: String,
        #[serde(default = "one")]
        count: u32,
        #[serde(default = "one_second")]
        interval: SimTime,
    },
    /// A TCP listener; it answers each connection's first data with `reply` and, with
    /// `close_after_reply`, closes first (as an HTTP/1.0 server does).
    TcpListen {
        ns: String,
        port: u16,
        #[serde(default)]
        reply: Option<String>,
        #[serde(default)]
        close_after_reply: bool,
    },
    /// `connect()` to `dst:dport`, send `send`, then close (unless `close: false`).
    TcpConnect {
        #[serde(default)]
        at: SimTime,
        ns: String,
        dst: Ipv4Addr,
        dport: u16,
        #[serde(default)]
        send: String,
        #[serde(default = "yes")]
        close: bool,
    },
    /// Docker's embedded DNS server: dockerd's socket inside the sandbox on a random `port`,
    /// reached through the sandbox's DNAT of 127.0.0.11:53. The namespace's resolver becomes
    /// 127.0.0.11.
    Dns {
        ns: String,
        port: u16,
        #[serde(default)]
        records: DnsZones,
    },
    /// An HTTP server on `port`. With `mysql`, it is the tutorial's PHP webapp: a form on GET;
    /// on POST it resolves the MySQL host, logs in, and INSERTs the form's fields.
    Http {
        ns: String,
        #[serde(default = "http_port")]
        port: u16,
        #[serde(default)]
        mysql: Option<MysqlTarget>,
    },
    /// A MySQL 5.5 server with an in-memory database; `password` is root's.
    MysqlServer {
        ns: String,
        #[serde(default = "mysql_port")]
        port: u16,
        password: String,
    },
    /// `curl [-d DATA] URL`: one HTTP/1.1 request; the response is printed.
    Curl {
        #[serde(default)]
        at: SimTime,
        ns: String,
        url: String,
        #[serde(default)]
        data: Option<String>,
        #[serde(default)]
        method: Option<String>,
    },
    /// `mysql -h HOST -u USER -pPASSWORD [DATABASE] -e "QUERIES"`.
    Mysql {
        #[serde(default)]
        at: SimTime,
        ns: String,
        host: String,
        #[serde(default = "mysql_port")]
        port: u16,
        #[serde(default = "root")]
        user: String,
        password: String,
        #[serde(default)]
        database: Option<String>,
        queries: Vec<String>,
    },
    /// dockerd's unsolicited ARP on a new interface (v28+): `count` broadcast requests for
    /// the interface's own address.
    Announce {
        #[serde(default)]
        at: SimTime,
        ns: String,
        dev: String,
        #[serde(default = "three")]
        count: u32,
    },
    /// `nslookup NAME`: one query to the namespace's nameserver.
    Nslookup {
        #[serde(default)]
        at: SimTime,
        ns: String,
        name: String,
    },
}

/// A name the embedded DNS answers, with its addresses.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DnsRecord {
    pub name: String,
    pub addrs: Vec<Ipv4Addr>,
}

/// Where the webapp stores its form posts (the tutorial's `index.php` settings).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MysqlTarget {
    pub host: String,
    #[serde(default = "root")]
    pub user: String,
    pub password: String,
    pub database: String,
    pub table: String,
}

fn http_port() -> u16 {
    80
}
fn mysql_port() -> u16 {
    3306
}
fn root() -> String {
    "root".into()
}

fn three() -> u32 {
    3
}
fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}
fn one_second() -> SimTime {
    SimTime::from_secs(1)
}
fn ping_size() -> usize {
    56
}

impl Traffic {
    pub fn ns(&self) -> &str {
        match self {
            Traffic::Ping { ns, .. }
            | Traffic::UdpListen { ns, .. }
            | Traffic::UdpSend { ns, .. }
            | Traffic::TcpListen { ns, .. }
            | Traffic::TcpConnect { ns, .. }
            | Traffic::Dns { ns, .. }
            | Traffic::Http { ns, .. }
            | Traffic::MysqlServer { ns, .. }
            | Traffic::Curl { ns, .. }
            | Traffic::Mysql { ns, .. }
            | Traffic::Announce { ns, .. }
            | Traffic::Nslookup { ns, .. } => ns,
        }
    }
    pub fn start(&self) -> SimTime {
        match self {
            Traffic::Ping { at, .. }
            | Traffic::UdpSend { at, .. }
            | Traffic::TcpConnect { at, .. }
            | Traffic::Curl { at, .. }
            | Traffic::Mysql { at, .. }
            | Traffic::Announce { at, .. }
            | Traffic::Nslookup { at, .. } => *at,
            _ => SimTime::ZERO,
        }
    }

    /// Servers bind at once and run for ever; clients start at `at` and finish.
    pub fn is_server(&self) -> bool {
        matches!(
            self,
            Traffic::UdpListen { .. }
                | Traffic::TcpListen { .. }
                | Traffic::Dns { .. }
                | Traffic::Http { .. }
                | Traffic::MysqlServer { .. }
        )
    }

    /// The same step starting at another time (steps that wait for the previous one).
    pub fn set_start(&mut self, t: SimTime) {
        match self {
            Traffic::Ping { at, .. }
            | Traffic::UdpSend { at, .. }
            | Traffic::TcpConnect { at, .. }
            | Traffic::Curl { at, .. }
            | Traffic::Mysql { at, .. }
            | Traffic::Announce { at, .. }
            | Traffic::Nslookup { at, .. } => *at = t,
            _ => {}
        }
    }
}

#[derive(Clone, Debug)]
pub struct App {
    pub ns: NsId,
    pub kind: AppKind,
    /// A client that has finished (printed its last line); a scenario's next step may wait on it.
    pub done: bool,
    /// The target's name, still to be resolved before the app starts.
    pub resolve: Option<String>,
}

#[derive(Clone, Debug)]
pub enum AppKind {
    Ping {
        dst: Ipv4Addr,
        count: u32,
        interval: SimTime,
        size: usize,
        ident: u16,
        sent: u32,
        received: u32,
        errors: u32,
        sent_at: crate::world::Map<u16, SimTime>,
    },
    UdpListen {
        port: u16,
        echo: bool,
        received: u64,
    },
    UdpSend {
        dst: Ipv4Addr,
        dport: u16,
        sport: u16,
        payload: Vec<u8>,
        count: u32,
        interval: SimTime,
        sent: u32,
    },
    TcpListen {
        port: u16,
        reply: Option<Vec<u8>>,
        close_after_reply: bool,
    },
    TcpConnect {
        dst: Ipv4Addr,
        dport: u16,
        data: Vec<u8>,
        close: bool,
    },
    /// Docker's embedded DNS server (dockerd's socket inside a sandbox).
    DnsServer {
        port: u16,
        zones: DnsZones,
    },
    /// An HTTP server; with `mysql`, the tutorial's webapp.
    Http {
        port: u16,
        mysql: Option<MysqlTarget>,
    },
    MysqlServer {
        port: u16,
        password: String,
        db: crate::proto::mysql::Database,
        next_conn: u32,
    },
    Curl {
        dst: Ipv4Addr,
        host: String,
        port: u16,
        path: String,
        method: String,
        data: Option<String>,
    },
    MysqlClient {
        dst: Ipv4Addr,
        port: u16,
        user: String,
        password: String,
        database: Option<String>,
        queries: Vec<String>,
    },
    Nslookup {
        name: String,
    },
    Announce {
        dev: DevId,
        count: u32,
        sent: u32,
    },
    /// A bulk UDP source used by `netsim bench`: `count` datagrams, `interval` apart.
    BenchUdp {
        dst: Ipv4Addr,
        dport: u16,
        sport: u16,
        size: usize,
        count: u32,
        interval: SimTime,
        sent: u32,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TcpKey {
    pub local: (Ipv4Addr, u16),
    pub remote: (Ipv4Addr, u16),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpState {
    SynSent,
    SynRecv,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

#[derive(Clone, Debug)]
pub struct TcpConn {
    pub state: TcpState,
    pub app: usize,
    pub iss: u32,
    pub snd_una: u32,
    pub snd_nxt: u32,
    pub rcv_nxt: u32,
    /// Bytes not yet acknowledged, starting at `snd_una` (SYN and FIN excluded).
    pub sndbuf: Vec<u8>,
    /// How much of `sndbuf` has been sent.
    pub sent: usize,
    pub peer_wnd: u32,
    pub peer_wscale: u8,
    pub peer_mss: u16,
    pub ts_offset: u32,
    pub ts_recent: u32,
    pub ts_ok: bool,
    pub cwnd: u32,
    /// Close once everything queued is sent.
    pub close_when_done: bool,
    pub fin_sent: bool,
    pub replied: bool,
    pub ip_id: u16,
    pub rx_bytes: u64,
    pub syn_retries: u8,
    /// Our receive window in bytes, before scaling (Linux: 64240 active, 65160 passive).
    pub rcv_wnd: u32,
    /// An active opener closes only after the peer has answered (as curl does).
    pub await_reply: bool,
}

/// Linux's TCP defaults as a current kernel sends them (docs/linux-model.md, *TCP defaults*).
const SYN_WINDOW: u16 = 64240;
const SYNACK_WINDOW: u16 = 65160;
/// Receive windows once established, as this kernel advertises them (63 and 64 with wscale
/// 10: 64512 for the active opener, 65536 for the passive side).
const ACTIVE_WND: u32 = 64512;
const PASSIVE_WND: u32 = 65536;
const WSCALE: u8 = 10;
const INIT_CWND: u32 = 10;
const SYN_RETRIES: u8 = 6;
const TCP_FIN_TIMEOUT: SimTime = SimTime::from_secs(60);
/// How long `ping -c` waits for answers after its last echo request (iputils MAXWAIT).
const PING_LINGER: SimTime = SimTime::from_secs(10);

impl World {
    /// Creates an application for a traffic step and returns its index. Sockets bind now;
    /// active apps start at their `at` time.
    pub fn add_traffic(&mut self, t: &Traffic) -> Result<usize, String> {
        let ns = self.ns_by_name(t.ns()).ok_or_else(|| format!("no namespace `{}`", t.ns()))?;
        let idx = self.apps.len();
        let mut resolve = None;
        let mut target = |host: &str| match host.parse::<Ipv4Addr>() {
            Ok(ip) => ip,
            Err(_) => {
                resolve = Some(host.to_string());
                Ipv4Addr::UNSPECIFIED
            }
        };
        let kind = match t {
            Traffic::Ping { dst, count, interval, size, .. } => {
                let dst = target(dst);
                // ping_get_port (net/ipv4/ping.c): from a random start, the next identifier no
                // ping socket of this namespace holds; with all 65536 held, sendmsg's autobind
                // fails with EAGAIN.
                let start = self.rng.next_u32() as u16;
                let held = &self.netns(ns).ping;
                let Some(ident) = (0..=u16::MAX).map(|k| start.wrapping_add(k)).find(|id| !held.contains_key(id))
                else {
                    return Err(format!(
                        "ping in `{}`: sendmsg: Resource temporarily unavailable (EAGAIN: all 65536 ICMP echo \
                         identifiers are held by running pings)",
                        t.ns()
                    ));
                };
                self.netns_mut(ns).ping.insert(ident, idx);
                AppKind::Ping {
                    dst,
                    count: *count,
                    interval: *interval,
                    size: *size,
                    ident,
                    sent: 0,
                    received: 0,
                    errors: 0,
                    sent_at: Default::default(),
                }
            }
            Traffic::UdpListen { port, echo, .. } => {
                self.bind_udp(ns, *port, idx, t.ns())?;
                AppKind::UdpListen { port: *port, echo: *echo, received: 0 }
            }
            Traffic::UdpSend { dst, dport, sport, payload, count, interval, .. } => {
                let sport = match sport {
                    Some(p) => *p,
                    None => self.ephemeral_port(),
                };
                self.netns_mut(ns).udp.entry(sport).or_insert(idx);
                AppKind::UdpSend {
                    dst: *dst,
                    dport: *dport,
                    sport,
                    payload: payload.clone().into_bytes(),
                    count: *count,
                    interval: *interval,
                    sent: 0,
                }
            }
            Traffic::TcpListen { port, reply, close_after_reply, .. } => {
                self.listen_tcp(ns, *port, idx, t.ns())?;
                AppKind::TcpListen {
                    port: *port,
                    reply: reply.clone().map(String::into_bytes),
                    close_after_reply: *close_after_reply,
                }
            }
            Traffic::TcpConnect { dst, dport, send, close, .. } => {
                AppKind::TcpConnect { dst: *dst, dport: *dport, data: send.clone().into_bytes(), close: *close }
            }
            Traffic::Dns { port, records, .. } => {
                self.bind_udp(ns, *port, idx, t.ns())?;
                self.resolver.insert(ns, crate::docker::EMBEDDED_DNS);
                self.dns_server.insert(ns, idx);
                AppKind::DnsServer { port: *port, zones: records.clone() }
            }
            Traffic::Http { port, mysql, .. } => {
                self.listen_tcp(ns, *port, idx, t.ns())?;
                AppKind::Http { port: *port, mysql: mysql.clone() }
            }
            Traffic::MysqlServer { port, password, .. } => {
                self.listen_tcp(ns, *port, idx, t.ns())?;
                AppKind::MysqlServer {
                    port: *port,
                    password: password.clone(),
                    db: crate::proto::mysql::Database::new(),
                    next_conn: 0,
                }
            }
            Traffic::Curl { url, data, method, .. } => {
                let (host, port, path) = parse_url(url)?;
                let dst = target(&host);
                let method = method.clone().unwrap_or_else(|| if data.is_some() { "POST" } else { "GET" }.into());
                AppKind::Curl { dst, host, port, path, method, data: data.clone() }
            }
            Traffic::Mysql { host, port, user, password, database, queries, .. } => AppKind::MysqlClient {
                dst: target(host),
                port: *port,
                user: user.clone(),
                password: password.clone(),
                database: database.clone(),
                queries: queries.clone(),
            },
            Traffic::Nslookup { name, .. } => AppKind::Nslookup { name: name.clone() },
            Traffic::Announce { dev, count, .. } => {
                let d = self.dev_by_name(ns, dev).ok_or_else(|| format!("no device `{dev}` in `{}`", t.ns()))?;
                AppKind::Announce { dev: d, count: *count, sent: 0 }
            }
        };
        self.apps.push(App { ns, kind, done: false, resolve });
        if !t.is_server() {
            let at = t.start();
            self.pending.push((at, Event::App { app: idx, tag: 0 }));
        }
        Ok(idx)
    }

    fn bind_udp(&mut self, ns: NsId, port: u16, app: usize, name: &str) -> Result<(), String> {
        if self.netns(ns).udp.contains_key(&port) {
            return Err(format!("UDP port {port} is already bound in `{name}` (EADDRINUSE)"));
        }
        self.netns_mut(ns).udp.insert(port, app);
        Ok(())
    }

    fn listen_tcp(&mut self, ns: NsId, port: u16, app: usize, name: &str) -> Result<(), String> {
        if self.netns(ns).tcp_listen.contains_key(&port) {
            return Err(format!("TCP port {port} is already listening in `{name}` (EADDRINUSE)"));
        }
        self.netns_mut(ns).tcp_listen.insert(port, app);
        Ok(())
    }

    pub(crate) fn ephemeral_port(&mut self) -> u16 {
        let (lo, hi) = defaults::EPHEMERAL;
        self.rng.range(lo as u64, hi as u64) as u16
    }

    /// A local port for an outgoing socket, as `__inet_hash_connect`
    /// (net/ipv4/inet_hashtables.c) finds one: from a random offset, every port of
    /// `ip_local_port_range` in turn until one is free; `None` when all are held, which Linux
    /// reports as EADDRNOTAVAIL.
    pub(crate) fn free_ephemeral_port(&mut self, held: impl Fn(&World, u16) -> bool) -> Option<u16> {
        let (lo, hi) = defaults::EPHEMERAL;
        let start = self.ephemeral_port() - lo;
        let n = hi - lo + 1;
        (0..n).map(|k| lo + (start + k) % n).find(|&p| !held(self, p))
    }

    /// An application timer fired.
    pub(crate) fn app_timer(&mut self, app: usize, tag: u32) {
        let ns = self.apps[app].ns;
        if self.netns(ns).dead {
            return;
        }
        if (crate::services::TAG_DNS_TIMEOUT..100).contains(&tag) {
            return self.dns_timeout(ns, app);
        }
        if tag == 0
            && let Some(name) = self.apps[app].resolve.take()
        {
            return self.resolve_start(ns, app, name, None);
        }
        if self.apps[app].done {
            return;
        }
        match &mut self.apps[app].kind {
            AppKind::Ping { .. } if tag == 1 => self.ping_statistics(ns, app),
            AppKind::Ping { dst, count, interval, size, ident, sent, received: _, errors: _, sent_at } => {
                let (dst, ident, seq, size, interval) = (*dst, *ident, (*sent + 1) as u16, *size, *interval);
                *sent += 1;
                sent_at.insert(seq, self.now);
                let more = *sent < *count;
                // The payload starts with a struct timeval, then iputils' 0x10, 0x11, … pattern.
                let mut data = Vec::with_capacity(size);
                data.extend_from_slice(&(self.now.as_nanos() / 1_000_000_000).to_le_bytes());
                data.extend_from_slice(&((self.now.as_nanos() % 1_000_000_000) / 1000).to_le_bytes());
                data.truncate(size);
                while data.len() < size {
                    data.push(0x10u8.wrapping_add((data.len() - 16.min(data.len())) as u8));
                }
                self.app_schedule(
                    app,
                    // After the last echo, iputils lingers up to 10 s (MAXWAIT) for replies.
                    if more { interval } else { PING_LINGER },
                    if more { 0 } else { 1 },
                );
                let Some((rt, src)) = self.route_output(ns, dst, None) else {
                    // iputils' connect() probe fails before the first echo: no statistics.
                    self.app_log(ns, || format!("ping: connect: Network is unreachable ({dst})"));
                    if seq == 1 {
                        self.app_finish(app);
                    }
                    return;
                };
                let id = self.next_ip_id(ns);
                let p = Ipv4Params { src, dst, proto: wire::PROTO_ICMP, ttl: defaults::TTL, id, df: true, tos: 0 };
                let f = wire::icmp_echo_frame(&p, false, ident, seq, &data);
                self.originate(|w| {
                    w.note(|| Why::App(format!("ping {dst}: echo request icmp_seq={seq}")));
                    w.ip_output(ns, f, rt, None);
                });
            }
            AppKind::UdpSend { dst, dport, sport, payload, count, interval, sent } => {
                let (dst, dport, sport) = (*dst, *dport, *sport);
                let payload = payload.clone();
                *sent += 1;
                if *sent < *count {
                    let iv = *interval;
                    self.app_schedule(app, iv, 0);
                }
                self.udp_send(ns, dst, dport, sport, &payload, "udp send");
            }
            AppKind::BenchUdp { dst, dport, sport, size, count, interval, sent } => {
                let (dst, dport, sport, size) = (*dst, *dport, *sport, *size);
                *sent += 1;
                if *sent < *count {
                    let iv = *interval;
                    self.app_schedule(app, iv, 0);
                }
                static ZEROS: [u8; 65507] = [0; 65507];
                self.udp_send(ns, dst, dport, sport, &ZEROS[..size.min(ZEROS.len())], "bench");
            }
            AppKind::TcpConnect { dst, dport, .. } => {
                let (dst, dport) = (*dst, *dport);
                if tag >= 100 {
                    return self.tcp_syn_timer(ns, app, tag);
                }
                self.tcp_connect(ns, app, dst, dport);
            }
            AppKind::Curl { .. } | AppKind::MysqlClient { .. } => {
                if tag >= 100 {
                    return self.tcp_syn_timer(ns, app, tag);
                }
                self.client_connect(ns, app);
            }
            AppKind::Nslookup { name } => {
                let name = name.clone();
                self.resolve_start(ns, app, name, None);
            }
            AppKind::Announce { dev, count, sent } => {
                let (dev, more) = (*dev, *sent + 1 < *count);
                *sent += 1;
                if more {
                    self.app_schedule(app, crate::docker::era::UNSOLICITED_ARP_GAP, 0);
                } else {
                    self.app_finish(app);
                }
                self.arp_announce(ns, dev);
            }
            AppKind::UdpListen { .. }
            | AppKind::TcpListen { .. }
            | AppKind::DnsServer { .. }
            | AppKind::Http { .. }
            | AppKind::MysqlServer { .. } => {
                if tag >= 100 {
                    self.tcp_syn_timer(ns, app, tag);
                }
            }
        }
    }

    /// The closing lines of `ping -c`: after the last reply, or the last wait.
    fn ping_statistics(&mut self, ns: NsId, app: usize) {
        let AppKind::Ping { dst, sent, received, errors, .. } = &self.apps[app].kind else { return };
        let (dst, sent, received, errors) = (*dst, *sent, *received, *errors);
        let loss = ((sent - received) * 100).checked_div(sent).unwrap_or(0);
        let err = if errors > 0 { format!(", +{errors} errors") } else { String::new() };
        self.app_log(ns, || {
            format!(
                "--- {dst} ping statistics --- {sent} packets transmitted, {received} received{err}, {loss}% packet loss"
            )
        });
        self.app_finish(app)
    }

    fn app_schedule(&mut self, app: usize, after: SimTime, tag: u32) {
        self.schedule(after, Event::App { app, tag });
    }

    pub(crate) fn udp_send(&mut self, ns: NsId, dst: Ipv4Addr, dport: u16, sport: u16, payload: &[u8], who: &str) {
        self.udp_send_from(ns, None, dst, dport, sport, payload, who)
    }

    /// `udp_send` from a socket bound to `bound` (its address is the source, whatever the
    /// route prefers).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn udp_send_from(
        &mut self,
        ns: NsId,
        bound: Option<Ipv4Addr>,
        dst: Ipv4Addr,
        dport: u16,
        sport: u16,
        payload: &[u8],
        who: &str,
    ) {
        let Some((rt, src)) = self.route_output(ns, dst, None) else {
            self.app_log(ns, || format!("{who}: sendto {dst}: Network is unreachable"));
            return;
        };
        let src = bound.unwrap_or(src);
        // Linux 6.18 gives DF-set UDP a running IP ID (seen: 0x9306, 0x9307 from one socket).
        let id = self.next_ip_id(ns);
        let p = Ipv4Params { src, dst, proto: wire::PROTO_UDP, ttl: defaults::TTL, id, df: true, tos: 0 };
        let f = wire::udp_frame(&p, sport, dport, payload);
        let n = payload.len();
        self.originate(|w| {
            w.note(|| Why::App(format!("{who}: {n} bytes to {dst}:{dport}")));
            w.ip_output(ns, f, rt, None);
        });
    }

    pub(crate) fn udp_to_app(&mut self, ns: NsId, dev: DevId, info: &wire::Ipv4Info, ip: &[u8]) {
        let l4 = &ip[info.ihl..info.total_len];
        let (sport, dport) = (u16::from_be_bytes([l4[0], l4[1]]), u16::from_be_bytes([l4[2], l4[3]]));
        let payload = &l4[8..];
        let Some(&app) = self.netns(ns).udp.get(&dport) else { return };
        let text = || printable(payload);
        let (src, dst) = (info.src, info.dst);
        self.deliver_note(ns, dev, || format!("UDP {src}:{sport} → local port {dport}"));
        if self.service_udp(ns, app, (src, sport), (dst, dport), payload) {
            return;
        }
        match &mut self.apps[app].kind {
            AppKind::UdpListen { echo, received, .. } => {
                *received += 1;
                let echo = *echo;
                self.app_log(ns, || {
                    format!("udp :{dport} received {} bytes from {src}:{sport}: {}", payload.len(), text())
                });
                if echo {
                    let payload = payload.to_vec();
                    let _ = dst;
                    self.udp_send(ns, src, sport, dport, &payload, "udp echo");
                }
            }
            AppKind::UdpSend { .. } => {
                self.app_log(ns, || {
                    format!("udp :{dport} got a reply of {} bytes from {src}:{sport}: {}", payload.len(), text())
                });
            }
            _ => {}
        }
    }

    fn deliver_note(&mut self, ns: NsId, dev: DevId, what: impl FnOnce() -> String) {
        if self.explaining() {
            let mark = self.why_mark();
            self.why.push(Why::Local { what: what() });
            self.record(ns, Some(dev), Dir::Deliver, None);
            self.why_reset(mark);
        }
    }

    /// ICMP that is not an echo request: replies for ping, errors for whoever sent the
    /// quoted packet.
    pub(crate) fn icmp_to_app(&mut self, ns: NsId, dev: DevId, info: &wire::Ipv4Info, ip: &[u8]) {
        let l4 = &ip[info.ihl..info.total_len];
        let (ty, code) = (l4[0], l4[1]);
        if ty == 0 {
            let (ident, seq) = (u16::from_be_bytes([l4[4], l4[5]]), u16::from_be_bytes([l4[6], l4[7]]));
            let Some(&app) = self.netns(ns).ping.get(&ident) else {
                return self.deliver_note(ns, dev, || format!("ICMP echo reply id {ident}: no ping socket"));
            };
            let now = self.now;
            let (src, ttl) = (info.src, info.ttl);
            self.deliver_note(ns, dev, || format!("ICMP echo reply → ping socket id {ident}"));
            if let AppKind::Ping { received, sent_at, size, count, .. } = &mut self.apps[app].kind {
                *received += 1;
                let rtt = sent_at.get(&seq).map(|t| now.saturating_sub(*t)).unwrap_or_default();
                let bytes = *size + 8;
                let all = *received >= *count;
                self.app_log(ns, || {
                    format!(
                        "{bytes} bytes from {src}: icmp_seq={seq} ttl={ttl} time={:.3} ms",
                        rtt.as_nanos() as f64 / 1e6
                    )
                });
                // `ping -c N` exits as soon as N replies are in.
                if all && !self.apps[app].done {
                    self.ping_statistics(ns, app);
                }
            }
            return;
        }
        if !(ty == 3 || ty == 11) || l4.len() < 8 + 20 {
            return self.deliver_note(ns, dev, || format!("ICMP type {ty} code {code}: nothing to do"));
        }
        let quoted = &l4[8..];
        let qihl = ((quoted[0] & 0x0f) as usize) * 4;
        let qproto = quoted[9];
        let qdst = Ipv4Addr::new(quoted[16], quoted[17], quoted[18], quoted[19]);
        let what = icmp_error_text(ty, code);
        let from = info.src;
        self.deliver_note(ns, dev, || format!("ICMP error about a packet to {qdst}: {what}"));
        if quoted.len() < qihl + 8 {
            return;
        }
        let q4 = &quoted[qihl..];
        match qproto {
            wire::PROTO_ICMP => {
                let (ident, seq) = (u16::from_be_bytes([q4[4], q4[5]]), u16::from_be_bytes([q4[6], q4[7]]));
                if let Some(&app) = self.netns(ns).ping.get(&ident) {
                    let mut all = false;
                    if let AppKind::Ping { errors, received, count, sent, .. } = &mut self.apps[app].kind {
                        *errors += 1;
                        all = *sent >= *count && *received + *errors >= *count;
                    }
                    self.app_log(ns, || format!("From {from} icmp_seq={seq} {what}"));
                    if all && !self.apps[app].done {
                        self.ping_statistics(ns, app);
                    }
                }
            }
            wire::PROTO_UDP => {
                let sport = u16::from_be_bytes([q4[0], q4[1]]);
                if self.netns(ns).udp.contains_key(&sport) {
                    // udp_err: a connected socket without IP_RECVERR hears only of hard errors.
                    let errno = match icmp_errno(ty, code) {
                        Some((name, _, true)) => format!("{name} on a connected socket"),
                        _ => "no error on a socket without IP_RECVERR".to_string(),
                    };
                    self.app_log(ns, || format!("udp :{sport}: ICMP from {from}: {what} ({errno})"));
                }
            }
            wire::PROTO_TCP => {
                let (sport, dport) = (u16::from_be_bytes([q4[0], q4[1]]), u16::from_be_bytes([q4[2], q4[3]]));
                let qsrc = Ipv4Addr::new(quoted[12], quoted[13], quoted[14], quoted[15]);
                let key = TcpKey { local: (qsrc, sport), remote: (qdst, dport) };
                let qseq = u32::from_be_bytes([q4[4], q4[5], q4[6], q4[7]]);
                let Some(c) = self.netns(ns).tcp.get(&key) else { return };
                // tcp_v4_err: an error quoting a sequence number outside what is in flight is
                // stale; in SYN_SENT a fatal one ends the connect() with its errno.
                let in_flight = qseq.wrapping_sub(c.snd_una) <= c.snd_nxt.wrapping_sub(c.snd_una);
                match tcp_connect_icmp_error(ty, code) {
                    Some(err) if in_flight && c.state == TcpState::SynSent => {
                        let app = c.app;
                        self.netns_mut(ns).tcp.remove(&key);
                        self.app_log(ns, || format!("tcp {qsrc}:{sport} → {qdst}:{dport}: {err}"));
                        self.service_failed(ns, app, key, err);
                    }
                    _ => self.app_log(ns, || format!("tcp {qsrc}:{sport} → {qdst}:{dport}: ICMP from {from}: {what}")),
                }
            }
            _ => {}
        }
    }

    // ----- TCP -------------------------------------------------------------------------------

    pub(crate) fn tcp_connect(&mut self, ns: NsId, app: usize, dst: Ipv4Addr, dport: u16) -> Option<TcpKey> {
        let Some((_, src)) = self.route_output(ns, dst, None) else {
            self.app_log(ns, || format!("connect to {dst}:{dport}: Network is unreachable"));
            return None;
        };
        // __inet_hash_connect: a port whose 4-tuple is still in use (TIME_WAIT included) is
        // skipped.
        let taken = |w: &World, p: u16| w.netns(ns).tcp.contains_key(&TcpKey { local: (src, p), remote: (dst, dport) });
        let Some(sport) = self.free_ephemeral_port(taken) else {
            self.app_log(ns, || format!("connect to {dst}:{dport}: Cannot assign requested address (EADDRNOTAVAIL)"));
            return None;
        };
        let key = TcpKey { local: (src, sport), remote: (dst, dport) };
        let iss = self.rng.next_u32();
        let (data, close) = match &self.apps[app].kind {
            AppKind::TcpConnect { data, close, .. } => (data.clone(), *close),
            // Protocol clients decide when to close (`services`).
            _ => (Vec::new(), false),
        };
        let conn = TcpConn {
            state: TcpState::SynSent,
            app,
            iss,
            snd_una: iss,
            snd_nxt: iss.wrapping_add(1),
            rcv_nxt: 0,
            sndbuf: data,
            sent: 0,
            peer_wnd: 0,
            peer_wscale: 0,
            peer_mss: 536,
            ts_offset: self.rng.next_u32(),
            ts_recent: 0,
            ts_ok: true,
            cwnd: INIT_CWND,
            close_when_done: close,
            fin_sent: false,
            replied: false,
            ip_id: self.rng.next_u32() as u16,
            rx_bytes: 0,
            syn_retries: 0,
            rcv_wnd: SYN_WINDOW as u32,
            await_reply: true,
        };
        self.netns_mut(ns).tcp.insert(key, conn);
        self.app_log(ns, || format!("tcp connect {src}:{sport} → {dst}:{dport}"));
        self.tcp_send_syn(ns, key);
        Some(key)
    }

    fn tcp_send_syn(&mut self, ns: NsId, key: TcpKey) {
        let Some(c) = self.netns(ns).tcp.get(&key) else { return };
        let t = TcpRepr {
            sport: key.local.1,
            dport: key.remote.1,
            seq: c.iss,
            syn: true,
            window: SYN_WINDOW,
            mss: Some(self.tcp_mss(ns, key.remote.0)),
            sack_perm: true,
            ts: Some((self.tcp_ts(c), 0)),
            wscale: Some(WSCALE),
            ..Default::default()
        };
        let (app, tries) = (c.app, c.syn_retries);
        // RTO starts at 1 s and doubles (tcp_syn_retries = 6).
        let tag = 100 + tries as u32;
        self.schedule(SimTime::from_secs(1 << tries), Event::App { app, tag });
        self.tcp_emit(ns, key, &t, &[]);
    }

    fn tcp_syn_timer(&mut self, ns: NsId, app: usize, tag: u32) {
        let tries = (tag - 100) as u8;
        let key = self
            .netns(ns)
            .tcp
            .iter()
            .find(|(_, c)| c.app == app && c.state == TcpState::SynSent && c.syn_retries == tries)
            .map(|(k, _)| *k);
        let Some(key) = key else { return };
        if tries >= SYN_RETRIES {
            self.netns_mut(ns).tcp.remove(&key);
            self.app_log(ns, || format!("tcp connect to {}:{}: Connection timed out", key.remote.0, key.remote.1));
            self.service_failed(ns, app, key, "Connection timed out");
            return;
        }
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            c.syn_retries += 1;
        }
        self.note(|| Why::App("SYN retransmitted: no answer within the RTO".into()));
        self.tcp_send_syn(ns, key);
    }

    fn tcp_mss(&self, ns: NsId, dst: Ipv4Addr) -> u16 {
        let mtu = match self.route_output(ns, dst, None) {
            Some((crate::l3::OutRoute::Main(i), _)) => self.dev(self.netns(ns).routes[i].dev).mtu,
            _ => defaults::MTU,
        };
        mtu.clamp(68, 65535).saturating_sub(40) as u16
    }

    fn tcp_ts(&self, c: &TcpConn) -> u32 {
        ((self.now.as_nanos() / 1_000_000) as u32).wrapping_add(c.ts_offset)
    }

    /// Builds and sends one segment of connection `key`.
    fn tcp_emit(&mut self, ns: NsId, key: TcpKey, t: &TcpRepr, payload: &[u8]) {
        let Some((rt, _)) = self.route_output(ns, key.remote.0, None) else { return };
        let id = match self.netns_mut(ns).tcp.get_mut(&key) {
            Some(c) => {
                c.ip_id = c.ip_id.wrapping_add(1);
                c.ip_id
            }
            None => 0,
        };
        let p = Ipv4Params {
            src: key.local.0,
            dst: key.remote.0,
            proto: wire::PROTO_TCP,
            ttl: defaults::TTL,
            id,
            df: true,
            tos: 0,
        };
        let f = wire::tcp_frame(&p, t, payload);
        let state = self.netns(ns).tcp.get(&key).map(|c| c.state);
        self.originate(|w| {
            w.note(|| {
                let n = payload.len();
                let what = match state {
                    Some(st) => format!("TCP {st:?}: segment with {n} bytes to {}:{}", key.remote.0, key.remote.1),
                    None => format!("TCP: segment with {n} bytes to {}:{}", key.remote.0, key.remote.1),
                };
                Why::Local { what }
            });
            w.ip_output(ns, f, rt, None);
        });
    }

    fn tcp_segment(&self, c: &TcpConn, key: TcpKey) -> TcpRepr {
        TcpRepr {
            sport: key.local.1,
            dport: key.remote.1,
            seq: c.snd_nxt,
            ack: c.rcv_nxt,
            ackf: true,
            window: (c.rcv_wnd >> WSCALE).max(1) as u16,
            ts: c.ts_ok.then(|| (self.tcp_ts(c), c.ts_recent)),
            ..Default::default()
        }
    }

    /// Sends what the windows allow, then a FIN if the app has closed (`tcp_write_xmit`).
    pub(crate) fn tcp_output(&mut self, ns: NsId, key: TcpKey, mut must_ack: bool) {
        loop {
            let Some(c) = self.netns(ns).tcp.get(&key) else { return };
            if !matches!(c.state, TcpState::Established | TcpState::CloseWait) {
                break;
            }
            let in_flight = c.snd_nxt.wrapping_sub(c.snd_una);
            let mss = c.peer_mss.min(self.tcp_mss(ns, key.remote.0)) as usize;
            let wnd = c.peer_wnd.min(c.cwnd * mss as u32);
            let unsent = c.sndbuf.len() - c.sent;
            if unsent == 0 || in_flight >= wnd {
                break;
            }
            let n = unsent.min(mss).min((wnd - in_flight) as usize);
            let mut t = self.tcp_segment(c, key);
            t.psh = n == unsent;
            let payload = c.sndbuf[c.sent..c.sent + n].to_vec();
            if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
                c.sent += n;
                c.snd_nxt = c.snd_nxt.wrapping_add(n as u32);
            }
            self.tcp_emit(ns, key, &t, &payload);
            must_ack = false;
        }
        let Some(c) = self.netns(ns).tcp.get(&key) else { return };
        if c.close_when_done
            && !c.fin_sent
            && c.sent == c.sndbuf.len()
            && (!c.await_reply || c.rx_bytes > 0)
            && matches!(c.state, TcpState::Established | TcpState::CloseWait)
        {
            let mut t = self.tcp_segment(c, key);
            t.fin = true;
            let next = if c.state == TcpState::Established { TcpState::FinWait1 } else { TcpState::LastAck };
            if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
                c.fin_sent = true;
                c.snd_nxt = c.snd_nxt.wrapping_add(1);
                c.state = next;
            }
            self.tcp_emit(ns, key, &t, &[]);
            return;
        }
        if must_ack {
            let t = self.tcp_segment(c, key);
            self.tcp_emit(ns, key, &t, &[]);
        }
    }

    fn tcp_send_rst(&mut self, ns: NsId, info: &wire::Ipv4Info, seg: &TcpRepr, len: u32) {
        let Some((rt, _)) = self.route_output(ns, info.src, None) else { return };
        let f = reset_reply(info, seg, len);
        let dport = seg.dport;
        self.originate(|w| {
            w.note(|| Why::Local { what: format!("TCP RST: no socket on port {dport}") });
            w.ip_output(ns, f, rt, None);
        });
    }

    pub(crate) fn tcp_rcv(&mut self, ns: NsId, dev: DevId, info: &wire::Ipv4Info, ip: &[u8]) {
        let Some((seg, payload)) = wire::parse_tcp(&ip[info.ihl..info.total_len]) else {
            return self.deliver_note(ns, dev, || "malformed TCP segment".into());
        };
        let key = TcpKey { local: (info.dst, seg.dport), remote: (info.src, seg.sport) };
        let len = payload.len() as u32;
        // tcp_timewait_state_process: a new SYN for a connection in TIME_WAIT starts a new
        // connection (TCP_TW_SYN) instead of being ignored.
        if seg.syn && !seg.ackf && self.netns(ns).tcp.get(&key).is_some_and(|c| c.state == TcpState::TimeWait) {
            self.netns_mut(ns).tcp.remove(&key);
        }
        if !self.netns(ns).tcp.contains_key(&key) {
            if seg.syn
                && !seg.ackf
                && !seg.rst
                && let Some(&app) = self.netns(ns).tcp_listen.get(&seg.dport)
            {
                self.deliver_note(ns, dev, || format!("TCP SYN for listening port {} → SYN-ACK", seg.dport));
                return self.tcp_accept(ns, app, key, &seg);
            }
            if seg.rst {
                return self.deliver_note(ns, dev, || "TCP RST for no connection: ignored".into());
            }
            self.deliver_note(ns, dev, || format!("TCP to port {} with no socket → RST", seg.dport));
            return self.tcp_send_rst(ns, info, &seg, len);
        }
        self.deliver_note(ns, dev, || {
            format!("TCP segment for connection {}:{} ↔ {}:{}", key.local.0, key.local.1, key.remote.0, key.remote.1)
        });
        self.tcp_input(ns, key, &seg, payload);
    }

    fn tcp_accept(&mut self, ns: NsId, app: usize, key: TcpKey, syn: &TcpRepr) {
        let iss = self.rng.next_u32();
        let c = TcpConn {
            state: TcpState::SynRecv,
            app,
            iss,
            snd_una: iss,
            snd_nxt: iss.wrapping_add(1),
            rcv_nxt: syn.seq.wrapping_add(1),
            sndbuf: Vec::new(),
            sent: 0,
            peer_wnd: syn.window as u32,
            peer_wscale: syn.wscale.unwrap_or(0),
            peer_mss: syn.mss.unwrap_or(536),
            ts_offset: self.rng.next_u32(),
            ts_recent: syn.ts.map(|t| t.0).unwrap_or(0),
            ts_ok: syn.ts.is_some(),
            cwnd: INIT_CWND,
            close_when_done: false,
            fin_sent: false,
            replied: false,
            ip_id: self.rng.next_u32() as u16,
            rx_bytes: 0,
            syn_retries: 0,
            rcv_wnd: SYNACK_WINDOW as u32,
            await_reply: false,
        };
        let t = TcpRepr {
            sport: key.local.1,
            dport: key.remote.1,
            seq: iss,
            ack: c.rcv_nxt,
            syn: true,
            ackf: true,
            window: SYNACK_WINDOW,
            mss: Some(self.tcp_mss(ns, key.remote.0)),
            sack_perm: syn.sack_perm,
            ts: c.ts_ok.then(|| (self.tcp_ts(&c), c.ts_recent)),
            wscale: syn.wscale.map(|_| WSCALE),
            ..Default::default()
        };
        let ip_id = c.ip_id;
        self.netns_mut(ns).tcp.insert(key, c);
        self.service_accept(ns, app, key);
        // The SYN-ACK leaves before a full socket exists: IP ID 0, as this kernel sends it.
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            c.ip_id = u16::MAX;
        }
        self.tcp_emit(ns, key, &t, &[]);
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            c.ip_id = ip_id;
        }
    }

    fn tcp_input(&mut self, ns: NsId, key: TcpKey, seg: &TcpRepr, payload: &[u8]) {
        let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) else { return };
        let app = c.app;
        if seg.rst {
            let st = c.state;
            self.netns_mut(ns).tcp.remove(&key);
            let what = if st == TcpState::SynSent { "Connection refused" } else { "Connection reset by peer" };
            self.app_log(ns, || {
                format!("tcp {}:{} → {}:{}: {what}", key.local.0, key.local.1, key.remote.0, key.remote.1)
            });
            self.service_failed(ns, app, key, what);
            return;
        }
        if let Some((v, _)) = seg.ts {
            c.ts_recent = v;
        }
        if c.state == TcpState::SynSent {
            if !(seg.syn && seg.ackf && seg.ack == c.iss.wrapping_add(1)) {
                return;
            }
            c.state = TcpState::Established;
            c.rcv_wnd = ACTIVE_WND;
            c.snd_una = seg.ack;
            c.rcv_nxt = seg.seq.wrapping_add(1);
            c.peer_wscale = seg.wscale.unwrap_or(0);
            c.peer_wnd = seg.window as u32;
            c.peer_mss = seg.mss.unwrap_or(536);
            c.ts_ok = seg.ts.is_some();
            self.app_log(ns, || {
                format!("tcp {}:{} → {}:{}: connected", key.local.0, key.local.1, key.remote.0, key.remote.1)
            });
            return self.tcp_output(ns, key, true);
        }
        // ACK processing.
        if seg.ackf {
            let acked = seg.ack.wrapping_sub(c.snd_una);
            if acked > 0 && acked <= c.snd_nxt.wrapping_sub(c.snd_una) {
                // Forward progress confirms the path's neighbour (dst_confirm_neigh), so a
                // busy TCP flow never needs ARP probes.
                self.neigh_confirm(ns, key.remote.0);
            }
            let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) else { return };
            if acked <= c.snd_nxt.wrapping_sub(c.snd_una) {
                let mut data_acked = acked as usize;
                if c.state == TcpState::SynRecv && acked > 0 {
                    c.state = TcpState::Established;
                    c.rcv_wnd = PASSIVE_WND;
                    data_acked -= 1;
                }
                let fin_acked = c.fin_sent && seg.ack == c.snd_nxt;
                let data_acked = data_acked.min(c.sent);
                c.sndbuf.drain(..data_acked);
                c.sent -= data_acked;
                c.snd_una = seg.ack;
                c.cwnd += (data_acked > 0) as u32;
                c.peer_wnd = (seg.window as u32) << c.peer_wscale;
                if fin_acked {
                    match c.state {
                        TcpState::FinWait1 => c.state = TcpState::FinWait2,
                        TcpState::Closing => c.state = TcpState::TimeWait,
                        TcpState::LastAck => {
                            self.netns_mut(ns).tcp.remove(&key);
                            self.app_log(ns, || {
                                format!(
                                    "tcp {}:{} ↔ {}:{}: closed",
                                    key.local.0, key.local.1, key.remote.0, key.remote.1
                                )
                            });
                            return;
                        }
                        _ => {}
                    }
                }
            }
        }
        let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) else { return };
        let mut must_ack = false;
        let mut got = Vec::new();
        if !payload.is_empty() {
            if seg.seq == c.rcv_nxt {
                c.rcv_nxt = c.rcv_nxt.wrapping_add(payload.len() as u32);
                c.rx_bytes += payload.len() as u64;
                got = payload.to_vec();
            }
            must_ack = true;
        }
        let mut peer_closed = false;
        if seg.fin && seg.seq.wrapping_add(payload.len() as u32) == c.rcv_nxt {
            c.rcv_nxt = c.rcv_nxt.wrapping_add(1);
            must_ack = true;
            peer_closed = true;
            c.state = match c.state {
                TcpState::Established | TcpState::SynRecv => TcpState::CloseWait,
                TcpState::FinWait1 => TcpState::Closing,
                TcpState::FinWait2 => TcpState::TimeWait,
                s => s,
            };
        }
        let state = c.state;
        if !got.is_empty() {
            let text = printable(&got);
            self.app_log(ns, || {
                format!(
                    "tcp {}:{} received {} bytes from {}:{}: {text}",
                    key.local.0,
                    key.local.1,
                    got.len(),
                    key.remote.0,
                    key.remote.1
                )
            });
            // A listener answers the first data it sees.
            if self.service_rx(ns, app, key, &got) {
            } else if let AppKind::TcpListen { reply: Some(reply), close_after_reply, .. } = &self.apps[app].kind {
                let (reply, close) = (reply.clone(), *close_after_reply);
                if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key)
                    && !c.replied
                {
                    c.replied = true;
                    c.sndbuf.extend_from_slice(&reply);
                    c.close_when_done |= close;
                }
            }
        }
        if peer_closed {
            self.app_log(ns, || format!("tcp {}:{}: peer closed (FIN)", key.local.0, key.local.1));
            self.service_eof(ns, app, key);
            // Our apps close as soon as they read EOF.
            if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
                c.close_when_done = true;
            }
            if state == TcpState::TimeWait {
                let t = self.tcp_segment(self.netns(ns).tcp.get(&key).expect("present"), key);
                self.tcp_emit(ns, key, &t, &[]);
                self.app_log(ns, || {
                    format!(
                        "tcp {}:{}: TIME_WAIT ({}s)",
                        key.local.0,
                        key.local.1,
                        TCP_FIN_TIMEOUT.as_nanos() / 1_000_000_000
                    )
                });
                return;
            }
            if state == TcpState::Closing {
                let t = self.tcp_segment(self.netns(ns).tcp.get(&key).expect("present"), key);
                return self.tcp_emit(ns, key, &t, &[]);
            }
        }
        self.tcp_output(ns, key, must_ack);
    }
}

/// `http://HOST[:PORT][/PATH]` as curl takes it (the scheme may be left out).
fn parse_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    if rest.contains("://") {
        return Err(format!("curl: (1) Protocol not supported in `{url}`: only http:// is modelled"));
    }
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| format!("curl: (3) URL using bad/illegal format: {url}"))?),
        None => (hostport, 80),
    };
    if host.is_empty() {
        return Err(format!("curl: (3) URL using bad/illegal format or missing URL: {url}"));
    }
    Ok((host.to_string(), port, path))
}

/// The RST answering `seg` (carrying `len` bytes of data) from the address and port it was
/// for (tcp_v4_send_reset; nf_send_reset builds the same): a segment with ACK set is answered
/// at the sequence number it acknowledges, one without gets seq 0 and an ACK of everything it
/// occupied (SYN, FIN, data); addresses swapped, TOS 0, ID 0, DF, the default TTL, window 0,
/// no options.
pub(crate) fn reset_reply(info: &wire::Ipv4Info, seg: &TcpRepr, len: u32) -> Vec<u8> {
    let mut t = TcpRepr { sport: seg.dport, dport: seg.sport, rst: true, ..Default::default() };
    if seg.ackf {
        t.seq = seg.ack;
    } else {
        t.ackf = true;
        t.ack = seg.seq.wrapping_add(len + seg.syn as u32 + seg.fin as u32);
    }
    let p = Ipv4Params {
        src: info.dst,
        dst: info.src,
        proto: wire::PROTO_TCP,
        ttl: defaults::TTL,
        id: 0,
        df: true,
        tos: 0,
    };
    wire::tcp_frame(&p, &t, &[])
}

/// What iputils' ping prints after `From ADDR icmp_seq=N` for an ICMP error of this type and
/// code (ping4.c, `pr_icmph`). Shared with the kernel backend's agent, so both print the same
/// words.
pub fn icmp_error_text(ty: u8, code: u8) -> String {
    let what = match (ty, code) {
        (3, 0) => "Destination Net Unreachable",
        (3, 1) => "Destination Host Unreachable",
        (3, 2) => "Destination Protocol Unreachable",
        (3, 3) => "Destination Port Unreachable",
        // iputils goes on: "and DF set (mtu = N)"; the short form is what this simulator has
        // always printed (sim-core/tests/stack.rs).
        (3, 4) => "Frag needed",
        (3, 5) => "Source Route Failed",
        (3, 6) => "Destination Net Unknown",
        (3, 7) => "Destination Host Unknown",
        (3, 8) => "Source Host Isolated",
        (3, 9) => "Destination Net Prohibited",
        (3, 10) => "Destination Host Prohibited",
        (3, 11) => "Destination Net Unreachable for Type of Service",
        (3, 12) => "Destination Host Unreachable for Type of Service",
        (3, 13) => "Packet filtered",
        (3, 14) => "Precedence Violation",
        (3, 15) => "Precedence Cutoff",
        (3, c) => return format!("Dest Unreachable, Bad Code: {c}"),
        (11, 0) => "Time to live exceeded",
        (11, 1) => "Frag reassembly time exceeded",
        (11, c) => return format!("Time exceeded, Bad Code: {c}"),
        (t, c) => return format!("Bad ICMP type: {t}, code: {c}"),
    };
    what.to_string()
}

/// What an ICMP error means to a socket: `icmp_err_convert` (net/ipv4/icmp.c) for destination
/// unreachable codes 0–15, EHOSTUNREACH for time exceeded and EPROTO for a parameter problem
/// (`tcp_v4_err`, `udp_err`). (errno name, strerror words, fatal: a "hard" error that a
/// connected UDP socket reports without IP_RECVERR; "fragmentation needed" is marked so here
/// because `__udp4_lib_err` reports EMSGSIZE for it although `icmp_err_convert` does not.)
fn icmp_errno(ty: u8, code: u8) -> Option<(&'static str, &'static str, bool)> {
    const NET: (&str, &str) = ("ENETUNREACH", "Network is unreachable");
    const HOST: (&str, &str) = ("EHOSTUNREACH", "No route to host");
    let ((name, text), fatal) = match (ty, code) {
        (3, 0 | 11) => (NET, false),
        (3, 6 | 9) => (NET, true),
        (3, 1 | 12) => (HOST, false),
        (3, 10 | 13..=15) => (HOST, true),
        (3, 2) => (("ENOPROTOOPT", "Protocol not available"), true),
        (3, 3) => (("ECONNREFUSED", "Connection refused"), true),
        (3, 4) => (("EMSGSIZE", "Message too long"), true),
        (3, 5) => (("EOPNOTSUPP", "Operation not supported"), false),
        (3, 7) => (("EHOSTDOWN", "Host is down"), true),
        (3, 8) => (("ENONET", "Machine is not on the network"), true),
        (11, _) => (HOST, false),
        (12, _) => (("EPROTO", "Protocol error"), true),
        _ => return None,
    };
    Some((name, text, fatal))
}

/// The error a TCP connect(2) in SYN_SENT fails with when an ICMP error about its SYN arrives
/// (net/ipv4/tcp_ipv4.c, `tcp_v4_err`: every one ends the attempt but "fragmentation needed",
/// which only lowers the path MTU), in strerror's words.
pub fn tcp_connect_icmp_error(ty: u8, code: u8) -> Option<&'static str> {
    if (ty, code) == (3, 4) {
        return None;
    }
    icmp_errno(ty, code).map(|(_, text, _)| text)
}

/// Payload as text for logs: printable ASCII kept, the rest escaped, long payloads cut.
pub fn printable(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b.iter().take(80) {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push('.'),
        }
    }
    if b.len() > 80 {
        s.push('…');
    }
    format!("\"{s}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;

    fn one_namespace() -> (World, NsId) {
        let plan: Plan = ron::from_str(r#"(namespaces: [(name: "a")])"#).expect("plan");
        let w = World::from_plan(&plan, 1).unwrap_or_else(|e| panic!("{e}"));
        let ns = w.ns_by_name("a").expect("a");
        (w, ns)
    }

    fn ping() -> Traffic {
        Traffic::Ping {
            at: SimTime::from_secs(1),
            ns: "a".into(),
            dst: "127.0.0.1".into(),
            count: 1,
            interval: SimTime::from_secs(1),
            size: 56,
        }
    }

    /// 65536 running pings hold every echo identifier: the next one fails as sendmsg's
    /// autobind fails (EAGAIN), and a finished ping gives its identifier back.
    #[test]
    fn echo_identifiers_run_out_with_eagain_and_come_back() {
        let (mut w, ns) = one_namespace();
        for _ in 0..=u16::MAX {
            w.add_traffic(&ping()).expect("an identifier is free");
        }
        assert_eq!(w.netns(ns).ping.len(), 65536);
        let e = w.add_traffic(&ping()).expect_err("all 65536 held");
        assert!(e.contains("sendmsg: Resource temporarily unavailable (EAGAIN"), "{e}");
        let app = w.apps.len() - 1;
        w.app_finish(app);
        assert_eq!(w.netns(ns).ping.len(), 65535);
        w.add_traffic(&ping()).expect("the finished ping's identifier is free again");
    }

    /// The connect(2) port search walks the whole range from a random start: it finds the one
    /// free port left, and reports none (EADDRNOTAVAIL) when all are held.
    #[test]
    fn local_ports_are_searched_through_the_whole_range() {
        let (mut w, _) = one_namespace();
        let (lo, hi) = defaults::EPHEMERAL;
        let last = lo + 1234;
        for _ in 0..20 {
            assert_eq!(w.free_ephemeral_port(|_, p| p != last), Some(last));
        }
        assert_eq!(w.free_ephemeral_port(|_, _| true), None);
        let p = w.free_ephemeral_port(|_, _| false).expect("free");
        assert!((lo..=hi).contains(&p));
    }
}
