use std::fmt;
use std::ops::{Add, Sub};

use serde::{Deserialize, Serialize};

/// What the run's clock means, for the hop log's legend and the GUI's timeline: a reader
/// comparing a time with a machine's should know which durations are Linux's and which are
/// not (docs/linux-model.md, "The simulator's clock").
pub const CLOCK_MEANS: &str = "times are simulated seconds since the lab began. Linux's timers \
(ARP, TCP retransmission and delayed ACK, conntrack, neighbour states) run at Linux's times, and \
a docker command takes as long as it took on Docker Engine 20.10. A veth crossing takes 12 µs \
and a program runs 90 µs after its socket has something for it, as measured on Linux 6.18; \
the kernel's own forwarding and answers (ARP, an echo reply, an ACK) take none. So frames come \
in the kernel's order and a ping or an HTTP exchange takes about as long as on a machine, \
without its jitter (docs/linux-model.md, \"The simulator's clock\").";

/// Simulated time in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);
    pub const fn from_nanos(n: u64) -> Self {
        SimTime(n)
    }
    pub const fn from_micros(n: u64) -> Self {
        SimTime(n * 1_000)
    }
    pub const fn from_millis(n: u64) -> Self {
        SimTime(n * 1_000_000)
    }
    pub const fn from_secs(n: u64) -> Self {
        SimTime(n * 1_000_000_000)
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    pub fn saturating_sub(self, o: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(o.0))
    }
}

impl Add for SimTime {
    type Output = SimTime;
    fn add(self, o: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(o.0))
    }
}

impl std::ops::AddAssign for SimTime {
    fn add_assign(&mut self, o: SimTime) {
        *self = *self + o;
    }
}

impl Sub for SimTime {
    type Output = SimTime;
    fn sub(self, o: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(o.0))
    }
}

impl SimTime {
    /// `seconds.nanoseconds`, nine digits after the point, made on the stack.
    fn text(self, buf: &mut [u8; 32]) -> &str {
        let mut n = buf.len();
        let (mut secs, mut nanos) = (self.0 / 1_000_000_000, self.0 % 1_000_000_000);
        for _ in 0..9 {
            n -= 1;
            buf[n] = b'0' + (nanos % 10) as u8;
            nanos /= 10;
        }
        n -= 1;
        buf[n] = b'.';
        loop {
            n -= 1;
            buf[n] = b'0' + (secs % 10) as u8;
            secs /= 10;
            if secs == 0 {
                break;
            }
        }
        std::str::from_utf8(&buf[n..]).unwrap_or("?")
    }

    /// Appends the time right-aligned in `width` columns, as `{:>width}` does: every line of
    /// the hop log starts with it, so it is pushed without the formatting machinery.
    pub fn push_to(self, s: &mut String, width: usize) {
        let mut buf = [0; 32];
        let text = self.text(&mut buf);
        for _ in text.len()..width {
            s.push(' ');
        }
        s.push_str(text);
    }
}

/// `1.000123456` — seconds with nanoseconds, as `tcpdump -tt --nano` prints.
/// The same span as a `std::time::Duration`, for a backend that waits in real time (the
/// simulator itself never does).
impl From<SimTime> for std::time::Duration {
    fn from(t: SimTime) -> Self {
        std::time::Duration::from_nanos(t.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0; 32];
        f.pad(self.text(&mut buf))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseTimeError(pub String);

impl fmt::Display for ParseTimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a time: write a number with a unit, like 1.5s, 200ms, 10us or 500ns", self.0)
    }
}

impl std::error::Error for ParseTimeError {}

