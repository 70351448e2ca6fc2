//! The canonical encoding of a record (FORMAT.md section 13.2): what a
//! record seal's MAC or signature covers. It is defined on the JSON data
//! model, not on JSON text, so any reader of the JSON (in any language)
//! gets the same bytes whatever the whitespace, member order or escapes:
//!
//! ```text
//! null 00 | false 01 | true 02
//! integer 03 u32be(len) decimal digits (a leading `-` if negative; `0` for zero)
//! float   04 the binary64 value, 8 bytes big-endian
//! string  05 u32be(len) UTF-8
//! array   06 u32be(count) value*
//! object  07 u32be(count) (u32be(len) name value)*  in ascending byte order of name
//! ```
//!
//! The Rust side builds it from a value's `Serialize` impl exactly as
//! serde_json would write the value, then sorts members.

use serde::ser::{self, Serialize};
use serde_json::value::RawValue;

use crate::error::{Error, ErrorKind};

/// A JSON value as a reader of the JSON sees it.
enum Value {
    Null,
    Bool(bool),
    /// Decimal digits, as JSON writes an integer.
    Integer(String),
    Float(f64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// The canonical encoding of `value`, leaving out the top-level member
/// `skip` (the seal's own member).
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T, skip: &str) -> Result<Vec<u8>, Error> {
    let tree = value
        .serialize(Builder)
        .map_err(|e| Error::new(ErrorKind::Serialize).detail(format!("record seal: {}", e.0)))?;
    finish(tree, skip)
}

/// The canonical encoding of a record given as JSON text: what [`encode`]
/// gives for the Rust value serde_json wrote as this text. A number
/// without `.`, `e` or `E` is an integer and keeps its digits, except `-0`,
/// which serde_json reads as the float -0.0; any other number is a
/// binary64. Values readers refuse (FORMAT.md section 5) are refused.
pub(crate) fn encode_json(text: &str, skip: &str) -> Result<Vec<u8>, Error> {
    let raw: &RawValue = serde_json::from_str(text).map_err(|_| not_json())?;
    finish(from_json(raw, 0)?, skip)
}

fn finish(mut tree: Value, skip: &str) -> Result<Vec<u8>, Error> {
    if let Value::Object(members) = &mut tree {
        members.retain(|(name, _)| name != skip);
    }
    let mut out = Vec::new();
    write(&tree, &mut out)?;
    Ok(out)
}

fn parse<'a, T: serde::Deserialize<'a>>(text: &'a str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|_| not_json())
}

fn not_json() -> Error {
    Error::new(ErrorKind::Deserialize)
        .detail("record seal: the record is not JSON that readers take (FORMAT.md section 5)")
}

fn from_json(raw: &RawValue, depth: usize) -> Result<Value, Error> {
    if depth > crate::json::MAX_DEPTH {
        return Err(not_json());
    }
    let text = raw.get();
    Ok(match text.as_bytes().first() {
        Some(b'{') => {
            let Members(members) = parse(text)?;
            let members = members
                .into_iter()
                .map(|(name, value)| Ok((name, from_json(value, depth + 1)?)))
                .collect::<Result<_, Error>>()?;
            Value::Object(members)
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = parse(text)?;
            let items = items
                .into_iter()
                .map(|item| from_json(item, depth + 1))
                .collect::<Result<_, Error>>()?;
            Value::Array(items)
        }
        Some(b'"') => Value::String(parse(text)?),
        Some(b't') => Value::Bool(true),
        Some(b'f') => Value::Bool(false),
        Some(b'n') => Value::Null,
        _ if text == "-0" || text.contains(['.', 'e', 'E']) => {
            let number: f64 = text.parse().map_err(|_| not_json())?;
            if !number.is_finite() {
                return Err(not_json());
            }
            Value::Float(number)
        }
        _ => Value::Integer(text.to_owned()),
    })
}

/// An object's members in order; duplicates are refused when written.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Members<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = Members<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Members<'a>, M::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

fn write(value: &Value, out: &mut Vec<u8>) -> Result<(), Error> {
    match value {
        Value::Null => out.push(0x00),
        Value::Bool(false) => out.push(0x01),
        Value::Bool(true) => out.push(0x02),
        Value::Integer(digits) => {
            out.push(0x03);
            length_prefixed(digits.as_bytes(), out)?;
        }
        Value::Float(number) => {
            out.push(0x04);
            out.extend_from_slice(&number.to_bits().to_be_bytes());
        }
        Value::String(text) => {
            out.push(0x05);
            length_prefixed(text.as_bytes(), out)?;
        }
        Value::Array(items) => {
            out.push(0x06);
            count(items.len(), out)?;
            for item in items {
                write(item, out)?;
            }
        }
        Value::Object(members) => {
            let mut sorted: Vec<&(String, Value)> = members.iter().collect();
            sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            if sorted.windows(2).any(|pair| pair[0].0 == pair[1].0) {
                return Err(Error::new(ErrorKind::Serialize)
                    .detail("record seal: two members of one object share a name"));
            }
            out.push(0x07);
            count(sorted.len(), out)?;
            for (name, value) in sorted {
                length_prefixed(name.as_bytes(), out)?;
                write(value, out)?;
            }
        }
    }
    Ok(())
}

fn count(n: usize, out: &mut Vec<u8>) -> Result<(), Error> {
    let n = u32::try_from(n).map_err(|_| too_large())?;
    out.extend_from_slice(&n.to_be_bytes());
    Ok(())
}

fn length_prefixed(bytes: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
    count(bytes.len(), out)?;
    out.extend_from_slice(bytes);
    Ok(())
}

fn too_large() -> Error {
    Error::new(ErrorKind::Serialize).detail("record seal: a value is larger than 4 GiB")
}

/// Why a value has no canonical encoding.
#[derive(Debug)]
struct Unencodable(String);

impl std::fmt::Display for Unencodable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unencodable {}

impl ser::Error for Unencodable {
    fn custom<M: std::fmt::Display>(message: M) -> Self {
        Unencodable(message.to_string())
    }
}

/// A float as a JSON reader gets it: serde_json writes a non-finite one as
/// `null`, and an `f32` as its shortest decimal, which a reader parses as
/// a binary64.
fn float(number: f64) -> Value {
    if number.is_finite() {
        Value::Float(number)
    } else {
        Value::Null
    }
}

/// Builds the [`Value`] serde_json would write for a `Serialize` value.
struct Builder;

type Built = Result<Value, Unencodable>;

macro_rules! integers {
    ($($method:ident($ty:ty);)*) => {
        $(fn $method(self, v: $ty) -> Built {
            Ok(Value::Integer(v.to_string()))
        })*
    };
}

impl ser::Serializer for Builder {
    type Ok = Value;
    type Error = Unencodable;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Variant<Seq>;
    type SerializeMap = Map;
    type SerializeStruct = Map;
    type SerializeStructVariant = Variant<Map>;

