//! `rampart model scan`: find code that runs when a model file is loaded (pickle payloads in PyTorch,
//! joblib, NumPy and plain pickle files) and archives built to attack the reader.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rampart_supply::{FileReport, Format as ModelFormat, Progress, ScanOptions, Verdict};
use serde::Serialize;
use serde_sarif::sarif;

use crate::Format;
use crate::render::{self, level, security_severity, uri};

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Scan model files and directories (recursively) for code that runs on load.
    ///
    /// Formats are recognised by content: pickle (protocols 0-5), PyTorch zip and legacy checkpoints,
    /// joblib, NumPy .npy/.npz, zip/tar/gzip archives; Keras, HDF5, SavedModel, ONNX, GGUF and
    /// safetensors are recognised and handed to their structural checks.
    ///
    /// Exit codes: 0 nothing dangerous, 1 something dangerous, 2 a file could not be read (and nothing
    /// dangerous was found) or a usage error.
    Scan(ScanArgs),
}

#[derive(Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads one file from stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Also list files that are not model files, in text output.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Never draw a progress bar (it is only drawn when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// How deep archives and pickles may nest inside each other.
    #[arg(long, default_value_t = ScanOptions::default().pickle.max_depth)]
    pub max_depth: usize,
    /// Opcodes interpreted per pickle before analysis stops (`pickle.limit`).
    #[arg(long, default_value_t = ScanOptions::default().pickle.max_ops)]
    pub max_ops: u64,
}

pub fn run(cmd: ModelCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ModelCommand::Scan(args) => scan(args),
    }
}

/// `--format json`: one object for the whole run (documented in docs/model-scan.md).
#[derive(Serialize)]
struct JsonOut<'a> {
    files: &'a [FileReport],
}

fn scan(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let mut opts = ScanOptions::default();
    opts.pickle.max_depth = args.max_depth;
    opts.pickle.max_ops = args.max_ops;
    let mut reports = Vec::new();
    let mut paths = Vec::new();
    for p in &args.paths {
        if p.as_os_str() == "-" {
            let mut data = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut data)
                .context("reading stdin")?;
            reports.push(rampart_supply::scan_bytes("-", &data, &opts));
        } else {
            paths.push(p.clone());
        }
    }
    if !paths.is_empty() {
        let mut pool = rayon::ThreadPoolBuilder::new();
        if let Some(n) = args.jobs {
            pool = pool.num_threads(n.max(1));
        }
        let pool = pool.build().context("starting worker threads")?;
        let bar = progress_bar(args.no_progress);
        let progress = |p: Progress<'_>| match p {
            Progress::Found(n) => bar.set_length(n as u64),
            Progress::Scanned(r) => {
                bar.set_message(short(&r.path));
                bar.inc(1);
            }
        };
        reports.extend(pool.install(|| rampart_supply::scan_paths_with(&paths, &opts, &progress)));
        bar.finish_and_clear();
    }

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Text => text(&mut out, &reports, args.verbose)?,
        Format::Json => {
            serde_json::to_writer(&mut out, &JsonOut { files: &reports })?;
            writeln!(out)?;
        }
        Format::Sarif => sarif_log(&mut out, &reports)?,
    }
    out.flush()?;
    Ok(exit_code(&reports))
}

/// Dangerous wins over unreadable: a gate that treats 2 as "tool trouble" must still block a payload.
fn exit_code(reports: &[FileReport]) -> ExitCode {
    if reports.iter().any(|r| r.verdict == Verdict::Dangerous) {
        ExitCode::from(1)
    } else if reports.iter().any(|r| r.verdict == Verdict::Error) {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn progress_bar(disabled: bool) -> ProgressBar {
    if disabled || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos}/{len} files {wide_msg}") {
        bar.set_style(style);
    }
    bar
}

fn short(path: &str) -> String {
    let n = path.chars().count();
    if n <= 60 {
        path.to_owned()
    } else {
        let tail: String = path.chars().skip(n - 59).collect();
        format!("…{tail}")
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Safe => "safe",
        Verdict::Suspicious => "SUSPICIOUS",
        Verdict::Dangerous => "DANGEROUS",
        Verdict::Error => "ERROR",
    }
}

