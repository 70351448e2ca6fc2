//! Byte-string plaintexts ([`Encoding::Bytes`], format versions 3 and 4):
//! a value serde writes as a byte string is sealed as those bytes, and an
//! opened one is handed to the field's type as a byte string.
//!
//! Both directions are serde data formats of one value. Sealing takes the
//! bytes straight from the value's `serialize_bytes` (no copy before the
//! cipher). Opening decrypts when the type asks for its value: a type that
//! asks for an owned buffer (`deserialize_byte_buf`) is handed the buffer
//! the envelope was decrypted into, with no copy; any other reads the
//! (wiped) scratch buffer. Either way nothing reaches the type before the
//! envelope is authenticated, and an envelope a type never read is
//! authenticated all the same.

use std::cell::RefCell;
use std::fmt;

use serde::de::value::SeqDeserializer;
use serde::de::{self, DeserializeOwned, Visitor};
use serde::ser::{self, Impossible, Serialize};
use zeroize::Zeroizing;

use crate::binding::Binding;
use crate::encoding::Encoding;
use crate::envelope::{self, EnvelopeBytes, Parts};
use crate::error::{Error, ErrorKind};
use crate::key::Key;
use crate::nonce::Nonce;
use crate::scratch::{MAX_RETAINED_SCRATCH, WipingBuf, with_scratch};

/// Seals `value`'s bytes under `key`.
pub(crate) fn seal<T: Serialize + ?Sized>(
    key: &Key,
    binding: &Binding<'_>,
    nonce: Nonce,
    value: &T,
) -> Result<EnvelopeBytes, Error> {
    with_scratch(|scratch| {
        value
            .serialize(Writer {
                key,
                binding,
                nonce,
                scratch,
            })
            .map_err(|failure| failure.into_error(ErrorKind::Serialize, binding))
    })
}

/// Opens an envelope whose plaintext is raw bytes into a `T`.
pub(crate) fn open<T: DeserializeOwned>(
    key: &Key,
    parts: &Parts<'_>,
    binding: &Binding<'_>,
) -> Result<T, Error> {
    let opening = RefCell::new(Opening::Unread);
    let value = T::deserialize(Reader {
        key,
        parts,
        binding,
        opening: &opening,
    });
    // Whatever the type made of it: a type may swallow its deserializer's
    // error (a default on error), or never read at all, and neither may
    // turn a forged envelope into a value.
    match opening.into_inner() {
        Opening::Failed(error) => return Err(error),
        Opening::Unread => envelope::open(key, parts, binding, |_| Ok(()))?,
        Opening::Authentic => {}
    }
    value.map_err(|failure| failure.into_error(ErrorKind::Deserialize, binding))
}

/// How far opening an envelope got while a type read it.
enum Opening {
    /// The type asked for nothing.
    Unread,
    /// Decrypted and authenticated.
    Authentic,
    /// Not opened (authentication failed, or the binding could not be built).
    Failed(Error),
}

/// Why a value could not be written or read as a byte string.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The library's own error (sealing, authentication), kept whole.
    Library(Error),
    /// The value is not a byte string, or the bytes do not fit its type.
    /// serde's message is dropped: a type's own may quote the value.
    Shape(&'static str),
}

impl Failure {
    fn into_error(self, kind: ErrorKind, binding: &Binding<'_>) -> Error {
        match self {
            Failure::Library(error) => error,
            Failure::Shape(detail) => Error::new(kind).detail(detail).at(binding),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Library(error) => error.fmt(f),
            Failure::Shape(detail) => f.write_str(detail),
        }
    }
}

impl std::error::Error for Failure {}

impl ser::Error for Failure {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Failure::Shape("the value's Serialize impl failed")
    }
}

impl de::Error for Failure {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Failure::Shape("the bytes do not fit the field's type")
    }
}

const NOT_BYTES: &str = "`Encoding::Bytes` needs a value serde writes as a byte string \
     (`serde_bytes::ByteBuf`, `bytes::Bytes`) or a sequence of `u8` (`Vec<u8>`, `[u8; N]`)";

/// Seals the one byte string (or `u8` sequence) a value writes.
struct Writer<'a, 'b> {
    key: &'a Key,
    binding: &'a Binding<'b>,
    nonce: Nonce,
    scratch: &'a mut WipingBuf,
}

