//! Aligning predicted entity names with a corpus's vocabulary.
//!
//! Corpora written for other tools name the same thing differently (`EMAIL` vs `EMAIL_ADDRESS`, `PER` vs
//! `PERSON`, a generic `SECRET` vs Rampart's `API_KEY`). Scoring a correct detection as a false positive
//! because of its label would measure naming, not detection, so predictions are translated into the
//! corpus's names first; what has no counterpart at all is set aside and reported as unmapped.

use std::collections::BTreeSet;

use rampart_core::{Category, Finding};

/// Names that mean the same thing. A name is translated to the first member of its group (after itself)
/// that the corpus uses.
const SYNONYMS: &[&[&str]] = &[
    &["EMAIL_ADDRESS", "EMAIL", "EMAIL_ADDR", "MAIL"],
    &[
        "PHONE_NUMBER",
        "PHONE",
        "TELEPHONE",
        "TELEPHONENUM",
        "PHONENUMBER",
        "TEL",
    ],
    &["IBAN_CODE", "IBAN"],
    &["SWIFT_CODE", "SWIFT", "BIC", "SWIFT_BIC"],
    &["US_SSN", "SSN", "SOCIALNUM", "SOCIAL_SECURITY_NUMBER"],
    &["IP_ADDRESS", "IP", "IPV4", "IPV6", "IP_ADDR"],
    &["MAC_ADDRESS", "MAC"],
    &[
        "CREDIT_CARD",
        "CREDIT_CARD_NUMBER",
        "CREDITCARDNUMBER",
        "CARD_NUMBER",
        "CC",
    ],
    &[
        "PERSON",
        "PER",
        "NAME",
        "PERSON_NAME",
        "FULL_NAME",
        "FULLNAME",
    ],
    &[
        "LOCATION",
        "LOC",
        "GPE",
        "ADDRESS",
        "CITY",
        "STREET_ADDRESS",
        "STREET",
    ],
    &["ORGANIZATION", "ORG", "ORGANISATION", "COMPANY"],
    &[
        "DATE_TIME",
        "DATE",
        "DOB",
        "DATE_OF_BIRTH",
        "DATEOFBIRTH",
        "BIRTHDATE",
    ],
    &[
        "CRYPTO",
        "CRYPTO_WALLET",
        "CRYPTO_ADDRESS",
        "BITCOIN_ADDRESS",
        "WALLET",
    ],
    &["URL", "URI", "LINK"],
    &["US_PASSPORT", "PASSPORT", "PASSPORT_NUMBER"],
    &[
        "US_DRIVER_LICENSE",
        "DRIVER_LICENSE",
        "DRIVERS_LICENSE",
        "DRIVERLICENSENUM",
    ],
    &[
        "US_BANK_NUMBER",
        "BANK_ACCOUNT",
        "ACCOUNT_NUMBER",
        "ACCOUNTNUM",
    ],
    &["UK_NHS", "NHS", "NHS_NUMBER"],
    &["UK_NINO", "NINO", "NATIONAL_INSURANCE_NUMBER"],
    &["IN_AADHAAR", "AADHAAR", "AADHAR"],
    &["IN_PAN", "PAN_NUMBER", "INDIAN_PAN"],
    &["IT_FISCAL_CODE", "CODICE_FISCALE"],
    &["ES_NIF", "NIF", "DNI"],
    &["FR_NIR", "NIR", "INSEE"],
    &["DE_TAX_ID", "STEUER_ID", "STEUERID"],
    &["API_KEY", "API_TOKEN", "ACCESS_TOKEN", "TOKEN"],
    &["PRIVATE_KEY", "PRIVATE_KEY_BLOCK"],
    &["CONNECTION_STRING", "DATABASE_URL", "DSN", "CONNECTION_URI"],
    &["PASSWORD", "PASSWD", "PWD"],
    &["JWT", "JSON_WEB_TOKEN"],
];

