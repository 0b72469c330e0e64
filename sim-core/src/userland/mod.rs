//! Userland: the programs that run in the namespaces, on the kernel's socket calls only
//! (`kernel::sock`, `kernel::tcp`). `apps` holds the programs a scenario or a container
//! starts (ping, UDP and TCP senders and listeners, `arping -U`), `traceroute` busybox's
//! traceroute, `dig` BIND's dig; `services` the ones that
//! speak a protocol (dockerd's embedded DNS, every client's stub resolver, curl, nslookup,
//! mysql, the tutorial's webapp and MySQL server), with the protocols themselves in `proto`
//! as sans-IO state machines; `dns_zone` what an embedded DNS server answers; `proxy`
//! dockerd's docker-proxy.
//!
//! `World` is the kernel with these programs: the type everything above this layer uses.

pub mod apps;
pub mod dig;
pub mod dns_zone;
pub mod proto;
pub mod proxy;
pub mod services;
pub mod traceroute;

use std::net::Ipv4Addr;

use crate::kernel::tcp::TcpKey;
use crate::kernel::{Kernel, Map, NsId, Userland};
use apps::{App, AppKind};
use services::{Lookup, Stream};

/// The kernel with netsim's programs.
pub type World = Kernel<Programs>;

/// Every program and what they share: a namespace's resolv.conf, the resolver's queries in
/// flight, the protocol state of connections that carry HTTP or MySQL.
#[derive(Clone, Default)]
pub struct Programs {
    /// Every program started so far, by index (the owner number of their sockets and timers).
    pub apps: Vec<App>,
    /// Each namespace's resolv.conf nameserver, where it has one we model.
    pub resolver: Map<NsId, Ipv4Addr>,
    /// Each namespace's /etc/hosts (IPv4 names), which its resolver reads before it asks DNS.
    pub(crate) hosts: Map<NsId, Vec<(String, Ipv4Addr)>>,
    /// The aliases a sandbox's embedded DNS answers for it alone, each with the name it
    /// stands for (`--link NAME:ALIAS` on a user-defined network).
    pub(crate) dns_links: Map<NsId, Vec<(String, String)>>,
    /// Stub-resolver queries in flight, by (namespace, source port).
    pub(crate) lookups: Map<(NsId, u16), Lookup>,
    /// Protocol state of TCP connections that carry HTTP or MySQL.
    pub(crate) streams: Map<(NsId, TcpKey), Stream>,
    /// The embedded DNS server (an app index) of each namespace that runs one.
    pub(crate) dns_server: Map<NsId, usize>,
    /// The networks' zones by key, which servers that name their zones by key read: a zone
    /// changes once here when a container joins or leaves, not once per sandbox that asks it.
    pub(crate) zones: Map<String, std::sync::Arc<crate::userland::dns_zone::DnsZone>>,
    /// Programs that ended since the event loop last asked (`World::take_exited`), in order.
    pub(crate) exited: Vec<usize>,
    /// Server connections whose request said `Connection: close`: the server closes once
    /// it has answered.
    pub(crate) close_after: crate::kernel::Set<(NsId, TcpKey)>,
    /// Files programs wrote (wget's downloads), by namespace and path as given: busybox
    /// wget does not overwrite one under its own name.
    pub(crate) files: crate::kernel::Set<(NsId, String)>,
    /// Programs the kernel has woken that have not run yet, in the order it woke them:
    /// which namespace, which program, what for. Each has one `TAG_WAKE` timer, `WAKE`
    /// after it was queued, and nothing takes a program's timer out of the event queue, so
    /// the n-th timer to fire runs the n-th item.
    pub(crate) woken: std::collections::VecDeque<(NsId, usize, Woken)>,
    /// The byte buffers of wake-ups that ran, for the next ones to copy into.
    pub(crate) spare: Vec<Vec<u8>>,
}

/// How long a program takes to run once the kernel has something for it (a datagram, bytes,
/// a connect that completed or failed, the peer's FIN): the scheduler's wake-up, the
/// system call's return and the program's own work until its answer is written. The median
/// of 120 such wake-ups on Linux 6.18 is 88 µs, the quartiles 63 and 116 µs (connect to
/// write, read to answer, FIN to close, in four runs of traces/kernel/linux/round-trips.ron
/// on the kernel backend, one kept as its .pcapng; docs/linux-model.md, "The simulator's
/// clock"). ping is not delayed: iputils times its replies by the kernel's `SO_TIMESTAMP`,
/// so the time it prints has no wake-up in it.
pub const WAKE: crate::engine::SimTime = crate::engine::SimTime::from_micros(90);

/// The timer tag of a wake-up (above every program's own tags).
const TAG_WAKE: u32 = 0x0800_0000;

/// What a program is woken for, kept until it runs (`WAKE` after the kernel had it).
#[derive(Clone, Debug)]
pub(crate) enum Woken {
    Udp { from: (Ipv4Addr, u16), to: (Ipv4Addr, u16), data: Vec<u8> },
    Established(TcpKey),
    Connected(TcpKey),
    Data(TcpKey, Vec<u8>),
    Eof(TcpKey),
    Failed(TcpKey, String),
}

impl World {
    /// `data` in a buffer a wake-up that ran gave back: the queue allocates nothing once
    /// it has held as many at once as a run needs.
    fn kept(&mut self, data: &[u8]) -> Vec<u8> {
        let mut buf = self.user.spare.pop().unwrap_or_default();
        buf.extend_from_slice(data);
        buf
    }

