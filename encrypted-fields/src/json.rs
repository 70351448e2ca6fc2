//! The JSON plaintext of a field (FORMAT.md section 5), written and read
//! with a fast path for strings that need no escaping: most text fields.

use std::cell::RefCell;

use crate::scratch::WipingBuf;

/// Writes `value`'s JSON plaintext (section 5) to `buf`.
///
/// A value that serializes as one string with nothing to escape (most text
/// fields) is written as quote, bytes, quote, after a branch-free check
/// the compiler vectorizes: several times faster than serde_json's
/// byte-at-a-time escaper, and byte for byte the same output. Anything
/// else goes through serde_json, in the same single pass. A value nested
/// deeper than [`MAX_DEPTH`] is refused: readers could never open it.
pub(crate) fn write_json<T: serde::Serialize + ?Sized>(
    buf: &mut WipingBuf,
    value: &T,
) -> Result<(), serde_json::Error> {
    let out = RefCell::new(buf);
    let mut json = serde_json::Serializer::new(Shared(&out));
    value.serialize(FastJson {
        json: &mut json,
        out: &out,
    })?;
    let written = out.into_inner();
    if nesting(written.as_slice()) > MAX_DEPTH {
        return Err(serde::ser::Error::custom(
            "nested deeper than readers accept (FORMAT.md section 5)",
        ));
    }
    Ok(())
}

/// The deepest nesting of arrays and objects a plaintext may have: what
/// serde_json reads by default. Deeper values are refused when sealed,
/// where they would otherwise seal fine and never open.
pub(crate) const MAX_DEPTH: usize = 127;

/// How deeply arrays and objects nest in a JSON text (strings skipped).
fn nesting(json: &[u8]) -> usize {
    if !json.starts_with(b"[") && !json.starts_with(b"{") {
        return 0;
    }
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for &b in json {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (true, false, _) => {}
            (false, _, b'"') => in_string = true,
            (false, _, b'[' | b'{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (false, _, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Reads a JSON plaintext (section 5) into `T`.
///
/// The mirror of [`write_json`]: a plaintext that is a JSON string with no
/// escape sequence is handed to `T` as a borrowed `&str`, skipping
/// serde_json's byte-at-a-time string parser. If `T` does not take a
/// string that way, serde_json reads the plaintext as always, so results
/// and errors are the same either way.
///
/// A string with escape sequences is unescaped here too, into a wiping
/// buffer: serde_json would unescape it into a scratch buffer of its own
/// and free that unwiped, leaving the plaintext in freed memory.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    plaintext: &[u8],
) -> Result<T, serde_json::Error> {
    if let Some(inner) = plaintext
        .strip_prefix(b"\"")
        .and_then(|rest| rest.strip_suffix(b"\""))
    {
        if !has_special_bytes(inner) {
            if let Some(value) = std::str::from_utf8(inner)
                .ok()
                .and_then(|text| T::deserialize(PlainStr(text)).ok())
            {
                return Ok(value);
            }
        } else {
            let mut unescaped = WipingBuf::new();
            if let Some(value) = unescape(inner, &mut unescaped)
                .and_then(|()| std::str::from_utf8(unescaped.as_slice()).ok())
                .and_then(|text| T::deserialize(PlainStr(text)).ok())
            {
                return Ok(value);
            }
        }
    }
    serde_json::from_slice(plaintext)
}

/// Decodes the inside of a JSON string (RFC 8259 section 7) into `out`;
/// `None` for anything serde_json would reject (a raw control character or
/// `"`, an unknown escape, a lone surrogate), which then goes to serde_json
/// for its exact error. UTF-8 is checked by the caller.
fn unescape(inner: &[u8], out: &mut WipingBuf) -> Option<()> {
    let mut rest = inner;
    while let Some(at) = rest
        .iter()
        .position(|&b| b == b'\\' || b == b'"' || b < 0x20)
    {
        out.extend(&rest[..at]);
        let (&special, after) = rest[at..].split_first()?;
        if special != b'\\' {
            return None;
        }
        let (&escape, after) = after.split_first()?;
        rest = after;
        let byte = match escape {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let (unit, after) = hex4(rest)?;
                rest = after;
                let scalar = match unit {
                    0xd800..=0xdbff => {
                        let (low, after) = rest.strip_prefix(b"\\u").and_then(hex4)?;
                        if !(0xdc00..=0xdfff).contains(&low) {
                            return None;
                        }
                        rest = after;
                        0x10000 + ((u32::from(unit) - 0xd800) << 10) + (u32::from(low) - 0xdc00)
                    }
                    0xdc00..=0xdfff => return None,
                    unit => u32::from(unit),
                };
                let mut utf8 = [0; 4];
                out.extend(char::from_u32(scalar)?.encode_utf8(&mut utf8).as_bytes());
                continue;
            }
            _ => return None,
        };
        out.extend(&[byte]);
    }
    out.extend(rest);
    Some(())
}

/// Four hex digits, as one UTF-16 code unit, and what follows them.
fn hex4(bytes: &[u8]) -> Option<(u16, &[u8])> {
    let (digits, rest) = bytes.split_first_chunk::<4>()?;
    let text = std::str::from_utf8(digits).ok()?;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((u16::from_str_radix(text, 16).ok()?, rest))
}

/// Whether any byte is one JSON strings escape: control characters, `"`
/// and `\`. Checked in 64-byte chunks without early exit inside a chunk,
/// so each chunk is one vector loop.
fn has_special_bytes(bytes: &[u8]) -> bool {
    bytes.chunks(64).any(|chunk| {
        chunk.iter().fold(false, |acc, &b| {
            acc | (b < 0x20) | (b == b'"') | (b == b'\\')
        })
    })
}

/// A deserializer that offers one string, borrowed, to what asks for a
/// string or for anything; every other request is `NotPlain`, and then
/// serde_json reads the plaintext, so a type that reads numbers or enums
/// from strings its own way gets exactly what serde_json gives it.
struct PlainStr<'de>(&'de str);

