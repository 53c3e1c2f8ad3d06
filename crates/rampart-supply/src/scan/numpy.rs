//! NumPy `.npy` headers: `\x93NUMPY`, a version, a header length and a Python dict literal such as
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`. An array whose dtype holds Python
//! objects (`|O`, or a structured dtype with an `O` field) stores its data as a pickle.

/// What an `.npy` header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NpyHeader {
    /// Offset of the array data (the pickle, for object arrays).
    pub data_offset: u64,
    /// The dtype holds Python objects.
    pub object: bool,
}

/// Parses the header at the start of `head`. `Ok(None)` means `head` is too short to hold it (the caller
/// reads more); `Err` describes a malformed header.
pub(crate) fn parse_header(head: &[u8]) -> Result<Option<NpyHeader>, String> {
    if head.len() < 10 {
        return Ok(None);
    }
    let major = head[6];
    let (len, start) = match major {
        1 => (u64::from(u16::from_le_bytes([head[8], head[9]])), 10u64),
        2 | 3 => {
            let Some(b) = head.get(8..12) else {
                return Ok(None);
            };
            (
                u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                12u64,
            )
        }
        v => return Err(format!("unknown .npy format version {v}")),
    };
    let end = start + len;
    let Some(text) = usize::try_from(end)
        .ok()
        .and_then(|e| head.get(start as usize..e))
    else {
        return Ok(None);
    };
    let text = std::str::from_utf8(text).map_err(|_| "the .npy header is not text".to_owned())?;
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let dict = p
        .value(0)
        .ok_or_else(|| "the .npy header is not a Python dict literal".to_owned())?;
    let Lit::Dict(items) = dict else {
        return Err("the .npy header is not a dict".into());
    };
    let descr = items
        .iter()
        .find(|(k, _)| matches!(k, Lit::Str(s) if s == "descr"))
        .map(|(_, v)| v)
        .ok_or_else(|| "the .npy header has no 'descr'".to_owned())?;
    Ok(Some(NpyHeader {
        data_offset: end,
        object: holds_object(descr),
    }))
}

/// Header bytes needed before `parse_header` can answer, once the fixed prefix is known.
pub(crate) fn header_end(head: &[u8]) -> Option<u64> {
    match head.get(6)? {
        1 => Some(10 + u64::from(u16::from_le_bytes([*head.get(8)?, *head.get(9)?]))),
        2 | 3 => {
            let b = head.get(8..12)?;
            Some(12 + u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        }
        _ => None,
    }
}

fn holds_object(v: &Lit) -> bool {
    match v {
        Lit::Str(s) => {
            let t = s.trim_start_matches(['<', '>', '|', '=']);
            t.strip_prefix('O')
                .is_some_and(|r| r.chars().all(|c| c.is_ascii_digit()))
        }
        Lit::Seq(items) => items.iter().any(holds_object),
        Lit::Dict(items) => items
            .iter()
            .any(|(k, v)| holds_object(k) || holds_object(v)),
        Lit::Other => false,
    }
}

enum Lit {
    Str(String),
    Seq(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
    Other,
}

/// Just enough of Python's literal syntax for `.npy` headers: strings, numbers, True/False/None,
/// tuples, lists and dicts.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Option<Lit> {
        if depth > 32 {
            return None;
        }
        self.ws();
        match *self.s.get(self.i)? {
            q @ (b'\'' | b'"') => {
                self.i += 1;
                let start = self.i;
                while *self.s.get(self.i)? != q {
                    if self.s[self.i] == b'\\' {
                        self.i += 1;
                    }
                    self.i += 1;
                }
                let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                self.i += 1;
                Some(Lit::Str(text))
            }
            open @ (b'(' | b'[') => {
                self.i += 1;
                let close = if open == b'(' { b')' } else { b']' };
                let mut items = Vec::new();
                loop {
                    if self.eat(close) {
                        return Some(Lit::Seq(items));
                    }
                    items.push(self.value(depth + 1)?);
                    if !self.eat(b',') {
                        return self.eat(close).then_some(Lit::Seq(items));
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.eat(b'}') {
                        return Some(Lit::Dict(items));
                    }
                    let k = self.value(depth + 1)?;
                    if !self.eat(b':') {
                        return None;
                    }
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    if !self.eat(b',') {
                        return self.eat(b'}').then_some(Lit::Dict(items));
                    }
                }
            }
            c if c.is_ascii_alphanumeric() || c == b'-' || c == b'+' || c == b'.' => {
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || b"-+._".contains(c))
                {
                    self.i += 1;
                }
                Some(Lit::Other)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(header: &str) -> Vec<u8> {
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend_from_slice(&(header.len() as u16).to_le_bytes());
        v.extend_from_slice(header.as_bytes());
        v
    }

    #[test]
    fn float_arrays_are_plain() {
        let h = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n");
        let got = parse_header(&h).unwrap().unwrap();
        assert!(!got.object);
        assert_eq!(got.data_offset, h.len() as u64);
    }

    #[test]
    fn object_dtypes_are_found_even_inside_structured_dtypes() {
        let h = npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }\n");
        assert!(parse_header(&h).unwrap().unwrap().object);
        let h =
            npy("{'shape': (2,), 'descr': [('a', '<i4'), ('b', '|O8')], 'fortran_order': False}\n");
        assert!(parse_header(&h).unwrap().unwrap().object);
    }

    #[test]
    fn short_and_broken_headers() {
        let h = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n");
        assert_eq!(parse_header(&h[..20]).unwrap(), None);
        assert!(parse_header(&npy("not a dict")).is_err());
        assert!(parse_header(&npy("{'shape': (1,)}")).is_err());
    }
}
