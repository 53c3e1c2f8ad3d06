//! The gateway's configuration: one TOML file, every key documented in `docs/config.md`.
//!
//! Every struct rejects unknown keys, so a typo fails at load time instead of silently weakening
//! protection, and every key has a default, so `rampart serve` starts without a file. Values that serde
//! cannot check (ranges, globs, URLs, references between sections) are checked by [`GatewayConfig::validate`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::audit::AuditConfig;
use crate::limits::{LimitConfig, RoleLimits};
use crate::tools::ToolPolicy;

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML, or an unknown key (the message names line and key).
    #[error("invalid configuration: {0}")]
    Parse(String),
    /// Valid TOML with a value that makes no sense; the message names the key.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The whole configuration.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Address the gateway listens on.
    pub listen: SocketAddr,
    /// Where keys (`rampart.db`) and the SQLite audit log (`audit.db`) live.
    pub data_dir: PathBuf,
    /// TLS for the listener; plain HTTP when absent.
    pub tls: Option<TlsConfig>,
    /// Connection, size and time limits for clients.
    pub server: ServerConfig,
    /// How scanning behaves: fail mode and streaming hold-back.
    pub scanning: ScanningConfig,
    /// Model providers; a request goes to the first whose `models` match its model.
    pub upstreams: Vec<UpstreamConfig>,
    /// Named policy files (`name = "path/to/policy.toml"`); `default` is built in unless given here.
    pub policies: BTreeMap<String, PathBuf>,
    /// Roles by name: what a key with that role may do.
    pub roles: BTreeMap<String, RoleConfig>,
    /// Logging.
    pub log: LogConfig,
    /// Prometheus metrics.
    pub metrics: MetricsConfig,
    /// Where the tamper-evident audit log lives.
    pub audit: AuditConfig,
    /// Where rate-limit state lives (memory or Redis); the limits themselves are per role.
    pub limits: LimitConfig,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./rampart-data"),
            tls: None,
            server: ServerConfig::default(),
            scanning: ScanningConfig::default(),
            upstreams: Vec::new(),
            policies: BTreeMap::new(),
            roles: BTreeMap::new(),
            log: LogConfig::default(),
            metrics: MetricsConfig::default(),
            audit: AuditConfig::default(),
            limits: LimitConfig::default(),
        }
    }
}

/// Listener TLS: a PEM certificate chain and its PEM private key.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain (PEM), leaf first.
    pub cert: PathBuf,
    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Limits that protect the gateway from clients.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Largest request body accepted, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Most messages in one chat or messages request (400 beyond).
    pub max_messages: usize,
    /// Time a client has to send its request headers, in milliseconds.
    pub header_read_timeout_ms: u64,
    /// Time a client has to send its request body, in milliseconds (408 beyond).
    pub body_read_timeout_ms: u64,
    /// Largest upstream response body read for a non-streaming answer, in bytes (502 beyond).
    pub max_response_bytes: usize,
    /// How long shutdown waits for in-flight requests and streams, in milliseconds.
    pub shutdown_grace_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 4 << 20,
            max_messages: 500,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 30_000,
            max_response_bytes: 32 << 20,
            shutdown_grace_ms: 30_000,
        }
    }
}

/// What happens when a scanner cannot give an answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailMode {
    /// Refuse the request (or end the stream) when scanning fails: nothing passes unscanned.
    #[default]
    Closed,
    /// Let the text through unscanned, and log and count it.
    Open,
}

/// Scanning behaviour shared by all policies.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScanningConfig {
    /// When a scanner panics or a text exceeds the policy's `limits.max_bytes`.
    pub fail_mode: FailMode,
    /// Scan model answers (whole and streamed). Off only for debugging.
    pub scan_output: bool,
    /// Streaming hold-back window, in bytes, when the policy's scanners do not bound their match length.
    pub hold_back_bytes: usize,
    /// Upper bound on the hold-back window even when the scanners give a bound.
    pub max_hold_back_bytes: usize,
    /// New streamed bytes collected before the window is scanned again; bounds the scanning work per byte.
    pub stream_scan_interval_bytes: usize,
    /// Texts at least this long are scanned on the blocking thread pool instead of a request thread.
    pub offload_bytes: usize,
}

