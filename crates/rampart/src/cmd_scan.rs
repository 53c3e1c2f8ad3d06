//! `rampart scan`: run the policy pipeline over inputs and report.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use rampart_core::{Action, Direction, FindingReport, mask_excerpt};
use rampart_detect::Pipeline;
use serde::Serialize;

use crate::input::{self, Source};
use crate::render;
use crate::{DirectionArg, Format};

/// Bytes handed to the pipeline at once; larger inputs are scanned in overlapping chunks.
const CHUNK_BYTES: usize = 1 << 20;
/// Overlap kept between chunks when no scanner bounds its match length.
const DEFAULT_OVERLAP: usize = 64 << 10;

#[derive(Args)]
pub struct ScanArgs {
    /// Files or directories to scan (recursively); `-` or nothing reads stdin.
    pub paths: Vec<PathBuf>,
    /// Policy file (TOML); the embedded default policy when absent.
    #[arg(long, env = "RAMPART_POLICY")]
    pub policy: Option<PathBuf>,
    /// Which way the text flows: a prompt (input), a model's answer (output), or data the model reads.
    #[arg(long, value_enum, default_value_t)]
    pub direction: DirectionArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Show matched values in clear in text output (they are masked by default).
    #[arg(long)]
    pub show_secrets: bool,
}

/// One finding as printed: the shared report shape (`rampart_core::FindingReport`, also used by the gateway)
/// plus what text output needs to draw the source line.
#[derive(Clone, Debug, Serialize)]
pub struct FindingOut {
    #[serde(flatten)]
    pub report: FindingReport,
    /// The source line, for text output; never serialised.
    #[serde(skip)]
    pub line_text: String,
    /// Char range of the match within `line_text`.
    #[serde(skip)]
    pub line_span: (usize, usize),
}

impl std::ops::Deref for FindingOut {
    type Target = FindingReport;
    fn deref(&self) -> &FindingReport {
        &self.report
    }
}

