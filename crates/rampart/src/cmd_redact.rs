//! `rampart redact` and `rampart restore`: reversible anonymisation from the command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use rampart_core::Direction;
use rampart_vault::{Key, Vault};

use crate::DirectionArg;
use crate::input::{self, Source};

const CHUNK_BYTES: usize = 1 << 20;

#[derive(Args)]
pub struct RedactArgs {
    /// Input file; `-` or nothing reads stdin.
    pub path: Option<PathBuf>,
    /// Policy file (TOML); its `[redact]` table chooses operators per entity.
    #[arg(long, env = "RAMPART_POLICY")]
    pub policy: Option<PathBuf>,
    /// Which way the text flows.
    #[arg(long, value_enum, default_value_t)]
    pub direction: DirectionArg,
    /// Store the placeholder mapping here, encrypted, so `rampart restore` can undo the redaction.
    #[arg(long)]
    pub vault: Option<PathBuf>,
    /// Environment variable with the vault key (64 hex chars or a passphrase of 16+ bytes). When it is
    /// unset, a new key is generated and written next to the vault as FILE.key (mode 0600).
    #[arg(long, default_value = "RAMPART_VAULT_KEY")]
    pub key_env: String,
    /// Print what was replaced to stderr (entity, rule, placeholder), never the values.
    #[arg(long)]
    pub report: bool,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// Text carrying placeholders; `-` or nothing reads stdin.
    pub path: Option<PathBuf>,
    /// The vault written by `rampart redact --vault`.
    #[arg(long)]
    pub vault: PathBuf,
    /// Environment variable with the vault key; falls back to FILE.key next to the vault.
    #[arg(long, default_value = "RAMPART_VAULT_KEY")]
    pub key_env: String,
}

fn source(path: Option<&PathBuf>) -> Source {
    match path {
        Some(p) if p.as_os_str() != "-" => Source::File(p.clone()),
        _ => Source::Stdin,
    }
}

fn key_file(vault: &Path) -> PathBuf {
    let mut name = vault.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// The vault key: from the environment, else from FILE.key, else (when `create`) a new key saved there.
fn vault_key(vault: &Path, key_env: &str, create: bool) -> anyhow::Result<Key> {
    if let Ok(secret) = std::env::var(key_env) {
        return Key::from_secret(&secret).with_context(|| format!("${key_env}"));
    }
    let path = key_file(vault);
    match std::fs::read_to_string(&path) {
        Ok(hex) => {
            Key::from_secret(hex.trim()).with_context(|| format!("key file {}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let key = Key::generate().context("generating a vault key")?;
            write_private(&path, format!("{}\n", key.to_hex()).as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "rampart: note: ${key_env} is not set; generated a key in {} (keep it apart from the vault in production)",
                path.display()
            );
            Ok(key)
        }
        Err(e) => bail!(
            "no vault key: set ${key_env} or provide {} ({e})",
            path.display()
        ),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(bytes)
}

pub fn redact(args: RedactArgs) -> anyhow::Result<ExitCode> {
    let pipeline = crate::load_pipeline(args.policy.as_ref())?;
    let direction: Direction = args.direction.into();
    // Resolve the key before reading input, so a missing key fails before any work.
    let key = match &args.vault {
        Some(v) => Some(vault_key(v, &args.key_env, true)?),
        None => None,
    };
    let src = source(args.path.as_ref());
    let overlap = pipeline
        .max_span()
        .map_or(64 << 10, |m| m + 64)
        .min(CHUNK_BYTES / 2);
    let mut vault = Vault::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut io_err = None;
    let mut count = 0usize;
    let stats = input::read_chunks(
        src.open().with_context(|| src.display())?,
        CHUNK_BYTES,
        |chunk| {
            let text = chunk.text;
            let findings = pipeline.redaction_targets(text, direction);
            // Commit everything except the overlap tail, extended past any finding that straddles it.
            let mut commit = if chunk.is_last {
                text.len()
            } else {
                floor(text, text.len().saturating_sub(overlap))
            };
            for f in &findings {
                if f.span.start < commit {
                    commit = commit.max(f.span.end);
                }
            }
            let commit = floor(text, commit);
            let part: Vec<_> = findings
                .into_iter()
                .filter(|f| f.span.end <= commit)
                .collect();
            let redacted = pipeline.anonymize(&text[..commit], &part, &mut vault);
            if args.report {
                for f in &part {
                    eprintln!(
                        "rampart: redacted {} {} ({}) at bytes {}..{}",
                        f.rule,
                        f.name,
                        f.entity.as_deref().unwrap_or("-"),
                        chunk.offset + f.span.start as u64,
                        chunk.offset + f.span.end as u64
                    );
                }
            }
            count += part.len();
            if let Err(e) = out.write_all(redacted.as_bytes())
                && io_err.is_none()
            {
                io_err = Some(e);
            }
            commit.max(1.min(text.len()))
        },
    )?;
    if let Some(e) = io_err {
        return Err(e.into());
    }
    out.flush()?;
    if stats.binary {
        bail!(
            "{}: binary input (NUL byte in the first 8 KiB); nothing redacted",
            src.display()
        );
    }
    if let (Some(path), Some(key)) = (&args.vault, &key) {
        vault
            .save(path, key)
            .with_context(|| format!("writing vault {}", path.display()))?;
        eprintln!(
            "rampart: {count} value(s) redacted; vault written to {}",
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let key = vault_key(&args.vault, &args.key_env, false)?;
    let vault = Vault::load(&args.vault, &key, None)
        .with_context(|| format!("opening vault {}", args.vault.display()))?;
    let src = source(args.path.as_ref());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut io_err = None;
    let hold = vault.max_placeholder_len();
    input::read_chunks(
        src.open().with_context(|| src.display())?,
        CHUNK_BYTES,
        |chunk| {
            let text = chunk.text;
            // Keep back a trailing '<' that may start a placeholder completed by the next chunk.
            let mut commit = text.len();
            if !chunk.is_last
                && let Some(lt) = text[text.len().saturating_sub(hold)..].rfind('<')
            {
                let at = text.len().saturating_sub(hold) + lt;
                if !text[at..].contains('>') {
                    commit = floor(text, at);
                }
            }
            if commit == 0 {
                commit = text.len();
            }
            if let Err(e) = out.write_all(vault.restore(&text[..commit]).as_bytes())
                && io_err.is_none()
            {
                io_err = Some(e);
            }
            commit
        },
    )?;
    if let Some(e) = io_err {
        return Err(e.into());
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
