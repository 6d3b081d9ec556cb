//! Time-bucketed (up, total) counters in tiers, rolling with time.
//!
//! Each tier is a ring of `buckets` counters, each covering `width` seconds aligned to the
//! Unix epoch (bucket index `i` covers `[i * width, (i + 1) * width)`). One timestamp, the
//! newest seen, fixes the head bucket of every tier; moving it forward clears the buckets
//! it passes, so old counts fall out and nothing is allocated after construction.

use super::Tier;

/// Results and the up ones among them, in one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Bucket {
    up: u32,
    total: u32,
}

/// The counters of all tiers, back to back in one allocation.
#[derive(Debug, Clone)]
pub(super) struct Buckets {
    slots: Box<[Bucket]>,
    /// The newest second recorded, `i64::MIN` before the first result.
    newest: i64,
}

impl Buckets {
    /// Zeroed counters for `tiers`.
    pub(super) fn new(tiers: &[Tier]) -> Self {
        let total = tiers.iter().map(|t| t.buckets as usize).sum();
        Buckets { slots: vec![Bucket::default(); total].into_boxed_slice(), newest: i64::MIN }
    }

    /// Counts one result at `at` (seconds since the epoch). A result older than a tier's
    /// oldest bucket is not counted in that tier.
    pub(super) fn record(&mut self, tiers: &[Tier], at: i64, up: bool) {
        let previous = self.newest;
        if at > previous {
            self.newest = at;
        }
        let mut offset = 0;
        for tier in tiers {
            let (width, len) = (i64::from(tier.width_seconds()), i64::from(tier.buckets));
            let slots = &mut self.slots[offset..offset + tier.buckets as usize];
            offset += tier.buckets as usize;
            let head = self.newest.div_euclid(width);
            if at > previous && previous != i64::MIN {
                let old_head = previous.div_euclid(width);
                if head - old_head >= len {
                    slots.fill(Bucket::default());
                } else {
                    for i in old_head + 1..=head {
                        slots[i.rem_euclid(len) as usize] = Bucket::default();
                    }
                }
            }
            let index = at.div_euclid(width);
            if head - index < len {
                let bucket = &mut slots[index.rem_euclid(len) as usize];
                bucket.total = bucket.total.saturating_add(1);
                bucket.up = bucket.up.saturating_add(u32::from(up));
            }
        }
    }

    /// Sums tier `tier`'s buckets `first..=last` (bucket indices), skipping those it no
    /// longer (or does not yet) hold.
    /// Returns (up, total).
    pub(super) fn sum(&self, tiers: &[Tier], tier: usize, first: i64, last: i64) -> (u64, u64) {
        let (mut up, mut total) = (0, 0);
        if self.newest == i64::MIN {
            return (0, 0);
        }
        let offset: usize = tiers[..tier].iter().map(|t| t.buckets as usize).sum();
        let spec = &tiers[tier];
        let (width, len) = (i64::from(spec.width_seconds()), i64::from(spec.buckets));
        let head = self.newest.div_euclid(width);
        let slots = &self.slots[offset..offset + spec.buckets as usize];
        for i in first.max(head - len + 1)..=last.min(head) {
            let bucket = slots[i.rem_euclid(len) as usize];
            up += u64::from(bucket.up);
            total += u64::from(bucket.total);
        }
        (up, total)
    }

    /// Bytes allocated on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.slots)
    }
}
