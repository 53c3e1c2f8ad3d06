//! The gateway's state: the long-lived services, and the reloadable [`Runtime`] built from configuration.
//!
//! Everything a configuration change can affect (pipelines, roles, upstream clients) lives in one immutable
//! [`Runtime`] behind an `ArcSwap`. A request loads it once at its start and keeps that snapshot to the end,
//! so a reload (SIGHUP) never changes the rules under a request in flight, and never drops a connection.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use arc_swap::ArcSwap;
use rampart_core::Policy;
use rampart_detect::Pipeline;

use crate::api::Endpoint;
use crate::audit::AuditLog;
use crate::authz::ToolGate;
use crate::config::{ConfigError, GatewayConfig, RoleConfig};
use crate::error::ApiError;
use crate::keys::KeyStore;
use crate::limits::{RateLimiter, RoleLimits};
use crate::scan::PolicyRuntime;
use crate::upstream::{Upstream, random_u64};

/// Why the gateway could not start or reload.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A policy file could not be read, parsed or built.
    #[error("policy `{name}`: {message}")]
    Policy {
        /// Policy name.
        name: String,
        /// What failed.
        message: String,
    },
    /// Keys, audit or limits could not be opened.
    #[error("{0}")]
    Service(String),
    /// Listener or TLS setup failed.
    #[error("{0}")]
    Io(String),
}

/// What keys of one role may do, compiled.
#[derive(Debug)]
pub struct Role {
    /// Role name.
    pub name: String,
    /// Model globs.
    pub models: Vec<String>,
    /// The role's policy.
    pub policy: Arc<PolicyRuntime>,
    /// Completion cap.
    pub max_tokens: Option<u32>,
    /// Tool policy.
    pub tools: ToolGate,
    /// Rate limits per key.
    pub limits: RoleLimits,
    /// The role's configuration as written.
    pub config: RoleConfig,
}

/// Everything built from one configuration.
#[derive(Debug)]
pub struct Runtime {
    /// The configuration.
    pub config: GatewayConfig,
    /// Policies by name.
    pub policies: HashMap<String, Arc<PolicyRuntime>>,
    /// Roles by name.
    pub roles: HashMap<String, Arc<Role>>,
    /// Upstreams in routing order.
    pub upstreams: Vec<Arc<Upstream>>,
}

impl Runtime {
    /// Builds pipelines (once per policy), roles and upstream clients. The costly step of a reload.
    pub fn build(config: GatewayConfig) -> Result<Runtime, GatewayError> {
        config.validate()?;
        let mut policies = HashMap::new();
        let mut sources: Vec<(String, Option<PathBuf>)> = config
            .policies
            .iter()
            .map(|(n, p)| (n.clone(), Some(p.clone())))
            .collect();
        if !config.policies.contains_key("default") {
            sources.push(("default".into(), None));
        }
        for (name, path) in sources {
            let policy = match &path {
                Some(p) => {
                    let text = std::fs::read_to_string(p).map_err(|e| GatewayError::Policy {
                        name: name.clone(),
                        message: format!("reading {}: {e}", p.display()),
                    })?;
                    Policy::from_toml(&text).map_err(|e| GatewayError::Policy {
                        name: name.clone(),
                        message: format!("{}: {e}", p.display()),
                    })?
                }
                None => rampart_detect::default_policy(),
            };
            let pipeline = Pipeline::from_policy(policy).map_err(|e| GatewayError::Policy {
                name: name.clone(),
                message: e.to_string(),
            })?;
            policies.insert(
                name.clone(),
                Arc::new(PolicyRuntime::new(name, pipeline, &config.scanning)),
            );
        }
        let mut roles = HashMap::new();
        for (name, rc) in config.effective_roles() {
            let policy = policies.get(&rc.policy).cloned().ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "roles.{name}.policy: unknown policy `{}`",
                    rc.policy
                ))
            })?;
            let tools = rc
                .tools
                .compile()
                .map_err(|e| ConfigError::Invalid(format!("roles.{name}.tools: {e}")))?;
            roles.insert(
                name.clone(),
                Arc::new(Role {
                    models: rc.models.clone(),
                    max_tokens: rc.max_tokens,
                    tools: ToolGate::new(tools),
                    limits: rc.limits(),
                    policy,
                    name,
                    config: rc,
                }),
            );
        }
        let upstreams = config
            .upstreams
            .iter()
            .cloned()
            .map(|u| Upstream::new(u).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Runtime {
            config,
            policies,
            roles,
            upstreams,
        })
    }

    /// The role named `name`; 403 when the configuration no longer has it.
    pub fn role(&self, name: &str) -> Result<Arc<Role>, ApiError> {
        self.roles.get(name).cloned().ok_or_else(|| {
            ApiError::forbidden(
                "role_unknown",
                format!("this key's role `{name}` is not defined in the gateway configuration"),
            )
        })
    }

    /// The first upstream that serves `model` on `endpoint`; 404 when none does.
    pub fn route(&self, endpoint: Endpoint, model: &str) -> Result<Arc<Upstream>, ApiError> {
        let mut serves_model = false;
        for u in &self.upstreams {
            if u.serves(model) {
                serves_model = true;
                if u.speaks(endpoint) {
                    return Ok(Arc::clone(u));
                }
            }
        }
        let message = if serves_model {
            format!(
                "no upstream that serves model `{model}` speaks the {} API",
                if endpoint == Endpoint::Messages {
                    "Anthropic Messages"
                } else {
                    "OpenAI"
                }
            )
        } else {
            format!("no upstream is configured for model `{model}`")
        };
        let mut e = ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
            message,
        );
        e.param = Some("model".into());
        Err(e)
    }
}

