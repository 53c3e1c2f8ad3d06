//! `rampart policy init|check`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Print the embedded default policy followed by every scanner option with its default.
    Init,
    /// Load a policy file and build its scanners; report the first problem.
    Check {
        /// Policy file.
        path: PathBuf,
    },
}

pub fn run(cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Init => {
            print!("{}", rampart_detect::DEFAULT_POLICY_TOML);
            println!(
                "\n# Every scanner option, with its default. Copy what you need into [scanners.ID]."
            );
            for spec in rampart_detect::SCANNERS {
                println!("#\n# [scanners.{}]", spec.id);
                for line in spec.example_config.lines().filter(|l| !l.trim().is_empty()) {
                    println!("# {line}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Check { path } => {
            let pipeline =
                crate::load_pipeline(Some(&path)).with_context(|| format!("{}", path.display()))?;
            let ids: Vec<&str> = pipeline.scanners().iter().map(|s| s.id()).collect();
            let rules: usize = pipeline.scanners().iter().map(|s| s.rules().len()).sum();
            println!(
                "{}: ok (policy `{}`, scanners: {}, {rules} rules)",
                path.display(),
                pipeline.policy().name,
                ids.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
