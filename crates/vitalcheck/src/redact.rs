//! Redaction of secrets (passwords, tokens) before a target is shown anywhere.

use url::Url;

/// What a redacted secret is replaced with.
pub const REDACTED: &str = "***";

/// Query parameters whose values are treated as secrets.
const SECRET_PARAMS: &[&str] = &[
    "access_token",
    "api_key",
    "apikey",
    "auth",
    "key",
    "password",
    "passwd",
    "pwd",
    "secret",
    "sig",
    "signature",
    "token",
];

fn is_secret_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|s| lower == *s || lower.ends_with(&format!("_{s}")))
}

/// The URL with any password and secret-looking query values (`token`, `api_key`, ...)
/// replaced by `***`. The user name stays: it is useful and rarely secret.
///
/// ```
/// let url = url::Url::parse("https://bob:hunter2@example.com/h?token=abc&x=1").unwrap();
/// assert_eq!(vitalcheck::redact::redact_url(&url), "https://bob:***@example.com/h?token=***&x=1");
/// ```
pub fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        // Cannot fail: the URL already has a password, so it has a host.
        let _ = shown.set_password(Some(REDACTED));
    }
    if url.query().is_some() && url.query_pairs().any(|(k, _)| is_secret_param(&k)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) { REDACTED.to_string() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    // `***` is percent-encoded by the serializers above; show it plainly.
    shown.to_string().replace("%2A%2A%2A", REDACTED)
}

/// Best-effort redaction of a string that may not parse as a URL (for error messages that
/// quote bad input): hides anything between `scheme://user:` and `@`.
///
/// ```
/// assert_eq!(vitalcheck::redact::redact_str("http://u:pw@h:99999/"), "http://u:***@h:99999/");
/// ```
pub fn redact_str(input: &str) -> String {
    if let Ok(url) = Url::parse(input)
        && url.has_host()
    {
        let redacted = redact_url(&url);
        // Quote the input as the user wrote it unless something had to be hidden.
        return if redacted == url.as_str() { input.to_string() } else { redacted };
    }
    let Some(scheme_end) = input.find("://") else {
        return input.to_string();
    };
    let rest_start = scheme_end + 3;
    let rest = &input[rest_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => {
            format!("{}{}{}{}", &input[..rest_start + colon + 1], REDACTED, &authority[at..], &rest[authority_end..])
        }
        _ => input.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_hidden_user_kept() {
        let url = Url::parse("postgres://admin:s3cret@db:5432/app").unwrap();
        assert_eq!(redact_url(&url), "postgres://admin:***@db:5432/app");
    }

    #[test]
    fn secret_query_values_hidden_others_kept() {
        let url = Url::parse("http://h/x?api_key=abc&page=2&X_TOKEN=z").unwrap();
        assert_eq!(redact_url(&url), "http://h/x?api_key=***&page=2&X_TOKEN=***");
    }

    #[test]
    fn url_without_secrets_unchanged() {
        let url = Url::parse("http://127.0.0.1:8080/health?verbose").unwrap();
        assert_eq!(redact_url(&url), "http://127.0.0.1:8080/health?verbose");
    }

    #[test]
    fn unparsable_input_still_redacted() {
        assert_eq!(redact_str("http://u:p@ss@h:xx/"), "http://u:***@h:xx/");
        assert_eq!(redact_str("no scheme here"), "no scheme here");
        assert_eq!(redact_str("http://h:1/a@b"), "http://h:1/a@b");
    }
}
