//! A small embedded list of common English words, used to tell decoded text from noise.
//!
//! ROT13, reversed text, leetspeak and spaced-out letters have no checksum: the only sign that a
//! transformation uncovered something is that the result reads as language. The test is deliberately
//! cheap: a word is hashed byte by byte while it is being tokenised (FNV-1a over lowercase ASCII) and the
//! 64-bit hash is looked up in an open-addressed table built at compile time, so a lookup is one multiply
//! and, nearly always, one probe. A false match needs a 64-bit collision with one of a few hundred
//! entries, which is negligible.

/// Function words, frequent verbs and nouns, and the vocabulary of instructions aimed at a model. Kept
/// short on purpose: hits must be frequent in real sentences, and every entry must be rare as the ROT13
/// or reversal of another common word.
const WORDS: &[&str] = &[
    // function words
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "it",
    "that",
    "for",
    "you",
    "was",
    "with",
    "on",
    "as",
    "have",
    "be",
    "at",
    "by",
    "this",
    "had",
    "not",
    "are",
    "but",
    "from",
    "or",
    "they",
    "his",
    "she",
    "her",
    "which",
    "we",
    "an",
    "there",
    "been",
    "were",
    "their",
    "has",
    "would",
    "what",
    "will",
    "if",
    "can",
    "all",
    "when",
    "so",
    "no",
    "who",
    "more",
    "my",
    "me",
    "your",
    "our",
    "its",
    "them",
    "then",
    "than",
    "these",
    "those",
    "some",
    "any",
    "into",
    "about",
    "out",
    "up",
    "down",
    "over",
    "under",
    "only",
    "also",
    "just",
    "now",
    "very",
    "should",
    "could",
    "must",
    "may",
    "might",
    "shall",
    "do",
    "does",
    "did",
    "done",
    "because",
    "before",
    "after",
    "above",
    "below",
    "between",
    "without",
    "within",
    "again",
    "other",
    "every",
    "each",
    "both",
    "here",
    "where",
    "how",
    "why",
    "yes",
    "him",
    "he",
    "i",
    "a",
    "am",
    "being",
    "same",
    "such",
    "own",
    "too",
    "most",
    "much",
    "many",
    "never",
    "always",
    "well",
    "still",
    "even",
    "how",
    "while",
    "until",
    "whether",
    "through",
    "instead",
    "anything",
    "everything",
    "nothing",
    "something",
    "anyone",
    "everyone",
    "someone",
    "yourself",
    "myself",
    "itself",
    "us",
    // frequent verbs and nouns
    "say",
    "said",
    "make",
    "made",
    "know",
    "take",
    "see",
    "come",
    "think",
    "look",
    "want",
    "give",
    "use",
    "find",
    "tell",
    "ask",
    "work",
    "seem",
    "feel",
    "try",
    "leave",
    "call",
    "keep",
    "let",
    "begin",
    "help",
    "show",
    "hear",
    "play",
    "run",
    "move",
    "live",
    "believe",
    "write",
    "read",
    "send",
    "print",
    "stop",
    "start",
    "follow",
    "answer",
    "reply",
    "respond",
    "explain",
    "need",
    "get",
    "go",
    "new",
    "good",
    "first",
    "last",
    "long",
    "great",
    "little",
    "old",
    "right",
    "big",
    "high",
    "small",
    "next",
    "early",
    "important",
    "few",
    "public",
    "bad",
    "able",
    "time",
    "year",
    "people",
    "way",
    "day",
    "man",
    "thing",
    "woman",
    "life",
    "world",
    "hand",
    "part",
    "place",
    "case",
    "week",
    "point",
    "number",
    "group",
    "problem",
    "fact",
    "text",
    "message",
    "word",
    "words",
    "question",
    "name",
    "one",
    "two",
    "three",
    "please",
    "thank",
    "thanks",
    "hello",
    "sure",
    "like",
    "okay",
    // instructions aimed at a model
    "ignore",
    "ignoring",
    "disregard",
    "forget",
    "override",
    "bypass",
    "previous",
    "prior",
    "earlier",
    "instruction",
    "instructions",
    "rule",
    "rules",
    "guideline",
    "guidelines",
    "policy",
    "policies",
    "system",
    "prompt",
    "prompts",
    "developer",
    "mode",
    "admin",
    "administrator",
    "assistant",
    "model",
    "user",
    "content",
    "filter",
    "filters",
    "safety",
    "restriction",
    "restrictions",
    "unrestricted",
    "jailbreak",
    "pretend",
    "act",
    "role",
    "roleplay",
    "character",
    "persona",
    "reveal",
    "repeat",
    "output",
    "secret",
    "secrets",
    "password",
    "passwords",
    "key",
    "keys",
    "token",
    "tokens",
    "confidential",
    "hidden",
    "private",
    "data",
    "email",
    "file",
    "files",
    "command",
    "commands",
    "execute",
    "delete",
    "access",
    "internal",
    "context",
    "above",
    "everything",
    "now",
    "immediately",
    "attack",
    "hack",
    "exploit",
    "malware",
    "weapon",
    "bomb",
    "kill",
    "steal",
    "dangerous",
    "illegal",
    "harmful",
    "unfiltered",
    "uncensored",
    "allowed",
    "free",
    "anymore",
    "obey",
    "comply",
    "tool",
    "tools",
    "function",
    "url",
    "link",
    "image",
    "send",
    "upload",
    "download",
    "reset",
    "new",
    "task",
    "tasks",
    "original",
    "initial",
    "sentence",
    "true",
    "false",
];

