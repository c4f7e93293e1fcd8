//! The executor's scheduling against a scripted backend: order, waves, bounded concurrency,
//! skipping dependants of failures, created-workspace resolution, cancellation.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use orgform_apply::{ApplyOptions, Backend, Cancel, Effect, Outcome, Step, StepError, apply};
use orgform_model::{OrgRole, WorkspaceRole};
use orgform_plan::{Action, FORMAT_VERSION, InvalidPlan, Op, Plan, Summary, WorkspaceRef};

#[derive(Default)]
struct Fake {
    calls: Mutex<Vec<String>>,
    fail: BTreeSet<String>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    cancel_after: Option<(usize, Cancel)>,
    member_workspaces: Mutex<Vec<Option<String>>>,
}

fn label(op: &Op) -> String {
    match op {
        Op::CreateInvite { email, .. } => format!("invite {email}"),
        Op::CreateWorkspace { name, .. } => format!("create {name}"),
        Op::AddWorkspaceMember { email, .. } => format!("add {email}"),
        Op::RemoveUser { email, .. } => format!("remove {email}"),
        other => other.name().to_owned(),
    }
}

impl Backend for Fake {
    async fn execute(&self, step: Step<'_>) -> Result<Effect, StepError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let name = label(step.op);
        let count = {
            let mut calls = self.calls.lock().unwrap();
            calls.push(name.clone());
            calls.len()
        };
        if let Some((after, cancel)) = &self.cancel_after
            && count >= *after
        {
            cancel.cancel();
        }
        if let Op::AddWorkspaceMember { .. } = step.op {
            self.member_workspaces
                .lock()
                .unwrap()
                .push(step.created_workspace_id.map(str::to_owned));
        }
        if self.fail.contains(&name) {
            return Err(StepError {
                message: format!("{name} refused"),
                request_id: Some("req_1".into()),
            });
        }
        let created_id =
            matches!(step.op, Op::CreateWorkspace { .. }).then(|| "wrkspc_new".to_owned());
        Ok(Effect::Applied {
            request_id: Some(format!("req_{count}")),
            created_id,
        })
    }
}

fn action(id: u32, op: Op, depends_on: Vec<u32>) -> Action {
    Action {
        id,
        target: label(&op),
        op,
        changes: vec![],
        destructive: false,
        irreversible: false,
        depends_on,
        consequences: vec![],
        source: None,
    }
}

fn plan(actions: Vec<Action>) -> Plan {
    Plan {
        format_version: FORMAT_VERSION,
        organization_id: "org".into(),
        manifest_digest: "sha256:m".into(),
        live_digest: "sha256:l".into(),
        actions_digest: orgform_plan::actions_digest(&actions),
        actions,
        deferred: vec![],
        blocked: vec![],
        unmanaged: vec![],
        pending: vec![],
        missing: vec![],
        expiring: vec![],
        staged: vec![],
        errors: vec![],
        refusals: vec![],
        warnings: vec![],
        summary: Summary::default(),
    }
}

fn invite(email: &str) -> Op {
    Op::CreateInvite {
        email: email.into(),
        role: OrgRole::Developer,
    }
}

fn sample() -> Plan {
    plan(vec![
        action(
            1,
            Op::CreateWorkspace {
                name: "prod".into(),
                display_color: None,
                data_residency: None,
                tags: std::collections::BTreeMap::default(),
            },
            vec![],
        ),
        action(2, invite("a@x.example"), vec![]),
        action(3, invite("b@x.example"), vec![]),
        action(4, invite("c@x.example"), vec![]),
        action(
            5,
            Op::AddWorkspaceMember {
                workspace: WorkspaceRef::Created {
                    name: "prod".into(),
                },
                user_id: "user_1".into(),
                email: "d@x.example".into(),
                role: WorkspaceRole::WorkspaceDeveloper,
            },
            vec![1],
        ),
        action(
            6,
            Op::RemoveUser {
                user_id: "user_2".into(),
                email: "e@x.example".into(),
            },
            vec![],
        ),
    ])
}

fn try_run(
    plan: &Plan,
    fake: &Fake,
    options: &ApplyOptions,
) -> Result<orgform_apply::ApplyReport, InvalidPlan> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(apply(plan, fake, options, &|_| {}))
}

fn run(plan: &Plan, fake: &Fake, options: &ApplyOptions) -> orgform_apply::ApplyReport {
    try_run(plan, fake, options).expect("a well-formed plan")
}

#[test]
fn runs_every_action_and_resolves_created_workspaces() {
    let fake = Fake::default();
    let report = run(&sample(), &fake, &ApplyOptions::default());
    assert_eq!(report.summary.done, 6);
    assert!(!report.has_failures());
    let calls = fake.calls.lock().unwrap().clone();
    assert_eq!(calls[0], "create prod", "workspace creation comes first");
    assert_eq!(
        calls.last().unwrap(),
        "remove e@x.example",
        "the removal stays last"
    );
    let pos = |name: &str| calls.iter().position(|c| c == name).unwrap();
    assert!(pos("add d@x.example") > pos("create prod"));
    assert_eq!(
        fake.member_workspaces.lock().unwrap().as_slice(),
        &[Some("wrkspc_new".to_owned())],
        "the member add learned the created workspace's id"
    );
}

