//! Checks of functions, pipelines and queues.

use super::{at, Cx};
use crate::locate::{At, YamlPath};
use crate::model::{Builtin, FanOutSource, Project, Runtime, TargetRef};
use crate::parse::{fix_name, valid_name, NAME_RULE};
use std::collections::HashMap;

pub(super) fn functions(cx: &mut Cx, project: &Project) {
    for (name, f) in &project.functions {
        let path = at("functions", name);
        match f.runtime {
            Runtime::Lambda if f.handler.is_none() => cx.rep.error(
                &path.key("runtime"),
                "the `lambda` runtime needs `handler` (the `_HANDLER` value, e.g. `app.handler`)",
            ),
            Runtime::Process if f.handler.is_some() => cx.rep.warning(
                &path.key("handler"),
                "`handler` is only used by the `lambda` runtime",
            ),
            _ => {}
        }
        match f.run.argv() {
            Err(e) => cx.rep.error(&path.key("run"), e),
            Ok(argv) if argv.is_empty() || argv[0].is_empty() => {
                cx.rep.error(&path.key("run"), "`run` must name a program")
            }
            Ok(_) => {}
        }
        for key in f.env.keys() {
            if !valid_env_key(key) {
                cx.rep.error_key(
                    &path.key("env").key(key),
                    format!("invalid environment variable name `{key}`: use letters, digits and `_`, not starting with a digit"),
                );
            }
        }
        cx.positive(&path.key("timeout"), "`timeout`", f.timeout);
        cx.at_least_one(&path.key("concurrency"), "`concurrency`", f.concurrency);
        if f.memory.is_some_and(|m| m.bytes() == 0) {
            cx.rep
                .error(&path.key("memory"), "`memory` must be more than 0 bytes");
        }
        cx.retry(&path.key("retry"), &f.retry);
        if let Some(perms) = &f.permissions {
            let pp = path.key("permissions");
            let d = cx.declared;
            for bucket in perms.buckets.keys() {
                cx.rep.check_ref(
                    &pp.key("buckets").key(bucket),
                    At::Key,
                    "bucket",
                    bucket,
                    &d.buckets,
                );
            }
            let lists = [
                ("tables", "table", &perms.tables, &d.tables),
                ("topics", "topic", &perms.topics, &d.topics),
                ("queues", "queue", &perms.queues, &d.queues),
            ];
            for (key, kind, names, declared) in lists {
                for (i, n) in names.iter().enumerate() {
                    cx.rep
                        .check_ref(&pp.key(key).index(i), At::Value, kind, n, declared);
                }
            }
        }
    }
}