/// One line per model file with its verdict, then one line per finding:
///
/// ```text
/// evil.pt: pytorch-zip: DANGEROUS
///   critical pickle.dangerous-call [archive/data.pkl, byte 92] calls posix.system('…') on load (…)
/// ```
fn text(out: &mut impl Write, reports: &[FileReport], verbose: bool) -> std::io::Result<()> {
    let mut counts = [0usize; 4];
    let mut not_models = 0usize;
    for r in reports {
        counts[r.verdict as usize] += 1;
        let quiet = r.format == ModelFormat::Unknown
            && r.findings.is_empty()
            && r.verdict != Verdict::Error;
        if quiet {
            not_models += 1;
            if !verbose {
                continue;
            }
        }
        write!(
            out,
            "{}: {}: {}",
            r.path,
            r.format.name(),
            verdict_word(r.verdict)
        )?;
        if let Some(e) = &r.error {
            write!(out, " ({e})")?;
        }
        writeln!(out)?;
        for f in &r.findings {
            let place = match &f.member {
                Some(m) => format!("{m}, byte {}", f.offset),
                None => format!("byte {}", f.offset),
            };
            writeln!(
                out,
                "  {} {} [{place}] {}",
                f.severity.name(),
                f.rule,
                f.explanation
            )?;
        }
    }
    writeln!(
        out,
        "{} file(s) scanned: {} dangerous, {} suspicious, {} safe, {} unreadable{}",
        reports.len(),
        counts[Verdict::Dangerous as usize],
        counts[Verdict::Suspicious as usize],
        counts[Verdict::Safe as usize],
        counts[Verdict::Error as usize],
        if not_models > 0 && !verbose {
            format!(" ({not_models} not model files, not listed; -v lists them)")
        } else {
            String::new()
        }
    )
}

/// One SARIF 2.1.0 log: every model-scan rule, every finding as a result (members named in the
/// result's properties), unreadable files as tool notifications.
fn sarif_log(out: &mut impl Write, reports: &[FileReport]) -> anyhow::Result<()> {
    // Rules of this crate first, then any other rule ids the format checks raised.
    let mut ids: Vec<(String, String, rampart_core::Severity)> = rampart_supply::rules::RULES
        .iter()
        .map(|r| (r.id.to_owned(), r.description.to_owned(), r.severity))
        .collect();
    for f in reports.iter().flat_map(|r| &r.findings) {
        if !ids.iter().any(|(id, _, _)| id == f.rule) {
            ids.push((f.rule.to_owned(), f.rule.to_owned(), f.severity));
        }
    }
    let rules: Vec<sarif::ReportingDescriptor> = ids
        .iter()
        .map(|(id, description, severity)| {
            let mut props = BTreeMap::new();
            props.insert(
                "security-severity".to_owned(),
                serde_json::json!(security_severity(*severity)),
            );
            sarif::ReportingDescriptor::builder()
                .id(id.clone())
                .short_description(
                    sarif::MultiformatMessageString::builder()
                        .text(description.clone())
                        .build(),
                )
                .properties(
                    sarif::PropertyBag::builder()
                        .tags(vec!["security".to_owned(), "supply-chain".to_owned()])
                        .additional_properties(props)
                        .build(),
                )
                .build()
        })
        .collect();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for r in reports {
        let artifact = sarif::ArtifactLocation::builder().uri(uri(&r.path)).build();
        if let Some(e) = &r.error {
            notifications.push(
                sarif::Notification::builder()
                    .message(
                        sarif::Message::builder()
                            .text(format!("{}: {e}", r.path))
                            .build(),
                    )
                    .level(serde_json::json!("error"))
                    .locations(vec![
                        sarif::Location::builder()
                            .physical_location(
                                sarif::PhysicalLocation::builder()
                                    .artifact_location(artifact.clone())
                                    .build(),
                            )
                            .build(),
                    ])
                    .build(),
            );
        }
        for f in &r.findings {
            let physical = match &f.member {
                None => sarif::PhysicalLocation::builder()
                    .artifact_location(artifact.clone())
                    .region(
                        sarif::Region::builder()
                            .byte_offset(f.offset as i64)
                            .build(),
                    )
                    .build(),
                Some(_) => sarif::PhysicalLocation::builder()
                    .artifact_location(artifact.clone())
                    .build(),
            };
            let mut props = BTreeMap::new();
            props.insert("format".to_owned(), serde_json::json!(r.format.name()));
            props.insert("verdict".to_owned(), serde_json::json!(r.verdict));
            props.insert("offset".to_owned(), serde_json::json!(f.offset));
            if let Some(m) = &f.member {
                props.insert("member".to_owned(), serde_json::json!(m));
            }
            if let Some(i) = &f.import {
                props.insert("import".to_owned(), serde_json::json!(i));
            }
            let mut result = sarif::Result::builder()
                .rule_id(f.rule.to_owned())
                .level(level(f.severity))
                .message(
                    sarif::Message::builder()
                        .text(f.explanation.clone())
                        .build(),
                )
                .locations(vec![
                    sarif::Location::builder()
                        .physical_location(physical)
                        .build(),
                ])
                .properties(
                    sarif::PropertyBag::builder()
                        .additional_properties(props)
                        .build(),
                )
                .build();
            if let Some(i) = ids.iter().position(|(id, _, _)| id == f.rule) {
                result.rule_index = Some(i as i64);
            }
            results.push(result);
        }
    }
    let tool = render::sarif_tool(rules);
    let invocation = sarif::Invocation::builder()
        .execution_successful(notifications.is_empty())
        .tool_execution_notifications(notifications)
        .build();
    let run = sarif::Run::builder()
        .tool(tool)
        .invocations(vec![invocation])
        .results(results)
        .build();
    render::write_sarif_log(out, run)
}
