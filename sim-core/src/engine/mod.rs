//! The discrete-event engine: simulated time, a deterministic event queue, one seeded RNG.
//!
//! Nothing here reads the wall clock or OS entropy: the same scenario and seed replay the
//! same events in the same order, byte for byte.

mod queue;
mod time;

pub use queue::EventQueue;
pub use time::{CLOCK_MEANS, Civil, EPOCH_UNIX, ParseTimeError, SimTime, civil_from_days, days_from_civil};

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// An event's number: the n-th event to run is #n (`Sim::step`), in the hop log, the
/// capture's comments and the GUI alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EventId(pub u64);

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The simulation's only entropy source (ChaCha8, seeded by the scenario or `--seed`).
#[derive(Clone, Debug)]
pub struct SimRng(ChaCha8Rng);

impl SimRng {
    pub fn new(seed: u64) -> Self {
        SimRng(ChaCha8Rng::seed_from_u64(seed))
    }
    pub fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// Uniform in `lo..=hi` (small ranges; modulo bias is irrelevant at these sizes).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        lo + self.next_u64() % (hi - lo + 1)
    }
    /// A random locally administered unicast MAC, as the kernel's `eth_random_addr`.
    pub fn mac(&mut self) -> [u8; 6] {
        let mut m = [0u8; 6];
        self.0.fill_bytes(&mut m);
        m[0] &= 0xfe; // unicast
        m[0] |= 0x02; // locally administered
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_macs_are_local_unicast() {
        let (mut a, mut b) = (SimRng::new(7), SimRng::new(7));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
            let m = a.mac();
            assert_eq!(m[0] & 0x03, 0x02);
            b.mac();
        }
        assert_ne!(SimRng::new(7).next_u64(), SimRng::new(8).next_u64());
    }
}
