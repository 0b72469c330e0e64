//! dockerd's `docker-proxy`: one process per published TCP port, in the host's namespace,
//! listening on the host port and relaying every connection it accepts to the container's
//! port over a connection of its own (libnetwork `cmd/proxy/tcp_proxy.go`, `clientLoop`).
//!
//! With the userland proxy on (dockerd's default), iptables DNATs what comes to a published
//! port from outside and from the host to its own non-loopback addresses, but leaves two
//! paths to the proxy: the host to `127.0.0.1:PORT` (the OUTPUT rule skips `127.0.0.0/8`),
//! and a container to its own bridge's gateway address (`-A DOCKER -i BRIDGE -j RETURN`,
//! skipDNAT). The container then sees the connection come from the gateway address, not
//! from the client: the proxy made it.
//!
//! Each direction is copied until its sender closes, then shut on the other side
//! (`broker`: `io.Copy`, `CloseRead`, `CloseWrite`). A container that refuses the proxy's
//! connection gets the client's connection closed after it was accepted (reset, when the
//! client had sent a request the proxy never read): not a refusal.

use std::net::Ipv4Addr;

use crate::kernel::NsId;
use crate::kernel::tcp::TcpKey;
use crate::userland::World;
use crate::userland::apps::AppKind;
use crate::userland::services::Stream;

/// One side of a relayed connection, as the proxy keeps it.
#[derive(Clone, Debug)]
pub enum Relay {
    /// The connection the proxy accepted; `back`, its connection to the container; what
    /// arrived before that connection was up, and whether the client has closed.
    Front { back: TcpKey, pending: Vec<u8>, eof: bool },
    /// The proxy's connection to the container, for the client's `front`; up yet, and has
    /// the container closed?
    Back { front: TcpKey, up: bool, eof: bool },
}

impl World {
    /// The proxy accepted `front`: it dials the container.
    pub(crate) fn proxy_accept(&mut self, ns: NsId, app: usize, front: TcpKey) {
        let AppKind::DockerProxy { target } = self.user.apps[app].kind else { return };
        match self.try_connect(ns, app, target, Vec::new(), false, None) {
            Ok(back) => {
                self.app_note(ns, || {
                    format!(
                        "docker-proxy: {}:{} → {}:{} accepted; relaying it over {}:{} → {}:{}",
                        front.remote.0,
                        front.remote.1,
                        front.local.0,
                        front.local.1,
                        back.local.0,
                        back.local.1,
                        target.0,
                        target.1
                    )
                });
                // Each side is shut when the other's sender closes, not when it reads EOF.
                self.tcp_hold(ns, front);
                self.tcp_hold(ns, back);
                self.user
                    .streams
                    .insert((ns, front), Stream::Proxy(Relay::Front { back, pending: Vec::new(), eof: false }));
                self.user.streams.insert((ns, back), Stream::Proxy(Relay::Back { front, up: false, eof: false }));
            }
            Err(what) => self.proxy_dial_failed(ns, front, target, &what),
        }
    }

    /// "Can't forward traffic to backend": the client's connection is closed, which resets
    /// it if the client has sent what the proxy never read (a request: curl's `(56)
    /// Recv failure`), else ends it with a FIN (curl's `(52) Empty reply from server`).
    fn proxy_dial_failed(&mut self, ns: NsId, front: TcpKey, (ip, port): (Ipv4Addr, u16), what: &str) {
        let unread = match self.user.streams.remove(&(ns, front)) {
            Some(Stream::Proxy(Relay::Front { pending, .. })) => !pending.is_empty(),
            _ => false,
        };
        self.app_log(ns, || format!("docker-proxy: can't forward traffic to backend tcp/{ip}:{port}: {what}"));
        if unread { self.tcp_abort(ns, front) } else { self.tcp_close(ns, front) }
    }

    /// A connection of the proxy's is up: the one to the container; what the client sent
    /// meanwhile follows, and its close.
    pub(crate) fn proxy_connected(&mut self, ns: NsId, back: TcpKey) {
        let Some(Stream::Proxy(Relay::Back { front, up, .. })) = self.user.streams.get_mut(&(ns, back)) else {
            return;
        };
        *up = true;
        let front = *front;
        let Some(Stream::Proxy(Relay::Front { pending, eof, .. })) = self.user.streams.get_mut(&(ns, front)) else {
            return;
        };
        let (data, eof) = (std::mem::take(pending), *eof);
        if !data.is_empty() || eof {
            self.tcp_write(ns, back, &data, eof);
        }
    }

    /// Bytes on one side go to the other: the client's wait, kept, while the container's
    /// side is not up yet.
    pub(crate) fn proxy_rx(&mut self, ns: NsId, key: TcpKey, data: &[u8]) {
        let to = match self.user.streams.get(&(ns, key)) {
            Some(Stream::Proxy(Relay::Front { back, .. })) if !self.proxy_back_up(ns, *back) => None,
            Some(Stream::Proxy(Relay::Front { back, .. })) => Some(*back),
            Some(Stream::Proxy(Relay::Back { front, .. })) => Some(*front),
            _ => return,
        };
        match to {
            Some(other) => self.tcp_write(ns, other, data, false),
            None => {
                if let Some(Stream::Proxy(Relay::Front { pending, .. })) = self.user.streams.get_mut(&(ns, key)) {
                    pending.extend_from_slice(data);
                }
            }
        }
    }

    fn proxy_back_up(&self, ns: NsId, back: TcpKey) -> bool {
        matches!(self.user.streams.get(&(ns, back)), Some(Stream::Proxy(Relay::Back { up: true, .. })))
    }

    /// One side closed: the copy its way is over, and the other side is shut for writing.
    /// Once both have closed the relay is done, and the kernel ends the two connections.
    pub(crate) fn proxy_eof(&mut self, ns: NsId, key: TcpKey) {
        let (front, back) = match self.user.streams.get_mut(&(ns, key)) {
            Some(Stream::Proxy(Relay::Front { back, eof, .. })) => {
                *eof = true;
                let back = *back;
                if self.proxy_back_up(ns, back) {
                    self.tcp_write(ns, back, &[], true);
                }
                (key, back)
            }
            Some(Stream::Proxy(Relay::Back { front, eof, .. })) => {
                *eof = true;
                let front = *front;
                self.tcp_write(ns, front, &[], true);
                (front, key)
            }
            _ => return,
        };
        let closed = |k| match self.user.streams.get(&(ns, k)) {
            Some(Stream::Proxy(Relay::Front { eof, .. } | Relay::Back { eof, .. })) => *eof,
            _ => true,
        };
        if closed(front) && closed(back) {
            self.user.streams.remove(&(ns, front));
            self.user.streams.remove(&(ns, back));
        }
    }

    /// The container refused (or never answered) the proxy's connection for `front`.
    pub(crate) fn proxy_failed(&mut self, ns: NsId, app: usize, front: TcpKey, what: &str) {
        let AppKind::DockerProxy { target } = self.user.apps[app].kind else { return };
        self.proxy_dial_failed(ns, front, target, &what.to_lowercase());
    }
}