    fn serialize_bool(self, v: bool) -> Built {
        Ok(Value::Bool(v))
    }

    integers! {
        serialize_i8(i8); serialize_i16(i16); serialize_i32(i32); serialize_i64(i64);
        serialize_i128(i128); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
        serialize_u64(u64); serialize_u128(u128);
    }

    fn serialize_f32(self, v: f32) -> Built {
        if !v.is_finite() {
            return Ok(Value::Null);
        }
        // What a reader parses from serde_json's shortest text of the f32.
        let text = serde_json::to_string(&v).map_err(ser::Error::custom)?;
        text.parse::<f64>().map(float).map_err(ser::Error::custom)
    }

    fn serialize_f64(self, v: f64) -> Built {
        Ok(float(v))
    }

    fn serialize_char(self, v: char) -> Built {
        Ok(Value::String(v.to_string()))
    }

    fn serialize_str(self, v: &str) -> Built {
        Ok(Value::String(v.to_owned()))
    }

    fn serialize_bytes(self, v: &[u8]) -> Built {
        // serde_json writes bytes as an array of numbers.
        Ok(Value::Array(
            v.iter().map(|b| Value::Integer(b.to_string())).collect(),
        ))
    }

    fn serialize_none(self) -> Built {
        Ok(Value::Null)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Built {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Built {
        Ok(Value::Null)
    }

    fn serialize_unit_struct(self, _: &'static str) -> Built {
        Ok(Value::Null)
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Built {
        Ok(Value::String(variant.to_owned()))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Built {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Built {
        Ok(Value::Object(vec![(
            variant.to_owned(),
            value.serialize(Builder)?,
        )]))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, Unencodable> {
        Ok(Seq(Vec::with_capacity(len.unwrap_or(0))))
    }

    fn serialize_tuple(self, len: usize) -> Result<Seq, Unencodable> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq, Unencodable> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Seq>, Unencodable> {
        Ok(Variant(variant, Seq(Vec::with_capacity(len))))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Map, Unencodable> {
        Ok(Map(Vec::with_capacity(len.unwrap_or(0)), None))
    }

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Map, Unencodable> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Map>, Unencodable> {
        Ok(Variant(variant, Map(Vec::with_capacity(len), None)))
    }
}

struct Seq(Vec<Value>);

impl ser::SerializeSeq for Seq {
    type Ok = Value;
    type Error = Unencodable;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unencodable> {
        self.0.push(value.serialize(Builder)?);
        Ok(())
    }
    fn end(self) -> Built {
        Ok(Value::Array(self.0))
    }
}

impl ser::SerializeTuple for Seq {
    type Ok = Value;
    type Error = Unencodable;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unencodable> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Built {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Seq {
    type Ok = Value;
    type Error = Unencodable;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unencodable> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Built {
        ser::SerializeSeq::end(self)
    }
}

/// An object's members, and a key waiting for its value.
struct Map(Vec<(String, Value)>, Option<String>);

impl ser::SerializeMap for Map {
    type Ok = Value;
    type Error = Unencodable;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unencodable> {
        // A member name as serde_json writes a map key: strings as they
        // are, numbers and booleans as their text.
        let name = match key.serialize(Builder)? {
            Value::String(text) | Value::Integer(text) => text,
            Value::Bool(b) => b.to_string(),
            _ => return Err(ser::Error::custom("a map key must be a string or a number")),
        };
        self.1 = Some(name);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unencodable> {
        let name = self
            .1
            .take()
            .ok_or_else(|| ser::Error::custom("a map value without its key"))?;
        self.0.push((name, value.serialize(Builder)?));
        Ok(())
    }
    fn end(self) -> Built {
        Ok(Value::Object(self.0))
    }
}

impl ser::SerializeStruct for Map {
    type Ok = Value;
    type Error = Unencodable;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Unencodable> {
        self.0.push((name.to_owned(), value.serialize(Builder)?));
        Ok(())
    }
    fn end(self) -> Built {
        Ok(Value::Object(self.0))
    }
}

/// A tuple or struct variant: `{"Variant": [...]}` or `{"Variant": {...}}`.
struct Variant<T>(&'static str, T);

impl ser::SerializeTupleVariant for Variant<Seq> {
    type Ok = Value;
    type Error = Unencodable;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unencodable> {
        ser::SerializeSeq::serialize_element(&mut self.1, value)
    }
    fn end(self) -> Built {
        Ok(Value::Object(vec![(
            self.0.to_owned(),
            ser::SerializeSeq::end(self.1)?,
        )]))
    }
}

impl ser::SerializeStructVariant for Variant<Map> {
    type Ok = Value;
    type Error = Unencodable;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Unencodable> {
        ser::SerializeStruct::serialize_field(&mut self.1, name, value)
    }
    fn end(self) -> Built {
        Ok(Value::Object(vec![(
            self.0.to_owned(),
            ser::SerializeStruct::end(self.1)?,
        )]))
    }
}

#[cfg(test)]
mod tests {
    use super::{encode, encode_json};

    /// The seal a tool computes from the JSON text equals the one the
    /// derive computes from the Rust value that serde_json wrote as it.
    #[test]
    fn json_text_and_rust_values_encode_alike() {
        #[derive(serde::Serialize)]
        struct Inner {
            z: Vec<f32>,
            a: std::collections::BTreeMap<String, i128>,
        }
        #[derive(serde::Serialize)]
        struct R {
            big: u128,
            neg: i64,
            zero: f64,
            minus_zero: f64,
            tiny: f64,
            huge: f64,
            nan: f64,
            text: &'static str,
            none: Option<u8>,
            unit: (),
            inner: Inner,
            _seal: &'static str,
        }
        let r = R {
            big: u128::MAX,
            neg: i64::MIN,
            zero: 0.0,
            minus_zero: -0.0,
            tiny: 5e-324,
            huge: 1e300,
            nan: f64::NAN,
            text: "\u{1F600} \"quoted\" \u{7f}",
            none: None,
            unit: (),
            inner: Inner {
                z: vec![0.1, -3.4e38, 1.0],
                a: [("b".into(), i128::MIN), ("a".into(), 0)].into(),
            },
            _seal: "left out",
        };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            encode_json(&json, "_seal").unwrap(),
            encode(&r, "_seal").unwrap()
        );
        // Whitespace, member order and escapes do not matter.
        let value: serde_json::Value =
            serde_json::from_str(r#"{"b": [1, 2.5], "a": "\u0041"}"#).unwrap();
        assert_eq!(
            encode_json(" {\"a\":\"A\" , \"b\":[1,2.5]}\n", "_seal").unwrap(),
            encode(&value, "_seal").unwrap()
        );
        // What readers refuse is refused.
        for bad in [
            "{\"a\": 1e400}",
            "{\"a\": \"\\ud800\"}",
            "[",
            &"[".repeat(200),
        ] {
            assert!(encode_json(bad, "_seal").is_err(), "{bad}");
        }
    }

    #[test]
    fn encoding_follows_the_json_a_reader_sees() {
        #[derive(serde::Serialize)]
        struct R {
            b: Option<u8>,
            a: f32,
            big: u128,
            e: (),
            s: &'static str,
            _seal: &'static str,
        }
        let r = R {
            b: None,
            a: 0.1,
            big: u128::MAX,
            e: (),
            s: "é",
            _seal: "left out",
        };
        let bytes = encode(&r, "_seal").unwrap();
        let mut expected = vec![0x07, 0, 0, 0, 5];
        expected.extend_from_slice(&[0, 0, 0, 1, b'a', 0x04]);
        expected.extend_from_slice(&0.1f64.to_bits().to_be_bytes());
        expected.extend_from_slice(&[0, 0, 0, 1, b'b', 0x00]);
        let max = u128::MAX.to_string();
        expected.extend_from_slice(&[0, 0, 0, 3, b'b', b'i', b'g', 0x03, 0, 0, 0, 39]);
        expected.extend_from_slice(max.as_bytes());
        expected.extend_from_slice(&[0, 0, 0, 1, b'e', 0x00]);
        expected.extend_from_slice(&[0, 0, 0, 1, b's', 0x05, 0, 0, 0, 2, 0xc3, 0xa9]);
        assert_eq!(bytes, expected);
    }
}
