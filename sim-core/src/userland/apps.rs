//! The programs of a scenario's traffic and of Docker's containers: ping, UDP senders and
//! listeners, TCP clients and listeners, and the servers and clients of `services`. Each is
//! a state machine fed by its sockets and its own timers through the kernel's socket calls
//! (`kernel::sock`); none sees the engine or the kernel's tables.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::engine::SimTime;
use crate::kernel::sock::{DstCache, Errno, PingSendError, Pmtudisc, SockBind};
use crate::kernel::tcp::TcpKey;
use crate::kernel::{DevId, NsId};
use crate::userland::World;
pub use crate::userland::dns_zone::{DnsZone, DnsZones};
use crate::userland::proto::ping::{self, Flavour};
use crate::wire::printable;

/// Most packets one traffic item sends. The kernel sets no limit (iputils takes `-c` up to
/// LONG_MAX); the simulator does, so that a typo such as `count: 4294967295` is an error at
/// load and not a run that never ends.
pub const MAX_COUNT: u32 = 100_000;

/// Largest ICMP payload `ping -s` sends over IPv4: 65535 minus the IP (20) and ICMP (8)
/// headers; iputils `ping/ping.c` refuses more with these words.
pub const PING_MAX_SIZE: usize = 65507;

/// curl's options that shape what it prints of an answer (curl(1)).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurlOut {
    /// `-I`/`--head`: a `HEAD` request; the answer's status line and headers are printed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub head: bool,
    /// `-i`/`--include`: the status line and headers before the body.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include: bool,
    /// `-f`/`--fail`: an answer of 400 or more prints no body and exits 22.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fail: bool,
    /// `-o FILE`: the body goes to FILE (`/dev/null`: nowhere), not to the terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// `-w FORMAT`: printed after the transfer, its variables filled in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_out: Option<String>,
}

impl CurlOut {
    pub fn is_plain(&self) -> bool {
        *self == CurlOut::default()
    }
}

/// A traffic step of a scenario.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Traffic {
    /// `ping -c COUNT -i INTERVAL -s SIZE -M PMTUDISC DST` from `ns`, starting at `at`. `dst` is an
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
        /// `-M`: whether the echo requests carry DF (`Want`, the default, sets it on what fits
        /// the path MTU and fragments the rest).
        #[serde(default, skip_serializing_if = "Pmtudisc::is_want")]
        pmtudisc: Pmtudisc,
        /// `-W`: how long to wait for replies after the last request (iputils' 10 s when
        /// not given).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wait: Option<SimTime>,
        /// `-w`: ping ends this long after it started, whatever it has sent or received;
        /// with `count: 0` it sends until then.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<SimTime>,
        /// `-q`: only the summary at the end, no line per reply or error.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        quiet: bool,
        /// Which `ping` runs: iputils (the default: hosts, Debian-based images) or busybox's
        /// applet (alpine's and busybox's images), each printing and timing as it does
        /// (`userland::proto::ping`).
        #[serde(default, skip_serializing_if = "Flavour::is_iputils")]
        flavour: Flavour,
        /// `-t`: the requests' TTL instead of the namespace's default (64).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl: Option<u8>,
        /// `-n`: iputils prints each reply's source as an address only; without it, a ping
        /// of a name asks the resolver for the source's name at every reply.
        #[serde(default)]
        numeric: bool,
        /// `-I`: a device of the namespace the socket is bound to (`SO_BINDTODEVICE`: its
        /// requests leave only through it), or one of its addresses to send from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        interface: Option<String>,
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
        /// The datagrams' TTL (`IP_TTL`), else the namespace's default (64).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl: Option<u8>,
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
        /// The TTL of every segment it sends (`IP_TTL`), else the namespace's default (64).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl: Option<u8>,
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
        /// What answers a GET without `mysql` (a web image's server: nginx, httpd).
        #[serde(default, skip_serializing_if = "WebServer::is_default")]
        server: WebServer,
    },
    /// A MySQL 5.5 server with an in-memory database; `password` is root's.
    MysqlServer {
        ns: String,
        #[serde(default = "mysql_port")]
        port: u16,
        password: String,
    },
    /// `curl [-d DATA] URL`: one HTTP/1.1 request; the response is printed. With `wget`,
    /// busybox `wget` makes the request and prints what it prints.
    Curl {
        #[serde(default)]
        at: SimTime,
        ns: String,
        url: String,
        #[serde(default)]
        data: Option<String>,
        #[serde(default)]
        method: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wget: Option<crate::userland::proto::wget::WgetOpts>,
        /// `-m`/`--max-time`: the whole operation's limit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_time: Option<SimTime>,
        /// `-s` without `-S`: a failure prints nothing, its exit code tells.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        quiet_errors: bool,
        /// What curl prints of the answer beyond its body (`-I`, `-i`, `-f`, `-o`, `-w`).
        #[serde(default, skip_serializing_if = "CurlOut::is_plain")]
        out: CurlOut,
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
    /// Unsolicited ARP on an interface (`arping -U`, as dockerd v28+ sends on a new one):
    /// `count` broadcast requests for the interface's own address, `interval` apart.
    Announce {
        #[serde(default)]
        at: SimTime,
        ns: String,
        dev: String,
        #[serde(default = "three")]
        count: u32,
        #[serde(default = "one_second")]
        interval: SimTime,
    },
    /// `nslookup NAME [SERVER]`: the namespace's nameserver (or SERVER) asked about NAME, as
    /// busybox's or BIND's program asks and prints (`proto::nslookup`).
    Nslookup {
        #[serde(default)]
        at: SimTime,
        ns: String,
        name: String,
        #[serde(default)]
        flavour: crate::userland::proto::nslookup::Flavour,
        /// The server given after the name (an IPv4 address); default resolv.conf's.
        #[serde(default)]
        server: Option<String>,
        #[serde(default)]
        opts: crate::userland::proto::nslookup::Opts,
    },
    /// busybox `nc -z HOST PORT`: a TCP connection opened to see whether the port answers,
    /// then closed (`proto::nc`).
    Nc {
        #[serde(default)]
        at: SimTime,
        ns: String,
        host: String,
        port: u16,
        /// `-v` counted.
        #[serde(default)]
        verbose: u8,
        /// `-w SEC`: how long the connect may take.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wait: Option<u32>,
        /// `-n`.
        #[serde(default)]
        numeric: bool,
        /// `-z`: close as soon as the connection is up. Without it nc shuts its sending side
        /// at once (its standard input is empty) and prints what arrives until the peer closes.
        #[serde(default = "yes")]
        zero: bool,
    },
    /// busybox `nc -l [-k] [-p PORT] [-e PROG]`: accepts a connection and prints what arrives
    /// (`proto::nc`); with `reply` (what `-e PROG` writes), answers each connection with it
    /// and closes, and with `keep` (`-k`) goes on accepting.
    NcListen {
        #[serde(default)]
        at: SimTime,
        ns: String,
        /// 0: a free port of the kernel's choosing.
        port: u16,
        #[serde(default)]
        verbose: u8,
        #[serde(default)]
        numeric: bool,
        #[serde(default)]
        keep: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply: Option<String>,
    },
    /// dockerd's `docker-proxy` for one published TCP port (`userland::proxy`): listens on
    /// `host_port` of the host (of `host_ip` only, when given) and relays each connection to
    /// the container's `container_ip:container_port`.
    DockerProxy {
        ns: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host_ip: Option<Ipv4Addr>,
        host_port: u16,
        container_ip: Ipv4Addr,
        container_port: u16,
    },
    /// BIND's `dig` (`proto::dig`).
    Dig {
        #[serde(default)]
        at: SimTime,
        ns: String,
        dig: crate::userland::proto::dig::Dig,
    },
    /// busybox `traceroute HOST`: UDP probes with a rising TTL (`proto::traceroute`).
    Traceroute {
        #[serde(default)]
        at: SimTime,
        ns: String,
        host: String,
        #[serde(default)]
        opts: crate::userland::proto::traceroute::Opts,
    },
}

