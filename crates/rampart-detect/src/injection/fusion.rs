//! Fusion: one calibrated score per input from the signature, classifier, transformer and context layers.
//!
//! The rule is a logistic combination, chosen so that each layer's evidence adds in log-odds:
//!
//! ```text
//! z = W_SIG·S + M + W_CTX·ctx + W_OBF·obfuscated + W_HID·hidden − W_META·meta
//! M = clamp(logit(p_clf), CLF_FLOOR, CLF_CEIL) + clamp(w_tf·logit(p_tf), CLF_FLOOR, CLF_CEIL)
//!     (a term only for the model layers that ran; CLF_ABSENT when neither did)
//! score = 1 / (1 + e^−z)
//! ```
//!
//! * `S` in 0..1 combines the weights of the distinct rules that fired: the strongest counts fully, each further
//!   rule fills half of what the previous ones left (`S = 1 − Π (1 − w_i·½^i)`, weights sorted, `i` from 0), so
//!   several weak hints add up but never to certainty on their own.
//! * The classifier enters as its calibrated log-odds, so with no signature and no context the fused score *is*
//!   the classifier's probability (unless it is below `sigmoid(CLF_FLOOR)`). The floor keeps a confident "benign"
//!   from vetoing a strong signature: signatures are written to be precise, the classifier to generalise. A
//!   classifier that is switched off, or still the stub that answers 0.0, sits on the floor, so the signature
//!   layer then decides alone and the real model can only add evidence.
//! * The optional transformer ([`super::transformer`]) enters the same way, its log-odds multiplied by the
//!   policy's `weight` `w_tf` (default 1) before the same clamp. Alone (classifier off, no signature, no
//!   context) with `w_tf = 1`, the fused score is again its own probability, so a checkpoint's calibration
//!   carries over. With both models on, their log-odds add as independent experts would: agreement is
//!   strengthened, disagreement cancels. They are not independent (both read the same words), so agreement
//!   is somewhat overcounted; switch the shipped classifier off, or lower `w_tf`, to trust one model. A weight
//!   of 0 makes the transformer a shadow layer: it runs and is shown in explanations but is not a term.
//! * `ctx` (0..1) is set in documents and tool results for text addressed to an AI reader and for second-person
//!   imperatives, which are the marks of indirect injection; alone it cannot pass any threshold.
//! * `obfuscated` is 1 when the strongest evidence was found only after decoding (base64, hex, …) or
//!   normalisation: hiding an instruction is itself a sign of intent. `hidden` is 1 when it sat in invisible HTML.
//! * `meta` (0..1) damps text that talks *about* attacks: half for a match inside quotation marks, half for
//!   discussion words (prompt injection, attacker, for example, …) in the input. Both together are needed to pull a
//!   single strong signature under the balanced threshold, so a bare "e.g." prefix does not hide an attack.
//!
//! With these constants a single 0.9 rule alone scores 0.92, a 0.5 rule alone 0.5 (passes only `strict`), and a
//! 0.5 rule inside a document addressed to the assistant 0.82.

/// Log-odds per unit of combined signature evidence.
pub const W_SIG: f32 = 6.0;
/// Lowest classifier log-odds that enters the sum (sigmoid(−6) ≈ 0.0025). A confident "benign" from the
/// classifier can outvote one signature: texts that discuss attacks ("what does 'ignore previous
/// instructions' do?") match phrases, and the classifier, trained on such hard benign text, knows better.
pub const CLF_FLOOR: f32 = -6.0;
/// The classifier's term when it is switched off: signatures then decide alone.
pub const CLF_ABSENT: f32 = -3.0;
/// Highest classifier log-odds that enters the sum, so one layer never saturates the score by itself.
pub const CLF_CEIL: f32 = 6.0;
/// Log-odds for an instruction addressed to an AI reader inside data.
pub const W_CTX: f32 = 1.5;
/// Log-odds for evidence found only in a decoded or normalised view.
pub const W_OBF: f32 = 1.0;
/// Log-odds for evidence found in hidden HTML.
pub const W_HID: f32 = 1.5;
/// Log-odds removed for text that quotes or discusses attacks.
pub const W_META: f32 = 3.0;
/// Share of the remaining gap that each further rule fills.
const DECAY: f32 = 0.5;

