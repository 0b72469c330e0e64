//! The agent: one scenario process (`userland::apps::Traffic`) run for real, on the sockets of the
//! network namespace it is started in. Servers (embedded DNS, the webapp, MySQL, plain
//! listeners) run until killed; clients (ping, curl, mysql, nslookup, senders) exit when done.
//!
//! It speaks the same sans-IO protocols as the simulator (`sim_core::userland::proto`) and prints the
//! same lines, so a run on the kernel can be compared with the simulation line by line. Only
//! timings differ (`time=` of ping), and the comparison normalises them.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use sim_core::docker::EMBEDDED_DNS;
use sim_core::kernel::sock::Pmtudisc;
use sim_core::userland::apps::{DnsZones, MysqlTarget, Traffic};
use sim_core::userland::proto::ping::{self, Flavour};
use sim_core::userland::proto::{dig, dns, http, mysql, nc, nslookup, traceroute as tr, webapp, wget};
use sim_core::userland::services::OUTSIDE_DNS;

/// glibc's resolver: 5 s per try, 2 tries.
const DNS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client waits for a TCP peer before giving up (the simulator's SYN retries
/// take 131 s; a kernel run should not hang that long on a broken lab).
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs one process; lines go to `out`.
pub fn run(t: &Traffic, nameserver: Option<Ipv4Addr>, out: &mut dyn Write) -> io::Result<()> {
    let r = Resolver { server: nameserver };
    match t {
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
            let opts = PingOpts {
                count: *count,
                interval: Duration::from(*interval),
                size: *size,
                pmtudisc: *pmtudisc,
                wait: wait.map(Duration::from),
                deadline: deadline.map(Duration::from),
                quiet: *quiet,
                flavour: *flavour,
                ttl: *ttl,
                numeric: *numeric,
                interface: interface.clone(),
            };
            ping(&r, dst, opts, out)
        }
        Traffic::UdpListen { port, echo, .. } => udp_listen(*port, *echo, out),
        Traffic::UdpSend { dst, dport, sport, payload, count, interval, ttl, .. } => {
            udp_send((*dst, *dport, *sport), payload.as_bytes(), *count, Duration::from(*interval), *ttl, out)
        }
        Traffic::TcpListen { port, reply, close_after_reply, .. } => {
            tcp_listen(*port, reply.as_deref(), *close_after_reply, out)
        }
        Traffic::TcpConnect { dst, dport, send, close, ttl, .. } => {
            tcp_connect(*dst, *dport, send.as_bytes(), *close, *ttl, out)
        }
        Traffic::Dns { port, records, .. } => dns_server(*port, records),
        Traffic::Http { port, mysql, server, .. } => http_server(*port, mysql.as_ref(), server, &r, out),
        Traffic::MysqlServer { port, password, .. } => mysql_server(*port, password, out),
        Traffic::Curl { url, data, wget: Some(o), .. } => wget(&r, url, data.as_deref(), o, out),
        Traffic::Curl { url, data, method, max_time, .. } => {
            let max = max_time.map(Duration::from);
            curl(&r, url, data.as_deref(), method.as_deref(), max, out)
        }
        Traffic::Mysql { host, port, user, password, database, queries, .. } => {
            mysql_client(&r, host, *port, user, password, database.as_deref(), queries, out)
        }
        Traffic::Nslookup { name, flavour, server, opts, .. } => {
            nslookup(&r, name, *flavour, server.as_deref(), opts, out)
        }
        Traffic::Nc { host, port, verbose, wait, numeric, zero, .. } => {
            nc_client(&r, host, *port, nc::NcOpts { verbose: *verbose, wait: *wait, numeric: *numeric }, *zero, out)
        }
        Traffic::NcListen { port, verbose, numeric, keep, reply, .. } => {
            let o = nc::NcOpts { verbose: *verbose, wait: None, numeric: *numeric };
            nc_listen(&r, *port, o, *keep, reply.as_deref(), out)
        }
        Traffic::DockerProxy { host_ip, host_port, container_ip, container_port, .. } => {
            docker_proxy(host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED), *host_port, (*container_ip, *container_port), out)
        }
        Traffic::Traceroute { host, opts, .. } => traceroute(&r, host, opts, out),
        Traffic::Dig { dig, .. } => dig_query(&r, dig, out),
        Traffic::Announce { dev, count, interval, .. } => announce(dev, *count, Duration::from(*interval)),
    }
}

/// dockerd's announcement of a new interface's address (v28+; docs/docker-model.md *On the
/// wire*): `count` broadcast ARP requests whose sender and target are both the interface's own
/// IPv4 address, with a zero target MAC, `interval` apart. The frames are built here and
/// written whole through a packet socket (packet(7)), as dockerd writes them (moby
/// `libnetwork/internal/l2disco/unsol_arp_linux.go`).
fn announce(dev: &str, count: u32, interval: Duration) -> io::Result<()> {
    use nix::sys::socket::{self, AddressFamily, LinkAddr, SockFlag, SockProtocol, SockType};
    let (mut link, mut ip): (Option<LinkAddr>, Option<Ipv4Addr>) = (None, None);
    for a in nix::ifaddrs::getifaddrs()?.filter(|a| a.interface_name == dev) {
        let Some(addr) = a.address else { continue };
        if let Some(l) = addr.as_link_addr() {
            link = Some(*l);
        } else if let Some(v4) = addr.as_sockaddr_in() {
            ip.get_or_insert(v4.ip());
        }
    }
    let (Some(link), Some(ip)) = (link, ip) else {
        return Err(io::Error::other(format!("{dev}: no link-layer or IPv4 address to announce")));
    };
    let mac = sim_core::wire::Mac(link.addr().ok_or_else(|| io::Error::other(format!("{dev}: no MAC")))?);
    let req = sim_core::wire::ArpRepr {
        op: sim_core::wire::ARP_REQUEST,
        sender_mac: mac,
        sender_ip: ip,
        target_mac: sim_core::wire::Mac::ZERO,
        target_ip: ip,
    };
    let frame = req.frame(mac, sim_core::wire::Mac::BROADCAST);
    // The interface's own link address names it (its index) as the way out; the frame
    // carries its destination itself.
    let fd = socket::socket(AddressFamily::Packet, SockType::Raw, SockFlag::SOCK_CLOEXEC, SockProtocol::EthAll)?;
    for i in 0..count {
        if i > 0 {
            std::thread::sleep(interval);
        }
        socket::sendto(std::os::fd::AsRawFd::as_raw_fd(&fd), &frame, &link, socket::MsgFlags::empty())?;
    }
    Ok(())
}

