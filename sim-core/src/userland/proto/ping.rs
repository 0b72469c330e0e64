//! What `ping` prints and sends, as each of the two pings a student meets does it:
//!
//! - **iputils** (`ping/ping.c`, `ping/ping_common.c`, release 20221126): the `ping` of
//!   Debian and Ubuntu hosts and images. `PING HOST (IP) 56(84) bytes of data.`, replies
//!   numbered from `icmp_seq=1`, a summary with `+N errors`, the loss as `%g`, the time from
//!   the first request to the last, `rtt min/avg/max/mdev`, and `pipe N` when more than one
//!   request was in flight as one was answered or failed. A name that does not resolve
//!   exits 2, as does a route-less destination (its `connect()` probe fails before anything
//!   is printed).
//! - **busybox** (`networking/ping.c`): the applet alpine's and busybox's images run as
//!   `ping`. `PING HOST (IP): 56 data bytes`, replies numbered from `seq=0`, a summary that
//!   counts `packets received` and gives `round-trip min/avg/max`, and `ping: bad address
//!   'HOST'` (exit 1) for a name it cannot resolve. It pings on a raw socket and matches
//!   replies by the identifier in the ICMP header it reads, which an ICMP error does not
//!   carry there: errors are neither printed nor counted. `-w` is checked when the next
//!   request is due, and after the last request of `-c` it waits two round trips (at least
//!   a second), or `-W` (10 s) when nothing came back. Its request carries the sender's
//!   clock in its first 4 bytes and zeros after.
//!
//! `traces/programs/exit-statuses/record.txt` (iputils on the kernel) and
//! `traces/docker/busybox-ping/record.txt` (busybox on the Docker Engine) are what each
//! printed; `sim-core/tests/ping_output.rs` compares the simulator's lines with both.
//!
//! The times are the simulator's, which the records normalise away; the rest is each
//! program's own arithmetic: both count round trips in whole microseconds. The busybox of
//! the record is linked with glibc; alpine's is linked with musl, whose strerror says
//! "Network unreachable" (musl's `src/errno/__strerror.h`) where glibc says "Network is
//! unreachable": the simulator prints glibc's words, as its other programs do.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// Which `ping` a namespace runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    #[default]
    Iputils,
    Busybox,
}

impl Flavour {
    pub fn is_iputils(&self) -> bool {
        *self == Flavour::Iputils
    }

    /// Whether each reply's source is named before its line is printed: iputils pinging a
    /// name without `-n` (`pr_addr` in ping/ping.c calls getnameinfo for every reply; a
    /// target inet_aton reads as an address sets `-n` itself). busybox never names them.
    pub fn names_replies(self, target: &str, numeric: bool) -> bool {
        self.is_iputils() && !numeric && target.parse::<Ipv4Addr>().is_err()
    }

    /// How late the next request goes out after its interval. iputils sleeps in poll(2)
    /// until it is due, and a sleeping task wakes up to its timer slack late (50 µs by
    /// default, time(7)), while the kernel's own timers (a neighbour's probes, counted from
    /// the first request) do not drift: when ARP for the destination fails three seconds on,
    /// the three requests it held fail before the fourth is sent
    /// (traces/docker/iputils-names: `pipe 3`). busybox arms a one-shot setitimer(2) at
    /// each send (`sendping_tail`), a timer without slack: it is left on time.
    pub fn wake_late(self) -> crate::SimTime {
        match self {
            Flavour::Iputils => crate::SimTime::from_micros(50),
            Flavour::Busybox => crate::SimTime::ZERO,
        }
    }

    /// The sequence number of the first request.
    pub fn first_seq(self) -> u16 {
        match self {
            Flavour::Iputils => 1,
            Flavour::Busybox => 0,
        }
    }

    /// The line before the first request: `target` as typed, `size` the `-s` data bytes;
    /// with `-I`, `from` is the source and the device bound to (`None` for an address).
    /// iputils writes both (`from 10.2.0.1 eth1: `, an address's `from 10.2.0.1 : `),
    /// busybox only an address it was given (Linux 6.18, iputils 20221126, busybox 1.35;
    /// traces/kernel/linux/ping-bind.txt).
    pub fn header(self, target: &str, ip: Ipv4Addr, size: usize, from: Option<(Ipv4Addr, Option<&str>)>) -> String {
        match (self, from) {
            (Flavour::Iputils, None) => format!("PING {target} ({ip}) {size}({}) bytes of data.", size + 28),
            (Flavour::Iputils, Some((src, dev))) => {
                format!("PING {target} ({ip}) from {src} {}: {size}({}) bytes of data.", dev.unwrap_or(""), size + 28)
            }
            (Flavour::Busybox, Some((src, None))) => format!("PING {target} ({ip}) from {src}: {size} data bytes"),
            (Flavour::Busybox, _) => format!("PING {target} ({ip}): {size} data bytes"),
        }
    }

