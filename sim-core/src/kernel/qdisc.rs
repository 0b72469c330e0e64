//! A device's root qdisc other than the default: netem, the network emulator that labs use
//! to make a link slow or lossy (`tc qdisc add dev eth1 root netem delay 50ms loss 20%`).
//!
//! What is modelled is what `net/sched/sch_netem.c` does on enqueue: a packet is lost with
//! the `loss` probability (silently: the sender is told it was sent, `NET_XMIT_SUCCESS |
//! __NET_XMIT_BYPASS`), else it leaves at `now + delay` (± a uniform `jitter`, as
//! `tabledist` draws when no distribution table was given), and with a `rate` not before the
//! last queued packet has left, plus the time its own bytes take (`packet_time_ns`). A packet
//! is seen by `tcpdump` on the device only when it leaves (the capture tap is after the
//! qdisc, in `dev_hard_start_xmit`), and a lost one never. More than `limit` packets waiting
//! are dropped. Correlation, duplication, corruption, reordering by `gap` and slotting are
//! refused by name.
//!
//! Hand-written: no crate parses tc's words; the units are tc's (tc(8) *PARAMETERS*).

use std::collections::VecDeque;

use crate::engine::SimTime;

/// netem's parameters, from the words after `netem`.
#[derive(Clone, Debug, PartialEq)]
pub struct Netem {
    pub delay: SimTime,
    pub jitter: SimTime,
    /// Loss probability in parts of `u32::MAX`, as the kernel keeps it (`get_percent`).
    pub loss: u32,
    /// Bytes per second (tc takes bits and divides), 0 for no limit.
    pub rate: u64,
    pub limit: u32,
}

/// netem's default queue length (`tc-netem(8)`: limit 1000).
pub const DEFAULT_LIMIT: u32 = 1000;

impl Netem {
    /// Parses what follows `netem` on a tc command line.
    pub fn parse(words: &[&str]) -> Result<Netem, String> {
        let mut n = Netem { delay: SimTime::ZERO, jitter: SimTime::ZERO, loss: 0, rate: 0, limit: DEFAULT_LIMIT };
        let mut i = 0;
        let arg = |i: usize, what: &str| -> Result<&str, String> {
            words.get(i).copied().ok_or_else(|| format!("Illegal \"{what}\": it needs a value"))
        };
        while i < words.len() {
            match words[i] {
                "delay" | "latency" => {
                    n.delay = tc_time(arg(i + 1, "latency")?)?;
                    i += 2;
                    if let Some(j) = words.get(i).and_then(|w| tc_time(w).ok()) {
                        n.jitter = j;
                        i += 1;
                        if words.get(i).is_some_and(|w| percent(w).is_ok()) {
                            return Err(format!("netsim: netem: a correlation (`{}`) is not modelled", words[i]));
                        }
                    }
                }
                "loss" | "drop" => {
                    i += 1;
                    if words.get(i) == Some(&"random") {
                        i += 1;
                    }
                    if let Some(w @ ("state" | "gemodel")) = words.get(i).copied() {
                        return Err(format!("netsim: netem: the `loss {w}` model is not modelled, only `loss P%`"));
                    }
                    n.loss = percent(arg(i, "loss percent")?)?;
                    i += 1;
                    if words.get(i).is_some_and(|w| percent(w).is_ok()) {
                        return Err(format!("netsim: netem: a correlation (`{}`) is not modelled", words[i]));
                    }
                }
                "rate" => {
                    n.rate = tc_rate(arg(i + 1, "rate")?)?;
                    i += 2;
                }
                "limit" => {
                    let v = arg(i + 1, "limit")?;
                    n.limit = v.parse().map_err(|_| format!("Illegal \"limit\": `{v}`"))?;
                    i += 2;
                }
                w @ ("duplicate" | "corrupt" | "reorder" | "gap" | "distribution" | "slot" | "ecn") => {
                    return Err(format!(
                        "netsim: netem `{w}` is not modelled (delay, jitter, loss, rate and limit are)"
                    ));
                }
                w => {
                    return Err(format!(
                        "What is \"{w}\"?\nUsage: ... netem [ limit PACKETS ] [ delay TIME [ JITTER ] ] [ loss PERCENT ] [ rate RATE ]"
                    ));
                }
            }
        }
        Ok(n)
    }