// ----- names ------------------------------------------------------------------------------

/// The stub resolver: one A query to the namespace's nameserver, as glibc sends it.
struct Resolver {
    server: Option<Ipv4Addr>,
}

impl Resolver {
    fn query(&self, name: &str) -> io::Result<dns::ParsedResponse> {
        self.query_type(name, dns::QTYPE_A)
    }

    /// getnameinfo(3) for ping's reply lines: the PTR answer, or the address's digits.
    fn reverse(&self, ip: Ipv4Addr) -> String {
        match self.query_type(&dns::ptr_name(ip), dns::QTYPE_PTR) {
            Ok(r) => r.ptrs.first().map_or_else(|| ip.to_string(), |p| p.target.clone()),
            Err(_) => ip.to_string(),
        }
    }

    fn query_type(&self, name: &str, qtype: u16) -> io::Result<dns::ParsedResponse> {
        // glibc refuses a name DNS cannot carry before it looks for a nameserver.
        let id = (std::process::id() as u16) ^ 0x5a5a;
        let q = dns::build_query_type(id, name, qtype).map_err(|_| io::Error::other("Name or service not known"))?;
        let Some(server) = self.server else {
            // The outside's nameserver, as the simulator has it: it knows no lab name, or
            // cannot be reached at all (connect(2) on a UDP socket finds the route).
            let probe = UdpSocket::bind("0.0.0.0:0")?;
            return Err(io::Error::other(match probe.connect((OUTSIDE_DNS, 53)) {
                Ok(()) => "Name or service not known",
                Err(_) => "Temporary failure in name resolution",
            }));
        };
        let sock = UdpSocket::bind("0.0.0.0:0")?;
        sock.set_read_timeout(Some(DNS_TIMEOUT))?;
        let mut buf = [0u8; 1500];
        for _ in 0..2 {
            sock.send_to(&q, (server, 53))?;
            match sock.recv_from(&mut buf) {
                Ok((n, _)) => {
                    if let Ok(r) = dns::parse_response(&buf[..n])
                        && r.id == id
                    {
                        return Ok(r);
                    }
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("connection timed out; no servers could be reached"))
    }

    /// An address or a name to an address, as `getaddrinfo` does for the clients.
    fn resolve(&self, host: &str) -> Result<Ipv4Addr, String> {
        if let Ok(ip) = host.parse() {
            return Ok(ip);
        }
        if host.eq_ignore_ascii_case("localhost") {
            return Ok(Ipv4Addr::LOCALHOST);
        }
        let r = self.query(host).map_err(|e| e.to_string())?;
        match (r.rcode, r.answers.first()) {
            (0, Some(a)) => Ok(a.addr),
            (0 | 3, _) => Err("Name or service not known".into()),
            _ => Err("Temporary failure in name resolution".into()),
        }
    }
}

/// `nslookup`: the simulator's program (`proto::nslookup`) on a real socket connected to
/// the server, with the same choice of server.
fn nslookup(
    r: &Resolver,
    name: &str,
    flavour: nslookup::Flavour,
    server: Option<&str>,
    opts: &nslookup::Opts,
    out: &mut dyn Write,
) -> io::Result<()> {
    let (server_name, ip, outside) = match server {
        Some(s) => match s.parse::<Ipv4Addr>() {
            Ok(ip) => (s.to_string(), ip, false),
            Err(_) => return writeln!(out, "netsim: nslookup: the server must be an IPv4 address, not {s:?}"),
        },
        None => match r.server {
            Some(ip) => (ip.to_string(), ip, false),
            None => (OUTSIDE_DNS.to_string(), OUTSIDE_DNS, true),
        },
    };
    let mut seed = std::process::id() as u16;
    let ids = || {
        seed = seed.wrapping_mul(25173).wrapping_add(13849);
        seed
    };
    let mut prog = match nslookup::Nslookup::new(flavour, name, opts, (server_name, ip), ids) {
        Ok(p) => p,
        Err((lines, _)) => return lines.iter().try_for_each(|l| writeln!(out, "{l}")),
    };
    let sock = UdpSocket::bind("0.0.0.0:0")?;
    if sock.connect((ip, opts.port)).is_err() {
        return match flavour {
            nslookup::Flavour::Busybox => {
                writeln!(out, "nslookup: can't connect to remote host ({ip}): Network is unreachable")
            }
            nslookup::Flavour::Bind => writeln!(out, ";; connection timed out; no servers could be reached"),
        };
    }
    let t0 = Instant::now();
    let now = || t0.elapsed().as_nanos() as u64;
    let mut step = prog.start(now());
    if outside {
        // As the simulator: the outside's answer to each query, without asking it.
        step = prog.ask_outside(step);
    }
    let mut buf = [0u8; 1500];
    loop {
        for q in &step.send {
            sock.send(q)?;
        }
        for l in &step.lines {
            writeln!(out, "{l}")?;
        }
        out.flush()?;
        if step.exit.is_some() || prog.done() {
            return Ok(());
        }
        let wake = step.wake.unwrap_or(now());
        let left = wake.saturating_sub(now()).max(1_000_000);
        sock.set_read_timeout(Some(Duration::from_nanos(left)))?;
        step = match sock.recv(&mut buf) {
            Ok(n) => prog.reply(&buf[..n]),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => prog.wake(now()),
            // An ICMP error on the connected socket (ECONNREFUSED): busybox prints
            // `read` and goes on waiting.
            Err(_) => nslookup::Out { wake: step.wake, ..Default::default() },
        };
        if step.wake.is_none() && !prog.done() {
            step.wake = Some(wake);
        }
    }
}

/// A sandbox's zones as the embedded DNS asks them.
struct ZoneSandbox<'a>(&'a DnsZones);

impl dns::Sandbox for ZoneSandbox<'_> {
    fn addrs(&self, name: &str) -> Option<Vec<Ipv4Addr>> {
        self.0.lookup(name).map(<[Ipv4Addr]>::to_vec)
    }
    fn ptr(&self, ip: Ipv4Addr) -> Option<String> {
        self.0.ptr(ip)
    }
}

