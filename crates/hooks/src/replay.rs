//! A bounded cache of message ids already accepted, for replay protection.

use std::collections::{BTreeSet, HashMap};

use crate::error::HookError;

/// The default capacity of a [`ReplayCache`].
pub const DEFAULT_REPLAY_CAPACITY: usize = 65_536;

/// Message ids accepted recently, each kept until its signed timestamp
/// leaves the tolerance window (after that a replay fails the timestamp
/// check anyway). Bounded in time and in size; pure: the caller passes the
/// current time.
///
/// Only ids whose signature verified are inserted, so the cache cannot be
/// filled by someone without the secret. When it is full of unexpired ids,
/// the one expiring soonest is evicted to make room (issuance keeps
/// working; that id's replay protection ends early) and
/// [`ReplayCache::evicted`] counts it, for a metric.
#[derive(Debug, Clone)]
pub struct ReplayCache {
    capacity: usize,
    by_id: HashMap<String, i64>,
    by_expiry: BTreeSet<(i64, String)>,
    evicted: u64,
}

impl Default for ReplayCache {
    fn default() -> Self {
        ReplayCache::new(DEFAULT_REPLAY_CAPACITY)
    }
}

impl ReplayCache {
    /// An empty cache holding at most `capacity` ids (at least 1).
    pub fn new(capacity: usize) -> ReplayCache {
        ReplayCache {
            capacity: capacity.max(1),
            by_id: HashMap::new(),
            by_expiry: BTreeSet::new(),
            evicted: 0,
        }
    }

    /// Refuse `id` if it is held and unexpired at `now` (Unix seconds);
    /// otherwise remember it until `expires_at` (Unix seconds).
    pub fn check_and_insert(
        &mut self,
        id: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), HookError> {
        self.purge(now);
        if self.by_id.contains_key(id) {
            return Err(HookError::Replayed { id: id.to_string() });
        }
        if expires_at <= now {
            // Already outside its window: nothing to remember.
            return Ok(());
        }
        while self.by_id.len() >= self.capacity {
            let Some((_, oldest)) = self.by_expiry.pop_first() else {
                break;
            };
            self.by_id.remove(&oldest);
            self.evicted += 1;
        }
        self.by_id.insert(id.to_string(), expires_at);
        self.by_expiry.insert((expires_at, id.to_string()));
        Ok(())
    }

    /// Drop every id expired at `now`.
    pub fn purge(&mut self, now: i64) {
        while let Some((expiry, _)) = self.by_expiry.first() {
            if *expiry > now {
                break;
            }
            if let Some((_, id)) = self.by_expiry.pop_first() {
                self.by_id.remove(&id);
            }
        }
    }

    /// How many ids are held.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no id is held.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many unexpired ids were evicted because the cache was full.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }
}
