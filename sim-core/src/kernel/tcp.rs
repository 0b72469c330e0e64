//! TCP as Linux 6.18 sends it (docs/linux-model.md, *TCP defaults*, *When TCP sends again*,
//! *Fragments and the path MTU*): the handshake with its options, data within the peer's
//! window and the congestion window, FIN and RST, TIME_WAIT; SYN, SYN-ACK, data and FIN sent
//! again when the retransmission timer expires, an out-of-order queue answered with SACK, a
//! segment sent again at once when the peer's SACK shows it lost, segments cut again to a
//! smaller path MTU. What a connection receives goes to its owner through `Userland`.

use std::net::Ipv4Addr;

use super::rcvbuf::{self, RcvBuf};
use super::sock::{Errno, Userland};
use super::trace::{Local, Sent, Why};
use super::wheel::{self, Armed, Entry, JIFFY};
use super::{DevId, Event, Kernel, NsId, defaults};
use crate::engine::SimTime;
use crate::wire::printable;
use crate::wire::{self, Ipv4Params, TcpRepr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TcpKey {
    pub local: (Ipv4Addr, u16),
    pub remote: (Ipv4Addr, u16),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// The TTL of what it sends (`IP_TTL`; the namespace's default, 64, unless set).
    pub ttl: u8,
    pub fin_sent: bool,
    pub ip_id: u16,
    pub rx_bytes: u64,
    pub syn_retries: u8,
    /// The program closes the socket if the handshake is not done by then (a connect with a
    /// timeout of its own): the SYN timer that fires later sends nothing more.
    pub give_up_at: Option<SimTime>,
    /// Our receive buffer and the window it lets us offer (64240 in a SYN, 65160 in a
    /// SYN-ACK, then growing as data arrives).
    pub rcv: RcvBuf,
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
    /// The highest sequence number sent (`snd_nxt` goes back to `snd_una` when the RTO
    /// fires, and the segments after it are sent again).
    pub snd_max: u32,
    pub rtx: Rtx,
    /// Segments that arrived after a gap, kept until it is filled (`out_of_order_queue`):
    /// sequence number, data, FIN.
    pub ofo: Vec<(u32, Vec<u8>, bool)>,
    /// A passive opener's SYN-ACK options, as the SYN offered them (SACK, window scaling).
    pub synack_opts: (bool, bool),
    /// Both ends offered SACK: ACKs carry blocks for what arrived beyond a gap or again.
    pub sack_ok: bool,
    /// What is held beyond the gaps, as the SACK blocks name it (`selective_acks`): at most
    /// four, the one the latest segment extended or started first.
    pub sacks: Vec<(u32, u32)>,
    /// A repeat that arrived, for the next ACK's D-SACK block (RFC 2883), sent once.
    pub dsack: Option<(u32, u32)>,
    /// Loss recovery (`TCP_CA_Recovery` up to `high_seq`): segments the peer's SACK showed
    /// lost are being sent again, until `snd_una` passes this point.
    pub recovery: Option<u32>,
    /// The segments in flight as they were cut and sent, with what the peer's SACK blocks said
    /// of them (the retransmission queue's skbs and their `sacked` bits): a smaller path MTU
    /// sends again only those now too big, and a SACK sends again those it shows lost.
    pub segs: Vec<Seg>,
    /// The most recently sent segment known delivered, by ACK or SACK (RACK's `rack.mstamp`
    /// and `rack.end_seq`, net/ipv4/tcp_recovery.c): when it left and where it ends.
    pub rack: Option<(SimTime, u32)>,
    /// The path MTU the segments were cut for, once a "fragmentation needed" lowered it
    /// (`icsk_pmtu_cookie`): a second ICMP with the same MTU changes nothing.
    pub pmtu_cookie: Option<u32>,
    /// The program keeps the connection open after reading EOF (`tcp_hold`): it shuts its
    /// own side when it chooses. The others close as soon as they read it.
    pub held: bool,
    /// What the program gave `tcp_connect`, or queued at the SYN (`tcp_accepted`: a server
    /// that speaks first), waits until connect(2) or accept(2) has returned to it
    /// (`tcp_uncork`): a program writes only once it runs again after the handshake, so the
    /// handshake's ACK leaves first and its request or greeting a program's wake-up later.
    pub corked: bool,
    /// An ACK showed the path works: the next segment sent confirms the neighbour
    /// (`sk_dst_pending_confirm`).
    pub dst_pending_confirm: bool,
}

/// A segment in flight (an skb of `tcp_rtx_queue`) and its scoreboard bits.
#[derive(Clone, Copy, Debug)]
pub struct Seg {
    pub seq: u32,
    pub len: u32,
    pub fin: bool,
    /// It carried PSH, and carries it again when resent.
    pub psh: bool,
    /// When it last left (`skb_mstamp_ns`).
    pub sent: SimTime,
    /// A SACK block covered it (`TCPCB_SACKED_ACKED`).
    pub sacked: bool,
    /// Taken as lost and not yet sent again (`TCPCB_LOST`).
    pub lost: bool,
    /// It has been sent again (`TCPCB_RETRANS`).
    pub retrans: bool,
}

impl Seg {
    fn new(seq: u32, len: u32, sent: SimTime) -> Seg {
        Seg { seq, len, fin: false, psh: false, sent, sacked: false, lost: false, retrans: false }
    }

    /// Whether its delivery, seen `now`, moves RACK's clock (`tcp_rack_advance`): a segment
    /// sent again and acknowledged sooner than the smallest round trip may have been
    /// acknowledged for its first copy, and does not.
    fn advances_rack(&self, now: SimTime, min_rtt: Option<SimTime>) -> bool {
        !(self.retrans && min_rtt.is_some_and(|m| now - self.sent < m))
    }

    /// The sequence number after it (the FIN takes one).
    fn end(&self) -> u32 {
        self.seq.wrapping_add(self.len + self.fin as u32)
    }
}

/// `tcp_skb_sent_after` (include/net/tcp.h): what left at `t1` and ends at `e1` was sent after
/// what left at `t2` and ends at `e2`; in the same instant, the later in sequence.
fn sent_after((t1, e1): (SimTime, u32), (t2, e2): (SimTime, u32)) -> bool {
    t1 > t2 || (t1 == t2 && after(e1, e2))
}

/// The duplicate-ACK threshold RACK falls back on (`net.ipv4.tcp_reordering`, 3): once that
/// many segments are SACKed, or in recovery, a segment sent before one that was delivered is
/// lost at once (`tcp_rack_reo_wnd` returns 0).
const TCP_REORDERING: usize = 3;

/// The retransmission timer and what sets it (RFC 6298 with Linux's bounds,
/// net/ipv4/tcp_input.c `tcp_rtt_estimator`, tcp_timer.c `tcp_retransmit_timer`).
#[derive(Clone, Debug)]
pub struct Rtx {
    /// The smoothed round-trip time and its variation, once measured.
    pub srtt: Option<SimTime>,
    pub rttvar: SimTime,
    /// The timeout the timer runs with now (doubled at each expiry), in whole jiffies as
    /// the kernel keeps it (`icsk_rto`).
    pub rto: SimTime,
    /// The jiffy the RTO is due at, while it runs (`icsk_timeout`).
    pub deadline: Option<u64>,
    /// The kernel timer behind the RTO, the SYN's and SYN-ACK's timers and the tail loss
    /// probe (`icsk_retransmit_timer`) while it sits in the timer wheel. Like the kernel's, it
    /// stays there when nothing is outstanding any more and fires to no effect.
    pub timer: Option<Armed>,
    /// Expiries since data was last acknowledged (`icsk_retransmits`).
    pub retries: u8,
    /// The segment being timed: the sequence number that acknowledges it and when it left.
    /// Dropped when anything is sent again (Karn's rule: a retransmitted segment's ACK is
    /// ambiguous).
    pub probe: Option<(u32, SimTime)>,
    /// The smallest round trip measured (`tcp_min_rtt`), which sets RACK's reordering window.
    pub min_rtt: Option<SimTime>,
    /// The jiffy the tail loss probe is due at, while it is the timer that runs
    /// (`ICSK_TIME_LOSS_PROBE`: it takes the retransmission timer's place, never later than
    /// the RTO would fire).
    pub tlp: Option<u64>,
    /// A probe was sent and `snd_nxt` was this (`tlp_high_seq`): no other until it is
    /// acknowledged.
    pub tlp_high: Option<u32>,
    /// The RTO fired and what was sent before is being sent again (`TCP_CA_Loss`), up to here.
    pub loss: Option<u32>,
}

impl Default for Rtx {
    fn default() -> Rtx {
        Rtx {
            srtt: None,
            rttvar: SimTime::ZERO,
            rto: TCP_TIMEOUT_INIT,
            deadline: None,
            timer: None,
            retries: 0,
            probe: None,
            min_rtt: None,
            tlp: None,
            tlp_high: None,
            loss: None,
        }
    }
}

impl Rtx {
    /// A round-trip sample (RFC 6298 2.2-2.3); the RTO is the smoothed time plus four times its
    /// variation but at least `TCP_RTO_MIN` more (Linux floors the variation term, so a path of
    /// microseconds still waits 200 ms), at most `TCP_RTO_MAX`.
    fn sample(&mut self, r: SimTime) {
        let r = r.as_nanos();
        let (srtt, rttvar) = match self.srtt {
            None => (r, r / 2),
            Some(s) => {
                let s = s.as_nanos();
                let var = (3 * self.rttvar.as_nanos() + s.abs_diff(r)) / 4;
                ((7 * s + r) / 8, var)
            }
        };
        self.srtt = Some(SimTime::from_nanos(srtt));
        self.rttvar = SimTime::from_nanos(rttvar);
        let r = SimTime::from_nanos(r);
        self.min_rtt = Some(self.min_rtt.map_or(r, |m| m.min(r)));
        self.rto = self.computed();
    }

    /// In whole jiffies, rounded up (`__tcp_set_rto`: `usecs_to_jiffies`): 200 ms and a round
    /// trip of microseconds make 51 jiffies, 204 ms; each expiry doubles that.
    fn computed(&self) -> SimTime {
        match self.srtt {
            None => TCP_TIMEOUT_INIT,
            Some(s) => {
                let var = (4 * self.rttvar.as_nanos()).max(TCP_RTO_MIN.as_nanos());
                let rto = wheel::to_jiffies(SimTime::from_nanos(s.as_nanos() + var));
                SimTime::from_nanos(rto * JIFFY.as_nanos()).min(TCP_RTO_MAX)
            }
        }
    }
}

/// `after(a, b)` of include/net/tcp.h: `a` is later than `b` in sequence space.
fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// `tcp_sack_extend` (net/ipv4/tcp_input.c): `seq..end` touches or overlaps the block, which
/// grows to cover both.
fn sack_extend(b: &mut (u32, u32), seq: u32, end: u32) -> bool {
    if after(seq, b.1) || after(b.0, end) {
        return false;
    }
    if after(b.0, seq) {
        b.0 = seq;
    }
    if after(end, b.1) {
        b.1 = end;
    }
    true
}

/// The receiver's SACK blocks after `seq..end` joined the out-of-order queue
/// (`tcp_sack_new_ofo_skb`, net/ipv4/tcp_input.c; RFC 2018 section 4: the first block names
/// the most recently received segment): the block it extends moves to the front and swallows
/// any other it now meets (`tcp_sack_maybe_coalesce`); else a new block goes in front, and
/// the oldest falls off past four (`TCP_NUM_SACKS`).
fn sack_new_ofo(sacks: &mut Vec<(u32, u32)>, seq: u32, end: u32) {
    if let Some(i) = sacks.iter_mut().position(|b| sack_extend(b, seq, end)) {
        let b = sacks.remove(i);
        sacks.insert(0, b);
        let mut j = 1;
        while j < sacks.len() {
            let (s, e) = sacks[j];
            if sack_extend(&mut sacks[0], s, e) {
                sacks.remove(j);
            } else {
                j += 1;
            }
        }
        return;
    }
    sacks.truncate(TCP_NUM_SACKS - 1);
    sacks.insert(0, (seq, end));
}

/// The memory the out-of-order queue holds, one segment (an skb) per entry.
fn ofo_truesize(ofo: &[(u32, Vec<u8>, bool)]) -> u32 {
    ofo.iter().map(|(_, data, _)| rcvbuf::truesize(data.len())).sum()
}

/// How many SACK blocks a receiver keeps (include/linux/tcp.h `TCP_NUM_SACKS`).
const TCP_NUM_SACKS: usize = 4;

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

const INIT_CWND: u32 = 10;
/// The RTO before any round trip was measured, its floor and its ceiling
/// (include/net/tcp.h `TCP_TIMEOUT_INIT`, `TCP_RTO_MIN`, `TCP_RTO_MAX`), and how many
/// expiries a connection survives (`net.ipv4.tcp_retries2`, 15: about 15 minutes).
const TCP_TIMEOUT_INIT: SimTime = SimTime::from_secs(1);
const TCP_RTO_MIN: SimTime = SimTime::from_millis(200);
const TCP_RTO_MAX: SimTime = SimTime::from_secs(120);
/// What a tail loss probe waits beyond two round trips when more than one segment is out
/// (include/net/tcp.h `TCP_TIMEOUT_MIN_US`, 2 ms); with one out it waits `TCP_RTO_MIN` more,
/// time for a delayed ACK.
const TCP_TIMEOUT_MIN: SimTime = SimTime::from_millis(2);
const TCP_RETRIES2: u8 = 15;
/// How often a SYN-ACK is sent again (`net.ipv4.tcp_synack_retries`).
const TCP_SYNACK_RETRIES: u8 = 5;
const SYN_RETRIES: u8 = 6;
/// How many of a SYN's retransmissions wait the initial timeout again instead of doubling it
/// (`net.ipv4.tcp_syn_linear_timeouts`, 4 since Linux 6.5: `tcp_retransmit_timer` doubles
/// only once `total_rto` exceeds it).
const TCP_SYN_LINEAR_TIMEOUTS: u8 = 4;

/// The SYN timer after `tries` retransmissions: 1 s for the first SYN and the first four
/// retransmissions, then doubling up to `TCP_RTO_MAX`.
fn syn_rto(tries: u8) -> SimTime {
    match tries.checked_sub(TCP_SYN_LINEAR_TIMEOUTS) {
        None | Some(0) => TCP_TIMEOUT_INIT,
        Some(k) => SimTime::from_nanos(TCP_TIMEOUT_INIT.as_nanos() << k.min(7)).min(TCP_RTO_MAX),
    }
}

/// A connect gives up when its SYN timer fires this long after the first SYN
/// (`retransmits_timed_out`: `tcp_model_timeout` of `tcp_syn_retries` doublings of 1 s,
/// (2^7 - 1) s), not after a count: with the linear start Linux 6.18 sends SYNs at 0, 1, 2,
/// 3, 4, 5, 7, 11, 19, 35 and 67 s and fails at 131 s (seen on this kernel: 133.3 s, its
/// timers running late).
const SYN_TIMEOUT: SimTime = SimTime::from_secs((2 << SYN_RETRIES) - 1);

/// A round trip timed by the timestamp the peer echoes (`tcp_rtt_tsopt_us`), where Karn's
/// rule forbids timing a segment sent again: in whole milliseconds of the timestamp clock, at
/// least one. Linux takes it after a SYN or SYN-ACK went again, so a connection whose
/// handshake lost a packet still has a 200 ms retransmission timeout, not the initial 1 s.
fn ts_rtt(now: SimTime, c: &TcpConn, ts: Option<(u32, u32)>) -> Option<SimTime> {
    let (_, ecr) = ts.filter(|(_, ecr)| c.ts_ok && *ecr != 0)?;
    let mine = ((now.as_nanos() / 1_000_000) as u32).wrapping_add(c.ts_offset);
    let ms = mine.wrapping_sub(ecr);
    (ms < 1 << 30).then(|| SimTime::from_millis(u64::from(ms.max(1))))
}

/// How long after the first SYN the timer armed after `tries` retransmissions fires.
fn syn_elapsed(tries: u8) -> SimTime {
    (0..=tries).fold(SimTime::ZERO, |t, k| t + syn_rto(k))
}
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
    /// the peer has answered. `ttl` is the socket's `IP_TTL`, if set.
    pub fn tcp_connect(
        &mut self,
        ns: NsId,
        owner: usize,
        (dst, dport): (Ipv4Addr, u16),
        data: Vec<u8>,
        close: bool,
        ttl: Option<u8>,
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
            give_up_at: None,
            rcv: RcvBuf::new(initial_window(self.tcp_mss(ns, dst))),
            await_reply: true,
            ack_sent: None,
            lrcvtime: None,
            pingpong: 0,
            delack: false,
            snd_max: iss.wrapping_add(1),
            rtx: Rtx::default(),
            ofo: Vec::new(),
            synack_opts: (true, true),
            sack_ok: false,
            sacks: Vec::new(),
            dsack: None,
            recovery: None,
            segs: Vec::new(),
            rack: None,
            pmtu_cookie: None,
            held: false,
            corked: true,
            dst_pending_confirm: false,
            ttl: ttl.unwrap_or(defaults::TTL),
        };
        self.netns_mut(ns).tcp.insert(key, conn);
        self.app_note(ns, || format!("tcp connect {src}:{sport} → {dst}:{dport}"));
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
            window: c.rcv.wnd as u16,
            mss: Some(self.tcp_mss(ns, key.remote.0)),
            sack_perm: true,
            ts: Some((self.tcp_ts(c), 0)),
            wscale: Some(WSCALE),
            ..Default::default()
        };
        let tries = c.syn_retries;
        let (first, now) = (tries == 0, self.now);
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            // The handshake gives the first round-trip sample, unless the SYN went again.
            c.rtx.probe = first.then_some((c.iss.wrapping_add(1), now));
        }
        let expires = wheel::jiffies(now) + wheel::to_jiffies(syn_rto(tries));
        self.tcp_timer_mod(ns, key, expires);
        self.tcp_emit(ns, key, &t, &[]);
    }

    /// The SYN's retransmission timer, on the connection's retransmission timer
    /// (`tcp_retransmit_timer` in SYN_SENT).
    fn tcp_syn_timer(&mut self, ns: NsId, key: TcpKey) {
        let Some(c) = self.netns(ns).tcp.get(&key) else { return };
        let (owner, tries) = (c.owner, c.syn_retries);
        if c.give_up_at.is_some_and(|t| self.now >= t) {
            self.netns_mut(ns).tcp.remove(&key);
            let ((l, lp), (r, rp)) = (key.local, key.remote);
            self.app_note(ns, || format!("tcp {l}:{lp} → {r}:{rp}: Connection timed out"));
            U::tcp_failed(self, ns, owner, key, "Connection timed out");
            return;
        }
        if syn_elapsed(tries) >= SYN_TIMEOUT {
            self.netns_mut(ns).tcp.remove(&key);
            self.app_note(ns, || format!("tcp connect to {}:{}: Connection timed out", key.remote.0, key.remote.1));
            U::tcp_failed(self, ns, owner, key, "Connection timed out");
            return;
        }
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            c.syn_retries += 1;
        }
        self.resend(Sent::SynRetransmit);
        self.tcp_send_syn(ns, key);
        self.resent = None;
    }

    /// The MSS a SYN announces: the route's device MTU less 40 (to a local address lo's
    /// 65536, so 65495).
    fn tcp_mss(&self, ns: NsId, dst: Ipv4Addr) -> u16 {
        let mtu = self.route_output(ns, dst, None).map_or(defaults::MTU, |(rt, _)| self.dev(self.out_dev(ns, rt)).mtu);
        mtu.clamp(68, 65535).saturating_sub(40) as u16
    }

    /// The payload a segment carries at most (`tcp_current_mss`): the path MTU (lowered by a
    /// "fragmentation needed", `path_mtu_until`) less the IP and TCP headers, at most what the peer
    /// announced, less the timestamps' 12 bytes when they are on (1448 over Ethernet).
    fn tcp_send_mss(&self, ns: NsId, key: TcpKey, c: &TcpConn) -> usize {
        let dst = key.remote.0;
        let mtu = self.route_output(ns, dst, None).map_or(defaults::MTU, |(rt, _)| self.route_mtu(ns, rt, dst));
        let path = mtu.clamp(68, 65535).saturating_sub(40) as u16;
        let ts = if c.ts_ok { TCPOLEN_TSTAMP_ALIGNED } else { 0 };
        usize::from(c.peer_mss.min(path).saturating_sub(ts).max(8))
    }

    /// A "fragmentation needed" about a segment in flight (`tcp_v4_mtu_reduced`): the path
    /// MTU is lower already (`update_pmtu`), so what is unacknowledged is cut to the new size
    /// and sent again at once (`tcp_simple_retransmit`), without the RTO's back-off.
    pub(crate) fn tcp_mtu_reduced(&mut self, ns: NsId, key: TcpKey, mtu: u32) {
        let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) else { return };
        if !matches!(c.state, TcpState::Established | TcpState::CloseWait) || c.pmtu_cookie.is_some_and(|m| m <= mtu) {
            return;
        }
        c.pmtu_cookie = Some(mtu);
        let Some(c) = self.netns(ns).tcp.get(&key) else { return };
        let mss = self.tcp_send_mss(ns, key, c) as u32;
        // From the first unacknowledged byte to the end of the last segment now too big.
        let Some(end) = c.segs.iter().rev().find(|s| s.len > mss).map(|s| s.seq.wrapping_add(s.len)) else {
            return;
        };
        let (una, ack) = (c.snd_una, c.rcv_nxt);
        let mut at = una;
        while after(end, at) {
            let Some(c) = self.netns(ns).tcp.get(&key) else { return };
            let off = at.wrapping_sub(una) as usize;
            let n = (end.wrapping_sub(at)).min(mss) as usize;
            let Some(payload) = c.sndbuf.get(off..off + n).map(<[u8]>::to_vec) else { return };
            let mut t = self.tcp_segment(c, key);
            // The last piece carries PSH, as the kernel's capture shows it.
            (t.seq, t.ack, t.psh) = (at, ack, !after(end, at.wrapping_add(n as u32)));
            self.resend(Sent::PmtuRetransmit { mtu });
            self.tcp_emit(ns, key, &t, &payload);
            at = at.wrapping_add(n as u32);
        }
        let now = self.now;
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            c.rtx.probe = None;
            // tcp_simple_retransmit enters loss recovery up to `snd_nxt` (`high_seq`): a SACK
            // that comes meanwhile does not send these segments a second time.
            c.recovery = Some(c.snd_max);
            // The segments as they are now cut.
            let mut segs: Vec<Seg> = Vec::new();
            let mut s = una;
            while after(end, s) {
                let n = end.wrapping_sub(s).min(mss);
                segs.push(Seg { psh: !after(end, s.wrapping_add(n)), ..Seg::new(s, n, now) });
                s = s.wrapping_add(n);
            }
            c.segs.retain(|seg| !after(end, seg.seq));
            segs.append(&mut c.segs);
            c.segs = segs;
        }
        self.tcp_rtx_arm(ns, key, true);
    }

    fn tcp_ts(&self, c: &TcpConn) -> u32 {
        ((self.now.as_nanos() / 1_000_000) as u32).wrapping_add(c.ts_offset)
    }

    /// Builds and sends one segment of connection `key`.
    fn tcp_emit(&mut self, ns: NsId, key: TcpKey, t: &TcpRepr, payload: &[u8]) {
        let Some((rt, _)) = self.route_output(ns, key.remote.0, None) else {
            self.resent = None;
            return;
        };
        let mut confirm = false;
        let mut ttl = defaults::TTL;
        let id = match self.netns_mut(ns).tcp.get_mut(&key) {
            Some(c) => {
                ttl = c.ttl;
                c.ip_id = c.ip_id.wrapping_add(1);
                if t.ackf {
                    c.ack_sent = Some(t.ack);
                }
                if !t.syn {
                    c.rcv.advertised(t.window, t.ack);
                }
                confirm = std::mem::take(&mut c.dst_pending_confirm);
                if c.dsack.is_some() && t.sack.first() == c.dsack.as_ref() {
                    c.dsack = None;
                }
                c.ip_id
            }
            None => 0,
        };
        let p = Ipv4Params { src: key.local.0, dst: key.remote.0, proto: wire::PROTO_TCP, ttl, id, df: true, tos: 0 };
        let f = wire::tcp_frame(&p, t, payload);
        let state = self.netns(ns).tcp.get(&key).map(|c| c.state);
        let resent = self.resent.take();
        self.originate(|w| {
            if let Some(r) = resent {
                w.note(|| Why::Sent(r));
            }
            w.note(|| Why::Local(Local::TcpSegmentSent { state, bytes: payload.len(), to: key.remote }));
            // `__tcp_transmit_skb` copies the socket's pending confirmation into the segment.
            w.dst_pending_confirm = confirm;
            w.ip_output(ns, f, rt, None);
        });
    }

    /// Why the next segment `tcp_emit` makes is sent again (only what is shown needs it).
    fn resend(&mut self, why: Sent) {
        if self.explaining() {
            self.resent = Some(why);
        }
    }

    fn tcp_segment(&self, c: &TcpConn, key: TcpKey) -> TcpRepr {
        // A D-SACK once, then the blocks of what waits beyond the gaps, as many as the option
        // space leaves room for: 40 bytes less the timestamps' 12 hold three blocks of 8 after
        // the SACK option's 4, four without timestamps (`tcp_established_options`,
        // net/ipv4/tcp_output.c; `tcp_options_write` sends `duplicate_sack` first).
        let room = if c.ts_ok { 3 } else { 4 };
        let sack = if c.sack_ok { c.dsack.iter().chain(&c.sacks).take(room).copied().collect() } else { Vec::new() };
        TcpRepr {
            sack,
            sport: key.local.1,
            dport: key.remote.1,
            seq: c.snd_nxt,
            ack: c.rcv_nxt,
            ackf: true,
            window: c.rcv.select(c.rcv_nxt),
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

    /// close(2) on a connection: one whose SYN is not answered yet is forgotten (`tcp_close`
    /// in SYN_SENT sends nothing); any other sends what is queued, then its FIN.
    pub fn tcp_close(&mut self, ns: NsId, key: TcpKey) {
        match self.netns(ns).tcp.get(&key).map(|c| c.state) {
            Some(TcpState::SynSent) => {
                self.netns_mut(ns).tcp.remove(&key);
            }
            Some(_) => self.tcp_write(ns, key, &[], true),
            None => {}
        }
    }

    /// The program gives the handshake `limit`: it closes the socket then if the peer has not
    /// answered.
    pub fn tcp_give_up_after(&mut self, ns: NsId, key: TcpKey, limit: SimTime) {
        let at = self.now + limit;
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            c.give_up_at = Some(at);
        }
    }

    /// The program will shut its side itself (`shutdown(2)`, `close(2)`) rather than when it
    /// reads the peer's FIN: a relay that still has the other direction to copy.
    pub fn tcp_hold(&mut self, ns: NsId, key: TcpKey) {
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            c.held = true;
        }
    }

    /// close(2) with bytes the program never read (`tcp_close`'s `data_was_unread`): the
    /// connection is reset (`tcp_send_active_reset`: RST with ACK, at the next sequence
    /// number) and forgotten.
    pub fn tcp_abort(&mut self, ns: NsId, key: TcpKey) {
        let Some(c) = self.netns(ns).tcp.get(&key) else { return };
        let mut t = self.tcp_segment(c, key);
        t.rst = true;
        self.tcp_emit(ns, key, &t, &[]);
        self.netns_mut(ns).tcp.remove(&key);
    }

    /// connect(2) has returned to the program: what it gave `tcp_connect` may leave now.
    pub fn tcp_uncork(&mut self, ns: NsId, key: TcpKey) {
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key)
            && c.corked
        {
            c.corked = false;
            self.tcp_output(ns, key, false);
        }
    }

    /// The program has read the peer's FIN (read(2) returned 0): unless it holds the
    /// connection (`tcp_hold`), it closes, and its FIN carries the ACK of the peer's, which
    /// `tcp_fin`'s ping-pong mode kept waiting.
    pub fn tcp_read_eof(&mut self, ns: NsId, key: TcpKey) {
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key)
            && !c.held
        {
            c.close_when_done = true;
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
            let mss = self.tcp_send_mss(ns, key, c);
            let wnd = c.peer_wnd.min(c.cwnd * mss as u32);
            let unsent = c.sndbuf.len() - c.sent;
            if unsent == 0 || in_flight >= wnd || c.corked {
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
                if after(c.snd_nxt, c.snd_max) {
                    c.snd_max = c.snd_nxt;
                    c.segs.push(Seg { psh: t.psh, ..Seg::new(t.seq, n as u32, now) });
                    if c.rtx.probe.is_none() {
                        c.rtx.probe = Some((c.snd_nxt, now));
                    }
                } else if let Some(s) = c.segs.iter_mut().find(|s| s.seq == t.seq) {
                    // Sent again from `snd_una` after the RTO.
                    (s.sent, s.lost, s.retrans) = (now, false, true);
                }
                // tcp_event_data_sent: an answer within ATO of the last data received.
                if c.lrcvtime.is_some_and(|t| now < t + ATO) {
                    c.pingpong = c.pingpong.saturating_add(1);
                }
            }
            self.tcp_emit(ns, key, &t, &payload);
            self.tcp_rtx_arm(ns, key, false);
            self.tcp_schedule_loss_probe(ns, key);
            must_ack = false;
        }
        let Some(c) = self.netns(ns).tcp.get(&key) else { return };
        if c.close_when_done
            && !c.fin_sent
            && !c.corked
            && c.sent == c.sndbuf.len()
            && !c.await_reply
            && matches!(c.state, TcpState::Established | TcpState::CloseWait)
        {
            let mut t = self.tcp_segment(c, key);
            t.fin = true;
            let next = if c.state == TcpState::Established { TcpState::FinWait1 } else { TcpState::LastAck };
            let now = self.now;
            if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
                c.fin_sent = true;
                c.snd_nxt = c.snd_nxt.wrapping_add(1);
                if after(c.snd_nxt, c.snd_max) {
                    c.snd_max = c.snd_nxt;
                    c.segs.push(Seg { fin: true, ..Seg::new(t.seq, 0, now) });
                } else if let Some(s) = c.segs.iter_mut().find(|s| s.fin) {
                    (s.sent, s.lost, s.retrans) = (now, false, true);
                }
                c.state = next;
            }
            self.tcp_emit(ns, key, &t, &[]);
            self.tcp_rtx_arm(ns, key, false);
            self.tcp_schedule_loss_probe(ns, key);
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
                && let Some(owner) = self.tcp_listener(ns, key.local.0, seg.dport)
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
            give_up_at: None,
            rcv: RcvBuf::new(initial_window(
                self.tcp_mss(ns, key.remote.0) - if syn.ts.is_some() { TCPOLEN_TSTAMP_ALIGNED } else { 0 },
            )),
            await_reply: false,
            ack_sent: None,
            lrcvtime: None,
            pingpong: 0,
            delack: false,
            snd_max: iss.wrapping_add(1),
            rtx: Rtx { probe: Some((iss.wrapping_add(1), self.now)), ..Rtx::default() },
            ofo: Vec::new(),
            synack_opts: (syn.sack_perm, syn.wscale.is_some()),
            sack_ok: syn.sack_perm,
            sacks: Vec::new(),
            dsack: None,
            recovery: None,
            segs: Vec::new(),
            rack: None,
            pmtu_cookie: None,
            held: false,
            corked: true,
            dst_pending_confirm: false,
            ttl: defaults::TTL,
        };
        self.netns_mut(ns).tcp.insert(key, c);
        U::tcp_accepted(self, ns, owner, key);
        self.tcp_send_synack(ns, key);
        self.tcp_rtx_arm(ns, key, false);
    }

    /// The SYN-ACK of a connection in SYN_RECV, with the options its SYN offered.
    fn tcp_send_synack(&mut self, ns: NsId, key: TcpKey) {
        let Some(c) = self.netns(ns).tcp.get(&key) else { return };
        let (sack_perm, wscale) = c.synack_opts;
        let t = TcpRepr {
            sport: key.local.1,
            dport: key.remote.1,
            seq: c.iss,
            ack: c.rcv_nxt,
            syn: true,
            ackf: true,
            window: c.rcv.wnd as u16,
            mss: Some(self.tcp_mss(ns, key.remote.0)),
            sack_perm,
            ts: c.ts_ok.then(|| (self.tcp_ts(c), c.ts_recent)),
            wscale: wscale.then_some(WSCALE),
            ..Default::default()
        };
        let ip_id = c.ip_id;
        // The SYN-ACK leaves before a full socket exists: IP ID 0, as this kernel sends it.
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            c.ip_id = u16::MAX;
        }
        self.tcp_emit(ns, key, &t, &[]);
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            c.ip_id = ip_id;
        }
    }

    /// Starts the retransmission timer while data or a FIN is unacknowledged; `again` restarts
    /// it (new data was acknowledged: `tcp_rearm_rto`) or stops it once all is. The RTO is due
    /// `rto` jiffies after the current one (`inet_csk_reset_xmit_timer`: `jiffies + when`).
    fn tcp_rtx_arm(&mut self, ns: NsId, key: TcpKey, again: bool) {
        let now = self.now;
        let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) else { return };
        let outstanding = c.snd_max != c.snd_una && !matches!(c.state, TcpState::SynSent);
        if !outstanding {
            // `inet_csk_clear_xmit_timer`: the timer stays in the wheel, only what it is for
            // (`icsk_pending`) is cleared.
            (c.rtx.deadline, c.rtx.tlp) = (None, None);
            return;
        }
        if c.rtx.deadline.is_some() && !again {
            return;
        }
        let deadline = wheel::jiffies(now) + wheel::to_jiffies(c.rtx.rto);
        c.rtx.deadline = Some(deadline);
        let expires = c.rtx.tlp.map_or(deadline, |t| t.min(deadline));
        self.tcp_timer_mod(ns, key, expires);
    }

    /// `mod_timer` on the connection's retransmission timer: due at jiffy `expires`, it goes
    /// into the timer wheel's slot for that, unless it is there already (`kernel::wheel`).
    fn tcp_timer_mod(&mut self, ns: NsId, key: TcpKey, expires: u64) {
        let now = self.now;
        let Some(c) = self.netns(ns).tcp.get(&key) else { return };
        let pinned = c.state == TcpState::SynRecv;
        let (armed, slot) = self.tcp_wheel.arm(c.rtx.timer, expires, now);
        if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
            c.rtx.timer = Some(armed);
        }
        let Some((tick, level)) = slot else { return };
        let entry = Entry { seq: armed.seq, level, pinned, ns, key };
        let first = !self.tcp_wheel.slots.contains_key(&tick);
        self.tcp_wheel.slots.entry(tick).or_default().push(entry);
        if first {
            self.schedule(wheel::tick_time(tick) - now, Event::TcpTick { tick });
        }
    }

    /// The tick of jiffy `tick`: every retransmission timer still in its slot fires, in the
    /// wheel's order (`Wheel::take`).
    pub(crate) fn tcp_wheel_tick(&mut self, tick: u64) {
        let due = self.tcp_wheel.take(tick);
        self.tcp_wheel.running = true;
        for e in due {
            let Some(c) = self.netns_mut(e.ns).tcp.get_mut(&e.key) else { continue };
            if c.rtx.timer.is_none_or(|a| a.seq != e.seq) {
                continue;
            }
            c.rtx.timer = None;
            let syn = c.state == TcpState::SynSent;
            if self.netns(e.ns).dead {
                continue;
            }
            if syn {
                self.tcp_syn_timer(e.ns, e.key);
            } else {
                self.tcp_rtx_timer(e.ns, e.key);
            }
        }
        self.tcp_wheel.running = false;
    }

    /// The retransmission timer (`tcp_retransmit_timer`): what is unacknowledged is sent again
    /// from `snd_una`, one segment first (the congestion window falls to one), the timeout
    /// doubles; after `tcp_retries2` expiries the connection times out.
    fn tcp_rtx_timer(&mut self, ns: NsId, key: TcpKey) {
        let j = wheel::jiffies(self.now);
        let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) else { return };
        if c.rtx.tlp.is_some_and(|t| t <= j) {
            c.rtx.tlp = None;
            return self.tcp_send_loss_probe(ns, key);
        }
        let Some(deadline) = c.rtx.deadline else { return };
        let next = c.rtx.tlp.map_or(deadline, |t| t.min(deadline));
        if j < next {
            // Restarted since it was put in its slot, which was the same (`tcp_write_timer_handler`:
            // `sk_reset_timer` to `icsk_timeout`).
            return self.tcp_timer_mod(ns, key, next);
        }
        (c.rtx.deadline, c.rtx.tlp, c.rtx.tlp_high) = (None, None, None);
        if c.snd_max == c.snd_una {
            return;
        }
        if c.state == TcpState::SynRecv && c.rtx.retries >= TCP_SYNACK_RETRIES {
            // The request is dropped without a word (`reqsk_timer_handler`).
            self.netns_mut(ns).tcp.remove(&key);
            return;
        }
        if c.rtx.retries >= TCP_RETRIES2 {
            let owner = c.owner;
            self.netns_mut(ns).tcp.remove(&key);
            self.app_note(ns, || {
                format!("tcp {}:{} → {}:{}: Connection timed out", key.local.0, key.local.1, key.remote.0, key.remote.1)
            });
            U::tcp_failed(self, ns, owner, key, "Connection timed out");
            return;
        }
        let expired = c.rtx.rto;
        c.rtx.retries += 1;
        c.rtx.rto = (c.rtx.rto + c.rtx.rto).min(TCP_RTO_MAX);
        c.rtx.probe = None;
        c.cwnd = 1;
        // tcp_enter_loss: no probe and no SACK recovery until what was out is acknowledged.
        (c.rtx.loss, c.recovery) = (Some(c.snd_max), None);
        let tries = c.rtx.retries;
        let synrecv = c.state == TcpState::SynRecv;
        if !synrecv {
            // Everything after `snd_una` is sent again, the FIN last.
            c.sent = 0;
            c.snd_nxt = c.snd_una;
            if c.fin_sent {
                c.fin_sent = false;
                c.state = match c.state {
                    TcpState::FinWait1 => TcpState::Established,
                    TcpState::Closing | TcpState::LastAck => TcpState::CloseWait,
                    s => s,
                };
            }
        }
        self.resend(Sent::Retransmit { rto: expired, tries });
        if synrecv {
            // The SYN-ACK's timer (the request's, `reqsk_timer_handler`, with the same 1 s
            // doubling).
            self.tcp_send_synack(ns, key);
        } else {
            self.tcp_output(ns, key, false);
        }
        self.resent = None;
        self.tcp_rtx_arm(ns, key, false);
    }

    /// Sets the tail loss probe in place of the retransmission timer (RFC 8985 section 7;
    /// `tcp_schedule_loss_probe`, net/ipv4/tcp_output.c): on a connection that negotiated
    /// SACK, with something in flight and no recovery under way, after two smoothed round
    /// trips plus 2 ms (`TCP_TIMEOUT_MIN_US`), or plus `TCP_RTO_MIN` when a single segment is
    /// out (the peer may be delaying its ACK), 1 s before any round trip is known; never later
    /// than the RTO would fire. So the last segments of an answer, lost with nothing after
    /// them to draw a SACK, go again after 4 to 8 ms instead of 200; a lone segment waits the
    /// RTO's time either way.
    fn tcp_schedule_loss_probe(&mut self, ns: NsId, key: TcpKey) {
        let now = self.now;
        let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) else { return };
        let open = matches!(
            c.state,
            TcpState::Established | TcpState::CloseWait | TcpState::FinWait1 | TcpState::Closing | TcpState::LastAck
        );
        let Some(deadline) = c
            .rtx
            .deadline
            .filter(|_| open && c.sack_ok && c.recovery.is_none() && c.rtx.loss.is_none() && !c.segs.is_empty())
        else {
            c.rtx.tlp = None;
            return;
        };
        let pto = match c.rtx.srtt {
            Some(s) => s + s + if c.segs.len() == 1 { TCP_RTO_MIN } else { TCP_TIMEOUT_MIN },
            None => TCP_TIMEOUT_INIT,
        };
        // In whole jiffies (`usecs_to_jiffies` rounds up), on the timer wheel like the RTO: a
        // probe due in 2.1 ms fires on the second tick after it was set, 4 to 8 ms later.
        let at = (wheel::jiffies(now) + wheel::to_jiffies(pto)).min(deadline);
        c.rtx.tlp = Some(at);
        self.tcp_timer_mod(ns, key, at);
    }

    /// The tail loss probe (`tcp_send_loss_probe`): new data if the peer's window takes it
    /// (one segment beyond the congestion window), else the last segment sent goes again, so
    /// that its ACK, or the SACK it draws, shows what was lost. One probe until it is
    /// acknowledged (`tlp_high_seq`); the RTO then runs again from now, not doubled.
    fn tcp_send_loss_probe(&mut self, ns: NsId, key: TcpKey) {
        let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) else { return };
        if c.rtx.tlp_high.is_none() {
            let before = c.snd_nxt;
            if c.sent < c.sndbuf.len() {
                c.cwnd += 1;
                self.tcp_output(ns, key, false);
                if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
                    c.cwnd -= 1;
                }
            }
            let Some(c) = self.netns(ns).tcp.get(&key) else { return };
            if c.snd_nxt == before
                && let Some(&s) = c.segs.last()
            {
                let off = s.seq.wrapping_sub(c.snd_una) as usize;
                let Some(payload) = c.sndbuf.get(off..off + s.len as usize).map(<[u8]>::to_vec) else { return };
                let mut t = self.tcp_segment(c, key);
                (t.seq, t.fin, t.psh) = (s.seq, s.fin, s.psh);
                let now = self.now;
                if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
                    c.rtx.probe = None;
                    if let Some(last) = c.segs.last_mut() {
                        (last.sent, last.retrans) = (now, true);
                    }
                }
                self.resend(Sent::LossProbe);
                self.tcp_emit(ns, key, &t, &payload);
            }
            if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
                c.rtx.tlp_high = Some(c.snd_nxt);
            }
        }
        self.tcp_rtx_arm(ns, key, true);
    }

    /// An ACK's SACK blocks on the sender's scoreboard, and RACK's loss detection
    /// (`tcp_sacktag_write_queue` in net/ipv4/tcp_input.c; RFC 8985,
    /// `tcp_rack_detect_loss` in net/ipv4/tcp_recovery.c): every block marks the segments it
    /// covers delivered; a segment sent before the most recently sent one known delivered is
    /// lost once the reordering window has passed, a quarter of the smallest round trip, or at
    /// once when `tcp_reordering` (3) segments are SACKed or a recovery runs. Each ACK that
    /// delivers something sends one lost segment again, the first in sequence
    /// (`tcp_xmit_retransmit_queue` with the budget proportional rate reduction gives,
    /// `tcp_cwnd_reduction`: one segment for each delivered while the flight is below
    /// `ssthresh`). A D-SACK block (at or below the ACK) reports a repeat and marks nothing.
    fn tcp_sack_recover(&mut self, ns: NsId, key: TcpKey, seg: &TcpRepr, acked: bool) {
        let now = self.now;
        let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) else { return };
        if let Some(point) = c.recovery
            && !after(point, c.snd_una)
        {
            c.recovery = None;
        }
        let mut delivered = acked;
        for &(left, right) in &seg.sack {
            if !after(right, seg.ack) || after(right, c.snd_max) {
                continue;
            }
            let min_rtt = c.rtx.min_rtt;
            for s in c.segs.iter_mut().filter(|s| !s.sacked && !after(left, s.seq) && !after(s.end(), right)) {
                (s.sacked, s.lost, delivered) = (true, false, true);
                if s.advances_rack(now, min_rtt) && c.rack.is_none_or(|r| sent_after((s.sent, s.end()), r)) {
                    c.rack = Some((s.sent, s.end()));
                }
            }
        }
        if c.rtx.loss.is_some()
            || !delivered
            || !matches!(
                c.state,
                TcpState::Established
                    | TcpState::CloseWait
                    | TcpState::FinWait1
                    | TcpState::Closing
                    | TcpState::LastAck
            )
        {
            return;
        }
        let Some(rack) = c.rack else { return };
        let sacked = c.segs.iter().filter(|s| s.sacked).count();
        let reo_wnd = if c.recovery.is_some() || sacked >= TCP_REORDERING {
            SimTime::ZERO
        } else {
            let quarter = c.rtx.min_rtt.map_or(SimTime::ZERO, |m| SimTime::from_nanos(m.as_nanos() / 4));
            c.rtx.srtt.map_or(quarter, |s| quarter.min(s))
        };
        for s in c.segs.iter_mut().filter(|s| !s.sacked && !s.lost) {
            if sent_after(rack, (s.sent, s.end())) && rack.0 - s.sent >= reo_wnd {
                s.lost = true;
            }
        }
        let Some(i) = c.segs.iter().position(|s| s.lost) else { return };
        if c.recovery.is_none() {
            c.recovery = Some(c.snd_max);
        }
        c.rtx.probe = None;
        let s = c.segs[i];
        (c.segs[i].lost, c.segs[i].sent, c.segs[i].retrans) = (false, now, true);
        let head = s.seq == c.snd_una;
        let off = s.seq.wrapping_sub(c.snd_una) as usize;
        let Some(payload) = c.sndbuf.get(off..off + s.len as usize).map(<[u8]>::to_vec) else { return };
        let Some(c) = self.netns(ns).tcp.get(&key) else { return };
        let mut t = self.tcp_segment(c, key);
        (t.seq, t.fin, t.psh) = (s.seq, s.fin, s.psh);
        let (left, right) = seg.sack.first().copied().unwrap_or((s.seq, s.end()));
        self.resend(Sent::SackRetransmit { left, right });
        self.tcp_emit(ns, key, &t, &payload);
        if head {
            self.tcp_rtx_arm(ns, key, true);
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
        let now = self.now;
        let my_mss = self.tcp_mss(ns, key.remote.0);
        let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) else { return };
        let owner = c.owner;
        if seg.rst {
            let st = c.state;
            self.netns_mut(ns).tcp.remove(&key);
            let what = if st == TcpState::SynSent { "Connection refused" } else { "Connection reset by peer" };
            self.app_note(ns, || {
                format!("tcp {}:{} → {}:{}: {what}", key.local.0, key.local.1, key.remote.0, key.remote.1)
            });
            U::tcp_failed(self, ns, owner, key, what);
            return;
        }
        if let Some((v, _)) = seg.ts {
            c.ts_recent = v;
        }
        if c.state == TcpState::SynRecv && seg.syn && !seg.ackf {
            // The SYN again: the SYN-ACK was lost (tcp_check_req → inet_rtx_syn_ack).
            return self.tcp_send_synack(ns, key);
        }
        if c.state == TcpState::SynSent {
            if !(seg.syn && seg.ackf && seg.ack == c.iss.wrapping_add(1)) {
                return;
            }
            c.state = TcpState::Established;
            c.snd_una = seg.ack;
            c.rcv_nxt = seg.seq.wrapping_add(1);
            c.peer_wscale = seg.wscale.unwrap_or(0);
            c.peer_wnd = seg.window as u32;
            c.peer_mss = seg.mss.unwrap_or(536);
            c.ts_ok = seg.ts.is_some();
            c.sack_ok = seg.sack_perm;
            let ts = if c.ts_ok { TCPOLEN_TSTAMP_ALIGNED } else { 0 };
            let wscale = if seg.wscale.is_some() { WSCALE } else { 0 };
            c.rcv.established(c.rcv_nxt, my_mss - ts, wscale);
            // The SYN-ACK acknowledged our SYN (`tcp_ack` from tcp_rcv_synsent_state_process).
            c.dst_pending_confirm = true;
            match c.rtx.probe.take() {
                Some((_, sent)) => c.rtx.sample(now - sent),
                None => {
                    if let Some(rtt) = ts_rtt(now, c, seg.ts) {
                        c.rtx.sample(rtt);
                    }
                }
            }
            self.app_note(ns, || {
                format!("tcp {}:{} → {}:{}: connected", key.local.0, key.local.1, key.remote.0, key.remote.1)
            });
            // The handshake's last ACK goes by itself (tcp_send_ack from
            // tcp_rcv_synsent_state_process); what the program wrote follows once connect()
            // has returned.
            self.tcp_send_ack(ns, key);
            self.tcp_output(ns, key, false);
            U::tcp_connected(self, ns, owner, key);
            return;
        }
        // ACK processing.
        let mut established = false;
        if seg.ackf {
            let acked = seg.ack.wrapping_sub(c.snd_una);
            let c_span = c.snd_max.wrapping_sub(c.snd_una);
            // Forward progress, or a pure duplicate ACK (no data, nothing acknowledged, the
            // same window: not `FLAG_NOT_DUP`), confirms the path's neighbour, so a busy TCP
            // flow needs no ARP probes. Not at once: `sk_dst_confirm` marks the socket, and
            // the next segment it sends confirms the neighbour on its way out
            // (`sock_confirm_neigh` in `ip_finish_output2`).
            let same_window = (u32::from(seg.window) << c.peer_wscale) == c.peer_wnd;
            let dup = acked == 0 && payload.is_empty() && !seg.syn && !seg.fin && same_window;
            if (acked > 0 && acked <= c_span) || dup {
                c.dst_pending_confirm = true;
            }
            if acked <= c.snd_max.wrapping_sub(c.snd_una) {
                let mut data_acked = acked as usize;
                let handshake = c.state == TcpState::SynRecv && acked > 0;
                if handshake {
                    established = true;
                    c.state = TcpState::Established;
                    let ts = if c.ts_ok { TCPOLEN_TSTAMP_ALIGNED } else { 0 };
                    let wscale = if c.synack_opts.1 { WSCALE } else { 0 };
                    c.rcv.established(c.rcv_nxt, my_mss - ts, wscale);
                    data_acked -= 1;
                }
                let fin_acked = c.fin_sent && seg.ack == c.snd_max;
                let data_acked = data_acked.min(c.sndbuf.len());
                c.sndbuf.drain(..data_acked);
                c.sent = c.sent.saturating_sub(data_acked);
                c.snd_una = seg.ack;
                let una = c.snd_una;
                // What this ACK delivered advances RACK's clock (`tcp_rack_advance`).
                let min_rtt = c.rtx.min_rtt;
                for s in c.segs.iter().filter(|s| !after(s.end(), una) && s.advances_rack(now, min_rtt)) {
                    if c.rack.is_none_or(|r| sent_after((s.sent, s.end()), r)) {
                        c.rack = Some((s.sent, s.end()));
                    }
                }
                c.segs.retain(|s| after(s.end(), una));
                // After the RTO sent from `snd_una` again, the peer may acknowledge beyond
                // what has been sent since (it kept the later segments).
                if after(seg.ack, c.snd_nxt) {
                    c.snd_nxt = seg.ack;
                }
                c.cwnd += (data_acked > 0) as u32;
                c.peer_wnd = (seg.window as u32) << c.peer_wscale;
                if acked > 0 {
                    if let Some((end, sent)) = c.rtx.probe
                        && !after(end, seg.ack)
                    {
                        c.rtx.probe = None;
                        c.rtx.sample(now - sent);
                    } else if handshake
                        && c.rtx.srtt.is_none()
                        && let Some(rtt) = ts_rtt(now, c, seg.ts)
                    {
                        // The SYN-ACK went again: its echoed timestamp times it
                        // (`tcp_synack_rtt_meas`).
                        c.rtx.sample(rtt);
                    }
                    c.rtx.retries = 0;
                    c.rtx.rto = c.rtx.computed();
                }
                if fin_acked {
                    match c.state {
                        TcpState::FinWait1 => c.state = TcpState::FinWait2,
                        TcpState::Closing => c.state = TcpState::TimeWait,
                        TcpState::LastAck => {
                            self.netns_mut(ns).tcp.remove(&key);
                            self.app_note(ns, || {
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
                if acked > 0 {
                    self.tcp_rtx_arm(ns, key, true);
                }
            }
            self.tcp_sack_recover(ns, key, seg, acked > 0 && acked <= c_span);
            if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
                let una = c.snd_una;
                // tcp_process_tlp_ack: the probe's episode ends once the ACK reaches where it
                // left `snd_nxt`; the RTO's once all it had to send again is acknowledged.
                if c.rtx.tlp_high.is_some_and(|h| !after(h, una)) {
                    c.rtx.tlp_high = None;
                }
                if c.rtx.loss.is_some_and(|h| !after(h, una)) {
                    c.rtx.loss = None;
                }
            }
            // tcp_set_xmit_timer: an ACK that moved `snd_una` sets the probe, or else the RTO
            // (`tcp_clean_rtx_queue` gives `FLAG_SET_XMIT_TIMER` for `FLAG_ACKED` alone); one
            // that only SACKs leaves the timer as it is.
            if acked > 0 {
                self.tcp_schedule_loss_probe(ns, key);
            }
        }
        if established && let Some(owner) = self.netns(ns).tcp.get(&key).map(|c| c.owner) {
            // accept(2) returns, before the program reads what this segment carries.
            U::tcp_established(self, ns, owner, key);
        }
        let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) else { return };
        let mut must_ack = false;
        // An ACK of what has come in order so far, sent even if the last segment carried it.
        let mut dup_ack = false;
        // This segment filled a gap: the ACK goes now, before the program is woken
        // (`ICSK_ACK_NOW`), even when a FIN that waited behind the gap ends the stream.
        let mut filled = false;
        let mut quick_ack = false;
        let mut delay_ack = false;
        let mut got = Vec::new();
        // Where a FIN that arrived in order ends the data (`None`: no FIN in order).
        let mut fin_end = seg.fin.then(|| seg.seq.wrapping_add(payload.len() as u32));
        if !payload.is_empty() {
            if seg.seq == c.rcv_nxt {
                c.rcv_nxt = c.rcv_nxt.wrapping_add(payload.len() as u32);
                c.lrcvtime = Some(now);
                got = payload.to_vec();
                // Until the program reads, this segment and whatever it releases from the
                // out-of-order queue hold the buffer; the ACK sent first offers only the rest.
                c.rcv.rmem = ofo_truesize(&c.ofo) + rcvbuf::truesize(payload.len());
                c.rcv.data_queued(payload.len() as u32, true, c.sack_ok);
                // What waited behind the gap this segment filled follows it (tcp_ofo_queue),
                // and the ACK for it all goes at once (tcp_data_queue: an out-of-order queue
                // was not empty).
                filled = !c.ofo.is_empty();
                c.ofo.sort_by_key(|(seq, ..)| seq.wrapping_sub(c.rcv_nxt));
                while let Some(i) = c.ofo.iter().position(|(seq, data, _)| {
                    !after(*seq, c.rcv_nxt) && after(seq.wrapping_add(data.len() as u32), c.rcv_nxt)
                }) {
                    let (seq, data, fin) = c.ofo.remove(i);
                    let skip = c.rcv_nxt.wrapping_sub(seq) as usize;
                    got.extend_from_slice(&data[skip..]);
                    c.rcv_nxt = seq.wrapping_add(data.len() as u32);
                    if fin {
                        fin_end = Some(c.rcv_nxt);
                    }
                }
                let rcv_nxt = c.rcv_nxt;
                if c.ofo.iter().any(|(seq, data, fin)| *fin && data.is_empty() && *seq == rcv_nxt) {
                    fin_end = Some(rcv_nxt);
                }
                c.ofo.retain(|(seq, data, _)| after(seq.wrapping_add(data.len() as u32), rcv_nxt));
                c.rx_bytes += got.len() as u64;
                // __tcp_ack_snd_check: at once in quick-ACK mode, else with a delay that an
                // answer written meanwhile ends by carrying the ACK.
                if c.pingpong < PINGPONG_THRESH || filled {
                    quick_ack = true;
                } else {
                    delay_ack = true;
                }
            } else {
                // After a gap: kept for when it is filled; a repeat: dropped. Either way a
                // duplicate ACK at once (tcp_data_queue_ofo, tcp_send_dupack).
                let end = seg.seq.wrapping_add(payload.len() as u32 + seg.fin as u32);
                if after(seg.seq, c.rcv_nxt) {
                    if c.ofo.iter().any(|(s, data, fin)| {
                        *s == seg.seq && data.len() + *fin as usize >= end.wrapping_sub(*s) as usize
                    }) {
                        // Held already: a repeat, named by a D-SACK (tcp_data_queue_ofo).
                        c.dsack = Some((seg.seq, end));
                    } else {
                        c.ofo.retain(|(s, ..)| *s != seg.seq);
                        c.ofo.push((seg.seq, payload.to_vec(), seg.fin));
                        sack_new_ofo(&mut c.sacks, seg.seq, end);
                        c.rcv.rmem = ofo_truesize(&c.ofo);
                        c.rcv.data_queued(payload.len() as u32, false, c.sack_ok);
                    }
                } else {
                    c.dsack = Some((seg.seq, if after(end, c.rcv_nxt) { c.rcv_nxt } else { end }));
                }
                fin_end = None;
                dup_ack = true;
            }
        } else if let Some(end) = fin_end {
            if after(end, c.rcv_nxt) {
                // A FIN after a gap waits for the data before it.
                if !c.ofo.iter().any(|(s, data, fin)| *fin && s.wrapping_add(data.len() as u32) == end) {
                    c.ofo.push((end, Vec::new(), true));
                    sack_new_ofo(&mut c.sacks, end, end.wrapping_add(1));
                    c.rcv.rmem = ofo_truesize(&c.ofo);
                }
                dup_ack = true;
            } else if end != c.rcv_nxt {
                // A FIN already taken, sent again: its ACK was lost, so acknowledge again.
                c.dsack = Some((end, end.wrapping_add(1)));
                dup_ack = true;
            }
        }
        let mut peer_closed = false;
        if fin_end == Some(c.rcv_nxt)
            && !matches!(c.state, TcpState::CloseWait | TcpState::LastAck | TcpState::Closing | TcpState::TimeWait)
        {
            c.rcv_nxt = c.rcv_nxt.wrapping_add(1);
            peer_closed = true;
            c.state = match c.state {
                TcpState::Established | TcpState::SynRecv => {
                    // tcp_fin: CLOSE_WAIT enters ping-pong mode, so the FIN's ACK waits for
                    // the program's own FIN to carry it (or the delayed-ACK timer), unless a
                    // gap this segment filled wants it now.
                    c.pingpong = c.pingpong.max(PINGPONG_THRESH);
                    delay_ack = true;
                    TcpState::CloseWait
                }
                TcpState::FinWait1 => {
                    must_ack = true;
                    TcpState::Closing
                }
                TcpState::FinWait2 => {
                    must_ack = true;
                    TcpState::TimeWait
                }
                s => s,
            };
        }
        // What the ACK now covers leaves the SACK blocks; none is left once nothing waits
        // beyond a gap (`tcp_sack_remove`).
        let nxt = c.rcv_nxt;
        c.sacks.retain(|(start, _)| after(*start, nxt));
        if c.ofo.is_empty() {
            c.sacks.clear();
        }
        let state = c.state;
        if dup_ack {
            self.tcp_send_ack(ns, key);
        }
        if quick_ack && (!peer_closed || filled) {
            self.tcp_send_ack(ns, key);
        }
        if delay_ack {
            self.tcp_delack_arm(ns, key);
        }
        if !got.is_empty() {
            let text = printable(&got);
            self.app_note(ns, || {
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
            // The program has read it: only what waits beyond a gap holds the buffer now.
            if let Some(c) = self.netns_mut(ns).tcp.get_mut(&key) {
                c.rcv.rmem = ofo_truesize(&c.ofo);
            }
        }
        if peer_closed {
            self.app_note(ns, || format!("tcp {}:{}: peer closed (FIN)", key.local.0, key.local.1));
            U::tcp_eof(self, ns, owner, key);
            if state == TcpState::TimeWait {
                self.tcp_send_ack(ns, key);
                self.app_note(ns, || {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syns_go_again_each_second_four_times_then_doubling_until_127_s() {
        // When each SYN left, as Linux 6.18 sent them to a peer that dropped them all.
        let mut at = vec![0u64];
        let mut tries = 0;
        while syn_elapsed(tries) < SYN_TIMEOUT {
            at.push(syn_elapsed(tries).as_nanos() / 1_000_000_000);
            tries += 1;
        }
        assert_eq!(at, [0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67]);
        assert_eq!(syn_elapsed(tries), SimTime::from_secs(131), "the connect fails when the last timer fires");
    }
}