impl Writer<'_, '_> {
    fn seal(&self, plaintext: &[u8]) -> Result<EnvelopeBytes, Failure> {
        envelope::seal_bytes(
            self.key,
            self.binding,
            self.nonce,
            Encoding::Bytes,
            plaintext,
        )
        .map_err(Failure::Library)
    }
}

/// The serializer methods of a value that is not a byte string.
macro_rules! refuse {
    ($($method:ident($($arg:ty),*) -> $ok:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ok, Failure> {
            Err(Failure::Shape(NOT_BYTES))
        })*
    };
}

/// What neither serializer takes: anything but bytes, `u8`s and the
/// wrappers (`Some`, newtypes) around them.
macro_rules! refuse_the_rest {
    () => {
        refuse! {
            serialize_bool(bool) -> Self::Ok;
            serialize_i8(i8) -> Self::Ok;
            serialize_i16(i16) -> Self::Ok;
            serialize_i32(i32) -> Self::Ok;
            serialize_i64(i64) -> Self::Ok;
            serialize_u16(u16) -> Self::Ok;
            serialize_u32(u32) -> Self::Ok;
            serialize_u64(u64) -> Self::Ok;
            serialize_f32(f32) -> Self::Ok;
            serialize_f64(f64) -> Self::Ok;
            serialize_char(char) -> Self::Ok;
            serialize_str(&str) -> Self::Ok;
            serialize_none() -> Self::Ok;
            serialize_unit() -> Self::Ok;
            serialize_unit_struct(&'static str) -> Self::Ok;
            serialize_unit_variant(&'static str, u32, &'static str) -> Self::Ok;
            serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
            serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
            serialize_map(Option<usize>) -> Self::SerializeMap;
            serialize_struct(&'static str, usize) -> Self::SerializeStruct;
            serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
        }
    };
}

impl<'a, 'b> ser::Serializer for Writer<'a, 'b> {
    type Ok = EnvelopeBytes;
    type Error = Failure;
    type SerializeSeq = Bytes<'a, 'b>;
    type SerializeTuple = Bytes<'a, 'b>;
    type SerializeTupleStruct = Impossible<EnvelopeBytes, Failure>;
    type SerializeTupleVariant = Impossible<EnvelopeBytes, Failure>;
    type SerializeMap = Impossible<EnvelopeBytes, Failure>;
    type SerializeStruct = Impossible<EnvelopeBytes, Failure>;
    type SerializeStructVariant = Impossible<EnvelopeBytes, Failure>;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bytes(self, bytes: &[u8]) -> Result<EnvelopeBytes, Failure> {
        self.seal(bytes)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Bytes<'a, 'b>, Failure> {
        Bytes::new(self, len)
    }

    fn serialize_tuple(self, len: usize) -> Result<Bytes<'a, 'b>, Failure> {
        Bytes::new(self, Some(len))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<EnvelopeBytes, Failure> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<EnvelopeBytes, Failure> {
        value.serialize(self)
    }

    refuse_the_rest!();
    refuse! {
        serialize_u8(u8) -> Self::Ok;
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<EnvelopeBytes, Failure> {
        Err(Failure::Shape(NOT_BYTES))
    }
}

/// A sequence of `u8`, gathered in the (wiped) scratch buffer and sealed
/// at its end.
struct Bytes<'a, 'b> {
    writer: Writer<'a, 'b>,
    /// The most plaintext bytes an envelope under the size limit holds.
    room: usize,
}

impl<'a, 'b> Bytes<'a, 'b> {
    /// Room for `len` bytes when the value says how many it writes; one
    /// that says more than the size limit allows is refused at once.
    fn new(writer: Writer<'a, 'b>, len: Option<usize>) -> Result<Self, Failure> {
        let room = envelope::max_plaintext_len();
        let bytes = Bytes { writer, room };
        if let Some(len) = len {
            if len > room {
                return Err(bytes.too_large(len));
            }
            // A declared length is the value's word, not a byte yet: reserve
            // at most what the scratch buffer keeps, and grow past it.
            bytes.writer.scratch.reserve(len.min(MAX_RETAINED_SCRATCH));
        }
        Ok(bytes)
    }

    fn push<T: Serialize + ?Sized>(&mut self, element: &T) -> Result<(), Failure> {
        let byte = element.serialize(Byte)?;
        // Bounded as it grows: a value that streams bytes without end
        // stops at the size limit, not at the end of memory.
        let len = self.writer.scratch.as_slice().len();
        if len >= self.room {
            return Err(self.too_large(len + 1));
        }
        self.writer.scratch.push(byte);
        Ok(())
    }

    fn too_large(&self, plaintext: usize) -> Failure {
        let detail = envelope::check_plaintext(plaintext).err();
        let detail = detail.unwrap_or_else(|| "a byte string over the size limit".to_owned());
        let error = Error::new(ErrorKind::Serialize).detail(detail);
        Failure::Library(error.at(self.writer.binding))
    }
}

/// `Vec<u8>` writes a sequence, `[u8; N]` a tuple: the same bytes.
macro_rules! byte_sequence {
    ($($serialize:ident),*) => {$(
        impl ser::$serialize for Bytes<'_, '_> {
            type Ok = EnvelopeBytes;
            type Error = Failure;

            fn serialize_element<T: Serialize + ?Sized>(&mut self, element: &T) -> Result<(), Failure> {
                self.push(element)
            }

            fn end(self) -> Result<EnvelopeBytes, Failure> {
                self.writer.seal(self.writer.scratch.as_slice())
            }
        }
    )*};
}

byte_sequence!(SerializeSeq, SerializeTuple);

/// One element of a `u8` sequence: a `u8` and nothing else.
struct Byte;

impl ser::Serializer for Byte {
    type Ok = u8;
    type Error = Failure;
    type SerializeSeq = Impossible<u8, Failure>;
    type SerializeTuple = Impossible<u8, Failure>;
    type SerializeTupleStruct = Impossible<u8, Failure>;
    type SerializeTupleVariant = Impossible<u8, Failure>;
    type SerializeMap = Impossible<u8, Failure>;
    type SerializeStruct = Impossible<u8, Failure>;
    type SerializeStructVariant = Impossible<u8, Failure>;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_u8(self, byte: u8) -> Result<u8, Failure> {
        Ok(byte)
    }

    refuse_the_rest!();
    refuse! {
        serialize_bytes(&[u8]) -> Self::Ok;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<u8, Failure> {
        Err(Failure::Shape(NOT_BYTES))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<u8, Failure> {
        Err(Failure::Shape(NOT_BYTES))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<u8, Failure> {
        Err(Failure::Shape(NOT_BYTES))
    }
}

/// Hands an envelope's plaintext to a type once authenticated: the buffer
/// it was decrypted into to a type that asks for an owned one, borrowed
/// bytes to one that asks for bytes, and to every other type a sequence of
/// `u8`, which is how it reads the same bytes' JSON form (`[1,2,3]`) in a
/// version-1 envelope. `opening` records how far opening got.
struct Reader<'a, 'b> {
    key: &'a Key,
    parts: &'a Parts<'a>,
    binding: &'a Binding<'b>,
    opening: &'a RefCell<Opening>,
}

impl Reader<'_, '_> {
    /// Decrypts into the scratch buffer (wiped afterwards) for `read`.
    fn with_plaintext<R>(
        &self,
        read: impl FnOnce(&[u8]) -> Result<R, Failure>,
    ) -> Result<R, Failure> {
        let opened = envelope::open(self.key, self.parts, self.binding, |plaintext| {
            self.opening.replace(Opening::Authentic);
            Ok(read(plaintext))
        });
        opened.map_err(|error| self.failed(error))?
    }

    /// Records that the envelope did not open, for [`open`] to report
    /// whatever the type does with the error.
    fn failed(&self, error: Error) -> Failure {
        self.opening.replace(Opening::Failed(error.clone()));
        Failure::Library(error)
    }
}

impl<'de> de::Deserializer<'de> for Reader<'_, '_> {
    type Error = Failure;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Failure> {
        self.with_plaintext(|plaintext| {
            let mut seq = SeqDeserializer::new(plaintext.iter().copied());
            let value = visitor.visit_seq(&mut seq)?;
            seq.end()?;
            Ok(value)
        })
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Failure> {
        self.with_plaintext(|plaintext| visitor.visit_bytes(plaintext))
    }

    /// Decrypts straight into the buffer the type keeps: no copy, and no
    /// plaintext left in the scratch buffer. Wiped if it fails to open.
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Failure> {
        let mut buf = Zeroizing::new(vec![0; self.parts.ciphertext.len()]);
        envelope::open_into(self.key, self.parts, self.binding, &mut buf)
            .map_err(|error| self.failed(error))?;
        self.opening.replace(Opening::Authentic);
        visitor.visit_byte_buf(std::mem::take(&mut *buf))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Failure> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Failure> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}