impl Default for ScanningConfig {
    fn default() -> Self {
        ScanningConfig {
            fail_mode: FailMode::Closed,
            scan_output: true,
            hold_back_bytes: 1024,
            max_hold_back_bytes: 8192,
            stream_scan_interval_bytes: 128,
            offload_bytes: 64 << 10,
        }
    }
}

/// Which API a provider speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpstreamKind {
    /// api.openai.com (`base_url` defaults to `https://api.openai.com/v1`).
    Openai,
    /// Azure OpenAI: `base_url` is the resource (`https://NAME.openai.azure.com`); models map to deployments.
    Azure,
    /// Any server with OpenAI's API under `base_url` (vLLM, Ollama, LiteLLM, llama.cpp, ...).
    #[default]
    OpenaiCompatible,
    /// Anthropic's Messages API (`base_url` defaults to `https://api.anthropic.com/v1`); serves `/v1/messages`.
    Anthropic,
}

/// One model provider.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    /// Name used in logs, metrics and audit.
    pub name: String,
    /// API flavour.
    pub kind: UpstreamKind,
    /// Base URL up to and including the version (`https://api.openai.com/v1`); for Azure the resource URL.
    pub base_url: String,
    /// Environment variable holding the provider key (preferred to `api_key`).
    pub api_key_env: Option<String>,
    /// Provider key in clear; prefer `api_key_env`.
    pub api_key: Option<String>,
    /// Model names or globs (`gpt-4o*`) routed here.
    pub models: Vec<String>,
    /// Azure: model name → deployment name (a model without an entry uses its own name).
    pub deployments: BTreeMap<String, String>,
    /// Azure: the `api-version` query parameter.
    pub api_version: String,
    /// Anthropic: `anthropic-version` header sent when the client sends none.
    pub anthropic_version: String,
    /// Time to connect, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Time per attempt until the response headers, in milliseconds (504 beyond); reading a non-streaming
    /// body gets the same budget again.
    pub timeout_ms: u64,
    /// Longest silence between two streamed chunks, in milliseconds (the stream then ends with an error event).
    pub stream_idle_timeout_ms: u64,
    /// Retries after a connection failure, 429 or 5xx, before giving up.
    pub max_retries: u32,
    /// First retry delay in milliseconds; doubles each time, with jitter, capped by `max_backoff_ms`.
    pub retry_backoff_ms: u64,
    /// Longest delay between retries, in milliseconds (also caps an upstream's `Retry-After`).
    pub max_backoff_ms: u64,
    /// Idle connections kept per host.
    pub pool_max_idle_per_host: usize,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            name: "default".into(),
            kind: UpstreamKind::OpenaiCompatible,
            base_url: String::new(),
            api_key_env: None,
            api_key: None,
            models: vec!["*".into()],
            deployments: BTreeMap::new(),
            api_version: "2024-10-21".into(),
            anthropic_version: "2023-06-01".into(),
            connect_timeout_ms: 5_000,
            timeout_ms: 120_000,
            stream_idle_timeout_ms: 60_000,
            max_retries: 2,
            retry_backoff_ms: 250,
            max_backoff_ms: 8_000,
            pool_max_idle_per_host: 64,
        }
    }
}

impl UpstreamConfig {
    /// The base URL, with the provider's default when none is configured and no trailing slash.
    pub fn effective_base_url(&self) -> String {
        let url = if self.base_url.is_empty() {
            match self.kind {
                UpstreamKind::Openai => "https://api.openai.com/v1",
                UpstreamKind::Anthropic => "https://api.anthropic.com/v1",
                UpstreamKind::Azure | UpstreamKind::OpenaiCompatible => "",
            }
        } else {
            self.base_url.as_str()
        };
        url.trim_end_matches('/').to_owned()
    }

