//! Output: compiler-style text diagnostics, SARIF 2.1.0.

use std::io::Write;

use rampart_core::Action;
use rampart_detect::Pipeline;
use serde_sarif::sarif;

use crate::cmd_scan::{FileReport, mask_same_len};

/// Totals for the closing line of text output.
#[derive(Debug, Default)]
pub struct Summary {
    pub inputs: usize,
    pub skipped: usize,
    pub findings: usize,
    pub by_action: [usize; 3],
}

impl Summary {
    pub fn add(&mut self, r: &FileReport) {
        self.inputs += 1;
        self.skipped += usize::from(r.skipped);
        self.findings += r.findings.len();
        self.by_action[r.action as usize] += 1;
    }
}

/// Prints each finding as a diagnostic with the source line and the span underlined:
///
/// ```text
/// config.env:3:16: SEC0001 aws-access-key-id [secret, high, score 0.97] -> block
///   |
/// 3 | export AWS_KEY=AKI**************PLE
///   |                ^^^^^^^^^^^^^^^^^^^^ AWS access key id (AKIA prefix)
/// ```
pub fn text_report(
    out: &mut impl Write,
    r: &FileReport,
    show_secrets: bool,
) -> std::io::Result<()> {
    for note in &r.notes {
        writeln!(out, "{}: note: {note}", r.path)?;
    }
    for f in &r.findings {
        writeln!(
            out,
            "{}:{}:{}: {} {} [{}{}, {}, score {:.2}] -> {}",
            r.path,
            f.line,
            f.column,
            f.rule,
            f.name,
            f.entity
                .as_deref()
                .map(|e| format!("{e}, "))
                .unwrap_or_default(),
            f.class,
            f.severity,
            f.score,
            f.action.name()
        )?;
        let (line, start, end) =
            display_line(&f.line_text, f.line_span, show_secrets || !masks(f.class));
        let num = f.line.to_string();
        let pad = " ".repeat(num.len());
        writeln!(out, "{pad} |")?;
        writeln!(out, "{num} | {line}")?;
        writeln!(
            out,
            "{pad} | {}{} {}",
            " ".repeat(start),
            "^".repeat((end - start).max(1)),
            f.explanation
        )?;
        writeln!(out, "{pad} = {}; ATLAS {}", f.category, f.atlas.join(", "))?;
        writeln!(out)?;
    }
    Ok(())
}

fn masks(class: &str) -> bool {
    matches!(class, "secret" | "pii")
}

/// The line to show (control characters made visible, long lines cut around the span), and the span's
/// display columns in it.
fn display_line(line: &str, span: (usize, usize), clear: bool) -> (String, usize, usize) {
    const WIDTH: usize = 160;
    let chars: Vec<char> = line.chars().collect();
    let (s, e) = (
        span.0.min(chars.len()),
        span.1.min(chars.len()).max(span.0.min(chars.len())),
    );
    let from = s.saturating_sub(40);
    let to = (e + 40).min(chars.len()).max(from);
    let to = to.min(from + WIDTH.max(e - from));
    let visible = |c: char| {
        if c.is_control() || is_invisible(c) {
            '·'
        } else {
            c
        }
    };
    let mut outl = String::new();
    let mut offset = 0;
    if from > 0 {
        outl.push('…');
        offset = 1;
    }
    outl.extend(chars[from..s].iter().map(|&c| visible(c)));
    let matched: String = chars[s..e].iter().map(|&c| visible(c)).collect();
    outl.push_str(&if clear {
        matched
    } else {
        mask_same_len(&matched)
    });
    outl.extend(chars[e..to].iter().map(|&c| visible(c)));
    if to < chars.len() {
        outl.push('…');
    }
    (outl, s - from + offset, e - from + offset)
}

/// Characters that would make the underline lie about where the span is.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
        | '\u{E0000}'..='\u{E007F}' | '\u{FE00}'..='\u{FE0F}' | '\u{00AD}')
}

pub fn text_summary(out: &mut impl Write, s: &Summary) -> std::io::Result<()> {
    writeln!(
        out,
        "{} input(s) scanned{}, {} finding(s); verdicts: {} allow, {} redact, {} block",
        s.inputs,
        if s.skipped > 0 {
            format!(" ({} binary skipped)", s.skipped)
        } else {
            String::new()
        },
        s.findings,
        s.by_action[Action::Allow as usize],
        s.by_action[Action::Redact as usize],
        s.by_action[Action::Block as usize],
    )
}

/// The SARIF result level for a severity.
pub(crate) fn level(sev: rampart_core::Severity) -> sarif::ResultLevel {
    use rampart_core::Severity::*;
    match sev {
        Critical | High => sarif::ResultLevel::Error,
        Medium => sarif::ResultLevel::Warning,
        Low | Info => sarif::ResultLevel::Note,
    }
}