/// Specific names that may be scored under a broader one when the corpus does not have the specific one.
/// One way only: a generic prediction is resolved against the gold span it overlaps instead (see
/// [`Aligner::resolve`]).
const BROADER: &[(&str, &[&str])] = &[
    ("API_KEY", &["SECRET", "CREDENTIAL", "CREDENTIALS"]),
    ("PRIVATE_KEY", &["SECRET", "CREDENTIAL", "CREDENTIALS"]),
    (
        "JWT",
        &["API_KEY", "TOKEN", "SECRET", "CREDENTIAL", "CREDENTIALS"],
    ),
    (
        "CONNECTION_STRING",
        &["SECRET", "CREDENTIAL", "CREDENTIALS"],
    ),
    ("PASSWORD", &["SECRET", "CREDENTIAL", "CREDENTIALS"]),
    ("US_PASSPORT", &["ID", "ID_NUMBER"]),
    ("UK_PASSPORT", &["PASSPORT", "PASSPORT_NUMBER", "ID"]),
    ("DE_PASSPORT", &["PASSPORT", "PASSPORT_NUMBER", "ID"]),
    ("IN_PASSPORT", &["PASSPORT", "PASSPORT_NUMBER", "ID"]),
    ("US_SSN", &["NATIONAL_ID", "ID", "ID_NUMBER"]),
    ("UK_NINO", &["NATIONAL_ID", "ID", "ID_NUMBER"]),
    ("FR_NIR", &["NATIONAL_ID", "ID", "ID_NUMBER"]),
    ("ES_NIF", &["NATIONAL_ID", "ID", "ID_NUMBER"]),
    ("ES_NIE", &["NATIONAL_ID", "ID", "ID_NUMBER"]),
    ("IT_FISCAL_CODE", &["NATIONAL_ID", "ID", "ID_NUMBER"]),
    ("IN_AADHAAR", &["NATIONAL_ID", "ID", "ID_NUMBER"]),
    ("IN_PAN", &["TAX_ID", "ID", "ID_NUMBER"]),
    ("DE_TAX_ID", &["TAX_ID", "NATIONAL_ID", "ID", "ID_NUMBER"]),
    ("DE_ID_CARD", &["NATIONAL_ID", "ID_CARD", "ID", "ID_NUMBER"]),
    ("UK_NHS", &["MEDICAL_ID", "ID", "ID_NUMBER"]),
    ("US_DRIVER_LICENSE", &["ID", "ID_NUMBER"]),
    (
        "IT_DRIVER_LICENSE",
        &["DRIVER_LICENSE", "DRIVERS_LICENSE", "ID", "ID_NUMBER"],
    ),
];

/// Secret rules often name the provider (`GITHUB_PAT`, `aws-access-key-id`) rather than the family; these
/// words in the label decide the family when nothing else matched.
const SECRET_FAMILY_WORDS: &[(&str, &str)] = &[
    ("PRIVATE_KEY", "PRIVATE_KEY"),
    ("JWT", "JWT"),
    ("CONNECTION", "CONNECTION_STRING"),
    ("DSN", "CONNECTION_STRING"),
    ("DATABASE_URL", "CONNECTION_STRING"),
    ("PASSWORD", "PASSWORD"),
    ("PASSWD", "PASSWORD"),
];

/// How a prediction's label relates to the corpus vocabulary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution<'v> {
    /// Exactly one corpus type fits.
    One(&'v str),
    /// Several corpus types fit (a generic label such as `SECRET` against a corpus of `API_KEY` and
    /// `PASSWORD`); the scorer picks the one whose gold span the prediction overlaps, else the first.
    Several(Vec<&'v str>),
    /// No corpus type fits; the prediction is reported under its own label and scored nowhere.
    Unmapped,
}

/// Translates prediction labels into one corpus's vocabulary.
#[derive(Clone, Debug)]
pub struct Aligner {
    vocab: BTreeSet<String>,
}

impl Aligner {
    /// An aligner for the given corpus types.
    pub fn new(vocab: BTreeSet<String>) -> Aligner {
        Aligner { vocab }
    }

    /// The corpus types predictions are mapped into.
    pub fn vocabulary(&self) -> &BTreeSet<String> {
        &self.vocab
    }

    /// The label a finding is known by before alignment: its entity, else its rule name, upper snake case.
    pub fn label(finding: &Finding) -> String {
        let raw = finding.entity.as_deref().unwrap_or(&finding.name);
        normalise(raw)
    }

    /// Resolves a finding's label against the vocabulary.
    pub fn resolve(&self, finding: &Finding) -> Resolution<'_> {
        let label = Aligner::label(finding);
        let first = self.resolve_label(&label);
        if first != Resolution::Unmapped || finding.category != Category::Secret {
            return first;
        }
        // A provider-specific secret label: decide its family from its words, defaulting to API_KEY, which
        // is what provider tokens are.
        let family = SECRET_FAMILY_WORDS
            .iter()
            .find(|(word, _)| label.contains(word))
            .map_or("API_KEY", |&(_, family)| family);
        self.resolve_label(family)
    }

    /// Resolves a bare label (already upper snake case) against the vocabulary.
    pub fn resolve_label(&self, label: &str) -> Resolution<'_> {
        if let Some(v) = self.vocab.get(label) {
            return Resolution::One(v);
        }
        for group in SYNONYMS.iter().filter(|g| g.contains(&label)) {
            if let Some(v) = group.iter().find_map(|n| self.vocab.get(*n)) {
                return Resolution::One(v);
            }
        }
        // Broadening: a specific label may be scored under the corpus's generic type.
        for &(specific, broader) in BROADER {
            let applies = specific == label
                || SYNONYMS
                    .iter()
                    .any(|g| g.contains(&label) && g.contains(&specific));
            if applies && let Some(v) = broader.iter().find_map(|n| self.vocab.get(*n)) {
                return Resolution::One(v);
            }
        }
        // Narrowing: a generic label fits every corpus type it is the broader form of.
        let narrower: Vec<&str> = self
            .vocab
            .iter()
            .filter(|v| {
                BROADER.iter().any(|&(specific, broader)| {
                    broader.contains(&label)
                        && (specific == v.as_str()
                            || SYNONYMS
                                .iter()
                                .any(|g| g.contains(&specific) && g.contains(&v.as_str())))
                })
            })
            .map(String::as_str)
            .collect();
        match narrower.len() {
            0 => Resolution::Unmapped,
            1 => Resolution::One(narrower[0]),
            _ => Resolution::Several(narrower),
        }
    }
}

