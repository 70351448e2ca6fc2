//! The per-thread scratch buffer plaintexts are written to and decrypted
//! into: reused (no allocation once warm) and wiped after every use, when
//! it grows, and while a panic unwinds.

use std::cell::RefCell;

use zeroize::Zeroize;

/// A scratch buffer this large is freed after use rather than kept.
pub(crate) const MAX_RETAINED_SCRATCH: usize = 4 * 1024 * 1024;

thread_local! {
    static SCRATCH: RefCell<WipingBuf> = const { RefCell::new(WipingBuf::new()) };
}

/// Runs `f` with this thread's scratch buffer, empty, and wipes what `f`
/// left in it, whether `f` returns or unwinds: a `Serialize` or
/// `Deserialize` impl that panics half way must not leave its plaintext
/// for the next seal on this thread (servers catch panics and reuse the
/// thread). A re-entrant call (a `Serialize` impl that seals) gets a fresh
/// buffer instead: no lock, no panic.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut WipingBuf) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(scratch) => {
            let mut guard = WipeOnDrop(scratch);
            // Empty already (every use ends in a wipe); cleared again so
            // that no path, present or future, can prepend old bytes.
            guard.0.wipe();
            f(&mut guard.0)
        }
        Err(_) => f(&mut WipingBuf::new()),
    })
}

/// Wipes the borrowed scratch buffer when dropped, which also happens
/// while a panic unwinds through [`with_scratch`].
struct WipeOnDrop<'a>(std::cell::RefMut<'a, WipingBuf>);

impl Drop for WipeOnDrop<'_> {
    fn drop(&mut self) {
        self.0.wipe();
    }
}

/// A byte buffer that never frees unwiped plaintext: it wipes the old
/// allocation when it grows, its contents when emptied, and on drop.
pub(crate) struct WipingBuf(Vec<u8>);

impl WipingBuf {
    /// An empty buffer; allocates on first use.
    pub(crate) const fn new() -> Self {
        WipingBuf(Vec::new())
    }

    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.reserve(bytes.len());
        self.0.extend_from_slice(bytes);
    }

    pub(crate) fn push(&mut self, byte: u8) {
        self.reserve(1);
        self.0.push(byte);
    }

    /// Makes room for `additional` more bytes; a new allocation gets the
    /// contents, and the old one is wiped before it is freed.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let needed = self.0.len() + additional;
        if needed > self.0.capacity() {
            let mut grown = Vec::with_capacity(needed.max(2 * self.0.capacity()).max(64));
            grown.extend_from_slice(&self.0);
            let mut old = std::mem::replace(&mut self.0, grown);
            old.zeroize();
        }
    }

    /// `len` zero bytes to decrypt into, replacing the contents.
    pub(crate) fn zeroed(&mut self, len: usize) -> &mut [u8] {
        self.wipe();
        self.reserve(len);
        self.0.resize(len, 0);
        &mut self.0
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// The contents, taken out (tests compare them with serde_json's).
    #[cfg(test)]
    pub(crate) fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }

    /// Wipes and empties the buffer; frees it if it grew very large.
    ///
    /// A kept buffer is cleared with a plain `fill`: its memory stays
    /// reachable (the compiler cannot drop stores to it), and `fill` runs at
    /// memset speed where `zeroize`'s volatile byte writes cost a cycle per
    /// byte. A buffer being freed is wiped with `zeroize`.
    pub(crate) fn wipe(&mut self) {
        self.0.fill(0);
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
        self.0.clear();
        if self.0.capacity() > MAX_RETAINED_SCRATCH {
            std::mem::take(&mut self.0).zeroize();
        }
    }
}

impl std::io::Write for WipingBuf {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.extend(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for WipingBuf {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}
