//! Decoders for obfuscated text (being written).
