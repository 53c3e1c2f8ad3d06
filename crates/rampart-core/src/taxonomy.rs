//! Categories of findings and their place in the public taxonomies.
//!
//! A category is what a finding *is* (a leaked secret, an injection attempt); its mapping to OWASP Top 10
//! for LLM Applications 2025, MITRE ATLAS and NIST AI RMF is fixed data here, so that every front end
//! explains findings the same way and governance reports need no second table.

use serde::{Deserialize, Serialize};

/// What a finding is, independent of which scanner produced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Category {
    /// Personal data about a natural person (names, contact details, identifiers, financial data).
    Pii,
    /// Credentials: API tokens, private keys, passwords, connection strings.
    Secret,
    /// Invisible or deceptive Unicode: tag characters, bidi overrides, zero-width runs, look-alike words.
    HiddenUnicode,
    /// Instructions that try to override the application's intent.
    PromptInjection,
    /// Attempts to switch the model into an unrestricted persona or mode.
    Jailbreak,
    /// The system prompt (or a canary placed in it) appearing where it should not.
    SystemPromptLeakage,
    /// Model output that is unsafe to pass on (active markup, exfiltration links, code).
    ImproperOutput,
    /// Malicious or unvetted third-party models, datasets and libraries.
    SupplyChain,
    /// Tampered training or fine-tuning data.
    DataPoisoning,
    /// Agents calling tools or taking actions beyond what they are allowed.
    ExcessiveAgency,
    /// Resource abuse: oversized inputs, token floods, model extraction.
    UnboundedConsumption,
}

impl Category {
    /// Every category, in declaration order.
    pub const ALL: &'static [Category] = &[
        Category::Pii,
        Category::Secret,
        Category::HiddenUnicode,
        Category::PromptInjection,
        Category::Jailbreak,
        Category::SystemPromptLeakage,
        Category::ImproperOutput,
        Category::SupplyChain,
        Category::DataPoisoning,
        Category::ExcessiveAgency,
        Category::UnboundedConsumption,
    ];

    /// The kebab-case name used in policies and JSON (`pii`, `secret`, `hidden-unicode`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Category::Pii => "pii",
            Category::Secret => "secret",
            Category::HiddenUnicode => "hidden-unicode",
            Category::PromptInjection => "prompt-injection",
            Category::Jailbreak => "jailbreak",
            Category::SystemPromptLeakage => "system-prompt-leakage",
            Category::ImproperOutput => "improper-output",
            Category::SupplyChain => "supply-chain",
            Category::DataPoisoning => "data-poisoning",
            Category::ExcessiveAgency => "excessive-agency",
            Category::UnboundedConsumption => "unbounded-consumption",
        }
    }

    /// Parses a [`Category::name`].
    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// OWASP Top 10 for LLM Applications 2025 entry, as `"LLM02:2025 Sensitive Information Disclosure"`.
    pub fn owasp(self) -> &'static str {
        match self {
            Category::PromptInjection | Category::Jailbreak | Category::HiddenUnicode => {
                "LLM01:2025 Prompt Injection"
            }
            Category::Pii | Category::Secret => "LLM02:2025 Sensitive Information Disclosure",
            Category::SupplyChain => "LLM03:2025 Supply Chain",
            Category::DataPoisoning => "LLM04:2025 Data and Model Poisoning",
            Category::ImproperOutput => "LLM05:2025 Improper Output Handling",
            Category::ExcessiveAgency => "LLM06:2025 Excessive Agency",
            Category::SystemPromptLeakage => "LLM07:2025 System Prompt Leakage",
            Category::UnboundedConsumption => "LLM10:2025 Unbounded Consumption",
        }
    }

    /// The short OWASP id alone, as `"LLM02:2025"`.
    pub fn owasp_id(self) -> &'static str {
        let full = self.owasp();
        full.split_once(' ').map_or(full, |(id, _)| id)
    }

    /// MITRE ATLAS techniques that describe this kind of finding.
    pub fn atlas(self) -> &'static [&'static str] {
        match self {
            // LLM Data Leakage
            Category::Pii => &["AML.T0057"],
            // Unsecured Credentials, LLM Data Leakage
            Category::Secret => &["AML.T0055", "AML.T0057"],
            // LLM Prompt Injection (hidden payloads are smuggled instructions)
            Category::HiddenUnicode | Category::PromptInjection => &["AML.T0051"],
            Category::Jailbreak => &["AML.T0054"],
            // LLM Meta Prompt Extraction
            Category::SystemPromptLeakage => &["AML.T0056"],
            Category::ImproperOutput => &["AML.T0057"],
            // ML Supply Chain Compromise, User Execution
            Category::SupplyChain => &["AML.T0010", "AML.T0011"],
            Category::DataPoisoning => &["AML.T0020"],
            Category::ExcessiveAgency => &["AML.T0053"],
            // Denial of ML Service, Cost Harvesting
            Category::UnboundedConsumption => &["AML.T0029", "AML.T0034"],
        }
    }

    /// NIST AI RMF 1.0 subcategories whose controls this finding provides evidence for.
    pub fn nist(self) -> &'static [&'static str] {
        match self {
            Category::Pii => &["MEASURE 2.10", "MANAGE 2.2"],
            Category::Secret => &["MEASURE 2.7", "MEASURE 2.10"],
            Category::HiddenUnicode
            | Category::PromptInjection
            | Category::Jailbreak
            | Category::SystemPromptLeakage
            | Category::ImproperOutput
            | Category::ExcessiveAgency
            | Category::UnboundedConsumption => &["MEASURE 2.7", "MANAGE 2.2"],
            Category::SupplyChain => &["GOVERN 6.1", "MAP 4.1", "MEASURE 2.7"],
            Category::DataPoisoning => &["MAP 4.1", "MEASURE 2.7"],
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_ids_are_well_formed() {
        for &c in Category::ALL {
            assert_eq!(Category::from_name(c.name()), Some(c));
            let id = c.owasp_id();
            assert!(id.starts_with("LLM") && id.ends_with(":2025"), "{id}");
            assert!(c.atlas().iter().all(|t| t.starts_with("AML.T")));
            assert!(!c.nist().is_empty());
        }
    }
}
