//! Deterministic identifiers: `<prefix>_01` followed by 22 base58 characters.
//!
//! The first 8 characters encode a per-emulator counter and the other 14 a mix of the counter
//! and the id seed, so ids are reproducible from run to run and sort (as plain strings) in
//! creation order: the base58 alphabet used is in ASCII order. Lists whose objects share a
//! timestamp (the emulator clock only moves when told) therefore still have a stable,
//! creation-ordered tie-break.

use std::sync::atomic::{AtomicU64, Ordering};

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// A deterministic id source.
#[derive(Debug)]
pub(crate) struct IdGen {
    seed: u64,
    counter: AtomicU64,
}

impl IdGen {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            seed,
            counter: AtomicU64::new(0),
        }
    }

    /// The next id with this prefix (`user`, `invite`, `req`, ...).
    pub(crate) fn next(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        make_id(prefix, self.seed, n)
    }

    /// A UUID-shaped string (organization and compartment ids).
    pub(crate) fn next_uuid(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let a = splitmix(self.seed ^ n.wrapping_mul(0x9E37_79B9));
        let b = splitmix(a ^ 0xA5A5_5A5A);
        let hex = format!("{a:016x}{b:016x}");
        format!(
            "{}-{}-4{}-a{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    }
}

/// The id number `n` of generator `seed`.
pub(crate) fn make_id(prefix: &str, seed: u64, n: u64) -> String {
    let mut out = String::with_capacity(prefix.len() + 25);
    out.push_str(prefix);
    out.push_str("_01");
    push_base58(&mut out, n, 8);
    let mut mix = splitmix(seed ^ splitmix(n));
    for _ in 0..14 {
        out.push(char::from(ALPHABET[usize::try_from(mix % 58).unwrap_or(0)]));
        mix /= 58;
        if mix < 58 {
            mix = splitmix(mix ^ n ^ seed);
        }
    }
    out
}

fn push_base58(out: &mut String, mut n: u64, width: usize) {
    let mut digits = vec![b'1'; width];
    for slot in digits.iter_mut().rev() {
        *slot = ALPHABET[usize::try_from(n % 58).unwrap_or(0)];
        n /= 58;
    }
    out.push_str(std::str::from_utf8(&digits).unwrap_or_default());
}

/// SplitMix64: a fast, well-mixed 64-bit hash.
pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_documented_shape_and_sort_in_creation_order() {
        let ids = IdGen::new(7);
        let a = ids.next("user");
        let b = ids.next("user");
        assert!(a.starts_with("user_01"));
        assert_eq!(a.len(), "user_01".len() + 22);
        assert!(a[7..].bytes().all(|c| ALPHABET.contains(&c)));
        assert!(a < b);
        let c = make_id("user", 7, 70_000);
        assert!(b < c);
    }

    #[test]
    fn ids_are_reproducible_and_seed_dependent() {
        assert_eq!(make_id("wrkspc", 1, 5), make_id("wrkspc", 1, 5));
        assert_ne!(make_id("wrkspc", 1, 5), make_id("wrkspc", 2, 5));
        let uuid = IdGen::new(3).next_uuid();
        assert_eq!(uuid.len(), 36);
        assert_eq!(uuid.matches('-').count(), 4);
    }
}