/// How eagerly the scanner reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Sensitivity {
    /// Fewest alerts: only strong or corroborated evidence.
    Low,
    /// The default: one strong signature, or a confident classifier.
    #[default]
    Balanced,
    /// Most alerts: weak signatures alone and moderately confident classifier scores.
    Strict,
}

impl Sensitivity {
    /// Parses `low`, `balanced` or `strict`.
    pub fn from_name(name: &str) -> Option<Sensitivity> {
        match name {
            "low" => Some(Sensitivity::Low),
            "balanced" => Some(Sensitivity::Balanced),
            "strict" => Some(Sensitivity::Strict),
            _ => None,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Sensitivity::Low => "low",
            Sensitivity::Balanced => "balanced",
            Sensitivity::Strict => "strict",
        }
    }

    /// Fused score at or above which the scanner reports.
    pub fn threshold(self) -> f32 {
        match self {
            Sensitivity::Low => 0.8,
            Sensitivity::Balanced => 0.6,
            Sensitivity::Strict => 0.45,
        }
    }
}

/// A model layer's vote: its probability and the multiplier on its log-odds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelVote {
    /// Probability of an attack, 0..1.
    pub probability: f32,
    /// Multiplier on `logit(probability)`; 0 leaves the vote out of the sum.
    pub weight: f32,
}

/// Evidence gathered for one input.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Evidence {
    /// Combined signature evidence `S`, 0..1.
    pub signatures: f32,
    /// Classifier probability, if the classifier ran.
    pub classifier: Option<f32>,
    /// The transformer's vote, if one is configured and scored the input.
    pub transformer: Option<ModelVote>,
    /// Addressed-to-AI and imperative context, 0..1.
    pub context: f32,
    /// Strongest evidence only visible after decoding or normalisation.
    pub obfuscated: bool,
    /// Strongest evidence inside hidden HTML.
    pub hidden: bool,
    /// Quoted or discussed rather than used, 0..1.
    pub meta: f32,
}

/// Combines distinct rule weights with diminishing returns; `weights` need not be sorted.
pub fn combine_signatures(weights: &mut [f32]) -> f32 {
    weights.sort_by(|a, b| b.total_cmp(a));
    let mut keep = 1.0f32;
    let mut factor = 1.0f32;
    for &w in weights.iter() {
        keep *= 1.0 - (w.clamp(0.0, 1.0) * factor);
        factor *= DECAY;
    }
    1.0 - keep
}

fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

impl Evidence {
    /// The log-odds `z` of the fusion rule.
    pub fn log_odds(&self) -> f32 {
        let transformer = self.transformer.filter(|v| v.weight > 0.0);
        let models = match (self.classifier, transformer) {
            (None, None) => CLF_ABSENT,
            (clf, tf) => {
                clf.map_or(0.0, |p| logit(p).clamp(CLF_FLOOR, CLF_CEIL))
                    + tf.map_or(0.0, |v| {
                        (v.weight * logit(v.probability)).clamp(CLF_FLOOR, CLF_CEIL)
                    })
            }
        };
        W_SIG * self.signatures.clamp(0.0, 1.0)
            + models
            + W_CTX * self.context.clamp(0.0, 1.0)
            + if self.obfuscated { W_OBF } else { 0.0 }
            + if self.hidden { W_HID } else { 0.0 }
            - W_META * self.meta.clamp(0.0, 1.0)
    }

