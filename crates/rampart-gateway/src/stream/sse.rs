//! A server-sent events parser that survives any split of its input.
//!
//! Upstream bytes arrive in arbitrary pieces: a line, a `\r\n` pair or a UTF-8 sequence may be cut
//! anywhere. The parser keeps the unfinished line and dispatches an event at each blank line, as the
//! WHATWG EventSource rules say (`data` lines joined with `\n`, one leading space after the colon dropped,
//! comment lines ignored). It bounds what it buffers, so a peer that never ends a line cannot exhaust memory.

/// One dispatched event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Why a stream is not valid SSE.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// A line or event grew past the parser's limit.
    #[error("an event exceeds {0} bytes")]
    TooLarge(usize),
    /// A line that is not UTF-8.
    #[error("a line is not valid UTF-8")]
    InvalidUtf8,
}

/// Incremental parser; feed it with [`SseParser::push`] and [`SseParser::finish`].
#[derive(Debug)]
pub struct SseParser {
    line: Vec<u8>,
    /// The last byte pushed was `\r`: a `\n` starting the next push belongs to it.
    after_cr: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    max_event: usize,
}

impl SseParser {
    /// A parser refusing events (and lines) larger than `max_event` bytes.
    pub fn new(max_event: usize) -> SseParser {
        SseParser {
            line: Vec::new(),
            after_cr: false,
            event: None,
            data: String::new(),
            has_data: false,
            max_event,
        }
    }

    /// Parses `bytes`, appending complete events to `out`.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        while let Some(i) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            let (head, tail) = bytes.split_at(i);
            self.extend_line(head)?;
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out)?;
            self.line = line;
            self.line.clear();
            bytes = match tail {
                [b'\r', b'\n', rest @ ..] => rest,
                [b'\r'] => {
                    self.after_cr = true;
                    &[]
                }
                [_, rest @ ..] => rest,
                [] => &[],
            };
        }
        self.extend_line(bytes)
    }

    /// Ends the input: an event not closed by a blank line is dispatched, as a lenient client would.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out)?;
        }
        self.dispatch(out);
        Ok(())
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        if self.line.len() + bytes.len() + self.data.len() > self.max_event {
            return Err(SseError::TooLarge(self.max_event));
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::InvalidUtf8)?;
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            // `id` and `retry` steer reconnection, which a proxied completion never does.
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.has_data || self.event.is_some() {
            out.push(SseEvent {
                event: self.event.take(),
                data: std::mem::take(&mut self.data),
            });
        }
        self.has_data = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_split(input: &[u8], cuts: &[usize]) -> Vec<SseEvent> {
        let mut p = SseParser::new(1 << 20);
        let mut out = Vec::new();
        let mut last = 0;
        for &c in cuts {
            p.push(&input[last..c], &mut out).unwrap();
            last = c;
        }
        p.push(&input[last..], &mut out).unwrap();
        p.finish(&mut out).unwrap();
        out
    }

    #[test]
    fn every_split_gives_the_same_events() {
        let input = "data: {\"a\":1}\r\n\r\n: comment\nevent: delta\ndata: x\ndata:  y\n\rdata: é\n\ndata: last".as_bytes();
        let whole = parse_split(input, &[]);
        assert_eq!(
            whole,
            vec![
                SseEvent {
                    event: None,
                    data: "{\"a\":1}".into()
                },
                SseEvent {
                    event: Some("delta".into()),
                    data: "x\n y".into()
                },
                SseEvent {
                    event: None,
                    data: "é".into()
                },
                SseEvent {
                    event: None,
                    data: "last".into()
                },
            ]
        );
        for a in 0..input.len() {
            for b in a..input.len() {
                assert_eq!(parse_split(input, &[a, b]), whole, "cuts at {a}, {b}");
            }
        }
    }

    #[test]
    fn limits_and_bad_utf8() {
        let mut p = SseParser::new(16);
        let mut out = Vec::new();
        assert_eq!(p.push(&[b'd'; 40], &mut out), Err(SseError::TooLarge(16)));
        let mut p = SseParser::new(1024);
        assert_eq!(
            p.push(b"data: \xff\xfe\n\n", &mut out),
            Err(SseError::InvalidUtf8)
        );
    }
}
