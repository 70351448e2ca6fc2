//! The sorted, de-duplicated alias list behind `Encrypt::KEY_ALIASES`,
//! built at compile time so a type's list includes its nested types'.
//!
//! Const generics cannot size an array from another type's constant, so
//! the list has a fixed capacity; a type tree needing more distinct
//! aliases fails to compile with a clear message.

/// How many distinct aliases one type, with everything nested in it, may use.
pub const MAX_ALIASES: usize = 64;

/// A sorted set of aliases, usable in `const` context.
pub struct AliasList {
    items: [&'static str; MAX_ALIASES],
    len: usize,
}

impl AliasList {
    /// The set of `aliases`.
    pub const fn new(aliases: &[&'static str]) -> Self {
        AliasList {
            items: [""; MAX_ALIASES],
            len: 0,
        }
        .merge(aliases)
    }

    /// This set plus `aliases`.
    pub const fn merge(mut self, aliases: &[&'static str]) -> Self {
        let mut i = 0;
        while i < aliases.len() {
            self = self.insert(aliases[i]);
            i += 1;
        }
        self
    }

    const fn insert(mut self, alias: &'static str) -> Self {
        let mut at = 0;
        while at < self.len {
            match compare(self.items[at], alias) {
                0 => return self,
                1 => break,
                _ => at += 1,
            }
        }
        assert!(
            self.len < MAX_ALIASES,
            "a type with its nested types uses more than 64 key aliases"
        );
        let mut i = self.len;
        while i > at {
            self.items[i] = self.items[i - 1];
            i -= 1;
        }
        self.items[at] = alias;
        self.len += 1;
        self
    }

    /// The aliases, sorted.
    pub const fn as_slice(&'static self) -> &'static [&'static str] {
        self.items.split_at(self.len).0
    }
}

/// Byte-wise comparison (-1, 0, 1), as `str::cmp` is not `const`.
const fn compare(a: &str, b: &str) -> i8 {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return if a[i] < b[i] { -1 } else { 1 };
        }
        i += 1;
    }
    if a.len() == b.len() {
        0
    } else if a.len() < b.len() {
        -1
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::AliasList;

    const LIST: &[&str] =
        { &AliasList::new(&["pii", "banking"]).merge(&["pii", "a", "pii.eu"]) }.as_slice();

    #[test]
    fn aliases_are_sorted_and_unique() {
        assert_eq!(LIST, ["a", "banking", "pii", "pii.eu"]);
    }
}
