//! The pure part of deciding what to do about a failure: whether the monitor may touch the cluster
//! (scope), and the steps of its playbook for the cluster as it is now (which fallback step).

use serde::{Deserialize, Serialize};

use crate::api::{Cluster, SpecChange};
use crate::config::Scope;
use crate::playbook::{Action, Playbook};

/// The custom tag brickstack puts on the clusters it makes: the environment's name.
pub const ENVIRONMENT_TAG: &str = "brickstack:environment";

/// Why a ticket gets no action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hold {
    /// The playbook's action is `none`.
    PlaybookNone,
    /// `[monitor].auto_remediation = false`.
    RemediationOff,
    /// Neither brickstack's nor covered by `[monitor.scope]`.
    OutOfScope,
    /// `cluster_source = JOB`: such a cluster cannot be started again.
    JobCluster,
    /// No workspace of the environment has the cluster (a push about an unknown cluster).
    ClusterUnknown,
    /// A circuit breaker is open.
    BreakerOpen,
}

impl Hold {
    pub fn note(self) -> &'static str {
        match self {
            Hold::PlaybookNone => "ticket only: the playbook's action is `none`",
            Hold::RemediationOff => "ticket only: [monitor].auto_remediation is false",
            Hold::OutOfScope => {
                "ticket only: the cluster is outside [monitor.scope] (not brickstack's, no scope tag or policy)"
            }
            Hold::JobCluster => "ticket only: a job cluster cannot be started again",
            Hold::ClusterUnknown => "ticket only: no workspace of the environment has this cluster",
            Hold::BreakerOpen => "no action: a circuit breaker is open",
        }
    }
}

/// One step of a recovery, executed in order; each is an `actions` row (intent, sent, outcome).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum Step {
    /// `clusters/edit` of the terminated cluster (the fallback).
    ChangeSpec { change: SpecChange },
    /// `clusters/start` when terminated, `clusters/restart` when running, nothing when it is
    /// already coming up.
    Start,
    /// `clusters/resize` (the cluster running).
    Resize { num_workers: i64 },
}

/// A step and the name it is known by (`actions_taken`, the ticket's actions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStep {
    pub step: Step,
    pub name: String,
}

/// Why the monitor may act on `cluster`, `None` when it may not.
pub fn scope_reason(cluster: &Cluster, environment: &str, scope: &Scope) -> Option<&'static str> {
    if cluster.custom_tags.get(ENVIRONMENT_TAG).map(String::as_str) == Some(environment) {
        return Some("brickstack's cluster for this environment");
    }
    if !scope.tags.is_empty()
        && scope
            .tags
            .iter()
            .all(|(k, v)| cluster.custom_tags.get(k) == Some(v))
    {
        return Some("carries every tag of [monitor.scope].tags");
    }
    if cluster
        .policy_id
        .as_ref()
        .is_some_and(|id| scope.policy_ids.contains(id))
    {
        return Some("under a policy of [monitor.scope].policies");
    }
    if scope.remediate_unmanaged {
        return Some("[monitor.scope].unmanaged = \"remediate\"");
    }
    None
}

pub fn is_job_cluster(cluster: &Cluster) -> bool {
    cluster.cluster_source.as_deref() == Some("JOB")
}

/// The steps of `playbook` for `cluster` as it is now, and a note when the playbook could not be
/// followed as written (fallback steps exhausted, resize without `resize_to`). Empty for `none`.
pub fn plan(playbook: &Playbook, cluster: &Cluster) -> (Vec<PlannedStep>, Option<String>) {
    let running = cluster.state == "RUNNING";
    let start = |name: &str| PlannedStep {
        step: Step::Start,
        name: name.to_owned(),
    };
    let bring_up = || {
        start(if running {
            "restart_cluster"
        } else {
            "start_cluster"
        })
    };
    match playbook.action {
        Action::None => (Vec::new(), None),
        Action::Restart => (vec![bring_up()], None),
        Action::RestartWithLongerTimeout => (
            vec![start(&format!(
                "restart_with_longer_timeout:{}s",
                playbook.longer_timeout.as_secs()
            ))],
            None,
        ),
        Action::RestartWithFallback => {
            if running {
                return (
                    vec![bring_up()],
                    Some("the cluster is running: no fallback edit, restarted as is".to_owned()),
                );
            }
            match next_fallback(playbook, cluster) {
                Some(change) => (
                    vec![
                        PlannedStep {
                            name: format!("restart_with_fallback:{}", change_name(&change)),
                            step: Step::ChangeSpec { change },
                        },
                        start("start_cluster"),
                    ],
                    None,
                ),
                None => (
                    vec![start("start_cluster")],
                    Some(
                        "every fallback step is taken (on-demand, instance types, zones): started as is"
                            .to_owned(),
                    ),
                ),
            }
        }
        Action::Resize => match playbook.resize_to {
            Some(n) => {
                let resize = PlannedStep {
                    step: Step::Resize { num_workers: n },
                    name: format!("resize_cluster:{n}"),
                };
                if running {
                    (vec![resize], None)
                } else {
                    (vec![start("start_cluster"), resize], None)
                }
            }
            None => (
                vec![bring_up()],
                Some("the resize playbook has no resize_to: restarted as is".to_owned()),
            ),
        },
    }
}

/// The next fallback step for the cluster as it is: on-demand first (when asked and not already),
/// then the instance type after the current one, then the zone after the current one. A cluster
/// already edited by an earlier failure's fallback shows it, so each later failure takes the
/// next step.
pub fn next_fallback(playbook: &Playbook, cluster: &Cluster) -> Option<SpecChange> {
    if playbook.on_demand && cluster.availability.as_deref() != Some("ON_DEMAND") {
        return Some(SpecChange::OnDemand);
    }
    if let Some(t) = next_after(&playbook.instance_types, cluster.node_type_id.as_deref()) {
        return Some(SpecChange::NodeType(t));
    }
    next_after(&playbook.zones, cluster.zone_id.as_deref()).map(SpecChange::Zone)
}