    fn give_back(&mut self, mut buf: Vec<u8>) {
        buf.clear();
        self.user.spare.push(buf);
    }

    /// The program runs `WAKE` from now. Every wake-up waits the same, so they run in the
    /// order the kernel had them: one queue, one timer each.
    fn wake_later(&mut self, ns: NsId, owner: usize, why: Woken) {
        self.user.woken.push_back((ns, owner, why));
        self.set_timer(owner, WAKE, TAG_WAKE);
    }

    /// The program at the queue's head runs; a TCP connection then sends what it wrote.
    fn wake(&mut self) {
        let Some((ns, owner, why)) = self.user.woken.pop_front() else { return };
        if self.netns(ns).dead {
            return;
        }
        match why {
            Woken::Udp { from, to, data } => {
                self.udp_rx(ns, owner, from, to, &data);
                self.give_back(data);
            }
            Woken::Established(key) => {
                self.tcp_uncork(ns, key);
                self.service_established(ns, owner, key);
                self.tcp_output(ns, key, false);
            }
            Woken::Connected(key) => {
                self.tcp_uncork(ns, key);
                self.plain_connected(ns, owner, key, None);
                self.service_connected(ns, owner, key);
                self.tcp_output(ns, key, false);
            }
            Woken::Data(key, data) => {
                self.tcp_data(ns, owner, key, &data);
                self.give_back(data);
                self.tcp_output(ns, key, false);
            }
            Woken::Eof(key) => {
                // A plain program's one read, if nothing came before the FIN, returns 0.
                self.plain_read(ns, owner, key, &[]);
                self.service_eof(ns, owner, key);
                self.tcp_read_eof(ns, key);
            }
            Woken::Failed(key, what) => {
                self.plain_connected(ns, owner, key, Some(&what));
                self.service_failed(ns, owner, key, &what);
            }
        }
    }
}

impl Userland for Programs {
    fn udp_rx(k: &mut World, ns: NsId, owner: usize, from: (Ipv4Addr, u16), to: (Ipv4Addr, u16), data: &[u8]) {
        let data = k.kept(data);
        k.wake_later(ns, owner, Woken::Udp { from, to, data })
    }

    fn echo_reply(k: &mut World, ns: NsId, owner: usize, from: Ipv4Addr, ttl: u8, seq: u16) {
        k.echo_reply(ns, owner, from, ttl, seq)
    }

    fn echo_error(k: &mut World, ns: NsId, owner: usize, from: Ipv4Addr, seq: u16, what: &str) {
        k.echo_error(ns, owner, from, seq, what)
    }

    fn tcp_accepted(k: &mut World, ns: NsId, owner: usize, key: TcpKey) {
        if let AppKind::TcpListen { replied, heard, .. } = &mut k.user.apps[owner].kind {
            // A new connection on a 4-tuple an earlier one used is answered (and read) again.
            replied.retain(|r| *r != key);
            heard.retain(|r| *r != key);
        }
        k.service_accept(ns, owner, key)
    }

    fn tcp_established(k: &mut World, ns: NsId, owner: usize, key: TcpKey) {
        k.wake_later(ns, owner, Woken::Established(key))
    }

    fn tcp_connected(k: &mut World, ns: NsId, owner: usize, key: TcpKey) {
        k.wake_later(ns, owner, Woken::Connected(key))
    }

    fn tcp_data(k: &mut World, ns: NsId, owner: usize, key: TcpKey, data: &[u8]) {
        let data = k.kept(data);
        k.wake_later(ns, owner, Woken::Data(key, data))
    }

    fn tcp_eof(k: &mut World, ns: NsId, owner: usize, key: TcpKey) {
        k.wake_later(ns, owner, Woken::Eof(key))
    }

    fn tcp_failed(k: &mut World, ns: NsId, owner: usize, key: TcpKey, what: &str) {
        k.wake_later(ns, owner, Woken::Failed(key, what.to_string()))
    }

    fn timer(k: &mut World, owner: usize, tag: u32) {
        if tag == TAG_WAKE {
            return k.wake();
        }
        k.app_timer(owner, tag)
    }

    fn icmp_raw(k: &mut World, ns: NsId, owner: usize, from: Ipv4Addr, ttl: u8, icmp: &[u8]) {
        k.traceroute_icmp(ns, owner, from, ttl, icmp)
    }
}

#[cfg(test)]
mod tests {
    use super::WAKE;
    use crate::kernel::defaults::LINK_DELAY;

    /// The clock's words, where a reader meets them (the hop log's legend, the GUI's
    /// timeline, the README), give the times the simulator runs with.
    #[test]
    fn what_the_clock_means_names_the_times_in_use() {
        let crossing = format!("A veth crossing takes {} µs", LINK_DELAY.as_nanos() / 1_000);
        let wake = format!("a program runs {} µs after its socket has something for it", WAKE.as_nanos() / 1_000);
        let readme = include_str!("../../../README.md").split_whitespace().collect::<Vec<_>>().join(" ");
        for (what, text) in [("CLOCK_MEANS", crate::engine::CLOCK_MEANS), ("README.md", &readme)] {
            assert!(text.contains(&crossing) && text.contains(&wake), "{what}: {text}");
        }
    }
}
