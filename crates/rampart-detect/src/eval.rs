//! Evaluation of detectors on labelled corpora.
