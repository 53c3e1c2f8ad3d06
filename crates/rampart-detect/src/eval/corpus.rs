//! Labelled JSONL corpora: parsing, validation and conversion of character offsets to byte offsets.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::Path;

use rampart_core::Span;
use serde::Deserialize;

/// Why a corpus could not be read. Every variant that comes from the file names its 1-based line.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The file could not be opened or read.
    #[error("cannot read corpus: {0}")]
    Io(#[from] std::io::Error),
    /// A line is not a JSON object of the expected shape.
    #[error("line {line}: {message}")]
    Json {
        /// 1-based line number.
        line: usize,
        /// What the JSON parser objected to.
        message: String,
    },
    /// A gold span does not fit its text.
    #[error("line {line}: span {index} ({start}..{end}, {entity}): {problem}")]
    Span {
        /// 1-based line number.
        line: usize,
        /// 0-based index of the span in the line's `spans` array.
        index: usize,
        /// Start as written, in characters.
        start: usize,
        /// End as written, in characters.
        end: usize,
        /// Type as written.
        entity: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// One gold annotation, converted to bytes of [`Sample::text`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoldSpan {
    /// Byte range into the sample's text.
    pub span: Span,
    /// Entity type as the corpus names it.
    pub entity: String,
}

/// One labelled text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// 1-based line of the corpus file it came from.
    pub line: usize,
    /// The text to scan.
    pub text: String,
    /// Gold annotations, in file order.
    pub spans: Vec<GoldSpan>,
}

/// A parsed corpus: texts with gold spans whose offsets are already bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Corpus {
    /// Samples in file order; blank lines produce none.
    pub samples: Vec<Sample>,
}

#[derive(Deserialize)]
struct RawLine {
    text: String,
    #[serde(default)]
    spans: Vec<RawSpan>,
}

#[derive(Deserialize)]
struct RawSpan {
    start: usize,
    end: usize,
    #[serde(rename = "type")]
    entity: String,
}

impl Corpus {
    /// Reads a JSONL corpus from a file.
    pub fn load(path: &Path) -> Result<Corpus, CorpusError> {
        let file = std::fs::File::open(path)?;
        Corpus::from_reader(std::io::BufReader::new(file))
    }

    /// Reads a JSONL corpus from any buffered reader; stops at the first bad line.
    pub fn from_reader(reader: impl BufRead) -> Result<Corpus, CorpusError> {
        let mut samples = Vec::new();
        for (i, line) in reader.lines().enumerate() {
            let line_no = i + 1;
            let line = line.map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidData => CorpusError::Json {
                    line: line_no,
                    message: "not valid UTF-8".to_owned(),
                },
                _ => CorpusError::Io(e),
            })?;
            if let Some(sample) = parse_line(&line, line_no)? {
                samples.push(sample);
            }
        }
        Ok(Corpus { samples })
    }

    /// Parses a whole JSONL document held in memory.
    pub fn parse(jsonl: &str) -> Result<Corpus, CorpusError> {
        let mut samples = Vec::new();
        for (i, line) in jsonl.lines().enumerate() {
            if let Some(sample) = parse_line(line, i + 1)? {
                samples.push(sample);
            }
        }
        Ok(Corpus { samples })
    }

    /// The set of gold types that occur in the corpus: its vocabulary.
    pub fn types(&self) -> BTreeSet<String> {
        self.samples
            .iter()
            .flat_map(|s| s.spans.iter().map(|g| g.entity.clone()))
            .collect()
    }

    /// Number of gold spans.
    pub fn gold_count(&self) -> usize {
        self.samples.iter().map(|s| s.spans.len()).sum()
    }
}