    /// `-I NAME` that is neither a device of the namespace nor one of its addresses: what
    /// each prints (iputils: SO_BINDTODEVICE's or bind's error; busybox takes a name that
    /// is no device for a host, and a foreign address fails at IP_MULTICAST_IF after its
    /// header), then exits with `bind_status`.
    pub fn bind_failed(self, target: &str, ip: Ipv4Addr, size: usize, name: &str) -> Vec<String> {
        let addr = name.parse::<Ipv4Addr>().ok();
        match (self, addr) {
            (Flavour::Iputils, Some(_)) => vec!["ping: bind: Cannot assign requested address".into()],
            (Flavour::Iputils, None) => vec![format!("ping: SO_BINDTODEVICE {name}: No such device")],
            (Flavour::Busybox, Some(a)) => {
                vec![
                    self.header(target, ip, size, Some((a, None))),
                    "ping: can't set multicast source interface".into(),
                ]
            }
            (Flavour::Busybox, None) => vec![format!("ping: bad address '{name}'")],
        }
    }

    pub fn bind_status(self) -> u8 {
        match self {
            Flavour::Iputils => 2,
            Flavour::Busybox => 1,
        }
    }

    /// A reply's line: `bytes` of ICMP from `from` as the program writes it (`10.0.0.3`, or
    /// iputils' `c2.net (10.0.0.3)`), its round trip in nanoseconds.
    pub fn reply(self, bytes: usize, from: &str, seq: u16, ttl: u8, rtt_ns: u64) -> String {
        let us = rtt_ns / 1000;
        match self {
            Flavour::Iputils => format!("{bytes} bytes from {from}: icmp_seq={seq} ttl={ttl} time={}", iputils_ms(us)),
            Flavour::Busybox => {
                format!("{bytes} bytes from {from}: seq={seq} ttl={ttl} time={}.{:03} ms", us / 1000, us % 1000)
            }
        }
    }

    /// The closing lines: a blank line, the title, the counts, the round trips if any.
    pub fn summary(self, s: &Summary) -> Vec<String> {
        let mut out = vec![String::new(), format!("--- {} ping statistics ---", s.target)];
        let r = &s.rtts;
        match self {
            Flavour::Iputils => {
                let mut counts = format!("{} packets transmitted, {} received", s.sent, s.received);
                if s.errors > 0 {
                    counts += &format!(", +{} errors", s.errors);
                }
                if s.sent > 0 {
                    let loss = (f64::from(s.sent - s.received) * 100.0 / f64::from(s.sent)) as f32;
                    let ms = (s.elapsed_ns + 500_000) / 1_000_000;
                    counts += &format!(", {}% packet loss, time {ms}ms", fmt_g(f64::from(loss)));
                }
                out.push(counts);
                // `finish()` ends with a newline of its own after the round-trip line, which is
                // an empty line when there is none, and `pipe N` joins that line.
                let pipe = if s.pipe > 1 { format!("pipe {}", s.pipe) } else { String::new() };
                if r.n == 0 {
                    out.push(pipe);
                } else {
                    let total = r.n as i128;
                    let (sum, sum2) = (r.sum as i128, r.sum2 as i128);
                    let avg = sum / total;
                    // ping_common.c's order of operations, which keeps small times exact.
                    let var = if sum < i128::from(i32::MAX) {
                        (sum2 - sum * sum / total) / total
                    } else {
                        sum2 / total - avg * avg
                    };
                    let mdev = (var.max(0) as u128).isqrt() as u64;
                    let mut rtt = format!(
                        "rtt min/avg/max/mdev = {}/{}/{}/{} ms",
                        milli3(r.min),
                        milli3(avg as u64),
                        milli3(r.max),
                        milli3(mdev)
                    );
                    if !pipe.is_empty() {
                        rtt += ", ";
                        rtt += &pipe;
                    }
                    out.push(rtt);
                }
            }
            Flavour::Busybox => {
                let loss = ((s.sent - s.received) * 100).checked_div(s.sent).unwrap_or(0);
                out.push(format!(
                    "{} packets transmitted, {} packets received, {loss}% packet loss",
                    s.sent, s.received
                ));
                if let Some(avg) = r.sum.checked_div(r.n) {
                    out.push(format!(
                        "round-trip min/avg/max = {}/{}/{} ms",
                        milli3(r.min),
                        milli3(avg),
                        milli3(r.max)
                    ));
                }
            }
        }
        out
    }

