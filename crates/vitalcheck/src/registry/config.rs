//! [`RegistryConfig`]: registry settings from environment variables with a prefix.
//!
//! With prefix `APP_HEALTH` (the default is `VITALCHECK`):
//!
//! | variable | meaning |
//! |---|---|
//! | `APP_HEALTH_TIMEOUT=3s` | default timeout of every check |
//! | `APP_HEALTH_RETRIES=2` | retries of every check |
//! | `APP_HEALTH_CHECKS=db,cache` | only these checks run (others are disabled) |
//! | `APP_HEALTH_CHECK_DB_TIMEOUT=500ms` | timeout of check `db` |
//! | `APP_HEALTH_CHECK_DB_RETRIES=1` | retries of check `db` |
//! | `APP_HEALTH_CHECK_DB_ENABLED=false` | disables check `db` |
//!
//! Check names are matched upper-cased, with anything but letters and digits as `_`
//! (`redis-cache` is `REDIS_CACHE`). Every value is validated and an unknown check name is
//! an error that lists the registered ones.
//!
//! ```
//! use vitalcheck::registry::{ComponentHealth, Registry, RegistryConfig};
//!
//! let mut registry = Registry::new();
//! registry.register("db", || async { ComponentHealth::healthy() });
//! let vars = [("APP_CHECK_DB_TIMEOUT", "500ms"), ("APP_RETRIES", "2"), ("PATH", "/bin")];
//! let config = RegistryConfig::from_vars("APP", vars).unwrap();
//! config.apply(&mut registry).unwrap();
//! assert_eq!(registry.specs().next().unwrap().timeout, Some(std::time::Duration::from_millis(500)));
//! let err = RegistryConfig::from_vars("APP", [("APP_RETRIES", "many")]).unwrap_err();
//! assert_eq!(err.to_string(), "APP_RETRIES=\"many\": expected a whole number of retries, like 2");
//! ```

use super::Registry;
use crate::duration::parse_duration;
use std::collections::BTreeMap;
use std::time::Duration;

/// Settings for one check, from `PREFIX_CHECK_<NAME>_*`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckOverrides {
    /// `_TIMEOUT`.
    pub timeout: Option<Duration>,
    /// `_RETRIES`.
    pub retries: Option<u32>,
    /// `_ENABLED`.
    pub enabled: Option<bool>,
}

/// Registry settings read from environment variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistryConfig {
    /// The prefix the variables were read with.
    pub prefix: String,
    /// `PREFIX_TIMEOUT`.
    pub default_timeout: Option<Duration>,
    /// `PREFIX_RETRIES`.
    pub retries: Option<u32>,
    /// `PREFIX_CHECKS`: when set, only these checks run.
    pub enabled_checks: Option<Vec<String>>,
    /// `PREFIX_CHECK_<NAME>_*`, by upper-cased name.
    pub checks: BTreeMap<String, CheckOverrides>,
}

/// A variable with a value that makes no sense, or naming no registered check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}={value:?}: {expected}")]
pub struct ConfigError {
    /// The variable.
    pub var: String,
    /// Its value.
    pub value: String,
    /// What was expected.
    pub expected: String,
}

impl RegistryConfig {
    /// Reads the process environment.
    pub fn from_env(prefix: &str) -> Result<Self, ConfigError> {
        Self::from_vars(prefix, std::env::vars())
    }

    /// Reads `vars` (name, value) pairs; the ones without the prefix are ignored.
    pub fn from_vars<I, K, V>(prefix: &str, vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut config = RegistryConfig { prefix: prefix.to_string(), ..Default::default() };
        let lead = format!("{prefix}_");
        for (name, value) in vars {
            let (name, value) = (name.as_ref(), value.as_ref());
            let Some(key) = name.strip_prefix(&lead) else { continue };
            config.read(name, key, value)?;
        }
        Ok(config)
    }

    fn read(&mut self, var: &str, key: &str, value: &str) -> Result<(), ConfigError> {
        let bad = |expected: &str| ConfigError { var: var.into(), value: value.into(), expected: expected.into() };
        match key {
            "TIMEOUT" => self.default_timeout = Some(parse_duration(value).ok_or_else(|| bad(DURATION))?),
            "RETRIES" => self.retries = Some(value.trim().parse().map_err(|_| bad(RETRIES))?),
            "CHECKS" => {
                let names: Vec<String> =
                    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
                self.enabled_checks = Some(names);
            }
            _ => {
                let Some(rest) = key.strip_prefix("CHECK_") else { return Ok(()) };
                let (name, field) = ["_TIMEOUT", "_RETRIES", "_ENABLED"]
                    .iter()
                    .find_map(|f| rest.strip_suffix(f).map(|n| (n, *f)))
                    .ok_or_else(|| bad("expected PREFIX_CHECK_<NAME>_TIMEOUT, _RETRIES or _ENABLED"))?;
                let entry = self.checks.entry(name.to_string()).or_default();
                match field {
                    "_TIMEOUT" => entry.timeout = Some(parse_duration(value).ok_or_else(|| bad(DURATION))?),
                    "_RETRIES" => entry.retries = Some(value.trim().parse().map_err(|_| bad(RETRIES))?),
                    _ => entry.enabled = Some(parse_bool(value).ok_or_else(|| bad("expected true or false"))?),
                }
            }
        }
        Ok(())
    }

