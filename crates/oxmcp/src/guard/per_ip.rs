//! Counts per client address (connections, sessions), each bounded; an entry leaves the
//! map when its count is back to 0, so the map holds only addresses in use.

use std::net::IpAddr;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::connection::FastMap;

/// Counts per address, shared by the slots it hands out.
#[derive(Debug, Default, Clone)]
pub(crate) struct PerIp {
    counts: Arc<Mutex<FastMap<IpAddr, usize>>>,
}

/// One unit of an address's count; given back when dropped.
#[derive(Debug)]
pub(crate) struct IpSlot {
    counts: Arc<Mutex<FastMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut map = self.counts.lock();
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

impl PerIp {
    /// One more for `ip`, unless it holds `max` already.
    pub(crate) fn try_acquire(&self, ip: IpAddr, max: usize) -> Option<IpSlot> {
        let mut map = self.counts.lock();
        let n = map.entry(ip).or_insert(0);
        if *n >= max {
            if *n == 0 {
                map.remove(&ip);
            }
            return None;
        }
        *n += 1;
        Some(IpSlot {
            counts: self.counts.clone(),
            ip,
        })
    }

    /// Addresses with a count.
    #[cfg(test)]
    pub(crate) fn addresses(&self) -> usize {
        self.counts.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_is_bounded_and_forgotten_at_zero() {
        let per = PerIp::default();
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 3].into();
        let s1 = per.try_acquire(a, 2);
        let s2 = per.try_acquire(a, 2);
        assert!(s1.is_some() && s2.is_some());
        assert!(per.try_acquire(a, 2).is_none());
        assert!(
            per.try_acquire(b, 2).is_some(),
            "another address is not affected"
        );
        drop((s1, s2));
        assert_eq!(per.addresses(), 0);
    }
}
