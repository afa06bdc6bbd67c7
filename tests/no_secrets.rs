//! No password, token, session, TOTP secret, code or client secret seen on
//! the wire may appear in a snapshot or a report, nor any SRP value or the
//! secrets the runner makes up (device passwords, SRP `a`). The raw traffic of
//! every bundled scenario (and of a scenario that fails on purpose right after
//! receiving tokens) is recorded, with the runner's own secrets, and every
//! secret value in it is searched for in what the user sees.

mod support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use cognito_scenarios::report;
use cognito_scenarios::report::junit;
use cognito_scenarios::report::parity::{self, ParityOptions, ParityTarget};
use cognito_scenarios::run::engine::{RunSettings, run_scenario};
use cognito_scenarios::run::snapshot::{self, ReferenceSource};
use cognito_scenarios::run::suite;
use cognito_scenarios::targets::{Target, TargetSpec};
use serde_json::Value;

const SECRET_KEYS: &[&str] = &[
    "Password",
    "PASSWORD",
    "NEW_PASSWORD",
    "TemporaryPassword",
    "PreviousPassword",
    "ProposedPassword",
    "Session",
    "AccessToken",
    "IdToken",
    "RefreshToken",
    "Token",
    "SecretCode",
    "ClientSecret",
    "SECRET_HASH",
    "SecretHash",
    "UserCode",
    "SOFTWARE_TOKEN_MFA_CODE",
    "ConfirmationCode",
    // SRP and device tracking: on the wire…
    "SRP_A",
    "SRP_B",
    "SALT",
    "SECRET_BLOCK",
    "PASSWORD_CLAIM_SECRET_BLOCK",
    "PASSWORD_CLAIM_SIGNATURE",
    "PasswordVerifier",
    "Salt",
    "DeviceGroupKey",
    // …and made up by the runner, never sent.
    "device_password",
    "srp_a_secret",
];

fn collect(value: &Value, key: Option<&str>, out: &mut Vec<String>) {
    match value {
        Value::String(s) if key.is_some_and(|k| SECRET_KEYS.contains(&k)) && !s.is_empty() => {
            out.push(s.clone())
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, key, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| collect(v, Some(k), out)),
        _ => {}
    }
}

/// A secret "appears" when its JSON string form (quoted) or, for long values, any occurrence is found.
fn leaks<'a>(secrets: &'a [String], shown: &str) -> Vec<&'a str> {
    secrets
        .iter()
        .filter(|s| {
            if s.len() >= 8 {
                shown.contains(s.as_str())
            } else {
                shown.contains(&format!("\"{s}\"")) || shown.contains(&format!(": {s}\n"))
            }
        })
        .map(String::as_str)
        .collect()
}

#[test]
fn no_secret_reaches_snapshots_or_reports() {
    std::env::set_current_dir(support::root()).unwrap();
    let paths = [
        PathBuf::from("scenarios"),
        PathBuf::from("tests/fixtures/leaky"),
    ];
    let loaded = suite::load(&paths, None, &[], false).unwrap();
    assert!(loaded.invalid.is_empty());
    assert!(
        loaded.scenarios.len() >= 10,
        "expected the bundled scenarios"
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut failures_seen = 0;
    let mut secrets_seen = 0;
    let mut made_up_seen = 0;
    let mut all_secrets = Vec::new();
    let mut runs = Vec::new();
    runtime.block_on(async {
        let target = Target::open(TargetSpec::Stub { real_clock: false })
            .await
            .unwrap();
        for scenario in &loaded.scenarios {
            let mut conn = target.connect().await.unwrap();
            let recorder = Arc::new(Mutex::new(Vec::new()));
            conn.recorder = Some(recorder.clone());
            let settings = RunSettings {
                target: "stub".into(),
                label: None,
                run_id: "t1".into(),
                deviations: Default::default(),
                guard_existing_pools: false,
                cleanup_args: None,
            };
            let run = run_scenario(scenario, &conn, &settings).await;
            if run.is_failed() {
                failures_seen += 1;
            }
            let mut secrets = Vec::new();
            for exchange in recorder.lock().unwrap().iter() {
                collect(exchange, None, &mut secrets);
                made_up_seen += usize::from(exchange.get("hidden").is_some());
            }
            secrets_seen += secrets.len();
            let snapshot = snapshot::file::render_body(&run.transcript);
            let shown = format!("{snapshot}\n{}", report::console::scenario_result(&run));
            let leaked = leaks(&secrets, &shown);
            assert!(
                leaked.is_empty(),
                "{}: secrets shown: {leaked:?}\n{shown}",
                scenario.name
            );
            all_secrets.extend(secrets);
            runs.push(run);
        }
    });
    // The parity reports and JUnit files are built from the same runs.
    let targets = [ParityTarget {
        label: "stub".into(),
        spec: TargetSpec::Stub { real_clock: false },
        deviations: Default::default(),
    }];
    let options = ParityOptions {
        reference: ReferenceSource::Aws,
        snapshot_dir: PathBuf::from("snapshots"),
        jobs: Some(1),
        run_id: "t1".into(),
    };
    let report = parity::compare_runs(
        &loaded.scenarios,
        &targets,
        &[runs.clone()],
        &options,
        vec![],
    );
    assert!(
        report
            .scenarios
            .iter()
            .any(|r| !r.cells[0].failures.is_empty()),
        "the failing scenario is part of the parity report"
    );
    let escaped: Vec<String> = all_secrets
        .iter()
        .flat_map(|s| [s.clone(), escape_markup(s)])
        .collect();
    let outputs = [
        ("parity.md", parity::markdown::render(&report)),
        (
            "parity.json",
            serde_json::to_string_pretty(&report).unwrap(),
        ),
        ("parity.html", parity::html::render(&report)),
        (
            "parity junit",
            junit::render(&parity::junit_suites(&report)),
        ),
        (
            "run --junit",
            junit::render(&[junit::suite_of_runs("stub", &runs, &[])]),
        ),
        ("parity console", parity::summary(&report)),
    ];
    for (what, text) in outputs {
        let leaked = leaks(&escaped, &text);
        assert!(leaked.is_empty(), "{what}: secrets shown: {leaked:?}");
    }
    assert!(
        secrets_seen > 50,
        "the scenarios should have exchanged many secrets, saw {secrets_seen}"
    );
    assert!(
        made_up_seen >= 4,
        "the SRP and device scenarios should have made device passwords and SRP secrets, saw {made_up_seen}"
    );
    assert!(
        failures_seen >= 1,
        "the deliberately failing scenario must fail (its report is part of the check)"
    );
}

/// A secret as HTML and XML would show it.
fn escape_markup(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
