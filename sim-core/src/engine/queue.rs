use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use super::SimTime;

/// The heap holds only small keys; payloads sit in a slab so sifting moves 24 bytes, not a
/// whole event with its frame.
#[derive(Clone, Copy)]
struct Entry {
    time: SimTime,
    /// Scheduling order: what breaks a tie between events of one instant.
    seq: u64,
    slot: u32,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.time == o.time && self.seq == o.seq
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    // Min-heap on (time, seq): events at the same instant run in the order they were scheduled.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.time, o.seq).cmp(&(self.time, self.seq))
    }
}

/// Events scheduled a fixed delay after the instant being run (a veth crossing, loopback)
/// arrive in time order by construction: each is `now + d` with `now` never going back. Such
/// an event is appended to a FIFO lane for its delay instead of sifting through the heap,
/// which is most events of a run (two of a UDP datagram's three on a LAN). A lane keyed by
/// one delay stays sorted by (time, seq), so the next event is the least of the heap's top
/// and the lanes' fronts: the order is exactly the heap's alone.
const LANES: usize = 4;
/// `fronts[HEAP]` is the heap's top; `fronts[i]` lane i's front.
const HEAP: usize = LANES;

/// (time, seq) as one number that orders the same way; `u128::MAX` for nothing.
fn key(time: SimTime, seq: u64) -> u128 {
    (u128::from(time.0) << 64) | u128::from(seq)
}

#[derive(Clone)]
struct Lane<T> {
    items: VecDeque<(SimTime, u64, T)>,
}

/// A priority queue of events keyed by (time, scheduling order). An event's number is given
/// when it runs (`Sim::step`), not here.
#[derive(Clone)]
pub struct EventQueue<T> {
    heap: BinaryHeap<Entry>,
    slab: Vec<Option<T>>,
    free: Vec<u32>,
    next_seq: u64,
    lanes: Vec<Lane<T>>,
    /// The delay of each lane made so far, apart from its items: every push looks its delay
    /// up here, among a few numbers in one cache line.
    delays: [u64; LANES],
    /// The key of each lane's front and of the heap's top, so the next event is found
    /// among a few numbers (the engine asks for it several times per event).
    fronts: [u128; LANES + 1],
    /// Which of `fronts` is least.
    next: usize,
    /// The time of the last event taken: no event is ever scheduled before it.
    now: SimTime,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            lanes: Vec::new(),
            delays: [0; LANES],
            fronts: [u128::MAX; LANES + 1],
            next: HEAP,
            now: SimTime::ZERO,
        }
    }
}

