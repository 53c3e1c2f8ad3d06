//! Where an invisible character is legitimate: the writing systems and emoji sequences that need them.
//!
//! Each check looks at one or two neighbouring characters, so it costs a few range comparisons or one
//! script lookup.

use rampart_text::Script;
use rampart_text::UnicodeScript;

/// Scripts that shape letters by joining, or form conjuncts after a virama, where ZWJ and ZWNJ choose the
/// form (Persian "می‌خواهم", Hindi "क्‍ष").
const JOINING_SCRIPTS: &[Script] = &[
    Script::Arabic,
    Script::Syriac,
    Script::Nko,
    Script::Mandaic,
    Script::Hanifi_Rohingya,
    Script::Mongolian,
    Script::Devanagari,
    Script::Bengali,
    Script::Gurmukhi,
    Script::Gujarati,
    Script::Oriya,
    Script::Tamil,
    Script::Telugu,
    Script::Kannada,
    Script::Malayalam,
    Script::Sinhala,
    Script::Tibetan,
    Script::Myanmar,
    Script::Khmer,
    Script::Balinese,
    Script::Javanese,
];

/// Scripts written without spaces, where a zero-width space marks a word or line-break opportunity.
const UNSPACED_SCRIPTS: &[Script] = &[
    Script::Thai,
    Script::Lao,
    Script::Khmer,
    Script::Myanmar,
    Script::Tibetan,
    Script::Tai_Tham,
    Script::New_Tai_Lue,
    Script::Javanese,
    Script::Balinese,
];

/// Right-to-left scripts, beside which LRM, RLM and ALM marks are ordinary typography.
const RTL_SCRIPTS: &[Script] = &[
    Script::Hebrew,
    Script::Arabic,
    Script::Syriac,
    Script::Thaana,
    Script::Nko,
    Script::Samaritan,
    Script::Mandaic,
    Script::Adlam,
    Script::Hanifi_Rohingya,
];

/// True when `c` belongs to one of `scripts` (script extensions count, so Arabic vowel marks count as
/// Arabic; characters shared by every script do not).
fn in_scripts(c: char, scripts: &[Script]) -> bool {
    if c.is_ascii() {
        return false;
    }
    let ext = c.script_extension();
    !ext.is_common() && !ext.is_inherited() && scripts.iter().any(|&s| ext.contains_script(s))
}

/// A letter, mark or digit of a script where ZWJ/ZWNJ select letter forms.
pub(super) fn is_joining_script(c: char) -> bool {
    in_scripts(c, JOINING_SCRIPTS)
}

/// A character of a script written without spaces.
pub(super) fn is_unspaced_script(c: char) -> bool {
    in_scripts(c, UNSPACED_SCRIPTS)
}

/// A character of a right-to-left script.
pub(super) fn is_rtl_script(c: char) -> bool {
    in_scripts(c, RTL_SCRIPTS)
}

/// A Mongolian character (the vowel separator U+180E sits between Mongolian letters).
pub(super) fn is_mongolian(c: char) -> bool {
    in_scripts(c, &[Script::Mongolian])
}

/// Characters that take part in emoji ZWJ sequences: pictographs, symbols with emoji forms, skin-tone
/// modifiers, regional indicators and keycap bases.
///
/// This approximates Unicode's Extended_Pictographic property with the blocks that hold it; a false
/// positive only means a lone ZWJ between two symbols goes unreported.
pub(super) fn is_emoji_like(c: char) -> bool {
    matches!(
        c as u32,
        0xA9 | 0xAE
            | 0x203C
            | 0x2049
            | 0x2122
            | 0x2139
            | 0x2194..=0x21FF
            | 0x2300..=0x23FF
            | 0x24C2
            | 0x25A0..=0x25FF
            | 0x2600..=0x27BF
            | 0x2900..=0x297F
            | 0x2B00..=0x2BFF
            | 0x3030
            | 0x303D
            | 0x3297
            | 0x3299
            | 0x1F000..=0x1FAFF
    )
}

/// U+1F3F4 WAVING BLACK FLAG, the base of the subdivision flags (England, Scotland, Wales) that are spelled
/// with tag characters.
pub(super) const BLACK_FLAG: char = '\u{1F3F4}';

/// Longest subdivision code in a flag tag sequence (ISO 3166-2: two-letter country plus up to four more).
const MAX_FLAG_TAGS: usize = 7;

/// Byte length of the emoji flag tag sequence at the start of `run` (lower-case letter or digit tags closed
/// by CANCEL TAG), or 0 when `run` does not start with one. Call only when the character before `run` is
/// [`BLACK_FLAG`].
pub(super) fn flag_tag_sequence_len(run: &str) -> usize {
    let mut len = 0;
    for (n, c) in run.chars().enumerate() {
        match c {
            '\u{E007F}' if n >= 2 => return len + c.len_utf8(),
            '\u{E0030}'..='\u{E0039}' | '\u{E0061}'..='\u{E007A}' if n < MAX_FLAG_TAGS => {
                len += c.len_utf8()
            }
            _ => return 0,
        }
    }
    0
}

/// A Hangul leading consonant (choseong), which a jungseong filler may follow.
pub(super) fn is_hangul_choseong(c: char) -> bool {
    matches!(c as u32, 0x1100..=0x115E | 0xA960..=0xA97C)
}

/// A Hangul vowel (jungseong), which a choseong filler may precede.
pub(super) fn is_hangul_jungseong(c: char) -> bool {
    matches!(c as u32, 0x1161..=0x11A7 | 0xD7B0..=0xD7C6)
}
