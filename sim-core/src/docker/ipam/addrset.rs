//! Compact set of allocated address offsets inside one pool, plus the serial-allocation
//! cursor — the model of moby's `addrset.AddrSet` over one `bitmap.Bitmap`
//! (`LN/internal/addrset/addrset.go`, `LN/bitmap/sequence.go`).
//!
//! Allocated offsets are stored as disjoint, non-adjacent runs `start -> end` (inclusive) in a
//! `BTreeMap`, so memory is proportional to the number of runs, not to the pool size: an
//! explicit `/8` costs nothing up front.

use std::collections::BTreeMap;

/// Allocated offsets `0..size` of one pool.
#[derive(Clone, Debug)]
pub(super) struct AddrSet {
    /// Runs of allocated offsets: start -> end (inclusive). Runs never touch or overlap.
    runs: BTreeMap<u64, u64>,
    /// Number of allocated offsets.
    len: u64,
    /// Number of offsets in the pool (1..=2^32).
    size: u64,
    /// Bitmap.curr: the ordinal after the last one handed out by a *dynamic* allocation
    /// (serial or not). Static allocations do not move it.
    cursor: u64,
}

impl AddrSet {
    pub(super) fn new(size: u64) -> Self {
        AddrSet { runs: BTreeMap::new(), len: 0, size, cursor: 0 }
    }

    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// The run containing `off`, if any.
    fn run_containing(&self, off: u64) -> Option<(u64, u64)> {
        self.runs.range(..=off).next_back().filter(|(_, e)| **e >= off).map(|(s, e)| (*s, *e))
    }

    pub(super) fn contains(&self, off: u64) -> bool {
        self.run_containing(off).is_some()
    }

    /// Marks `off` allocated. Returns false if it already was (or is outside the pool).
    pub(super) fn add(&mut self, off: u64) -> bool {
        if off >= self.size || self.contains(off) {
            return false;
        }
        let mut start = off;
        let mut end = off;
        if off > 0
            && let Some((s, _)) = self.run_containing(off - 1)
        {
            start = s;
        }
        if let Some(e) = self.runs.remove(&(off + 1)) {
            end = e;
        }
        self.runs.insert(start, end);
        self.len += 1;
        true
    }

    /// Marks `off` free. Returns false if it was not allocated. When the set becomes empty
    /// the cursor is reset (moby deletes the empty bitmap and makes a fresh one later).
    pub(super) fn remove(&mut self, off: u64) -> bool {
        let Some((s, e)) = self.run_containing(off) else {
            return false;
        };
        self.runs.remove(&s);
        if s < off {
            self.runs.insert(s, off - 1);
        }
        if off < e {
            self.runs.insert(off + 1, e);
        }
        self.len -= 1;
        if self.len == 0 {
            self.cursor = 0;
        }
        true
    }

    /// First free offset `>= from`, if it is `<= end`.
    fn first_free_from(&self, from: u64, end: u64) -> Option<u64> {
        let cand = match self.run_containing(from) {
            Some((_, e)) => e + 1,
            None => from,
        };
        (cand <= end && cand < self.size).then_some(cand)
    }

    /// `Bitmap.SetAnyInRange(start, end, serial)`: take the lowest free offset in
    /// `[start, end]`, or — when `serial` — the lowest one at or after the cursor, wrapping to
    /// `start` when there is none up to `end`. Moves the cursor past the result.
    pub(super) fn add_any(&mut self, start: u64, end: u64, serial: bool) -> Option<u64> {
        if self.len >= self.size || end < start || end >= self.size {
            return None;
        }
        let curr = if serial { self.cursor } else { 0 };
        let mut found = None;
        if curr != 0 && curr > start {
            found = self.first_free_from(curr, end);
        }
        if found.is_none() {
            found = self.first_free_from(start, end);
        }
        let off = found?;
        self.add(off);
        self.cursor = off + 1;
        Some(off)
    }

    /// Number of allocated offsets in `[lo, hi]`.
    pub(super) fn count_in(&self, lo: u64, hi: u64) -> u64 {
        if hi < lo {
            return 0;
        }
        let mut n = 0;
        // A run starting before `lo` may still reach into the window.
        if let Some((_, e)) = self.runs.range(..lo).next_back()
            && *e >= lo
        {
            n += e.min(&hi) - lo + 1;
        }
        for (s, e) in self.runs.range(lo..=hi) {
            n += e.min(&hi) - s + 1;
        }
        n
    }
}
