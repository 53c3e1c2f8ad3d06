use proptest::prelude::*;
use rampart_core::Span;

use super::*;

/// Finds `needle` in the view of `text` and returns the original text it maps back to.
fn find_back<'t>(text: &'t str, needle: &str) -> Option<&'t str> {
    let view = normalize(text);
    let at = view.text.find(needle)?;
    let span = view.to_original(Span::new(at, at + needle.len()))?;
    text.get(span.start..span.end)
}

#[test]
fn plain_ascii_has_no_view() {
    assert!(
        views("Please summarise the attached report in three bullet points.\n\tThanks!")
            .normalized
            .is_none()
    );
    assert!(views("").normalized.is_none());
    let id = normalize("hello world");
    assert_eq!(id.text, "hello world");
    assert!(id.map.is_identity());
}

#[test]
fn unchanged_non_ascii_has_no_view() {
    for text in [
        "Grüße aus München",
        "Привет, мир",
        "東京タワー",
        "مرحبا بالعالم",
        "emoji 😀 ok",
    ] {
        assert!(views(text).normalized.is_none(), "{text}");
    }
}

#[test]
fn fullwidth_letters_fold_to_ascii() {
    let text = "my ｐａｓｓｗｏｒｄ is";
    let v = views(text).normalized.expect("fullwidth changes the text");
    assert_eq!(v.text, "my password is");
    assert_eq!(find_back(text, "password"), Some("ｐａｓｓｗｏｒｄ"));
    assert_eq!(find_back("Ｏｒｄｅｒ １２３", "123"), Some("１２３"));
}

#[test]
fn ligatures_expand_and_map_to_the_whole_ligature() {
    let text = "open the ﬁle now";
    let v = normalize(text);
    assert_eq!(v.text, "open the file now");
    assert_eq!(find_back(text, "file"), Some("ﬁle"));
    // Half of the ligature still maps to all of it: spans never split a character.
    assert_eq!(find_back(text, "ile"), Some("ﬁle"));
}

#[test]
fn zero_width_characters_are_removed_and_kept_inside_spans() {
    let text = "the pass\u{200B}word is hunter2";
    let v = views(text)
        .normalized
        .expect("zero-width space changes the text");
    assert_eq!(v.text, "the password is hunter2");
    assert_eq!(find_back(text, "password"), Some("pass\u{200B}word"));
    let tags = "hi\u{E0041}\u{E0042} there\u{202E}x\u{FE0F}y";
    assert_eq!(normalize(tags).text, "hi therexy");
}

#[test]
fn cyrillic_lookalikes_fold_inside_latin_words_only() {
    let text = "log in to pаypal today";
    let v = views(text).normalized.expect("mixed-script word is folded");
    assert_eq!(v.text, "log in to paypal today");
    assert_eq!(find_back(text, "paypal"), Some("pаypal"));
    // A genuine Russian word is left as it is.
    assert!(views("Оплата через банк").normalized.is_none());
    assert_eq!(normalize("Москва и pаypal").text, "Москва и paypal");
}

#[test]
fn combining_sequences_compose() {
    let text = "cafe\u{0301} time";
    let v = normalize(text);
    assert_eq!(v.text, "café time");
    assert_eq!(find_back(text, "café"), Some("cafe\u{0301}"));
}

#[test]
fn stray_controls_are_dropped() {
    let text = "pass\u{0}word\u{1b}[0m";
    let v = views(text).normalized.expect("controls change the text");
    assert_eq!(v.text, "password[0m");
    assert_eq!(find_back(text, "password"), Some("pass\u{0}word"));
}

#[test]
fn long_mark_stacks_stay_bounded() {
    let text = format!("a{}b", "\u{0301}".repeat(10_000));
    let v = normalize(&text);
    assert!(v.text.starts_with('á') && v.text.ends_with('b'));
}

