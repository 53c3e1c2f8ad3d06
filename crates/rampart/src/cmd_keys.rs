//! `rampart keys create|list|revoke`: the gateway's virtual API keys. Also the data-directory and
//! config options `rampart audit` shares.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use rampart_gateway::audit::AuditConfig;
use rampart_gateway::{KeyInfo, KeyStore, parse_duration};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it once: only its hash is stored.
    Create(CreateArgs),
    /// List keys (ids and state, never the keys).
    List(StoreArgs),
    /// Revoke a key; running gateways refuse it from their next request on.
    Revoke {
        /// The key's id (the part between `rk-` and `_`).
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Args)]
pub struct CreateArgs {
    /// Gateway role whose policy, models and limits apply to requests with this key.
    #[arg(long)]
    role: String,
    /// Label for people, e.g. "ci-bot".
    #[arg(long)]
    name: Option<String>,
    /// Lifetime: 45s, 90m, 12h, 30d, 2w. Default: no expiry.
    #[arg(long, value_name = "DURATION")]
    expires: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
}

/// Where the gateway keeps its state, and how to print.
#[derive(Args)]
pub struct StoreArgs {
    /// Gateway data directory (rampart.db, audit.db) [default: `data_dir` from --config, else ./rampart-data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Gateway config file (TOML): its `data_dir`, `[audit]` section and role names are used.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = StoreFormat::Text)]
    pub format: StoreFormat,
}

/// `--format` of the key and audit commands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum StoreFormat {
    /// Human-readable.
    #[default]
    Text,
    /// JSON: one object per key or record (JSON Lines); `audit verify` prints one report object.
    Json,
}

/// What the commands take from `--data-dir` and `--config`.
pub(crate) struct Settings {
    pub data_dir: PathBuf,
    pub audit: AuditConfig,
    /// Role names under `[roles]`, when the config has such a table.
    pub roles: Option<Vec<String>>,
}

impl StoreArgs {
    /// Reads only the keys these commands need from the gateway config, so they work with any config
    /// the gateway accepts.
    pub(crate) fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = Settings {
            data_dir: PathBuf::from("./rampart-data"),
            audit: AuditConfig::default(),
            roles: None,
        };
        if let Some(path) = &self.config {
            // The gateway's own loader: the same validation, defaults and relative-path rules as
            // `rampart serve --config`, so both commands agree on data_dir, [audit] and the roles.
            let config = rampart_gateway::GatewayConfig::load(path)
                .with_context(|| format!("config {}", path.display()))?;
            settings.data_dir = config.data_dir.clone();
            settings.roles = Some(config.effective_roles().into_keys().collect());
            settings.audit = config.audit;
        }
        if let Some(dir) = &self.data_dir {
            settings.data_dir.clone_from(dir);
        }
        Ok(settings)
    }
}

pub fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::Create(args) => create(args),
        KeysCommand::List(store) => list(&store),
        KeysCommand::Revoke { id, store } => revoke(&id, &store),
    }
}

fn open(settings: &Settings) -> anyhow::Result<KeyStore> {
    KeyStore::open(&settings.data_dir)
        .with_context(|| format!("opening the key store in {}", settings.data_dir.display()))
}

fn create(args: CreateArgs) -> anyhow::Result<ExitCode> {
    let settings = args.store.settings()?;
    if let Some(roles) = &settings.roles
        && !roles.contains(&args.role)
    {
        anyhow::bail!(
            "role `{}` is not defined in the config (roles: {})",
            args.role,
            roles.join(", ")
        );
    }
    let expires = args.expires.as_deref().map(parse_duration).transpose()?;
    let store = open(&settings)?;
    let (info, key) = store.create(&args.role, args.name.as_deref(), expires)?;
    match args.store.format {
        StoreFormat::Json => {
            let mut v = key_json(&info)?;
            v["key"] = key.into();
            println!("{v}");
        }
        StoreFormat::Text => {
            println!("key:     {key}");
            println!("id:      {}", info.id);
            println!("role:    {}", info.role);
            if let Some(name) = &info.name {
                println!("name:    {name}");
            }
            println!(
                "expires: {}",
                info.expires_at.map_or_else(|| "never".to_string(), utc)
            );
            eprintln!("Store the key now: Rampart keeps only its hash and cannot show it again.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(args: &StoreArgs) -> anyhow::Result<ExitCode> {
    let settings = args.settings()?;
    let keys = open(&settings)?.list()?;
    match args.format {
        StoreFormat::Json => {
            for k in &keys {
                println!("{}", key_json(k)?);
            }
        }
        StoreFormat::Text => {
            if keys.is_empty() {
                eprintln!("no keys in {}", settings.data_dir.display());
                return Ok(ExitCode::SUCCESS);
            }
            let now = unix_now();
            let rows: Vec<[String; 6]> = keys
                .iter()
                .map(|k| {
                    [
                        k.id.clone(),
                        k.role.clone(),
                        status(k, now).to_string(),
                        utc(k.created_at),
                        k.expires_at.map_or_else(|| "never".into(), utc),
                        k.name.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let header = ["ID", "ROLE", "STATUS", "CREATED", "EXPIRES", "NAME"].map(String::from);
            let mut widths = [0usize; 6];
            for row in std::iter::once(&header).chain(&rows) {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            for row in std::iter::once(&header).chain(&rows) {
                let mut line = String::new();
                for (i, cell) in row.iter().enumerate() {
                    if i + 1 == row.len() {
                        line.push_str(cell);
                    } else {
                        line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
                    }
                }
                println!("{}", line.trim_end());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn revoke(id: &str, args: &StoreArgs) -> anyhow::Result<ExitCode> {
    let settings = args.settings()?;
    let store = open(&settings)?;
    let revoked = store.revoke(id)?;
    let Some(info) = store.get(id)? else {
        eprintln!("rampart: no key with id `{id}`");
        return Ok(ExitCode::from(1));
    };
    match args.format {
        StoreFormat::Json => {
            let mut v = key_json(&info)?;
            v["revoked_now"] = revoked.into();
            println!("{v}");
        }
        StoreFormat::Text if revoked => println!("revoked {id}"),
        StoreFormat::Text => println!(
            "{id} was already revoked at {}",
            info.revoked_at.map_or_else(String::new, utc)
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// KeyInfo as JSON plus its `status` now.
fn key_json(info: &KeyInfo) -> anyhow::Result<serde_json::Value> {
    let mut v = serde_json::to_value(info)?;
    v["status"] = status(info, unix_now()).into();
    Ok(v)
}

fn status(info: &KeyInfo, now: i64) -> &'static str {
    if info.revoked_at.is_some() {
        "revoked"
    } else if info.is_active(now) {
        "active"
    } else {
        "expired"
    }
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Unix seconds as RFC 3339 UTC: `2025-06-01T10:00:00Z`.
pub(crate) fn utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → proleptic Gregorian (year, month, day), by 400-year eras of 146 097 days.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // shift the epoch to 0000-03-01, so leap days end each cycle
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m as u32, d as u32)
}

/// Inverse of [`civil_from_days`].
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(utc(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn civil_days_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }
}