fn valid_env_key(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn pipelines(cx: &mut Cx, project: &Project) {
    for (name, p) in &project.pipelines {
        let path = at("pipelines", name);
        cx.at_least_one(&path.key("concurrency"), "`concurrency`", p.concurrency);
        cx.retry(&path.key("retry"), &p.retry);
        if p.phases.is_empty() {
            cx.rep
                .error(&path.key("phases"), "a pipeline needs at least one phase");
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, phase) in p.phases.iter().enumerate() {
            let pp = path.key("phases").index(i);
            phase_checks(cx, &pp, phase);
            if !valid_name(&phase.name) {
                let msg = format!("invalid phase name `{}`: {NAME_RULE}", phase.name);
                cx.rep
                    .error_with(&pp.key("name"), At::Value, msg, fix_name(&phase.name));
            }
            if let Some(first) = seen.insert(&phase.name, i) {
                let line = cx
                    .rep
                    .index
                    .locate(&path.key("phases").index(first).key("name"), At::Value)
                    .line;
                cx.rep.error(
                    &pp.key("name"),
                    format!(
                        "duplicate phase name `{}` (also used by phases[{first}] on line {line})",
                        phase.name
                    ),
                );
            }
        }
    }
}

fn phase_checks(cx: &mut Cx, pp: &YamlPath, phase: &crate::model::Phase) {
    let mut set = Vec::new();
    if phase.function.is_some() {
        set.push("function");
    }
    if phase.uses.is_some() {
        set.push("uses");
    }
    cx.exactly_one(pp, "a phase", &["function", "uses"], &set);
    if let Some(f) = &phase.function {
        cx.rep.check_ref(
            &pp.key("function"),
            At::Value,
            "function",
            f,
            &cx.declared.functions,
        );
    }
    if let Some(u) = &phase.uses {
        let names: Vec<&str> = Builtin::names().collect();
        cx.rep
            .check_one_of(&pp.key("uses"), "built-in step", u, &names);
    }
    if let Some(with) = &phase.with {
        if phase.uses.is_none() {
            cx.rep.error_key(
                &pp.key("with"),
                "`with` only applies to built-in steps (`uses`)",
            );
        } else if !with.is_object() {
            cx.rep
                .error(&pp.key("with"), "`with` must be a map of parameters");
        }
    }
    if let Some(crate::model::PhaseAction::Builtin(builtin, with)) = phase.action() {
        super::steps::builtin_params(cx, &pp.key("with"), builtin, with);
    }
    cx.positive(&pp.key("timeout"), "`timeout`", phase.timeout);
    if let Some(fan) = &phase.fan_out {
        let fp = pp.key("fan_out");
        match &fan.over {
            FanOutSource::Path(p) if !p.starts_with('$') => cx.rep.error_with(
                &fp.key("over"),
                At::Value,
                format!(
                    "`over` must be a JSON path starting with `$` (e.g. `$.items`), found `{p}`"
                ),
                Some(format!("$.{}", p.trim_start_matches('.'))),
            ),
            FanOutSource::Objects(o) => {
                let bp = fp.key("over").key("objects").key("bucket");
                cx.rep.check_ref(
                    &bp,
                    At::Value,
                    "bucket",
                    &o.objects.bucket,
                    &cx.declared.buckets,
                );
            }
            FanOutSource::Chunks(c) => {
                let cp = fp.key("over").key("chunks");
                if let Some(bucket) = &c.chunks.bucket {
                    cx.rep.check_ref(
                        &cp.key("bucket"),
                        At::Value,
                        "bucket",
                        bucket,
                        &cx.declared.buckets,
                    );
                }
                if c.chunks.size.bytes() == 0 {
                    cx.rep.error(
                        &cp.key("size"),
                        "`size` must be more than 0 bytes, e.g. `64MiB`",
                    );
                }
            }
            FanOutSource::Path(_) => {}
        }
        cx.at_least_one(
            &fp.key("max_concurrency"),
            "`max_concurrency`",
            fan.max_concurrency,
        );
    }
}

pub(super) fn queues(cx: &mut Cx, project: &Project) {
    for (name, q) in &project.queues {
        let path = at("queues", name);
        if let Some(t) = &q.target {
            let tp = path.key("target");
            cx.target(&tp, t);
            if let Some(r @ (TargetRef::Queue(_) | TargetRef::Topic(_))) = t.get() {
                cx.rep.error_key(
                    &tp.key(r.kind()),
                    format!(
                        "a queue is consumed by a `function` or a `pipeline`, not a {}",
                        r.kind()
                    ),
                );
            }
        }
        cx.positive(
            &path.key("visibility_timeout"),
            "`visibility_timeout`",
            q.visibility_timeout,
        );
        cx.at_least_one(
            &path.key("max_receive_count"),
            "`max_receive_count`",
            q.max_receive_count,
        );
        cx.at_least_one(&path.key("concurrency"), "`concurrency`", q.concurrency);
        if let Some(dlq) = &q.dead_letter {
            let dp = path.key("dead_letter");
            if dlq == name {
                cx.rep.error(&dp, "a queue cannot dead-letter to itself");
            } else {
                cx.rep
                    .check_ref(&dp, At::Value, "queue", dlq, &cx.declared.queues);
            }
        }
        if let Some(b) = &q.backoff {
            cx.backoff(&path.key("backoff"), b);
        }
    }
}