/// Characters that make normalisation do something, mixed with plain ones.
fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('a', 'z'),
        1 => Just(' '),
        1 => prop::sample::select(vec![
            '\u{200B}', '\u{200D}', '\u{FEFF}', '\u{202E}', '\u{2066}', '\u{E0041}', '\u{FE0F}', '\u{E0100}',
            '\u{AD}', '\u{0301}', '\u{0327}', 'ﬁ', 'ｐ', '１', 'а', 'о', 'е', 'Ж', 'é', '\u{1100}', '\u{1161}',
            '\u{11A8}', '가', '😀', '\u{0}', '\u{85}', 'ǆ', '㎏', '\u{3164}', 'ß', 'İ',
        ]),
        1 => any::<char>(),
    ]
}

fn is_invisible(c: char) -> bool {
    classify(c).is_some()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn views_never_panics(text in any::<String>()) {
        let v = views(&text);
        if let Some(n) = v.normalized {
            prop_assert_eq!(n.map.view_len(), n.text.len());
        }
    }

    #[test]
    fn confusable_words_are_ordered_and_on_char_boundaries(
        chars in prop::collection::vec(interesting_char(), 0..80)
    ) {
        let text: String = chars.into_iter().collect();
        let mut end = 0;
        for w in confusable_words(&text) {
            prop_assert!(w.span.start >= end && w.span.start < w.span.end && w.span.end <= text.len());
            prop_assert!(text.is_char_boundary(w.span.start) && text.is_char_boundary(w.span.end));
            prop_assert!(w.foreign_letters >= 1 && w.foreign_letters < w.letters);
            end = w.span.end;
        }
    }

    #[test]
    fn map_is_monotonic_and_lands_on_char_boundaries(
        chars in prop::collection::vec(interesting_char(), 0..60)
    ) {
        let text: String = chars.into_iter().collect();
        let view = normalize(&text);
        prop_assert_eq!(view.map.view_len(), view.text.len());
        let bounds: Vec<usize> = view.text.char_indices().map(|(i, _)| i).chain([view.text.len()]).collect();
        let mut prev = Span::new(0, 0);
        for w in bounds.windows(2) {
            let (a, b) = (w[0], w[1]);
            let orig = view.to_original(Span::new(a, b)).expect("non-empty view has a map");
            prop_assert!(orig.start <= orig.end && orig.end <= text.len(), "{orig:?} out of bounds");
            prop_assert!(text.is_char_boundary(orig.start) && text.is_char_boundary(orig.end));
            prop_assert!(orig.start >= prev.start && orig.end >= prev.end, "{prev:?} then {orig:?}");
            prev = orig;
        }
        // Every span between any two view boundaries also maps inside the text on boundaries.
        for (x, &a) in bounds.iter().enumerate() {
            for &b in bounds.iter().skip(x + 1) {
                let orig = view.to_original(Span::new(a, b)).expect("non-empty view has a map");
                prop_assert!(orig.end <= text.len() && orig.start <= orig.end);
                prop_assert!(text.is_char_boundary(orig.start) && text.is_char_boundary(orig.end));
            }
        }
    }

    #[test]
    fn removing_invisibles_maps_substrings_back_exactly(
        chars in prop::collection::vec(prop_oneof![
            4 => proptest::char::range('a', 'z'),
            1 => prop::sample::select(vec![
                '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{AD}', '\u{202E}', '\u{2069}',
                '\u{E0067}', '\u{FE0F}', '\u{E0100}', '\u{034F}', '\u{3164}',
            ]),
        ], 1..50),
        from in any::<prop::sample::Index>(),
        len in any::<prop::sample::Index>(),
    ) {
        let text: String = chars.into_iter().collect();
        let view = normalize(&text);
        prop_assume!(!view.text.is_empty());
        let n = view.text.len();
        let a = from.index(n);
        let b = a + 1 + len.index(n - a);
        let orig = view.to_original(Span::new(a, b)).expect("non-empty view has a map");
        let back = text.get(orig.start..orig.end).expect("span on char boundaries");
        let visible: String = back.chars().filter(|&c| !is_invisible(c)).collect();
        prop_assert_eq!(visible.as_str(), &view.text[a..b]);
        prop_assert!(back.chars().next().is_some_and(|c| !is_invisible(c)));
        prop_assert!(back.chars().next_back().is_some_and(|c| !is_invisible(c)));
    }
}