    /// `tc qdisc show`'s words for it (iproute2 `tc/q_netem.c`, `netem_print_opt`).
    pub fn show(&self) -> String {
        let mut s = format!("limit {}", self.limit);
        if self.delay > SimTime::ZERO {
            s += &format!(" delay {}", show_time(self.delay));
            if self.jitter > SimTime::ZERO {
                s += &format!("  {}", show_time(self.jitter));
            }
        }
        if self.loss > 0 {
            s += &format!(" loss {}%", g3(self.loss as f64 * 100.0 / u32::MAX as f64));
        }
        if self.rate > 0 {
            s += &format!(" rate {}", show_rate(self.rate * 8));
        }
        s
    }
}

/// tc's `%g` of a percentage or a time: at most three significant digits, no trailing zeros.
fn g3(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// iproute2's `sprint_time`: seconds, milliseconds or microseconds.
fn show_time(t: SimTime) -> String {
    let us = t.as_nanos() as f64 / 1000.0;
    if us >= 1e6 {
        format!("{}s", g3(us / 1e6))
    } else if us >= 1e3 {
        format!("{}ms", g3(us / 1e3))
    } else {
        format!("{}us", us.round())
    }
}

/// iproute2's `sprint_rate`: bits per second in the largest unit it divides by, unless that
/// leaves a fraction of a small number.
fn show_rate(bits: u64) -> String {
    let units = ["bit", "Kbit", "Mbit", "Gbit", "Tbit"];
    let mut rate = bits as f64;
    let mut i = 0;
    while i < units.len() - 1 {
        if rate < 1000.0 || (rate % 1000.0 != 0.0 && rate < 1e6) {
            break;
        }
        rate /= 1000.0;
        i += 1;
    }
    format!("{rate:.0}{}", units[i])
}

/// A time as tc reads it (`get_time`): a number and `s`, `ms`, `us` (or their long forms);
/// a bare number is microseconds.
pub fn tc_time(w: &str) -> Result<SimTime, String> {
    let cut = w.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(w.len());
    let (num, unit) = w.split_at(cut);
    let v: f64 = num.parse().map_err(|_| format!("Illegal time \"{w}\""))?;
    let ns = match unit {
        "s" | "sec" | "secs" => 1e9,
        "ms" | "msec" | "msecs" => 1e6,
        "" | "us" | "usec" | "usecs" => 1e3,
        _ => return Err(format!("Illegal time \"{w}\"")),
    };
    Ok(SimTime::from_nanos((v * ns).round() as u64))
}

/// A rate as tc reads it (`get_rate64`): bits per second (`bit`, `kbit`, `mbit`, `gbit`, a
/// bare number) or bytes (`bps`, `kbps`, `mbps`, `gbps`); `k` is 1000, `ki` 1024. Returns
/// bytes per second.
pub fn tc_rate(w: &str) -> Result<u64, String> {
    let cut = w.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(w.len());
    let (num, unit) = w.split_at(cut);
    let v: f64 = num.parse().map_err(|_| format!("Illegal \"rate\": \"{w}\""))?;
    let lower = unit.to_ascii_lowercase();
    let (scale, bytes) = match lower.as_str() {
        "" | "bit" => (1.0, false),
        "kbit" => (1e3, false),
        "mbit" => (1e6, false),
        "gbit" => (1e9, false),
        "kibit" => (1024.0, false),
        "mibit" => (1024.0 * 1024.0, false),
        "bps" => (1.0, true),
        "kbps" => (1e3, true),
        "mbps" => (1e6, true),
        "gbps" => (1e9, true),
        _ => return Err(format!("Illegal \"rate\": \"{w}\"")),
    };
    let bits = if bytes { v * scale * 8.0 } else { v * scale };
    if bits < 8.0 {
        return Err(format!("Illegal \"rate\": \"{w}\""));
    }
    Ok((bits / 8.0).round() as u64)
}

/// A percentage as tc reads it (`get_percent`): `20%` or `20`.
fn percent(w: &str) -> Result<u32, String> {
    let v: f64 = w.strip_suffix('%').unwrap_or(w).parse().map_err(|_| format!("Illegal \"loss percent\": \"{w}\""))?;
    if !(0.0..=100.0).contains(&v) {
        return Err(format!("Illegal \"loss percent\": \"{w}\""));
    }
    Ok((v / 100.0 * u32::MAX as f64).round() as u32)
}

/// A netem qdisc on a device: its parameters and what it holds.
#[derive(Clone, Debug)]
pub struct Qdisc {
    pub netem: Netem,
    /// The words it was made from, as the plan holds them.
    pub spec: String,
    /// When each packet still queued leaves, in order of enqueue.
    pending: VecDeque<SimTime>,
    /// The generator of loss and jitter: SplitMix64 over this state, seeded from the
    /// device, so a run repeats itself and one qdisc's draws do not shift the world's.
    state: u64,
    pub sent: u64,
    pub dropped: u64,
    /// Its major handle (`8001:`), as `tc qdisc show` prints it.
    pub handle: u32,
    /// Bumped when it forgets what it holds (`reset`).
    pub generation: u32,
}

/// What netem does with one packet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    /// It leaves at this time.
    At(SimTime),
    Lost,
    /// More than `limit` packets are waiting.
    Overlimit,
}

