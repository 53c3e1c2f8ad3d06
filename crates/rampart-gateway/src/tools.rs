//! Agent tool-call control: which tools a role may declare or call, and what their arguments may say.
//!
//! Checked twice per request by the proxy: [`CompiledToolPolicy::check_declared`] for each tool the
//! client declares, and [`CompiledToolPolicy::check_call`] for each tool call (in the model's answer,
//! and in assistant messages the client replays).
//!
//! Matching rules, chosen to fail closed:
//! - a deny entry beats an allow entry; an empty allow-list allows no tool, `["*"]` allows any;
//! - allow entries match the name exactly (case included); deny entries and argument rules ignore
//!   case, so `Shell` cannot slip past a deny of `shell`;
//! - arguments are parsed as JSON every time (a call whose arguments do not parse is a violation,
//!   even without rules), duplicate object keys are rejected (parsers disagree on which one wins),
//!   and nesting deeper than serde_json's recursion limit (128) is rejected rather than recursed into;
//! - deny patterns (regexes, linear-time) see the decoded strings (JSON escapes undone), object keys
//!   and scalars of the addressed argument, at any depth;
//! - URL host allow-lists check every URL in the addressed argument: strings that are a URL, URLs
//!   inside text, and a bare `host/path` value. Hosts come from WHATWG URL parsing (the `url` crate),
//!   so userinfo (`example.com@evil.net`), look-alike suffixes (`example.com.evil.net`), percent-
//!   and IDNA-encoding and numeric IPv4 forms are resolved as a browser would. A tool whose HTTP
//!   client parses URLs differently from WHATWG could disagree on odd inputs; keep such tools
//!   behind their own egress controls too.
//!
//! Deny patterns are a tripwire, not a sandbox: a shell tool can spell `rm -rf` many ways. Prefer
//! allow-lists (of tools, and of hosts) wherever possible.

use regex::{Regex, RegexSet, RegexSetBuilder};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::{Host, Url};

/// Compiled size limit of one user-supplied regex: bounds memory and compile time of a policy.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Longest name or host quoted in a violation, in characters.
const MAX_QUOTED: usize = 100;

/// A role's tool policy (the role's `tools` key).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ToolPolicy {
    /// Tool names or globs (`*` any run, `?` one character) the role may use; exact case. Empty: no
    /// tools; `["*"]`: any tool not denied.
    pub allow: Vec<String>,
    /// Names or globs refused even when allowed; case ignored.
    pub deny: Vec<String>,
    /// Argument checks for tool calls.
    pub rules: Vec<ArgRule>,
}

/// A check on one argument of the tools whose name matches `tool`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ArgRule {
    /// Tool name or glob; case ignored.
    pub tool: String,
    /// A top-level key (`"command"`), a JSON pointer (`"/options/url"`), or `"*"` for the whole
    /// arguments object. A call without that argument passes the rule.
    pub argument: String,
    /// Regexes (Rust `regex` syntax) that must not match any string, key or scalar in the argument.
    #[serde(default)]
    pub deny_patterns: Vec<String>,
    /// When not empty, every URL in the argument must point to one of these hosts: `example.com`
    /// (that host only), `*.corp.example` (any subdomain, not `corp.example` itself), an IPv4
    /// address or a bracketed IPv6 address.
    #[serde(default)]
    pub allow_url_hosts: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ToolPolicyError {
    #[error("tool pattern {pattern:?}: {reason}")]
    BadName {
        pattern: String,
        reason: &'static str,
    },
    #[error("rule for tool {tool:?}: deny pattern {pattern:?}: {source}")]
    BadRegex {
        tool: String,
        pattern: String,
        #[source]
        source: Box<regex::Error>,
    },
    #[error("rule for tool {tool:?}: host {pattern:?}: {reason}")]
    BadHost {
        tool: String,
        pattern: String,
        reason: String,
    },
    #[error("rule for tool {tool:?}: argument {argument:?}: {reason}")]
    BadArgument {
        tool: String,
        argument: String,
        reason: &'static str,
    },
    #[error("rule for tool {tool:?} on {argument:?} has neither deny_patterns nor allow_url_hosts")]
    EmptyRule { tool: String, argument: String },
}

