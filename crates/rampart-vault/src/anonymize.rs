//! Applying the operators to a text's findings.

use std::collections::{BTreeMap, HashMap, HashSet};

use rampart_core::{Finding, Operator, RedactConfig};

use crate::key::{Crypto, Key};
use crate::mask::push_masked;
use crate::token::{
    bracketed, entity_label, is_placeholder_shaped, normalize_label, push_encrypt_token,
    push_hash_token,
};
use crate::{Vault, VaultError};

/// What the `redact` operator writes. One fixed token, so the output says nothing about what was removed;
/// use `replace` when the model should know the entity type.
pub const REDACTED: &str = "<REDACTED>";

/// Longest placeholder-shaped run considered when checking the input for placeholders typed by the user.
const MAX_LITERAL: usize = 96;

/// Replaces findings in text according to a [`RedactConfig`].
///
/// Operators by entity label (the finding's entity type, else its rule name upper-cased with `-` → `_`):
/// `replace` (`<EMAIL_ADDRESS_1>`, recorded in the vault), `mask` (`j***@example.com`,
/// `**** **** **** 4242`), `redact` ([`REDACTED`]), `hash` (`<EMAIL_ADDRESS:1f3a9c0b2d4e>`, keyed, stable
/// across requests) and `encrypt` (`<EMAIL_ADDRESS:enc:…>`, deterministic, reversible with the key).
pub struct Anonymizer {
    default: Operator,
    per_entity: HashMap<String, Operator>,
    key: Key,
    crypto: Crypto,
}

impl Anonymizer {
    /// Builds the operators from `config`. Without a key, a random one is made for this process: hash and
    /// encrypt tokens are then stable only until it exits.
    ///
    /// Entity names in `config.entities` are matched after the same normalisation as findings
    /// (`credit-card` and `CREDIT_CARD` are one entity); two spellings of one entity with different
    /// operators are an error.
    pub fn new(config: &RedactConfig, key: Option<Key>) -> Result<Anonymizer, VaultError> {
        let key = match key {
            Some(k) => k,
            None => Key::generate()?,
        };
        let mut per_entity = HashMap::with_capacity(config.entities.len());
        for (name, &op) in &config.entities {
            let label = normalize_label(name).into_owned();
            if let Some(previous) = per_entity.insert(label.clone(), op)
                && previous != op
            {
                return Err(VaultError::Config(format!(
                    "entity `{label}` is given two operators ({previous:?} and {op:?})"
                )));
            }
        }
        let crypto = Crypto::new(&key);
        Ok(Anonymizer {
            default: config.operator,
            per_entity,
            key,
            crypto,
        })
    }

    /// The key of the hash and encrypt operators (configured or generated): what a vault needs to decrypt
    /// this anonymiser's tokens, and a natural key for sealing its vaults.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The operator applied to an entity label.
    pub fn operator_for(&self, label: &str) -> Operator {
        self.per_entity.get(label).copied().unwrap_or(self.default)
    }

    /// Returns `text` with every chosen finding replaced; `replace` placeholders are recorded in `vault`.
    ///
    /// Overlapping findings (an address inside a URL, two scanners on one span) are resolved first: the
    /// higher score wins, then the longer span, then the earlier one. Findings whose span is empty, out of
    /// bounds or not on character boundaries are skipped. The output is built in one pass.
    pub fn anonymize(&self, text: &str, findings: &[Finding], vault: &mut Vault) -> String {
        let chosen = select(text, findings);
        let mut out = String::with_capacity(text.len() + chosen.len() * 8);
        // Placeholders the user typed: computed only if a new placeholder has to be numbered.
        let mut literals: Option<HashSet<&str>> = None;
        let mut copied = 0;
        for finding in chosen {
            let span = finding.span;
            let (Some(before), Some(value)) =
                (text.get(copied..span.start), text.get(span.start..span.end))
            else {
                continue;
            };
            out.push_str(before);
            copied = span.end;
            let label = entity_label(finding);
            match self.operator_for(&label) {
                Operator::Replace => {
                    let in_use = |p: &str| {
                        literals
                            .get_or_insert_with(|| placeholders_in(text))
                            .contains(p)
                    };
                    out.push_str(vault.placeholder_for(&label, value, in_use));
                }
                Operator::Mask => push_masked(&mut out, &label, value),
                Operator::Redact => out.push_str(REDACTED),
                Operator::Hash => push_hash_token(&mut out, &self.crypto.hash, &label, value),
                Operator::Encrypt => {
                    match push_encrypt_token(
                        &mut out,
                        &self.crypto.nonce,
                        &self.crypto.tokens,
                        &label,
                        value,
                    ) {
                        Ok(len) => vault.note_token(len),
                        // Only a value beyond the cipher's 64 GiB limit gets here; never let it through.
                        Err(_) => out.push_str(REDACTED),
                    }
                }
            }
        }
        out.push_str(text.get(copied..).unwrap_or_default());
        out
    }

    /// Restores `text` with `vault`'s records and this anonymiser's key (for `encrypt` tokens).
    pub fn restore(&self, text: &str, vault: &Vault) -> String {
        vault.restore_inner(text, Some(&self.crypto))
    }
}

impl std::fmt::Debug for Anonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anonymizer")
            .field("default", &self.default)
            .field("per_entity", &self.per_entity)
            .field("key", &self.key)
            .finish()
    }
}

/// A non-overlapping subset of the findings with valid spans, in text order.
fn select<'f>(text: &str, findings: &'f [Finding]) -> Vec<&'f Finding> {
    let valid = |f: &&Finding| {
        let s = f.span;
        s.start < s.end
            && s.end <= text.len()
            && text.is_char_boundary(s.start)
            && text.is_char_boundary(s.end)
    };
    let score = |f: &Finding| if f.score.is_nan() { 0.0 } else { f.score };
    let mut order: Vec<&Finding> = findings.iter().filter(valid).collect();
    order.sort_by(|a, b| {
        score(b)
            .total_cmp(&score(a))
            .then(b.span.len().cmp(&a.span.len()))
            .then(a.span.start.cmp(&b.span.start))
    });
    // Chosen spans by start. They are disjoint, so the nearest one starting before a candidate's end is the
    // only one that can overlap it.
    let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
    order.retain(|f| {
        let s = f.span;
        let clash = taken
            .range(..s.end)
            .next_back()
            .is_some_and(|(_, &end)| end > s.start);
        if !clash {
            taken.insert(s.start, s.end);
        }
        !clash
    });
    order.sort_by_key(|f| f.span.start);
    order
}

fn placeholders_in(text: &str) -> HashSet<&str> {
    bracketed(text, MAX_LITERAL)
        .filter_map(|(s, e)| text.get(s..e))
        .filter(|t| is_placeholder_shaped(t))
        .collect()
}