/// dockerd's resolver: bound to 127.0.0.11:PORT, reached through the sandbox's DNAT of
/// port 53, answering from its records (TTL 600) and NXDOMAIN for the rest, as the
/// simulator's does (`proto::dns::embedded_answer`).
fn dns_server(port: u16, zones: &DnsZones) -> io::Result<()> {
    let sock = UdpSocket::bind(SocketAddrV4::new(EMBEDDED_DNS, port))?;
    let mut buf = [0u8; 1500];
    loop {
        let (n, from) = sock.recv_from(&mut buf)?;
        if let Some((resp, served)) = dns::embedded_answer(&buf[..n], &ZoneSandbox(zones)) {
            // dockerd prints nothing here: the account goes to standard error, which the run
            // keeps as a note, as the simulator's resolver's is.
            if let Ok(q) = dns::parse_query(&buf[..n]) {
                let mut note = io::stderr().lock();
                writeln!(note, "embedded DNS: {}? {} → {}", dns::qtype_text(q.qtype), q.name, served.explain())?;
                note.flush()?;
            }
            sock.send_to(&resp, from)?;
        }
    }
}

// ----- ICMP and UDP -------------------------------------------------------------------------

/// `ip(7)` IP_MTU_DISCOVER on `sock`, as `ping -M` sets it.
fn set_pmtudisc(sock: &socket2::Socket, p: Pmtudisc) -> io::Result<()> {
    use nix::libc;
    use std::os::fd::AsRawFd;
    let v: libc::c_int = match p {
        Pmtudisc::Dont => libc::IP_PMTUDISC_DONT,
        Pmtudisc::Want => libc::IP_PMTUDISC_WANT,
        Pmtudisc::Do => libc::IP_PMTUDISC_DO,
        Pmtudisc::Probe => libc::IP_PMTUDISC_PROBE,
    };
    let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a valid socket, and a c_int option of its stated length.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            (&v as *const libc::c_int).cast(),
            len,
        )
    };
    if r == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// The path MTU toward `ip` as the kernel knows it now (`IP_MTU` of a connected socket):
/// what iputils prints after a local EMSGSIZE.
fn path_mtu(ip: Ipv4Addr) -> u32 {
    use nix::libc;
    use std::os::fd::AsRawFd;
    let Ok(s) = UdpSocket::bind("0.0.0.0:0").and_then(|s| s.connect((ip, 1025)).map(|_| s)) else { return 0 };
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a valid socket, and room for the c_int IP_MTU writes.
    let r = unsafe {
        libc::getsockopt(s.as_raw_fd(), libc::IPPROTO_IP, libc::IP_MTU, (&mut v as *mut libc::c_int).cast(), &mut len)
    };
    if r == 0 { v as u32 } else { 0 }
}

/// What `ping` was asked for: `-c` (0 with `-w`: until the deadline), `-i`, `-s`, `-M`, `-W`
/// (how long to wait for replies after the last request), `-w`, `-q`, and which ping it is.
struct PingOpts {
    count: u32,
    interval: Duration,
    size: usize,
    pmtudisc: Pmtudisc,
    wait: Option<Duration>,
    deadline: Option<Duration>,
    quiet: bool,
    flavour: Flavour,
    ttl: Option<u8>,
    numeric: bool,
    /// `-I`: a device to bind to, or a local address.
    interface: Option<String>,
}

/// `ping -I NAME`'s binding on `sock`: a device (`SO_BINDTODEVICE`) when the namespace has
/// one by that name, else a local address; `Err` when it is neither.
fn ping_bind(sock: &socket2::Socket, name: &str) -> Result<bool, ()> {
    if nix::net::if_::if_nametoindex(name).is_ok() {
        return sock.bind_device(Some(name.as_bytes())).map(|()| true).map_err(|_| ());
    }
    let a: Ipv4Addr = name.parse().map_err(|_| ())?;
    sock.bind(&SocketAddr::from((a, 0)).into()).map(|()| false).map_err(|_| ())
}