/// The report for one input.
#[derive(Debug, Serialize)]
pub struct FileReport {
    pub path: String,
    pub action: Action,
    pub risk: f32,
    pub findings: Vec<FindingOut>,
    pub bytes: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

impl FileReport {
    /// True when a finding reached the policy threshold and the policy acts on it (exit code 1). Findings
    /// the policy explicitly lets through (URLs in the default policy) are reported without failing.
    pub fn failed(&self, threshold: f32) -> bool {
        self.findings
            .iter()
            .any(|f| f.score >= threshold && f.action != Action::Allow)
    }
}

pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let pipeline = crate::load_pipeline(args.policy.as_ref())?;
    let direction: Direction = args.direction.into();
    let (sources, errors) = input::expand(&args.paths);
    let mut had_error = !errors.is_empty();
    for (path, e) in &errors {
        eprintln!("rampart: error: {}: {e}", path.display());
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut reports = Vec::new();
    let mut failed = false;
    let mut summary = render::Summary::default();
    let threshold = pipeline.policy().threshold;
    for source in &sources {
        let report = match scan_source(&pipeline, source, direction) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("rampart: error: {}: {e}", source.display());
                had_error = true;
                continue;
            }
        };
        failed |= report.failed(threshold);
        summary.add(&report);
        match args.format {
            Format::Json => {
                serde_json::to_writer(&mut out, &report)?;
                writeln!(out)?;
            }
            Format::Text => render::text_report(&mut out, &report, args.show_secrets)?,
            Format::Sarif => {}
        }
        if args.format == Format::Sarif {
            reports.push(report);
        } else {
            out.flush()?;
        }
    }
    match args.format {
        Format::Sarif => render::sarif(&mut out, &pipeline, &reports)?,
        Format::Text => render::text_summary(&mut out, &summary)?,
        Format::Json => {}
    }
    out.flush()?;
    Ok(if had_error {
        ExitCode::from(2)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Scans one source chunk by chunk and assembles its report.
pub fn scan_source(
    pipeline: &Pipeline,
    source: &Source,
    direction: Direction,
) -> std::io::Result<FileReport> {
    let reader = source.open()?;
    let overlap = pipeline
        .max_span()
        .map_or(DEFAULT_OVERLAP, |m| (m + 64).min(CHUNK_BYTES / 2));
    let max_findings = pipeline.policy().limits.max_findings;
    let mut findings: Vec<FindingOut> = Vec::new();
    let mut action = Action::Allow;
    let mut risk = 0f32;
    let mut lines_before = 0u64;
    let mut chars_before = 0u64;
    let mut dropped = 0usize;
    let stats = input::read_chunks(reader, CHUNK_BYTES, |chunk| {
        let text = chunk.text;
        let report = pipeline.assess(text, direction);
        let mut commit = if chunk.is_last {
            text.len()
        } else {
            floor_boundary(text, text.len().saturating_sub(overlap))
        };
        // Findings that start in the committed part are final; later ones are seen again in the next chunk.
        let kept: Vec<_> = report
            .verdict
            .findings
            .iter()
            .zip(&report.actions)
            .filter(|(f, _)| f.span.start < commit)
            .collect();
        for (f, _) in &kept {
            commit = commit.max(f.span.end);
        }
        commit = floor_boundary(text, commit).max(1.min(text.len()));
        dropped += report.dropped;
        let mut line_cursor = (0usize, lines_before, chars_before);
        for (f, act) in kept {
            if findings.len() >= max_findings {
                dropped += 1;
                continue;
            }
            let (pos, line, chars) = &mut line_cursor;
            // Findings are sorted by start, so one forward pass counts lines and chars.
            let seg = &text[*pos..f.span.start];
            *line += memchr_count(seg.as_bytes(), b'\n');
            *chars += seg.chars().count() as u64;
            *pos = f.span.start;
            let line_start = text[..f.span.start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[f.span.start..]
                .find('\n')
                .map_or(text.len(), |i| f.span.start + i);
            let line_text = &text[line_start..line_end];
            let col = text[line_start..f.span.start].chars().count();
            let match_chars = f.matched(text).chars().count();
            // A span over several lines is underlined on its first line only.
            let shown_chars = text[f.span.start..f.span.end.min(line_end)].chars().count();
            action = action.max(*act);
            if f.score >= pipeline.policy().threshold {
                risk = risk.max(f.score);
            }
            findings.push(FindingOut {
                report: FindingReport::from_parts(
                    f,
                    *act,
                    (
                        chunk.offset + f.span.start as u64,
                        chunk.offset + f.span.end as u64,
                    ),
                    (*chars, *chars + match_chars as u64),
                    (*line + 1, col as u64 + 1),
                    f.excerpt(text),
                ),
                line_text: line_text.to_owned(),
                line_span: (col, col + shown_chars),
            });
        }
        let rest = &text[line_cursor.0..commit.max(line_cursor.0)];
        lines_before = line_cursor.1 + memchr_count(rest.as_bytes(), b'\n');
        chars_before = line_cursor.2 + rest.chars().count() as u64;
        commit
    })?;
    let mut notes = Vec::new();
    if stats.binary {
        notes.push("binary file (NUL byte in the first 8 KiB): not scanned".to_owned());
    }
    if stats.invalid_count > 0 {
        let at: Vec<String> = stats.invalid_utf8.iter().map(|o| o.to_string()).collect();
        notes.push(format!(
            "invalid UTF-8: {} sequence(s), first at byte offset(s) {}; scanned with each invalid byte read as '?'",
            stats.invalid_count,
            at.join(", ")
        ));
    }
    if dropped > 0 {
        notes.push(format!(
            "{dropped} more finding(s) dropped: limits.max_findings = {max_findings}"
        ));
    }
    Ok(FileReport {
        path: source.display(),
        action,
        risk: (risk * 1000.0).round() / 1000.0,
        findings,
        bytes: stats.bytes,
        notes,
        skipped: stats.binary,
    })
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn memchr_count(b: &[u8], needle: u8) -> u64 {
    b.iter().filter(|&&c| c == needle).count() as u64
}

/// Masks the middle of `s` while keeping its length in characters, for underlined display.
pub fn mask_same_len(s: &str) -> String {
    let n = s.chars().count();
    let masked = mask_excerpt(s);
    if masked.chars().count() == n {
        return masked;
    }
    let keep = if n > 12 { 3 } else { 0 };
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if i < keep || i + keep >= n || c.is_whitespace() {
                c
            } else {
                '*'
            }
        })
        .collect()
}
