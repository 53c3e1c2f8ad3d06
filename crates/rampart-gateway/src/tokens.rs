//! Token counts for rate limits (`tpm`) and usage estimates, with the BPE tables OpenAI publishes
//! (`tiktoken-rs` embeds them, so nothing is fetched at run time).
//!
//! Cost: the first call for an encoding builds its table once for the whole process (measured on the
//! development machine in a release build: o200k ≈ 0.65 s and +46 MB resident, cl100k ≈ 0.2 s and
//! +24 MB); later calls only tokenise. Call [`warm_up`] at start-up to pay that before the first request.
//!
//! Hostile input: the tokeniser's pre-split regex backtracks, so a long run of whitespace makes it fail
//! (tiktoken-rs then panics) and long runs of one character class cost time quadratic in the run. Text
//! is therefore counted in slices of at most [`SLICE_BYTES`], cut before a space that starts a word,
//! which is where the pre-split would cut anyway: ordinary prose counts exactly, and a pathological run
//! is off by at most one token per slice.

use tiktoken_rs::CoreBPE;

/// The longest slice handed to the tokeniser in one call; see the module docs.
pub const SLICE_BYTES: usize = 1024;

/// Tokens a chat API adds around each message (role, separators), on top of its content.
pub const TOKENS_PER_MESSAGE: u64 = 3;
/// Tokens a chat API adds once per request to prime the reply.
pub const TOKENS_PER_REQUEST: u64 = 3;

/// The BPE vocabulary a model family uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// `cl100k_base`: GPT-4, GPT-3.5 and, as an approximation, every model we do not know.
    Cl100k,
    /// `o200k_base`: GPT-4o, GPT-4.1, GPT-4.5, GPT-5, the o1/o3/o4 reasoning models and gpt-oss.
    O200k,
}

impl Encoding {
    fn bpe(self) -> &'static CoreBPE {
        match self {
            Encoding::Cl100k => tiktoken_rs::cl100k_base_singleton(),
            Encoding::O200k => tiktoken_rs::o200k_base_singleton(),
        }
    }
}

/// The encoding for `model`. Case is ignored, and so is a provider prefix such as `openai/` or
/// `azure/`. Models of other vendors get `cl100k`, whose counts are close enough for budgets.
pub fn encoding_for_model(model: &str) -> Encoding {
    let name = model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .trim()
        .to_ascii_lowercase();
    let family = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '.', ':', '_']))
    };
    let o200k = [
        "gpt-4o",
        "chatgpt-4o",
        "gpt-4.1",
        "gpt-4.5",
        "gpt-5",
        "gpt-oss",
        "o1",
        "o3",
        "o4",
    ]
    .iter()
    .any(|p| family(p));
    if o200k {
        Encoding::O200k
    } else {
        Encoding::Cl100k
    }
}

/// Token count of `text` as `model` would see it, special-token strings (`<|endoftext|>`) counted as
/// ordinary text. Cost once the table is loaded: about 0.1 ms per KiB of prose (o200k; cl100k about
/// 1.5× that), up to about 0.5 s per MiB of hostile runs (see `benches/limits.rs`), so callers
/// counting large bodies should do it off the async executor. Never panics.
pub fn count_tokens(model: &str, text: &str) -> u64 {
    count_with(encoding_for_model(model), text)
}

/// [`count_tokens`] with the encoding chosen by the caller.
pub fn count_with(encoding: Encoding, text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    let bpe = encoding.bpe();
    slices(text)
        .map(|slice| bpe.encode_ordinary(slice).len() as u64)
        .sum()
}

/// Prompt tokens of a chat request whose message contents are `texts`: each content's tokens plus
/// the per-message framing ([`TOKENS_PER_MESSAGE`]) and the reply priming ([`TOKENS_PER_REQUEST`]).
/// An estimate for admission; the provider's reported usage corrects it afterwards.
pub fn estimate_chat_tokens(model: &str, texts: &[&str]) -> u64 {
    let encoding = encoding_for_model(model);
    let content: u64 = texts.iter().map(|t| count_with(encoding, t)).sum();
    content + TOKENS_PER_MESSAGE * texts.len() as u64 + TOKENS_PER_REQUEST
}

/// Builds the tables of both encodings now rather than on the first request.
pub fn warm_up() {
    let _ = Encoding::Cl100k.bpe();
    let _ = Encoding::O200k.bpe();
}

/// Splits `text` into slices of at most [`SLICE_BYTES`], each cut preferably just before a space
/// followed by a non-space (the start of a ` word` piece), else at the last char boundary.
fn slices(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let cut = cut_point(rest);
        let (head, tail) = rest.split_at(cut);
        rest = tail;
        Some(head)
    })
}

