//! busybox `traceroute` on the kernel's sockets: UDP probes with a rising TTL from a port
//! `connect()` chose, and a raw ICMP socket bound to the probes' source address for the
//! answers. One probe is out at a time; a hop's line is printed when its last probe is
//! answered or given up. What it sends and prints is `proto::traceroute`.

use std::net::Ipv4Addr;

use crate::engine::SimTime;
use crate::kernel::NsId;
use crate::userland::World;
use crate::userland::apps::AppKind;
use crate::userland::proto::traceroute::{self as tr, Answer, Reached};
use crate::userland::services::EchoReply;

/// App timer tags: a probe's wait (the low bits are its sequence number, so a wait that
/// outlived its probe is told apart) and `-z`'s pause before the next probe.
pub(crate) const TAG_WAIT: u32 = 0x4000_0000;
pub(crate) const TAG_PAUSE: u32 = 0x2000_0000;

/// A running traceroute's state.
#[derive(Clone, Debug)]
pub struct Run {
    pub opts: tr::Opts,
    /// The destination as typed, for the first line.
    pub target: String,
    pub sport: u16,
    pub ttl: u8,
    /// Probes sent over the whole run (the last one's number), and within this hop.
    pub seq: u32,
    pub probe: u32,
    pub sent_at: SimTime,
    /// A probe is out and unanswered.
    pub waiting: bool,
    /// The hop's line so far.
    pub line: String,
    /// The source last printed on this hop.
    pub last: Option<Ipv4Addr>,
    pub reached: bool,
    pub unreachable: u32,
    /// An answer whose source is being named: (its source, TTL, round trip, what it said).
    pub pending: Option<(Ipv4Addr, u8, u64, Answer)>,
}

impl Run {
    pub fn new(opts: tr::Opts, target: String) -> Run {
        Run {
            ttl: opts.first_ttl,
            opts,
            target,
            sport: 0,
            seq: 0,
            probe: 0,
            sent_at: SimTime::ZERO,
            waiting: false,
            line: String::new(),
            last: None,
            reached: false,
            unreachable: 0,
            pending: None,
        }
    }
}

impl World {
    fn tr(&mut self, app: usize) -> Option<(Ipv4Addr, &mut Run)> {
        match &mut self.user.apps[app].kind {
            AppKind::Traceroute { dst, run } => Some((*dst, run)),
            _ => None,
        }
    }

    /// The destination is known: connect(2) picks the source address and port, the raw
    /// socket is bound to that address, the first line is printed and the first probe sent.
    pub(crate) fn traceroute_start(&mut self, ns: NsId, app: usize) {
        let Some((dst, _)) = self.tr(app) else { return };
        let Some((_, src)) = self.route_output(ns, dst, None) else {
            self.print(app, || tr::cant_connect(dst, "Network is unreachable"));
            return self.app_fail(app, 1);
        };
        let Some(sport) = self.free_ephemeral_port(|w, p| w.udp_bound(ns, p)) else {
            self.print(app, || tr::cant_connect(dst, "Cannot assign requested address"));
            return self.app_fail(app, 1);
        };
        self.open_raw_icmp(ns, app, src);
        let Some((_, run)) = self.tr(app) else { return };
        run.sport = sport;
        run.line = format!("{:2}", run.ttl);
        let header = tr::header(&run.target, dst, &run.opts);
        self.print(app, || header);
        self.traceroute_send(ns, app);
    }

    /// The next probe: to the next port, with this hop's TTL; its wait starts.
    fn traceroute_send(&mut self, ns: NsId, app: usize) {
        let now = self.now;
        let Some((dst, run)) = self.tr(app) else { return };
        run.seq += 1;
        run.sent_at = now;
        run.waiting = true;
        let (seq, ttl, sport) = (run.seq, run.ttl, run.sport);
        let data = tr::payload(seq, ttl, &run.opts);
        let (dport, wait) = (tr::probe_port(&run.opts, seq), SimTime::from_secs(run.opts.wait.into()));
        let who = format!("traceroute: probe {seq}, TTL {ttl}");
        if let Err(e) = self.udp_sendto(ns, None, dst, dport, sport, &data, Some(ttl), who.into()) {
            // xsendto dies.
            self.print(app, || format!("traceroute: sendto: {}", e.text()));
            return self.traceroute_exit(ns, app, 1);
        }
        self.set_timer(app, wait, TAG_WAIT | (seq & 0xff_ffff));
    }

