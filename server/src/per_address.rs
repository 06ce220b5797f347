//! Caps on what one client address holds at once: open connections and open streams.
//!
//! Room and viewer limits protect the server; these protect everyone else from one client.
//! Without them one address could take all of a room's viewer slots in under a second, or
//! every file descriptor the server has. An address is an IPv4 address or an IPv6 /64 (one
//! subscriber), as for the room-creation rate.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex, PoisonError},
};

use ipnet::IpNet;

use crate::{
    limits::client_key,
    metrics::{Metrics, Rejection},
};

/// Counts of what each address holds, each bounded by `max`.
pub struct AddressSlots {
    max: usize,
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One slot of one address, given back when dropped.
pub struct AddressSlot {
    key: IpAddr,
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl AddressSlots {
    pub fn new(max: usize) -> Self {
        Self {
            max,
            held: Arc::default(),
        }
    }

    /// A slot for `client`, unless it holds `max` already.
    pub fn try_take(&self, client: IpAddr) -> Option<AddressSlot> {
        let key = client_key(client);
        // Critical sections are one map update.
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(key).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            key,
            held: Arc::clone(&self.held),
        })
    }

    /// Addresses holding at least one slot.
    #[cfg(test)]
    fn addresses(&self) -> usize {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// The accept loop's cap on connections per address. Trusted reverse proxies carry many
/// clients on their connections and are exempt (their clients are capped by stream).
pub struct ConnectionGate {
    slots: AddressSlots,
    exempt: Vec<IpNet>,
    metrics: Arc<Metrics>,
}

/// Whether a new connection may be served.
pub enum Admission {
    /// Within the cap; the slot is held while the connection is.
    Slot(AddressSlot),
    /// From a trusted proxy: not capped.
    Exempt,
    Refused,
}

impl ConnectionGate {
    pub fn new(max: usize, exempt: Vec<IpNet>, metrics: Arc<Metrics>) -> Self {
        Self {
            slots: AddressSlots::new(max),
            exempt,
            metrics,
        }
    }

    pub fn admit(&self, peer: IpAddr) -> Admission {
        if self
            .exempt
            .iter()
            .any(|net| net.contains(&peer.to_canonical()))
        {
            return Admission::Exempt;
        }
        if let Some(slot) = self.slots.try_take(peer) {
            Admission::Slot(slot)
        } else {
            self.metrics.reject(Rejection::ConnectionLimit);
            Admission::Refused
        }
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.key) {
            *count -= 1;
            // An address that holds nothing costs nothing: the map does not grow with churn.
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_max_and_gets_slots_back() {
        let slots = AddressSlots::new(2);
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        let first = slots.try_take(a).expect("first");
        let _second = slots.try_take(a).expect("second");
        assert!(slots.try_take(a).is_none(), "third from the same address");
        assert!(
            slots.try_take(b).is_some(),
            "other addresses are not affected"
        );
        drop(first);
        assert!(
            slots.try_take(a).is_some(),
            "a slot given back is free again"
        );
    }

    #[test]
    fn one_ipv6_subscriber_is_one_address_and_the_map_forgets_idle_ones() {
        let slots = AddressSlots::new(1);
        let one: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let held = slots.try_take(one).expect("first");
        assert!(slots.try_take(same_64).is_none());
        drop(held);
        assert_eq!(slots.addresses(), 0);
    }
}