/// Why a tool or tool call was refused. `rule` is one of `tools.not-allowed`, `tools.denied`,
/// `tools.argument-denied`, `tools.url-not-allowed`, `tools.bad-arguments`. The explanation names
/// the tool, the argument and the matching pattern or host, never the argument's value.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ToolViolation {
    pub rule: &'static str,
    pub tool: String,
    pub explanation: String,
}

impl std::fmt::Display for ToolViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.rule, self.explanation)
    }
}

impl std::error::Error for ToolViolation {}

impl ToolPolicy {
    /// Validates and compiles the policy once (at config load), so checks do no parsing of the
    /// policy itself. Fails on empty names, malformed regexes or host patterns, and rules that
    /// check nothing.
    pub fn compile(&self) -> Result<CompiledToolPolicy, ToolPolicyError> {
        let rules = self
            .rules
            .iter()
            .map(CompiledRule::new)
            .collect::<Result<_, _>>()?;
        Ok(CompiledToolPolicy {
            allow: NameSet::new(&self.allow, false)?,
            deny: NameSet::new(&self.deny, true)?,
            rules,
        })
    }
}

/// A [`ToolPolicy`] ready to check. Immutable; share it behind an `Arc`.
#[derive(Clone, Debug)]
pub struct CompiledToolPolicy {
    allow: NameSet,
    deny: NameSet,
    rules: Vec<CompiledRule>,
}

impl CompiledToolPolicy {
    /// A tool the client declares in `tools`. Cost: two DFA-backed set matches on the name.
    pub fn check_declared(&self, name: &str) -> Result<(), ToolViolation> {
        if let Some(pattern) = self.deny.first_match(name) {
            return Err(violation(
                "tools.denied",
                name,
                format!("tool {} is denied by pattern {pattern:?}", quote(name)),
            ));
        }
        if self.allow.first_match(name).is_none() {
            return Err(violation(
                "tools.not-allowed",
                name,
                format!("tool {} is not in the role's allow-list", quote(name)),
            ));
        }
        Ok(())
    }

    /// A tool call (from a model's answer or an assistant message in the request); `arguments` is
    /// the raw JSON string. Checks the name as [`check_declared`](Self::check_declared) does, parses
    /// the arguments (a JSON object; empty or blank counts as `{}`) and applies every matching rule
    /// in order, reporting the first violation. Cost: linear in the arguments' size per rule.
    pub fn check_call(&self, name: &str, arguments: &str) -> Result<(), ToolViolation> {
        self.check_declared(name)?;
        let args = parse_arguments(arguments).map_err(|reason| {
            violation(
                "tools.bad-arguments",
                name,
                format!("arguments of tool {}: {reason}", quote(name)),
            )
        })?;
        for rule in self.rules.iter().filter(|r| r.tool.is_match(name)) {
            rule.check(name, &args)?;
        }
        Ok(())
    }
}

fn violation(rule: &'static str, tool: &str, explanation: String) -> ToolViolation {
    ToolViolation {
        rule,
        tool: tool.to_owned(),
        explanation,
    }
}

/// A name for an explanation: quoted, control characters escaped, long names cut.
fn quote(s: &str) -> String {
    let cut: String = s.chars().take(MAX_QUOTED).collect();
    format!("{cut:?}")
}

/// Names and globs, matched as one anchored regex set.
#[derive(Clone, Debug)]
struct NameSet {
    patterns: Vec<String>,
    set: RegexSet,
}