/// A name the embedded DNS answers, with its addresses.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DnsRecord {
    pub name: String,
    pub addrs: Vec<Ipv4Addr>,
}

pub use super::proto::webapp::{MysqlTarget, WebServer};

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
            | Traffic::Nslookup { ns, .. }
            | Traffic::Nc { ns, .. }
            | Traffic::NcListen { ns, .. }
            | Traffic::DockerProxy { ns, .. }
            | Traffic::Traceroute { ns, .. }
            | Traffic::Dig { ns, .. } => ns,
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
            | Traffic::Nslookup { at, .. }
            | Traffic::Nc { at, .. }
            | Traffic::NcListen { at, .. }
            | Traffic::Traceroute { at, .. }
            | Traffic::Dig { at, .. } => *at,
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
                | Traffic::DockerProxy { .. }
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
            | Traffic::Nslookup { at, .. }
            | Traffic::Nc { at, .. }
            | Traffic::NcListen { at, .. }
            | Traffic::Traceroute { at, .. }
            | Traffic::Dig { at, .. } => *at = t,
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
    /// Its exit status once `done`: 0, or the program's own code for what went wrong
    /// (iputils ping 1 or 2, curl's `CURLE_*`, busybox's 1).
    pub status: u8,
    /// What it printed, kept when it is a container's main process (`docker logs`).
    pub log: Option<String>,
}

#[derive(Clone, Debug)]
pub enum AppKind {
    Ping {
        dst: Ipv4Addr,
        count: u32,
        interval: SimTime,
        size: usize,
        pmtudisc: Pmtudisc,
        ident: u16,
        sent: u32,
        received: u32,
        errors: u32,
        sent_at: crate::kernel::Map<u16, SimTime>,
        /// `-W`, `-w` (0 `count`: until the deadline), `-q`.
        wait: Option<SimTime>,
        deadline: Option<SimTime>,
        quiet: bool,
        flavour: Flavour,
        ttl: Option<u8>,
        /// The destination as typed, for the header and the summary.
        target: String,
        rtts: ping::Rtts,
        /// When the first and the latest request went out.
        first_at: SimTime,
        last_at: SimTime,
        /// iputils pinging a name: each reply's source is named by a PTR lookup first
        /// (`pr_addr` in ping/ping.c calls getnameinfo for every reply).
        reverse: bool,
        /// The most requests in flight when one was answered or failed (iputils' `pipe N`).
        pipe: ping::Pipe,
        /// `-I`: a device or a local address as typed, and what the socket was bound to
        /// before the first request.
        interface: Option<String>,
        bind: Option<SockBind>,
        /// iputils heard a reply since its last request: the next one goes with MSG_CONFIRM
        /// (`gather_statistics` in ping/ping_common.c), which confirms the neighbour the
        /// request goes through (`dst_confirm_neigh`). busybox's ping does not.
        confirm: bool,
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
        /// Its socket's route, kept between sends.
        route: DstCache,
        ttl: Option<u8>,
    },
    TcpListen {
        port: u16,
        reply: Option<Vec<u8>>,
        close_after_reply: bool,
        /// Connections it has answered: it answers each one's first data only.
        replied: Vec<TcpKey>,
        /// Answered connections it is about to close (`LISTEN_CLOSE_COST` after the answer).
        closing: Vec<TcpKey>,
        /// Connections whose first read it has printed: it reads each one once.
        heard: Vec<TcpKey>,
    },
    TcpConnect {
        dst: Ipv4Addr,
        dport: u16,
        data: Vec<u8>,
        close: bool,
        ttl: Option<u8>,
        /// Its connect(2) returned 0: a failure after this is a read's, which it does not
        /// print.
        connected: bool,
        /// Its one read is done: what came later is not printed.
        heard: bool,
    },
    /// Docker's embedded DNS server (dockerd's socket inside a sandbox).
    DnsServer {
        port: u16,
        zones: DnsZones,
        /// Set: the zones it asks are these keys of the world's table (`Programs::zones`),
        /// in order, and `zones` is not read.
        keys: Option<Vec<String>>,
    },
    /// An HTTP server; with `mysql`, the tutorial's webapp.
    Http {
        port: u16,
        mysql: Option<MysqlTarget>,
        server: WebServer,
        /// Connections accepted since it started (nginx numbers them in its error log).
        connections: u64,
    },
    MysqlServer {
        port: u16,
        password: String,
        db: crate::userland::proto::mysql::Database,
        next_conn: u32,
    },
    Curl {
        dst: Ipv4Addr,
        host: String,
        port: u16,
        path: String,
        method: String,
        data: Option<String>,
        wget: Option<Box<crate::userland::proto::wget::WgetOpts>>,
        max_time: Option<SimTime>,
        /// `-s` without `-S`: no error message.
        quiet_errors: bool,
        out: CurlOut,
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
        flavour: crate::userland::proto::nslookup::Flavour,
        server: Option<String>,
        opts: crate::userland::proto::nslookup::Opts,
        /// The running program, once started, and its socket's port.
        prog: Option<Box<crate::userland::proto::nslookup::Nslookup>>,
        sport: u16,
    },
    Nc {
        dst: Ipv4Addr,
        host: String,
        port: u16,
        opts: crate::userland::proto::nc::NcOpts,
        zero: bool,
    },
    DockerProxy {
        target: (Ipv4Addr, u16),
    },
    NcListen {
        /// As asked (0: any); the port bound once started.
        port: u16,
        opts: crate::userland::proto::nc::NcOpts,
        keep: bool,
        reply: Option<Vec<u8>>,
    },
    Traceroute {
        dst: Ipv4Addr,
        run: Box<crate::userland::traceroute::Run>,
    },
    Dig(Box<crate::userland::dig::Run>),
    Announce {
        dev: DevId,
        count: u32,
        interval: SimTime,
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
        /// Its socket's route, kept between sends.
        route: DstCache,
    },
}

