//! A minimal reader for the protobuf wire format, enough to walk ONNX and SavedModel messages without
//! generated code: it yields `(field number, value)` pairs of one message and never looks ahead. Nested
//! messages are borrowed sub-slices that remember their absolute offset in the file, so findings can point at
//! the bytes they are about. Groups (wire types 3 and 4) are rejected: neither format uses them.

use std::borrow::Cow;

/// Bytes of one message, and where they start in the scanned file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Message<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) offset: u64,
}

impl<'a> Message<'a> {
    pub(crate) fn new(bytes: &'a [u8], offset: u64) -> Self {
        Message { bytes, offset }
    }

    /// The fields of this message, in file order. Iteration stops after the first error.
    pub(crate) fn fields(self) -> Fields<'a> {
        Fields {
            msg: self,
            pos: 0,
            done: false,
        }
    }

    /// The bytes as text; invalid UTF-8 is replaced, which is enough for names shown in a report.
    pub(crate) fn text(self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.bytes)
    }
}

/// A field value as the wire format stores it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value<'a> {
    Varint(u64),
    /// An 8-byte value; no field these checks read has this type, so the bytes are skipped.
    Fixed64,
    /// A 4-byte value, skipped likewise.
    Fixed32,
    /// Length-delimited: a string, bytes, a packed array or a nested message.
    Len(Message<'a>),
}

impl<'a> Value<'a> {
    pub(crate) fn message(self) -> Option<Message<'a>> {
        match self {
            Value::Len(m) => Some(m),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Field<'a> {
    pub(crate) number: u32,
    pub(crate) value: Value<'a>,
    /// Absolute offset of the field's tag.
    pub(crate) offset: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WireError {
    #[error("truncated {what} at offset {offset}")]
    Truncated { what: &'static str, offset: u64 },
    #[error("varint longer than 10 bytes at offset {offset}")]
    LongVarint { offset: u64 },
    #[error("field number {number} is invalid at offset {offset}")]
    FieldNumber { number: u64, offset: u64 },
    #[error("wire type {wire} is not supported at offset {offset}")]
    WireType { wire: u8, offset: u64 },
}

impl WireError {
    pub(crate) fn offset(&self) -> u64 {
        match self {
            WireError::Truncated { offset, .. }
            | WireError::LongVarint { offset }
            | WireError::FieldNumber { offset, .. }
            | WireError::WireType { offset, .. } => *offset,
        }
    }
}

pub(crate) struct Fields<'a> {
    msg: Message<'a>,
    pos: usize,
    done: bool,
}

impl<'a> Fields<'a> {
    fn abs(&self, pos: usize) -> u64 {
        self.msg.offset.saturating_add(pos as u64)
    }

    fn varint(&mut self) -> Result<u64, WireError> {
        let start = self.pos;
        let mut value = 0u64;
        for i in 0..10 {
            let Some(&b) = self.msg.bytes.get(self.pos) else {
                return Err(WireError::Truncated {
                    what: "varint",
                    offset: self.abs(start),
                });
            };
            self.pos += 1;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError::LongVarint {
            offset: self.abs(start),
        })
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<(&'a [u8], usize), WireError> {
        let start = self.pos;
        let end = start
            .checked_add(n)
            .filter(|&e| e <= self.msg.bytes.len())
            .ok_or(WireError::Truncated {
                what,
                offset: self.abs(start),
            })?;
        self.pos = end;
        Ok((&self.msg.bytes[start..end], start))
    }

    fn next_field(&mut self) -> Result<Field<'a>, WireError> {
        let tag_pos = self.pos;
        let offset = self.abs(tag_pos);
        let tag = self.varint()?;
        let number = tag >> 3;
        if number == 0 || number > (1 << 29) - 1 {
            return Err(WireError::FieldNumber { number, offset });
        }
        let value = match (tag & 7) as u8 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8, "fixed64")?;
                Value::Fixed64
            }
            2 => {
                let len_pos = self.pos;
                let len = self.varint()?;
                let len = usize::try_from(len).map_err(|_| WireError::Truncated {
                    what: "length-delimited field",
                    offset: self.abs(len_pos),
                })?;
                let (b, start) = self.take(len, "length-delimited field")?;
                Value::Len(Message::new(b, self.abs(start)))
            }
            5 => {
                self.take(4, "fixed32")?;
                Value::Fixed32
            }
            wire => return Err(WireError::WireType { wire, offset }),
        };
        Ok(Field {
            number: number as u32,
            value,
            offset,
        })
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.msg.bytes.len() {
            return None;
        }
        let r = self.next_field();
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }
}

