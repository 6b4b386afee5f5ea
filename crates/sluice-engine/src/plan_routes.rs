//! Resolves bus rules and triggers into the plan: compiled patterns with
//! their targets, and HTTP trigger paths with their accepted tokens.
//!
//! Bucket triggers are not routes: they become notification rules of their
//! bucket when the buckets are served.

use crate::plan::{HttpTriggerPlan, Plan, Route, SchedulePlan, TargetKind, TargetPlan};
use crate::plan_build::PlanError;
use sluice_core::pattern::Pattern;
use sluice_core::schedule::Schedule;
use sluice_spec::CatchUp;
use sluice_spec::{Project, Target, TargetRef, TriggerSource};

pub(crate) fn declare_routes(
    project: &Project,
    plan: &mut Plan,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(), PlanError> {
    for (name, rule) in &project.rules {
        let owner = format!("rule `{name}`");
        let pattern = compile(&rule.pattern, &owner)?;
        for (index, target) in rule.targets.iter().enumerate() {
            let route = Route {
                source: format!("rule:{name}"),
                index,
                target: target_plan(target, &owner)?,
            };
            plan.routes.insert(route, pattern.clone());
        }
    }
    for (name, trigger) in &project.triggers {
        let owner = format!("trigger `{name}`");
        match trigger.source() {
            Some(TriggerSource::Event(event)) => {
                let route = Route {
                    source: format!("trigger:{name}"),
                    index: 0,
                    target: target_plan(&trigger.target, &owner)?,
                };
                plan.routes.insert(route, compile(&event.pattern, &owner)?);
            }
            Some(TriggerSource::Http(http)) => {
                if http.path == "/v1" || http.path.starts_with("/v1/") {
                    let reason = format!(
                        "path `{}` is reserved for Sluice's own API; choose another, e.g. /tasks{}",
                        http.path,
                        &http.path[3..]
                    );
                    return Err(PlanError::Unsupported { owner, reason });
                }
                let tokens = trigger
                    .auth_tokens()
                    .iter()
                    .map(|token| {
                        token.resolve(env).map_err(|reason| PlanError::Secret {
                            owner: owner.clone(),
                            key: "auth.tokens".into(),
                            reason,
                        })
                    })
                    .collect::<Result<_, _>>()?;
                plan.http_triggers.push(HttpTriggerPlan {
                    name: name.clone(),
                    path: http.path.clone(),
                    methods: http
                        .methods()
                        .iter()
                        .map(|m| m.as_str().to_string())
                        .collect(),
                    requires_auth: trigger.auth.is_some(),
                    tokens,
                    target: target_plan(&trigger.target, &owner)?,
                });
            }
            Some(TriggerSource::Schedule(expression)) => {
                let invalid = |reason: String| PlanError::Unsupported {
                    owner: owner.clone(),
                    reason,
                };
                let schedule = Schedule::parse(expression)
                    .map_err(|e| invalid(format!("invalid schedule: {e}")))?;
                let tz_name = trigger.timezone.as_deref().unwrap_or("UTC");
                let timezone = tz_name
                    .parse::<chrono_tz::Tz>()
                    .map_err(|e| invalid(format!("time zone `{tz_name}`: {e}")))?;
                if let Some(TargetRef::Topic(t)) = trigger.target.get() {
                    return Err(invalid(format!(
                        "a schedule cannot publish to topic `{t}` directly; target a pipeline with a `notify` phase"
                    )));
                }
                plan.schedules.push(SchedulePlan {
                    name: name.clone(),
                    expression: expression.to_string(),
                    schedule,
                    timezone,
                    catch_up_once: trigger.catch_up() == CatchUp::Once,
                    overlap: trigger.overlap(),
                    target: target_plan(&trigger.target, &owner)?,
                });
            }
            // Bucket triggers become notification rules of their bucket, relayed
            // from the bucket's event outbox (see `Engine::attach_objects`).
            Some(TriggerSource::Bucket(_)) | None => {}
        }
    }
    Ok(())
}

fn compile(pattern: &serde_json::Value, owner: &str) -> Result<Pattern, PlanError> {
    Pattern::compile(pattern).map_err(|e| PlanError::Unsupported {
        owner: owner.to_string(),
        reason: format!("invalid pattern: {e}"),
    })
}

pub(crate) fn target_plan(target: &Target, owner: &str) -> Result<TargetPlan, PlanError> {
    let kind = match target.get() {
        Some(TargetRef::Function(f)) => TargetKind::Function(f.to_string()),
        Some(TargetRef::Pipeline(p)) => TargetKind::Pipeline(p.to_string()),
        Some(TargetRef::Queue(q)) => TargetKind::Queue(q.to_string()),
        Some(TargetRef::Topic(t)) => TargetKind::Topic(t.to_string()),
        None => {
            return Err(PlanError::Unsupported {
                owner: owner.to_string(),
                reason: "the target names nothing".into(),
            })
        }
    };
    Ok(TargetPlan {
        kind,
        input: target.input.clone(),
    })
}