impl NameSet {
    fn new(patterns: &[String], ignore_case: bool) -> Result<NameSet, ToolPolicyError> {
        let regexes = patterns
            .iter()
            .map(|p| {
                if p.trim().is_empty() {
                    Err(ToolPolicyError::BadName {
                        pattern: p.clone(),
                        reason: "empty name",
                    })
                } else {
                    Ok(glob_regex(p))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let set = RegexSetBuilder::new(&regexes)
            .case_insensitive(ignore_case)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|_| ToolPolicyError::BadName {
                pattern: patterns.join(", "),
                reason: "too complex",
            })?;
        Ok(NameSet {
            patterns: patterns.to_vec(),
            set,
        })
    }

    fn first_match(&self, name: &str) -> Option<&str> {
        self.set
            .matches(name)
            .iter()
            .next()
            .map(|i| self.patterns[i].as_str())
    }

    fn is_match(&self, name: &str) -> bool {
        self.set.is_match(name)
    }
}

/// `*` matches any run of characters, `?` one character, everything else itself.
fn glob_regex(glob: &str) -> String {
    let mut re = String::from("(?s)^");
    let mut buf = [0u8; 4];
    for ch in glob.chars() {
        match ch {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(c.encode_utf8(&mut buf))),
        }
    }
    re.push('$');
    re
}

#[derive(Clone, Debug)]
enum Target {
    Whole,
    Key(String),
    Pointer(String),
}

impl Target {
    fn select<'a>(&self, args: &'a Value) -> Option<&'a Value> {
        match self {
            Target::Whole => Some(args),
            Target::Key(key) => args.get(key),
            Target::Pointer(pointer) => args.pointer(pointer),
        }
    }

    fn describe(&self) -> String {
        match self {
            Target::Whole => "arguments".to_owned(),
            Target::Key(key) => format!("argument {}", quote(key)),
            Target::Pointer(pointer) => format!("argument {}", quote(pointer)),
        }
    }
}

#[derive(Clone, Debug)]
struct CompiledRule {
    tool: NameSet,
    target: Target,
    deny: Option<(RegexSet, Vec<String>)>,
    hosts: Option<HostAllowList>,
}

