//! TCP as Linux 6.18 sends it (docs/linux-model.md, *TCP defaults*): the handshake with its
//! options, data within the peer's window and the congestion window, FIN and RST, SYN
//! retransmission with its doubling RTO, TIME_WAIT. What a connection receives goes to its
//! owner through `Userland`.

use std::net::Ipv4Addr;

use super::sock::{Errno, Userland};
use super::trace::{Local, Sent, Why};
use super::{DevId, Event, Kernel, NsId, defaults};
use crate::engine::SimTime;
use crate::wire::printable;
use crate::wire::{self, Ipv4Params, TcpRepr};

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
    /// Whom the kernel tells what arrives (`Userland`).
    pub owner: usize,
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
    pub ip_id: u16,
    pub rx_bytes: u64,
    pub syn_retries: u8,
    /// Our receive window in bytes, before scaling (Linux: 64240 active, 65160 passive).
    pub rcv_wnd: u32,
    /// An active opener closes only after the peer has answered (as curl does).
    pub await_reply: bool,
    /// The acknowledgement number the last segment sent carried: an ACK that is due goes
    /// with any segment, so none is sent on its own for what was acknowledged already
    /// (`tcp_event_ack_sent` clears the pending ACK).
    pub ack_sent: Option<u32>,
    /// When data last arrived (`icsk_ack.lrcvtime`): data sent within `ATO` of it is an
    /// answer, which counts towards interactive ("ping-pong") mode.
    pub lrcvtime: Option<SimTime>,
    /// Answers sent so far (`icsk_ack.pingpong`): from `PINGPONG_THRESH` on, data is
    /// acknowledged with a delay (the answer usually carries the ACK), before that at once.
    pub pingpong: u8,
    /// The delayed-ACK timer is running.
    pub delack: bool,
}

/// Linux's TCP defaults as a current kernel sends them (docs/linux-model.md, *TCP defaults*).
const WSCALE: u8 = 10;
/// The receive space a new socket offers (`tcp_rmem[1]` 131072 with `tcp_adv_win_scale` 1).
const RCV_SPACE: u32 = 65536;
/// The timestamp option's 12 bytes, which a SYN-ACK's window leaves out of the MSS.
const TCPOLEN_TSTAMP_ALIGNED: u16 = 12;

/// The window a SYN or SYN-ACK offers (`tcp_select_initial_window`): the receive space
/// rounded down to whole segments, at most 65535 (the window field before scaling). 64240
/// (44 × 1460) on a SYN over Ethernet, 65160 (45 × 1448) on its SYN-ACK, 65495 and 65483
/// over lo (MSS 65495).
fn initial_window(mss: u16) -> u32 {
    let mss = u32::from(mss).max(1);
    let space = if RCV_SPACE > mss { RCV_SPACE / mss * mss } else { RCV_SPACE };
    space.min(u32::from(u16::MAX))
}

/// The window once established: the initial one rounded up to the window scale
/// (`tcp_select_window`'s ALIGN), so 64240 is advertised as 63 × 1024 and 65160 as 64 × 1024.
fn established_window(initial: u32) -> u32 {
    initial.div_ceil(1 << WSCALE) << WSCALE
}
const INIT_CWND: u32 = 10;
const SYN_RETRIES: u8 = 6;
const TCP_FIN_TIMEOUT: SimTime = SimTime::from_secs(60);
/// The delayed-ACK timeout (`TCP_ATO_MIN`, HZ/25, include/net/tcp.h) and the answers after
/// which a connection is interactive (`TCP_PINGPONG_THRESH`, include/net/inet_connection_sock.h).
/// The kernel's captures agree with a threshold of one: each side's first data is ACKed at
/// once, and once a side has answered within `ATO`, its next answer carries the ACK
/// (`traces/kernel/docker/webapp-mysql-bridge.pcapng`, the MySQL conversations;
/// `traces/kernel/linux/bridge-two-namespaces.pcapng`, HTTP).
const ATO: SimTime = SimTime::from_millis(40);
const PINGPONG_THRESH: u8 = 1;

