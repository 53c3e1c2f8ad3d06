//! Chat templates (Jinja) that try to leave the template sandbox.
//!
//! Chat templates ship inside GGUF files (`tokenizer.chat_template*`) and `tokenizer_config.json`, and are
//! rendered by Jinja engines; in Python's jinja2 a template that reaches `__class__`, `__globals__` or a
//! global function's `__init__.__globals__` can import `os` and run commands when the model is loaded for
//! chat (server-side template injection). A normal chat template only reads `messages`, `tools`,
//! `bos_token`, `add_generation_prompt` and the like, and uses ordinary filters, so the checks below are
//! about names and shapes no chat template needs.
//!
//! The checker tokenises the code inside `{{ }}` and `{% %}` (comments and `{% raw %}` bodies are skipped,
//! string literals are decoded, so `'\x5f\x5fclass\x5f\x5f'` is seen as `__class__`) and reports:
//! - high: identifiers or attribute names containing `__` (`__class__`, `__globals__`, `__mro__`,
//!   `_TemplateReference__context`), strings that are whole dunder names, attribute names that only serve
//!   code execution (`.system`, `.popen`, `.f_globals`, ...), the identifiers `os`, `subprocess`, `popen`,
//!   `eval`, `exec`, `getattr`, `globals`, `builtins`, `import` statements, and attribute or item access on
//!   `self`, `lipsum`, `cycler` or `joiner`;
//! - medium: the `attr` filter, strings that begin or end with `__` (pieces of a dunder name joined at run
//!   time), `%c` format strings (characters built from numbers) and `include`/`extends`/`from` statements.

use rampart_core::Severity;

use super::preview;

/// One problem found in a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateIssue {
    /// High when the template reaches for code execution, medium when it hides names or loads others.
    pub severity: Severity,
    /// Byte offset of the offending token in the template.
    pub offset: usize,
    /// What was found, e.g. "attribute `__globals__`".
    pub what: String,
    /// The surrounding template text, escaped and truncated.
    pub excerpt: String,
}

/// Issues reported per template; a hostile template can contain thousands.
const MAX_ISSUES: usize = 32;

/// Identifiers that a chat template has no use for and SSTI payloads rely on.
const DANGEROUS_IDENTS: &[&str] = &[
    "os",
    "subprocess",
    "popen",
    "eval",
    "exec",
    "getattr",
    "setattr",
    "globals",
    "builtins",
    "import",
];

/// Attribute names that only lead to running commands or reaching interpreter internals.
const DANGEROUS_ATTRS: &[&str] = &[
    "system",
    "popen",
    "spawn",
    "spawnv",
    "fork",
    "exec",
    "execv",
    "eval",
    "environ",
    "getenv",
    "modules",
    "import_module",
    "check_output",
    "f_globals",
    "f_locals",
    "f_back",
    "gi_frame",
    "gi_code",
    "tb_frame",
    "cr_frame",
    "func_globals",
    "mro",
    "subclasses",
];

/// Jinja globals whose methods lead to `__globals__` and the `os` module in common payloads.
const GLOBAL_OBJECTS: &[&str] = &["self", "lipsum", "cycler", "joiner"];

/// Checks one template. Cost: one pass over the template; allocation proportional to the code it holds.
pub fn check_chat_template(src: &str) -> Vec<TemplateIssue> {
    let mut issues = Vec::new();
    let mut pos = 0;
    let b = src.as_bytes();
    while issues.len() < MAX_ISSUES {
        let Some(open) = find_open(b, pos) else { break };
        let kind = b[open + 1];
        let code_start = open + 2;
        if kind == b'#' {
            pos = find(b, code_start, b"#}").map_or(b.len(), |p| p + 2);
            continue;
        }
        let close = if kind == b'{' { b"}}" } else { b"%}" };
        let (tokens, end) = tokenize(src, code_start, close);
        let block = &src[open..end.min(src.len())];
        check_block(open, block, &tokens, kind == b'%', &mut issues);
        pos = end;
        if kind == b'%'
            && tokens
                .first()
                .is_some_and(|t| t.text == "raw" && t.kind == Kind::Ident)
        {
            pos = find_endraw(b, pos).unwrap_or(b.len());
        }
    }
    issues.truncate(MAX_ISSUES);
    issues
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    Str,
    Punct,
    Other,
}