    /// An ICMP message on the raw socket: the answer to the probe out, or read and ignored.
    pub(crate) fn traceroute_icmp(&mut self, ns: NsId, app: usize, from: Ipv4Addr, ttl: u8, icmp: &[u8]) {
        let now = self.now;
        let Some((_, run)) = self.tr(app) else { return };
        if !run.waiting {
            return;
        }
        let Some(a) = tr::answer(icmp, &run.opts, run.seq) else { return };
        run.waiting = false;
        let rtt = now.saturating_sub(run.sent_at).as_nanos();
        run.pending = Some((from, ttl, rtt, a));
        let named = run.probe == 0 || run.last != Some(from);
        if !named || run.opts.numeric {
            return self.traceroute_answered(ns, app, None);
        }
        // getnameinfo: /etc/hosts, then a PTR query; the time was taken before it.
        self.reverse_start(ns, app, EchoReply { from, seq: 0, ttl, rtt, error: None });
    }

    /// The answer is printed, its source named `name` where it was looked up.
    pub(crate) fn traceroute_answered(&mut self, ns: NsId, app: usize, name: Option<String>) {
        let Some((_, run)) = self.tr(app) else { return };
        let Some((from, ttl, rtt, a)) = run.pending.take() else { return };
        if run.probe == 0 || run.last != Some(from) {
            run.line.push_str(&tr::source(&run.opts, from, name.as_deref()));
            run.last = Some(from);
        }
        run.line.push_str(&tr::rtt(rtt));
        if let Answer::Unreachable { code, mtu } = a {
            let (mark, what) = tr::mark(code, mtu, ttl);
            run.line.push_str(&mark);
            match what {
                Reached::There => run.reached = true,
                Reached::Unreachable => run.unreachable += 1,
            }
        }
        self.traceroute_next(ns, app);
    }

    /// An app timer of traceroute's: a probe's wait is over, or `-z`'s pause.
    pub(crate) fn traceroute_timer(&mut self, ns: NsId, app: usize, tag: u32) {
        if tag & TAG_PAUSE != 0 {
            return self.traceroute_send(ns, app);
        }
        let Some((_, run)) = self.tr(app) else { return };
        if !run.waiting || (run.seq & 0xff_ffff) != (tag & 0xff_ffff) {
            return;
        }
        run.waiting = false;
        run.line.push_str("  *");
        self.traceroute_next(ns, app);
    }

    /// After a probe: the next one of this hop, or the hop's line and the next hop, or the end.
    fn traceroute_next(&mut self, ns: NsId, app: usize) {
        let Some((_, run)) = self.tr(app) else { return };
        run.probe += 1;
        if run.probe < run.opts.nprobes {
            let pause = run.opts.pause_ms;
            if pause > 0 {
                return self.set_timer(app, SimTime::from_millis(pause.into()), TAG_PAUSE);
            }
            return self.traceroute_send(ns, app);
        }
        let line = std::mem::take(&mut run.line);
        let end = tr::done(run.reached, run.unreachable, &run.opts) || run.ttl >= run.opts.max_ttl;
        if !end {
            run.ttl += 1;
            run.probe = 0;
            run.reached = false;
            run.unreachable = 0;
            run.last = None;
            run.line = format!("{:2}", run.ttl);
        }
        self.print(app, || line);
        if end {
            return self.traceroute_exit(ns, app, 0);
        }
        self.traceroute_send(ns, app);
    }

    fn traceroute_exit(&mut self, ns: NsId, app: usize, status: u8) {
        self.close_raw_icmp(ns, app);
        self.app_fail(app, status);
    }
}
