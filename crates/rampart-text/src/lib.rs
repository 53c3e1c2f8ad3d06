//! Unicode normalisation with offset maps, and the character analysis behind the hidden-Unicode scanner.
//!
//! Detectors match words, and attackers write words that do not look like words to a regex: fullwidth
//! `ｐａｓｓｗｏｒｄ`, ligatures (`ﬁle`), zero-width characters inside keywords (`pass\u{200B}word`),
//! Cyrillic letters inside Latin ones (`pаypal`). [`views`] computes, once per input, a *normalised view*
//! that undoes all of that, with an [`OffsetMap`](rampart_core::OffsetMap) so that a match in the view is
//! reported over the user's own bytes.
//!
//! The view is, in order:
//! 1. invisible characters removed (every [`HiddenKind`]: tag characters, bidi controls, zero-width
//!    characters, variation selectors, other default-ignorables) together with stray C0/C1 controls;
//! 2. NFKC applied per character cluster;
//! 3. inside Latin words that mix in look-alike letters from Cyrillic, Greek, Armenian or Cherokee, those
//!    letters folded to the ASCII letter they imitate. Words written wholly in one script are left alone.
//!
//! Plain ASCII text (the common case) costs one `is_ascii` check and one byte scan, and produces no view.
#![deny(missing_docs)]

mod confusable;
pub mod decode;
mod hidden;
mod normalize;

pub use confusable::{ConfusableWord, ConfusableWords, ascii_lookalike, confusable_words};
pub use hidden::{
    BidiRole, HiddenKind, abbreviation, bidi_control, classify, decode_tags, is_bidi_override,
    is_stray_control, tag_to_ascii, variation_selector_byte,
};
pub use normalize::MAX_CLUSTER_CHARS;
pub use unicode_script::{Script, ScriptExtension, UnicodeScript};

use rampart_core::{View, Views};

/// The views of `text` that every scanner shares.
///
/// `normalized` is `None` when normalisation would not change the text; `decoded` is left empty for the
/// decoders of the injection layer to fill.
///
/// Cost: for printable ASCII, a vectorised `is_ascii` check plus one byte scan, no allocation. Otherwise one
/// pass that copies the text into the view (one allocation of the text's size) and records a map segment per
/// changed cluster; unchanged clusters are found with the NFKC quick-check and copied without normalising.
pub fn views(text: &str) -> Views {
    if normalize::is_plain_ascii(text) {
        return Views::default();
    }
    let (normalized, map, changed) = normalize::build(text);
    Views {
        normalized: changed.then_some(View {
            kind: rampart_core::ViewKind::Normalized,
            text: normalized,
            map,
        }),
        decoded: Vec::new(),
    }
}

/// [`views`] plus the decoded segments of [`decode::decode_views`] (base64, hex, rot13, tags, ...) with
/// default limits: what a pipeline computes when one of its scanners reads decoded views.
///
/// Cost: [`views`] plus a few microseconds per KiB of ordinary text, more where encoded runs are found.
pub fn views_with_decoded(text: &str) -> Views {
    let mut v = views(text);
    v.decoded = decode::decode_views(text, &decode::DecodeLimits::default());
    v
}

/// The normalised view of `text`, also when it equals the text (its map is then the identity, or empty for
/// an empty text).
///
/// Cost: as [`views`] without the ASCII shortcut: one pass and one allocation of the text's size.
pub fn normalize(text: &str) -> View {
    normalize::view(text)
}

#[cfg(test)]
mod tests;