const TABLE_BITS: u32 = 10;
const TABLE_SIZE: usize = 1 << TABLE_BITS;

/// Starting value of a word hash.
pub(crate) const SEED: u64 = 0xcbf2_9ce4_8422_2325;

/// Extends a word hash with one lowercase letter.
#[inline]
pub(crate) const fn step(h: u64, lower: u8) -> u64 {
    (h ^ lower as u64).wrapping_mul(0x0000_0100_0000_01b3)
}

/// Hash of `word` (ASCII letters, any case); `None` for anything else or words outside 1..=16 bytes.
#[inline]
pub(crate) fn hash(word: &[u8]) -> Option<u64> {
    if word.is_empty() || word.len() > 16 {
        return None;
    }
    let mut h = SEED;
    for &b in word {
        if !b.is_ascii_alphabetic() {
            return None;
        }
        h = step(h, b | 0x20);
    }
    Some(h)
}

#[inline]
const fn slot(h: u64) -> usize {
    (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - TABLE_BITS)) as usize
}

/// Table entries are hashes; zero marks an empty slot, so a zero hash is stored as one.
#[inline]
const fn stored(h: u64) -> u64 {
    if h == 0 { 1 } else { h }
}

const fn build() -> [u64; TABLE_SIZE] {
    let mut table = [0u64; TABLE_SIZE];
    let mut w = 0;
    while w < WORDS.len() {
        let bytes = WORDS[w].as_bytes();
        assert!(
            !bytes.is_empty() && bytes.len() <= 16,
            "word list entry out of range"
        );
        let mut h = SEED;
        let mut i = 0;
        while i < bytes.len() {
            assert!(
                bytes[i].is_ascii_lowercase(),
                "word list entries are lowercase ASCII"
            );
            h = step(h, bytes[i]);
            i += 1;
        }
        let key = stored(h);
        let mut s = slot(key);
        // Duplicates in the list are harmless: the probe stops at the existing entry.
        while table[s] != 0 && table[s] != key {
            s = (s + 1) & (TABLE_SIZE - 1);
        }
        table[s] = key;
        w += 1;
    }
    table
}

static TABLE: [u64; TABLE_SIZE] = build();

/// True when `h` (from [`hash`] or [`step`]) is the hash of a listed word.
#[inline]
pub(crate) fn is_known_hash(h: u64) -> bool {
    let key = stored(h);
    let mut s = slot(key);
    // The table is at most half full, so a probe always meets an empty slot.
    loop {
        match TABLE.get(s) {
            Some(&k) if k == key => return true,
            Some(&0) | None => return false,
            Some(_) => s = (s + 1) & (TABLE_SIZE - 1),
        }
    }
}

/// Bit per (length, first letter, last letter) of the listed words: a constant-time test that rules out
/// most candidates before any hashing.
const fn build_shapes() -> [u64; SHAPE_WORDS] {
    let mut bits = [0u64; SHAPE_WORDS];
    let mut w = 0;
    while w < WORDS.len() {
        let bytes = WORDS[w].as_bytes();
        let idx = shape_index(bytes.len(), bytes[0] - b'a', bytes[bytes.len() - 1] - b'a');
        bits[idx / 64] |= 1 << (idx % 64);
        w += 1;
    }
    bits
}