fn parse_line(line: &str, line_no: usize) -> Result<Option<Sample>, CorpusError> {
    // A UTF-8 byte order mark on the first line is an editor artefact, not content.
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    if line.trim().is_empty() {
        return Ok(None);
    }
    let raw: RawLine = serde_json::from_str(line).map_err(|e| CorpusError::Json {
        line: line_no,
        message: describe_json_error(&e),
    })?;
    // Byte offset of every character boundary, so that char offsets convert in O(1) each.
    let boundaries: Vec<usize> = if raw.spans.is_empty() {
        Vec::new()
    } else {
        raw.text
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(raw.text.len()))
            .collect()
    };
    let n_chars = boundaries.len().saturating_sub(1);
    let mut spans = Vec::with_capacity(raw.spans.len());
    for (index, s) in raw.spans.into_iter().enumerate() {
        let problem = if s.start > s.end {
            Some("start is after end".to_owned())
        } else if s.end > n_chars {
            Some(format!(
                "end is past the text, which has {n_chars} characters"
            ))
        } else if s.start == s.end {
            Some("span is empty".to_owned())
        } else if s.entity.trim().is_empty() {
            Some("type is empty".to_owned())
        } else {
            None
        };
        let bytes = boundaries
            .get(s.start)
            .copied()
            .zip(boundaries.get(s.end).copied());
        match (problem, bytes) {
            (None, Some((start, end))) => spans.push(GoldSpan {
                span: Span { start, end },
                entity: s.entity,
            }),
            (problem, _) => {
                return Err(CorpusError::Span {
                    line: line_no,
                    index,
                    start: s.start,
                    end: s.end,
                    entity: s.entity,
                    problem: problem.unwrap_or_else(|| "offset out of range".to_owned()),
                });
            }
        }
    }
    Ok(Some(Sample {
        line: line_no,
        text: raw.text,
        spans,
    }))
}

/// serde_json appends "at line 1 column N" for the position inside the single line; keep the column only.
fn describe_json_error(e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "invalid JSON",
        serde_json::error::Category::Data => "unexpected JSON shape",
        serde_json::error::Category::Io => "read error",
    };
    let msg = e.to_string();
    let msg = msg
        .rsplit_once(" at line ")
        .map_or(msg.as_str(), |(head, _)| head);
    format!("{kind}: {msg} (column {})", e.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_char_offsets_to_bytes() {
        let c = Corpus::parse(
            r#"{"text": "Grüße an Zoë Müller!", "spans": [{"start": 9, "end": 19, "type": "PERSON"}], "id": 7}"#,
        )
        .unwrap();
        let s = &c.samples[0];
        assert_eq!(s.line, 1);
        let g = &s.spans[0];
        assert_eq!(&s.text[g.span.start..g.span.end], "Zoë Müller");
        assert_eq!(g.span, Span { start: 11, end: 23 });
    }

    #[test]
    fn skips_blank_lines_and_keeps_line_numbers() {
        let c =
            Corpus::parse("\n{\"text\": \"a\"}\n   \n{\"text\": \"b\", \"spans\": []}\n").unwrap();
        assert_eq!(c.samples.len(), 2);
        assert_eq!(c.samples[0].line, 2);
        assert_eq!(c.samples[1].line, 4);
        assert!(c.types().is_empty());
    }

    #[test]
    fn reports_bad_json_with_line_number() {
        let err = Corpus::parse("{\"text\": \"ok\"}\n{\"text\": oops}\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("line 2: invalid JSON"), "{msg}");
        let err = Corpus::parse("{\"spans\": []}").unwrap_err();
        assert!(err.to_string().contains("missing field `text`"), "{err}");
        let err = Corpus::parse("[1, 2]").unwrap_err();
        assert!(
            err.to_string().starts_with("line 1: unexpected JSON shape"),
            "{err}"
        );
    }

    #[test]
    fn reports_bad_spans_with_line_and_index() {
        let cases = [
            (
                r#"{"text": "héllo", "spans": [{"start": 0, "end": 6, "type": "X"}]}"#,
                "end is past the text, which has 5 characters",
            ),
            (
                r#"{"text": "hello", "spans": [{"start": 0, "end": 1, "type": "X"}, {"start": 3, "end": 2, "type": "X"}]}"#,
                "start is after end",
            ),
            (
                r#"{"text": "hello", "spans": [{"start": 2, "end": 2, "type": "X"}]}"#,
                "span is empty",
            ),
            (
                r#"{"text": "hello", "spans": [{"start": 0, "end": 2, "type": " "}]}"#,
                "type is empty",
            ),
        ];
        for (line, want) in cases {
            let err = Corpus::parse(&format!("\n{line}")).unwrap_err();
            let msg = err.to_string();
            assert!(msg.starts_with("line 2: span "), "{msg}");
            assert!(msg.ends_with(want), "{msg}");
        }
        let err =
            Corpus::parse(r#"{"text": "x", "spans": [{"start": -1, "end": 1, "type": "X"}]}"#)
                .unwrap_err();
        assert!(
            err.to_string().starts_with("line 1: unexpected JSON shape"),
            "{err}"
        );
    }

    #[test]
    fn reader_rejects_invalid_utf8_with_line_number() {
        let data: &[u8] = b"{\"text\": \"a\"}\n{\"text\": \"\xff\"}\n";
        let err = Corpus::from_reader(data).unwrap_err();
        assert_eq!(err.to_string(), "line 2: not valid UTF-8");
    }
}