impl<T> EventQueue<T> {
    /// Inlined into the event loop, which pushes every event it runs: as a call, each event
    /// was copied to memory to be handed over.
    #[inline(always)]
    pub fn push(&mut self, time: SimTime, item: T) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let k = key(time, seq);
        if time >= self.now {
            let delay = time.0 - self.now.0;
            let made = self.lanes.len();
            // The lane for this delay, or an empty one taken over for it.
            let lane = match self.delays[..made].iter().position(|&d| d == delay) {
                Some(i) => Some(i),
                None => match self.lanes.iter().position(|l| l.items.is_empty()) {
                    Some(i) => {
                        self.delays[i] = delay;
                        Some(i)
                    }
                    None if made < LANES => {
                        self.lanes.push(Lane { items: VecDeque::new() });
                        self.delays[made] = delay;
                        Some(made)
                    }
                    None => None,
                },
            };
            if let Some(i) = lane {
                let items = &mut self.lanes[i].items;
                if items.is_empty() {
                    self.fronts[i] = k;
                }
                items.push_back((time, seq, item));
                self.pushed(i, k);
                return;
            }
        }
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(item);
                s
            }
            None => {
                self.slab.push(Some(item));
                (self.slab.len() - 1) as u32
            }
        };
        self.heap.push(Entry { time, seq, slot });
        self.fronts[HEAP] = self.fronts[HEAP].min(k);
        self.pushed(HEAP, k);
    }

    /// The newest event is scheduled last, so it comes first only if it is strictly earlier.
    #[inline]
    fn pushed(&mut self, at: usize, k: u128) {
        if k < self.fronts[self.next] {
            self.next = at;
        }
    }

    #[inline(always)]
    fn find_next(&mut self) {
        // Every lane, made or not (one not made has no front: `u128::MAX` never wins), in a
        // loop of fixed length, which is unrolled with no test of how many lanes there are.
        let mut best = HEAP;
        for i in 0..LANES {
            if self.fronts[i] < self.fronts[best] {
                best = i;
            }
        }
        self.next = best;
    }

    /// Inlined into the event loop (its one hot caller): as a call, the event it takes is
    /// copied out through memory and the loop's registers saved around it.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(SimTime, T)> {
        if self.fronts[self.next] == u128::MAX {
            return None;
        }
        let (time, item) = if self.next == HEAP {
            let e = self.heap.pop()?;
            self.fronts[HEAP] = self.heap.peek().map_or(u128::MAX, |e| key(e.time, e.seq));
            let item = self.slab[e.slot as usize].take()?;
            self.free.push(e.slot);
            (e.time, item)
        } else {
            let i = self.next;
            let items = &mut self.lanes[i].items;
            let (time, _, item) = items.pop_front()?;
            self.fronts[i] = items.front().map_or(u128::MAX, |&(t, s, _)| key(t, s));
            (time, item)
        };
        // An event scheduled in the past (none is, but the heap takes it) does not move the
        // clock back: the lanes stay sorted only while `now` never decreases.
        self.now = self.now.max(time);
        self.find_next();
        Some((time, item))
    }
    /// The next event, without taking it.
    pub fn peek(&self) -> Option<&T> {
        if self.next == HEAP {
            self.heap.peek().and_then(|e| self.slab[e.slot as usize].as_ref())
        } else {
            self.lanes[self.next].items.front().map(|x| &x.2)
        }
    }
    /// The scheduling number the next push gets (`take_since`).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Takes out the events pushed since the push numbered `seq` (`next_seq` then), in the
    /// order they were pushed, so that others can be queued ahead of them.
    pub fn take_since(&mut self, seq: u64) -> Vec<(SimTime, T)> {
        let mut out: Vec<(u64, SimTime, T)> = Vec::new();
        // A lane's scheduling numbers grow from front to back: the newest are its last.
        for l in &mut self.lanes {
            while l.items.back().is_some_and(|x| x.1 >= seq) {
                if let Some((t, s, x)) = l.items.pop_back() {
                    out.push((s, t, x));
                }
            }
        }
        let mut taken = Vec::new();
        self.heap.retain(|e| {
            let old = e.seq < seq;
            if !old {
                taken.push(*e);
            }
            old
        });
        for e in taken {
            if let Some(x) = self.slab[e.slot as usize].take() {
                self.free.push(e.slot);
                out.push((e.seq, e.time, x));
            }
        }
        out.sort_by_key(|x| x.0);
        self.fronts[HEAP] = self.heap.peek().map_or(u128::MAX, |e| key(e.time, e.seq));
        for (i, l) in self.lanes.iter().enumerate() {
            self.fronts[i] = l.items.front().map_or(u128::MAX, |&(t, s, _)| key(t, s));
        }
        self.find_next();
        out.into_iter().map(|(_, t, x)| (t, x)).collect()
    }

    /// Drops the events `keep` refuses; the others keep their times and order.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let slab = &mut self.slab;
        let free = &mut self.free;
        self.heap.retain(|e| {
            let kept = slab[e.slot as usize].as_ref().is_some_and(&mut keep);
            if !kept {
                slab[e.slot as usize] = None;
                free.push(e.slot);
            }
            kept
        });
        self.fronts[HEAP] = self.heap.peek().map_or(u128::MAX, |e| key(e.time, e.seq));
        for (i, l) in self.lanes.iter_mut().enumerate() {
            l.items.retain(|x| keep(&x.2));
            self.fronts[i] = l.items.front().map_or(u128::MAX, |&(t, s, _)| key(t, s));
        }
        self.find_next();
    }
    pub fn peek_time(&self) -> Option<SimTime> {
        let k = self.fronts[self.next];
        (k != u128::MAX).then_some(SimTime((k >> 64) as u64))
    }
    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(|l| l.items.len()).sum::<usize>()
    }
    pub fn is_empty(&self) -> bool {
        self.fronts[self.next] == u128::MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_break_by_scheduling_order() {
        let mut q = EventQueue::default();
        q.push(SimTime(5), "b");
        q.push(SimTime(1), "a");
        q.push(SimTime(5), "c");
        q.push(SimTime(5), "d");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, x)| x)).collect();
        assert_eq!(order, ["a", "b", "c", "d"]);
    }

    #[test]
    fn retain_keeps_order_and_reuses_slots() {
        let mut q = EventQueue::default();
        // Four delays fill the lanes; 5, 6 and 7 go to the heap.
        for (t, x) in [(3, "c"), (1, "a"), (2, "drop"), (2, "b"), (4, "drop"), (5, "d"), (6, "drop"), (7, "e")] {
            q.push(SimTime(t), x);
        }
        assert_eq!(q.slab.len(), 3);
        q.retain(|x| *x != "drop");
        assert_eq!(q.len(), 5);
        assert_eq!(q.peek(), Some(&"a"));
        q.push(SimTime(8), "f");
        assert_eq!(q.slab.len(), 3, "a dropped event's slot is reused");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, x)| x)).collect();
        assert_eq!(order, ["a", "b", "c", "d", "e", "f"]);
    }

    proptest::proptest! {
        /// Whatever lanes take, events come out in (time, scheduling order), as from one heap.
        #[test]
        fn lanes_keep_the_heap_order(ops in proptest::collection::vec((0u8..4, 0u64..12), 1..400)) {
            let mut q = EventQueue::default();
            let mut model: Vec<(SimTime, u64)> = Vec::new();
            let (mut now, mut seq) = (SimTime::ZERO, 0u64);
            for (op, d) in ops {
                if op == 0 {
                    let got = q.pop();
                    model.sort();
                    let want = (!model.is_empty()).then(|| model.remove(0));
                    proptest::prop_assert_eq!(got, want);
                    if let Some((t, _)) = want {
                        now = now.max(t);
                    }
                } else {
                    // Delays from a few common values and many rare ones: more than the lanes;
                    // now and then a time before the clock, which only the heap takes.
                    let delay = if op == 1 { d } else { d % 3 };
                    let t = if op == 3 && d > 9 { SimTime(now.0.saturating_sub(d - 9)) } else { SimTime(now.0 + delay) };
                    q.push(t, seq);
                    model.push((t, seq));
                    seq += 1;
                }
                proptest::prop_assert_eq!(q.len(), model.len());
                proptest::prop_assert_eq!(q.peek_time(), model.iter().min().map(|x| x.0));
            }
        }
    }
}