impl Qdisc {
    pub fn new(spec: &str, seed: u64) -> Result<Qdisc, String> {
        let words: Vec<&str> = spec.split_whitespace().collect();
        let netem = Netem::parse(&words)?;
        Ok(Qdisc {
            netem,
            spec: spec.to_string(),
            pending: VecDeque::new(),
            state: seed,
            sent: 0,
            dropped: 0,
            handle: 0x8001,
            generation: 0,
        })
    }

    /// `tc qdisc change` (or `replace` by another netem): `netem_change` takes the new
    /// parameters for the packets to come; the packets it holds keep the times they were
    /// given, and its handle, counters and random state stay.
    pub fn change(&mut self, spec: &str) -> Result<(), String> {
        let words: Vec<&str> = spec.split_whitespace().collect();
        self.netem = Netem::parse(&words)?;
        self.spec = spec.to_string();
        Ok(())
    }

    /// Forgets what it holds (`qdisc_reset`): frames already scheduled are dropped when they
    /// come to leave, as they carry an older `generation`.
    pub fn reset(&mut self) {
        self.pending.clear();
        self.generation = self.generation.wrapping_add(1);
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `netem_enqueue` for a packet of `len` bytes at `now`.
    pub fn enqueue(&mut self, now: SimTime, len: usize) -> Verdict {
        while self.pending.front().is_some_and(|t| *t <= now) {
            self.pending.pop_front();
        }
        let n = self.netem.clone();
        // The kernel draws loss first (`q->loss && q->loss >= get_crandom(...)`).
        if n.loss > 0 && (self.next() as u32) < n.loss {
            self.dropped += 1;
            return Verdict::Lost;
        }
        if self.pending.len() >= n.limit as usize {
            self.dropped += 1;
            return Verdict::Overlimit;
        }
        let mut delay = n.delay.as_nanos() as i64;
        if n.jitter > SimTime::ZERO {
            let sigma = n.jitter.as_nanos();
            delay += (self.next() % (2 * sigma)) as i64 - sigma as i64;
        }
        let mut at = SimTime::from_nanos((now.as_nanos() as i64 + delay.max(0)) as u64);
        if let Some(wire) = (len as u64 * 1_000_000_000).checked_div(n.rate) {
            // With a rate, the last packet queued is the reference: this one leaves after it,
            // plus its own bytes' time on the wire.
            if let Some(last) = self.pending.back().copied().filter(|l| *l > now) {
                at = at.max(last);
            }
            at += SimTime::from_nanos(wire);
        }
        // tfifo: in the order the packets leave, which a jitter or a change of the delay can
        // make other than the order they came in.
        let i = self.pending.partition_point(|t| *t <= at);
        self.pending.insert(i, at);
        self.sent += 1;
        Verdict::At(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tc_words_and_shows_them_as_tc_does() {
        let n = Netem::parse(&["delay", "50ms", "10ms", "loss", "20%", "rate", "1mbit"]).unwrap();
        assert_eq!(n.delay, SimTime::from_millis(50));
        assert_eq!(n.jitter, SimTime::from_millis(10));
        assert_eq!(n.rate, 125_000);
        assert_eq!(n.show(), "limit 1000 delay 50ms  10ms loss 20% rate 1Mbit");
        assert_eq!(Netem::parse(&["delay", "1.5s"]).unwrap().show(), "limit 1000 delay 1.5s");
        assert_eq!(Netem::parse(&["delay", "250"]).unwrap().delay, SimTime::from_micros(250));
        assert_eq!(Netem::parse(&["loss", "random", "0.5%"]).unwrap().show(), "limit 1000 loss 0.5%");
        assert_eq!(Netem::parse(&["rate", "1500kbit"]).unwrap().show(), "limit 1000 rate 1500Kbit");
        assert!(Netem::parse(&["loss", "20%", "25%"]).unwrap_err().starts_with("netsim:"));
        assert!(Netem::parse(&["duplicate", "1%"]).unwrap_err().contains("not modelled"));
        assert!(Netem::parse(&["delya", "1ms"]).unwrap_err().starts_with("What is \"delya\"?"));
        assert!(Netem::parse(&["loss", "120%"]).is_err());
    }

    #[test]
    fn a_rate_spaces_packets_by_their_length() {
        // 1 Mbit/s: 1250 bytes take 10 ms; three at once leave 10, 20 and 30 ms later.
        let mut q = Qdisc::new("rate 1mbit", 1).unwrap();
        let t0 = SimTime::from_secs(1);
        let got: Vec<Verdict> = (0..3).map(|_| q.enqueue(t0, 1250)).collect();
        let ms = |m| Verdict::At(t0 + SimTime::from_millis(m));
        assert_eq!(got, vec![ms(10), ms(20), ms(30)]);
        // Once the queue has drained, a packet waits only for itself.
        assert_eq!(q.enqueue(t0 + SimTime::from_millis(100), 1250), ms(110));
    }

    #[test]
    fn loss_drops_about_its_share_and_repeats_with_the_seed() {
        let run = |seed| {
            let mut q = Qdisc::new("loss 20%", seed).unwrap();
            (0..10_000).map(|_| q.enqueue(SimTime::ZERO, 100) == Verdict::Lost).collect::<Vec<bool>>()
        };
        let lost = run(7).iter().filter(|x| **x).count();
        assert!((1800..2200).contains(&lost), "{lost} of 10000 lost at 20%");
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn more_than_limit_waiting_is_dropped() {
        let mut q = Qdisc::new("delay 1s limit 2", 1).unwrap();
        assert!(matches!(q.enqueue(SimTime::ZERO, 100), Verdict::At(_)));
        assert!(matches!(q.enqueue(SimTime::ZERO, 100), Verdict::At(_)));
        assert_eq!(q.enqueue(SimTime::ZERO, 100), Verdict::Overlimit);
        assert!(matches!(q.enqueue(SimTime::from_secs(2), 100), Verdict::At(_)));
    }
}