fn cut_point(text: &str) -> usize {
    if text.len() <= SLICE_BYTES {
        return text.len();
    }
    let bytes = text.as_bytes();
    // Look only in the second half so slices stay long enough to be cheap.
    let preferred = (SLICE_BYTES / 2..SLICE_BYTES)
        .rev()
        .find(|&i| bytes[i] == b' ' && !bytes[i + 1].is_ascii_whitespace());
    if let Some(i) = preferred {
        return i;
    }
    let mut end = SLICE_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_families_map_to_their_encoding() {
        for m in [
            "gpt-4o",
            "gpt-4o-mini",
            "GPT-4o-2024-08-06",
            "openai/gpt-4.1-nano",
            "gpt-5",
            "gpt-5-mini",
            "gpt-5.1",
            "o1",
            "o1-mini",
            "o3-mini",
            "o4-mini",
            "chatgpt-4o-latest",
            "gpt-oss-120b",
        ] {
            assert_eq!(encoding_for_model(m), Encoding::O200k, "{m}");
        }
        for m in [
            "gpt-4",
            "gpt-4-turbo",
            "gpt-3.5-turbo",
            "claude-sonnet-4",
            "llama3",
            "o10x",
            "gpt-40",
            "",
        ] {
            assert_eq!(encoding_for_model(m), Encoding::Cl100k, "{m}");
        }
    }

    #[test]
    fn counts_match_the_published_encodings() {
        assert_eq!(count_tokens("gpt-4", "hello world"), 2);
        assert_eq!(count_tokens("gpt-4o", "hello world"), 2);
        assert_eq!(count_tokens("gpt-4", ""), 0);
        // Ordinary text, not the one special token: a prompt cannot shrink its count this way.
        assert!(count_tokens("gpt-4", "<|endoftext|>") > 1);
        let tokens = tiktoken_rs::cl100k_base_singleton().encode_ordinary("tiktoken is great!");
        assert_eq!(
            count_tokens("gpt-3.5-turbo", "tiktoken is great!"),
            tokens.len() as u64
        );
        assert_eq!(tokens.len(), 6);
    }

    #[test]
    fn slicing_keeps_prose_counts_exact() {
        let prose = "The quick brown fox jumps over the lazy dog, then naps. ".repeat(400);
        assert!(prose.len() > 4 * SLICE_BYTES);
        for enc in [Encoding::Cl100k, Encoding::O200k] {
            let whole = enc.bpe().encode_ordinary(&prose).len() as u64;
            assert_eq!(count_with(enc, &prose), whole);
        }
    }

    #[test]
    fn slices_cover_the_text_on_char_boundaries() {
        let text = format!("{}{}", "é".repeat(3000), " a".repeat(2000));
        let joined: String = slices(&text).collect();
        assert_eq!(joined, text);
        assert!(slices(&text).all(|s| !s.is_empty() && s.len() <= SLICE_BYTES));
    }

    #[test]
    fn hostile_runs_do_not_panic() {
        // Unsliced, the whitespace runs make tiktoken-rs panic (its regex runs out of stack).
        let n = 200_000;
        for text in [
            " ".repeat(n) + "x",
            " \t".repeat(n / 2) + "x",
            "a".repeat(n),
            "!".repeat(n),
        ] {
            let count = count_tokens("gpt-4o", &text);
            assert!(count > 0 && count <= text.len() as u64);
        }
    }

    proptest::proptest! {
        // Each case tokenises a few KiB twice per encoding: fewer cases keep the debug test fast.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

        /// Slices always rejoin to the input, whatever its characters.
        #[test]
        fn slices_partition_any_text(text in "\\PC{0,3000}") {
            let joined: String = slices(&text).collect();
            proptest::prop_assert_eq!(joined, text.clone());
            proptest::prop_assert!(slices(&text).all(|s| !s.is_empty() && s.len() <= SLICE_BYTES));
        }

        /// On text made of words and single spaces, slicing changes no count.
        #[test]
        fn word_text_counts_are_exact(words in proptest::collection::vec("[a-zA-Z0-9,.!?'éü]{1,12}", 100..600)) {
            let text = words.join(" ");
            for enc in [Encoding::Cl100k, Encoding::O200k] {
                let whole = enc.bpe().encode_ordinary(&text).len() as u64;
                proptest::prop_assert_eq!(count_with(enc, &text), whole);
            }
        }
    }

    #[test]
    fn chat_estimate_adds_message_framing() {
        let est = estimate_chat_tokens("gpt-4o", &["hello world", "hi"]);
        assert_eq!(est, 2 + 1 + 2 * TOKENS_PER_MESSAGE + TOKENS_PER_REQUEST);
        assert_eq!(estimate_chat_tokens("gpt-4o", &[]), TOKENS_PER_REQUEST);
    }
}