/// `ping` with a raw ICMP socket (the agent runs as root), printing, numbering, filling and
/// timing as the flavour's program does (`sim_core::userland::proto::ping`).
fn ping(r: &Resolver, dst: &str, o: PingOpts, out: &mut dyn Write) -> io::Result<()> {
    let PingOpts { count, interval, size, pmtudisc, wait, deadline, quiet, flavour, ttl, numeric, interface } = o;
    let count = if count == 0 { u32::MAX } else { count };
    let reverse = flavour.names_replies(dst, numeric);
    use socket2::{Domain, Protocol, Socket, Type};
    let ip = match r.resolve(dst) {
        Ok(ip) => ip,
        Err(e) => return writeln!(out, "{}", flavour.bad_address(dst, &e).0),
    };
    // The route's source, as a connected UDP socket bound the same way sees it.
    let mut from = None;
    if flavour.is_iputils() || interface.is_some() {
        // iputils probes the route with a UDP socket's connect() first.
        let probe = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        let bound = match &interface {
            Some(name) => match ping_bind(&probe, name) {
                Ok(dev) => Some(dev),
                Err(()) => {
                    for line in flavour.bind_failed(dst, ip, size, name) {
                        writeln!(out, "{line}")?;
                    }
                    return Ok(());
                }
            },
            None => None,
        };
        if let Err(e) = probe.connect(&SocketAddr::from((ip, 1025)).into())
            && flavour.is_iputils()
        {
            return writeln!(out, "ping: connect: {}", os_message(&e));
        }
        let src = probe.local_addr().ok().and_then(|a| a.as_socket_ipv4()).map(|a| *a.ip());
        from = bound.zip(src).map(|(dev, src)| (src, dev.then(|| interface.clone()).flatten()));
    }
    // Not connected: ICMP errors come from routers (or from ourselves), not from `ip`.
    let sock = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))?;
    if let Some(name) = &interface {
        let _ = ping_bind(&sock, name);
    }
    let from = from.as_ref().map(|(a, d)| (*a, d.as_deref()));
    // iputils' ping socket bound to a device hears only what comes in on it (`ping_lookup`
    // in net/ipv4/ping.c): not an error the kernel made itself, which comes through lo. This
    // raw socket hears it; skip it as iputils never sees it.
    let own_errors = from.and_then(|(a, d)| d.map(|_| a));
    let to: socket2::SockAddr = SocketAddr::from((ip, 0)).into();
    sock.set_read_timeout(Some(Duration::from_millis(50)))?;
    if pmtudisc != Pmtudisc::Want {
        set_pmtudisc(&sock, pmtudisc)?;
    }
    if let Some(t) = flavour.ttl(ttl)
        && sock.set_ttl_v4(u32::from(t)).is_err()
    {
        return writeln!(out, "{}", ping::TTL_REFUSED);
    }
    let ident = std::process::id() as u16;
    let (mut sent, mut received, mut errors) = (0u32, 0u32, 0u32);
    let mut rtts = ping::Rtts::default();
    let mut pipe = ping::Pipe::default();
    let mut sent_at = Vec::new();
    let start = Instant::now();
    let mut next = start;
    let mut last_send = start;
    let mut linger: Option<Duration> = None;
    // iputils sends the request after a reply with MSG_CONFIRM (`gather_statistics` in
    // ping/ping_common.c), which confirms the neighbour the request goes through.
    let mut confirm = false;
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 65536];
    if !flavour.is_iputils() {
        writeln!(out, "{}", flavour.header(dst, ip, size, from))?;
    }
    loop {
        let now = Instant::now();
        // busybox looks at its deadline only when a request is due.
        let due = sent < count && now >= next;
        if due && !flavour.is_iputils() && sent > 0 && deadline.is_some_and(|d| now.duration_since(start) >= d) {
            break;
        }
        if due {
            let seq = flavour.first_seq().wrapping_add(sent as u16);
            sent += 1;
            let mut pkt = vec![8u8, 0, 0, 0];
            pkt.extend_from_slice(&ident.to_be_bytes());
            pkt.extend_from_slice(&seq.to_be_bytes());
            pkt.extend(flavour.payload(now.duration_since(start).as_nanos() as u64, size));
            let c = sim_core::wire::ipv4::checksum(&pkt);
            pkt[2..4].copy_from_slice(&c.to_be_bytes());
            let flags = if std::mem::take(&mut confirm) { nix::libc::MSG_CONFIRM } else { 0 };
            let sent_ok = sock.send_to_with_flags(&pkt, &to, flags);
            if sent == 1 && flavour.is_iputils() {
                writeln!(out, "{}", flavour.header(dst, ip, size, from))?;
            }
            match sent_ok {
                // iputils reads the MTU from the error queue (IP_RECVERR's ee_info).
                Err(e) if e.raw_os_error() == Some(nix::libc::EMSGSIZE) => {
                    errors += 1;
                    writeln!(out, "ping: local error: message too long, mtu={}", path_mtu(ip))?;
                }
                // No route any more (its link went down): iputils counts it sent and says
                // nothing; busybox's sendto() dies.
                Err(e) if e.raw_os_error() == Some(nix::libc::ENETUNREACH) => {
                    if !flavour.is_iputils() {
                        return writeln!(out, "{}", flavour.unreachable().0);
                    }
                }
                r => {
                    r?;
                }
            }
            sent_at.push(now);
            last_send = now;
            next = now + interval;
            if sent >= count {
                let ns = flavour.linger_ns(&rtts, interval.as_nanos() as u64, wait.map(|w| w.as_nanos() as u64));
                linger = Some(Duration::from_nanos(ns));
            }
        }
        if ping::all_answered(count, sent, received, errors)
            || (sent >= count && linger.is_some_and(|l| now.duration_since(last_send) > l))
        {
            break;
        }
        if flavour.is_iputils() && deadline.is_some_and(|d| now.duration_since(start) >= d) {
            break;
        }
        match sock.recv(&mut buf) {
            Ok(n) => {
                // SAFETY: recv initialised the first n bytes.
                let b: Vec<u8> = buf[..n].iter().map(|x| unsafe { x.assume_init() }).collect();
                let Some((ttl, from, icmp)) = ipv4_split(&b) else { continue };
                match icmp.first() {
                    Some(0) if icmp.len() >= 8 && from == ip && u16::from_be_bytes([icmp[4], icmp[5]]) == ident => {
                        let seq = u16::from_be_bytes([icmp[6], icmp[7]]);
                        received += 1;
                        confirm = flavour.is_iputils();
                        pipe.acknowledge(sent, seq);
                        let rtt = sent_at
                            .get(usize::from(seq.wrapping_sub(flavour.first_seq())))
                            .map(|t| t.elapsed())
                            .unwrap_or_default();
                        rtts.add(rtt.as_nanos() as u64);
                        // iputils names the source of each reply of a ping of a name, -q or not.
                        let shown = ping::source(reverse.then(|| r.reverse(from)).as_deref(), from);
                        if !quiet {
                            let line = flavour.reply(size + 8, &shown, seq, ttl, rtt.as_nanos() as u64);
                            writeln!(out, "{line}")?;
                        }
                    }
                    Some(3) | Some(11)
                        if flavour.reports_errors() && icmp.len() >= 8 + 28 && own_errors != Some(from) =>
                    {
                        let q = &icmp[8..];
                        // The quoted echo request: its header, then 8 bytes of ICMP.
                        let echo = sim_core::wire::ipv4::header(q)
                            .ok()
                            .and_then(|h| q.get(h.slice().len()..h.slice().len() + 8));
                        if let Some(e) = echo
                            && u16::from_be_bytes([e[4], e[5]]) == ident
                        {
                            errors += 1;
                            let seq = u16::from_be_bytes([e[6], e[7]]);
                            pipe.acknowledge(sent, seq);
                            let mtu = u16::from_be_bytes([icmp[6], icmp[7]]);
                            let what = sim_core::kernel::sock::icmp_error_text(icmp[0], icmp[1], mtu);
                            if !quiet {
                                // Named as a reply's source is.
                                let shown = ping::source(reverse.then(|| r.reverse(from)).as_deref(), from);
                                writeln!(out, "{}", ping::error_line(&shown, seq, &what))?;
                            }
                        }
                    }
                    _ => {}
                }
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(e) if e.raw_os_error() == Some(113) => {
                // EHOSTUNREACH reported on the socket: the kernel's ICMP error for our echo.
                if flavour.reports_errors() {
                    errors += 1;
                    if !quiet {
                        let from = local_addr(&sock).to_string();
                        writeln!(out, "{}", ping::error_line(&from, sent as u16, "Destination Host Unreachable"))?;
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    let s = ping::Summary {
        target: dst,
        sent,
        received,
        errors,
        elapsed_ns: last_send.duration_since(start).as_nanos() as u64,
        rtts: &rtts,
        pipe: pipe.0,
    };
    for line in flavour.summary(&s) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// (TTL, source, payload) of an IPv4 packet as a raw socket hands it over; `None` for
/// anything shorter than its own header says.
fn ipv4_split(b: &[u8]) -> Option<(u8, Ipv4Addr, &[u8])> {
    let h = sim_core::wire::ipv4::header(b).ok()?;
    Some((h.ttl(), h.source_addr(), b.get(h.slice().len()..)?))
}

fn local_addr(s: &socket2::Socket) -> Ipv4Addr {
    s.local_addr().ok().and_then(|a| a.as_socket_ipv4()).map(|a| *a.ip()).unwrap_or(Ipv4Addr::UNSPECIFIED)
}

fn os_message(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(101) => "Network is unreachable".into(),
        _ => e.to_string(),
    }
}

fn udp_listen(port: u16, echo: bool, out: &mut dyn Write) -> io::Result<()> {
    let sock = UdpSocket::bind(("0.0.0.0", port))?;
    let mut buf = [0u8; 65536];
    loop {
        let (n, from) = sock.recv_from(&mut buf)?;
        writeln!(out, "udp :{port} received {n} bytes from {from}: {}", sim_core::wire::printable(&buf[..n]))?;
        out.flush()?;
        if echo {
            sock.send_to(&buf[..n], from)?;
        }
    }
}

/// `count` datagrams of `payload` to `dst:dport` from `sport` (else one the kernel picks).
fn udp_send(
    (dst, dport, sport): (Ipv4Addr, u16, Option<u16>),
    payload: &[u8],
    count: u32,
    interval: Duration,
    ttl: Option<u8>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let sock = UdpSocket::bind(("0.0.0.0", sport.unwrap_or(0)))?;
    if let Some(t) = ttl {
        sock.set_ttl(u32::from(t))?;
    }
    sock.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut buf = [0u8; 65536];
    for i in 0..count {
        if let Err(e) = sock.send_to(payload, (dst, dport)) {
            writeln!(out, "udp send: sendto {dst}: {}", os_message(&e))?;
        }
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            let port = sock.local_addr()?.port();
            writeln!(
                out,
                "udp :{port} got a reply of {n} bytes from {from}: {}",
                sim_core::wire::printable(&buf[..n])
            )?;
        }
        if i + 1 < count {
            std::thread::sleep(interval);
        }
    }
    Ok(())
}

// ----- TCP --------------------------------------------------------------------------------

fn tcp_listen(port: u16, reply: Option<&str>, close: bool, out: &mut dyn Write) -> io::Result<()> {
    let l = TcpListener::bind(("0.0.0.0", port))?;
    for s in l.incoming() {
        let mut s = s?;
        let (peer, local) = (s.peer_addr()?, s.local_addr()?);
        let mut buf = [0u8; 65536];
        let n = s.read(&mut buf)?;
        writeln!(out, "tcp {local} received {n} bytes from {peer}: {}", sim_core::wire::printable(&buf[..n]))?;
        out.flush()?;
        if let Some(r) = reply {
            s.write_all(r.as_bytes())?;
        }
        if close {
            let _ = s.shutdown(Shutdown::Both);
        } else {
            // Closed when the client has closed, as the simulator's listener does: read to
            // the end first (dropping the stream now would send the FIN before the client's).
            std::thread::spawn(move || {
                let mut rest = [0u8; 4096];
                while matches!(s.read(&mut rest), Ok(n) if n > 0) {}
            });
        }
    }
    Ok(())
}

fn tcp_connect(
    dst: Ipv4Addr,
    dport: u16,
    send: &[u8],
    close: bool,
    ttl: Option<u8>,
    out: &mut dyn Write,
) -> io::Result<()> {
    use socket2::{Domain, Socket, Type};
    // A socket of our own, so its local address is known even when the connect fails.
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    if let Some(t) = ttl {
        sock.set_ttl_v4(u32::from(t))?;
    }
    let to = SocketAddr::from((dst, dport));
    let local = |s: &Socket| s.local_addr().ok().and_then(|a| a.as_socket()).map(|a| a.to_string()).unwrap_or_default();
    let limit = Duration::from(sim_core::userland::apps::CONNECT_TIMEOUT);
    if let Err(e) = sock.connect_timeout(&to.into(), limit) {
        return writeln!(out, "tcp {} → {to}: {}", local(&sock), connect_error(&e));
    }
    let me = local(&sock);
    let mut s: TcpStream = sock.into();
    // The request first, then the line: a program writes its request as soon as connect()
    // returns, and the output pipe's reader must not stand between them in the capture.
    s.write_all(send)?;
    writeln!(out, "tcp {me} → {to}: connected")?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    let mut buf = [0u8; 65536];
    if let Ok(n) = s.read(&mut buf)
        && n > 0
    {
        writeln!(out, "tcp {me} received {n} bytes from {to}: {}", sim_core::wire::printable(&buf[..n]))?;
    }
    if close {
        // A server that closes after its answer has its FIN on the way: wait for it (a
        // moment at most) before closing, as the simulator's client does
        // (`sim_core::userland::apps::PEER_FIN_WAIT`). Without this, whether this side's FIN
        // or the server's goes first is up to the scheduler, and a lab where a firewall
        // answers the server's FIN (traces/kernel/linux/reject.ron) sees a different ending
        // from run to run.
        s.set_read_timeout(Some(Duration::from(sim_core::userland::apps::PEER_FIN_WAIT)))?;
        let _ = s.read(&mut buf);
        let _ = s.shutdown(Shutdown::Both);
    }
    Ok(())
}

fn connect_error(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "Connection refused",
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => "Connection timed out",
        _ if e.raw_os_error() == Some(113) => "No route to host",
        _ if e.raw_os_error() == Some(101) => "Network is unreachable",
        // What else an ICMP error about the SYN can end a connect() with (tcp_v4_err), in the
        // words of sim_core::userland::apps::tcp_connect_icmp_error.
        _ if e.raw_os_error() == Some(92) => "Protocol not available",
        _ if e.raw_os_error() == Some(95) => "Operation not supported",
        _ if e.raw_os_error() == Some(112) => "Host is down",
        _ if e.raw_os_error() == Some(64) => "Machine is not on the network",
        _ if e.raw_os_error() == Some(71) => "Protocol error",
        _ => "Connection failed",
    }
}

/// busybox `nc HOST PORT` (`sim_core::userland::proto::nc`): with `-z` connect and close at
/// once; without, shut the sending side (a step's standard input is empty) and copy what
/// arrives until the peer closes.
fn nc_client(r: &Resolver, host: &str, port: u16, o: nc::NcOpts, zero: bool, out: &mut dyn Write) -> io::Result<()> {
    let ip = match r.resolve(host) {
        Ok(ip) => ip,
        Err(_) => return writeln!(out, "{}", nc::bad_address(host)),
    };
    let limit = o.wait.map_or(IO_TIMEOUT, |s| Duration::from_secs(s.into()));
    let s = match TcpStream::connect_timeout(&SocketAddr::from((ip, port)), limit) {
        Ok(s) => s,
        Err(e) => {
            let line = nc::failed(o, host, ip, port, connect_error(&e));
            for l in line.into_iter().chain(nc::totals(o, 0, 0)) {
                writeln!(out, "{l}")?;
            }
            return Ok(());
        }
    };
    if let Some(l) = nc::open(o, host, ip, port) {
        writeln!(out, "{l}")?;
    }
    let rcvd = if zero { 0 } else { nc_copy(s, limit, out)? };
    if let Some(l) = nc::totals(o, 0, rcvd) {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

/// nc's copy of a connection with nothing to send: shut the sending side, print what
/// arrives until the peer closes (or `limit` passes twice without a byte, as `-w`'s poll
/// timeout does). Returns the bytes received.
fn nc_copy(mut s: TcpStream, limit: Duration, out: &mut dyn Write) -> io::Result<u64> {
    s.shutdown(Shutdown::Write)?;
    s.set_read_timeout(Some(limit))?;
    let (mut rcvd, mut silent, mut buf) = (0u64, 0, [0u8; 4096]);
    while silent < 2 {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                rcvd += n as u64;
                silent = 0;
                out.write_all(&buf[..n])?;
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => silent += 1,
            Err(_) => break,
        }
    }
    Ok(rcvd)
}

/// busybox `nc -l [-k] [-p PORT] [-e PROG]`: accept a connection and copy it; with `reply`
/// (what `-e PROG` writes) answer each connection with it and close, and with `keep` go on
/// accepting until killed.
fn nc_listen(
    r: &Resolver,
    port: u16,
    o: nc::NcOpts,
    keep: bool,
    reply: Option<&str>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let l = match TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)) {
        Ok(l) => l,
        Err(_) => return writeln!(out, "{}", nc::BIND_IN_USE),
    };
    if o.verbose > 0 {
        writeln!(out, "{}", nc::listening(l.local_addr()?.port()))?;
        out.flush()?;
    }
    loop {
        let (mut s, peer) = l.accept()?;
        if o.verbose > 0 {
            let (SocketAddr::V4(local), SocketAddr::V4(peer)) = (s.local_addr()?, peer) else { continue };
            let name = (!o.numeric).then(|| r.reverse(*peer.ip())).filter(|n| *n != peer.ip().to_string());
            let line = nc::connect_from((*local.ip(), local.port()), name.as_deref(), (*peer.ip(), peer.port()));
            writeln!(out, "{line}")?;
            out.flush()?;
        }
        match reply {
            Some(text) => {
                s.write_all(text.as_bytes())?;
                drop(s);
                if !keep {
                    return Ok(());
                }
            }
            None => {
                let rcvd = nc_copy(s, IO_TIMEOUT, out)?;
                if let Some(l) = nc::totals(o, 0, rcvd) {
                    writeln!(out, "{l}")?;
                }
                return Ok(());
            }
        }
    }
}

/// dockerd's docker-proxy for one published TCP port (`sim_core::userland::proxy`): every
/// connection accepted is relayed to the container over a connection of its own, each
/// direction shut once its sender has closed.
fn docker_proxy(ip: Ipv4Addr, port: u16, target: (Ipv4Addr, u16), out: &mut dyn Write) -> io::Result<()> {
    let l = TcpListener::bind((ip, port))?;
    loop {
        let (client, _) = l.accept()?;
        let backend = match TcpStream::connect(target) {
            Ok(b) => b,
            Err(e) => {
                writeln!(out, "docker-proxy: can't forward traffic to backend tcp/{}:{}: {e}", target.0, target.1)?;
                continue;
            }
        };
        let (c2, b2) = (client.try_clone()?, backend.try_clone()?);
        std::thread::spawn(move || relay(client, backend));
        std::thread::spawn(move || relay(b2, c2));
    }
}

/// One direction of a relayed connection: `io.Copy`, then shut the reader's side and the
/// writer's (`broker` in libnetwork `cmd/proxy/tcp_proxy.go`).
fn relay(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = from.shutdown(Shutdown::Read);
    let _ = to.shutdown(Shutdown::Write);
}

/// BIND's `dig`: one query to the nameserver (or `@SERVER`), three tries 5 s apart.
fn dig_query(r: &Resolver, d: &dig::Dig, out: &mut dyn Write) -> io::Result<()> {
    let server = d.server.or(r.server).unwrap_or(OUTSIDE_DNS);
    let id = (std::process::id() as u16) ^ 0x2d2d;
    let cookie = u64::from(std::process::id()).to_be_bytes();
    let q = dig::query(d, id, cookie).map_err(io::Error::other)?;
    let sock = UdpSocket::bind("0.0.0.0:0")?;
    sock.set_read_timeout(Some(Duration::from_secs(dig::TIMEOUT_SECS)))?;
    let mut buf = [0u8; 4096];
    for _ in 0..dig::TRIES {
        let start = Instant::now();
        sock.send_to(&q, (server, 53))?;
        match sock.recv_from(&mut buf) {
            Ok((n, _)) => {
                let secs =
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |t| t.as_secs());
                let ms = start.elapsed().as_millis() as u64;
                for l in dig::output(d, &buf[..n], server, ms, &dig::when(secs)).map_err(io::Error::other)? {
                    writeln!(out, "{l}")?;
                }
                return Ok(());
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => continue,
            Err(e) => return Err(e),
        }
    }
    for l in dig::timed_out(d, server) {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

/// busybox `traceroute` as its applet runs it: a UDP socket connected to the destination
/// (which picks the source address and port), each probe sent to the next port with the
/// hop's TTL, and a raw ICMP socket bound to the source address for the answers.
fn traceroute(r: &Resolver, host: &str, o: &tr::Opts, out: &mut dyn Write) -> io::Result<()> {
    use socket2::{Domain, Protocol, Socket, Type};
    let ip = match r.resolve(host) {
        Ok(ip) => ip,
        Err(_) => return writeln!(out, "{}", tr::bad_address(host)),
    };
    let snd = UdpSocket::bind("0.0.0.0:0")?;
    if let Err(e) = snd.connect((ip, o.port)) {
        return writeln!(out, "{}", tr::cant_connect(ip, &os_message(&e)));
    }
    let SocketAddr::V4(src) = snd.local_addr()? else { return Err(io::Error::other("an IPv4 socket")) };
    let rcv = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))?;
    rcv.bind(&SocketAddr::from((*src.ip(), 0)).into())?;
    writeln!(out, "{}", tr::header(host, ip, o))?;
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 512];
    let mut seq = 0u32;
    for ttl in o.first_ttl..=o.max_ttl {
        let mut line = format!("{ttl:2}");
        let (mut reached, mut unreachable, mut last) = (false, 0u32, None);
        for probe in 0..o.nprobes {
            if probe > 0 && o.pause_ms > 0 {
                std::thread::sleep(Duration::from_millis(o.pause_ms.into()));
            }
            seq += 1;
            snd.set_ttl(u32::from(ttl))?;
            if let Err(e) = snd.send_to(&tr::payload(seq, ttl, o), (ip, tr::probe_port(o, seq))) {
                return writeln!(out, "traceroute: sendto: {}", os_message(&e));
            }
            let t1 = Instant::now();
            let deadline = t1 + Duration::from_secs(o.wait.into());
            let answer = loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break None;
                }
                rcv.set_read_timeout(Some(left))?;
                let n = match rcv.recv(&mut buf) {
                    Ok(n) => n,
                    Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => break None,
                    Err(e) => return Err(e),
                };
                // SAFETY: recv initialised the first n bytes.
                let b: Vec<u8> = buf[..n].iter().map(|x| unsafe { x.assume_init() }).collect();
                let Some((rttl, from, icmp)) = ipv4_split(&b) else { continue };
                if let Some(a) = tr::answer(icmp, o, seq) {
                    break Some((from, rttl, t1.elapsed(), a));
                }
            };
            let Some((from, rttl, rtt, a)) = answer else {
                line.push_str("  *");
                continue;
            };
            if probe == 0 || last != Some(from) {
                let name = (!o.numeric).then(|| r.reverse(from));
                line.push_str(&tr::source(o, from, name.as_deref()));
                last = Some(from);
            }
            line.push_str(&tr::rtt(rtt.as_nanos() as u64));
            if let tr::Answer::Unreachable { code, mtu } = a {
                let (mark, what) = tr::mark(code, mtu, rttl);
                line.push_str(&mark);
                match what {
                    tr::Reached::There => reached = true,
                    tr::Reached::Unreachable => unreachable += 1,
                }
            }
        }
        writeln!(out, "{line}")?;
        if tr::done(reached, unreachable, o) {
            break;
        }
    }
    Ok(())
}