/// `aws-access-key-id` and `Email Address` become `AWS_ACCESS_KEY_ID` and `EMAIL_ADDRESS`.
fn normalise(raw: &str) -> String {
    raw.trim()
        .chars()
        .map(|c| match c {
            '-' | ' ' | '.' | '/' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aligner(types: &[&str]) -> Aligner {
        Aligner::new(types.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn exact_names_win_over_synonyms() {
        let a = aligner(&["EMAIL", "EMAIL_ADDRESS"]);
        assert_eq!(
            a.resolve_label("EMAIL_ADDRESS"),
            Resolution::One("EMAIL_ADDRESS")
        );
        assert_eq!(a.resolve_label("EMAIL"), Resolution::One("EMAIL"));
    }

    #[test]
    fn synonyms_map_both_ways() {
        let ours = aligner(&["PHONE_NUMBER", "PERSON", "LOCATION"]);
        assert_eq!(ours.resolve_label("PHONE"), Resolution::One("PHONE_NUMBER"));
        assert_eq!(ours.resolve_label("PER"), Resolution::One("PERSON"));
        assert_eq!(ours.resolve_label("GPE"), Resolution::One("LOCATION"));
        let theirs = aligner(&["PHONE", "PER", "DOB", "CRYPTO_WALLET", "IBAN"]);
        assert_eq!(
            theirs.resolve_label("PHONE_NUMBER"),
            Resolution::One("PHONE")
        );
        assert_eq!(theirs.resolve_label("PERSON"), Resolution::One("PER"));
        assert_eq!(theirs.resolve_label("DATE_TIME"), Resolution::One("DOB"));
        assert_eq!(
            theirs.resolve_label("CRYPTO"),
            Resolution::One("CRYPTO_WALLET")
        );
        assert_eq!(theirs.resolve_label("IBAN_CODE"), Resolution::One("IBAN"));
        assert_eq!(theirs.resolve_label("US_SSN"), Resolution::Unmapped);
    }

    #[test]
    fn specific_secrets_broaden_and_generic_ones_narrow() {
        let generic = aligner(&["SECRET"]);
        assert_eq!(generic.resolve_label("API_KEY"), Resolution::One("SECRET"));
        assert_eq!(
            generic.resolve_label("PRIVATE_KEY"),
            Resolution::One("SECRET")
        );
        let specific = aligner(&["API_KEY", "PASSWORD", "PERSON"]);
        assert_eq!(
            specific.resolve_label("CREDENTIAL"),
            Resolution::Several(vec!["API_KEY", "PASSWORD"])
        );
        assert_eq!(
            specific.resolve_label("SECRET"),
            Resolution::Several(vec!["API_KEY", "PASSWORD"])
        );
        assert_eq!(
            aligner(&["PASSWORD"]).resolve_label("SECRET"),
            Resolution::One("PASSWORD")
        );
    }

    #[test]
    fn labels_are_normalised() {
        assert_eq!(normalise(" aws-access-key-id"), "AWS_ACCESS_KEY_ID");
        assert_eq!(normalise("Email Address"), "EMAIL_ADDRESS");
    }
}
