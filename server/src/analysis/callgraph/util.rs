//! Small shared helpers: a fast non-cryptographic hasher for the many integer-keyed maps of the
//! extractor and the solver, and a string interner.
//!
//! The standard library's SipHash resists hash flooding, which matters for maps keyed by
//! attacker-chosen strings in a server, but the maps here are keyed by small integers and by
//! identifiers of the program being analysed, where SipHash's cost showed up and flooding is no
//! concern (a pathological file only slows its own analysis down).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use super::resolve::NO;

/// The multiply-rotate hash used by rustc ("FxHash").
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
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
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;
pub(crate) type FxMap<K, V> = HashMap<K, V, FxBuild>;
pub(crate) type FxSet<K> = HashSet<K, FxBuild>;

/// Dense `u32` ids indexed by the hash of what each names, without holding a second copy of
/// it (as a map keyed by the values would): the map gives the last id added with a hash, the
/// others with the same hash are chained through `next`, by id. The owner keeps the values
/// and compares them in `find`.
#[derive(Default, Clone, Debug)]
pub(crate) struct HashChains {
    heads: FxMap<u64, u32>,
    next: Vec<u32>,
}

const END: u32 = u32::MAX;

impl HashChains {
    pub(crate) fn hash<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
        use std::hash::BuildHasher;
        FxBuild::default().hash_one(value)
    }

    /// The first id chained under `h` for which `is_it` holds.
    pub(crate) fn find(&self, h: u64, mut is_it: impl FnMut(u32) -> bool) -> Option<u32> {
        let mut i = self.heads.get(&h).copied().unwrap_or(END);
        while i != END {
            if is_it(i) {
                return Some(i);
            }
            i = self.next[i as usize];
        }
        None
    }

    /// Indexes `id` under `h`; ids are added in order, `id` being the number added so far.
    pub(crate) fn push(&mut self, h: u64, id: u32) {
        debug_assert_eq!(id as usize, self.next.len());
        let head = self.heads.insert(h, id).unwrap_or(END);
        self.next.push(head);
    }

    /// Takes `id` (indexed under `h`) out of the index; its id is not reused.
    pub(crate) fn remove(&mut self, h: u64, id: u32) {
        let Some(&head) = self.heads.get(&h) else {
            return;
        };
        let next = self.next[id as usize];
        if head == id {
            if next == END {
                self.heads.remove(&h);
            } else {
                self.heads.insert(h, next);
            }
            return;
        }
        let mut i = head;
        while i != END {
            let after = self.next[i as usize];
            if after == id {
                self.next[i as usize] = next;
                return;
            }
            i = after;
        }
    }

    /// How many distinct hashes are indexed.
    pub(crate) fn hashes(&self) -> usize {
        self.heads.len()
    }

    /// The capacity of the chains (one `u32` per id).
    pub(crate) fn chain_capacity(&self) -> usize {
        self.next.capacity()
    }

    /// Gives back the unused capacity of the chains.
    pub(crate) fn shrink_chains(&mut self) {
        self.next.shrink_to_fit();
    }
}

/// A hash index of dense `u32` ids whose keys are stored elsewhere (edges in the edge array,
/// values in the value array): 4 bytes and a control byte per slot, where a map keyed by the
/// keys themselves held a second copy of each (16 bytes for an edge's key). Ids are only
/// added. The owner hashes keys with `HashChains::hash` and compares them in `find`; `insert`
/// takes the hash of any id already in the table, for when it grows.
#[derive(Default, Clone, Debug)]
pub(crate) struct IdTable {
    table: hashbrown::HashTable<u32>,
}

impl IdTable {
    /// The id under `h` for which `is_it` holds.
    pub(crate) fn find(&self, h: u64, mut is_it: impl FnMut(u32) -> bool) -> Option<u32> {
        self.table.find(h, |&id| is_it(id)).copied()
    }

    /// Indexes `id` under `h` (the caller knows no id with an equal key is there).
    pub(crate) fn insert(&mut self, h: u64, id: u32, hash_of: impl Fn(u32) -> u64) {
        self.table.insert_unique(h, id, |&i| hash_of(i));
    }