    /// Applies the settings to `registry`; fails on a check name it does not have.
    pub fn apply(&self, registry: &mut Registry) -> Result<(), ConfigError> {
        let names: Vec<String> = registry.specs().map(|s| s.name.clone()).collect();
        let known = |wanted: &str| names.iter().find(|n| env_name(n) == env_name(wanted)).cloned();
        let unknown = |var: String, value: &str| ConfigError {
            var,
            value: value.to_string(),
            expected: format!("names no registered check (registered: {})", names.join(", ")),
        };
        if let Some(enabled) = &self.enabled_checks {
            for wanted in enabled {
                known(wanted).ok_or_else(|| unknown(format!("{}_CHECKS", self.prefix), wanted))?;
            }
        }
        for key in self.checks.keys() {
            known(key).ok_or_else(|| unknown(format!("{}_CHECK_{key}_*", self.prefix), key))?;
        }
        if let Some(timeout) = self.default_timeout {
            registry.default_timeout = timeout;
        }
        for name in &names {
            let overrides = self.checks.get(&env_name(name));
            let Some(mut reg) = registry.configure(name) else { continue };
            let spec = reg.spec();
            if let Some(retries) = overrides.and_then(|o| o.retries).or(self.retries) {
                spec.retries = retries;
            }
            if let Some(timeout) = overrides.and_then(|o| o.timeout) {
                spec.timeout = Some(timeout);
            }
            if let Some(enabled) = &self.enabled_checks {
                spec.enabled = enabled.iter().any(|e| env_name(e) == env_name(name));
            }
            if let Some(enabled) = overrides.and_then(|o| o.enabled) {
                spec.enabled = enabled;
            }
        }
        Ok(())
    }
}

const DURATION: &str = "expected a duration, like 500ms, 2s or 1m";
const RETRIES: &str = "expected a whole number of retries, like 2";

/// A check name as it appears in variable names: upper case, `_` for anything else.
fn env_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::ComponentHealth;

    fn registry() -> Registry {
        let mut r = Registry::new();
        r.register("db", || async { ComponentHealth::healthy() });
        r.register("redis-cache", || async { ComponentHealth::healthy() });
        r
    }

    fn spec<'a>(r: &'a Registry, name: &str) -> &'a crate::registry::CheckSpec {
        r.specs().find(|s| s.name == name).unwrap()
    }

    #[test]
    fn reads_and_applies_every_setting() {
        let vars = [
            ("H_TIMEOUT", "3s"),
            ("H_RETRIES", "2"),
            ("H_CHECK_REDIS_CACHE_TIMEOUT", "250ms"),
            ("H_CHECK_REDIS_CACHE_RETRIES", "0"),
            ("H_CHECK_DB_ENABLED", "off"),
            ("OTHER_TIMEOUT", "nonsense"),
        ];
        let mut r = registry();
        RegistryConfig::from_vars("H", vars).unwrap().apply(&mut r).unwrap();
        assert_eq!(r.default_timeout(), Duration::from_secs(3));
        assert!(!spec(&r, "db").enabled);
        assert_eq!(spec(&r, "db").retries, 2);
        assert_eq!(spec(&r, "redis-cache").timeout, Some(Duration::from_millis(250)));
        assert_eq!(spec(&r, "redis-cache").retries, 0);
    }

    #[test]
    fn enabled_list_disables_the_rest() {
        let mut r = registry();
        RegistryConfig::from_vars("H", [("H_CHECKS", "redis-cache")]).unwrap().apply(&mut r).unwrap();
        assert!(!spec(&r, "db").enabled);
        assert!(spec(&r, "redis-cache").enabled);
    }

    #[test]
    fn errors_name_the_variable_the_value_and_what_was_expected() {
        let err = |vars: &[(&str, &str)]| RegistryConfig::from_vars("H", vars.iter().copied()).unwrap_err().to_string();
        assert_eq!(err(&[("H_TIMEOUT", "soon")]), "H_TIMEOUT=\"soon\": expected a duration, like 500ms, 2s or 1m");
        assert_eq!(err(&[("H_CHECK_DB_ENABLED", "maybe")]), "H_CHECK_DB_ENABLED=\"maybe\": expected true or false");
        assert!(err(&[("H_CHECK_DB_COLOR", "red")]).contains("expected PREFIX_CHECK_<NAME>_TIMEOUT"));
        let mut r = registry();
        let e = RegistryConfig::from_vars("H", [("H_CHECKS", "db,mongo")]).unwrap().apply(&mut r).unwrap_err();
        assert_eq!(e.to_string(), "H_CHECKS=\"mongo\": names no registered check (registered: db, redis-cache)");
        let e = RegistryConfig::from_vars("H", [("H_CHECK_MONGO_RETRIES", "1")]).unwrap().apply(&mut r).unwrap_err();
        assert!(e.to_string().starts_with("H_CHECK_MONGO_*=\"MONGO\": names no registered check"), "{e}");
    }
}
