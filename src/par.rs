//! Parallel only when it pays. Starting rayon's pool (its threads, the
//! cgroup files read to size it) costs the hook more than the work of a
//! commit of a few files: those are done on this thread.

use rayon::prelude::*;

/// Blobs read and prefiltered: a few microseconds each.
pub const MIN_BLOBS: usize = 64;

/// Modules parsed and analysed: tens of microseconds each.
pub const MIN_MODULES: usize = 8;

/// `f` of every item, in order: on rayon's pool when there are at least
/// `min_parallel` items, on this thread otherwise.
pub fn map<T: Sync, R: Send>(items: &[T], min_parallel: usize, f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    if items.len() < min_parallel { items.iter().map(f).collect() } else { items.par_iter().map(f).collect() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_ways_give_the_same_items_in_order() {
        let items: Vec<u32> = (0..100).collect();
        let square = |x: &u32| x * x;
        assert_eq!(super::map(&items, usize::MAX, square), super::map(&items, 0, square));
        assert_eq!(super::map(&items, 0, square)[7], 49);
    }
}
