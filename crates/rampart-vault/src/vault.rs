//! The vault: which placeholder stands for which original, and restoring them in a model's answer.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use zeroize::Zeroize;

use crate::VaultError;
use crate::key::{Crypto, Key};
use crate::token::{bracketed, decrypt_token};

/// One original value and the number of its placeholder.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) label: String,
    pub(crate) number: u64,
    pub(crate) original: String,
    pub(crate) placeholder: String,
}

impl Entry {
    pub(crate) fn new(label: String, number: u64, original: String) -> Entry {
        let placeholder = format!("<{label}_{number}>");
        Entry {
            label,
            number,
            original,
            placeholder,
        }
    }
}

/// The mapping between placeholders and the values they replaced, for one request or conversation.
///
/// The same value of the same entity type always gets the same placeholder within a vault
/// (`<EMAIL_ADDRESS_1>` twice for one address, `<EMAIL_ADDRESS_2>` for the next), so a model can still tell
/// people apart. [`Vault::restore`] puts the originals back into text; unknown placeholders stay as they
/// are. Only bracketed placeholders are restored: a bare `EMAIL_ADDRESS_1` is just as likely a name in code,
/// so restoring it could corrupt an answer.
///
/// A vault can carry a time to live ([`Vault::with_ttl`]) after which it no longer restores, a scope
/// ([`Vault::with_scope`]) checked when a sealed copy is opened, and a key ([`Vault::with_key`]) with which
/// it also decrypts `encrypt` tokens it has no record of. Originals are wiped from memory on drop, and
/// `Debug` shows only counts.
#[derive(Clone)]
pub struct Vault {
    pub(crate) entries: Vec<Entry>,
    by_placeholder: HashMap<String, usize>,
    /// Label → original → entry, for consistent numbering without allocating on a hit.
    by_value: HashMap<String, HashMap<String, usize>>,
    /// Highest number used per label.
    last: HashMap<String, u64>,
    pub(crate) created_ms: u64,
    pub(crate) expires_ms: Option<u64>,
    pub(crate) scope: Option<String>,
    /// Longest reversible token written through this vault (placeholders and encrypt tokens).
    pub(crate) max_token_len: usize,
    crypto: Option<Crypto>,
}

impl Default for Vault {
    fn default() -> Vault {
        Vault::new()
    }
}

impl Vault {
    /// An empty vault created now, with no expiry, scope or key.
    pub fn new() -> Vault {
        Vault {
            entries: Vec::new(),
            by_placeholder: HashMap::new(),
            by_value: HashMap::new(),
            last: HashMap::new(),
            created_ms: now_ms(),
            expires_ms: None,
            scope: None,
            max_token_len: 0,
            crypto: None,
        }
    }

    /// Expires the vault `ttl` after its creation: after that it restores nothing.
    pub fn with_ttl(mut self, ttl: Duration) -> Vault {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        self.expires_ms = Some(self.created_ms.saturating_add(ttl_ms));
        self
    }