impl<U: Userland> Kernel<U> {
    /// connect(2) for `owner` to `dst:dport`: a local port as Linux picks one, the SYN sent.
    /// `data` is queued to go once the connection is up; with `close`, a FIN follows it after
    /// the peer has answered.
    pub fn tcp_connect(
        &mut self,
        ns: NsId,
        owner: usize,
        (dst, dport): (Ipv4Addr, u16),
        data: Vec<u8>,
        close: bool,
    ) -> Result<TcpKey, Errno> {
        let Some((_, src)) = self.route_output(ns, dst, None) else { return Err(Errno::ENETUNREACH) };
        // __inet_hash_connect: a port whose 4-tuple is still in use (TIME_WAIT included) is
        // skipped.
        let taken =
            |w: &Kernel<U>, p: u16| w.netns(ns).tcp.contains_key(&TcpKey { local: (src, p), remote: (dst, dport) });
        let Some(sport) = self.free_ephemeral_port(taken) else { return Err(Errno::EADDRNOTAVAIL) };
        let key = TcpKey { local: (src, sport), remote: (dst, dport) };
        let iss = self.rng.next_u32();
        let conn = TcpConn {
            state: TcpState::SynSent,
            owner,
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
            ip_id: self.rng.next_u32() as u16,
            rx_bytes: 0,
            syn_retries: 0,
            rcv_wnd: initial_window(self.tcp_mss(ns, dst)),
            await_reply: true,
            ack_sent: None,
            lrcvtime: None,
            pingpong: 0,
            delack: false,
        };
        self.netns_mut(ns).tcp.insert(key, conn);
        self.app_log(ns, || format!("tcp connect {src}:{sport} → {dst}:{dport}"));
        self.tcp_send_syn(ns, key);
        Ok(key)
    }

    fn tcp_send_syn(&mut self, ns: NsId, key: TcpKey) {
        let Some(c) = self.netns(ns).tcp.get(&key) else { return };
        let t = TcpRepr {
            sport: key.local.1,
            dport: key.remote.1,
            seq: c.iss,
            syn: true,
            window: c.rcv_wnd as u16,
            mss: Some(self.tcp_mss(ns, key.remote.0)),
            sack_perm: true,
            ts: Some((self.tcp_ts(c), 0)),
            wscale: Some(WSCALE),
            ..Default::default()
        };
        let tries = c.syn_retries;
        // RTO starts at 1 s and doubles (tcp_syn_retries = 6).
        self.schedule(SimTime::from_secs(1 << tries), Event::TcpSyn { ns, key, tries });
        self.tcp_emit(ns, key, &t, &[]);
    }

