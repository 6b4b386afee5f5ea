//! `${...}` syntax in secret strings, and warnings for literal secrets.

use super::{at, Cx};
use crate::diagnostic::Severity;
use crate::locate::YamlPath;
use crate::model::{Project, SecretString, Storage};

/// Whether a field or variable name suggests its value is a secret.
fn sensitive_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "api-key",
        "private_key",
        "authorization",
    ]
    .iter()
    .any(|w| n.contains(w))
}

pub(super) fn check(cx: &mut Cx, project: &Project) {
    // (path, value, whether a literal should be warned about)
    let mut all: Vec<(YamlPath, &SecretString, bool)> = Vec::new();
    for (name, b) in &project.buckets {
        if let Storage::S3(s3) = &b.storage {
            let p = at("buckets", name).key("storage").key("s3");
            if let Some(v) = &s3.access_key_id {
                all.push((p.key("access_key_id"), v, false));
            }
            if let Some(v) = &s3.secret_access_key {
                all.push((p.key("secret_access_key"), v, true));
            }
        }
    }
    for (name, c) in &project.connections {
        let p = at("connections", name).key("url");
        if c.url.is_literal() && url_has_password(c.url.template()) {
            cx.rep.warning(
                &p,
                "the connection URL holds a literal password; use `${env:NAME}` for it",
            );
        }
        all.push((p, &c.url, false));
    }
    for (name, t) in &project.topics {
        for (i, s) in t.subscriptions.iter().enumerate() {
            let sp = at("topics", name).key("subscriptions").index(i);
            if let Some(w) = &s.webhook {
                let wp = sp.key("webhook");
                all.push((wp.key("url"), &w.url, false));
                if let Some(v) = &w.secret {
                    all.push((wp.key("secret"), v, true));
                }
                for (h, v) in &w.headers {
                    all.push((wp.key("headers").key(h), v, sensitive_name(h)));
                }
            }
            if let Some(e) = &s.email {
                let mp = sp.key("email").key("smtp");
                if let Some(v) = &e.smtp.username {
                    all.push((mp.key("username"), v, false));
                }
                if let Some(v) = &e.smtp.password {
                    all.push((mp.key("password"), v, true));
                }
            }
        }
    }
    for (name, f) in &project.functions {
        for (k, v) in &f.env {
            all.push((
                at("functions", name).key("env").key(k),
                v,
                sensitive_name(k),
            ));
        }
    }
    for (name, t) in &project.triggers {
        if let Some(auth) = &t.auth {
            for (i, v) in auth.tokens.iter().enumerate() {
                all.push((
                    at("triggers", name).key("auth").key("tokens").index(i),
                    v,
                    true,
                ));
            }
        }
    }

    for (path, value, warn_literal) in all {
        match value.parts() {
            Err(e) => {
                let pos = cx.rep.index.locate_within(&path, &e.reference);
                cx.rep
                    .push_at(Severity::Error, pos, &path, e.message, e.suggestion);
            }
            Ok(_) if warn_literal && value.is_literal() && !value.template().is_empty() => {
                let field = match path.0.last() {
                    Some(crate::locate::Seg::Key(k)) => format!("`{k}`"),
                    _ => "this value".to_string(),
                };
                cx.rep.warning(
                    &path,
                    format!("{field} holds a literal secret; keep it out of the file with `${{env:NAME}}`"),
                );
            }
            Ok(_) => {}
        }
    }
}

/// Warn about `${env:...}` written where it is not resolved (plain string
/// fields), walking the raw YAML value.
pub(crate) fn stray_references(
    rep: &mut crate::report::Reporter,
    path: &YamlPath,
    value: &serde_yaml_ng::Value,
) {
    use serde_yaml_ng::Value;
    match value {
        Value::String(s) if s.contains("${") && crate::schema::secret_at(path) == Some(false) => {
            rep.warning(
                path,
                "`${...}` is not resolved here (only in secret fields such as urls, passwords and `env`); it is used literally",
            );
        }
        Value::Mapping(m) => {
            for (k, v) in m {
                if let Some(k) = k.as_str() {
                    stray_references(rep, &path.key(k), v);
                }
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                stray_references(rep, &path.index(i), v);
            }
        }
        _ => {}
    }
}

/// `scheme://user:password@host...`
fn url_has_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => userinfo
            .split_once(':')
            .is_some_and(|(_, pw)| !pw.is_empty()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_passwords_in_urls() {
        assert!(url_has_password("postgres://u:pw@h/db"));
        assert!(!url_has_password("postgres://u@h/db"));
        assert!(!url_has_password("sqlite:data.db"));
        assert!(
            sensitive_name("DB_PASSWORD")
                && sensitive_name("Authorization")
                && !sensitive_name("PORT")
        );
    }
}