#[test]
fn independent_actions_of_one_kind_run_concurrently_within_the_bound() {
    let fake = Fake::default();
    run(
        &sample(),
        &fake,
        &ApplyOptions {
            concurrency: 2,
            cancel: Cancel::new(),
        },
    );
    assert_eq!(
        fake.max_in_flight.load(Ordering::SeqCst),
        2,
        "three invites, at most two at once"
    );

    let serial = Fake::default();
    run(
        &sample(),
        &serial,
        &ApplyOptions {
            concurrency: 1,
            cancel: Cancel::new(),
        },
    );
    assert_eq!(serial.max_in_flight.load(Ordering::SeqCst), 1);
}

#[test]
fn a_failure_skips_only_its_dependants() {
    let fake = Fake {
        fail: BTreeSet::from(["create prod".to_owned()]),
        ..Fake::default()
    };
    let report = run(&sample(), &fake, &ApplyOptions::default());
    assert!(report.has_failures());
    let by_id = |id: u32| &report.actions.iter().find(|a| a.id == id).unwrap().outcome;
    assert!(matches!(by_id(1), Outcome::Failed { request_id: Some(r), .. } if r == "req_1"));
    assert_eq!(by_id(5), &Outcome::Skipped { because: vec![1] });
    for id in [2, 3, 4, 6] {
        assert!(
            by_id(id).is_success(),
            "action {id} is independent of the failure"
        );
    }
    assert_eq!(
        (
            report.summary.failed,
            report.summary.skipped,
            report.summary.done
        ),
        (1, 1, 4)
    );
    let text = report.to_text();
    assert!(text.contains("FAILED"), "{text}");
    assert!(text.contains("[request-id req_1]"), "{text}");
    assert!(text.contains("depends on #1"), "{text}");
}

#[test]
fn cancellation_stops_new_actions_and_says_so() {
    let cancel = Cancel::new();
    let fake = Fake {
        cancel_after: Some((2, cancel.clone())),
        ..Fake::default()
    };
    let report = run(
        &sample(),
        &fake,
        &ApplyOptions {
            concurrency: 1,
            cancel,
        },
    );
    assert!(report.interrupted);
    assert_eq!(
        fake.calls.lock().unwrap().len(),
        2,
        "nothing starts after the cancel"
    );
    assert_eq!(report.summary.done, 2);
    assert_eq!(report.summary.not_started + report.summary.skipped, 4);
    assert!(report.to_text().contains("Interrupted"));
}

#[test]
fn a_refused_plan_is_never_executed() {
    let fake = Fake::default();
    let mut refused = sample();
    refused
        .refusals
        .push(orgform_plan::Refusal::OrganizationMismatch {
            manifest: "a".into(),
            live: "b".into(),
        });
    let report = run(&refused, &fake, &ApplyOptions::default());
    assert!(fake.calls.lock().unwrap().is_empty());
    assert_eq!(report.summary.not_started, 6);
}

#[test]
fn malformed_actions_are_refused_before_any_write() {
    // Each would once have run partly: a duplicate id hid one action from the report, a
    // missing or later dependency and a cycle made actions skip without a failure.
    type Edit = Box<dyn Fn(&mut Plan)>;
    let cases: Vec<(&str, Edit, InvalidPlan)> = vec![
        (
            "duplicate id",
            Box::new(|p| p.actions[5].id = 2),
            InvalidPlan::DuplicateId { id: 2 },
        ),
        (
            "missing dependency",
            Box::new(|p| p.actions[5].depends_on = vec![42]),
            InvalidPlan::MissingDependency { id: 6, missing: 42 },
        ),
        (
            "cycle",
            Box::new(|p| {
                p.actions[1].depends_on = vec![3];
                p.actions[2].depends_on = vec![2];
            }),
            InvalidPlan::DependencyCycle { ids: vec![2, 3] },
        ),
        (
            "later dependency",
            Box::new(|p| p.actions[0].depends_on = vec![6]),
            InvalidPlan::LaterDependency { id: 1, later: 6 },
        ),
    ];
    for (name, edit, expected) in cases {
        let fake = Fake::default();
        let mut bad = sample();
        edit(&mut bad);
        let result = try_run(&bad, &fake, &ApplyOptions::default());
        assert_eq!(result.err(), Some(expected), "{name}");
        assert!(
            fake.calls.lock().unwrap().is_empty(),
            "{name}: nothing was executed"
        );
    }
}

#[test]
fn report_json_round_trips() {
    let fake = Fake::default();
    let report = run(&sample(), &fake, &ApplyOptions::default());
    let back: orgform_apply::ApplyReport = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(back, report);
}