/// How many requests `ping -w DEADLINE` without `-c` sends, one every `interval`.
pub fn ping_requests(interval: SimTime, deadline: SimTime) -> u64 {
    deadline.as_nanos() / interval.as_nanos().max(1) + 1
}

/// The app timer of ping's `-w` deadline.
const PING_DEADLINE: u32 = 2;

impl World {
    /// Creates an application for a traffic step and returns its index. Sockets bind now;
    /// active apps start at their `at` time.
    pub fn add_traffic(&mut self, t: &Traffic) -> Result<usize, String> {
        let ns = self.ns_by_name(t.ns()).ok_or_else(|| format!("no namespace `{}`", t.ns()))?;
        let idx = self.user.apps.len();
        let mut resolve = None;
        let mut target = |host: &str| match host.parse::<Ipv4Addr>() {
            Ok(ip) => ip,
            Err(_) => {
                resolve = Some(host.to_string());
                Ipv4Addr::UNSPECIFIED
            }
        };
        let kind = match t {
            Traffic::Ping {
                dst,
                count,
                interval,
                size,
                pmtudisc,
                wait,
                deadline,
                quiet,
                flavour,
                ttl,
                numeric,
                interface,
                ..
            } => {
                let typed = dst.clone();
                let reverse = flavour.names_replies(dst, *numeric);
                let dst = target(dst);
                let Some(ident) = self.bind_ping(ns, idx) else {
                    return Err(format!(
                        "ping in `{}`: sendmsg: Resource temporarily unavailable (EAGAIN: all 65536 ICMP echo \
                         identifiers are held by running pings)",
                        t.ns()
                    ));
                };
                // `-I`: bound before the first request; a name that is neither a device
                // nor a local address fails it (`Flavour::bind_failed`).
                let bind = interface.as_deref().and_then(|name| self.ping_bind(ns, name));
                if let Some(SockBind::Dev(d)) = bind {
                    self.bind_ping_dev(ns, ident, d);
                }
                AppKind::Ping {
                    dst,
                    count: *count,
                    interval: *interval,
                    size: *size,
                    pmtudisc: *pmtudisc,
                    ident,
                    sent: 0,
                    received: 0,
                    errors: 0,
                    sent_at: Default::default(),
                    wait: *wait,
                    deadline: *deadline,
                    quiet: *quiet,
                    flavour: *flavour,
                    ttl: flavour.ttl(*ttl),
                    target: typed,
                    rtts: Default::default(),
                    first_at: SimTime::ZERO,
                    last_at: SimTime::ZERO,
                    reverse,
                    pipe: ping::Pipe::default(),
                    interface: interface.clone(),
                    bind,
                    confirm: false,
                }
            }
            Traffic::UdpListen { port, echo, .. } => {
                self.bind_udp(ns, *port, idx, t.ns())?;
                AppKind::UdpListen { port: *port, echo: *echo, received: 0 }
            }
            Traffic::UdpSend { dst, dport, sport, payload, count, interval, ttl, .. } => {
                let sport = match sport {
                    Some(p) => *p,
                    None => self.ephemeral_port(),
                };
                self.bind_udp_shared(ns, sport, idx);
                AppKind::UdpSend {
                    dst: *dst,
                    dport: *dport,
                    sport,
                    payload: payload.clone().into_bytes(),
                    count: *count,
                    interval: *interval,
                    sent: 0,
                    route: DstCache::default(),
                    ttl: *ttl,
                }
            }
            Traffic::DockerProxy { host_ip, host_port, container_ip, container_port, .. } => {
                self.listen_tcp_on(ns, *host_ip, *host_port, idx, t.ns())?;
                AppKind::DockerProxy { target: (*container_ip, *container_port) }
            }
            Traffic::TcpListen { port, reply, close_after_reply, .. } => {
                self.listen_tcp(ns, *port, idx, t.ns())?;
                AppKind::TcpListen {
                    port: *port,
                    reply: reply.clone().map(String::into_bytes),
                    close_after_reply: *close_after_reply,
                    replied: Vec::new(),
                    closing: Vec::new(),
                    heard: Vec::new(),
                }
            }
            Traffic::TcpConnect { dst, dport, send, close, ttl, .. } => AppKind::TcpConnect {
                dst: *dst,
                dport: *dport,
                data: send.clone().into_bytes(),
                close: *close,
                ttl: *ttl,
                connected: false,
                heard: false,
            },
            Traffic::Dns { port, records, .. } => {
                self.bind_udp(ns, *port, idx, t.ns())?;
                self.user.resolver.insert(ns, super::services::EMBEDDED_DNS);
                self.user.dns_server.insert(ns, idx);
                AppKind::DnsServer { port: *port, zones: records.clone(), keys: None }
            }
            Traffic::Http { port, mysql, server, .. } => {
                self.listen_tcp(ns, *port, idx, t.ns())?;
                AppKind::Http { port: *port, mysql: mysql.clone(), server: server.clone(), connections: 0 }
            }
            Traffic::MysqlServer { port, password, .. } => {
                self.listen_tcp(ns, *port, idx, t.ns())?;
                AppKind::MysqlServer {
                    port: *port,
                    password: password.clone(),
                    db: crate::userland::proto::mysql::Database::new(),
                    next_conn: 0,
                }
            }
            Traffic::Curl { url, data, method, wget, max_time, quiet_errors, out, .. } => {
                let (host, port, path) = parse_url(url)?;
                let dst = target(&host);
                let method = method.clone().unwrap_or_else(|| if data.is_some() { "POST" } else { "GET" }.into());
                let wget = wget.clone().map(Box::new);
                AppKind::Curl {
                    dst,
                    host,
                    port,
                    path,
                    method,
                    data: data.clone(),
                    wget,
                    max_time: *max_time,
                    quiet_errors: *quiet_errors,
                    out: out.clone(),
                }
            }
            Traffic::Mysql { host, port, user, password, database, queries, .. } => AppKind::MysqlClient {
                dst: target(host),
                port: *port,
                user: user.clone(),
                password: password.clone(),
                database: database.clone(),
                queries: queries.clone(),
            },
            Traffic::Nslookup { name, flavour, server, opts, .. } => AppKind::Nslookup {
                name: name.clone(),
                flavour: *flavour,
                server: server.clone(),
                opts: opts.clone(),
                prog: None,
                sport: 0,
            },
            Traffic::Nc { host, port, verbose, wait, numeric, zero, .. } => {
                let opts = crate::userland::proto::nc::NcOpts { verbose: *verbose, wait: *wait, numeric: *numeric };
                AppKind::Nc { dst: target(host), host: host.clone(), port: *port, opts, zero: *zero }
            }
            Traffic::NcListen { port, verbose, numeric, keep, reply, .. } => AppKind::NcListen {
                port: *port,
                opts: crate::userland::proto::nc::NcOpts { verbose: *verbose, wait: None, numeric: *numeric },
                keep: *keep,
                reply: reply.clone().map(String::into_bytes),
            },
            Traffic::Traceroute { host, opts, .. } => {
                let run = crate::userland::traceroute::Run::new(opts.clone(), host.clone());
                AppKind::Traceroute { dst: target(host), run: Box::new(run) }
            }
            Traffic::Dig { dig, .. } => AppKind::Dig(Box::new(crate::userland::dig::Run::new(dig.clone()))),
            Traffic::Announce { dev, count, interval, .. } => {
                let d = self.dev_by_name(ns, dev).ok_or_else(|| format!("no device `{dev}` in `{}`", t.ns()))?;
                AppKind::Announce { dev: d, count: *count, interval: *interval, sent: 0 }
            }
        };
        self.user.apps.push(App { ns, kind, done: false, resolve, status: 0, log: None });
        if !t.is_server() {
            let at = t.start();
            self.schedule_at(at, crate::kernel::Event::App { app: idx, tag: 0 });
            if let Traffic::Curl { max_time: Some(m), .. } = t {
                let tag = crate::userland::services::TAG_MAX_TIME;
                self.schedule_at(at + *m, crate::kernel::Event::App { app: idx, tag });
            }
        }
        Ok(idx)
    }

