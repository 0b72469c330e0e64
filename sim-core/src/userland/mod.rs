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
}

impl Userland for Programs {
    fn udp_rx(k: &mut World, ns: NsId, owner: usize, from: (Ipv4Addr, u16), to: (Ipv4Addr, u16), data: &[u8]) {
        k.udp_rx(ns, owner, from, to, data)
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
        k.service_established(ns, owner, key)
    }

    fn tcp_connected(k: &mut World, ns: NsId, owner: usize, key: TcpKey) {
        k.plain_connected(ns, owner, key, None);
        k.service_connected(ns, owner, key)
    }

    fn tcp_data(k: &mut World, ns: NsId, owner: usize, key: TcpKey, data: &[u8]) {
        k.tcp_data(ns, owner, key, data)
    }

    fn tcp_eof(k: &mut World, ns: NsId, owner: usize, key: TcpKey) {
        // A plain program's one read, if nothing came before the FIN, returns 0.
        k.plain_read(ns, owner, key, &[]);
        k.service_eof(ns, owner, key)
    }

    fn tcp_failed(k: &mut World, ns: NsId, owner: usize, key: TcpKey, what: &str) {
        k.plain_connected(ns, owner, key, Some(what));
        k.service_failed(ns, owner, key, what)
    }

    fn timer(k: &mut World, owner: usize, tag: u32) {
        k.app_timer(owner, tag)
    }

    fn icmp_raw(k: &mut World, ns: NsId, owner: usize, from: Ipv4Addr, ttl: u8, icmp: &[u8]) {
        k.traceroute_icmp(ns, owner, from, ttl, icmp)
    }
}
