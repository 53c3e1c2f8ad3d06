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
    /// The `injection` scanner; document-level (`{"text", "label": 0|1, "kind"}`), with FPR per kind and
    /// latency.
    Injection,
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
    /// JSONL corpus: `{"text", "spans": [{"start", "end", "type"}]}` with offsets in code points, or for
    /// `injection` `{"text", "label": 0|1, "kind"?}`.
    pub corpus: PathBuf,
    /// Policy whose scanner options and threshold apply (default: the embedded policy).
    #[arg(long, env = "RAMPART_POLICY")]
    pub policy: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: EvalFormat,
    /// Direction the texts are scanned in (injection corpora of documents use `document`).
    #[arg(long, value_enum, default_value_t)]
    pub direction: crate::DirectionArg,
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
        Target::Injection => "injection",
    };
    anyhow::ensure!(
        pipeline.scanners().iter().any(|s| s.id() == scanner),
        "the policy does not enable the `{scanner}` scanner"
    );
    if let Target::Injection = args.target {
        return run_binary(&args, &pipeline, scanner);
    }
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

/// Document-level evaluation: a text is flagged when the scanner reports anything at or above the policy
/// threshold; latency covers the whole pipeline call, views and decoding included.
fn run_binary(
    args: &EvalArgs,
    pipeline: &rampart_detect::Pipeline,
    scanner: &str,
) -> anyhow::Result<ExitCode> {
    use rampart_detect::eval::binary::{evaluate_binary, load_binary};
    let corpus = load_binary(&args.corpus).with_context(|| format!("{}", args.corpus.display()))?;
    let threshold = pipeline.policy().threshold;
    let direction: Direction = args.direction.into();
    let report = evaluate_binary(&corpus, |text| {
        let (findings, _) = pipeline.findings(text, direction);
        findings
            .iter()
            .any(|f| f.scanner == scanner && f.score >= threshold)
    });
    match args.format {
        EvalFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        EvalFormat::Text => {
            print!("{}", report.render_text());
            if args.verbose {
                print!("{}", report.render_errors(30));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