fn next_after(list: &[String], current: Option<&str>) -> Option<String> {
    match current.and_then(|c| list.iter().position(|x| x == c)) {
        Some(i) => list.get(i + 1).cloned(),
        None => list.first().cloned(),
    }
}

pub fn change_name(change: &SpecChange) -> String {
    match change {
        SpecChange::OnDemand => "on_demand".to_owned(),
        SpecChange::NodeType(t) => format!("node_type={t}"),
        SpecChange::Zone(z) => format!("zone={z}"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn cluster(state: &str, availability: &str, node: &str, zone: &str) -> Cluster {
        Cluster {
            cluster_id: "c".into(),
            cluster_name: "c".into(),
            state: state.into(),
            availability: Some(availability.into()),
            node_type_id: Some(node.into()),
            zone_id: Some(zone.into()),
            ..Cluster::default()
        }
    }

    fn fallback() -> Playbook {
        let mut p = Playbook::with_action(Action::RestartWithFallback);
        p.instance_types = vec!["i3.xlarge".into(), "r5d.xlarge".into()];
        p.zones = vec!["eu-west-1a".into(), "eu-west-1b".into()];
        p
    }

    #[test]
    fn fallback_steps_follow_the_ladder() {
        let cases = [
            ("SPOT", "i3.xlarge", "eu-west-1a", Some("on_demand")),
            ("SPOT_WITH_FALLBACK", "i3.xlarge", "auto", Some("on_demand")),
            (
                "ON_DEMAND",
                "i3.xlarge",
                "eu-west-1a",
                Some("node_type=r5d.xlarge"),
            ),
            (
                "ON_DEMAND",
                "m5.xlarge",
                "eu-west-1a",
                Some("node_type=i3.xlarge"),
            ),
            (
                "ON_DEMAND",
                "r5d.xlarge",
                "eu-west-1a",
                Some("zone=eu-west-1b"),
            ),
            ("ON_DEMAND", "r5d.xlarge", "auto", Some("zone=eu-west-1a")),
            ("ON_DEMAND", "r5d.xlarge", "eu-west-1b", None),
        ];
        for (availability, node, zone, expected) in cases {
            let got = next_fallback(
                &fallback(),
                &cluster("TERMINATED", availability, node, zone),
            );
            assert_eq!(
                got.as_ref().map(change_name).as_deref(),
                expected,
                "{availability} {node} {zone}"
            );
        }
        let mut no_on_demand = fallback();
        no_on_demand.on_demand = false;
        assert_eq!(
            next_fallback(
                &no_on_demand,
                &cluster("TERMINATED", "SPOT", "i3.xlarge", "x")
            ),
            Some(SpecChange::NodeType("r5d.xlarge".into()))
        );
    }

    #[test]
    fn plans_name_their_steps() {
        let terminated = cluster("TERMINATED", "SPOT", "i3.xlarge", "auto");
        let running = cluster("RUNNING", "SPOT", "i3.xlarge", "auto");
        let names = |p: &Playbook, c: &Cluster| -> Vec<String> {
            plan(p, c).0.into_iter().map(|s| s.name).collect()
        };
        let restart = Playbook::with_action(Action::Restart);
        assert_eq!(names(&restart, &terminated), ["start_cluster"]);
        assert_eq!(names(&restart, &running), ["restart_cluster"]);
        assert_eq!(
            names(&fallback(), &terminated),
            ["restart_with_fallback:on_demand", "start_cluster"]
        );
        let mut resize = Playbook::with_action(Action::Resize);
        resize.resize_to = Some(8);
        assert_eq!(
            names(&resize, &terminated),
            ["start_cluster", "resize_cluster:8"]
        );
        assert_eq!(names(&resize, &running), ["resize_cluster:8"]);
        let longer = Playbook::with_action(Action::RestartWithLongerTimeout);
        assert_eq!(
            names(&longer, &terminated),
            ["restart_with_longer_timeout:1200s"]
        );
        assert!(names(&Playbook::with_action(Action::None), &terminated).is_empty());
    }

    #[test]
    fn scope_rules() {
        let scope = Scope {
            tags: BTreeMap::from([("team".into(), "data".into())]),
            policy_ids: ["P1".to_owned()].into(),
            remediate_unmanaged: false,
        };
        let with = |tags: &[(&str, &str)], policy: Option<&str>| Cluster {
            custom_tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            policy_id: policy.map(str::to_owned),
            ..Cluster::default()
        };
        assert!(scope_reason(&with(&[(ENVIRONMENT_TAG, "dev")], None), "dev", &scope).is_some());
        assert!(scope_reason(&with(&[(ENVIRONMENT_TAG, "prod")], None), "dev", &scope).is_none());
        assert!(scope_reason(&with(&[("team", "data")], None), "dev", &scope).is_some());
        assert!(scope_reason(&with(&[("team", "web")], None), "dev", &scope).is_none());
        assert!(scope_reason(&with(&[], Some("P1")), "dev", &scope).is_some());
        assert!(scope_reason(&with(&[], Some("P2")), "dev", &scope).is_none());
        let everything = Scope {
            remediate_unmanaged: true,
            ..Scope::default()
        };
        assert!(scope_reason(&with(&[], None), "dev", &everything).is_some());
        // An empty tag rule covers nothing.
        assert!(scope_reason(&with(&[], None), "dev", &Scope::default()).is_none());
    }
}