/// One SARIF 2.1.0 log with every rule of the pipeline's scanners and every finding as a result.
pub fn sarif(
    out: &mut impl Write,
    pipeline: &Pipeline,
    reports: &[FileReport],
) -> anyhow::Result<()> {
    let metas: Vec<rampart_core::RuleMeta> = pipeline
        .scanners()
        .iter()
        .flat_map(|s| s.rules().iter().cloned())
        .collect();
    let rules: Vec<sarif::ReportingDescriptor> = metas
        .iter()
        .map(|m| {
            let mut props = std::collections::BTreeMap::new();
            props.insert("category".to_owned(), serde_json::json!(m.category.owasp()));
            props.insert("atlas".to_owned(), serde_json::json!(m.category.atlas()));
            props.insert("nist".to_owned(), serde_json::json!(m.category.nist()));
            props.insert(
                "security-severity".to_owned(),
                serde_json::json!(security_severity(m.severity)),
            );
            sarif::ReportingDescriptor::builder()
                .id(m.id.to_string())
                .name(m.name.to_string())
                .short_description(
                    sarif::MultiformatMessageString::builder()
                        .text(m.description.to_string())
                        .build(),
                )
                .properties(
                    sarif::PropertyBag::builder()
                        .tags(vec!["security".to_owned(), m.category.name().to_owned()])
                        .additional_properties(props)
                        .build(),
                )
                .build()
        })
        .collect();
    let mut results = Vec::new();
    for r in reports {
        for f in &r.findings {
            let region = sarif::Region::builder()
                .start_line(f.line as i64)
                .start_column(f.column as i64)
                .end_column((f.column + (f.char_end - f.char_start)) as i64)
                .byte_offset(f.start as i64)
                .byte_length((f.end - f.start) as i64)
                .char_offset(f.char_start as i64)
                .char_length((f.char_end - f.char_start) as i64)
                .snippet(
                    sarif::ArtifactContent::builder()
                        .text(f.excerpt.clone())
                        .build(),
                )
                .build();
            let location = sarif::Location::builder()
                .physical_location(
                    sarif::PhysicalLocation::builder()
                        .artifact_location(
                            sarif::ArtifactLocation::builder().uri(uri(&r.path)).build(),
                        )
                        .region(region)
                        .build(),
                )
                .build();
            let mut props = std::collections::BTreeMap::new();
            props.insert("score".to_owned(), serde_json::json!(f.score));
            props.insert("action".to_owned(), serde_json::json!(f.action));
            props.insert("entity".to_owned(), serde_json::json!(f.entity));
            props.insert("category".to_owned(), serde_json::json!(f.category));
            let mut result = sarif::Result::builder()
                .rule_id(f.rule.clone())
                .level(level(f.severity))
                .message(
                    sarif::Message::builder()
                        .text(f.explanation.clone())
                        .build(),
                )
                .locations(vec![location])
                .properties(
                    sarif::PropertyBag::builder()
                        .additional_properties(props)
                        .build(),
                )
                .build();
            if let Some(i) = metas.iter().position(|m| m.id == f.rule.as_str()) {
                result.rule_index = Some(i as i64);
            }
            results.push(result);
        }
    }
    let tool = sarif_tool(rules);
    let run = sarif::Run::builder().tool(tool).results(results).build();
    write_sarif_log(out, run)
}

/// Writes one SARIF 2.1.0 log holding `run`, pretty-printed, with a final newline.
pub(crate) fn write_sarif_log(out: &mut impl Write, run: sarif::Run) -> anyhow::Result<()> {
    let log = sarif::Sarif::builder()
        .version(serde_json::json!("2.1.0"))
        .schema(sarif::SCHEMA_URL)
        .runs(vec![run])
        .build();
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)?;
    Ok(())
}

/// GitHub code scanning's `security-severity` (a CVSS-like score, as a string) for a severity.
pub(crate) fn security_severity(sev: rampart_core::Severity) -> &'static str {
    use rampart_core::Severity::*;
    match sev {
        Critical => "9.5",
        High => "8.0",
        Medium => "5.5",
        Low => "3.0",
        Info => "0.0",
    }
}

/// A report path as a SARIF artifact URI: `stdin` for `-`, forward slashes otherwise.
pub(crate) fn uri(path: &str) -> String {
    if path == "-" {
        "stdin".to_owned()
    } else {
        path.replace('\\', "/")
    }
}

/// The SARIF `tool` entry every Rampart report names: this binary and its rules.
pub(crate) fn sarif_tool(rules: Vec<sarif::ReportingDescriptor>) -> sarif::Tool {
    sarif::Tool::builder()
        .driver(
            sarif::ToolComponent::builder()
                .name("rampart")
                .version(env!("CARGO_PKG_VERSION"))
                .information_uri("https://github.com/rampart-sec/rampart")
                .rules(rules)
                .build(),
        )
        .build()
}