    /// Ties the vault to a scope (a request, session or key id); [`Vault::open`] checks it when asked to.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Vault {
        self.scope = Some(scope.into());
        self
    }

    /// Lets [`Vault::restore`] also decrypt `encrypt` tokens made with `key`, recorded here or not.
    pub fn with_key(mut self, key: &Key) -> Vault {
        self.crypto = Some(Crypto::new(key));
        self
    }

    /// The scope given to [`Vault::with_scope`], if any.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// When the vault was created.
    pub fn created_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.created_ms)
    }

    /// When the vault stops restoring, if it has a time to live.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_ms
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
    }

    /// True once the time to live has passed.
    pub fn is_expired(&self) -> bool {
        self.expires_ms.is_some_and(|e| now_ms() >= e)
    }

    /// Number of recorded placeholders.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no placeholder is recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The original behind `placeholder` (`"<EMAIL_ADDRESS_1>"`, brackets included), if recorded.
    pub fn original(&self, placeholder: &str) -> Option<&str> {
        let &i = self.by_placeholder.get(placeholder)?;
        self.entries.get(i).map(|e| e.original.as_str())
    }

    /// Length in bytes of the longest token this vault can restore that was written through it: the
    /// hold-back a streaming restorer needs after an unclosed `<`. Encrypt tokens made elsewhere with the
    /// same key may be longer.
    pub fn max_placeholder_len(&self) -> usize {
        self.max_token_len
    }

    /// Puts the originals back into `text`: every recorded placeholder, and every `encrypt` token when the
    /// vault holds a key. Unknown or unauthentic tokens stay as they are; an expired vault returns `text`
    /// unchanged (see [`Vault::try_restore`] to tell).
    ///
    /// One pass over `text`; cost is linear in its length.
    pub fn restore(&self, text: &str) -> String {
        self.restore_inner(text, self.crypto.as_ref())
    }

    /// Like [`Vault::restore`], but fails with [`VaultError::Expired`] when the time to live has passed.
    pub fn try_restore(&self, text: &str) -> Result<String, VaultError> {
        if self.is_expired() {
            return Err(VaultError::Expired);
        }
        Ok(self.restore(text))
    }

    /// Like [`Vault::restore`], decrypting `encrypt` tokens with `key` (instead of the key given to
    /// [`Vault::with_key`], if any). An empty vault with a key decrypts tokens from any request.
    pub fn restore_with_key(&self, text: &str, key: &Key) -> String {
        self.restore_inner(text, Some(&Crypto::new(key)))
    }

    pub(crate) fn restore_inner(&self, text: &str, crypto: Option<&Crypto>) -> String {
        if self.is_expired() || (self.entries.is_empty() && crypto.is_none()) {
            return text.to_owned();
        }
        // Encrypt tokens grow with their value, so with a key every bracketed run is a candidate.
        let max_len = if crypto.is_some() {
            usize::MAX
        } else {
            self.max_token_len
        };
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for (start, end) in bracketed(text, max_len) {
            let Some(token) = text.get(start..end) else {
                continue;
            };
            let recorded = self.original(token);
            let decrypted = match (recorded, crypto) {
                (None, Some(c)) if token.contains(":enc:") => decrypt_token(&c.tokens, token),
                _ => None,
            };
            let Some(original) = recorded.or(decrypted.as_deref()) else {
                continue;
            };
            out.push_str(text.get(copied..start).unwrap_or_default());
            out.push_str(original);
            copied = end;
        }
        out.push_str(text.get(copied..).unwrap_or_default());
        out
    }

    /// The placeholder for `value` of entity `label`, numbering a new one if needed.
    ///
    /// `in_use` tells whether a placeholder already appears literally in the text being anonymised; such
    /// numbers are skipped so that restoring never turns text the user typed into someone's data.
    pub(crate) fn placeholder_for(
        &mut self,
        label: &str,
        value: &str,
        mut in_use: impl FnMut(&str) -> bool,
    ) -> &str {
        let found = self.by_value.get(label).and_then(|m| m.get(value)).copied();
        let index = match found {
            Some(i) => i,
            None => {
                let mut number = self.last.get(label).copied().unwrap_or(0);
                // Ends: each skipped number is a distinct placeholder present in the finite text or vault.
                let entry = loop {
                    number = number.saturating_add(1);
                    let entry = Entry::new(label.to_owned(), number, value.to_owned());
                    if !in_use(&entry.placeholder)
                        && !self.by_placeholder.contains_key(&entry.placeholder)
                    {
                        break entry;
                    }
                };
                self.insert(entry)
            }
        };
        self.entries
            .get(index)
            .map_or("", |e| e.placeholder.as_str())
    }

    /// Records an entry; returns its index.
    pub(crate) fn insert(&mut self, entry: Entry) -> usize {
        let index = self.entries.len();
        self.max_token_len = self.max_token_len.max(entry.placeholder.len());
        let last = self.last.entry(entry.label.clone()).or_insert(0);
        *last = (*last).max(entry.number);
        self.by_placeholder.insert(entry.placeholder.clone(), index);
        self.by_value
            .entry(entry.label.clone())
            .or_default()
            .insert(entry.original.clone(), index);
        self.entries.push(entry);
        index
    }

    /// Notes the length of a reversible token written without a record (encrypt).
    pub(crate) fn note_token(&mut self, len: usize) {
        self.max_token_len = self.max_token_len.max(len);
    }

    pub(crate) fn has_placeholder(&self, placeholder: &str) -> bool {
        self.by_placeholder.contains_key(placeholder)
    }
}

impl Drop for Vault {
    fn drop(&mut self) {
        for entry in &mut self.entries {
            entry.original.zeroize();
        }
        for (_, mut values) in self.by_value.drain() {
            for (mut original, _) in values.drain() {
                original.zeroize();
            }
        }
    }
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("entries", &self.entries.len())
            .field("scope", &self.scope)
            .field("created_ms", &self.created_ms)
            .field("expires_ms", &self.expires_ms)
            .field("has_key", &self.crypto.is_some())
            .finish()
    }
}

pub(crate) fn now_ms() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}
