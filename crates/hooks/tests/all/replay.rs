//! The replay cache: bounded in time and size.

use claimscript_hooks::{HookError, ReplayCache};

#[test]
fn ids_are_kept_until_their_window_ends() {
    let mut cache = ReplayCache::new(10);
    cache
        .check_and_insert("a", 1_300, 1_000)
        .expect("must succeed");
    assert_eq!(
        cache.check_and_insert("a", 1_300, 1_299),
        Err(HookError::Replayed { id: "a".into() })
    );
    // At expiry the id is forgotten (a replay then fails the timestamp check).
    cache
        .check_and_insert("a", 1_600, 1_300)
        .expect("must succeed");
    assert_eq!(cache.len(), 1);
    // An id already outside its window is not stored.
    cache
        .check_and_insert("old", 900, 1_000)
        .expect("must succeed");
    assert_eq!(cache.len(), 1);
    cache.purge(1_600);
    assert!(cache.is_empty());
}

#[test]
fn a_full_cache_evicts_the_soonest_to_expire_and_counts_it() {
    let mut cache = ReplayCache::new(3);
    cache
        .check_and_insert("late", 2_000, 1_000)
        .expect("must succeed");
    cache
        .check_and_insert("soon", 1_100, 1_000)
        .expect("must succeed");
    cache
        .check_and_insert("mid", 1_500, 1_000)
        .expect("must succeed");
    cache
        .check_and_insert("new", 1_900, 1_000)
        .expect("must succeed");
    assert_eq!(cache.len(), 3);
    assert_eq!(cache.evicted(), 1);
    // "soon" was evicted; the others are still refused.
    cache
        .check_and_insert("soon", 1_100, 1_001)
        .expect("must succeed");
    assert_eq!(cache.evicted(), 2);
    assert!(cache.check_and_insert("late", 2_000, 1_001).is_err());
    assert!(cache.check_and_insert("new", 1_900, 1_001).is_err());
    assert_eq!(ReplayCache::new(0).capacity(), 1);
}
