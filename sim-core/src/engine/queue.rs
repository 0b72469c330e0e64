use std::cmp::Ordering;
use std::collections::BinaryHeap;

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

/// A priority queue of events keyed by (time, scheduling order). An event's number is given
/// when it runs (`Sim::step`), not here.
#[derive(Clone)]
pub struct EventQueue<T> {
    heap: BinaryHeap<Entry>,
    slab: Vec<Option<T>>,
    free: Vec<u32>,
    next_seq: u64,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue { heap: BinaryHeap::new(), slab: Vec::new(), free: Vec::new(), next_seq: 0 }
    }
}

impl<T> EventQueue<T> {
    pub fn push(&mut self, time: SimTime, item: T) {
        let seq = self.next_seq;
        self.next_seq += 1;
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
    }
    pub fn pop(&mut self) -> Option<(SimTime, T)> {
        let e = self.heap.pop()?;
        let item = self.slab[e.slot as usize].take()?;
        self.free.push(e.slot);
        Some((e.time, item))
    }
    /// The next event, without taking it.
    pub fn peek(&self) -> Option<&T> {
        self.heap.peek().and_then(|e| self.slab[e.slot as usize].as_ref())
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
    }
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
    }
    pub fn len(&self) -> usize {
        self.heap.len()
    }
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
        for (t, x) in [(3, "c"), (1, "a"), (2, "drop"), (2, "b"), (4, "drop")] {
            q.push(SimTime(t), x);
        }
        q.retain(|x| *x != "drop");
        assert_eq!(q.len(), 3);
        assert_eq!(q.peek(), Some(&"a"));
        q.push(SimTime(5), "d");
        assert_eq!(q.slab.len(), 5, "a dropped event's slot is reused");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, x)| x)).collect();
        assert_eq!(order, ["a", "b", "c", "d"]);
    }
}