    /// Bytes held: a `u32` and a control byte per slot.
    pub(crate) fn heap_bytes(&self) -> usize {
        // Slots are a power of two at least 8/7 of the capacity.
        (self.table.capacity() * 8 / 7).next_power_of_two() * 5
    }
}

/// Where each global id of one kind (op, site or definition) lives: its module slot and its
/// local index there, `NO` as the local index once the id is retired. Both are packed in one
/// `u32` (14 bits of slot, 18 of local index) where an id fits, which is every id of
/// programs of up to 16,383 modules of up to 262,142 ops each; the others are kept in a map.
/// Half the size of a `(u32, u32)` per id, for the millions of ops of a large program.
#[derive(Default, Clone, Debug)]
pub(crate) struct LocTable {
    packed: Vec<u32>,
    overflow: FxMap<u32, (u32, u32)>,
}

const LOC_LOCAL_BITS: u32 = 18;
const LOC_LOCAL_MASK: u32 = (1 << LOC_LOCAL_BITS) - 1;
/// The local index code of a retired id.
const LOC_RETIRED: u32 = LOC_LOCAL_MASK - 1;
/// A packed entry saying "look in the overflow map".
const LOC_OVERFLOW: u32 = u32::MAX;
const LOC_MAX_SLOT: u32 = (1 << (32 - LOC_LOCAL_BITS)) - 2;

impl LocTable {
    fn pack((slot, local): (u32, u32)) -> Option<u32> {
        let code = if local == NO {
            LOC_RETIRED
        } else if local < LOC_RETIRED {
            local
        } else {
            return None;
        };
        (slot <= LOC_MAX_SLOT).then_some((slot << LOC_LOCAL_BITS) | code)
    }

    pub(crate) fn len(&self) -> usize {
        self.packed.len()
    }

    /// Where `id` lives, if it was ever given out.
    pub(crate) fn get(&self, id: u32) -> Option<(u32, u32)> {
        let p = *self.packed.get(id as usize)?;
        if p == LOC_OVERFLOW {
            return self.overflow.get(&id).copied();
        }
        let code = p & LOC_LOCAL_MASK;
        let local = if code == LOC_RETIRED { NO } else { code };
        Some((p >> LOC_LOCAL_BITS, local))
    }

    /// Gives out the next id, living at `loc`; returns it.
    pub(crate) fn push(&mut self, loc: (u32, u32)) -> u32 {
        let id = self.len() as u32;
        self.packed.push(LOC_OVERFLOW);
        self.set(id, loc);
        id
    }

    /// Moves `id` (already given out) to `loc`.
    pub(crate) fn set(&mut self, id: u32, loc: (u32, u32)) {
        let Some(entry) = self.packed.get_mut(id as usize) else {
            return;
        };
        match Self::pack(loc) {
            Some(p) => {
                if *entry == LOC_OVERFLOW {
                    self.overflow.remove(&id);
                }
                *entry = p;
            }
            None => {
                *entry = LOC_OVERFLOW;
                self.overflow.insert(id, loc);
            }
        }
    }

    /// Marks `id` retired, keeping its slot.
    pub(crate) fn retire(&mut self, id: u32) {
        if let Some((slot, _)) = self.get(id) {
            self.set(id, (slot, NO));
        }
    }

    /// Makes room for `additional` more ids.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.packed.reserve_exact(additional);
    }

    /// Gives out `count` ids for a module's items `0..count` in `slot`, as a full layout
    /// does; returns the first.
    pub(crate) fn push_module(&mut self, slot: u32, count: u32) -> u32 {
        let first = self.len() as u32;
        self.packed.reserve(count as usize);
        for local in 0..count {
            self.push((slot, local));
        }
        first
    }
}

