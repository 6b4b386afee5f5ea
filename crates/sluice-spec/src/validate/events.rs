//! Checks of topics, triggers and rules.

use super::data::s3_events;
use super::{at, Cx};
use crate::locate::{At, YamlPath};
use crate::model::Project;
use sluice_core::pattern::PathStep;
use std::collections::HashMap;

pub(super) fn topics(cx: &mut Cx, project: &Project) {
    for (name, topic) in &project.topics {
        let path = at("topics", name);
        for (i, sub) in topic.subscriptions.iter().enumerate() {
            let sp = path.key("subscriptions").index(i);
            let mut set = Vec::new();
            if sub.webhook.is_some() {
                set.push("webhook");
            }
            if sub.email.is_some() {
                set.push("email");
            }
            cx.exactly_one(&sp, "a subscription", &["webhook", "email"], &set);
            if let Some(w) = &sub.webhook {
                let prefix = w.url.literal_prefix();
                let literal = w.url.is_literal();
                let scheme_ok = prefix.starts_with("http://") || prefix.starts_with("https://");
                if (prefix.contains("://") || literal) && !scheme_ok {
                    cx.rep.error(
                        &sp.key("webhook").key("url"),
                        "a webhook URL starts with `http://` or `https://`",
                    );
                }
            }
            if let Some(e) = &sub.email {
                let ep = sp.key("email");
                if e.to.is_empty() {
                    cx.rep
                        .error(&ep.key("to"), "`to` must list at least one address");
                }
                for (j, addr) in e.to.iter().enumerate() {
                    email_address(cx, &ep.key("to").index(j), addr);
                }
                email_address(cx, &ep.key("from"), &e.from);
                if e.smtp.host.trim().is_empty() {
                    cx.rep
                        .error(&ep.key("smtp").key("host"), "`host` must not be empty");
                }
            }
        }
    }
}

fn email_address(cx: &mut Cx, path: &YamlPath, addr: &str) {
    let ok = match addr.trim().rsplit_once('@') {
        Some((user, domain)) => {
            !user.is_empty() && !domain.is_empty() && !addr.contains(char::is_whitespace)
        }
        None => false,
    };
    if !ok {
        cx.rep
            .error(path, format!("`{addr}` is not an email address"));
    }
}

pub(super) fn triggers(cx: &mut Cx, project: &Project) {
    let mut http_paths: HashMap<&str, &str> = HashMap::new();
    for (name, t) in &project.triggers {
        let path = at("triggers", name);
        let sources = t.source_keys();
        cx.exactly_one(
            &path,
            "a trigger",
            &["schedule", "http", "bucket", "event"],
            &sources,
        );
        match &t.schedule {
            Some(s) => {
                // An unknown zone is reported below; the expression is then
                // checked against UTC only.
                let tz = t
                    .timezone
                    .as_deref()
                    .unwrap_or("UTC")
                    .parse()
                    .unwrap_or_default();
                let checked = sluice_core::schedule::Schedule::parse(s)
                    .and_then(|schedule| schedule.check_in(tz));
                if let Err(err) = checked {
                    cx.rep.error(
                        &path.key("schedule"),
                        format!("invalid schedule `{s}`: {err}"),
                    );
                }
            }
            None => {
                let extras = [
                    ("timezone", t.timezone.is_some()),
                    ("catch_up", t.catch_up.is_some()),
                    ("overlap", t.overlap.is_some()),
                ];
                for (key, set) in extras {
                    if set {
                        cx.rep.error_key(
                            &path.key(key),
                            format!("`{key}` only applies to `schedule` triggers"),
                        );
                    }
                }
            }
        }
        if let Some(tz) = &t.timezone {
            if tz.parse::<chrono_tz::Tz>().is_err() {
                let known = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name());
                let hint = known
                    .map(|k| {
                        (
                            strsim::jaro_winkler(&k.to_lowercase(), &tz.to_lowercase()),
                            k,
                        )
                    })
                    .filter(|(score, _)| *score > 0.85)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, k)| format!("; did you mean `{k}`?"))
                    .unwrap_or_else(|| "; use an IANA name such as `Europe/Paris`".to_string());
                cx.rep.error(
                    &path.key("timezone"),
                    format!("unknown time zone `{tz}`{hint}"),
                );
            }
        }
        // `auth: { tokens: [] }` is allowed: it accepts API tokens only.
        if t.auth.is_some() && t.http.is_none() {
            cx.rep
                .error_key(&path.key("auth"), "`auth` only applies to `http` triggers");
        }
        if let Some(http) = &t.http {
            let pp = path.key("http").key("path");
            if !http.path.starts_with('/') {
                let msg = format!("an HTTP path starts with `/`, found `{}`", http.path);
                cx.rep
                    .error_with(&pp, At::Value, msg, Some(format!("/{}", http.path)));
            } else if let Some(other) = http_paths.insert(&http.path, name) {
                cx.rep.error(
                    &pp,
                    format!(
                        "HTTP path `{}` is already used by trigger `{other}`",
                        http.path
                    ),
                );
            }
        }
        if let Some(b) = &t.bucket {
            let bp = path.key("bucket");
            cx.rep.check_ref(
                &bp.key("name"),
                At::Value,
                "bucket",
                &b.name,
                &cx.declared.buckets,
            );
            s3_events(cx, &bp.key("events"), &b.events, false);
        }
        if let Some(e) = &t.event {
            pattern(cx, &path.key("event").key("pattern"), &e.pattern);
        }
        cx.target(&path.key("target"), &t.target);
    }
}

/// Checks an event pattern the way the bus will compile it, reporting a
/// malformed one at the offending key inside the pattern.
fn pattern(cx: &mut Cx, path: &YamlPath, p: &serde_json::Value) {
    match p.as_object() {
        Some(m) if !m.is_empty() => {
            if let Err(err) = sluice_core::pattern::Pattern::compile(p) {
                cx.rep.error_key(
                    &pattern_path(path, &err.path),
                    format!("invalid event pattern: {}", err.message),
                );
            }
        }
        Some(_) => cx.rep.error(
            path,
            "an event pattern must not be empty; it would match every event",
        ),
        None => cx.rep.error(
            path,
            "an event pattern is a map, e.g. `{ source: [shop], detail-type: [order] }`",
        ),
    }
}

/// The YAML path of a place inside the pattern at `path`.
fn pattern_path(path: &YamlPath, steps: &[PathStep]) -> YamlPath {
    steps.iter().fold(path.clone(), |p, step| match step {
        PathStep::Key(k) => p.key(k.as_str()),
        PathStep::Index(i) => p.index(*i),
    })
}

pub(super) fn rules(cx: &mut Cx, project: &Project) {
    for (name, rule) in &project.rules {
        let path = at("rules", name);
        pattern(cx, &path.key("pattern"), &rule.pattern);
        if rule.targets.is_empty() {
            cx.rep.error(
                &path.key("targets"),
                "`targets` must list at least one target",
            );
        }
        for (i, t) in rule.targets.iter().enumerate() {
            cx.target(&path.key("targets").index(i), t);
        }
    }
}