    /// An application timer fired.
    pub(crate) fn app_timer(&mut self, app: usize, tag: u32) {
        let ns = self.user.apps[app].ns;
        if self.netns(ns).dead {
            return;
        }
        if (crate::userland::services::TAG_DNS_TIMEOUT..100).contains(&tag) {
            return self.dns_timeout(ns, app);
        }
        if tag == 0
            && let Some(name) = self.user.apps[app].resolve.take()
        {
            return self.resolve_start(ns, app, name, None);
        }
        if self.user.apps[app].done {
            return;
        }
        if tag == crate::userland::services::TAG_MAX_TIME {
            return self.curl_max_time(ns, app);
        }
        if tag == crate::userland::services::TAG_NC_WAIT {
            return self.nc_wait(ns, app);
        }
        if tag == TAG_PEER_FIN_WAIT {
            let open: Vec<TcpKey> =
                self.netns(ns).tcp.iter().filter(|(_, c)| c.owner == app).map(|(k, _)| *k).collect();
            for key in open {
                self.tcp_close(ns, key);
            }
            return;
        }
        if tag == TAG_LISTEN_CLOSE
            && let AppKind::TcpListen { closing, .. } = &mut self.user.apps[app].kind
        {
            for key in std::mem::take(closing) {
                self.tcp_close(ns, key);
            }
            return;
        }
        if tag == crate::userland::services::TAG_NSLOOKUP {
            return self.nslookup_wake(ns, app);
        }
        if tag == crate::userland::dig::TAG_DIG {
            return self.dig_timeout(ns, app);
        }
        if tag != 0 && matches!(self.user.apps[app].kind, AppKind::Traceroute { .. }) {
            return self.traceroute_timer(ns, app, tag);
        }
        match &mut self.user.apps[app].kind {
            AppKind::Ping { .. } if tag == 1 || tag == PING_DEADLINE => self.ping_statistics(app),
            AppKind::Ping {
                dst,
                count,
                interval,
                size,
                pmtudisc,
                ident,
                sent,
                sent_at,
                wait,
                deadline,
                flavour,
                ttl,
                rtts,
                first_at,
                last_at,
                interface,
                bind,
                target,
                confirm,
                ..
            } => {
                let (flavour, ttl) = (*flavour, *ttl);
                let confirm = std::mem::take(confirm);
                if *sent == 0 && ttl == Some(0) {
                    self.print(app, || ping::TTL_REFUSED.to_string());
                    return self.app_fail(app, 2);
                }
                if *sent == 0
                    && bind.is_none()
                    && let Some(name) = interface
                {
                    let lines = flavour.bind_failed(target, *dst, *size, name);
                    for line in lines {
                        self.print(app, || line);
                    }
                    return self.app_fail(app, flavour.bind_status());
                }
                let bind = *bind;
                // busybox looks at `-w` only when a request is due (`sendping_tail`).
                if flavour == Flavour::Busybox
                    && *sent > 0
                    && deadline.is_some_and(|d| self.now.saturating_sub(*first_at) >= d)
                {
                    return self.ping_statistics(app);
                }
                let first = *sent == 0;
                let seq = flavour.first_seq().wrapping_add(*sent as u16);
                let (dst, ident, size, interval, pmtudisc) = (*dst, *ident, *size, *interval, *pmtudisc);
                *sent += 1;
                sent_at.insert(seq, self.now);
                if first {
                    *first_at = self.now;
                }
                *last_at = self.now;
                // `-w` without `-c` (count 0): requests until the deadline.
                let more = *count == 0 || *sent < *count;
                let deadline = if first && flavour.is_iputils() { *deadline } else { None };
                let data = flavour.payload(self.now.as_nanos(), size);
                let linger = flavour.linger_ns(rtts, interval.as_nanos(), wait.map(|w| w.as_nanos()));
                if first && flavour == Flavour::Busybox {
                    self.ping_header(app);
                }
                let sent = self.ping_send(ns, dst, ident, seq, &data, pmtudisc, ttl, bind, confirm);
                if more {
                    self.app_schedule(app, interval + flavour.wake_late(), 0);
                } else {
                    // After the last request: the wait for what is still out.
                    self.app_schedule(app, SimTime::from_nanos(linger), 1);
                }
                if let Some(d) = deadline {
                    // iputils' `-w`: the run ends then, from its first request on.
                    self.app_schedule(app, d, PING_DEADLINE);
                }
                match sent {
                    Ok(()) => {
                        if first && flavour.is_iputils() {
                            self.ping_header(app);
                        }
                    }
                    // iputils' connect() probe fails before the first echo: no header, no
                    // statistics (ping4_run). A later echo that has no route (its link went
                    // down) is counted as sent and lost, with nothing printed: iputils
                    // 20221126 on Linux 6.18, `ip link set eth0 down` during `ping -c 4`,
                    // printed two replies and "4 packets transmitted, 2 received, 50% packet
                    // loss". busybox's sendto() fails the same way at any request, and it dies.
                    Err(PingSendError::Unreachable) if first || flavour == Flavour::Busybox => {
                        let (line, status) = flavour.unreachable();
                        self.print(app, || line);
                        self.app_fail(app, status);
                    }
                    Err(PingSendError::Unreachable) => {}
                    Err(PingSendError::TooBig { mtu }) => {
                        if first {
                            self.ping_header(app);
                        }
                        // ip_local_error's EMSGSIZE, read back from the error queue (ping4.c,
                        // `ping4_receive_error_msg`): counted as an error.
                        self.print(app, || format!("ping: local error: message too long, mtu={mtu}"));
                        self.ping_error_counted(app);
                    }
                }
            }
            AppKind::UdpSend { dst, dport, sport, payload, count, interval, sent, route, ttl } => {
                let (dst, dport, sport, mut route, ttl) = (*dst, *dport, *sport, *route, *ttl);
                // Lent to the send and put back, not copied: the program sends the same
                // payload each time, and sending reads no program's state.
                let payload = std::mem::take(payload);
                *sent += 1;
                if *sent < *count {
                    let iv = *interval;
                    self.app_schedule(app, iv, 0);
                }
                if let Err(e) =
                    self.udp_sendto_cached(&mut route, ns, None, dst, dport, sport, &payload, ttl, "udp send".into())
                {
                    self.app_log(ns, || format!("udp send: sendto {dst}: {}", e.text()));
                }
                if let AppKind::UdpSend { payload: kept, route: kept_route, .. } = &mut self.user.apps[app].kind {
                    *kept = payload;
                    *kept_route = route;
                }
            }
            AppKind::BenchUdp { dst, dport, sport, size, count, interval, sent, route } => {
                let (dst, dport, sport, size, mut route) = (*dst, *dport, *sport, *size, *route);
                *sent += 1;
                if *sent < *count {
                    let iv = *interval;
                    self.app_schedule(app, iv, 0);
                }
                static ZEROS: [u8; 65507] = [0; 65507];
                self.send_udp_on(&mut route, ns, None, (dst, dport), sport, &ZEROS[..size.min(ZEROS.len())], "bench");
                if let AppKind::BenchUdp { route: kept, .. } = &mut self.user.apps[app].kind {
                    *kept = route;
                }
            }
            AppKind::TcpConnect { dst, dport, data, close, ttl, .. } => {
                let (to, data, close, ttl) = ((*dst, *dport), data.clone(), *close, *ttl);
                match self.try_connect(ns, app, to, data, close, ttl) {
                    Ok(key) => self.tcp_give_up_after(ns, key, CONNECT_TIMEOUT),
                    // connect(2) failed before the socket was bound: getsockname(2) says
                    // 0.0.0.0:0, which the kernel backend's agent prints.
                    Err(text) => self.app_log(ns, || format!("tcp 0.0.0.0:0 → {}:{}: {text}", to.0, to.1)),
                }
            }
            AppKind::Curl { .. } | AppKind::MysqlClient { .. } => self.client_connect(ns, app),
            AppKind::Nc { .. } => self.nc_connect(ns, app),
            AppKind::NcListen { .. } => self.nc_listen(ns, app),
            AppKind::Traceroute { .. } => self.traceroute_start(ns, app),
            AppKind::Dig(_) => self.dig_start(ns, app),
            AppKind::Nslookup { .. } => self.nslookup_start(ns, app),
            AppKind::Announce { dev, count, interval, sent } => {
                let (dev, more, interval) = (*dev, *sent + 1 < *count, *interval);
                *sent += 1;
                if more {
                    self.app_schedule(app, interval, 0);
                } else {
                    self.app_finish(app);
                }
                self.arp_announce(ns, dev);
            }
            AppKind::UdpListen { .. }
            | AppKind::TcpListen { .. }
            | AppKind::DnsServer { .. }
            | AppKind::Http { .. }
            | AppKind::DockerProxy { .. }
            | AppKind::MysqlServer { .. } => {}
        }
    }

