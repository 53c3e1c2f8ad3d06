//! `rampart audit verify|tail|search`: read the gateway's tamper-evident audit log (never writes it).

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use rampart_gateway::audit::{
    Anchor, AuditBackend, AuditReader, SearchFilter, StoredRecord, VerifyReport,
};
use rampart_gateway::parse_duration;

use crate::cmd_keys::{Settings, StoreArgs, StoreFormat, days_from_civil, unix_now};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain. Exit 0: intact; 1: tampered (each problem listed); 2: error.
    Verify(VerifyArgs),
    /// Print the most recent records, oldest first.
    Tail(TailArgs),
    /// Find records by key, action, rule, model or time (all given filters must match).
    Search(SearchArgs),
}

#[derive(Args)]
pub struct VerifyArgs {
    /// A hash kept outside the database from an earlier verify (`SEQ:HASH`, as printed); detects a cut
    /// tail or a rewritten chain. Repeatable.
    #[arg(long = "anchor", value_name = "SEQ:HASH")]
    anchors: Vec<String>,
    #[command(flatten)]
    source: SourceArgs,
}

#[derive(Args)]
pub struct TailArgs {
    /// How many records.
    #[arg(short = 'n', long = "lines", default_value_t = 20)]
    n: usize,
    #[command(flatten)]
    source: SourceArgs,
}

#[derive(Args)]
pub struct SearchArgs {
    /// Key id (the part between `rk-` and `_`).
    #[arg(long = "key", value_name = "ID")]
    key_id: Option<String>,
    /// allow, redact, block or error.
    #[arg(long)]
    action: Option<String>,
    /// A finding's rule id, e.g. secrets.github-pat.
    #[arg(long)]
    rule: Option<String>,
    /// Model name as requested.
    #[arg(long)]
    model: Option<String>,
    /// Records from this far back (24h, 7d) or since a UTC date or time (2025-06-01, 2025-06-01T12:00:00Z).
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// The most recent N matches; 0 for all.
    #[arg(long, default_value_t = 100)]
    limit: usize,
    #[command(flatten)]
    source: SourceArgs,
}

/// Which audit log to read.
#[derive(Args)]
pub struct SourceArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Read the PostgreSQL backend at this URL instead of `<data-dir>/audit.db` (overrides the config's
    /// `[audit]`). Needs a build with the `postgres` feature.
    #[arg(
        long,
        value_name = "URL",
        env = "RAMPART_AUDIT_POSTGRES_URL",
        hide_env_values = true
    )]
    postgres_url: Option<String>,
    /// PostgreSQL table-name prefix [default: the config's, else rampart_].
    #[arg(long, value_name = "PREFIX")]
    table_prefix: Option<String>,
}

impl SourceArgs {
    fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = self.store.settings()?;
        if let Some(url) = &self.postgres_url {
            settings.audit.backend = AuditBackend::Postgres;
            settings.audit.url = Some(url.clone());
        }
        if let Some(prefix) = &self.table_prefix {
            settings.audit.table_prefix.clone_from(prefix);
        }
        Ok(settings)
    }

    /// "sqlite DIR/audit.db" or "postgres" (never the URL, which may hold a password).
    fn describe(settings: &Settings) -> String {
        match settings.audit.backend {
            AuditBackend::Sqlite => {
                format!("sqlite {}", settings.data_dir.join("audit.db").display())
            }
            AuditBackend::Postgres => format!(
                "postgres (tables {}audit_log, {}audit_head)",
                settings.audit.table_prefix, settings.audit.table_prefix
            ),
        }
    }
}

pub fn run(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        match cmd {
            AuditCommand::Verify(args) => verify(args).await,
            AuditCommand::Tail(args) => tail(args).await,
            AuditCommand::Search(args) => search(args).await,
        }
    })
}

async fn open(source: &SourceArgs) -> anyhow::Result<(AuditReader, Settings)> {
    let settings = source.settings()?;
    let reader = AuditReader::open(&settings.audit, &settings.data_dir)
        .await
        .with_context(|| {
            format!(
                "opening the audit log ({})",
                SourceArgs::describe(&settings)
            )
        })?;
    Ok((reader, settings))
}

async fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let anchors = args
        .anchors
        .iter()
        .map(|a| a.parse::<Anchor>())
        .collect::<Result<Vec<_>, _>>()?;
    let (reader, settings) = open(&args.source).await?;
    let report = reader.verify_anchored(&anchors).await?;
    match args.source.store.format {
        StoreFormat::Json => {
            let mut v = serde_json::to_value(&report)?;
            v["source"] = SourceArgs::describe(&settings).into();
            println!("{v}");
        }
        StoreFormat::Text => print_report(&report, &SourceArgs::describe(&settings)),
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_report(report: &VerifyReport, source: &str) {
    println!("audit log: {source}");
    println!(
        "records: {}, head: seq {} hash {}",
        report.records, report.head_seq, report.head_hash
    );
    for p in &report.problems {
        println!("{p}");
    }
    if report.ok {
        println!("OK: the hash chain is intact.");
        println!(
            "Keep this anchor elsewhere to detect later truncation or rewriting: --anchor {}:{}",
            report.head_seq, report.head_hash
        );
    } else {
        println!(
            "TAMPERED: {} problem(s) found in {} record(s).",
            report.problems.len(),
            report.records
        );
    }
}

async fn tail(args: TailArgs) -> anyhow::Result<ExitCode> {
    let (reader, _) = open(&args.source).await?;
    let records = reader.tail(args.n).await?;
    print_records(&records, args.source.store.format)?;
    Ok(ExitCode::SUCCESS)
}

async fn search(args: SearchArgs) -> anyhow::Result<ExitCode> {
    let since_ms = args
        .since
        .as_deref()
        .map(|s| parse_since(s, unix_now()))
        .transpose()?;
    let filter = SearchFilter {
        key_id: args.key_id,
        action: args.action,
        rule: args.rule,
        model: args.model,
        since_ms,
        limit: args.limit,
    };
    let (reader, _) = open(&args.source).await?;
    let records = reader.search(&filter).await?;
    print_records(&records, args.source.store.format)?;
    Ok(ExitCode::SUCCESS)
}

fn print_records(records: &[StoredRecord], format: StoreFormat) -> anyhow::Result<()> {
    for r in records {
        match format {
            StoreFormat::Json => println!("{}", serde_json::to_string(r)?),
            StoreFormat::Text => println!("{}", record_line(r)),
        }
    }
    Ok(())
}

/// `#12 2025-06-01T10:00:00.123Z block 403 key=ab12cd34 role=dev model=gpt-4o /v1/chat/completions
/// rules=secrets.github-pat 12.5ms reason="secret in prompt"`
fn record_line(r: &StoredRecord) -> String {
    let rec = &r.record;
    let mut line = format!(
        "#{} {} {} {}",
        r.seq,
        utc_ms(rec.ts_ms),
        rec.action,
        rec.status
    );
    for (label, value) in [
        ("key", &rec.key_id),
        ("role", &rec.role),
        ("model", &rec.model),
    ] {
        if let Some(v) = value {
            line.push_str(&format!(" {label}={}", printable(v)));
        }
    }
    line.push(' ');
    line.push_str(&printable(&rec.endpoint));
    if !rec.findings.is_empty() {
        let mut rules: Vec<&str> = rec.findings.iter().map(|f| f.rule.as_str()).collect();
        rules.dedup();
        line.push_str(&format!(" rules={}", printable(&rules.join(","))));
    }
    line.push_str(&format!(" {:.1}ms", rec.latency_ms));
    if let Some(reason) = &rec.reason {
        line.push_str(&format!(" reason={reason:?}"));
    }
    line
}

/// Model names and the like come from clients: escape control characters so a record cannot drive the
/// terminal that displays it.
fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds.
fn utc_ms(ms: i64) -> String {
    let secs = crate::cmd_keys::utc(ms.div_euclid(1_000));
    format!(
        "{}.{:03}Z",
        secs.trim_end_matches('Z'),
        ms.rem_euclid(1_000)
    )
}

/// `--since`: a duration back from `now` (unix seconds), or `YYYY-MM-DD[THH:MM[:SS]][Z]` in UTC.
/// Returns unix milliseconds.
fn parse_since(s: &str, now: i64) -> anyhow::Result<i64> {
    if s.trim().ends_with(['s', 'm', 'h', 'd', 'w']) && !s.contains('-') {
        let d = parse_duration(s)?;
        let back = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        return Ok(now.saturating_sub(back).saturating_mul(1_000));
    }
    let bad = || {
        anyhow::anyhow!(
            "--since `{s}`: expected a duration (24h, 7d) or a UTC date/time (2025-06-01, 2025-06-01T12:00:00Z)"
        )
    };
    let t = s.trim().trim_end_matches('Z');
    let (date, time) = match t.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (t, None),
    };
    let num = |p: Option<&str>, max: u32| -> Option<u32> {
        let p = p?;
        if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok().filter(|&v| v <= max)
    };
    let mut parts = date.split('-');
    let year = num(parts.next(), 9_999).ok_or_else(bad)?;
    let month = num(parts.next(), 12).filter(|&m| m >= 1).ok_or_else(bad)?;
    let day = num(parts.next(), 31).filter(|&d| d >= 1).ok_or_else(bad)?;
    if parts.next().is_some() {
        return Err(bad());
    }
    let (mut hh, mut mm, mut ss) = (0, 0, 0);
    if let Some(time) = time {
        let mut parts = time.split(':');
        hh = num(parts.next(), 23).ok_or_else(bad)?;
        mm = num(parts.next(), 59).ok_or_else(bad)?;
        ss = match parts.next() {
            Some(p) => num(Some(p), 60).ok_or_else(bad)?,
            None => 0,
        };
        if parts.next().is_some() {
            return Err(bad());
        }
    }
    let days = days_from_civil(i64::from(year), month, day);
    // Reject dates like 2025-02-30, which would silently roll over.
    if crate::cmd_keys::civil_from_days(days) != (i64::from(year), month, day) {
        return Err(bad());
    }
    let secs = days * 86_400 + i64::from(hh) * 3_600 + i64::from(mm) * 60 + i64::from(ss);
    Ok(secs * 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_durations_and_utc_dates() {
        let now = 1_700_000_000;
        assert_eq!(parse_since("1h", now).unwrap(), (now - 3_600) * 1_000);
        assert_eq!(parse_since("7d", now).unwrap(), (now - 604_800) * 1_000);
        assert_eq!(parse_since("1970-01-02", now).unwrap(), 86_400_000);
        assert_eq!(
            parse_since("2023-11-14T22:13:20Z", now).unwrap(),
            1_700_000_000_000
        );
        assert_eq!(
            parse_since("2023-11-14 22:13", now).unwrap(),
            1_699_999_980_000
        );
        for bad in [
            "yesterday",
            "2025-02-30",
            "2025-13-01",
            "2025-1",
            "2025-01-01T25:00",
            "2025-01-01T10:00:00:00",
            "0h",
        ] {
            assert!(parse_since(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn record_line_names_the_decision() {
        let r = StoredRecord {
            seq: 12,
            prev_hash: String::new(),
            hash: String::new(),
            record: rampart_gateway::audit::AuditRecord {
                ts_ms: 1_700_000_000_123,
                key_id: Some("ab12cd34".into()),
                model: Some("gpt-4o".into()),
                endpoint: "/v1/chat/completions".into(),
                action: "block".into(),
                status: 403,
                latency_ms: 12.5,
                reason: Some("secret in prompt".into()),
                ..Default::default()
            },
        };
        let mut hostile = r.clone();
        hostile.record.model = Some("gpt\u{1b}[2J".into());
        assert!(record_line(&hostile).contains("model=gpt\\u{1b}[2J "));
        assert_eq!(
            record_line(&r),
            "#12 2023-11-14T22:13:20.123Z block 403 key=ab12cd34 model=gpt-4o /v1/chat/completions 12.5ms reason=\"secret in prompt\""
        );
    }
}