/// `curl [-d DATA] URL`.
fn curl(
    r: &Resolver,
    url: &str,
    data: Option<&str>,
    method: Option<&str>,
    max: Option<Duration>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let (host, port, path) = split_url(url);
    let start = Instant::now();
    let ip = match r.resolve(host) {
        Ok(ip) => ip,
        Err(_) => return writeln!(out, "curl: (6) Could not resolve host: {host}"),
    };
    let method = method.unwrap_or(if data.is_some() { "POST" } else { "GET" });
    // `--max-time` bounds the whole operation, as the simulator's curl does.
    let left = |io: Duration| max.map_or(io, |m| m.saturating_sub(start.elapsed()).max(Duration::from_millis(1)));
    let timed_out = |e: &io::Error| matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock);
    let ms = max.map_or(0, |m| m.as_millis());
    let mut s = match TcpStream::connect_timeout(&SocketAddr::from((ip, port)), left(IO_TIMEOUT)) {
        Ok(s) => s,
        Err(e) if max.is_some() && timed_out(&e) => {
            return writeln!(out, "curl: (28) Connection timed out after {ms} milliseconds");
        }
        Err(e) => {
            // CURLE_OPERATION_TIMEDOUT for a timeout, CURLE_COULDNT_CONNECT for the rest.
            let code = if timed_out(&e) { 28 } else { 7 };
            return writeln!(out, "curl: ({code}) Failed to connect to {ip} port {port}: {}", connect_error(&e));
        }
    };
    let request = http::curl_request(method, host, port, &path, data).to_bytes();
    let resp = match exchange(&mut s, &request, left(IO_TIMEOUT)) {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => return writeln!(out, "curl: (8) Weird server reply: {e}"),
        Err(e) if max.is_some() && timed_out(&e) => {
            return writeln!(out, "curl: (28) Operation timed out after {ms} milliseconds with 0 bytes received");
        }
        Err(e) => return Err(e),
    };
    match resp {
        Some(resp) => {
            writeln!(out, "curl: HTTP/1.1 {} {} ({} bytes)", resp.status, resp.reason, resp.body.len())?;
            for line in String::from_utf8_lossy(&resp.body).lines().filter(|l| !l.trim().is_empty()) {
                writeln!(out, "{line}")?;
            }
            Ok(())
        }
        None => writeln!(out, "curl: (52) Empty reply from server"),
    }
}