    /// `PING …`, once the destination's address is known and before the first reply.
    fn ping_header(&mut self, app: usize) {
        let ns = self.user.apps[app].ns;
        if let AppKind::Ping { flavour, target, dst, size, bind, interface, .. } = &self.user.apps[app].kind {
            // `-I`: the source it sends from, and the device it is bound to.
            let from = bind.and_then(|b| {
                let src = self.bound_source(ns, *dst, b)?;
                Some((src, matches!(b, SockBind::Dev(_)).then(|| interface.clone()).flatten()))
            });
            let line = flavour.header(target, *dst, *size, from.as_ref().map(|(a, d)| (*a, d.as_deref())));
            self.print(app, || line);
        }
    }

    /// `ping -I NAME`: a device of the namespace, else a local address (iputils' and
    /// busybox's order: an interface name first).
    fn ping_bind(&self, ns: NsId, name: &str) -> Option<SockBind> {
        if let Some(d) = self.dev_by_name(ns, name) {
            return Some(SockBind::Dev(d));
        }
        let a: Ipv4Addr = name.parse().ok()?;
        let local = crate::kernel::l3::addr_type_in(self, ns, a) == crate::kernel::netfilter::AddrType::Local;
        local.then_some(SockBind::Addr(a))
    }

    /// The closing lines of `ping`: after the last reply, the last wait, or the deadline.
    fn ping_statistics(&mut self, app: usize) {
        if self.user.apps[app].done {
            return;
        }
        let AppKind::Ping {
            flavour,
            target,
            sent,
            received,
            errors,
            count,
            deadline,
            rtts,
            first_at,
            last_at,
            pipe,
            ..
        } = &self.user.apps[app].kind
        else {
            return;
        };
        let s = ping::Summary {
            target,
            sent: *sent,
            received: *received,
            errors: *errors,
            elapsed_ns: last_at.saturating_sub(*first_at).as_nanos(),
            rtts,
            pipe: pipe.0,
        };
        let (lines, status) = (flavour.summary(&s), flavour.status(*received, *count, deadline.is_some()));
        for line in lines {
            self.print(app, || line);
        }
        self.app_fail(app, status)
    }