impl std::str::FromStr for SimTime {
    type Err = ParseTimeError;
    /// Accepts `1.5s`, `200ms`, `10us`, `500ns`, `2m` (minutes) and a bare `0`.
    fn from_str(s: &str) -> Result<Self, ParseTimeError> {
        let err = || ParseTimeError(s.to_string());
        let t = s.trim();
        if t == "0" {
            return Ok(SimTime::ZERO);
        }
        let split = t.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(err)?;
        let (num, unit) = t.split_at(split);
        let scale: u64 = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" | "min" => 60_000_000_000,
            _ => return Err(err()),
        };
        // Integer and fractional parts separately, so 0.1s is exactly 100 ms.
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        if int.is_empty() && frac.is_empty() {
            return Err(err());
        }
        let int: u64 = if int.is_empty() { 0 } else { int.parse().map_err(|_| err())? };
        let mut ns = int.checked_mul(scale).ok_or_else(err)?;
        if !frac.is_empty() {
            if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
                return Err(err());
            }
            let f: u64 = frac.parse().map_err(|_| err())?;
            let digits = 10u64.pow(frac.len() as u32);
            ns = ns.checked_add(f * scale / digits).ok_or_else(err)?;
        }
        Ok(SimTime(ns))
    }
}

impl Serialize for SimTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_multiple_of(1_000_000_000) {
            s.collect_str(&format_args!("{}s", self.0 / 1_000_000_000))
        } else if self.0.is_multiple_of(1_000_000) {
            s.collect_str(&format_args!("{}ms", self.0 / 1_000_000))
        } else if self.0.is_multiple_of(1_000) {
            s.collect_str(&format_args!("{}us", self.0 / 1_000))
        } else {
            s.collect_str(&format_args!("{}ns", self.0))
        }
    }
}

impl<'de> Deserialize<'de> for SimTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The wall-clock second a run's time 0 stands for: 2026-11-28T12:00:00Z, the date every
/// printed time is counted from (`docker inspect`'s `Created`, dig's `WHEN`).
pub const EPOCH_UNIX: u64 = 1_795_867_200;

impl SimTime {
    /// The wall-clock time this simulated time stands for, on the run's date: Unix seconds
    /// and the nanoseconds into that second.
    pub fn wall(self) -> (i64, u32) {
        (EPOCH_UNIX as i64 + (self.0 / 1_000_000_000) as i64, (self.0 % 1_000_000_000) as u32)
    }
}

/// A Unix second as the calendar names it (UTC), for the programs that print dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    /// 1–12.
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
    /// Days since 1970-01-01, a Thursday.
    days: i64,
}

impl Civil {
    pub fn of(unix: i64) -> Civil {
        let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        Civil { year, month, day, hour: secs / 3600, minute: secs / 60 % 60, second: secs % 60, days }
    }

    /// `Sat`, as C's `%a` in the C locale.
    pub fn weekday(&self) -> &'static str {
        ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][self.days.rem_euclid(7) as usize]
    }

    /// `Nov`, as C's `%b` in the C locale.
    pub fn month_name(&self) -> &'static str {
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][(self.month - 1) as usize]
    }
}

/// The proleptic Gregorian date (year, month 1–12, day 1–31) of a day counted from
/// 1970-01-01 (Howard Hinnant's `civil_from_days`, from his paper on date algorithms).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The inverse: the day counted from 1970-01-01 of a date (`days_from_civil`).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_to_is_right_aligned_display() {
        for t in [0, 1, 999_999_999, 1_000_000_000, 117_149_880, 12_345_678_901_234_567] {
            let t = SimTime(t);
            for width in [0, 5, 14, 30] {
                let mut s = String::from(">");
                t.push_to(&mut s, width);
                assert_eq!(s, format!(">{t:>width$}"));
            }
        }
    }

    #[test]
    fn parses_units_exactly() {
        assert_eq!("1.5s".parse::<SimTime>().unwrap(), SimTime::from_millis(1500));
        assert_eq!("0.1s".parse::<SimTime>().unwrap(), SimTime::from_millis(100));
        assert_eq!("200ms".parse::<SimTime>().unwrap(), SimTime::from_millis(200));
        assert_eq!("10us".parse::<SimTime>().unwrap(), SimTime::from_micros(10));
        assert_eq!("7ns".parse::<SimTime>().unwrap(), SimTime(7));
        assert_eq!("0".parse::<SimTime>().unwrap(), SimTime::ZERO);
        for bad in ["", "s", "1", "1x", "-1s", "1.2.3s", "1e3s", "99999999999999999999s"] {
            assert!(bad.parse::<SimTime>().is_err(), "{bad}");
        }
    }

    #[test]
    fn display_is_seconds_dot_nanos() {
        assert_eq!(SimTime(1_000_000_123).to_string(), "1.000000123");
    }
}
