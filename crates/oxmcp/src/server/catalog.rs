//! An ordered, live-editable collection with cursor pagination.
//!
//! Entries keep the order they were added in. Each gets a sequence number; a cursor says
//! "after sequence N", so paging stays exact while entries are added or removed: an entry
//! present for the whole walk is seen exactly once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Debug)]
pub(crate) struct Catalog<T> {
    by_seq: BTreeMap<u64, (String, Arc<T>)>,
    by_name: HashMap<String, u64>,
    next: u64,
}

impl<T> Default for Catalog<T> {
    fn default() -> Self {
        Catalog {
            by_seq: BTreeMap::new(),
            by_name: HashMap::new(),
            next: 1,
        }
    }
}

impl<T> Catalog<T> {
    /// Adds or replaces (keeping its place) the entry named `name`.
    pub(crate) fn insert(&mut self, name: String, value: T) {
        let value = Arc::new(value);
        if let Some(seq) = self.by_name.get(&name) {
            self.by_seq.insert(*seq, (name, value));
        } else {
            let seq = self.next;
            self.next += 1;
            self.by_name.insert(name.clone(), seq);
            self.by_seq.insert(seq, (name, value));
        }
    }

    pub(crate) fn remove(&mut self, name: &str) -> bool {
        match self.by_name.remove(name) {
            Some(seq) => self.by_seq.remove(&seq).is_some(),
            None => false,
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<Arc<T>> {
        self.by_name
            .get(name)
            .and_then(|s| self.by_seq.get(s))
            .map(|(_, v)| v.clone())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_seq.is_empty()
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &Arc<T>> {
        self.by_seq.values().map(|(_, v)| v)
    }

    /// Up to `size` entries after position `after`, and the position to continue from if
    /// more remain.
    pub(crate) fn page(&self, after: u64, size: usize) -> (Vec<Arc<T>>, Option<u64>) {
        let mut items = Vec::with_capacity(size.min(self.by_seq.len()));
        let mut last = after;
        let mut iter = self.by_seq.range(after.saturating_add(1)..);
        for (seq, (_, v)) in iter.by_ref().take(size) {
            items.push(v.clone());
            last = *seq;
        }
        let more = iter.next().is_some();
        (items, more.then_some(last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_stay_exact_under_edits() {
        let mut c = Catalog::default();
        for i in 0..10 {
            c.insert(format!("t{i}"), i);
        }
        let (first, next) = c.page(0, 4);
        assert_eq!(
            first.iter().map(|v| **v).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        c.remove("t2");
        c.remove("t5");
        c.insert("t10".into(), 10);
        c.insert("t0".into(), 100); // replaced in place
        let (second, next2) = c.page(next.unwrap(), 4);
        assert_eq!(
            second.iter().map(|v| **v).collect::<Vec<_>>(),
            vec![4, 6, 7, 8]
        );
        let (third, end) = c.page(next2.unwrap(), 4);
        assert_eq!(third.iter().map(|v| **v).collect::<Vec<_>>(), vec![9, 10]);
        assert_eq!(end, None);
        assert_eq!(c.get("t0").map(|v| *v), Some(100));
    }
}
