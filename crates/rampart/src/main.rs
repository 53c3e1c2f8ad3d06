//! The `rampart` command: argument parsing and wiring only. Logic lives in the library crates.

mod cmd_audit;
mod cmd_bom;
mod cmd_eval;
mod cmd_keys;
mod cmd_model;
mod cmd_policy;
mod cmd_redact;
mod cmd_rules;
mod cmd_scan;
mod cmd_serve;
mod input;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use rampart_core::{Direction, Policy};
use rampart_detect::Pipeline;

/// Rampart: a security platform for generative AI.
///
/// Exit codes: 0 clean, 1 findings at or above the policy threshold that it redacts or blocks, 2 error.
#[derive(Parser)]
#[command(name = "rampart", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan files, directories (recursively) or stdin for secrets, PII and hidden Unicode.
    Scan(cmd_scan::ScanArgs),
    /// Print the input with sensitive values replaced; `--vault` keeps what is needed to restore them.
    Redact(cmd_redact::RedactArgs),
    /// Put the originals back into text that carries placeholders from `rampart redact --vault`.
    Restore(cmd_redact::RestoreArgs),
    /// Measure precision, recall and F1 of a detector on a labelled JSONL corpus.
    Eval(cmd_eval::EvalArgs),
    /// List every detection rule with its id, category and taxonomy mapping.
    Rules(cmd_rules::RulesArgs),
    /// Print or check policies.
    #[command(subcommand)]
    Policy(cmd_policy::PolicyCommand),
    /// Create, list and revoke the gateway's virtual API keys.
    #[command(subcommand)]
    Keys(cmd_keys::KeysCommand),
    /// Verify, tail and search the gateway's tamper-evident audit log.
    #[command(subcommand)]
    Audit(cmd_audit::AuditCommand),
    /// Write a CycloneDX 1.6 AI bill of materials for a project (`rampart bom PATH -o bom.json`), or check one
    /// against an approval policy (`rampart bom check --policy approved.toml bom.json`).
    Bom(cmd_bom::BomArgs),
    /// Model files: `rampart model scan` finds code that runs when a model is loaded.
    #[command(subcommand)]
    Model(cmd_model::ModelCommand),
    /// Run the gateway: an OpenAI-compatible proxy that authenticates, limits, scans and audits.
    Serve(cmd_serve::ServeArgs),
    /// Run the scripted mock upstream (for load tests and end-to-end tests).
    #[command(hide = true)]
    MockUpstream(cmd_serve::MockArgs),
}

/// Output format shared by the commands that report findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable diagnostics.
    #[default]
    Text,
    /// One JSON object per input (JSON Lines).
    Json,
    /// One SARIF 2.1.0 log for all inputs.
    Sarif,
}

/// `--direction` values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DirectionArg {
    /// A prompt on its way to a model.
    #[default]
    Input,
    /// A model's answer.
    Output,
    /// Retrieved documents, web pages, tool results.
    Document,
}

impl From<DirectionArg> for Direction {
    fn from(d: DirectionArg) -> Direction {
        match d {
            DirectionArg::Input => Direction::Input,
            DirectionArg::Output => Direction::Output,
            DirectionArg::Document => Direction::Document,
        }
    }
}

/// Loads the policy file, or the embedded default, and builds its pipeline.
pub fn load_pipeline(path: Option<&PathBuf>) -> anyhow::Result<Pipeline> {
    let policy = match path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading policy {}", p.display()))?;
            Policy::from_toml(&text).with_context(|| format!("policy {}", p.display()))?
        }
        None => rampart_detect::default_policy(),
    };
    Pipeline::from_policy(policy).context("building the policy's scanners")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => cmd_scan::run(args),
        Command::Redact(args) => cmd_redact::redact(args),
        Command::Restore(args) => cmd_redact::restore(args),
        Command::Eval(args) => cmd_eval::run(args),
        Command::Rules(args) => cmd_rules::run(args),
        Command::Policy(cmd) => cmd_policy::run(cmd),
        Command::Keys(cmd) => cmd_keys::run(cmd),
        Command::Audit(cmd) => cmd_audit::run(cmd),
        Command::Bom(args) => cmd_bom::run(args),
        Command::Model(cmd) => cmd_model::run(cmd),
        Command::Serve(args) => cmd_serve::run(args),
        Command::MockUpstream(args) => cmd_serve::mock_upstream(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rampart: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
