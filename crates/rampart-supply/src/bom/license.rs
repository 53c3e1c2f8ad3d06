//! Licence strings as found in model cards, dataset cards and lockfiles, turned into CycloneDX licence
//! entries, and SPDX expressions evaluated for policy checks.
//!
//! The list of SPDX ids is the one the CycloneDX 1.6 schema validates against (the vendored
//! `spdx.SNAPSHOT.schema.json`), so an id we emit is an id the schema accepts.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::cyclonedx::{License, LicenseChoice};

const SPDX_SCHEMA: &str = include_str!("../../schema/spdx.SNAPSHOT.schema.json");

/// Lowercase id → canonical id. Built once on first use (parses a 60 KB JSON file).
fn spdx_ids() -> &'static HashMap<String, String> {
    static IDS: OnceLock<HashMap<String, String>> = OnceLock::new();
    IDS.get_or_init(|| {
        let mut map = HashMap::new();
        if let Ok(schema) = serde_json::from_str::<serde_json::Value>(SPDX_SCHEMA)
            && let Some(list) = schema.get("enum").and_then(|e| e.as_array())
        {
            for id in list.iter().filter_map(|v| v.as_str()) {
                map.insert(id.to_ascii_lowercase(), id.to_owned());
            }
        }
        map
    })
}

/// The canonical SPDX id for `s`, compared case-insensitively (`apache-2.0` → `Apache-2.0`).
pub fn canonical_id(s: &str) -> Option<&'static str> {
    spdx_ids()
        .get(&s.trim().to_ascii_lowercase())
        .map(String::as_str)
}

/// Turns a licence value from a card or lockfile into a CycloneDX licence entry: an SPDX id when it is one, an
/// SPDX expression when it combines ids with `AND`/`OR`/`WITH`, otherwise a named licence (Hugging Face's
/// `llama3`, `openrail`, or the `license_name` given with `license: other`). `None` for empty, `unknown` and
/// bare `other` without a name.
pub fn choice(
    value: &str,
    name_for_other: Option<&str>,
    url: Option<&str>,
) -> Option<LicenseChoice> {
    let v = value.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("unknown") {
        return None;
    }
    if v.eq_ignore_ascii_case("other") {
        let name = name_for_other.map(str::trim).filter(|n| !n.is_empty())?;
        return Some(named(name, url));
    }
    if let Some(id) = canonical_id(v) {
        return Some(LicenseChoice::License {
            license: License {
                id: Some(id.to_owned()),
                name: None,
                url: url.map(str::to_owned),
            },
        });
    }
    if let Some(expr) = canonical_expression(v) {
        return Some(LicenseChoice::Expression { expression: expr });
    }
    Some(named(v, url))
}

fn named(name: &str, url: Option<&str>) -> LicenseChoice {
    LicenseChoice::License {
        license: License {
            id: None,
            name: Some(name.to_owned()),
            url: url.map(str::to_owned),
        },
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token<'a> {
    Open,
    Close,
    And,
    Or,
    With,
    Id(&'a str),
}

fn tokens(s: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    for word in s.split_whitespace() {
        let mut w = word;
        while let Some(rest) = w.strip_prefix('(') {
            out.push(Token::Open);
            w = rest;
        }
        let mut closes = 0;
        while let Some(rest) = w.strip_suffix(')') {
            closes += 1;
            w = rest;
        }
        if !w.is_empty() {
            out.push(match w {
                "AND" | "and" => Token::And,
                "OR" | "or" => Token::Or,
                "WITH" | "with" => Token::With,
                id => Token::Id(id),
            });
        }
        out.extend(std::iter::repeat_n(Token::Close, closes));
    }
    out
}

/// A parsed SPDX licence expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// A licence id (or `LicenseRef-...`), optionally `WITH` an exception.
    Leaf {
        id: String,
        exception: Option<String>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

struct Parser<'a> {
    toks: Vec<Token<'a>>,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Token<'a>> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    // or := and ("OR" and)* ; and := atom ("AND" atom)* ; atom := "(" or ")" | id ["WITH" id]
    fn or(&mut self) -> Option<Expr> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Some(left)
    }
    fn and(&mut self) -> Option<Expr> {
        let mut left = self.atom()?;
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.atom()?));
        }
        Some(left)
    }
    fn atom(&mut self) -> Option<Expr> {
        match self.next()? {
            Token::Open => {
                // Nesting is bounded so that a hostile expression cannot exhaust the stack.
                self.depth += 1;
                if self.depth > 32 {
                    return None;
                }
                let e = self.or()?;
                self.depth -= 1;
                (self.next()? == Token::Close).then_some(e)
            }
            Token::Id(id) => {
                let exception = if self.peek() == Some(&Token::With) {
                    self.pos += 1;
                    match self.next()? {
                        Token::Id(x) => Some(x.to_owned()),
                        _ => return None,
                    }
                } else {
                    None
                };
                Some(Expr::Leaf {
                    id: id.to_owned(),
                    exception,
                })
            }
            _ => None,
        }
    }
}

