//! Decode-and-rescan: the texts an attacker hides inside an input.
//!
//! Instructions aimed at a model are often smuggled past filters in an encoding the model still reads:
//! base64, hex, percent-encoding, HTML character references, ROT13, leetspeak, reversed text, invisible
//! Unicode tag characters, Morse code, letters spaced out (`i g n o r e`) or written in binary.
//! [`decode_views`] finds such segments and returns each decoded segment as a [`View`] whose
//! [`OffsetMap`](rampart_core::OffsetMap) leads back to the bytes of the *original* input, also when a
//! decoded text was decoded once more (base64 of hex).
//!
//! # Origin of a view
//!
//! A view holds the decoded text of one segment, not the whole input. The span of the original that the
//! segment came from is `view.map.to_original(Span::new(0, view.text.len()))`; [`origin`] is that call.
//! Explanations read "base64-decoded segment at 120..188 says …" with that span.
//!
//! # Cost
//!
//! Every decoder has a gate that looks at bytes only (a byte-class table, `memchr`), so ordinary prose is
//! scanned a few times at memory speed and nothing is allocated until a candidate decodes to text. The
//! ciphers without a checksum (ROT13, reversed text, leetspeak, spaced letters) are accepted only when the
//! result contains markedly more common words than the original (see `words.rs`).
//!
//! # Bounds
//!
//! [`DecodeLimits`] caps the nesting depth, the number of views and the decoded bytes in total; every
//! decoder is a single forward pass over its input, so work is linear in the input and the budget.

mod ciphers;
mod encodings;
mod shapes;
mod words;

use rampart_core::{OffsetMap, Span, View, ViewKind};

/// Bounds on [`decode_views`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// How many times decoded text is decoded again: 1 decodes the input only, 2 also decodes what came
    /// out of it (base64 of hex), and so on. 0 disables decoding.
    pub max_depth: usize,
    /// Upper bound on the decoded bytes of all views together.
    pub max_total_bytes: usize,
    /// The decoded bytes may also not exceed this multiple of the input length (a small input cannot make
    /// the decoders produce megabytes through nesting).
    pub max_expansion: usize,
    /// Upper bound on the number of views returned.
    pub max_views: usize,
    /// Shortest run, in bytes of the text being decoded, that the base64, hex, binary and percent-encoding
    /// decoders consider. Shorter runs are words, identifiers and numbers far more often than payloads.
    pub min_encoded_len: usize,
}

impl Default for DecodeLimits {
    fn default() -> DecodeLimits {
        DecodeLimits {
            max_depth: 2,
            max_total_bytes: 64 * 1024,
            max_expansion: 4,
            max_views: 32,
            min_encoded_len: 16,
        }
    }
}

/// The span of the original text that `view` was decoded from (`None` only for an empty view).
pub fn origin(view: &View) -> Option<Span> {
    view.map.to_original(Span::new(0, view.text.len()))
}

/// Finds encoded or obfuscated segments of `text` and returns their decoded texts.
///
/// Each view's kind is `ViewKind::Decoded(name)` with `name` one of `"base64"`, `"hex"`, `"url"`,
/// `"html"`, `"binary"`, `"rot13"`, `"leet"`, `"reversed"`, `"tags"`, `"morse"`, `"spaced"`. Views come in
/// input order per decoder, depth by depth (decodings of decoded text follow the views they came from).
/// Returns an empty vector, without allocating, when nothing in `text` decodes.
pub fn decode_views(text: &str, limits: &DecodeLimits) -> Vec<View> {
    let budget = limits
        .max_total_bytes
        .min(text.len().saturating_mul(limits.max_expansion));
    let mut sink = Sink {
        views: Vec::new(),
        depths: Vec::new(),
        budget_left: budget,
        max_views: limits.max_views,
    };
    if limits.max_depth == 0 || limits.max_views == 0 || budget == 0 {
        return sink.views;
    }
    run_all(text, None, 1, limits, &mut sink);
    // Decoded texts are scanned again, breadth first; views appended meanwhile are picked up in turn.
    let mut next = 0;
    while next < sink.views.len() && !sink.is_full() {
        let depth = sink.depths.get(next).copied().unwrap_or(usize::MAX);
        if depth < limits.max_depth {
            // The parent view is moved out while its children are pushed, then put back.
            let parent = std::mem::replace(
                &mut sink.views[next],
                View {
                    kind: ViewKind::Normalized,
                    text: String::new(),
                    map: OffsetMap::new(),
                },
            );
            run_all(
                &parent.text,
                Some(&parent.map),
                depth + 1,
                limits,
                &mut sink,
            );
            sink.views[next] = parent;
        }
        next += 1;
    }
    sink.views
}

fn run_all(
    text: &str,
    parent: Option<&OffsetMap>,
    depth: usize,
    limits: &DecodeLimits,
    sink: &mut Sink,
) {
    let mut cx = Cx {
        src: text,
        parent,
        depth,
        limits,
        sink,
    };
    encodings::scan_runs(text, &mut cx);
    encodings::scan_percent(text, &mut cx);
    encodings::scan_html(text, &mut cx);
    shapes::scan_tags(text, &mut cx);
    shapes::scan_morse(text, &mut cx);
    ciphers::scan_words(text, &mut cx);
}

