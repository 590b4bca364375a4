//! A fast hasher for the lookups of marshalling: vertex addresses and op digests.
//!
//! SipHash, the standard library's default, guards against inputs chosen to collide; these
//! keys are pointers and SHA-256 digests, which no input can steer, and hashing them took a
//! few percent of writing a 10,000-op Definition. Maps keyed this way are only looked up,
//! never iterated, so their order cannot reach any output.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// The Fx hash (as in rustc): rotate, xor, multiply, eight bytes at a time.
#[derive(Clone, Copy, Default)]
pub(crate) struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A `HashSet` with [`FxHasher`].
pub(crate) type FxHashSet<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_hash_alike_and_lookups_work() {
        let mut map: FxHashMap<&str, usize> = FxHashMap::default();
        let keys = ["sha256:00", "sha256:01", "", "a", "abcdefgh", "abcdefghi"];
        for (i, k) in keys.iter().enumerate() {
            map.insert(k, i);
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(map.get(*k), Some(&i));
        }
        let mut set: FxHashSet<usize> = FxHashSet::default();
        assert!(set.insert(8) && !set.insert(8) && set.insert(16));
    }
}