/// `http://host[:port]/path` as the simulator writes a program's URL (`Traffic::Curl`).
fn split_url(url: &str) -> (&str, u16, String) {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (hostport, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().unwrap_or(80), path),
        None => (hostport, 80, path),
    }
}

/// Sends an HTTP request and reads the response: `Err` with the parser's words for a reply
/// that is not HTTP, `Ok(None)` when the server closed without one. Closes the connection.
fn exchange(
    s: &mut TcpStream,
    request: &[u8],
    timeout: Duration,
) -> io::Result<Result<Option<http::Response>, String>> {
    s.set_read_timeout(Some(timeout))?;
    s.write_all(request)?;
    let mut p = http::ResponseParser::new();
    let mut buf = [0u8; 65536];
    let resp = loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break Ok(p.eof());
        }
        match p.push(&buf[..n]) {
            Ok(Some(resp)) => break Ok(Some(resp)),
            Ok(None) => {}
            Err(e) => break Err(e),
        }
    };
    let _ = s.shutdown(Shutdown::Both);
    Ok(resp)
}

/// busybox `wget`, printing what the simulator's does (`proto::wget`).
fn wget(r: &Resolver, url: &str, data: Option<&str>, o: &wget::WgetOpts, out: &mut dyn Write) -> io::Result<()> {
    let (host, port, path) = split_url(url);
    let Ok(ip) = r.resolve(host) else { return writeln!(out, "{}", wget::bad_address(host)) };
    if let Some(line) = wget::connecting(o, ip, port) {
        writeln!(out, "{line}")?;
    }
    let started = Instant::now();
    let mut s = match TcpStream::connect_timeout(&SocketAddr::from((ip, port)), IO_TIMEOUT) {
        Ok(s) => s,
        Err(e) => return writeln!(out, "{}", wget::cant_connect(ip, connect_error(&e))),
    };
    match exchange(&mut s, &wget::request(o, &path, data), IO_TIMEOUT)?.ok().flatten() {
        Some(resp) => {
            // Each program is an agent of its own and writes no file: none is there before it
            // (the simulator remembers a container's downloads; the kernel backend does not).
            for line in wget::response(o, &path, &resp, started.elapsed().as_secs(), |_| false).lines {
                writeln!(out, "{line}")?;
            }
            Ok(())
        }
        None => writeln!(out, "wget: error getting response"),
    }
}