    /// The SYN's retransmission timer: `tries` is how many retransmissions had been sent when
    /// it was armed; a connection that has moved on since ignores it.
    pub(crate) fn tcp_syn_timer(&mut self, ns: NsId, key: TcpKey, tries: u8) {
        if self.netns(ns).dead {
            return;
        }
        let Some(c) = self.netns(ns).tcp.get(&key) else { return };
        if c.state != TcpState::SynSent || c.syn_retries != tries {
            return;
        }
        let owner = c.owner;
        if tries >= SYN_RETRIES {
            self.netns_mut(ns).tcp.remove(&key);
            self.app_log(ns, || format!("tcp connect to {}:{}: Connection timed out", key.remote.0, key.remote.1));
            U::tcp_failed(self, ns, owner, key, "Connection timed out");
            return;
        }
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            c.syn_retries += 1;
        }
        self.note(|| Why::Sent(Sent::SynRetransmit));
        self.tcp_send_syn(ns, key);
    }

    fn tcp_mss(&self, ns: NsId, dst: Ipv4Addr) -> u16 {
        let mtu = match self.route_output(ns, dst, None) {
            Some((crate::kernel::l3::OutRoute::Main(i), _)) => self.dev(self.netns(ns).routes[i].dev).mtu,
            // The local table's route: lo's MTU (65536), so MSS 65495 to a local address.
            Some((crate::kernel::l3::OutRoute::Local(lo), _)) => self.dev(lo).mtu,
            None => defaults::MTU,
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
                if t.ackf {
                    c.ack_sent = Some(t.ack);
                }
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
            w.note(|| Why::Local(Local::TcpSegmentSent { state, bytes: payload.len(), to: key.remote }));
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

    /// write(2) on a connection: queues `data` and sends what the windows allow; with `close`,
    /// shutdown(2) follows once it is all sent.
    pub fn tcp_write(&mut self, ns: NsId, key: TcpKey, data: &[u8], close: bool) {
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            c.sndbuf.extend_from_slice(data);
            c.close_when_done |= close;
            c.await_reply = false;
        }
        self.tcp_output(ns, key, false);
    }

    /// Queues `data` without sending now: it leaves with the kernel's next segment on the
    /// connection (the ACK of what woke the program, or once the handshake completes).
    pub fn tcp_queue(&mut self, ns: NsId, key: TcpKey, data: &[u8], close: bool) {
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            c.sndbuf.extend_from_slice(data);
            c.close_when_done |= close;
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
            let now = self.now;
            if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
                c.sent += n;
                c.snd_nxt = c.snd_nxt.wrapping_add(n as u32);
                // tcp_event_data_sent: an answer within ATO of the last data received.
                if c.lrcvtime.is_some_and(|t| now < t + ATO) {
                    c.pingpong = c.pingpong.saturating_add(1);
                }
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
        if must_ack && c.ack_sent != Some(c.rcv_nxt) {
            let t = self.tcp_segment(c, key);
            self.tcp_emit(ns, key, &t, &[]);
        }
    }

    fn tcp_send_rst(&mut self, ns: NsId, info: &wire::Ipv4Info, seg: &TcpRepr, len: u32) {
        let Some((rt, _)) = self.route_output(ns, info.src, None) else { return };
        let f = reset_reply(info, seg, len);
        let dport = seg.dport;
        self.originate(|w| {
            w.note(|| Why::Local(Local::TcpResetNoSocket { dport }));
            w.ip_output(ns, f, rt, None);
        });
    }

    pub(crate) fn tcp_rcv(&mut self, ns: NsId, dev: DevId, info: &wire::Ipv4Info, ip: &[u8]) {
        let Some((seg, payload)) = wire::parse_tcp(&ip[info.ihl..info.total_len]) else {
            return self.deliver_note(ns, dev, Local::TcpMalformed);
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
                && let Some(&owner) = self.netns(ns).tcp_listen.get(&seg.dport)
            {
                self.deliver_note(ns, dev, Local::TcpSynForListener { dport: seg.dport });
                return self.tcp_accept(ns, owner, key, &seg);
            }
            if seg.rst {
                return self.deliver_note(ns, dev, Local::TcpResetIgnored);
            }
            self.deliver_note(ns, dev, Local::TcpNoSocket { dport: seg.dport });
            return self.tcp_send_rst(ns, info, &seg, len);
        }
        self.deliver_note(ns, dev, Local::TcpForConnection { local: key.local, remote: key.remote });
        self.tcp_input(ns, key, &seg, payload);
    }

    fn tcp_accept(&mut self, ns: NsId, owner: usize, key: TcpKey, syn: &TcpRepr) {
        let iss = self.rng.next_u32();
        let c = TcpConn {
            state: TcpState::SynRecv,
            owner,
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
            ip_id: self.rng.next_u32() as u16,
            rx_bytes: 0,
            syn_retries: 0,
            rcv_wnd: initial_window(
                self.tcp_mss(ns, key.remote.0) - if syn.ts.is_some() { TCPOLEN_TSTAMP_ALIGNED } else { 0 },
            ),
            await_reply: false,
            ack_sent: None,
            lrcvtime: None,
            pingpong: 0,
            delack: false,
        };
        let t = TcpRepr {
            sport: key.local.1,
            dport: key.remote.1,
            seq: iss,
            ack: c.rcv_nxt,
            syn: true,
            ackf: true,
            window: c.rcv_wnd as u16,
            mss: Some(self.tcp_mss(ns, key.remote.0)),
            sack_perm: syn.sack_perm,
            ts: c.ts_ok.then(|| (self.tcp_ts(&c), c.ts_recent)),
            wscale: syn.wscale.map(|_| WSCALE),
            ..Default::default()
        };
        let ip_id = c.ip_id;
        self.netns_mut(ns).tcp.insert(key, c);
        U::tcp_accepted(self, ns, owner, key);
        // The SYN-ACK leaves before a full socket exists: IP ID 0, as this kernel sends it.
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            c.ip_id = u16::MAX;
        }
        self.tcp_emit(ns, key, &t, &[]);
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            c.ip_id = ip_id;
        }
    }

    /// A bare ACK of all received so far (`tcp_send_ack`).
    fn tcp_send_ack(&mut self, ns: NsId, key: TcpKey) {
        let Some(c) = self.netns(ns).tcp.get(&key) else { return };
        let t = self.tcp_segment(c, key);
        self.tcp_emit(ns, key, &t, &[]);
    }

    /// Starts the delayed-ACK timer unless it runs (`inet_csk_reset_xmit_timer(ICSK_TIME_DACK)`).
    fn tcp_delack_arm(&mut self, ns: NsId, key: TcpKey) {
        let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) else { return };
        if !std::mem::replace(&mut c.delack, true) {
            self.schedule(ATO, Event::TcpDelAck { ns, key });
        }
    }

    /// The delayed-ACK timer (`tcp_delack_timer_handler`): the ACK no answer carried goes now,
    /// and a connection that was interactive is no longer.
    pub(crate) fn tcp_delack_timer(&mut self, ns: NsId, key: TcpKey) {
        let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) else { return };
        c.delack = false;
        if c.ack_sent == Some(c.rcv_nxt) {
            return;
        }
        c.pingpong = 0;
        self.tcp_send_ack(ns, key);
    }

    fn tcp_input(&mut self, ns: NsId, key: TcpKey, seg: &TcpRepr, payload: &[u8]) {
        let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) else { return };
        let owner = c.owner;
        if seg.rst {
            let st = c.state;
            self.netns_mut(ns).tcp.remove(&key);
            let what = if st == TcpState::SynSent { "Connection refused" } else { "Connection reset by peer" };
            self.app_log(ns, || {
                format!("tcp {}:{} → {}:{}: {what}", key.local.0, key.local.1, key.remote.0, key.remote.1)
            });
            U::tcp_failed(self, ns, owner, key, what);
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
            c.rcv_wnd = established_window(c.rcv_wnd);
            c.snd_una = seg.ack;
            c.rcv_nxt = seg.seq.wrapping_add(1);
            c.peer_wscale = seg.wscale.unwrap_or(0);
            c.peer_wnd = seg.window as u32;
            c.peer_mss = seg.mss.unwrap_or(536);
            c.ts_ok = seg.ts.is_some();
            self.app_log(ns, || {
                format!("tcp {}:{} → {}:{}: connected", key.local.0, key.local.1, key.remote.0, key.remote.1)
            });
            // The handshake's last ACK goes by itself (tcp_send_ack from
            // tcp_rcv_synsent_state_process); what the program wrote follows once connect()
            // has returned.
            self.tcp_send_ack(ns, key);
            return self.tcp_output(ns, key, false);
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
                    c.rcv_wnd = established_window(c.rcv_wnd);
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
        let now = self.now;
        let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) else { return };
        let mut must_ack = false;
        let mut quick_ack = false;
        let mut delay_ack = false;
        let mut got = Vec::new();
        if !payload.is_empty() {
            if seg.seq == c.rcv_nxt {
                c.rcv_nxt = c.rcv_nxt.wrapping_add(payload.len() as u32);
                c.rx_bytes += payload.len() as u64;
                c.lrcvtime = Some(now);
                got = payload.to_vec();
                // __tcp_ack_snd_check: at once in quick-ACK mode, else with a delay that an
                // answer written meanwhile ends by carrying the ACK.
                if c.pingpong < PINGPONG_THRESH {
                    quick_ack = true;
                } else {
                    delay_ack = true;
                }
            } else {
                // Out of order or a repeat: a duplicate ACK at once.
                must_ack = true;
            }
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
        if quick_ack && !peer_closed {
            self.tcp_send_ack(ns, key);
        }
        if delay_ack {
            self.tcp_delack_arm(ns, key);
        }
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
            U::tcp_data(self, ns, owner, key, &got);
        }
        if peer_closed {
            self.app_log(ns, || format!("tcp {}:{}: peer closed (FIN)", key.local.0, key.local.1));
            U::tcp_eof(self, ns, owner, key);
            // Our apps close as soon as they read EOF.
            if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
                c.close_when_done = true;
            }
            if state == TcpState::TimeWait {
                self.tcp_send_ack(ns, key);
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
                return self.tcp_send_ack(ns, key);
            }
        }
        self.tcp_output(ns, key, must_ack);
    }
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