/// Why `PlainStr` declined: the type asked for something else.
#[derive(Debug)]
struct NotPlain;

impl std::fmt::Display for NotPlain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a plain string")
    }
}

impl std::error::Error for NotPlain {}

impl serde::de::Error for NotPlain {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        NotPlain
    }
}

/// Declines the requests serde_json answers otherwise than with a string.
macro_rules! decline {
    ($($method:ident)*) => {
        $(fn $method<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, NotPlain> {
            Err(NotPlain)
        })*
    };
}

impl<'de> serde::Deserializer<'de> for PlainStr<'de> {
    type Error = NotPlain;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, NotPlain> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, NotPlain> {
        // As serde_json: a string where an option belongs is `Some`.
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, NotPlain> {
        // As serde_json: a newtype struct is its content.
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_unit_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, NotPlain> {
        Err(NotPlain)
    }

    fn deserialize_tuple<V: serde::de::Visitor<'de>>(
        self,
        _: usize,
        _: V,
    ) -> Result<V::Value, NotPlain> {
        Err(NotPlain)
    }

    fn deserialize_tuple_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, NotPlain> {
        Err(NotPlain)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, NotPlain> {
        Err(NotPlain)
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, NotPlain> {
        Err(NotPlain)
    }

    decline! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_bytes
        deserialize_byte_buf deserialize_unit deserialize_seq deserialize_map
    }

    serde::forward_to_deserialize_any! {
        char str string identifier ignored_any
    }
}

/// The writer both serde_json and the string fast path write to: the
/// buffer, borrowed for one write at a time.
struct Shared<'a, 'b>(&'a RefCell<&'b mut WipingBuf>);

impl std::io::Write for Shared<'_, '_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type Json<'s, 'a, 'b> = &'s mut serde_json::Serializer<Shared<'a, 'b>>;
type Compound<'s, 'a, 'b> =
    serde_json::ser::Compound<'s, Shared<'a, 'b>, serde_json::ser::CompactFormatter>;

/// serde_json's serializer with one change: a string needing no escapes is
/// written as quote, bytes, quote, after a vectorized check. The value is
/// serialized once (a `Serialize` impl may not be repeatable), and every
/// byte is what serde_json alone would write.
struct FastJson<'s, 'a, 'b> {
    json: Json<'s, 'a, 'b>,
    out: &'a RefCell<&'b mut WipingBuf>,
}

