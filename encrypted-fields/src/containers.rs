//! `Encrypt`/`Decrypt` through `Option`, `Box`, `Vec` and maps, element by
//! element, so `#[encrypt(nested)]` works on `Vec<Child>`,
//! `Option<Child>`, `HashMap<String, Child>` and any nesting of them.
//!
//! Under position binding, a list element is bound to its index when the
//! field asks for it (`bind_index`), and a map value to its key.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasher, Hash};

use serde::Serialize;

use crate::error::Error;
use crate::keyring::Keyring;
use crate::scope;
use crate::traits::{Decrypt, Encrypt};

/// `f` on each list element, inside its index step if the list is bound
/// to indexes.
fn each_element<I: Iterator, R>(
    items: I,
    mut f: impl FnMut(I::Item) -> Result<R, Error>,
) -> Result<Vec<R>, Error> {
    let indexed = scope::lists_are_indexed();
    items
        .enumerate()
        .map(|(index, item)| {
            let _step = indexed.then(|| scope::enter_index(index)).transpose()?;
            f(item)
        })
        .collect()
}

/// `f` on each map value, inside its key step if positions are bound.
fn each_entry<'a, M: Serialize + 'a, V, R>(
    entries: impl Iterator<Item = (&'a M, V)>,
    mut f: impl FnMut(V) -> Result<R, Error>,
) -> Result<Vec<(&'a M, R)>, Error> {
    let keyed = scope::positions_are_bound();
    entries
        .map(|(key, value)| {
            let _step = match keyed {
                true => Some(scope::enter_key(&scope::key_text(key)?)?),
                false => None,
            };
            Ok((key, f(value)?))
        })
        .collect()
}

/// The `Encrypt` and `Decrypt` impls of one container `C<T>` (written
/// `C[pre,][, post]` for the parameters around `T`): `map` applies the closure `f` to every
/// element and rebuilds the container; `sum` applies `f` to every element
/// mutably and adds up the results.
macro_rules! container {
    (
        impl[$($generics:tt)*] $c:ident[$($pre:ident,)?][$(, $post:ident)?];
        map($s:ident, $f:ident) $map:expr;
        sum($sm:ident, $fm:ident) $sum:expr;
    ) => {
        impl<$($generics)* T: Encrypt> Encrypt for $c<$($pre,)? T $(, $post)?> {
            type Encrypted = $c<$($pre,)? T::Encrypted $(, $post)?>;
            const KEY_ALIASES: &'static [&'static str] = T::KEY_ALIASES;

            fn encrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Encrypted, Error> {
                let $s = self;
                let $f = |v: &T| v.encrypt(keyring);
                $map
            }
        }

        impl<$($generics)* T: Decrypt> Decrypt for $c<$($pre,)? T $(, $post)?> {
            type Plain = $c<$($pre,)? T::Plain $(, $post)?>;
            type Partial = $c<$($pre,)? T::Partial $(, $post)?>;

            fn decrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Plain, Error> {
                let $s = self;
                let $f = |v: &T| v.decrypt(keyring);
                $map
            }

            fn decrypt_partial_into<K: Keyring + ?Sized>(
                &self,
                keyring: &K,
                inaccessible: &mut BTreeSet<String>,
            ) -> Result<Self::Partial, Error> {
                let $s = self;
                #[allow(unused_mut, reason = "Box calls the closure itself; the others hand it on")]
                let mut $f = |v: &T| v.decrypt_partial_into(keyring, &mut *inaccessible);
                $map
            }

            fn reencrypt<K: Keyring + ?Sized>(&mut self, keyring: &K) -> Result<usize, Error> {
                let $sm = self;
                let $fm = |v: &mut T| v.reencrypt(keyring);
                $sum
            }
        }
    };
}

container! {
    impl[] Option[][];
    map(s, f) s.as_ref().map(f).transpose();
    sum(s, f) s.as_mut().map_or(Ok(0), f);
}

container! {
    impl[] Box[][];
    map(s, f) f(s).map(Box::new);
    sum(s, f) f(s);
}

container! {
    impl[] Vec[][];
    map(s, f) each_element(s.iter(), f);
    sum(s, f) each_element(s.iter_mut(), f).map(|changed| changed.into_iter().sum());
}

container! {
    impl[M: Clone + Eq + Hash + Serialize, S: BuildHasher + Default,] HashMap[M,][, S];
    map(s, f) each_entry(s.iter(), f).map(|e| e.into_iter().map(|(k, v)| (k.clone(), v)).collect());
    sum(s, f) each_entry(s.iter_mut(), f).map(|e| e.into_iter().map(|(_, n)| n).sum());
}

container! {
    impl[M: Clone + Ord + Serialize,] BTreeMap[M,][];
    map(s, f) each_entry(s.iter(), f).map(|e| e.into_iter().map(|(k, v)| (k.clone(), v)).collect());
    sum(s, f) each_entry(s.iter_mut(), f).map(|e| e.into_iter().map(|(_, n)| n).sum());
}