#[derive(Debug)]
struct Token {
    kind: Kind,
    /// The identifier, the decoded string or the punctuation character.
    text: String,
    offset: usize,
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(b.get(from..)?, needle).map(|p| p + from)
}

/// The next `{{`, `{%` or `{#` at or after `from`.
fn find_open(b: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let p = at + memchr::memchr(b'{', b.get(at..)?)?;
        if matches!(b.get(p + 1), Some(b'{' | b'%' | b'#')) {
            return Some(p);
        }
        at = p + 1;
    }
}

fn find_endraw(b: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let p = find(b, at, b"{%")?;
        let mut i = p + 2;
        while b
            .get(i)
            .is_some_and(|c| matches!(c, b'-' | b'+') || c.is_ascii_whitespace())
        {
            i += 1;
        }
        if b.get(i..i + 6) == Some(b"endraw") {
            return Some(find(b, i, b"%}").map_or(b.len(), |e| e + 2));
        }
        at = p + 2;
    }
}

/// Tokens of one block starting at `from`, and the offset just past its closing delimiter (or the end of
/// the template when it is not closed).
fn tokenize(src: &str, from: usize, close: &[u8; 2]) -> (Vec<Token>, usize) {
    let b = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = from;
    // Whitespace control right after the opening delimiter.
    if matches!(b.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if b.get(i..i + 2) == Some(&close[..]) {
            return (tokens, i + 2);
        } else if matches!(c, b'-' | b'+') && b.get(i + 1..i + 3) == Some(&close[..]) {
            return (tokens, i + 3);
        } else if c == b'\'' || c == b'"' {
            let (text, next) = string_literal(src, i);
            tokens.push(Token {
                kind: Kind::Str,
                text,
                offset: i,
            });
            i = next;
        } else if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 {
            let start = i;
            while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric() || b[i] >= 0x80) {
                i += 1;
            }
            tokens.push(Token {
                kind: Kind::Ident,
                text: src[start..i].to_string(),
                offset: start,
            });
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            tokens.push(Token {
                kind: Kind::Other,
                text: src[start..i].to_string(),
                offset: start,
            });
        } else {
            tokens.push(Token {
                kind: Kind::Punct,
                text: (c as char).to_string(),
                offset: i,
            });
            i += 1;
        }
    }
    (tokens, b.len())
}

/// Decodes a Jinja (Python-style) string literal starting at the quote at `at`; returns the value and the
/// offset after the closing quote.
fn string_literal(src: &str, at: usize) -> (String, usize) {
    let quote = src.as_bytes()[at] as char;
    let mut out = String::new();
    let mut chars = src[at + 1..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return (out, at + 1 + i + 1);
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else { break };
        let decoded = match e {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            '0'..='7' => {
                let (rest, n) = digits(&mut chars, 8, 2);
                char::from_u32(e.to_digit(8).unwrap_or(0) * 8u32.pow(n) + rest)
            }
            'x' => exact(digits(&mut chars, 16, 2), 2),
            'u' => exact(digits(&mut chars, 16, 4), 4),
            'U' => exact(digits(&mut chars, 16, 8), 8),
            '\\' | '\'' | '"' => Some(e),
            other => {
                out.push('\\');
                Some(other)
            }
        };
        if let Some(d) = decoded {
            out.push(d);
        }
    }
    (out, src.len())
}

/// Reads up to `max` digits of `radix`; returns their value and how many were read.
fn digits(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    radix: u32,
    max: u32,
) -> (u32, u32) {
    let (mut v, mut n) = (0u32, 0u32);
    while n < max {
        match chars.peek().and_then(|(_, d)| d.to_digit(radix)) {
            Some(d) => {
                v = v * radix + d;
                n += 1;
                chars.next();
            }
            None => break,
        }
    }
    (v, n)
}

/// The character of a `\x`/`\u`/`\U` escape when all `want` digits were present.
fn exact((v, n): (u32, u32), want: u32) -> Option<char> {
    if n == want { char::from_u32(v) } else { None }
}

