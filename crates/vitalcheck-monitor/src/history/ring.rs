//! The fixed-capacity ring of the last N results, 8 bytes per entry.

use std::time::Duration;
use vitalcheck::Status;

/// The largest latency an entry holds: 2^30 - 1 µs (about 17 min 53 s); longer ones saturate.
pub(super) const MAX_LATENCY_MICROS: u32 = (1 << 30) - 1;

/// One result, packed: `at` in whole seconds since the Unix epoch (clamped to
/// 1970..2106), then the status in the low 2 bits and the latency in µs in the high 30.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Entry {
    at: u32,
    packed: u32,
}

impl Entry {
    /// Packs one result.
    pub(super) fn new(at_second: i64, status: Status, latency: Duration) -> Self {
        let at = u32::try_from(at_second.max(0)).unwrap_or(u32::MAX);
        let micros = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX).min(MAX_LATENCY_MICROS);
        let code = match status {
            Status::Healthy => 0,
            Status::Degraded => 1,
            Status::Unhealthy => 2,
        };
        Entry { at, packed: (micros << 2) | code }
    }

    /// Seconds since the Unix epoch.
    pub(super) fn at_second(self) -> i64 {
        i64::from(self.at)
    }

    /// The status.
    pub(super) fn status(self) -> Status {
        match self.packed & 0b11 {
            0 => Status::Healthy,
            1 => Status::Degraded,
            _ => Status::Unhealthy,
        }
    }

    /// The latency in µs.
    pub(super) fn latency_micros(self) -> u32 {
        self.packed >> 2
    }
}

/// A ring of entries allocated once at its full capacity; it never grows.
#[derive(Debug, Clone)]
pub(super) struct Ring {
    slots: Box<[Entry]>,
    /// Index of the oldest entry.
    start: u32,
    len: u32,
}

impl Ring {
    /// An empty ring of `capacity` slots (at least 1, at most `u32::MAX`).
    pub(super) fn new(capacity: usize) -> Self {
        Ring { slots: vec![Entry::default(); capacity].into_boxed_slice(), start: 0, len: 0 }
    }

    /// Appends `entry`, dropping the oldest when full.
    pub(super) fn push(&mut self, entry: Entry) {
        let cap = self.slots.len();
        let (start, len) = (self.start as usize, self.len as usize);
        if len < cap {
            self.slots[(start + len) % cap] = entry;
            self.len += 1;
        } else {
            self.slots[start] = entry;
            self.start = ((start + 1) % cap) as u32;
        }
    }

    /// The entries, oldest first.
    pub(super) fn iter(&self) -> impl DoubleEndedIterator<Item = Entry> + '_ {
        let (start, len) = (self.start as usize, self.len as usize);
        let first = (self.slots.len() - start).min(len);
        self.slots[start..start + first].iter().chain(&self.slots[..len - first]).copied()
    }

    /// How many entries it holds.
    pub(super) fn len(&self) -> usize {
        self.len as usize
    }

    /// Bytes allocated on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.slots)
    }
}
