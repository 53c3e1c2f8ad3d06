//! `rampart eval`: detection quality on a labelled corpus.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use rampart_core::Direction;
use rampart_detect::eval::{Corpus, EvalOptions, evaluate};

#[derive(Clone, Copy, ValueEnum)]
pub enum Target {
    /// The `pii` scanner; span-level, per entity type.
    Pii,
    /// The `secrets` scanner; span-level, per secret family.
    Secrets,
}

#[derive(Clone, Copy, Default, ValueEnum)]
pub enum EvalFormat {
    /// An aligned table.
    #[default]
    Text,
    /// `{"overall": {...}, "per_type": {...}}`.
    Json,
}

#[derive(Args)]
pub struct EvalArgs {
    /// Which detector to evaluate.
    #[arg(value_enum)]
    pub target: Target,
    /// JSONL corpus: `{"text", "spans": [{"start", "end", "type"}]}`, offsets in code points.
    pub corpus: PathBuf,
    /// Policy whose scanner options and threshold apply (default: the embedded policy).
    #[arg(long, env = "RAMPART_POLICY")]
    pub policy: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: EvalFormat,
    /// Only these gold types are scored (comma-separated); others are ignored.
    #[arg(long, value_delimiter = ',')]
    pub types: Option<Vec<String>>,
    /// Also print the first misses and false positives.
    #[arg(long)]
    pub verbose: bool,
}

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let pipeline = crate::load_pipeline(args.policy.as_ref())?;
    let scanner = match args.target {
        Target::Pii => "pii",
        Target::Secrets => "secrets",
    };
    anyhow::ensure!(
        pipeline.scanners().iter().any(|s| s.id() == scanner),
        "the policy does not enable the `{scanner}` scanner"
    );
    let corpus =
        Corpus::load(&args.corpus).with_context(|| format!("{}", args.corpus.display()))?;
    let threshold = pipeline.policy().threshold;
    let options = EvalOptions {
        types: args.types.clone(),
        max_examples: if args.verbose { 30 } else { 0 },
    };
    let report = evaluate(&corpus, &options, |text| {
        let (mut findings, _) = pipeline.findings(text, Direction::Input);
        findings.retain(|f| f.scanner == scanner && f.score >= threshold);
        findings
    });
    match args.format {
        EvalFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        EvalFormat::Text => {
            print!("{}", report.render_text());
            if args.verbose {
                print!("{}", report.render_examples());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