/// Whether dotted name `name` is `package` or a name under it (`a.b` and `a.b.c` are under
/// `a.b`; `a.bc` is not).
pub(crate) fn is_within(name: &str, package: &str) -> bool {
    name.strip_prefix(package)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// Stores `entry` in `arena`, in a slot `free` lists if there is one; returns its index.
pub(crate) fn arena_alloc<T>(arena: &mut Vec<T>, free: &mut Vec<u32>, entry: T) -> u32 {
    match free.pop() {
        Some(id) => {
            arena[id as usize] = entry;
            id
        }
        None => {
            arena.push(entry);
            (arena.len() - 1) as u32
        }
    }
}

/// Strings by dense id, packed end to end in one buffer: no allocation and no 16-byte
/// header per string (a module's facts hold a few hundred names, the solver's table hundreds
/// of thousands).
#[derive(Default, Clone, Debug, PartialEq, Eq)]
pub(crate) struct StringTable {
    text: String,
    /// Where each string ends in `text`.
    ends: Vec<u32>,
}

impl StringTable {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn get(&self, id: usize) -> Option<&str> {
        let end = *self.ends.get(id)? as usize;
        let start = match id {
            0 => 0,
            _ => self.ends[id - 1] as usize,
        };
        self.text.get(start..end)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or(""))
    }

    /// Adds `s`; returns its id.
    fn push(&mut self, s: &str) -> u32 {
        self.text.push_str(s);
        // The buffer never comes near 4 GB: a module's source is limited to a few MB, and
        // the solver's table holds each name of the program once.
        let end = u32::try_from(self.text.len()).expect("string table over 4 GB");
        self.ends.push(end);
        (self.ends.len() - 1) as u32
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// Bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * 4
    }
}

/// Interns strings to dense `u32` ids. Each distinct string is stored once (packed, see
/// `StringTable`, and indexed by hash, see `IdTable`).
#[derive(Default, Clone, Debug)]
pub(crate) struct Interner {
    ids: IdTable,
    strings: StringTable,
}

impl Interner {
    fn find(&self, h: u64, s: &str) -> Option<u32> {
        self.ids
            .find(h, |i| self.strings.get(i as usize) == Some(s))
    }

    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        let h = HashChains::hash(s);
        if let Some(id) = self.find(h, s) {
            return id;
        }
        let id = self.strings.push(s);
        let strings = &self.strings;
        self.ids.insert(h, id, |i| {
            HashChains::hash(strings.get(i as usize).unwrap_or(""))
        });
        id
    }

    pub(crate) fn get(&self, s: &str) -> Option<u32> {
        self.find(HashChains::hash(s), s)
    }

    pub(crate) fn resolve(&self, id: u32) -> &str {
        self.strings.get(id as usize).unwrap_or("")
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.strings.len() == 0
    }

    pub(crate) fn into_strings(self) -> StringTable {
        self.strings
    }
}

/// A module's local ids (nodes, sites, ops, allocation sites) mapped to global ids: a range
/// while they are contiguous, as a full solve lays every module out, and a list once an
/// incremental update mixed kept and fresh ids. Saves a `u32` per node, site and op of the
/// program in the common case.
#[derive(Clone, Debug)]
pub(crate) enum IdMap {
    Range { start: u32, len: u32 },
    List(Vec<u32>),
}

impl IdMap {
    /// Global ids `start..start + len`.
    pub(crate) fn range(start: u32, len: u32) -> IdMap {
        IdMap::Range { start, len }
    }

    /// The given ids, kept as a range if they are one.
    pub(crate) fn from_list(ids: Vec<u32>) -> IdMap {
        match ids.first() {
            Some(&start)
                if ids
                    .iter()
                    .enumerate()
                    .all(|(i, &g)| u64::from(g) == u64::from(start) + i as u64) =>
            {
                IdMap::range(start, ids.len() as u32)
            }
            None => IdMap::range(0, 0),
            _ => IdMap::List(ids),
        }
    }