    /// The exit status after the summary (both say it alike): 1 without a reply, or when
    /// `-w` was given with `-c` and fewer replies than the count came.
    pub fn status(self, received: u32, count: u32, deadline: bool) -> u8 {
        u8::from(received == 0 || (deadline && received < count))
    }

    /// A name that does not resolve (`err`: the resolver's words): the line and the status.
    pub fn bad_address(self, name: &str, err: &str) -> (String, u8) {
        match self {
            Flavour::Iputils => (format!("ping: {name}: {err}"), 2),
            Flavour::Busybox => (format!("ping: bad address '{name}'"), 1),
        }
    }

    /// No route to the destination: iputils' `connect()` probe fails before the header;
    /// busybox's `sendto()` fails after it, and either way the program dies.
    pub fn unreachable(self) -> (String, u8) {
        match self {
            Flavour::Iputils => ("ping: connect: Network is unreachable".into(), 2),
            Flavour::Busybox => ("ping: sendto: Network is unreachable".into(), 1),
        }
    }

    /// A request's data: iputils a `struct timeval` then 0x10, 0x11, …; busybox its
    /// microsecond clock's low 32 bits then zeros (`-p` pattern 0).
    pub fn payload(self, now_ns: u64, size: usize) -> Vec<u8> {
        let mut data = Vec::with_capacity(size + 16);
        match self {
            Flavour::Iputils => {
                data.extend_from_slice(&(now_ns / 1_000_000_000).to_le_bytes());
                data.extend_from_slice(&((now_ns % 1_000_000_000) / 1000).to_le_bytes());
                data.truncate(size);
                while data.len() < size {
                    data.push(0x10u8.wrapping_add((data.len() - 16.min(data.len())) as u8));
                }
            }
            Flavour::Busybox => {
                data.extend_from_slice(&((now_ns / 1000) as u32).to_le_bytes());
                data.resize(size, 0);
            }
        }
        data
    }

    /// How long ping waits after its last request of `-c` before it gives up on the rest:
    /// iputils two round trips but at least the interval, busybox two round trips rounded
    /// down to whole seconds but at least one; both `wait` (`-W`, 10 s by default) when
    /// nothing came back yet.
    pub fn linger_ns(self, rtts: &Rtts, interval_ns: u64, wait_ns: Option<u64>) -> u64 {
        if rtts.n == 0 {
            return wait_ns.unwrap_or(10_000_000_000);
        }
        match self {
            Flavour::Iputils => (2 * rtts.max * 1000).max(interval_ns),
            Flavour::Busybox => (rtts.max / (512 * 1024)).max(1) * 1_000_000_000,
        }
    }

    /// Whether ICMP errors about its requests are printed and counted.
    pub fn reports_errors(self) -> bool {
        self.is_iputils()
    }

    /// The TTL it asks the kernel for with `-t`: busybox leaves 0 unset (`if (opt_ttl !=
    /// 0)`); iputils asks for 0 too, which the kernel refuses ([`TTL_REFUSED`]).
    pub fn ttl(self, ttl: Option<u8>) -> Option<u8> {
        ttl.filter(|t| *t != 0 || self.is_iputils())
    }
}

/// iputils' words when `setsockopt(IP_TTL)` fails (`-t 0`), before it prints anything; it
/// exits 2.
pub const TTL_REFUSED: &str = "ping: cannot set unicast time-to-live: Invalid argument";

/// Whether a ping of `count` requests (0: until its deadline) is done: every request sent
/// and each answered or failed (iputils' `nreceived + nerrors`; busybox counts no errors).
pub fn all_answered(count: u32, sent: u32, received: u32, errors: u32) -> bool {
    count > 0 && sent >= count && received + errors >= count
}

