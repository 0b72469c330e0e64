//! busybox `nc` as alpine's image ships it: the netcat 1.10 compatible applet
//! (`CONFIG_NC_110_COMPAT`, busybox's `networking/nc_bloaty.c`), in its zero-I/O mode (`-z`),
//! which opens a TCP connection to see whether a port answers and closes it at once. What it
//! prints, all on stderr and each only at its verbosity (`-v` counts):
//!
//! - a connection made, with `-v`: `HOST (IP:PORT) open`, HOST as typed;
//! - a connection that failed: nothing at `-v` when it was refused (a scan at one `-v` does
//!   not list closed ports), else with `-v` `nc: HOST (IP:PORT): strerror`;
//! - with `-vv`, last: `sent 0, rcvd 0` (zero-I/O moves no bytes);
//! - a name that does not resolve, whatever the verbosity: `nc: bad address 'HOST'`.
//!
//! `-w SEC` bounds the connect: an alarm interrupts it and nc reports ETIMEDOUT
//! (`connect_w_timeout`). Without it the kernel's own SYN retries decide. A port that is
//! not a number up to 65535 is looked up in `/etc/services` (`bb_lookup_port`), which the
//! images lack (`nc: bad port '…'`); a missing port is port 0, on which no one listens.
//!
//! `traces/docker/nc/record.txt` is what the applet printed on Docker Engine 20.10.24;
//! busybox there is linked with glibc, so its strerror words are glibc's. Alpine links musl,
//! whose words differ for two of them (musl's `src/errno/__strerror.h`: ETIMEDOUT "Operation
//! timed out", EHOSTUNREACH "Host is unreachable"); the simulator prints glibc's, as its
//! other programs do.

use std::net::Ipv4Addr;

/// What `nc -z` was asked: verbosity (`-v` counted) and `-w`'s seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NcOpts {
    pub verbose: u8,
    pub wait: Option<u32>,
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
pub fn totals(o: NcOpts) -> Option<String> {
    (o.verbose > 1).then(|| "sent 0, rcvd 0".to_string())
}

/// The name does not resolve (`xhost2sockaddr` dies).
pub fn bad_address(host: &str) -> String {
    format!("nc: bad address '{host}'")
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: Ipv4Addr = Ipv4Addr::new(10, 79, 0, 2);

    #[test]
    fn one_v_lists_open_ports_and_errors_other_than_refused() {
        let v = NcOpts { verbose: 1, wait: None };
        assert_eq!(open(v, "srv", IP, 80).as_deref(), Some("srv (10.79.0.2:80) open"));
        assert_eq!(failed(v, "srv", IP, 81, "Connection refused"), None);
        assert_eq!(
            failed(v, "srv", IP, 81, "Connection timed out").as_deref(),
            Some("nc: srv (10.79.0.2:81): Connection timed out")
        );
        assert_eq!(totals(v), None);
        let quiet = NcOpts::default();
        assert_eq!(open(quiet, "srv", IP, 80), None);
        assert_eq!(failed(quiet, "srv", IP, 81, "Connection timed out"), None);
        let vv = NcOpts { verbose: 2, wait: None };
        assert!(failed(vv, "srv", IP, 81, "Connection refused").is_some());
        assert_eq!(totals(vv).as_deref(), Some("sent 0, rcvd 0"));
    }
}
