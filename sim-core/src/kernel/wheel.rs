//! The kernel's timer wheel as TCP's retransmission timers see it (kernel/time/timer.c): a
//! timeout is armed in whole jiffies and put in a slot that never fires early, so it fires
//! on a tick, late by up to the slot's width; several timers due on one tick fire in the
//! order the wheel keeps them (docs/linux-model.md, *When TCP sends again*).
//!
//! The jiffy clock starts at the simulation's time 0: jiffy `j` begins at `j × JIFFY`. The
//! kernel's own counter starts at boot (`INITIAL_JIFFIES`), so a lab starts at some phase of
//! the tick; a fixed phase keeps a run's timings the same from run to run, and each delay
//! still lies in the range the kernel's does.

use std::collections::BTreeMap;

use super::NsId;
use super::tcp::TcpKey;
use crate::engine::SimTime;

/// A tick of the kernel's timers (`CONFIG_HZ` 250, as the reference kernel is built).
pub const JIFFY: SimTime = SimTime::from_millis(4);

/// The wheel's geometry (kernel/time/timer.c): 64 slots a level, each level's slots eight
/// times as wide as the one below (`LVL_BITS`, `LVL_CLK_SHIFT`), nine levels at HZ=250.
const LVL_BITS: u32 = 6;
const LVL_CLK_SHIFT: u32 = 3;
const LVL_DEPTH: u32 = 9;

/// The jiffy `t` falls in.
pub fn jiffies(t: SimTime) -> u64 {
    t.as_nanos() / JIFFY.as_nanos()
}

/// When jiffy `j` begins: the tick that runs the timers due at `j`.
pub fn tick_time(j: u64) -> SimTime {
    SimTime::from_nanos(j * JIFFY.as_nanos())
}

/// A timeout in whole jiffies, rounded up as `usecs_to_jiffies` does (the kernel keeps
/// `icsk_rto` in jiffies, `__tcp_set_rto`).
pub fn to_jiffies(d: SimTime) -> u64 {
    d.as_nanos().div_ceil(JIFFY.as_nanos())
}

/// The jiffy whose tick runs a timer due at `expires`, armed while the wheel's clock reads
/// `clk`, and the level of its slot (`calc_wheel_index`, `calc_index`): the further away, the
/// coarser the slot, and the expiry rounds up to the slot's next boundary so that the timer
/// never fires early. A timer due within 63 jiffies fires one jiffy after `expires`; further
/// out, on the next multiple of 8, 64, … jiffies.
pub fn bucket(expires: u64, clk: u64) -> (u64, u8) {
    let delta = expires.saturating_sub(clk);
    let start = |n: u32| ((1u64 << LVL_BITS) - 1) << ((n - 1) * LVL_CLK_SHIFT);
    let lvl = (1..LVL_DEPTH).find(|&n| delta < start(n)).map_or(LVL_DEPTH - 1, |n| n - 1);
    let shift = lvl * LVL_CLK_SHIFT;
    (((expires >> shift) + 1) << shift, lvl as u8)
}

/// A connection's retransmission timer while it sits in the wheel (`timer_pending`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Armed {
    /// The jiffy whose tick fires it.
    pub tick: u64,
    /// When it is due (`timer->expires`).
    pub expires: u64,
    /// Its place among the timers of its tick: the wheel's enqueue order.
    pub seq: u64,
}

/// One timer in a slot.
#[derive(Clone, Debug)]
pub struct Entry {
    pub seq: u64,
    pub level: u8,
    /// A request's SYN-ACK timer is pinned to its CPU (`reqsk_queue_hash_req`,
    /// net/ipv4/inet_connection_sock.c: `TIMER_PINNED`), and pinned timers live on a base of
    /// their own that expires first (`run_timer_softirq`: `BASE_LOCAL`, then `BASE_GLOBAL`).
    pub pinned: bool,
    pub ns: NsId,
    pub key: TcpKey,
}