const SHAPE_WORDS: usize = (16 * 26 * 26usize).div_ceil(64);

#[inline]
const fn shape_index(len: usize, first: u8, last: u8) -> usize {
    ((len - 1) * 26 + first as usize) * 26 + last as usize
}

static SHAPES: [u64; SHAPE_WORDS] = build_shapes();

/// True when some listed word has `len` letters, starts with `first` and ends with `last` (letters as
/// 0..26). False positives are expected; false negatives are not.
#[inline]
pub(crate) fn shape_listed(len: usize, first: u8, last: u8) -> bool {
    if !(1..=16).contains(&len) || first >= 26 || last >= 26 {
        return false;
    }
    let idx = shape_index(len, first, last);
    SHAPES
        .get(idx / 64)
        .is_some_and(|w| w >> (idx % 64) & 1 == 1)
}

/// True when `word` (ASCII letters, any case) is a listed word.
#[inline]
pub(crate) fn is_known(word: &[u8]) -> bool {
    hash(word).is_some_and(is_known_hash)
}

/// Splits a run of letters with no spaces ("ignoreallprevious") into listed words when it can be covered
/// with few leftovers. Returns the byte offsets (within `letters`) where a space should be inserted.
///
/// Dynamic programming over at most 64 letters, with words of at most 16: bounded work, no allocation
/// besides the result.
pub(crate) fn segment(letters: &[u8]) -> Option<Vec<usize>> {
    const MAX: usize = 64;
    let n = letters.len();
    if !(2..=MAX).contains(&n) {
        return None;
    }
    // cost[i]: fewest letters left unexplained in letters[..i]; back[i]: start of the last piece.
    let mut cost = [usize::MAX; MAX + 1];
    let mut back = [0usize; MAX + 1];
    let mut known_piece = [false; MAX + 1];
    cost[0] = 0;
    for end in 1..=n {
        for start in end.saturating_sub(16)..end {
            let Some(&base) = cost.get(start) else {
                continue;
            };
            if base == usize::MAX {
                continue;
            }
            let piece = letters.get(start..end).unwrap_or_default();
            let (extra, known) =
                if piece.len() >= 2 && is_known(piece) || piece == b"a" || piece == b"i" {
                    (0, true)
                } else if end - start == 1 {
                    (1, false)
                } else {
                    continue;
                };
            if base + extra < cost[end] {
                cost[end] = base + extra;
                back[end] = start;
                known_piece[end] = known;
            }
        }
    }
    // Accept only when almost every letter belongs to a listed word.
    if cost[n] == usize::MAX || cost[n] * 8 > n {
        return None;
    }
    let mut cuts = Vec::new();
    let mut pos = n;
    let mut prev_known = true;
    while pos > 0 {
        let start = back[pos];
        // Runs of unexplained letters stay together; a space goes only next to a listed word.
        if pos < n && (known_piece[pos] || prev_known) {
            cuts.push(pos);
        }
        prev_known = known_piece[pos];
        pos = start;
    }
    cuts.reverse();
    Some(cuts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_words_are_found_and_others_are_not() {
        for w in WORDS {
            assert!(is_known(w.as_bytes()), "{w}");
        }
        assert!(is_known(b"Ignore"));
        for w in [
            "vtaber",
            "erongi",
            "xyzzy",
            "gur",
            "",
            "instructionsinstructions",
        ] {
            assert!(!is_known(w.as_bytes()), "{w}");
        }
        assert!(!is_known("naïve".as_bytes()));
    }

    #[test]
    fn shapes_cover_every_listed_word() {
        for w in WORDS {
            let b = w.as_bytes();
            assert!(
                shape_listed(b.len(), b[0] - b'a', b[b.len() - 1] - b'a'),
                "{w}"
            );
        }
        assert!(!shape_listed(3, 25, 25));
    }

    #[test]
    fn table_is_sparse_enough() {
        let used = TABLE.iter().filter(|&&k| k != 0).count();
        assert!(used * 2 <= TABLE_SIZE, "{used} entries");
    }

    #[test]
    fn segmentation_inserts_spaces_between_words() {
        let text = b"ignoreallpreviousinstructions";
        let cuts = segment(text).expect("segmentable");
        assert_eq!(cuts, vec![6, 9, 17]);
        assert!(segment(b"qzxwvkjq").is_none());
    }
}
