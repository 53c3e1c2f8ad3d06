//! `rampart rules`: every rule with its id, category and taxonomy mapping.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

#[derive(Clone, Copy, Default, ValueEnum)]
pub enum RulesFormat {
    /// One line per rule.
    #[default]
    Text,
    /// A JSON array.
    Json,
    /// A Markdown table (for docs/rules.md).
    Markdown,
}

#[derive(Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: RulesFormat,
}

pub fn run(args: RulesArgs) -> anyhow::Result<ExitCode> {
    let rules = rampart_detect::all_rules()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        RulesFormat::Json => {
            let items: Vec<serde_json::Value> = rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "name": r.name, "entity": r.entity, "class": r.category.name(),
                        "category": r.category.owasp(), "atlas": r.category.atlas(), "nist": r.category.nist(),
                        "severity": r.severity, "description": r.description,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &items)?;
            writeln!(out)?;
        }
        RulesFormat::Text => {
            for r in &rules {
                writeln!(
                    out,
                    "{:<8} {:<40} {:<16} {:<9} {}",
                    r.id,
                    r.name,
                    r.category.name(),
                    r.severity.name(),
                    r.category.owasp_id()
                )?;
            }
            writeln!(out, "{} rules", rules.len())?;
        }
        RulesFormat::Markdown => {
            writeln!(
                out,
                "| id | name | entity | category | severity | OWASP LLM 2025 | ATLAS | description |"
            )?;
            writeln!(out, "|---|---|---|---|---|---|---|---|")?;
            for r in &rules {
                writeln!(
                    out,
                    "| {} | `{}` | {} | {} | {} | {} | {} | {} |",
                    r.id,
                    r.name,
                    r.entity.as_deref().unwrap_or(""),
                    r.category.name(),
                    r.severity.name(),
                    r.category.owasp_id(),
                    r.category.atlas().join(", "),
                    r.description.replace('|', "\\|")
                )?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