/// One MySQL session with the client state machine; returns its results.
fn mysql_session(
    ip: Ipv4Addr,
    port: u16,
    conn: &mut mysql::ClientConn,
) -> io::Result<Vec<Result<mysql::QueryResult, mysql::SqlError>>> {
    let mut s = TcpStream::connect_timeout(&SocketAddr::from((ip, port)), IO_TIMEOUT)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    let mut results = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let o = conn.on_data(&buf[..n]);
        s.write_all(&o.send)?;
        results.extend(o.results);
        if o.done {
            let _ = s.shutdown(Shutdown::Write);
            break;
        }
    }
    Ok(results)
}

#[allow(clippy::too_many_arguments)]
fn mysql_client(
    r: &Resolver,
    host: &str,
    port: u16,
    user: &str,
    password: &str,
    database: Option<&str>,
    queries: &[String],
    out: &mut dyn Write,
) -> io::Result<()> {
    let ip = match r.resolve(host) {
        Ok(ip) => ip,
        Err(_) => return writeln!(out, "ERROR 2005 (HY000): Unknown MySQL server host '{host}' (-2)"),
    };
    let mut conn = mysql::ClientConn::new(user, password, database, queries.to_vec());
    match mysql_session(ip, port, &mut conn) {
        Ok(results) => {
            for res in &results {
                writeln!(out, "{}", mysql::format_result(res))?;
            }
            Ok(())
        }
        Err(e) => writeln!(out, "ERROR 2003 (HY000): Can't connect to MySQL server on '{ip}' ({})", connect_error(&e)),
    }
}

