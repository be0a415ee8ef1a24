//! A short-lived memory, per server instance, of what a token or an access key stands for, so
//! a busy client's requests do not each cost a database lookup. An entry lives `CACHE_TTL`.
//! Revoking a token, or disabling or deleting a key, drops its entries at once on the instance
//! that made the change; the other instances notice within `CACHE_TTL` (keystonemiddleware,
//! the OpenStack services' own token check, caches tokens for 300 s by default).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const CACHE_TTL: Duration = Duration::from_secs(10);
/// Beyond this many live entries the cache starts over: a flood of distinct credentials costs
/// memory for a moment, never without bound.
const CAPACITY: usize = 10_000;

pub struct TtlCache<V> {
    entries: Mutex<Option<HashMap<String, (Instant, V)>>>,
}

impl<V: Clone> TtlCache<V> {
    pub const fn new() -> TtlCache<V> {
        TtlCache { entries: Mutex::new(None) }
    }

    fn with<T>(&self, work: impl FnOnce(&mut HashMap<String, (Instant, V)>) -> T) -> T {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        work(entries.get_or_insert_with(HashMap::new))
    }

    /// The value stored under `key`, unless it is older than `CACHE_TTL`.
    pub fn get(&self, key: &str) -> Option<V> {
        self.with(|entries| match entries.get(key) {
            Some((stored, value)) if stored.elapsed() < CACHE_TTL => Some(value.clone()),
            _ => None,
        })
    }

    pub fn put(&self, key: String, value: V) {
        self.with(|entries| {
            if entries.len() >= CAPACITY {
                entries.retain(|_, (stored, _)| stored.elapsed() < CACHE_TTL);
                if entries.len() >= CAPACITY {
                    entries.clear();
                }
            }
            entries.insert(key, (Instant::now(), value));
        })
    }

    /// Drops every entry whose key `matches`.
    pub fn forget(&self, matches: impl Fn(&str) -> bool) {
        self.with(|entries| entries.retain(|key, _| !matches(key)))
    }
}

impl<V: Clone> Default for TtlCache<V> {
    fn default() -> Self {
        TtlCache::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_kept_forgotten_and_bounded() {
        let cache = TtlCache::new();
        cache.put("a\n1".into(), 1);
        cache.put("b\n1".into(), 2);
        assert_eq!((cache.get("a\n1"), cache.get("b\n1"), cache.get("c")), (Some(1), Some(2), None));
        cache.forget(|key| key.starts_with("a\n"));
        assert_eq!((cache.get("a\n1"), cache.get("b\n1")), (None, Some(2)));
        for n in 0..CAPACITY + 5 {
            cache.put(n.to_string(), 0);
        }
        assert!(cache.with(|entries| entries.len()) <= CAPACITY);
    }
}
