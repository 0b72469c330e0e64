//! BIND's `dig` on the kernel's sockets: one UDP query from an ephemeral port to the
//! namespace's nameserver (or `@SERVER`), sent again after each 5 s without an answer, three
//! tries in all. What it sends and prints is `proto::dig`.

use std::net::Ipv4Addr;

use crate::engine::SimTime;
use crate::kernel::NsId;
use crate::userland::World;
use crate::userland::apps::AppKind;
use crate::userland::proto::{dig, dns};
use crate::userland::services::OUTSIDE_DNS;

/// The app timer of dig's wait for an answer.
pub(crate) const TAG_DIG: u32 = 103;

/// A running dig's state.
#[derive(Clone, Debug)]
pub struct Run {
    pub dig: dig::Dig,
    pub server: Ipv4Addr,
    pub sport: u16,
    pub query: Vec<u8>,
    pub tries: u8,
    pub sent_at: SimTime,
}

impl Run {
    /// A dig not yet started: its server, socket and query come at `dig_start`.
    pub fn new(dig: dig::Dig) -> Run {
        Run { dig, server: Ipv4Addr::UNSPECIFIED, sport: 0, query: Vec::new(), tries: 0, sent_at: SimTime::ZERO }
    }
}

impl World {
    fn dig_run(&mut self, app: usize) -> Option<&mut Run> {
        match &mut self.user.apps[app].kind {
            AppKind::Dig(run) => Some(run),
            _ => None,
        }
    }

    /// dig starts: its socket, its query, its first try.
    pub(crate) fn dig_start(&mut self, ns: NsId, app: usize) {
        let AppKind::Dig(run) = &self.user.apps[app].kind else { return };
        let d = run.dig.clone();
        let server = d.server.or_else(|| self.nameserver(ns)).unwrap_or(OUTSIDE_DNS);
        if self.route_output(ns, server, None).is_none() {
            return self.dig_no_servers(app, server);
        }
        let id = self.rng.next_u32() as u16;
        let cookie = self.rng.next_u64().to_be_bytes();
        let query = match dig::query(&d, id, cookie) {
            Ok(q) => q,
            Err(e) => {
                self.print(app, || format!("dig: '{}' is not a legal name ({e})", d.name));
                return self.app_fail(app, 10);
            }
        };
        if server == OUTSIDE_DNS && d.server.is_none() {
            // The outside's resolver knows no lab names; its frames are not simulated.
            self.app_note(ns, || format!("no embedded DNS here: the nameserver {OUTSIDE_DNS} is outside the lab"));
            let answer = dns::outside_answer(&query).unwrap_or_default();
            let now = self.now;
            if let Some(run) = self.dig_run(app) {
                run.sent_at = now;
            }
            return self.dig_answered(app, server, &answer);
        }
        let Some(sport) = self.free_ephemeral_port(|w, p| w.udp_bound(ns, p)) else {
            return self.dig_no_servers(app, server);
        };
        self.bind_udp_shared(ns, sport, app);
        let now = self.now;
        let Some(run) = self.dig_run(app) else { return };
        (run.server, run.sport, run.query, run.tries, run.sent_at) = (server, sport, query, 0, now);
        self.dig_send(ns, app);
    }

    fn dig_send(&mut self, ns: NsId, app: usize) {
        let now = self.now;
        let Some(run) = self.dig_run(app) else { return };
        run.tries += 1;
        run.sent_at = now;
        let (server, sport, query) = (run.server, run.sport, run.query.clone());
        let who = format!("dig: {}? {}", dns::qtype_text(run.dig.qtype), run.dig.name);
        self.send_udp(ns, None, (server, 53), sport, &query, who);
        self.set_timer(app, SimTime::from_secs(dig::TIMEOUT_SECS), TAG_DIG);
    }

    /// A datagram on dig's socket: the answer, if it is the server's reply to its query.
    pub(crate) fn dig_rx(&mut self, ns: NsId, app: usize, from: (Ipv4Addr, u16), payload: &[u8]) {
        if self.user.apps[app].done {
            return;
        }
        let Some(run) = self.dig_run(app) else { return };
        let same_id = payload.len() >= 2 && run.query.len() >= 2 && payload[..2] == run.query[..2];
        if from != (run.server, 53) || !same_id {
            return;
        }
        let (server, sport) = (run.server, run.sport);
        self.unbind_udp(ns, sport);
        self.dig_answered(app, server, payload);
    }

    fn dig_answered(&mut self, app: usize, server: Ipv4Addr, reply: &[u8]) {
        let now = self.now;
        let Some(run) = self.dig_run(app) else { return };
        let rtt_ms = now.saturating_sub(run.sent_at).as_nanos() / 1_000_000;
        let when = dig::when(now.wall().0 as u64);
        let d = run.dig.clone();
        match dig::output(&d, reply, server, rtt_ms, &when) {
            Ok(lines) => {
                for l in lines {
                    self.print(app, || l);
                }
                self.app_fail(app, 0);
            }
            Err(e) => {
                self.print(app, || format!(";; Got bad packet: {e}"));
                self.app_fail(app, 9);
            }
        }
    }

    /// dig's wait is over: another try, or the end.
    pub(crate) fn dig_timeout(&mut self, ns: NsId, app: usize) {
        let now = self.now;
        let Some(run) = self.dig_run(app) else { return };
        if now.saturating_sub(run.sent_at) < SimTime::from_secs(dig::TIMEOUT_SECS) {
            return;
        }
        if run.tries < dig::TRIES {
            return self.dig_send(ns, app);
        }
        let (server, sport) = (run.server, run.sport);
        self.unbind_udp(ns, sport);
        self.dig_no_servers(app, server);
    }

    fn dig_no_servers(&mut self, app: usize, server: Ipv4Addr) {
        let Some(run) = self.dig_run(app) else { return };
        for l in dig::timed_out(&run.dig, server) {
            self.print(app, || l);
        }
        self.app_fail(app, 9);
    }
}