impl CompiledRule {
    fn new(rule: &ArgRule) -> Result<CompiledRule, ToolPolicyError> {
        let tool = NameSet::new(std::slice::from_ref(&rule.tool), true)?;
        let target = match rule.argument.as_str() {
            "*" | "" => Target::Whole,
            p if p.starts_with('/') => {
                if has_bad_pointer_escape(p) {
                    return Err(ToolPolicyError::BadArgument {
                        tool: rule.tool.clone(),
                        argument: rule.argument.clone(),
                        reason: "`~` in a JSON pointer must be written ~0 or ~1",
                    });
                }
                Target::Pointer(p.to_owned())
            }
            key => Target::Key(key.to_owned()),
        };
        if rule.deny_patterns.is_empty() && rule.allow_url_hosts.is_empty() {
            return Err(ToolPolicyError::EmptyRule {
                tool: rule.tool.clone(),
                argument: rule.argument.clone(),
            });
        }
        let deny = if rule.deny_patterns.is_empty() {
            None
        } else {
            for p in &rule.deny_patterns {
                // Compiled one by one first, so an error names the faulty pattern.
                regex::RegexBuilder::new(p)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| ToolPolicyError::BadRegex {
                        tool: rule.tool.clone(),
                        pattern: p.clone(),
                        source: Box::new(e),
                    })?;
            }
            let set = RegexSetBuilder::new(&rule.deny_patterns)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| ToolPolicyError::BadRegex {
                    tool: rule.tool.clone(),
                    pattern: rule.deny_patterns.join(" | "),
                    source: Box::new(e),
                })?;
            Some((set, rule.deny_patterns.clone()))
        };
        let hosts = if rule.allow_url_hosts.is_empty() {
            None
        } else {
            Some(HostAllowList::new(&rule.tool, &rule.allow_url_hosts)?)
        };
        Ok(CompiledRule {
            tool,
            target,
            deny,
            hosts,
        })
    }

    fn check(&self, name: &str, args: &Value) -> Result<(), ToolViolation> {
        let Some(value) = self.target.select(args) else {
            return Ok(());
        };
        if let Some((set, patterns)) = &self.deny {
            let mut hit = None;
            visit_text(value, &mut |text| {
                if set.is_match(text) {
                    hit = set.matches(text).iter().next();
                }
                hit.is_none()
            });
            if let Some(i) = hit {
                return Err(violation(
                    "tools.argument-denied",
                    name,
                    format!(
                        "{} of tool {} matches deny pattern {:?}",
                        self.target.describe(),
                        quote(name),
                        patterns[i]
                    ),
                ));
            }
        }
        if let Some(hosts) = &self.hosts {
            let mut problem = None;
            if let Value::String(s) = value {
                problem = hosts.check_bare(s).err();
            }
            if problem.is_none() {
                visit_strings(value, &mut |s| {
                    problem = hosts.check_text(s).err();
                    problem.is_none()
                });
            }
            if let Some(problem) = problem {
                return Err(violation(
                    "tools.url-not-allowed",
                    name,
                    format!(
                        "{} of tool {} {problem}",
                        self.target.describe(),
                        quote(name)
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn has_bad_pointer_escape(pointer: &str) -> bool {
    let bytes = pointer.as_bytes();
    bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'~' && !matches!(bytes.get(i + 1), Some(b'0' | b'1')))
}

/// Calls `f` on every string value and object key under `value` until it returns false.
fn visit_strings(value: &Value, f: &mut dyn FnMut(&str) -> bool) -> bool {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().all(|v| visit_strings(v, f)),
        Value::Object(map) => map.iter().all(|(k, v)| f(k) && visit_strings(v, f)),
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Like [`visit_strings`], and scalars as their JSON text, so `"port": 22` can be matched too.
fn visit_text(value: &Value, f: &mut dyn FnMut(&str) -> bool) -> bool {
    match value {
        Value::Number(n) => f(&n.to_string()),
        Value::Bool(b) => f(if *b { "true" } else { "false" }),
        Value::Null => f("null"),
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().all(|v| visit_text(v, f)),
        Value::Object(map) => map.iter().all(|(k, v)| f(k) && visit_text(v, f)),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    /// `*.corp.example` stored as `corp.example`.
    Subdomains(String),
    V4(std::net::Ipv4Addr),
    V6(std::net::Ipv6Addr),
}

#[derive(Clone, Debug)]
struct HostAllowList {
    patterns: Vec<HostPattern>,
    /// Where URLs may start inside text: a scheme and its colon.
    scheme: Regex,
}

/// WHATWG reads `\` as `/` in http(s) URLs and other parsers do not (`https://ok.com\@evil.net`),
/// so a URL with a backslash is refused rather than guessed at.
const BACKSLASH: &str = "holds a URL with a backslash, which URL parsers read differently";

/// Schemes whose URLs WHATWG parses with a host even without `//` (`https:evil.net`).
const SPECIAL_SCHEMES: [&str; 6] = ["http", "https", "ws", "wss", "ftp", "file"];

impl HostAllowList {
    fn new(tool: &str, patterns: &[String]) -> Result<HostAllowList, ToolPolicyError> {
        let bad = |pattern: &str, reason: String| ToolPolicyError::BadHost {
            tool: tool.to_owned(),
            pattern: pattern.to_owned(),
            reason,
        };
        let mut parsed = Vec::with_capacity(patterns.len());
        for raw in patterns {
            let p = raw.trim();
            let (wildcard, host) = match p.strip_prefix("*.") {
                Some(rest) => (true, rest),
                None => (false, p),
            };
            if host.is_empty() || host.contains('*') {
                return Err(bad(
                    raw,
                    "expected a host name, `*.` + a domain, or an IP address".into(),
                ));
            }
            let host = host.strip_suffix('.').unwrap_or(host);
            let parsed_host = Host::parse(host).map_err(|e| bad(raw, e.to_string()))?;
            parsed.push(match (parsed_host, wildcard) {
                (Host::Domain(d), false) => HostPattern::Exact(d),
                (Host::Domain(d), true) => HostPattern::Subdomains(d),
                (Host::Ipv4(ip), false) => HostPattern::V4(ip),
                (Host::Ipv6(ip), false) => HostPattern::V6(ip),
                (_, true) => return Err(bad(raw, "`*.` needs a domain, not an IP address".into())),
            });
        }
        let scheme =
            Regex::new(r"(?i)[a-z][a-z0-9+.\-]*:").map_err(|e| ToolPolicyError::BadRegex {
                tool: tool.to_owned(),
                pattern: "scheme".to_owned(),
                source: Box::new(e),
            })?;
        Ok(HostAllowList {
            patterns: parsed,
            scheme,
        })
    }

    fn allows(&self, host: &Host<&str>) -> bool {
        match host {
            Host::Domain(d) => {
                let d = d.strip_suffix('.').unwrap_or(d).to_ascii_lowercase();
                self.patterns.iter().any(|p| match p {
                    HostPattern::Exact(x) => *x == d,
                    HostPattern::Subdomains(x) => {
                        d.len() > x.len() + 1
                            && d.ends_with(x.as_str())
                            && d.as_bytes()[d.len() - x.len() - 1] == b'.'
                    }
                    HostPattern::V4(_) | HostPattern::V6(_) => false,
                })
            }
            Host::Ipv4(ip) => self.patterns.contains(&HostPattern::V4(*ip)),
            Host::Ipv6(ip) => self.patterns.contains(&HostPattern::V6(*ip)),
        }
    }

    fn check_url(&self, url: &Url) -> Result<(), String> {
        match url.host() {
            Some(host) if self.allows(&host) => Ok(()),
            Some(host) => Err(format!(
                "points to host {}, which is not in the allow-list",
                quote(&host.to_string())
            )),
            None => Err(format!("holds a {}: URL without a host", url.scheme())),
        }
    }

    /// Every URL that starts with a scheme somewhere in `text`.
    fn check_text(&self, text: &str) -> Result<(), String> {
        for m in self.scheme.find_iter(text) {
            let scheme = &text[m.start()..m.end() - 1];
            let after = &text[m.end()..];
            let has_slashes =
                after.starts_with("//") || after.starts_with("\\\\") || after.starts_with("/\\");
            let special = SPECIAL_SCHEMES
                .iter()
                .any(|s| s.eq_ignore_ascii_case(scheme));
            if !has_slashes && !special {
                continue; // `note: ...`, `mailto:`: not a fetchable location
            }
            let end = after
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
                .unwrap_or(after.len());
            let candidate = text[m.start()..m.end() + end]
                .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}']);
            if candidate.contains('\\') {
                return Err(BACKSLASH.to_owned());
            }
            match Url::parse(candidate) {
                Ok(url) => self.check_url(&url)?,
                // A string that claims to be a URL but is not one is refused: the tool may parse it
                // more leniently than we do.
                Err(_) if has_slashes => return Err("holds a malformed URL".to_owned()),
                Err(_) => {}
            }
        }
        Ok(())
    }

    /// The whole argument as a URL without a scheme (`evil.net/path`, `//evil.net`, `localhost:8080`),
    /// as tools that prepend `https://` would read it. Text with spaces, or with a scheme (handled by
    /// [`check_text`](Self::check_text)), is not a bare URL; nor is a single word without a dot.
    fn check_bare(&self, value: &str) -> Result<(), String> {
        let value = value.trim();
        if value.is_empty() || value.contains(char::is_whitespace) || self.has_scheme(value) {
            return Ok(());
        }
        if value.contains('\\') {
            return Err(BACKSLASH.to_owned());
        }
        let rest = value.trim_start_matches('/');
        let Ok(url) = Url::parse(&format!("http://{rest}")) else {
            return Ok(());
        };
        let looks_like_location = match url.host() {
            Some(Host::Domain(d)) => {
                d.contains('.')
                    || d == "localhost"
                    || rest.len() > d.len()
                    || value.starts_with("//")
            }
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => true,
            None => false,
        };
        if looks_like_location {
            self.check_url(&url)
        } else {
            Ok(())
        }
    }

    fn has_scheme(&self, value: &str) -> bool {
        self.scheme.find(value).is_some_and(|m| {
            m.start() == 0 && {
                let after = &value[m.end()..];
                after.starts_with("//") || after.starts_with('\\') || {
                    let scheme = &value[..m.end() - 1];
                    SPECIAL_SCHEMES
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(scheme))
                }
            }
        })
    }
}

/// Parses tool-call arguments: a JSON object, blank meaning `{}`, duplicate keys refused.
fn parse_arguments(arguments: &str) -> Result<Value, String> {
    if arguments.trim().is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    // serde_json's messages name the problem and position ("duplicate key at line 1 column 20",
    // "recursion limit exceeded ..."), never the input's content.
    let StrictValue(value) =
        serde_json::from_str(arguments).map_err(|e| format!("not valid JSON: {e}"))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err("not a JSON object".to_owned())
    }
}

/// A JSON value whose objects must not repeat a key.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let StrictValue(v) = map.next_value()?;
            if entries.insert(key, v).is_some() {
                return Err(de::Error::custom("duplicate key"));
            }
        }
        Ok(Value::Object(entries))
    }
}

#[cfg(test)]
mod tests;