fn is_dunder(s: &str) -> bool {
    s.len() > 4
        && s.starts_with("__")
        && s.ends_with("__")
        && s[2..s.len() - 2]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn check_block(
    block_at: usize,
    block: &str,
    tokens: &[Token],
    statement: bool,
    issues: &mut Vec<TemplateIssue>,
) {
    let mut push = |severity: Severity, offset: usize, what: String| {
        if issues.len() < MAX_ISSUES {
            issues.push(TemplateIssue {
                severity,
                offset,
                what,
                excerpt: excerpt(block_at, block, offset),
            });
        }
    };
    let punct = |i: Option<usize>, p: &str| {
        i.and_then(|i| tokens.get(i))
            .is_some_and(|t| t.kind == Kind::Punct && t.text == p)
    };
    for (i, t) in tokens.iter().enumerate() {
        let prev = i.checked_sub(1);
        let after_dot = punct(prev, ".");
        let after_pipe = punct(prev, "|");
        match t.kind {
            Kind::Ident => {
                let name = t.text.as_str();
                if name.contains("__") {
                    push(
                        Severity::High,
                        t.offset,
                        format!("name `{}` reaches Python internals", preview(name, 60)),
                    );
                } else if after_dot && DANGEROUS_ATTRS.contains(&name) {
                    push(
                        Severity::High,
                        t.offset,
                        format!("attribute `.{name}` only serves code execution"),
                    );
                } else if !after_dot && !after_pipe && DANGEROUS_IDENTS.contains(&name) {
                    push(
                        Severity::High,
                        t.offset,
                        format!("`{name}` has no use in a chat template"),
                    );
                } else if !after_dot
                    && GLOBAL_OBJECTS.contains(&name)
                    && (punct(Some(i + 1), ".")
                        || punct(Some(i + 1), "[")
                        || punct(Some(i + 1), "|"))
                {
                    push(
                        Severity::High,
                        t.offset,
                        format!(
                            "attribute access on the global `{name}`, a known sandbox escape route"
                        ),
                    );
                } else if after_pipe && name == "attr" {
                    push(
                        Severity::Medium,
                        t.offset,
                        "the `attr` filter reaches attributes by computed name".to_string(),
                    );
                } else if statement && i == 0 && matches!(name, "include" | "extends" | "from") {
                    push(
                        Severity::Medium,
                        t.offset,
                        format!("`{name}` loads another template"),
                    );
                }
            }
            Kind::Str => {
                let s = t.text.as_str();
                if is_dunder(s) {
                    push(
                        Severity::High,
                        t.offset,
                        format!("string `{}` names a Python internal", preview(s, 60)),
                    );
                } else if s.starts_with("__") || s.ends_with("__") {
                    push(
                        Severity::Medium,
                        t.offset,
                        format!(
                            "string `{}` looks like part of a dunder name",
                            preview(s, 60)
                        ),
                    );
                } else if s.contains("%c") {
                    push(
                        Severity::Medium,
                        t.offset,
                        "`%c` format string builds characters from numbers".to_string(),
                    );
                }
            }
            Kind::Punct | Kind::Other => {}
        }
    }
}

/// Up to 40 characters either side of `offset` within the block, escaped.
fn excerpt(block_at: usize, block: &str, offset: usize) -> String {
    let rel = offset.saturating_sub(block_at).min(block.len());
    let mut start = rel.saturating_sub(40);
    while !block.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (rel + 40).min(block.len());
    while !block.is_char_boundary(end) {
        end += 1;
    }
    let mut s = String::new();
    if start > 0 {
        s.push('…');
    }
    s.push_str(&preview(&block[start..end], 100));
    if end < block.len() && !s.ends_with('…') {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Llama-3-style template, written for these tests.
    const LLAMA3_STYLE: &str = "{{- bos_token }}\n{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content'] | trim %}\n    {%- set messages = messages[1:] %}\n{%- else %}\n    {%- set system_message = \"\" %}\n{%- endif %}\n{%- if tools is not none %}\n    {%- set ns = namespace(tool_text='') %}\n    {%- for t in tools %}{%- set ns.tool_text = ns.tool_text + (t | tojson(indent=4)) + '\\n\\n' %}{%- endfor %}\n{%- endif %}\n{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}\n{{- system_message }}\n{%- if tools is not none %}{{- '\\n\\nYou may call these functions:\\n' + ns.tool_text }}{%- endif %}\n{{- '<|eot_id|>' }}\n{%- for message in messages %}\n    {%- if message.role not in ['user', 'assistant', 'tool'] %}\n        {{- raise_exception('Unexpected role: ' ~ message.role) }}\n    {%- endif %}\n    {%- if message.tool_calls is defined and message.tool_calls %}\n        {%- for call in message.tool_calls %}\n            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n            {{- '{\"name\": \"' + call.function.name + '\", \"parameters\": ' + (call.function.arguments | tojson) + '}' }}\n            {{- '<|eot_id|>' }}\n        {%- endfor %}\n    {%- else %}\n        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}\n    {%- endif %}\n{%- endfor %}\n{#- the assistant speaks next -#}\n{%- if add_generation_prompt %}\n    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n{%- endif %}\n";

    /// A ChatML template with `loop` variables and a `joiner`-free join.
    const CHATML: &str = "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    fn severities(src: &str) -> Vec<(Severity, String)> {
        check_chat_template(src)
            .into_iter()
            .map(|i| (i.severity, i.what))
            .collect()
    }

    #[test]
    fn normal_templates_are_clean() {
        assert_eq!(severities(LLAMA3_STYLE), vec![]);
        assert_eq!(severities(CHATML), vec![]);
        let with_joiner = "{% set comma = joiner(', ') %}{% for m in messages %}{{ comma() }}{{ m.content|e }}{% endfor %}{% raw %}{{ ''.__class__ }}{% endraw %}";
        assert_eq!(severities(with_joiner), vec![]);
    }

    #[test]
    fn classic_payloads_are_high() {
        let payloads = [
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "{{ lipsum.__globals__['os'].popen('id').read() }}",
            "{{ cycler.__init__.__globals__.os.system('id') }}",
            "{{ self.__dict__ }}",
            "{{ self._TemplateReference__context.joiner.__init__.__globals__ }}",
            "{% for c in [].__class__.__base__.__subclasses__() %}{% endfor %}",
            "{{ ''['\\x5f\\x5fclass\\x5f\\x5f'] }}",
            "{{ ()|attr('__class__') }}",
            "{% import 'os' as os %}",
            "{{ joiner['x'] }}",
            "{{ namespace.__init__ }}",
        ];
        for p in payloads {
            let found = check_chat_template(p);
            assert!(
                found.iter().any(|i| i.severity == Severity::High),
                "{p}: {found:?}"
            );
        }
        let first = &check_chat_template("hello {{ x.__class__ }}")[0];
        assert_eq!(first.offset, 11);
        assert!(first.excerpt.contains("x.__class__"), "{}", first.excerpt);
    }

    #[test]
    fn obfuscation_is_medium() {
        let medium = [
            "{{ x|attr(name) }}",
            "{{ x[('__cla' ~ 'ss__')] }}",
            "{{ ('%c%c'|format(95,95)) }}",
            "{% include 'other.j2' %}",
        ];
        for p in medium {
            let found = check_chat_template(p);
            assert!(
                found.iter().any(|i| i.severity == Severity::Medium),
                "{p}: {found:?}"
            );
            assert!(
                found.iter().all(|i| i.severity == Severity::Medium),
                "{p}: {found:?}"
            );
        }
    }

    #[test]
    fn hostile_shapes_do_not_panic() {
        for s in [
            "{{",
            "{%",
            "{#",
            "{{ 'unterminated",
            "{{ '\\",
            "{{ '\\x4",
            "{% raw %}{{",
            "é{{ é.__x__ }}",
            "{{-}}",
            "{%-%}",
            "{{ '\\777' }}",
        ] {
            let _ = check_chat_template(s);
        }
        let many = "{{ a.__b__ }}".repeat(1000);
        assert_eq!(check_chat_template(&many).len(), MAX_ISSUES);
    }
}