    /// The provider key: `api_key_env`'s value, else `api_key`. `Err` names a variable that is not set.
    pub fn resolve_key(&self) -> Result<Option<String>, ConfigError> {
        if let Some(var) = &self.api_key_env {
            return match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Some(v)),
                _ => Err(ConfigError::Invalid(format!(
                    "upstreams `{}`: api_key_env names `{var}`, which is not set",
                    self.name
                ))),
            };
        }
        Ok(self.api_key.clone())
    }
}

/// What keys with one role may do.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoleConfig {
    /// Model names or globs the role may call (`["gpt-4o-mini", "llama-*"]`); `["*"]` for any.
    pub models: Vec<String>,
    /// Name of the policy applied to this role's traffic (`default` or a key of `[policies]`).
    pub policy: String,
    /// Largest completion a request may ask for; also sent upstream when the request asks for none.
    pub max_tokens: Option<u32>,
    /// Requests per minute per key.
    pub rpm: Option<u32>,
    /// Tokens (prompt estimate + completion) per minute per key.
    pub tpm: Option<u32>,
    /// Requests in flight at once per key.
    pub max_concurrency: Option<u32>,
    /// Which tools requests may declare and call, and what their arguments may say (`docs/limits.md`).
    /// Without a `tools` table any tool is allowed; a written table allows exactly what it lists.
    pub tools: ToolPolicy,
}

impl Default for RoleConfig {
    fn default() -> Self {
        RoleConfig {
            models: vec!["*".into()],
            policy: "default".into(),
            max_tokens: None,
            rpm: None,
            tpm: None,
            max_concurrency: None,
            tools: ToolPolicy {
                allow: vec!["*".into()],
                ..ToolPolicy::default()
            },
        }
    }
}

impl RoleConfig {
    /// The role's rate limits.
    pub fn limits(&self) -> RoleLimits {
        RoleLimits {
            rpm: self.rpm,
            tpm: self.tpm,
            max_concurrency: self.max_concurrency,
        }
    }
}

/// Log output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line.
    #[default]
    Json,
    /// Human-readable lines.
    Text,
}

/// Logging.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Line format.
    pub format: LogFormat,
    /// `tracing` filter (`info`, `rampart_gateway=debug,info`); `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Json,
            level: "info".into(),
        }
    }
}

/// Prometheus metrics.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve `GET /metrics` on the listener.
    pub enabled: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { enabled: true }
    }
}

/// The role keys get when the configuration defines none: any model, the default policy, no limits.
pub const DEFAULT_ROLE: &str = "default";

