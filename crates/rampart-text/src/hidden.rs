//! Which characters are invisible, and what the invisible ones can carry.
//!
//! Everything here is a pure function of one character (or a slice of them) with no tables to build: a few
//! range comparisons per character. Callers that scan long texts can therefore classify every character
//! without a prefilter; characters below U+00AD return at the first comparison.

/// The families of invisible characters that matter for prompt security.
///
/// The families differ in what they are used for, and so in how suspicious they are: tag characters have no
/// legitimate use outside emoji flags, while zero-width joiners are part of every family emoji.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HiddenKind {
    /// Unicode tag characters U+E0000–U+E007F, which mirror ASCII and so can spell whole hidden sentences.
    Tag,
    /// Bidirectional formatting controls (embeddings, overrides, isolates, and the LRM/RLM/ALM marks), which
    /// change the order text is displayed in.
    Bidi,
    /// Zero-width spaces and joiners, the word joiner, the byte-order mark, the Mongolian vowel separator and
    /// the soft hyphen: characters that take no width and split or join words invisibly.
    ZeroWidth,
    /// Variation selectors (U+FE00–U+FE0F, U+E0100–U+E01EF, Mongolian free variation selectors), which pick a
    /// glyph variant of the character before them and are otherwise ignored.
    VariationSelector,
    /// Other default-ignorable characters that render as nothing: Hangul fillers, invisible math operators,
    /// the combining grapheme joiner, Khmer inherent vowels, deprecated format controls, unassigned
    /// ignorables.
    InvisibleOther,
}

impl HiddenKind {
    /// Lower-case words for explanations ("zero-width character").
    pub fn describe(self) -> &'static str {
        match self {
            HiddenKind::Tag => "Unicode tag character",
            HiddenKind::Bidi => "bidirectional control",
            HiddenKind::ZeroWidth => "zero-width character",
            HiddenKind::VariationSelector => "variation selector",
            HiddenKind::InvisibleOther => "invisible character",
        }
    }
}

/// The family of an invisible character, or `None` for anything that is visible (or is ordinary whitespace).
///
/// Cost: one comparison for characters below U+00AD (all of ASCII and Latin-1 punctuation), a short `match`
/// on ranges otherwise.
pub fn classify(c: char) -> Option<HiddenKind> {
    let cp = c as u32;
    if cp < 0xAD {
        return None;
    }
    let kind = match cp {
        0xAD | 0x180E | 0x200B..=0x200D | 0x2060 | 0xFEFF => HiddenKind::ZeroWidth,
        0x61C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069 => HiddenKind::Bidi,
        0x180B..=0x180D | 0x180F | 0xFE00..=0xFE0F | 0xE0100..=0xE01EF => {
            HiddenKind::VariationSelector
        }
        0xE0000..=0xE007F => HiddenKind::Tag,
        0x34F
        | 0x115F
        | 0x1160
        | 0x17B4
        | 0x17B5
        | 0x2061..=0x2065
        | 0x206A..=0x206F
        | 0x3164
        | 0xFFA0
        | 0xFFF0..=0xFFF8
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0080..=0xE00FF
        | 0xE01F0..=0xE0FFF => HiddenKind::InvisibleOther,
        _ => return None,
    };
    Some(kind)
}

/// True for C0 and C1 control characters other than tab, line feed, carriage return and next-line (and for
/// DEL).
///
/// They are not "hidden Unicode" in the attack sense, but they are invisible and split words, so the
/// normalised view drops them. Cost: two comparisons.
pub fn is_stray_control(c: char) -> bool {
    matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{84}' | '\u{86}'..='\u{9f}')
}

/// The printable ASCII character a tag character stands for (U+E0020–U+E007E map to U+0020–U+007E).
///
/// The language tag U+E0001, the cancel tag U+E007F and the unassigned tags U+E0002–U+E001F spell nothing
/// and return `None`. Cost: one range check.
pub fn tag_to_ascii(c: char) -> Option<char> {
    let cp = c as u32;
    if (0xE0020..=0xE007E).contains(&cp) {
        char::from_u32(cp - 0xE0000)
    } else {
        None
    }
}

/// The ASCII text that the tag characters of `s` spell, in order; every other character is skipped.
///
/// Lazy and allocation-free: take only what you show (`decode_tags(run).take(60)`). Cost: one pass over the
/// characters taken.
pub fn decode_tags(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().filter_map(tag_to_ascii)
}

/// The byte a variation selector encodes when variation selectors are used to carry data: U+FE00–U+FE0F are
/// 0–15 and U+E0100–U+E01EF are 16–255, the one-selector-per-byte scheme used to hide text after an emoji.
///
/// Mongolian free variation selectors and every other character return `None`. Cost: two range checks.
pub fn variation_selector_byte(c: char) -> Option<u8> {
    let cp = c as u32;
    let value = match cp {
        0xFE00..=0xFE0F => cp - 0xFE00,
        0xE0100..=0xE01EF => cp - 0xE0100 + 16,
        _ => return None,
    };
    u8::try_from(value).ok()
}

/// How a bidirectional control changes the embedding state, for balance checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BidiRole {
    /// LRM, RLM, ALM: zero-width characters with a direction; they open nothing.
    Mark,
    /// LRE, RLE (embeddings) and LRO, RLO (overrides); closed by PDF.
    OpenEmbedding,
    /// PDF, which closes the innermost embedding or override.
    CloseEmbedding,
    /// LRI, RLI, FSI; closed by PDI.
    OpenIsolate,
    /// PDI, which closes the innermost isolate.
    CloseIsolate,
}

