//! `Encrypt`/`Decrypt` through `Option`, `Box`, `Vec` and maps, element by
//! element, so `#[encrypt(nested)]` works on `Vec<Child>`,
//! `Option<Child>`, `HashMap<String, Child>` and any nesting of them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasher, Hash};

use crate::error::Error;
use crate::keyring::Keyring;
use crate::traits::{Decrypt, Encrypt};

impl<T: Encrypt> Encrypt for Option<T> {
    type Encrypted = Option<T::Encrypted>;
    const KEY_ALIASES: &'static [&'static str] = T::KEY_ALIASES;

    fn encrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Encrypted, Error> {
        self.as_ref().map(|v| v.encrypt(keyring)).transpose()
    }
}

impl<T: Decrypt> Decrypt for Option<T> {
    type Plain = Option<T::Plain>;
    type Partial = Option<T::Partial>;

    fn decrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Plain, Error> {
        self.as_ref().map(|v| v.decrypt(keyring)).transpose()
    }

    fn decrypt_partial_into<K: Keyring + ?Sized>(
        &self,
        keyring: &K,
        inaccessible: &mut BTreeSet<String>,
    ) -> Result<Self::Partial, Error> {
        self.as_ref()
            .map(|v| v.decrypt_partial_into(keyring, inaccessible))
            .transpose()
    }

    fn reencrypt<K: Keyring + ?Sized>(&mut self, keyring: &K) -> Result<usize, Error> {
        self.as_mut().map_or(Ok(0), |v| v.reencrypt(keyring))
    }
}

impl<T: Encrypt> Encrypt for Box<T> {
    type Encrypted = Box<T::Encrypted>;
    const KEY_ALIASES: &'static [&'static str] = T::KEY_ALIASES;

    fn encrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Encrypted, Error> {
        (**self).encrypt(keyring).map(Box::new)
    }
}

impl<T: Decrypt> Decrypt for Box<T> {
    type Plain = Box<T::Plain>;
    type Partial = Box<T::Partial>;

    fn decrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Plain, Error> {
        (**self).decrypt(keyring).map(Box::new)
    }

    fn decrypt_partial_into<K: Keyring + ?Sized>(
        &self,
        keyring: &K,
        inaccessible: &mut BTreeSet<String>,
    ) -> Result<Self::Partial, Error> {
        (**self)
            .decrypt_partial_into(keyring, inaccessible)
            .map(Box::new)
    }

    fn reencrypt<K: Keyring + ?Sized>(&mut self, keyring: &K) -> Result<usize, Error> {
        (**self).reencrypt(keyring)
    }
}

impl<T: Encrypt> Encrypt for Vec<T> {
    type Encrypted = Vec<T::Encrypted>;
    const KEY_ALIASES: &'static [&'static str] = T::KEY_ALIASES;

    fn encrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Encrypted, Error> {
        self.iter().map(|v| v.encrypt(keyring)).collect()
    }
}

impl<T: Decrypt> Decrypt for Vec<T> {
    type Plain = Vec<T::Plain>;
    type Partial = Vec<T::Partial>;

    fn decrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Plain, Error> {
        self.iter().map(|v| v.decrypt(keyring)).collect()
    }

    fn decrypt_partial_into<K: Keyring + ?Sized>(
        &self,
        keyring: &K,
        inaccessible: &mut BTreeSet<String>,
    ) -> Result<Self::Partial, Error> {
        self.iter()
            .map(|v| v.decrypt_partial_into(keyring, inaccessible))
            .collect()
    }

    fn reencrypt<K: Keyring + ?Sized>(&mut self, keyring: &K) -> Result<usize, Error> {
        self.iter_mut().map(|v| v.reencrypt(keyring)).sum()
    }
}

/// Maps encrypt their values and keep their keys.
macro_rules! map_impls {
    ($map:ident [$($generics:tt)*] [$($hasher:ident)?]) => {
        impl<$($generics)*, T: Encrypt> Encrypt for $map<M, T $(, $hasher)?> {
            type Encrypted = $map<M, T::Encrypted $(, $hasher)?>;
            const KEY_ALIASES: &'static [&'static str] = T::KEY_ALIASES;

            fn encrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Encrypted, Error> {
                self.iter().map(|(k, v)| Ok((k.clone(), v.encrypt(keyring)?))).collect()
            }
        }

        impl<$($generics)*, T: Decrypt> Decrypt for $map<M, T $(, $hasher)?> {
            type Plain = $map<M, T::Plain $(, $hasher)?>;
            type Partial = $map<M, T::Partial $(, $hasher)?>;

            fn decrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Plain, Error> {
                self.iter().map(|(k, v)| Ok((k.clone(), v.decrypt(keyring)?))).collect()
            }

            fn decrypt_partial_into<K: Keyring + ?Sized>(
                &self,
                keyring: &K,
                inaccessible: &mut BTreeSet<String>,
            ) -> Result<Self::Partial, Error> {
                self.iter()
                    .map(|(k, v)| Ok((k.clone(), v.decrypt_partial_into(keyring, inaccessible)?)))
                    .collect()
            }

            fn reencrypt<K: Keyring + ?Sized>(&mut self, keyring: &K) -> Result<usize, Error> {
                self.values_mut().map(|v| v.reencrypt(keyring)).sum()
            }
        }
    };
}

map_impls!(HashMap [M: Clone + Eq + Hash, S: BuildHasher + Default] [S]);
map_impls!(BTreeMap [M: Clone + Ord] []);