impl GatewayConfig {
    /// Reads, parses and validates a configuration file. Relative paths in it (policies, TLS files, the
    /// data directory) are resolved against the file's directory.
    pub fn load(path: &Path) -> Result<GatewayConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = GatewayConfig::from_toml(&text)?;
        if let Some(dir) = path.parent() {
            config.resolve_paths(dir);
        }
        Ok(config)
    }

    /// Parses and validates TOML text; relative paths stay relative to the working directory.
    pub fn from_toml(text: &str) -> Result<GatewayConfig, ConfigError> {
        let config: GatewayConfig =
            toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn resolve_paths(&mut self, dir: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        };
        fix(&mut self.data_dir);
        for p in self.policies.values_mut() {
            fix(p);
        }
        if let Some(tls) = &mut self.tls {
            fix(&mut tls.cert);
            fix(&mut tls.key);
        }
    }

    /// The roles, with the built-in `default` role added when the file defines none of that name.
    pub fn effective_roles(&self) -> BTreeMap<String, RoleConfig> {
        let mut roles = self.roles.clone();
        roles.entry(DEFAULT_ROLE.into()).or_default();
        roles
    }

    /// Checks what serde cannot: ranges, names, references between sections.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.server.max_body_bytes == 0 {
            return bad("`server.max_body_bytes` must be positive".into());
        }
        if self.server.max_messages == 0 {
            return bad("`server.max_messages` must be positive".into());
        }
        if self.scanning.hold_back_bytes == 0 || self.scanning.max_hold_back_bytes == 0 {
            return bad(
                "`scanning.hold_back_bytes` and `scanning.max_hold_back_bytes` must be positive"
                    .into(),
            );
        }
        if self.scanning.stream_scan_interval_bytes == 0 {
            return bad("`scanning.stream_scan_interval_bytes` must be positive".into());
        }
        let mut names = std::collections::HashSet::new();
        for (i, u) in self.upstreams.iter().enumerate() {
            if !names.insert(u.name.as_str()) {
                return bad(format!("upstreams[{i}]: name `{}` is used twice", u.name));
            }
            let url = u.effective_base_url();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return bad(format!(
                    "upstreams[{i}] (`{}`): base_url must start with http:// or https://, got `{}`",
                    u.name, u.base_url
                ));
            }
            if u.models.is_empty() {
                return bad(format!(
                    "upstreams[{i}] (`{}`): models must name at least one model or glob",
                    u.name
                ));
            }
            if u.timeout_ms == 0 || u.connect_timeout_ms == 0 || u.stream_idle_timeout_ms == 0 {
                return bad(format!(
                    "upstreams[{i}] (`{}`): timeouts must be positive",
                    u.name
                ));
            }
        }
        for (name, role) in &self.roles {
            if role.policy != "default" && !self.policies.contains_key(&role.policy) {
                return bad(format!(
                    "roles.{name}.policy names `{}`, which is neither `default` nor a key of [policies]",
                    role.policy
                ));
            }
            for (key, v) in [
                ("rpm", role.rpm),
                ("tpm", role.tpm),
                ("max_concurrency", role.max_concurrency),
            ] {
                if v == Some(0) {
                    return bad(format!(
                        "roles.{name}.{key} must be positive (omit it for no limit)"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Matches `name` against a glob where `*` is any run of characters and `?` one character.
///
/// Linear-time two-pointer match with one backtrack point: a hostile model name cannot make it slow.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p = pattern.as_bytes();
    let n = name.as_bytes();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == b'?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_has_defaults() {
        let c = GatewayConfig::from_toml("").unwrap();
        assert_eq!(c.listen.port(), 8080);
        assert_eq!(c.scanning.fail_mode, FailMode::Closed);
        assert!(c.effective_roles().contains_key("default"));
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = GatewayConfig::from_toml("[server]\nmax_body_byte = 3").unwrap_err();
        assert!(e.to_string().contains("max_body_byte"), "{e}");
        let e = GatewayConfig::from_toml("[[upstreams]]\nbase_url = \"ftp://x\"").unwrap_err();
        assert!(e.to_string().contains("base_url"), "{e}");
        let e = GatewayConfig::from_toml("[roles.dev]\npolicy = \"nope\"").unwrap_err();
        assert!(e.to_string().contains("roles.dev.policy"), "{e}");
    }

    #[test]
    fn full_example_parses() {
        let c = GatewayConfig::from_toml(
            r#"
            listen = "0.0.0.0:9000"
            [scanning]
            fail_mode = "open"
            [[upstreams]]
            name = "openai"
            kind = "openai"
            api_key_env = "OPENAI_API_KEY"
            models = ["gpt-*"]
            [[upstreams]]
            name = "azure"
            kind = "azure"
            base_url = "https://x.openai.azure.com/"
            deployments = { "gpt-4o" = "prod-4o" }
            [policies]
            strict = "strict.toml"
            [roles.dev]
            models = ["gpt-4o-mini"]
            policy = "strict"
            rpm = 10
            "#,
        )
        .unwrap();
        assert_eq!(
            c.upstreams[0].effective_base_url(),
            "https://api.openai.com/v1"
        );
        assert_eq!(
            c.upstreams[1].effective_base_url(),
            "https://x.openai.azure.com"
        );
        assert_eq!(c.roles["dev"].rpm, Some(10));
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", "gpt-4o"));
        assert!(glob_match("gpt-4o*", "gpt-4o-mini"));
        assert!(!glob_match("gpt-4o*", "gpt-4"));
        assert!(glob_match("llama-?b", "llama-8b"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
        let long = "a".repeat(10_000);
        assert!(!glob_match("*a*a*a*b", &long));
    }
}