/// The round trips of the replies, in microseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rtts {
    pub n: u64,
    pub min: u64,
    pub max: u64,
    pub sum: u64,
    pub sum2: u128,
}

impl Rtts {
    pub fn add(&mut self, rtt_ns: u64) {
        let us = rtt_ns / 1000;
        self.min = if self.n == 0 { us } else { self.min.min(us) };
        self.max = self.max.max(us);
        self.n += 1;
        self.sum += us;
        self.sum2 += u128::from(us) * u128::from(us);
    }
}

/// What the summary says.
#[derive(Clone, Debug)]
pub struct Summary<'a> {
    /// The destination as typed.
    pub target: &'a str,
    pub sent: u32,
    pub received: u32,
    pub errors: u32,
    /// From the first request to the last.
    pub elapsed_ns: u64,
    pub rtts: &'a Rtts,
    /// The most requests in flight when one was answered or failed (`Pipe`).
    pub pipe: u32,
}

/// A reply's or an error's source as iputils writes it: `c2.net (10.0.0.3)` when it looked
/// the name up (getnameinfo falls back to the digits: `10.0.0.3 (10.0.0.3)`), the address
/// alone when it did not.
pub fn source(name: Option<&str>, ip: Ipv4Addr) -> String {
    match name {
        Some(n) => format!("{n} ({ip})"),
        None => ip.to_string(),
    }
}

/// iputils' line for an ICMP error about request `seq`, from `from` (as [`source`] writes it).
pub fn error_line(from: &str, seq: u16, what: &str) -> String {
    format!("From {from} icmp_seq={seq} {what}")
}

/// iputils' `pipesize` (`acknowledge` in ping/ping.h): when request `seq` is answered, by a
/// reply or an ICMP error, the requests sent since it and it are in flight; the largest such
/// count is printed as `pipe N` when it is above 1, as when a neighbour that never answers
/// ARP makes the kernel fail three requests at once. busybox keeps no such count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pipe(pub u32);

impl Pipe {
    /// Request `seq` answered after `sent` requests were sent (iputils numbers from 1).
    pub fn acknowledge(&mut self, sent: u32, seq: u16) {
        let diff = (sent as u16).wrapping_sub(seq);
        if diff <= 0x7fff {
            self.0 = self.0.max(u32::from(diff) + 1);
        }
    }
}

