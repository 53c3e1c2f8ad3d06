//! Views of an input and the maps that lead back to it.
//!
//! Detectors look at text that has been normalised (NFKC, invisible characters removed) or decoded
//! (base64, hex, ...). Those *views* differ in length from the original, so each carries an [`OffsetMap`]:
//! every finding on a view is mapped back, and users always see spans over their own bytes.
//!
//! The map is a sorted list of segments. A segment is either a verbatim copy (a byte in the view maps to one
//! byte in the original) or a replacement (any byte of the view segment maps to the whole original range, as
//! when `ﬁ` becomes `fi` or a base64 run becomes its plaintext).

use crate::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    view_start: usize,
    view_end: usize,
    orig_start: usize,
    orig_end: usize,
    verbatim: bool,
}

/// Maps byte offsets in a view back to byte ranges in the original text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OffsetMap {
    segments: Vec<Segment>,
    view_len: usize,
}

impl OffsetMap {
    /// An empty map; grow it with [`OffsetMap::push_verbatim`] and [`OffsetMap::push_replaced`] in view order.
    pub fn new() -> OffsetMap {
        OffsetMap::default()
    }

    /// Length of the view this map describes, in bytes.
    pub fn view_len(&self) -> usize {
        self.view_len
    }

    /// Records that the next `orig.len()` view bytes are a verbatim copy of `orig`.
    pub fn push_verbatim(&mut self, orig: std::ops::Range<usize>) {
        let len = orig.end - orig.start;
        if len == 0 {
            return;
        }
        if let Some(last) = self.segments.last_mut()
            && last.verbatim
            && last.view_end == self.view_len
            && last.orig_end == orig.start
        {
            last.view_end += len;
            last.orig_end = orig.end;
            self.view_len += len;
            return;
        }
        self.segments.push(Segment {
            view_start: self.view_len,
            view_end: self.view_len + len,
            orig_start: orig.start,
            orig_end: orig.end,
            verbatim: true,
        });
        self.view_len += len;
    }

    /// Records that the next `view_len` view bytes stand for the original range `orig` as a whole.
    ///
    /// `view_len` may be zero (a character that was removed): the range is still remembered, so a finding
    /// that ends right after it can be widened to cover it.
    pub fn push_replaced(&mut self, orig: std::ops::Range<usize>, view_len: usize) {
        if view_len == 0 {
            // Removed characters extend the previous segment's original range so spans stay contiguous.
            if let Some(last) = self.segments.last_mut()
                && last.orig_end == orig.start
                && !last.verbatim
            {
                last.orig_end = orig.end;
            }
            return;
        }
        self.segments.push(Segment {
            view_start: self.view_len,
            view_end: self.view_len + view_len,
            orig_start: orig.start,
            orig_end: orig.end,
            verbatim: false,
        });
        self.view_len += view_len;
    }

    fn segment_at(&self, pos: usize) -> Option<&Segment> {
        let i = self.segments.partition_point(|s| s.view_end <= pos);
        self.segments.get(i)
    }

    /// Maps a view range to the smallest original range that produced it.
    ///
    /// Positions past the end clamp to the last segment; an empty map yields `None`.
    pub fn to_original(&self, view: Span) -> Option<Span> {
        let last = self.segments.last()?;
        let first_seg = self.segment_at(view.start).unwrap_or(last);
        let start = if first_seg.verbatim {
            first_seg.orig_start + view.start.saturating_sub(first_seg.view_start)
        } else {
            first_seg.orig_start
        };
        let end_pos = view.end.max(view.start + 1) - 1;
        let last_seg = self.segment_at(end_pos).unwrap_or(last);
        let end = if last_seg.verbatim {
            (last_seg.orig_start + (end_pos - last_seg.view_start) + 1).min(last_seg.orig_end)
        } else {
            last_seg.orig_end
        };
        let end = if view.is_empty() { start } else { end };
        Some(Span::new(start, end.max(start)))
    }

    /// True when every view byte is a verbatim copy of the same original byte (the view adds nothing).
    pub fn is_identity(&self) -> bool {
        self.segments.len() == 1 && self.segments[0].verbatim && self.segments[0].orig_start == 0
    }
}

/// What a view is, for explanations ("found after NFKC normalisation", "in base64 decoded at 12..40").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewKind {
    /// NFKC with invisible and bidi control characters removed.
    Normalized,
    /// Text decoded from an encoding; the string names it (`"base64"`, `"hex"`, `"rot13"`).
    Decoded(&'static str),
}

/// A derived text and its way back to the original.
#[derive(Clone, Debug)]
pub struct View {
    /// What produced the view.
    pub kind: ViewKind,
    /// The derived text.
    pub text: String,
    /// View offsets to original offsets.
    pub map: OffsetMap,
}

impl View {
    /// Maps a span in this view to the original text.
    pub fn to_original(&self, span: Span) -> Option<Span> {
        self.map.to_original(span)
    }
}

/// All views of one input, computed once and shared by every scanner.
///
/// `normalized` is `None` when normalisation would not change the text (plain ASCII, the common case), so
/// scanners skip the second pass for free.
#[derive(Clone, Debug, Default)]
pub struct Views {
    /// The normalised text, if it differs from the original.
    pub normalized: Option<View>,
    /// Decoded segments (filled by the decoders of the injection layer).
    pub decoded: Vec<View>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_and_replaced_segments_map_back() {
        // original: "a\u{200B}bﬁc" -> view "abfic"
        let orig = "a\u{200B}bﬁc";
        let mut m = OffsetMap::new();
        m.push_verbatim(0..1); // a
        m.push_replaced(1..4, 0); // zero-width space removed
        m.push_verbatim(4..5); // b
        m.push_replaced(5..8, 2); // ﬁ -> fi
        m.push_verbatim(8..9); // c
        assert_eq!(m.view_len(), 5);
        // "bfi" in view = 1..4 -> original 4..8
        assert_eq!(m.to_original(Span::new(1, 4)), Some(Span::new(4, 8)));
        // "i" alone maps to the whole ligature
        assert_eq!(m.to_original(Span::new(3, 4)), Some(Span::new(5, 8)));
        assert_eq!(&orig[8..9], "c");
        assert_eq!(m.to_original(Span::new(4, 5)), Some(Span::new(8, 9)));
        // merged verbatim runs
        let mut id = OffsetMap::new();
        id.push_verbatim(0..3);
        id.push_verbatim(3..6);
        assert!(id.is_identity());
    }
}