    pub(crate) fn get(&self, local: usize) -> Option<u32> {
        match self {
            IdMap::Range { start, len } => (local < *len as usize).then(|| start + local as u32),
            IdMap::List(ids) => ids.get(local).copied(),
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let (range, list) = match self {
            IdMap::Range { start, len } => (*start..start + len, &[][..]),
            IdMap::List(ids) => (0..0, &ids[..]),
        };
        range.chain(list.iter().copied())
    }

    pub(crate) fn to_vec(&self) -> Vec<u32> {
        self.iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{is_within, HashChains, Interner, LocTable, NO};

    #[test]
    fn a_name_is_within_itself_and_its_packages_only() {
        assert!(is_within("a.b", "a.b"));
        assert!(is_within("a.b.c", "a.b"));
        assert!(is_within("a.b.c", "a"));
        assert!(!is_within("a.bc", "a.b"));
        assert!(!is_within("a", "a.b"));
        assert!(!is_within("b.a", "a"));
    }

    /// Packed strings, the empty one included, come back as they went in, and interning the
    /// same string again gives the same id.
    #[test]
    fn interned_strings_are_packed_and_found_again() {
        let mut interner = Interner::default();
        let words = ["", "self", "é", "", "self", "append", "x"];
        let ids: Vec<u32> = words.iter().map(|w| interner.intern(w)).collect();
        assert_eq!(ids, [0, 1, 2, 0, 1, 3, 4]);
        for (w, &id) in words.iter().zip(&ids) {
            assert_eq!(interner.resolve(id), *w);
            assert_eq!(interner.get(w), Some(id));
        }
        assert_eq!(interner.get("missing"), None);
        let table = interner.into_strings();
        assert_eq!(table.len(), 5);
        assert_eq!(
            table.iter().collect::<Vec<_>>(),
            ["", "self", "é", "append", "x"]
        );
        assert_eq!(table.get(5), None);
    }

    /// Locations that fit are packed, those that do not (a huge module or slot number) go to
    /// the overflow map, and either kind can be moved, retired and moved back.
    #[test]
    fn locations_round_trip_packed_or_not() {
        let mut t = LocTable::default();
        let cases = [
            (0, 0),
            (3, 7),
            (16_382, 262_141),
            (16_383, 0),
            (70_000, 5),
            (2, 262_142),
            (2, 1 << 20),
            (5, NO),
            (u32::MAX - 1, NO),
        ];
        let ids: Vec<u32> = cases.iter().map(|&loc| t.push(loc)).collect();
        assert_eq!(ids, (0..cases.len() as u32).collect::<Vec<_>>());
        for (&id, &loc) in ids.iter().zip(&cases) {
            assert_eq!(t.get(id), Some(loc), "id {id}");
        }
        // An overflowing entry moved to a packed location and back.
        t.set(4, (1, 1));
        assert_eq!(t.get(4), Some((1, 1)));
        t.set(4, (70_000, 6));
        assert_eq!(t.get(4), Some((70_000, 6)));
        for id in [1, 4, 6] {
            let (slot, _) = t.get(id).unwrap();
            t.retire(id);
            assert_eq!(t.get(id), Some((slot, NO)));
        }
        assert_eq!(t.get(3), Some((16_383, 0)));
        assert_eq!(t.get(cases.len() as u32), None);
        assert_eq!(t.len(), cases.len());
    }

    /// Ids sharing a hash are all found, and any of them (head, middle, last) can be removed
    /// without losing the others.
    #[test]
    fn ids_with_the_same_hash_are_chained_and_removed() {
        let mut index = HashChains::default();
        for id in 0..4 {
            index.push(7, id);
        }
        index.push(9, 4);
        let found = |index: &HashChains, want: u32| index.find(7, |i| i == want);
        assert_eq!(
            (0..4).map(|i| found(&index, i)).collect::<Vec<_>>(),
            [Some(0), Some(1), Some(2), Some(3)]
        );
        index.remove(7, 2);
        index.remove(7, 3);
        index.remove(7, 0);
        assert_eq!(found(&index, 1), Some(1));
        assert_eq!([0, 2, 3].map(|i| found(&index, i)), [None, None, None]);
        assert_eq!(index.hashes(), 2);
        index.remove(7, 1);
        assert_eq!(index.hashes(), 1);
        assert_eq!(index.find(9, |i| i == 4), Some(4));
        assert_eq!(index.find(8, |_| true), None);
    }
}
