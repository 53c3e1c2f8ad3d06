//! `rampart bom PATH` (write an AI bill of materials) and `rampart bom check` (approval policy).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use rampart_supply::FileReport;
use rampart_supply::bom::{self, BomOptions, policy};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BomArgs {
    #[command(subcommand)]
    pub command: Option<BomCommand>,
    /// Project folder (or single model file) to describe.
    #[arg(required = true)]
    pub path: Option<PathBuf>,
    /// Write the BOM to this file instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: BomFormat,
    /// Same files, same bytes: derive the serial number from the content and take the timestamp from
    /// SOURCE_DATE_EPOCH (left out when unset). Setting SOURCE_DATE_EPOCH alone also fixes both.
    #[arg(long)]
    pub reproducible: bool,
}

/// `--format` of `rampart bom`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum BomFormat {
    /// CycloneDX 1.6 JSON.
    #[default]
    Cyclonedx,
}

#[derive(Subcommand)]
pub enum BomCommand {
    /// Check a CycloneDX BOM against an approval policy (TOML; see docs/bom.md).
    ///
    /// Exit codes: 0 the BOM passes, 1 it breaks the policy, 2 error (unreadable or invalid policy or BOM).
    Check(CheckArgs),
}

#[derive(Args)]
pub struct CheckArgs {
    /// Approval policy file.
    #[arg(long)]
    pub policy: PathBuf,
    /// CycloneDX JSON BOM to check; `-` reads stdin.
    pub bom: PathBuf,
    /// Report format.
    #[arg(long, value_enum, default_value_t)]
    pub format: CheckFormat,
}

/// `--format` of `rampart bom check`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// One line per violation and a summary.
    #[default]
    Text,
    /// One JSON object: `passed`, counts and `violations` (docs/bom.md).
    Json,
}

pub fn run(args: BomArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(BomCommand::Check(c)) => check(c),
        None => {
            let path = args.path.context("a path to describe is required")?;
            generate(
                &path,
                args.output.as_deref(),
                args.format,
                args.reproducible,
            )
        }
    }
}

fn source_date_epoch() -> anyhow::Result<Option<i64>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => {
            v.trim().parse::<i64>().map(Some).with_context(|| {
                format!("SOURCE_DATE_EPOCH={v:?} is not a whole number of seconds")
            })
        }
        Err(_) => Ok(None),
    }
}

/// The model verdict injected into the BOM. The model scanner (`rampart model scan`) is not part of this
/// build yet, so model files are recorded as `not-scanned`.
fn scan(_path: &Path) -> Option<FileReport> {
    None
}

fn generate(
    path: &Path,
    output: Option<&Path>,
    format: BomFormat,
    reproducible: bool,
) -> anyhow::Result<ExitCode> {
    let opts = BomOptions {
        reproducible,
        source_date_epoch: source_date_epoch()?,
        ..BomOptions::default()
    };
    let generated = bom::generate(path, &opts, &scan)
        .with_context(|| format!("describing {}", path.display()))?;
    for w in &generated.warnings {
        eprintln!("rampart: warning: {}: {}", w.path, w.message);
    }
    let mut text = match format {
        BomFormat::Cyclonedx => serde_json::to_string_pretty(&generated.bom)?,
    };
    text.push('\n');
    match output {
        Some(out) => {
            std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let policy_text = std::fs::read_to_string(&args.policy)
        .with_context(|| format!("reading policy {}", args.policy.display()))?;
    let policy = policy::Policy::from_toml(&policy_text)
        .with_context(|| format!("{}", args.policy.display()))?;
    let (label, bom_text) = if args.bom.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut s)
            .context("reading the BOM from stdin")?;
        ("<stdin>".to_owned(), s)
    } else {
        let s = std::fs::read_to_string(&args.bom)
            .with_context(|| format!("reading {}", args.bom.display()))?;
        (args.bom.display().to_string(), s)
    };
    if bom_text.trim().is_empty() {
        bail!("{label}: empty BOM");
    }
    let bom = policy::read_bom(&bom_text).with_context(|| label.clone())?;
    let report = policy::check(&bom, &policy);
    let mut stdout = std::io::stdout().lock();
    match args.format {
        CheckFormat::Text => stdout.write_all(report.to_text(&label).as_bytes())?,
        CheckFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &report)?;
            stdout.write_all(b"\n")?;
        }
    }
    stdout.flush()?;
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
