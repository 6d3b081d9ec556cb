//! `${VAR}` interpolation in string values, for secrets kept out of the file.
//!
//! `${NAME}` (letters, digits and `_`, not starting with a digit) is replaced by the
//! variable's value; `$${` is a literal `${`; any other `$` is kept as is. A variable that
//! is not set is an error, never an empty string. Variables are read through a lookup
//! function so tests need not touch the process environment.

use std::fmt;

/// A string value after interpolation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Interpolated {
    /// The value to use.
    pub(crate) value: String,
    /// Whether any `${VAR}` was substituted (then the value is shown as written, never
    /// expanded, wherever the config is displayed).
    pub(crate) from_env: bool,
}

/// Why a string could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnvError {
    /// `${NAME}` names a variable that is not set.
    Missing(String),
    /// `${` without a closing `}`.
    Unclosed,
    /// `${...}` holds something that is not a variable name.
    BadName(String),
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvError::Missing(name) => write!(f, "environment variable {name} is not set"),
            EnvError::Unclosed => f.write_str("unclosed \"${\"; expected ${NAME}, or $${ for a literal ${"),
            EnvError::BadName(name) => {
                write!(f, "invalid variable name {name:?} in ${{...}}; expected letters, digits and _")
            }
        }
    }
}

/// Replaces every `${NAME}` in `input` with `lookup(NAME)`.
pub(crate) fn interpolate(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Interpolated, EnvError> {
    let mut value = String::with_capacity(input.len());
    let mut from_env = false;
    let mut rest = input;
    while let Some(i) = rest.find('$') {
        value.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(tail) = after.strip_prefix("$${") {
            value.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let end = tail.find('}').ok_or(EnvError::Unclosed)?;
            let name = &tail[..end];
            if !is_name(name) {
                return Err(EnvError::BadName(name.to_string()));
            }
            value.push_str(&lookup(name).ok_or_else(|| EnvError::Missing(name.to_string()))?);
            from_env = true;
            rest = &tail[end + 1..];
        } else {
            value.push('$');
            rest = &after[1..];
        }
    }
    value.push_str(rest);
    Ok(Interpolated { value, from_env })
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cret".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn run(input: &str) -> Result<Interpolated, EnvError> {
        interpolate(input, &env)
    }

    #[test]
    fn substitutes_and_marks_env_values() {
        assert_eq!(run("Bearer ${TOKEN}"), Ok(Interpolated { value: "Bearer s3cret".into(), from_env: true }));
        assert_eq!(run("a${EMPTY}b").map(|i| i.value), Ok("ab".into()));
        assert_eq!(run("${TOKEN}${TOKEN}").map(|i| i.value), Ok("s3crets3cret".into()));
    }

    #[test]
    fn escapes_and_lone_dollars_are_literal() {
        assert_eq!(run("$${TOKEN}"), Ok(Interpolated { value: "${TOKEN}".into(), from_env: false }));
        assert_eq!(run("cost $5 $ x$").map(|i| i.value), Ok("cost $5 $ x$".into()));
        assert_eq!(run("a$${TOKEN}${TOKEN}").map(|i| i.value), Ok("a${TOKEN}s3cret".into()));
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(run("${NOPE}"), Err(EnvError::Missing("NOPE".into())));
        assert_eq!(run("${TOKEN"), Err(EnvError::Unclosed));
        assert_eq!(run("${1X}"), Err(EnvError::BadName("1X".into())));
        assert_eq!(run("${}"), Err(EnvError::BadName(String::new())));
        assert_eq!(EnvError::Missing("A".into()).to_string(), "environment variable A is not set");
    }
}
