//! busybox `nc` as alpine's image ships it: the netcat 1.10 compatible applet
//! (`CONFIG_NC_110_COMPAT`, busybox's `networking/nc_bloaty.c`). It connects (`nc HOST
//! PORT`) or listens (`-l`), then copies standard input to the connection and the connection
//! to standard output until both are done. A lab's step gives it no input (`docker exec`
//! without `-i`, a detached container), so its first read of stdin returns 0 and it shuts
//! its sending side at once (busybox's `shutdown(netfd, SHUT_WR)`, which netcat 1.10 lacks);
//! it then prints what arrives and exits 0 when the peer closes. What it prints on stderr,
//! each only at its verbosity (`-v` counts):
//!
//! - a connection made, with `-v`: `HOST (IP:PORT) open`, HOST as typed;
//! - a connection that failed: nothing at `-v` when it was refused (a scan at one `-v` does
//!   not list closed ports), else with `-v` `nc: HOST (IP:PORT): strerror`;
//! - with `-vv`, last: `sent N, rcvd M`;
//! - a name that does not resolve, whatever the verbosity: `nc: bad address 'HOST'`;
//! - listening, with `-v`: `listening on [::]:PORT ...`, then for the connection
//!   `connect to [::ffff:LOCAL]:PORT from NAME:RPORT ([::ffff:REMOTE]:RPORT)`. nc listens
//!   on an IPv6 socket (`xsocket_type` tries AF_INET6 first), which sees IPv4 peers as
//!   v4-mapped addresses; NAME is getnameinfo's, a PTR lookup (with `-n`, or when it finds
//!   nothing, the bracketed digits).
//!
//! `-z` (zero I/O) closes the connection as soon as it is up. `-w SEC` bounds the connect
//! (an alarm interrupts it and nc reports ETIMEDOUT, `connect_w_timeout`), and while
//! copying is `readwrite`'s poll timeout: two in a row with nothing from the peer end the
//! run, with status 0. Without it the kernel's own SYN retries decide. A port that is not a
//! number up to 65535 is looked up in `/etc/services` (`bb_lookup_port`), which the images
//! lack (`nc: bad port '…'`); a missing port is port 0, on which no one listens.
//!
//! A listener takes one connection: `dolisten` moves the accepted socket onto its listening
//! one, so later SYNs are refused. `-e PROG [ARGS]` runs PROG on the connection once it is
//! announced; with `-k` nc forks for it and goes on accepting (without `-e`, `-k` changes
//! nothing). Only programs whose output does not depend on what they read are run there
//! (`docker::engine`: `echo`, `hostname`).
//!
//! `traces/docker/nc/record.txt` and `traces/docker/nc-listen/record.txt` are what the
//! applet printed on Docker Engine 20.10.24; busybox there is linked with glibc, so its
//! strerror words are glibc's. Alpine links musl, whose words differ for some of them
//! (musl's `src/errno/__strerror.h`: ETIMEDOUT "Operation timed out", EHOSTUNREACH "Host is
//! unreachable", EADDRINUSE "Address in use"); the simulator prints glibc's, as its other
//! programs do.

use std::net::Ipv4Addr;

/// What nc was asked: verbosity (`-v` counted), `-w`'s seconds, `-n`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NcOpts {
    pub verbose: u8,
    pub wait: Option<u32>,
    #[serde(default)]
    pub numeric: bool,
}

/// The line for a connection made (`-v`).
pub fn open(o: NcOpts, host: &str, ip: Ipv4Addr, port: u16) -> Option<String> {
    (o.verbose > 0).then(|| format!("{host} ({ip}:{port}) open"))
}

/// The line for a connect that failed with `what` (strerror's words).
pub fn failed(o: NcOpts, host: &str, ip: Ipv4Addr, port: u16, what: &str) -> Option<String> {
    (o.verbose > 1 || (o.verbose == 1 && what != "Connection refused"))
        .then(|| format!("nc: {host} ({ip}:{port}): {what}"))
}

/// The last line at `-vv`: the bytes written to the network and to stdout.
pub fn totals(o: NcOpts, sent: u64, rcvd: u64) -> Option<String> {
    (o.verbose > 1).then(|| format!("sent {sent}, rcvd {rcvd}"))
}

/// The name does not resolve (`xhost2sockaddr` dies).
pub fn bad_address(host: &str) -> String {
    format!("nc: bad address '{host}'")
}

/// An address as `xmalloc_sockaddr2dotted` writes the IPv6 socket's view of it: nc listens
/// on an IPv6 socket (`xsocket_type` tries AF_INET6 first), which sees an IPv4 peer as
/// `::ffff:a.b.c.d`.
fn dotted(ip: Ipv4Addr, port: u16) -> String {
    format!("[::ffff:{ip}]:{port}")
}

/// `-l -v`, once bound: the wildcard address of its IPv6 socket.
pub fn listening(port: u16) -> String {
    format!("listening on [::]:{port} ...")
}

/// `-l -v`, a connection accepted: the address it came to, the peer's name as getnameinfo
/// gives it (`name`: the PTR answer; `None` with `-n` or when there is none, the digits)
/// and the peer's address.
pub fn connect_from(local: (Ipv4Addr, u16), name: Option<&str>, remote: (Ipv4Addr, u16)) -> String {
    let peer = dotted(remote.0, remote.1);
    let host = match name {
        Some(n) => format!("{n}:{}", remote.1),
        None => peer.clone(),
    };
    format!("connect to {} from {host} ({peer})", dotted(local.0, local.1))
}

/// bind(2) failed: the port is held (glibc's strerror; `xbind` dies with `bind`).
pub const BIND_IN_USE: &str = "nc: bind: Address already in use";

#[cfg(test)]
mod tests {
    use super::*;

    const IP: Ipv4Addr = Ipv4Addr::new(10, 79, 0, 2);

    #[test]
    fn one_v_lists_open_ports_and_errors_other_than_refused() {
        let v = NcOpts { verbose: 1, ..NcOpts::default() };
        assert_eq!(open(v, "srv", IP, 80).as_deref(), Some("srv (10.79.0.2:80) open"));
        assert_eq!(failed(v, "srv", IP, 81, "Connection refused"), None);
        assert_eq!(
            failed(v, "srv", IP, 81, "Connection timed out").as_deref(),
            Some("nc: srv (10.79.0.2:81): Connection timed out")
        );
        assert_eq!(totals(v, 0, 0), None);
        let quiet = NcOpts::default();
        assert_eq!(open(quiet, "srv", IP, 80), None);
        assert_eq!(failed(quiet, "srv", IP, 81, "Connection timed out"), None);
        let vv = NcOpts { verbose: 2, ..NcOpts::default() };
        assert!(failed(vv, "srv", IP, 81, "Connection refused").is_some());
        assert_eq!(totals(vv, 0, 12).as_deref(), Some("sent 0, rcvd 12"));
    }
}
