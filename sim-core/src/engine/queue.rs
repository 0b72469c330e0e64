use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::{EventId, SimTime};

struct Entry<T> {
    time: SimTime,
    id: EventId,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, o: &Self) -> bool {
        self.time == o.time && self.id == o.id
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Entry<T> {
    // Min-heap on (time, id): events at the same instant run in the order they were scheduled.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.time, o.id).cmp(&(self.time, self.id))
    }
}

/// A priority queue of events keyed by (time, scheduling order). The id doubles as the
/// event's stable identity.
pub struct EventQueue<T> {
    heap: BinaryHeap<Entry<T>>,
    next_id: u64,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue { heap: BinaryHeap::new(), next_id: 0 }
    }
}

impl<T: Clone> Clone for EventQueue<T> {
    fn clone(&self) -> Self {
        EventQueue {
            heap: self.heap.iter().map(|e| Entry { time: e.time, id: e.id, item: e.item.clone() }).collect(),
            next_id: self.next_id,
        }
    }
}

impl<T> EventQueue<T> {
    pub fn push(&mut self, time: SimTime, item: T) -> EventId {
        let id = EventId(self.next_id);
        self.next_id += 1;
        self.heap.push(Entry { time, id, item });
        id
    }
    pub fn pop(&mut self) -> Option<(SimTime, EventId, T)> {
        self.heap.pop().map(|e| (e.time, e.id, e.item))
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
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, _, x)| x)).collect();
        assert_eq!(order, ["a", "b", "c", "d"]);
    }
}