    /// The fused score in 0..1.
    pub fn score(&self) -> f32 {
        sigmoid(self.log_odds())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diminishing_returns() {
        assert!((combine_signatures(&mut [0.9]) - 0.9).abs() < 1e-6);
        let two = combine_signatures(&mut [0.5, 0.9]);
        assert!(two > 0.9 && two < 0.95, "{two}");
        let many = combine_signatures(&mut [0.5; 10]);
        assert!(many < 0.8, "{many}");
        assert_eq!(combine_signatures(&mut []), 0.0);
    }

    #[test]
    fn classifier_alone_is_its_own_probability_and_only_a_confident_benign_vote_outweighs_a_signature()
     {
        let clf_only = Evidence {
            classifier: Some(0.8),
            ..Evidence::default()
        };
        assert!((clf_only.score() - 0.8).abs() < 1e-3);
        let unsure = Evidence {
            signatures: 0.9,
            classifier: Some(0.3),
            ..Evidence::default()
        };
        assert!(unsure.score() > Sensitivity::Balanced.threshold());
        let vetoed = Evidence {
            signatures: 0.9,
            classifier: Some(0.0),
            ..Evidence::default()
        };
        assert!(vetoed.score() < Sensitivity::Balanced.threshold());
        let disabled = Evidence {
            signatures: 0.9,
            classifier: None,
            ..Evidence::default()
        };
        assert!(disabled.score() > Sensitivity::Balanced.threshold());
        let weak = Evidence {
            signatures: 0.5,
            ..Evidence::default()
        };
        assert!(
            weak.score() < Sensitivity::Balanced.threshold()
                && weak.score() >= Sensitivity::Strict.threshold()
        );
        let weak_in_doc = Evidence {
            context: 1.0,
            ..weak
        };
        assert!(weak_in_doc.score() > Sensitivity::Balanced.threshold());
        let ctx_only = Evidence {
            context: 1.0,
            ..Evidence::default()
        };
        assert!(ctx_only.score() < Sensitivity::Strict.threshold());
    }

    #[test]
    fn transformer_is_one_more_log_odds_term_with_its_weight() {
        let vote = |probability, weight| {
            Some(ModelVote {
                probability,
                weight,
            })
        };
        // Alone at weight 1 it is its own probability, like the classifier.
        let alone = Evidence {
            transformer: vote(0.97, 1.0),
            ..Evidence::default()
        };
        assert!((alone.score() - 0.97).abs() < 1e-3, "{}", alone.score());
        // Two agreeing models add their log-odds: 0.8 and 0.8 make logit 2·ln 4.
        let both = Evidence {
            classifier: Some(0.8),
            transformer: vote(0.8, 1.0),
            ..Evidence::default()
        };
        assert!(
            (both.score() - 16.0 / 17.0).abs() < 1e-3,
            "{}",
            both.score()
        );
        // Disagreeing ones cancel.
        let split = Evidence {
            classifier: Some(0.2),
            transformer: vote(0.8, 1.0),
            ..Evidence::default()
        };
        assert!((split.score() - 0.5).abs() < 1e-3);
        // The weight scales the log-odds and the clamp caps one layer at CLF_CEIL.
        let doubled = Evidence {
            transformer: vote(0.8, 2.0),
            ..Evidence::default()
        };
        assert!((doubled.log_odds() - 2.0 * 4f32.ln()).abs() < 1e-4);
        let capped = Evidence {
            transformer: vote(1.0, 5.0),
            ..Evidence::default()
        };
        assert!((capped.log_odds() - CLF_CEIL).abs() < 1e-4);
        // A shadow vote changes nothing, including the absent-classifier prior.
        let signature = Evidence {
            signatures: 0.9,
            ..Evidence::default()
        };
        let shadow = Evidence {
            transformer: vote(0.01, 0.0),
            ..signature
        };
        assert_eq!(shadow.score(), signature.score());
        // An unsure transformer (0.5) adds nothing but replaces the absent-classifier prior.
        let unsure = Evidence {
            transformer: vote(0.5, 1.0),
            ..signature
        };
        assert!((unsure.log_odds() - W_SIG * 0.9).abs() < 1e-4);
        // A confident benign vote can outweigh one signature, as the classifier's can.
        let vetoed = Evidence {
            transformer: vote(0.001, 1.0),
            ..signature
        };
        assert!(vetoed.score() < Sensitivity::Balanced.threshold());
    }

    #[test]
    fn obfuscation_raises_and_discussion_lowers() {
        let base = Evidence {
            signatures: 0.6,
            ..Evidence::default()
        };
        assert!(
            Evidence {
                obfuscated: true,
                ..base
            }
            .score()
                > base.score()
        );
        let quoted = Evidence {
            signatures: 0.9,
            meta: 1.0,
            ..Evidence::default()
        };
        assert!(quoted.score() < Sensitivity::Balanced.threshold());
        let half = Evidence {
            signatures: 0.9,
            meta: 0.5,
            ..Evidence::default()
        };
        assert!(half.score() > Sensitivity::Balanced.threshold());
    }

    #[test]
    fn sensitivities_are_ordered() {
        assert!(Sensitivity::Low.threshold() > Sensitivity::Balanced.threshold());
        assert!(Sensitivity::Balanced.threshold() > Sensitivity::Strict.threshold());
        for s in [Sensitivity::Low, Sensitivity::Balanced, Sensitivity::Strict] {
            assert_eq!(Sensitivity::from_name(s.name()), Some(s));
        }
    }
}