/// Microseconds as `M.mmm`.
fn milli3(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// iputils' reply time: three decimals under a millisecond, fewer as it grows.
fn iputils_ms(us: u64) -> String {
    if us >= 100_000 - 50 {
        format!("{} ms", (us + 500) / 1000)
    } else if us >= 10_000 - 5 {
        format!("{}.{} ms", (us + 50) / 1000, ((us + 50) % 1000) / 100)
    } else if us >= 1000 {
        format!("{}.{:02} ms", (us + 5) / 1000, ((us + 5) % 1000) / 10)
    } else {
        format!("0.{us:03} ms")
    }
}

/// printf's `%g`: six significant digits, trailing zeros dropped.
fn fmt_g(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let exp = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&exp) {
        let s = format!("{:.5e}", x);
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = m.trim_end_matches('0').trim_end_matches('.');
        let e: i32 = e.parse().unwrap_or(0);
        return format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    let decimals = (5 - exp).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: Ipv4Addr = Ipv4Addr::new(10, 81, 0, 3);

    #[test]
    fn loss_is_printed_as_printf_g_prints_a_float() {
        for (x, s) in [(0.0, "0"), (100.0, "100"), (50.0, "50"), (33.333_332, "33.3333"), (66.666_664, "66.6667")] {
            assert_eq!(fmt_g(x), s);
        }
        assert_eq!(fmt_g(0.000_012_5), "1.25e-05");
    }

    #[test]
    fn reply_times_keep_iputils_precision_steps() {
        assert_eq!(iputils_ms(8), "0.008 ms");
        assert_eq!(iputils_ms(1_234), "1.23 ms");
        assert_eq!(iputils_ms(12_345), "12.3 ms");
        assert_eq!(iputils_ms(123_456), "123 ms");
    }

    #[test]
    fn the_summary_is_each_programs_own() {
        let mut r = Rtts::default();
        for ns in [40_000, 60_000, 50_000] {
            r.add(ns);
        }
        let s = Summary { target: "c2", sent: 4, received: 3, errors: 1, elapsed_ns: 3_000_400_000, rtts: &r, pipe: 1 };
        assert_eq!(
            Flavour::Iputils.summary(&s),
            [
                "",
                "--- c2 ping statistics ---",
                "4 packets transmitted, 3 received, +1 errors, 25% packet loss, time 3000ms",
                // mean 50 µs, variance (7700 - 150²/3)/3 = 66: mdev ⌊√66⌋ = 8 µs.
                "rtt min/avg/max/mdev = 0.040/0.050/0.060/0.008 ms",
            ]
        );
        assert_eq!(
            Flavour::Busybox.summary(&s),
            [
                "",
                "--- c2 ping statistics ---",
                "4 packets transmitted, 3 packets received, 25% packet loss",
                "round-trip min/avg/max = 0.040/0.050/0.060 ms",
            ]
        );
        let none = Rtts::default();
        let lost =
            Summary { target: "10.81.0.99", sent: 1, received: 0, errors: 0, elapsed_ns: 0, rtts: &none, pipe: 0 };
        assert_eq!(Flavour::Busybox.summary(&lost).len(), 3, "no round-trip line without a reply");
        assert_eq!(
            Flavour::Iputils.summary(&lost)[2..],
            ["1 packets transmitted, 0 received, 100% packet loss, time 0ms", ""],
            "iputils' last newline is an empty line without a round-trip line"
        );
    }

    #[test]
    fn pipe_is_the_most_requests_in_flight_and_ends_the_summary() {
        let mut p = Pipe::default();
        p.acknowledge(1, 1);
        assert_eq!(p, Pipe(1), "answered before the next request");
        p.acknowledge(4, 2);
        assert_eq!(p, Pipe(3), "requests 2, 3 and 4 in flight when 2 failed");
        p.acknowledge(5, 5);
        assert_eq!(p, Pipe(3));
        let none = Rtts::default();
        let failed = Summary {
            target: "ghost",
            sent: 4,
            received: 0,
            errors: 4,
            elapsed_ns: 3_000_000_000,
            rtts: &none,
            pipe: 3,
        };
        assert_eq!(
            Flavour::Iputils.summary(&failed)[2..],
            ["4 packets transmitted, 0 received, +4 errors, 100% packet loss, time 3000ms", "pipe 3"]
        );
        let mut r = Rtts::default();
        r.add(40_000);
        let some =
            Summary { target: "c2", sent: 2, received: 1, errors: 1, elapsed_ns: 1_000_000_000, rtts: &r, pipe: 2 };
        assert_eq!(Flavour::Iputils.summary(&some)[3], "rtt min/avg/max/mdev = 0.040/0.040/0.040/0.000 ms, pipe 2");
        assert_eq!(Flavour::Busybox.summary(&some).len(), 4, "busybox prints no pipe");
    }

    #[test]
    fn busybox_data_is_its_clock_then_zeros() {
        let d = Flavour::Busybox.payload(1_641_162_763, 56);
        assert_eq!(d.len(), 56);
        assert_eq!(&d[..4], &1_641_162u32.to_le_bytes());
        assert!(d[4..].iter().all(|b| *b == 0));
        assert_eq!(Flavour::Iputils.payload(0, 56)[16..19], [0x10, 0x11, 0x12]);
    }

    #[test]
    fn lines_and_waits() {
        assert_eq!(Flavour::Busybox.header("c2", IP, 56, None), "PING c2 (10.81.0.3): 56 data bytes");
        assert_eq!(Flavour::Iputils.header("c2", IP, 56, None), "PING c2 (10.81.0.3) 56(84) bytes of data.");
        assert_eq!(
            Flavour::Busybox.reply(64, "10.81.0.3", 0, 64, 8_000),
            "64 bytes from 10.81.0.3: seq=0 ttl=64 time=0.008 ms"
        );
        let mut r = Rtts::default();
        assert_eq!(Flavour::Busybox.linger_ns(&r, 1_000_000_000, None), 10_000_000_000);
        r.add(8_000);
        assert_eq!(Flavour::Busybox.linger_ns(&r, 200_000_000, None), 1_000_000_000);
        assert_eq!(Flavour::Iputils.linger_ns(&r, 200_000_000, None), 200_000_000);
    }
}