    #[inline(always)]
    pub(crate) fn app_schedule(&mut self, app: usize, after: SimTime, tag: u32) {
        self.set_timer(app, after, tag);
    }

    /// sendto(2) from a program: its own line when the kernel refuses.
    pub(crate) fn send_udp(
        &mut self,
        ns: NsId,
        bound: Option<Ipv4Addr>,
        (dst, dport): (Ipv4Addr, u16),
        sport: u16,
        payload: &[u8],
        who: impl Into<Cow<'static, str>>,
    ) {
        self.send_udp_on(&mut DstCache::default(), ns, bound, (dst, dport), sport, payload, who)
    }

    /// `send_udp` from a socket that keeps its route in `route` between sends. Inlined into
    /// the programs: a wrapper around the socket call, on every datagram they send.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(crate) fn send_udp_on(
        &mut self,
        route: &mut DstCache,
        ns: NsId,
        bound: Option<Ipv4Addr>,
        (dst, dport): (Ipv4Addr, u16),
        sport: u16,
        payload: &[u8],
        who: impl Into<Cow<'static, str>>,
    ) {
        let who = who.into();
        if let Err(e) = self.udp_sendto_cached(route, ns, bound, dst, dport, sport, payload, None, who.clone()) {
            self.app_log(ns, || format!("{who}: sendto {dst}: {}", e.text()));
        }
    }

    /// connect(2) from a program: its own line when the kernel refuses.
    pub(crate) fn connect(
        &mut self,
        ns: NsId,
        app: usize,
        (dst, dport): (Ipv4Addr, u16),
        data: Vec<u8>,
        close: bool,
    ) -> Option<TcpKey> {
        match self.try_connect(ns, app, (dst, dport), data, close, None) {
            Ok(key) => Some(key),
            Err(text) => {
                self.app_log(ns, || format!("connect to {dst}:{dport}: {text}"));
                None
            }
        }
    }

    /// [`World::connect`] that leaves saying why it failed (strerror's words) to the program.
    pub(crate) fn try_connect(
        &mut self,
        ns: NsId,
        app: usize,
        to: (Ipv4Addr, u16),
        data: Vec<u8>,
        close: bool,
        ttl: Option<u8>,
    ) -> Result<TcpKey, String> {
        self.tcp_connect(ns, app, to, data, close, ttl).map_err(|e| match e {
            Errno::EADDRNOTAVAIL => format!("{} (EADDRNOTAVAIL)", e.text()),
            _ => e.text().to_string(),
        })
    }

    /// A datagram for one of the programs' UDP sockets.
    pub(crate) fn udp_rx(
        &mut self,
        ns: NsId,
        app: usize,
        (src, sport): (Ipv4Addr, u16),
        to: (Ipv4Addr, u16),
        payload: &[u8],
    ) {
        if self.service_udp(ns, app, (src, sport), to, payload) {
            return;
        }
        let dport = to.1;
        let text = || printable(payload);
        match &mut self.user.apps[app].kind {
            AppKind::UdpListen { echo, received, .. } => {
                *received += 1;
                let echo = *echo;
                self.app_log(ns, || {
                    // One allocation, the line's size, and no formatting machinery: a listener
                    // prints a line per datagram.
                    let mut line = String::with_capacity(64 + payload.len().min(80) + 8);
                    let mut num = itoa::Buffer::new();
                    line.push_str("udp :");
                    line.push_str(num.format(dport));
                    line.push_str(" received ");
                    line.push_str(num.format(payload.len()));
                    line.push_str(" bytes from ");
                    crate::wire::Dotted(src).push_to(&mut line);
                    line.push(':');
                    line.push_str(num.format(sport));
                    line.push_str(": ");
                    crate::wire::pretty::push_printable(&mut line, payload);
                    line
                });
                if echo {
                    let payload = payload.to_vec();
                    self.send_udp(ns, None, (src, sport), dport, &payload, "udp echo");
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

    /// ping's reply line; `ping -c N` exits as soon as N requests are answered or failed.
    pub(crate) fn echo_reply(&mut self, ns: NsId, app: usize, src: Ipv4Addr, ttl: u8, seq: u16) {
        let now = self.now;
        let AppKind::Ping { received, sent_at, rtts, pipe, sent, flavour, confirm, .. } = &mut self.user.apps[app].kind
        else {
            return;
        };
        *confirm = flavour.is_iputils();
        *received += 1;
        pipe.acknowledge(*sent, seq);
        let rtt = sent_at.get(&seq).map(|t| now.saturating_sub(*t)).unwrap_or_default().as_nanos();
        rtts.add(rtt);
        let reply = crate::userland::services::EchoReply { from: src, seq, ttl, rtt, error: None };
        if let AppKind::Ping { reverse: true, .. } = self.user.apps[app].kind {
            // The line waits for the source's name (even with -q: pr_addr is an argument of
            // gather_statistics).
            return self.reverse_start(ns, app, reply);
        }
        self.echo_reply_shown(ns, app, reply, None);
    }

    /// ping's line for a reply, its source named `name` where it looked one up, and the
    /// statistics when it was the last.
    pub(crate) fn echo_reply_shown(
        &mut self,
        ns: NsId,
        app: usize,
        r: crate::userland::services::EchoReply,
        name: Option<String>,
    ) {
        if let AppKind::Traceroute { .. } = self.user.apps[app].kind {
            return self.traceroute_answered(ns, app, name);
        }
        if let Some(what) = &r.error {
            // An error's line, its source named as a reply's is (`pr_addr` in
            // ping4_receive_error_msg).
            let line = ping::error_line(&ping::source(name.as_deref(), r.from), r.seq, what);
            self.print(app, || line);
            return self.ping_error_counted(app);
        }
        let AppKind::Ping { received, errors, sent, size, count, quiet, flavour, .. } = &self.user.apps[app].kind
        else {
            return;
        };
        let all = ping::all_answered(*count, *sent, *received, *errors);
        if !*quiet {
            let line = flavour.reply(*size + 8, &ping::source(name.as_deref(), r.from), r.seq, r.ttl, r.rtt);
            self.print(app, || line);
        }
        if all && !self.user.apps[app].done {
            self.ping_statistics(app);
        }
    }

    /// ping's line for an ICMP error about one of its requests (busybox neither prints nor
    /// counts one: `Flavour::reports_errors`).
    pub(crate) fn echo_error(&mut self, ns: NsId, app: usize, from: Ipv4Addr, seq: u16, what: &str) {
        let AppKind::Ping { quiet, flavour, reverse, ref mut pipe, sent, .. } = self.user.apps[app].kind else {
            return;
        };
        if !flavour.reports_errors() {
            return;
        }
        pipe.acknowledge(sent, seq);
        if quiet {
            // Counted, neither printed nor named.
            return self.ping_error_counted(app);
        }
        let error = crate::userland::services::EchoReply { from, seq, ttl: 0, rtt: 0, error: Some(what.to_string()) };
        if reverse {
            return self.reverse_start(ns, app, error);
        }
        self.echo_reply_shown(ns, app, error, None);
    }

    /// One more error for a ping: once every request is answered or failed, it ends.
    fn ping_error_counted(&mut self, app: usize) {
        let mut all = false;
        if let AppKind::Ping { errors, received, count, sent, .. } = &mut self.user.apps[app].kind {
            *errors += 1;
            all = ping::all_answered(*count, *sent, *received, *errors);
        }
        if all && !self.user.apps[app].done {
            self.ping_statistics(app);
        }
    }

    /// Bytes on a connection: a protocol stream's, or a plain listener's first data, which it
    /// answers once with its reply.
    pub(crate) fn tcp_data(&mut self, ns: NsId, app: usize, key: TcpKey, data: &[u8]) {
        if self.service_rx(ns, app, key, data) {
            return;
        }
        self.plain_read(ns, app, key, data);
        if let AppKind::TcpConnect { close: true, .. } = self.user.apps[app].kind {
            // Answered: the peer's FIN, if it closes, is on its way.
            self.set_timer(app, PEER_FIN_WAIT, TAG_PEER_FIN_WAIT);
            return;
        }
        if let AppKind::TcpListen { reply: Some(reply), close_after_reply, replied, closing, .. } =
            &mut self.user.apps[app].kind
            && !replied.contains(&key)
        {
            replied.push(key);
            let (reply, close) = (reply.clone(), *close_after_reply);
            if close {
                closing.push(key);
                self.set_timer(app, LISTEN_CLOSE_COST, TAG_LISTEN_CLOSE);
            }
            self.tcp_queue(ns, key, &reply, false);
        }
    }
}

impl World {
    /// What the plain TCP programs print, as the kernel backend's agent does
    /// (netns/src/agent.rs `tcp_connect`, `tcp_listen`): each reads once, a client once it is
    /// connected, a listener once per connection it accepted, and prints what that read
    /// returned (0 bytes at the peer's FIN). The other reads are not printed; netsim's notes
    /// say what each segment brought.
    pub(crate) fn plain_read(&mut self, ns: NsId, app: usize, key: TcpKey, data: &[u8]) {
        let first = match &mut self.user.apps[app].kind {
            // The client prints a read that returned data only.
            AppKind::TcpConnect { heard, .. } => !std::mem::replace(heard, true) && !data.is_empty(),
            AppKind::TcpListen { heard, .. } if !heard.contains(&key) => {
                heard.push(key);
                true
            }
            _ => false,
        };
        if first {
            let text = printable(data);
            let ((l, lp), (r, rp)) = (key.local, key.remote);
            self.app_log_over_note(ns, format!("tcp {l}:{lp} received {} bytes from {r}:{rp}: {text}", data.len()));
        }
    }

    /// A plain TCP client's connect(2) returned: connected, or failed with `what`.
    pub(crate) fn plain_connected(&mut self, ns: NsId, app: usize, key: TcpKey, what: Option<&str>) {
        let AppKind::TcpConnect { connected, .. } = &mut self.user.apps[app].kind else { return };
        if *connected {
            return;
        }
        *connected = what.is_none();
        let ((l, lp), (r, rp)) = (key.local, key.remote);
        let what = what.unwrap_or("connected");
        self.app_log_over_note(ns, format!("tcp {l}:{lp} → {r}:{rp}: {what}"));
    }
}

/// The listener's timer that closes what it answered.
const TAG_LISTEN_CLOSE: u32 = 104;

/// A `TcpConnect` client's timer that closes once it has waited for the peer's FIN.
const TAG_PEER_FIN_WAIT: u32 = 105;

/// How long a `TcpConnect` client waits for its connection before it gives up (closing a
/// socket in SYN_SENT sends nothing, so the SYN the kernel would have sent next is the first
/// thing missing): the kernel's own limit, `tcp_syn_retries` 6, would be 127 s. The kernel
/// backend's agent connects with the same limit (netns/src/agent.rs).
pub const CONNECT_TIMEOUT: SimTime = SimTime::from_secs(10);

/// How long a `TcpConnect` client, answered, waits for the server's FIN before it closes its
/// own side. A server that closes after its answer has its FIN on the way: read first, the
/// client's FIN acknowledges the server's, and which side closes first does not depend on the
/// scheduler (the kernel backend's agent does the same: netns/src/agent.rs).
pub const PEER_FIN_WAIT: SimTime = SimTime::from_millis(200);

/// How long after writing its answer a listener's close(2) reaches TCP: write(2) returns
/// only once the bottom half has carried its segment across the veth (`__dev_queue_xmit`
/// ends with `rcu_read_unlock_bh`, which runs the softirq the veth raised), so one veth
/// crossing, `LINK_DELAY`. Linux's TCP sends the FIN from within the next call
/// (`tcp_shutdown` / `tcp_close` → `tcp_send_fin`, net/ipv4/tcp.c), so on the wire the FIN
/// trails the answer by at least this much: 8.8 to 126.9 µs, 21.8 µs the median and
/// 11.9 µs the lower quartile, over 43 exchanges captured with the kernel's timestamps
/// (traces/kernel/linux/round-trips.ron and lossy.ron; docs/linux-model.md, "A program's
/// close after its answer"). That it is at least the crossing matters: RACK's reordering
/// window is a quarter of the smallest round trip, four crossings, so an answer lost before
/// a FIN that arrives is taken for lost at once, as on the kernel
/// (traces/kernel/linux/lossy.pcapng).
const LISTEN_CLOSE_COST: SimTime = crate::kernel::defaults::LINK_DELAY;

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
            pmtudisc: Pmtudisc::Want,
            wait: None,
            deadline: None,
            quiet: false,
            flavour: Default::default(),
            ttl: None,
            numeric: false,
            interface: None,
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
        let app = w.user.apps.len() - 1;
        w.app_finish(app);
        assert_eq!(w.netns(ns).ping.len(), 65535);
        w.add_traffic(&ping()).expect("the finished ping's identifier is free again");
    }

    /// The connect(2) port search walks the whole range from a random start: it finds the one
    /// free port left, and reports none (EADDRNOTAVAIL) when all are held.
    #[test]
    fn local_ports_are_searched_through_the_whole_range() {
        let (mut w, _) = one_namespace();
        let (lo, hi) = crate::kernel::defaults::EPHEMERAL;
        let last = lo + 1234;
        for _ in 0..20 {
            assert_eq!(w.free_ephemeral_port(|_, p| p != last), Some(last));
        }
        assert_eq!(w.free_ephemeral_port(|_, _| true), None);
        let p = w.free_ephemeral_port(|_, _| false).expect("free");
        assert!((lo..=hi).contains(&p));
    }
}