/// Parses an SPDX expression (`Apache-2.0 AND (MIT OR GPL-2.0-only WITH Classpath-exception-2.0)`); `None` when
/// it is not well formed. A single id parses as a leaf.
pub fn parse_expression(s: &str) -> Option<Expr> {
    let mut p = Parser {
        toks: tokens(s),
        pos: 0,
        depth: 0,
    };
    let e = p.or()?;
    (p.pos == p.toks.len()).then_some(e)
}

/// `s` rewritten with canonical ids and uppercase operators, when it is an expression (has an operator) whose
/// ids are all SPDX ids or `LicenseRef-`s.
fn canonical_expression(s: &str) -> Option<String> {
    let toks = tokens(s);
    if !toks
        .iter()
        .any(|t| matches!(t, Token::And | Token::Or | Token::With))
    {
        return None;
    }
    parse_expression(s)?;
    let mut out = String::new();
    for t in &toks {
        let piece = match t {
            Token::Open => "(",
            Token::Close => ")",
            Token::And => " AND ",
            Token::Or => " OR ",
            Token::With => " WITH ",
            Token::Id(id) if id.starts_with("LicenseRef-") => id,
            Token::Id(id) => canonical_id(id)?,
        };
        out.push_str(piece);
    }
    Some(out.replace("( ", "(").replace(" )", ")"))
}

impl Expr {
    /// Whether the expression can be satisfied choosing only licences for which `ok` holds: `OR` needs one
    /// side, `AND` both. A leaf with an exception is offered to `ok` as `ID WITH EXCEPTION`, and as `ID`.
    pub fn satisfiable(&self, ok: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Expr::Leaf { id, exception } => match exception {
                Some(x) => ok(&format!("{id} WITH {x}")) || ok(id),
                None => ok(id),
            },
            Expr::And(a, b) => a.satisfiable(ok) && b.satisfiable(ok),
            Expr::Or(a, b) => a.satisfiable(ok) || b.satisfiable(ok),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_of(c: &LicenseChoice) -> (Option<&str>, Option<&str>) {
        match c {
            LicenseChoice::License { license } => (license.id.as_deref(), license.name.as_deref()),
            LicenseChoice::Expression { expression } => (Some(expression.as_str()), None),
        }
    }

    #[test]
    fn card_values_become_ids_names_or_expressions() {
        let c = choice("apache-2.0", None, None).unwrap();
        assert_eq!(id_of(&c), (Some("Apache-2.0"), None));
        let c = choice("llama3", None, None).unwrap();
        assert_eq!(id_of(&c), (None, Some("llama3")));
        let c = choice("other", Some("Acme Model Licence"), Some("LICENSE.md")).unwrap();
        assert_eq!(id_of(&c), (None, Some("Acme Model Licence")));
        assert_eq!(choice("other", None, None), None);
        assert_eq!(choice("unknown", None, None), None);
        let c = choice("mit or (apache-2.0 and bsd-3-clause)", None, None).unwrap();
        assert_eq!(
            c,
            LicenseChoice::Expression {
                expression: "MIT OR (Apache-2.0 AND BSD-3-Clause)".into()
            }
        );
    }

    #[test]
    fn expressions_are_evaluated_with_or_as_choice() {
        let allowed = |id: &str| matches!(id, "MIT" | "Apache-2.0");
        let e = parse_expression("MIT OR GPL-3.0-only").unwrap();
        assert!(e.satisfiable(&allowed));
        let e = parse_expression("MIT AND GPL-3.0-only").unwrap();
        assert!(!e.satisfiable(&allowed));
        let e = parse_expression("(MIT OR GPL-3.0-only) AND Apache-2.0").unwrap();
        assert!(e.satisfiable(&allowed));
        assert!(parse_expression("MIT AND").is_none());
        assert!(parse_expression("(MIT").is_none());
        let deep = format!("{}MIT{}", "(".repeat(100), ")".repeat(100));
        assert!(parse_expression(&deep).is_none());
    }
}
