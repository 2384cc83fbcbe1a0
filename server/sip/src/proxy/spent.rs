//! What the proxy keeps of a transaction that is over except for absorbing
//! repeats (RFC 3261 Timers D, I, J, K and RFC 6026's Accepted state): the
//! last answer for a repeated request, the ACK for a repeated failure, and
//! where a repeated 2xx goes. A few hundred bytes instead of the whole
//! transaction with its parsed requests, so that a busy minute does not
//! fill the table of calls in progress.
//!
//! Keys and branch ids are kept as 64-bit digests under a per-process
//! random seed (a stranger cannot aim at a collision, and by chance one
//! among 100,000 records is about 1 in 10^9). The store is bounded by an
//! estimate of its heap bytes; past the budget the oldest record goes
//! first. A record dropped early only means a very late repeat is treated
//! as new: a repeated BYE is forwarded again and answered 481 by the far
//! end; an INVITE is not repeated once it had its 100 Trying, which the
//! proxy sends at once.

use std::{
    collections::{hash_map::RandomState, HashMap, VecDeque},
    hash::BuildHasher,
};

use super::Peer;
use crate::time::Mono;

/// Heap bytes the store may hold (an estimate of what the tables and
/// buffers take). About 1.1 KB per proxied call (its INVITE and BYE), so
/// at 4,000 calls per second a record lives about 7 s (Kamailio keeps its
/// transactions 5 s).
pub const BUDGET: usize = 32 << 20;

/// What a record costs besides its buffers: its slots in the tables (with
/// their spare capacity), and each branch's. Calibrated with a counting
/// allocator: 40,000 records held 535 bytes each, all included.
const RECORD_OVERHEAD: usize = 384;
const BRANCH_OVERHEAD: usize = 96;

/// A branch of a spent transaction.
#[derive(Debug)]
pub struct Branch {
    /// The digest of our branch id ([`Store::digest`]).
    pub id: u64,
    pub peer: Peer,
    /// A failed INVITE branch: the ACK that a repeated failure gets again.
    pub ack: Option<Box<[u8]>>,
    /// It answered an INVITE with 2xx: repeats of that 2xx go up.
    pub accepted: bool,
}

/// A spent transaction.
#[derive(Debug)]
pub struct Spent {
    /// The caller: the only address answers go to.
    pub source: Peer,
    /// A non-INVITE's final answer, for a repeated request.
    pub reply: Option<Box<[u8]>>,
    pub branches: Vec<Branch>,
    /// Repeats are absorbed until then.
    pub until: Mono,
}

impl Spent {
    fn cost(&self) -> usize {
        let branches: usize = self
            .branches
            .iter()
            .map(|b| BRANCH_OVERHEAD + b.ack.as_ref().map_or(0, |a| a.len()))
            .sum();
        RECORD_OVERHEAD + self.reply.as_ref().map_or(0, |r| r.len()) + branches
    }
}

/// Spent transactions by the digest of their key, and their branches by
/// the digest of their id.
#[derive(Debug)]
pub struct Store {
    seed: RandomState,
    by_key: HashMap<u64, (Spent, usize)>,
    /// Our branch id -> the key of its transaction.
    by_branch: HashMap<u64, u64>,
    /// Keys in the order they came (the oldest first out).
    order: VecDeque<u64>,
    bytes: usize,
    budget: usize,
}

impl Store {
    pub fn new(budget: usize) -> Self {
        Self {
            seed: RandomState::new(),
            by_key: HashMap::new(),
            by_branch: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            budget,
        }
    }