// ----- servers of container images -----------------------------------------------------------

/// A static web server, or the tutorial's webapp when `db` is given.
fn http_server(
    port: u16,
    db: Option<&MysqlTarget>,
    server: &webapp::WebServer,
    r: &Resolver,
    out: &mut dyn Write,
) -> io::Result<()> {
    let l = TcpListener::bind(("0.0.0.0", port))?;
    for s in l.incoming() {
        let mut s = s?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        let mut p = http::RequestParser::new();
        let mut buf = [0u8; 65536];
        let req = loop {
            let n = s.read(&mut buf)?;
            if n == 0 {
                break None;
            }
            match p.push(&buf[..n]) {
                Ok(Some(req)) => break Some(req),
                Ok(None) => {}
                Err(_) => break None,
            }
        };
        let Some(req) = req else { continue };
        writeln!(out, "httpd: {} {} HTTP/1.1 ({} bytes of body)", req.method, req.path, req.body.len())?;
        let close =
            req.headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close"));
        let resp = match (req.method.as_str(), db) {
            ("POST", Some(m)) => {
                writeln!(out, "webapp: form posted; connecting to MySQL at `{}`", m.host)?;
                let msg = match r.resolve(&m.host) {
                    Ok(ip) => {
                        let fields = http::parse_form(&req.body);
                        let mut conn = mysql::ClientConn::new(
                            &m.user,
                            &m.password,
                            Some(&m.database),
                            vec![webapp::insert(m, &fields)],
                        );
                        match mysql_session(ip, 3306, &mut conn) {
                            Ok(results) => webapp::outcome(results.last()),
                            Err(e) => format!("Connection failed: {}", connect_error(&e)),
                        }
                    }
                    Err(e) => format!("Connection failed: php_network_getaddresses: getaddrinfo failed: {e}"),
                };
                writeln!(out, "webapp: {msg}")?;
                webapp::page(200, &msg)
            }
            ("GET" | "HEAD", Some(m)) => http::php_response(200, webapp::HTTP_DATE, &webapp::form(m)),
            (method, None) => webapp::static_page(server, method, &req.path, close),
            _ => http::php_response(405, webapp::HTTP_DATE, "Method Not Allowed"),
        };
        out.flush()?;
        s.write_all(&if req.method == "HEAD" { resp.head_bytes() } else { resp.to_bytes() })?;
        if close {
            // Asked to (busybox wget): the server closes once it has answered.
            let _ = s.shutdown(Shutdown::Write);
        }
        // Otherwise the client closes first once it has the response; wait for its FIN.
        let _ = s.read(&mut buf);
    }
    Ok(())
}

fn mysql_server(port: u16, password: &str, out: &mut dyn Write) -> io::Result<()> {
    let l = TcpListener::bind(("0.0.0.0", port))?;
    let mut db = mysql::Database::new();
    for (id, s) in (1u32..).zip(l.incoming()) {
        let mut s = s?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        // A scramble from the connection id: the agent draws no entropy, so kernel runs repeat.
        let mut salt = [0u8; 20];
        for (i, b) in salt.iter_mut().enumerate() {
            *b = 0x21 + ((id as usize * 31 + i * 7) % 94) as u8;
        }
        let (mut conn, greeting) = mysql::ServerConn::new(id, salt, vec![("root".into(), password.into())]);
        s.write_all(&greeting)?;
        let mut buf = [0u8; 65536];
        loop {
            let n = match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let o = conn.on_data(&mut db, &buf[..n]);
            for l in &o.log {
                writeln!(out, "mysqld: {l}")?;
            }
            out.flush()?;
            s.write_all(&o.send)?;
            if o.close {
                let _ = s.shutdown(Shutdown::Both);
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_or_lying_ip_header_is_skipped_not_a_panic() {
        let mut p = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1];
        p.extend([0, 0, 0, 0, 0, 7, 0, 1]);
        let (ttl, from, icmp) = ipv4_split(&p).expect("a whole packet");
        assert_eq!((ttl, from, icmp.len()), (64, Ipv4Addr::new(10, 0, 0, 2), 8));
        for bad in [
            &[][..],
            &p[..10],
            &[0x4f, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1][..],
            &[0x41; 24][..],
        ] {
            assert_eq!(ipv4_split(bad), None, "{bad:?}");
        }
    }
}