/// TCP's timers by the jiffy whose tick fires them. An entry whose connection has moved its
/// timer since (a later `mod_timer`, or the connection gone) is stale and skipped.
#[derive(Clone, Debug, Default)]
pub struct Wheel {
    pub slots: BTreeMap<u64, Vec<Entry>>,
    pub next_seq: u64,
    /// A tick is being run: the wheel's clock is one jiffy ahead meanwhile (`__run_timers`
    /// sets `base->clk` past the jiffy it expires), which a timer armed from an expiring one
    /// sees.
    pub running: bool,
}

impl Wheel {
    /// `mod_timer`: the timer `old` (if pending) moved to `expires`. Returns the timer as it
    /// now stands and, when it went into a slot, the entry to keep there. A pending timer
    /// whose expiry is unchanged, or whose new expiry falls in the slot it is in, keeps its
    /// place (`__mod_timer`'s shortcut: "the same array bucket").
    pub fn arm(&mut self, old: Option<Armed>, expires: u64, now: SimTime) -> (Armed, Option<(u64, u8)>) {
        let clk = jiffies(now) + u64::from(self.running);
        let (tick, level) = bucket(expires, clk);
        if let Some(a) = old
            && (a.expires == expires || a.tick == tick)
        {
            return (Armed { expires, ..a }, None);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        (Armed { tick, expires, seq }, Some((tick, level)))
    }

    /// What a tick fires, in the order the kernel runs it: pinned timers' base first, then
    /// within a base the coarser levels first (`__run_timers` expires the slots it collected
    /// from the highest level down), and within a slot the most recently enqueued first
    /// (`enqueue_timer` adds at the list's head, `expire_timers` takes from it).
    pub fn take(&mut self, tick: u64) -> Vec<Entry> {
        let mut due = self.slots.remove(&tick).unwrap_or_default();
        due.sort_by_key(|e| std::cmp::Reverse((e.pinned, e.level, e.seq)));
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timer_never_fires_early_and_rounds_up_to_its_level() {
        // 51 jiffies (an RTO of 200 ms and a round trip of microseconds): level 0, one jiffy
        // after it is due.
        assert_eq!(bucket(100 + 51, 100), (152, 0));
        // 62 jiffies is the last of level 0; 63 goes to level 1, whose slots are 8 wide.
        assert_eq!(bucket(62, 0), (63, 0));
        assert_eq!(bucket(63, 0), (64, 1));
        // 1 s (250 jiffies) from jiffy 3: due at 253, fired at 256.
        assert_eq!(bucket(253, 3), (256, 1));
        // 2 s: still level 1 (up to 503 jiffies ahead); 4 s: level 2, slots of 64.
        assert_eq!(bucket(500, 0), (504, 1));
        assert_eq!(bucket(1000, 0), (1024, 2));
        assert_eq!(to_jiffies(SimTime::from_micros(200_050)), 51);
        assert_eq!(to_jiffies(SimTime::from_millis(200)), 50);
    }

    #[test]
    fn a_tick_fires_the_latest_enqueued_first_pinned_and_coarser_before() {
        let mut w = Wheel::default();
        let key = TcpKey { local: ([10, 0, 0, 1].into(), 1), remote: ([10, 0, 0, 2].into(), 2) };
        let mut put = |seq, level, pinned| {
            w.slots.entry(9).or_default().push(Entry { seq, level, pinned, ns: NsId(0), key });
        };
        put(0, 0, false);
        put(1, 0, false);
        put(2, 1, false);
        put(3, 0, true);
        let order: Vec<u64> = w.take(9).iter().map(|e| e.seq).collect();
        assert_eq!(order, [3, 2, 1, 0]);
    }

    #[test]
    fn a_timer_moved_within_its_slot_keeps_its_place() {
        let mut w = Wheel::default();
        let now = SimTime::from_millis(1);
        let (a, slot) = w.arm(None, 51, now);
        assert_eq!((a.tick, slot), (52, Some((52, 0))));
        let (b, slot) = w.arm(Some(a), 51, now);
        assert_eq!((b, slot), (a, None));
        let (c, slot) = w.arm(Some(a), 60, now);
        assert!(slot.is_some() && c.seq > a.seq && c.tick == 61);
    }
}
