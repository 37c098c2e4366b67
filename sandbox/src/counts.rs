//! Request counters per endpoint and outcome, for tests that assert how often a client
//! called the provider (e.g. "one refresh, not two").

use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub(crate) struct Counts {
    map: Mutex<BTreeMap<String, u64>>,
}

impl Counts {
    pub(crate) fn bump(&self, key: &str) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(key.to_owned()).or_default() += 1;
    }

    pub(crate) fn get(&self, key: &str) -> u64 {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).copied().unwrap_or(0)
    }

    pub(crate) fn snapshot(&self) -> BTreeMap<String, u64> {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn reset(&self) {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