/// Forwards serializer methods to serde_json unchanged.
macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $method(self, $($arg: $ty),*) -> Result<$ret, serde_json::Error> {
            self.json.$method($($arg),*)
        })*
    };
}

impl<'s, 'a, 'b> serde::Serializer for FastJson<'s, 'a, 'b> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Compound<'s, 'a, 'b>;
    type SerializeTuple = Compound<'s, 'a, 'b>;
    type SerializeTupleStruct = Compound<'s, 'a, 'b>;
    type SerializeTupleVariant = Compound<'s, 'a, 'b>;
    type SerializeMap = Compound<'s, 'a, 'b>;
    type SerializeStruct = Compound<'s, 'a, 'b>;
    type SerializeStructVariant = Compound<'s, 'a, 'b>;

    fn serialize_str(self, text: &str) -> Result<(), serde_json::Error> {
        if has_special_bytes(text.as_bytes()) {
            return self.json.serialize_str(text);
        }
        let mut out = self.out.borrow_mut();
        out.extend(b"\"");
        out.extend(text.as_bytes());
        out.extend(b"\"");
        Ok(())
    }

    fn serialize_newtype_struct<T: serde::Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        // serde_json writes a newtype struct as its content.
        value.serialize(self)
    }

    fn serialize_some<T: serde::Serialize + ?Sized>(
        self,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        // serde_json writes `Some(v)` as `v`.
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: serde::Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        self.json
            .serialize_newtype_variant(name, index, variant, value)
    }

    fn collect_str<T: std::fmt::Display + ?Sized>(
        self,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        // serde_json formats straight into the buffer: no unwiped copy.
        self.json.collect_str(value)
    }

    forward! {
        serialize_bool(v: bool) -> ();
        serialize_i8(v: i8) -> ();
        serialize_i16(v: i16) -> ();
        serialize_i32(v: i32) -> ();
        serialize_i64(v: i64) -> ();
        serialize_i128(v: i128) -> ();
        serialize_u8(v: u8) -> ();
        serialize_u16(v: u16) -> ();
        serialize_u32(v: u32) -> ();
        serialize_u64(v: u64) -> ();
        serialize_u128(v: u128) -> ();
        serialize_f32(v: f32) -> ();
        serialize_f64(v: f64) -> ();
        serialize_char(v: char) -> ();
        serialize_bytes(v: &[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(name: &'static str) -> ();
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str) -> ();
        serialize_seq(len: Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(len: usize) -> Self::SerializeTuple;
        serialize_tuple_struct(name: &'static str, len: usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> Self::SerializeTupleVariant;
        serialize_map(len: Option<usize>) -> Self::SerializeMap;
        serialize_struct(name: &'static str, len: usize) -> Self::SerializeStruct;
        serialize_struct_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> Self::SerializeStructVariant;
    }
}

#[cfg(test)]
mod tests {
    use super::{WipingBuf, write_json};

    fn json<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
        let mut buf = WipingBuf::new();
        write_json(&mut buf, value).unwrap();
        buf.take()
    }

    #[test]
    fn plaintext_reads_exactly_as_serde_json_reads_it() {
        use super::read_json;
        use serde_json::Value;
        fn same<T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(plaintext: &[u8]) {
            let fast = read_json::<T>(plaintext).map_err(|e| e.to_string());
            let slow = serde_json::from_slice::<T>(plaintext).map_err(|e| e.to_string());
            assert_eq!(fast, slow, "{:?}", String::from_utf8_lossy(plaintext));
        }
        let cases: &[&[u8]] = &[
            br#""ada@example.com""#,
            br#""""#,
            br#""a\nb""#,
            b"\"\xff\"",
            br#""x"#,
            b"12",
            br#""123""#,
            "\"é✓\"".as_bytes(),
            br#""\"\\\/\b\f\n\r\t""#,
            br#""\u00e9\u00E9\ud83d\ude00 \u0041""#,
            br#""\ud800""#,
            br#""\udc00x""#,
            br#""\ud800\u0041""#,
            br#""\ud800\n""#,
            br#""\u12""#,
            br#""\u12g4""#,
            br#""\x""#,
            br#""a\""#,
            br#""a\"b""#,
            b"\"a\\n\x01\"",
            b"\"a\\n\xff\"",
            br#""a"b\n""#,
            br#""\u0000""#,
        ];
        for &plaintext in cases {
            same::<String>(plaintext);
            same::<Value>(plaintext);
            same::<u64>(plaintext);
            same::<Option<String>>(plaintext);
            same::<char>(plaintext);
            same::<Vec<u8>>(plaintext);
        }
        #[derive(serde::Deserialize, PartialEq, Debug)]
        struct Newtype(String);
        #[derive(serde::Deserialize, PartialEq, Debug)]
        enum Unit {
            A,
        }
        same::<Newtype>(br#""n""#);
        same::<Unit>(br#""A""#);
        same::<Unit>(br#""B""#);
        same::<std::net::Ipv4Addr>(br#""10.0.0.1""#);

        // Types that read numbers or enums from strings their own way get
        // what serde_json gives them, not a string.
        #[derive(PartialEq, Debug)]
        struct Lenient(u64);
        impl<'de> serde::Deserialize<'de> for Lenient {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = Lenient;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a number")
                    }
                    fn visit_u64<E>(self, n: u64) -> Result<Lenient, E> {
                        Ok(Lenient(n))
                    }
                    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Lenient, E> {
                        s.parse().map(Lenient).map_err(E::custom)
                    }
                }
                d.deserialize_u64(V)
            }
        }
        same::<Lenient>(br#""41""#);
        same::<Lenient>(b"41");
    }

    /// Before, a value was serialized twice when it was not a plain string,
    /// so a `Serialize` that can run once sealed `[]`.
    #[test]
    fn a_value_is_serialized_once() {
        struct Once(std::cell::RefCell<Option<Vec<u8>>>);
        impl serde::Serialize for Once {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.borrow_mut().take().unwrap_or_default().serialize(s)
            }
        }
        let once = Once(std::cell::RefCell::new(Some(vec![1, 2, 3])));
        assert_eq!(json(&once), b"[1,2,3]");
    }

    /// Before, a value nested deeper than serde_json reads sealed fine and
    /// never opened.
    #[test]
    fn values_nested_deeper_than_readers_accept_are_refused() {
        fn nested(depth: usize) -> serde_json::Value {
            (0..depth).fold(serde_json::Value::Null, |v, _| {
                serde_json::Value::Array(vec![v])
            })
        }
        let ok = json(&nested(super::MAX_DEPTH));
        assert!(serde_json::from_slice::<serde_json::Value>(&ok).is_ok());
        let mut buf = WipingBuf::new();
        assert!(write_json(&mut buf, &nested(super::MAX_DEPTH + 1)).is_err());
        let text = serde_json::to_vec(&nested(super::MAX_DEPTH + 1)).unwrap();
        assert!(serde_json::from_slice::<serde_json::Value>(&text).is_err());
        // Brackets inside strings do not count.
        assert_eq!(super::nesting(br#"["[[[\"{{"]"#), 1);
    }

    #[test]
    fn plaintext_is_exactly_what_serde_json_writes() {
        let long = "é✓ abc/DEL\u{7f}".repeat(40);
        for text in [
            "",
            "ada@example.com",
            "tab\tin",
            "quote\"",
            "back\\slash",
            "\u{1}",
            "\u{2028}",
            long.as_str(),
        ] {
            assert_eq!(json(text), serde_json::to_vec(text).unwrap(), "{text:?}");
        }
        #[derive(serde::Serialize)]
        struct Newtype(String);
        assert_eq!(
            json(&Newtype("n".into())),
            serde_json::to_vec(&Newtype("n".into())).unwrap()
        );
        let values = (1u8, Some("x"), vec![1.5f64], serde_json::json!({"a": "b"}));
        assert_eq!(json(&values), serde_json::to_vec(&values).unwrap());
    }
}