/// Whether every top-level field of `bytes` decodes and satisfies `allowed(number, wire_type)`, and
/// `required` field numbers all occur. Cost: one pass over the top-level tags; nested bytes are skipped.
pub(crate) fn top_level_matches(
    bytes: &[u8],
    allowed: impl Fn(u32, &Value<'_>) -> bool,
    required: &[u32],
) -> bool {
    let mut seen = vec![false; required.len()];
    for field in Message::new(bytes, 0).fields() {
        let Ok(field) = field else { return false };
        if !allowed(field.number, &field.value) {
            return false;
        }
        if let Some(i) = required.iter().position(|&r| r == field.number) {
            seen[i] = true;
        }
    }
    seen.iter().all(|&s| s)
}

#[cfg(test)]
pub(crate) mod encode {
    //! Hand encoding for tests: the same bytes the Python fixture script writes.

    pub(crate) fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    pub(crate) fn field_varint(number: u32, v: u64, out: &mut Vec<u8>) {
        varint(u64::from(number) << 3, out);
        varint(v, out);
    }

    pub(crate) fn field_bytes(number: u32, b: &[u8], out: &mut Vec<u8>) {
        varint((u64::from(number) << 3) | 2, out);
        varint(b.len() as u64, out);
        out.extend_from_slice(b);
    }

    /// A message from `(field, bytes)` pairs, all length-delimited.
    pub(crate) fn msg(fields: &[(u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (n, b) in fields {
            field_bytes(*n, b, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::encode::*;
    use super::*;

    #[test]
    fn reads_all_wire_types_with_offsets() {
        let mut b = Vec::new();
        field_varint(1, 300, &mut b);
        field_bytes(2, b"hi", &mut b);
        b.extend_from_slice(&[(3 << 3) | 1, 1, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&[(4 << 3) | 5, 2, 0, 0, 0]);
        let fields: Vec<_> = Message::new(&b, 100)
            .fields()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(fields.len(), 4);
        assert!(matches!(fields[0].value, Value::Varint(300)));
        let m = fields[1].value.message().unwrap();
        assert_eq!(
            (m.bytes, m.offset, fields[1].offset),
            (&b"hi"[..], 105, 103)
        );
        assert!(matches!(fields[2].value, Value::Fixed64));
        assert!(matches!(fields[3].value, Value::Fixed32));
    }

    #[test]
    fn rejects_hostile_encodings() {
        let cases: [(&[u8], &str); 5] = [
            (
                &[0x12, 0x05, b'a'],
                "truncated length-delimited field at offset 2",
            ),
            (
                &[
                    0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
                ],
                "varint longer",
            ),
            (&[0x00, 0x01], "field number 0"),
            (&[0x0b], "wire type 3"),
            (
                &[0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
                "truncated length-delimited",
            ),
        ];
        for (bytes, want) in cases {
            let err = Message::new(bytes, 0)
                .fields()
                .find_map(Result::err)
                .unwrap();
            assert!(err.to_string().contains(want), "{err} !~ {want}");
        }
    }

    #[test]
    fn top_level_match_requires_fields() {
        let b = msg(&[(7, b"")]);
        assert!(top_level_matches(&b, |n, _| n == 7, &[7]));
        assert!(!top_level_matches(&b, |n, _| n == 7, &[7, 8]));
        assert!(!top_level_matches(&b, |n, _| n == 8, &[]));
    }
}
