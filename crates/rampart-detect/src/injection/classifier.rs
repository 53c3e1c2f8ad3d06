//! The shipped injection classifier (interface; being written).

/// A calibrated text classifier: probability that a text is a prompt-injection or jailbreak attempt.
pub struct Classifier;

impl Classifier {
    /// Loads the model embedded in the binary.
    pub fn embedded() -> &'static Classifier {
        static C: Classifier = Classifier;
        &C
    }

    /// Calibrated probability in 0..=1.
    pub fn score(&self, _text: &str) -> f32 {
        0.0
    }

    /// The features that pushed the score up most, for explanations: (feature as text, contribution).
    pub fn top_features(&self, _text: &str, _n: usize) -> Vec<(String, f32)> {
        Vec::new()
    }
}