/// The role and the standard abbreviation of a bidirectional control (`(OpenEmbedding, "RLO")`).
///
/// Cost: one `match`.
pub fn bidi_control(c: char) -> Option<(BidiRole, &'static str)> {
    let role = match c {
        '\u{200E}' => (BidiRole::Mark, "LRM"),
        '\u{200F}' => (BidiRole::Mark, "RLM"),
        '\u{061C}' => (BidiRole::Mark, "ALM"),
        '\u{202A}' => (BidiRole::OpenEmbedding, "LRE"),
        '\u{202B}' => (BidiRole::OpenEmbedding, "RLE"),
        '\u{202D}' => (BidiRole::OpenEmbedding, "LRO"),
        '\u{202E}' => (BidiRole::OpenEmbedding, "RLO"),
        '\u{202C}' => (BidiRole::CloseEmbedding, "PDF"),
        '\u{2066}' => (BidiRole::OpenIsolate, "LRI"),
        '\u{2067}' => (BidiRole::OpenIsolate, "RLI"),
        '\u{2068}' => (BidiRole::OpenIsolate, "FSI"),
        '\u{2069}' => (BidiRole::CloseIsolate, "PDI"),
        _ => return None,
    };
    Some(role)
}

/// True for LRO and RLO, the controls that force a direction on every following character: the core of
/// "Trojan Source" reordering. Cost: one comparison.
pub fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202D}' | '\u{202E}')
}

/// A short conventional name for the invisible characters that have one (`"ZWSP"`, `"ZWJ"`, `"BOM"`), for
/// explanations. Cost: one `match`.
pub fn abbreviation(c: char) -> Option<&'static str> {
    if let Some((_, name)) = bidi_control(c) {
        return Some(name);
    }
    let name = match c {
        '\u{00AD}' => "SHY",
        '\u{034F}' => "CGJ",
        '\u{180E}' => "MVS",
        '\u{200B}' => "ZWSP",
        '\u{200C}' => "ZWNJ",
        '\u{200D}' => "ZWJ",
        '\u{2060}' => "WJ",
        '\u{FEFF}' => "BOM",
        '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' => "HANGUL FILLER",
        '\u{2061}'..='\u{2064}' => "INVISIBLE OPERATOR",
        '\u{E0001}' => "LANGUAGE TAG",
        '\u{E007F}' => "CANCEL TAG",
        _ => return None,
    };
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_each_family() {
        assert_eq!(classify('a'), None);
        assert_eq!(classify(' '), None);
        assert_eq!(
            classify('\u{00A0}'),
            None,
            "no-break space is visible whitespace"
        );
        assert_eq!(classify('é'), None);
        assert_eq!(classify('\u{200B}'), Some(HiddenKind::ZeroWidth));
        assert_eq!(classify('\u{00AD}'), Some(HiddenKind::ZeroWidth));
        assert_eq!(classify('\u{FEFF}'), Some(HiddenKind::ZeroWidth));
        assert_eq!(classify('\u{202E}'), Some(HiddenKind::Bidi));
        assert_eq!(classify('\u{2067}'), Some(HiddenKind::Bidi));
        assert_eq!(classify('\u{061C}'), Some(HiddenKind::Bidi));
        assert_eq!(classify('\u{E0041}'), Some(HiddenKind::Tag));
        assert_eq!(classify('\u{FE0F}'), Some(HiddenKind::VariationSelector));
        assert_eq!(classify('\u{E0100}'), Some(HiddenKind::VariationSelector));
        assert_eq!(classify('\u{3164}'), Some(HiddenKind::InvisibleOther));
        assert_eq!(classify('\u{2062}'), Some(HiddenKind::InvisibleOther));
        assert_eq!(classify('\u{1F600}'), None);
    }

    #[test]
    fn decodes_tag_text() {
        let hidden: String = "Hi you"
            .chars()
            .map(|c| char::from_u32(c as u32 + 0xE0000).unwrap_or(c))
            .collect();
        let run = format!("\u{E0001}{hidden}\u{E007F}");
        assert_eq!(decode_tags(&run).collect::<String>(), "Hi you");
        assert_eq!(tag_to_ascii('A'), None);
    }

    #[test]
    fn variation_selector_bytes_cover_0_to_255() {
        assert_eq!(variation_selector_byte('\u{FE00}'), Some(0));
        assert_eq!(variation_selector_byte('\u{FE0F}'), Some(15));
        assert_eq!(variation_selector_byte('\u{E0100}'), Some(16));
        assert_eq!(variation_selector_byte('\u{E01EF}'), Some(255));
        assert_eq!(variation_selector_byte('\u{180B}'), None);
    }

    #[test]
    fn bidi_roles_and_names() {
        assert_eq!(
            bidi_control('\u{202E}'),
            Some((BidiRole::OpenEmbedding, "RLO"))
        );
        assert_eq!(
            bidi_control('\u{2069}'),
            Some((BidiRole::CloseIsolate, "PDI"))
        );
        assert!(is_bidi_override('\u{202D}'));
        assert!(!is_bidi_override('\u{2066}'));
        assert_eq!(abbreviation('\u{200D}'), Some("ZWJ"));
        assert_eq!(abbreviation('x'), None);
        assert!(
            is_stray_control('\0')
                && is_stray_control('\u{9b}')
                && !is_stray_control('\u{85}')
                && !is_stray_control('\n')
        );
    }
}
