//! Normalised views of arbitrary text map every span back inside the original, on char boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_core::Span;

fuzz_target!(|text: &str| {
    let views = rampart_text::views(text);
    if let Some(view) = &views.normalized {
        let n = view.text.len();
        for (a, b) in [(0, n), (0, n / 2), (n / 3, n), (n / 2, n / 2)] {
            if let Some(s) = view.to_original(Span::new(a, b)) {
                assert!(s.start <= s.end && s.end <= text.len());
                assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
            }
        }
    }
});