    /// What the store keeps of a transaction key or a branch id.
    pub fn digest(&self, s: &str) -> u64 {
        self.seed.hash_one(s)
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// The estimate of the heap bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn insert(&mut self, key: &str, mut spent: Spent) {
        // A list collected from the transaction's branches reuses their
        // buffer (about a kilobyte each): keep only what the record needs.
        spent.branches.shrink_to_fit();
        let key = self.digest(key);
        let cost = spent.cost();
        if let Some((old, old_cost)) = self.by_key.remove(&key) {
            // Not expected (a key is spent once), but the count stays true
            // and the key keeps its one place in the order.
            self.bytes -= old_cost;
            self.forget_branches(&old);
        } else {
            self.order.push_back(key);
        }
        for b in &spent.branches {
            self.by_branch.insert(b.id, key);
        }
        self.by_key.insert(key, (spent, cost));
        self.bytes += cost;
        while self.bytes > self.budget {
            if !self.pop_oldest() {
                break;
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&Spent> {
        self.by_key.get(&self.digest(key)).map(|(s, _)| s)
    }

    /// The spent transaction that `branch` (our id) belongs to, and that
    /// branch.
    pub fn by_branch(&self, branch: &str) -> Option<(&Spent, &Branch)> {
        let id = self.digest(branch);
        let (spent, _) = self.by_key.get(self.by_branch.get(&id)?)?;
        let b = spent.branches.iter().find(|b| b.id == id)?;
        Some((spent, b))
    }

    /// Drops what is over. Records live 5 to 32 s, so one that ends early
    /// may wait behind an older one: the byte budget still holds.
    pub fn expire(&mut self, now: Mono) {
        while let Some(key) = self.order.front() {
            let over = self.by_key.get(key).is_none_or(|(s, _)| s.until <= now);
            if !over {
                break;
            }
            self.pop_oldest();
        }
    }

    fn pop_oldest(&mut self) -> bool {
        let Some(key) = self.order.pop_front() else {
            return false;
        };
        if let Some((spent, cost)) = self.by_key.remove(&key) {
            self.bytes -= cost;
            self.forget_branches(&spent);
        }
        true
    }

    fn forget_branches(&mut self, spent: &Spent) {
        for b in &spent.branches {
            self.by_branch.remove(&b.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_spent_twice_keeps_one_record_and_its_branches() {
        let mut s = Store::new(1 << 20);
        s.insert("k", spent(&s, "b1", 10));
        let cost = s.bytes;
        s.insert("k", spent(&s, "b1", 20));
        assert_eq!((s.order.len(), s.by_key.len(), s.bytes), (1, 1, cost));
        assert!(s.by_branch("b1").is_some());
        assert_eq!(s.get("k").map(|r| r.until), Some(Mono(20)));
    }

    fn spent(s: &Store, branch: &str, until: i64) -> Spent {
        Spent {
            source: Peer {
                addr: "127.0.0.1:5071".parse().expect("address"),
                tcp: false,
            },
            reply: Some(vec![0; 400].into_boxed_slice()),
            branches: vec![Branch {
                id: s.digest(branch),
                peer: Peer {
                    addr: "127.0.0.1:5080".parse().expect("address"),
                    tcp: false,
                },
                ack: None,
                accepted: true,
            }],
            until: Mono(until),
        }
    }

    #[test]
    fn past_the_budget_the_oldest_goes_first() {
        let mut s = Store::new(0);
        let one = spent(&s, "b1", 0).cost();
        s.budget = 2 * one + one / 2;
        s.insert("k1", spent(&s, "b1", 32_000));
        s.insert("k2", spent(&s, "b2", 32_000));
        assert_eq!((s.len(), s.bytes()), (2, 2 * one));
        s.insert("k3", spent(&s, "b3", 32_000));
        assert_eq!(s.len(), 2);
        assert!(s.get("k1").is_none() && s.by_branch("b1").is_none());
        assert!(s.get("k2").is_some() && s.by_branch("b3").is_some());
        assert!(s.bytes() <= 2 * one + one / 2);
    }

    #[test]
    fn a_record_keeps_no_spare_room() {
        let mut s = Store::new(BUDGET);
        let mut one = spent(&s, "b1", 5_000);
        one.branches.reserve(16);
        s.insert("k1", one);
        let (kept, _) = s.by_branch("b1").expect("kept");
        assert_eq!(kept.branches.capacity(), 1);
    }

    #[test]
    fn records_end_at_their_time() {
        let mut s = Store::new(BUDGET);
        s.insert("k1", spent(&s, "b1", 5_000));
        s.insert("k2", spent(&s, "b2", 32_000));
        s.expire(Mono(4_999));
        assert_eq!(s.len(), 2);
        s.expire(Mono(5_000));
        assert!(s.get("k1").is_none() && s.by_branch("b1").is_none());
        s.expire(Mono(32_000));
        assert_eq!((s.len(), s.bytes()), (0, 0));
        assert!(s.by_branch("b2").is_none());
    }
}