/// Reapplied to every configuration read from disk (command-line overrides, the demo upstream).
pub type ConfigOverride = Arc<dyn Fn(&mut GatewayConfig) + Send + Sync>;

/// The running gateway: services plus the current [`Runtime`].
pub struct Gateway {
    runtime: ArcSwap<Runtime>,
    keys: KeyStore,
    audit: AuditLog,
    limiter: RateLimiter,
    config_path: Option<PathBuf>,
    overrides: Option<ConfigOverride>,
    ready: AtomicBool,
    request_seq: AtomicU64,
    id_salt: u64,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("config_path", &self.config_path)
            .finish()
    }
}

impl Gateway {
    /// Builds the gateway from a configuration: opens the key store and the audit log under `data_dir` (or
    /// the configured audit backend) and builds the runtime. `config_path` (with `overrides` applied after
    /// each read) is what [`Gateway::reload`] reads again.
    pub async fn new(
        config: GatewayConfig,
        config_path: Option<PathBuf>,
        overrides: Option<ConfigOverride>,
    ) -> Result<Arc<Gateway>, GatewayError> {
        let keys = KeyStore::open(&config.data_dir).map_err(|e| {
            GatewayError::Service(format!("key store in {}: {e}", config.data_dir.display()))
        })?;
        let audit = AuditLog::open(&config.audit, &config.data_dir)
            .await
            .map_err(|e| GatewayError::Service(format!("audit log: {e}")))?;
        let limiter = RateLimiter::new(&config.limits)
            .await
            .map_err(|e| GatewayError::Service(e.to_string()))?;
        let runtime = Runtime::build(config)?;
        if runtime.roles.values().any(|r| r.limits.tpm.is_some()) {
            // The BPE tables take ~0.2–0.7 s to build; pay that now, not on the first metered request.
            tokio::task::spawn_blocking(crate::tokens::warm_up);
        }
        // Install the recorder before the first request so that nothing recorded is lost.
        let _ = crate::metrics::handle();
        Ok(Arc::new(Gateway {
            runtime: ArcSwap::from_pointee(runtime),
            keys,
            audit,
            limiter,
            config_path,
            overrides,
            ready: AtomicBool::new(true),
            request_seq: AtomicU64::new(0),
            id_salt: random_u64(),
        }))
    }

    /// The virtual key store.
    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    /// The audit log.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// The rate limiter.
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// The configuration file [`Gateway::reload`] reads, if any.
    pub fn config_path(&self) -> Option<&std::path::Path> {
        self.config_path.as_deref()
    }

    /// The current runtime snapshot.
    pub fn runtime(&self) -> Arc<Runtime> {
        self.runtime.load_full()
    }

    /// Reads the configuration file again and swaps in the new runtime; on any error the old one stays.
    /// Listener, TLS and data directory changes need a restart (a warning says so).
    pub fn reload(&self) -> Result<(), GatewayError> {
        let Some(path) = &self.config_path else {
            return Err(GatewayError::Config(ConfigError::Invalid(
                "no configuration file to reload (started without --config)".into(),
            )));
        };
        let mut config = GatewayConfig::load(path)?;
        if let Some(o) = &self.overrides {
            o(&mut config);
        }
        let old = self.runtime();
        let audit_changed = serde_json::to_value(&config.audit).ok()
            != serde_json::to_value(&old.config.audit).ok()
            || config.limits != old.config.limits;
        if config.listen != old.config.listen
            || config.data_dir != old.config.data_dir
            || config.tls.is_some() != old.config.tls.is_some()
            || audit_changed
        {
            tracing::warn!(
                "listen, data_dir, tls, [audit] and [limits] changes take effect only after a restart"
            );
        }
        let runtime = Runtime::build(config)?;
        self.runtime.store(Arc::new(runtime));
        Ok(())
    }

    /// Replaces the runtime with one built from `config` (tests, embedding programs).
    pub fn apply(&self, config: GatewayConfig) -> Result<(), GatewayError> {
        let runtime = Runtime::build(config)?;
        self.runtime.store(Arc::new(runtime));
        Ok(())
    }

    /// Whether `/readyz` answers ready.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Marks the gateway as draining (readiness fails so load balancers stop sending).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// A request id unique within the process and unpredictable across processes.
    pub fn next_request_id(&self) -> String {
        let n = self.request_seq.fetch_add(1, Ordering::Relaxed);
        format!(
            "req_{:012x}{:06x}",
            self.id_salt & 0xffff_ffff_ffff,
            n & 0xff_ffff
        )
    }
}