struct Sink {
    views: Vec<View>,
    depths: Vec<usize>,
    budget_left: usize,
    max_views: usize,
}

impl Sink {
    fn is_full(&self) -> bool {
        self.views.len() >= self.max_views || self.budget_left == 0
    }
}

/// What a decoder needs: where to put views, how to map offsets back, and how much room is left.
pub(crate) struct Cx<'a> {
    /// The text being decoded (the input, or a view's text when nesting).
    src: &'a str,
    parent: Option<&'a OffsetMap>,
    depth: usize,
    limits: &'a DecodeLimits,
    sink: &'a mut Sink,
}

impl<'a> Cx<'a> {
    /// True when no further view can be accepted; decoders stop scanning.
    pub(crate) fn is_full(&self) -> bool {
        self.sink.is_full()
    }

    /// Decoded bytes still allowed.
    pub(crate) fn budget(&self) -> usize {
        self.sink.budget_left
    }

    pub(crate) fn min_encoded_len(&self) -> usize {
        self.limits.min_encoded_len.max(4)
    }

    /// A map builder translating offsets of the text being decoded to the original input.
    pub(crate) fn map(&self) -> MapBuilder<'a> {
        MapBuilder {
            src: self.src,
            parent: self.parent,
            map: OffsetMap::new(),
            pending: None,
        }
    }

    /// Accepts a decoded view if it fits the limits. `text` must not be empty.
    pub(crate) fn emit(&mut self, name: &'static str, text: String, map: MapBuilder<'_>) -> bool {
        let map = map.finish();
        if text.is_empty() || self.is_full() || text.len() > self.sink.budget_left {
            return false;
        }
        debug_assert_eq!(
            map.view_len(),
            text.len(),
            "{name} map does not cover its text"
        );
        self.sink.budget_left -= text.len();
        self.sink.views.push(View {
            kind: ViewKind::Decoded(name),
            text,
            map,
        });
        self.sink.depths.push(self.depth);
        true
    }
}

/// Builds an [`OffsetMap`] from pieces "these source bytes became that many view bytes".
///
/// Pieces arrive in source order. Adjacent pieces are merged until they cover [`GRAIN`] view bytes, so a
/// decoded view carries one segment per few words rather than one per byte, and every piece is translated
/// through the parent view's map, so nested views point at the original input.
pub(crate) struct MapBuilder<'p> {
    src: &'p str,
    parent: Option<&'p OffsetMap>,
    map: OffsetMap,
    /// (source start, source end, view bytes) not yet pushed.
    pending: Option<(usize, usize, usize)>,
}

/// View bytes per map segment: fine enough to point at a word, coarse enough to keep maps small.
const GRAIN: usize = 8;

impl MapBuilder<'_> {
    /// Records that source bytes `src` produced the next `out` view bytes (`out` may be zero).
    pub(crate) fn piece(&mut self, src: std::ops::Range<usize>, out: usize) {
        match &mut self.pending {
            Some((_, end, len)) => {
                *end = (*end).max(src.end);
                *len += out;
            }
            None => self.pending = Some((src.start, src.end, out)),
        }
        // Segments end on character boundaries of the source, so every mapped span does too.
        if let Some((_, end, len)) = self.pending
            && len >= GRAIN
            && self.src.is_char_boundary(end)
        {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let Some((start, end, len)) = self.pending.take() else {
            return;
        };
        let orig = match self.parent {
            None => start..end,
            Some(parent) => match parent.to_original(Span::new(start, end.max(start))) {
                Some(span) => span.start..span.end,
                None => return,
            },
        };
        self.map.push_replaced(orig, len);
    }

    fn finish(mut self) -> OffsetMap {
        self.flush();
        self.map
    }
}

/// Checks that decoded bytes read as text: valid UTF-8 (an incomplete character at the very end is cut
/// off, as happens when a payload is truncated), no control characters other than tab and line breaks,
/// and mostly letters and spaces. Returns the length of the usable prefix.
pub(crate) fn text_prefix(bytes: &[u8]) -> Option<usize> {
    let valid = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(bytes.get(..e.valid_up_to())?).ok()?
        }
        Err(_) => return None,
    };
    let (mut chars, mut letters, mut spaces, mut encoding) = (0usize, 0usize, 0usize, 0usize);
    for c in valid.chars() {
        chars += 1;
        encoding += usize::from(c.is_ascii_alphanumeric() || "+/=-_%\\,:".contains(c));
        if c.is_alphabetic() {
            letters += 1;
        } else if c == ' ' || c == '\n' || c == '\r' || c == '\t' {
            spaces += 1;
        } else if c.is_control() || c == '\u{FFFD}' || ('\u{E000}'..='\u{F8FF}').contains(&c) {
            return None;
        }
    }
    let prose = chars >= 3 && letters * 4 >= chars && (letters + spaces) * 2 >= chars;
    // Text that is itself an encoding (hex inside base64) is kept so the next depth can decode it.
    let encoded = chars >= 16 && encoding + spaces == chars;
    let ok = prose || encoded;
    ok.then_some(valid.len())
}

#[cfg(test)]
mod tests;
