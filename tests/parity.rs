//! `cognito-scenarios parity` and `run --junit` as a CI job meets them: the
//! stub against its own snapshots, a real moto against an expectation file
//! (complete, one entry short, one entry too many), and reports that parse.

mod support;

use support::cli;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn shown(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cs-parity-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn json_report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("parity.json")).unwrap()).unwrap()
}

/// Parses a JUnit file with Python's XML parser (well-formedness) and returns
/// per-suite `[name, tests, failures, skipped, testcase elements, failure elements]`.
fn junit_counts(file: &Path) -> Value {
    let script = r#"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
print(json.dumps([[s.get("name"), int(s.get("tests")), int(s.get("failures")), int(s.get("skipped")),
  len(s.findall("testcase")), len(s.findall("testcase/failure")), len(s.findall("testcase/skipped"))] for s in root]))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(file)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", shown(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn the_stub_against_its_own_snapshots_is_at_full_parity() {
    let out_dir = temp_dir("stub");
    let out = cli(&[
        "parity",
        "--targets",
        "stub",
        "--reference",
        "stub",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
    let report = json_report(&out_dir);
    assert_eq!(report["schema"], "cognito-scenarios/parity/v2");
    assert_eq!(report["reference"], "stub");
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["debt_total"], 0);
    let target = &report["targets"][0];
    assert_eq!(target["name"], "stub");
    assert_eq!(target["spec"], "stub");
    assert_eq!(target["score"], 100.0);
    assert!(target["compared_steps"].as_u64().unwrap() > 30);
    assert_eq!(target["compared_steps"], target["equal_steps"]);
    assert_eq!(target["blocked_steps"], 0);
    let scenarios = report["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 10, "the bundled suite");
    assert_eq!(target["counts"]["pass"], json!(scenarios.len()));
    for row in scenarios {
        assert_eq!(row["reference"]["source"], "stub", "{row}");
        let cell = &row["cells"][0];
        assert_eq!(cell["target"], "stub");
        assert_eq!(cell["status"], "pass", "{cell}");
        for step in cell["steps"].as_array().unwrap() {
            assert_eq!(step["state"], "equal", "{step}");
        }
    }
    let junit = junit_counts(&out_dir.join("junit.xml"));
    assert_eq!(
        junit,
        json!([["parity.stub", scenarios.len(), 0, 0, scenarios.len(), 0, 0]])
    );
    let md = std::fs::read_to_string(out_dir.join("parity.md")).unwrap();
    assert!(md.contains("| stub | 100.0% |"), "{md}");
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn run_writes_junit_with_invalid_files_as_failures() {
    let dir = temp_dir("junit");
    let file = dir.join("junit.xml");
    let out = cli(&[
        "run",
        "tests/fixtures/cli",
        "--snapshots",
        "off",
        "--junit",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", shown(&out));
    assert_eq!(junit_counts(&file), json!([["stub", 3, 2, 0, 3, 2, 0]]));
    let xml = std::fs::read_to_string(&file).unwrap();
    assert!(
        xml.contains("unknown key `cal` in a step"),
        "diagnostics in the failure text: {xml}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// One expectation-file entry in YAML.
fn entry_yaml(e: &Value) -> String {
    let mut text = format!("- scenario: {}\n  step: {}\n", e["scenario"], e["step"]);
    if let Some(path) = e["path"].as_str() {
        text.push_str(&format!("  path: {}\n", json!(path)));
    }
    text.push_str(&format!(
        "  kind: {}\n  reason: {}\n",
        e["kind"].as_str().unwrap(),
        e["reason"]
    ));
    text
}

/// Every unlisted difference or failure of a report, as expectation entries.
fn entries_for_new_deviations(report: &Value, next: &mut usize) -> Vec<Value> {
    let mut entries = Vec::new();
    for row in report["scenarios"].as_array().unwrap() {
        for cell in row["cells"].as_array().unwrap() {
            let mut add = |step: &Value, path: Option<&str>, kind: &str| {
                *next += 1;
                let e = json!({"scenario": row["file"], "step": step, "path": path, "kind": kind,
                    "reason": format!("moto differs here <#{next}> & \"quoted\"")});
                if !entries.contains(&e) {
                    entries.push(e);
                }
            };
            for step in cell["steps"].as_array().unwrap() {
                for d in step["differences"].as_array().unwrap() {
                    if d["listed"].is_null() {
                        let path = d["path"].as_str().filter(|p| !p.is_empty());
                        add(&step["step"], path, d["suggested_kind"].as_str().unwrap());
                    }
                }
            }
            for f in cell["failures"].as_array().unwrap() {
                let failing_step_listed = cell["steps"].as_array().unwrap().iter().any(|s| {
                    s["step"] == f["step"] && !s["differences"].as_array().unwrap().is_empty()
                });
                if !failing_step_listed {
                    let kind = match f["kind"].as_str() {
                        Some("unsupported") => "unsupported",
                        _ => "wrong-error",
                    };
                    add(&f["step"], None, kind);
                }
            }
        }
    }
    entries
}

/// Every listed deviation of a report that did not occur.
fn unexpected_passes(report: &Value) -> Vec<Value> {
    let mut stale = Vec::new();
    for row in report["scenarios"].as_array().unwrap() {
        for cell in row["cells"].as_array().unwrap() {
            for l in cell["unexpected_passes"].as_array().unwrap() {
                stale.push(json!({"scenario": row["file"], "step": l["step"], "path": l["path"]}));
            }
        }
    }
    stale
}

/// Whether a generated entry is the listed one `stale` names.
fn same_entry(entry: &Value, stale: &Value) -> bool {
    let path = |v: &Value| v["path"].as_str().map(str::to_string);
    entry["scenario"] == stale["scenario"]
        && entry["step"] == stale["step"]
        && path(entry) == path(stale)
}

#[test]
fn moto_against_an_expectation_file_fails_on_exactly_the_missing_entry() {
    let moto = support::Server::moto();
    let dir = temp_dir("moto");
    let expectations = dir.join("moto.yaml");
    let targets = format!("stub,moto=endpoint={}", moto.url());
    let parity = |out: &Path| {
        cli(&[
            "parity",
            "scenarios/new-password",
            "--targets",
            &targets,
            "--expectations",
            &format!("moto={}", expectations.display()),
            "--jobs",
            "2",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    // Start from an empty list (independent of the committed one) and add
    // whatever moto does differently, until the list is complete. Every step
    // that can run, runs, so a round may find a difference that follows from
    // an unlisted one (a step blocked by it left the user in another state);
    // once its cause is listed it no longer occurs, and the report says so:
    // such entries are removed again.
    let committed = String::new();
    let mut listed = committed.clone();
    let mut generated: Vec<Value> = Vec::new();
    let mut next = 0;
    let complete = dir.join("complete");
    for round in 0.. {
        assert!(round < 12, "the expectation list does not converge");
        std::fs::write(&expectations, &listed).unwrap();
        let out = parity(&complete);
        let report = json_report(&complete);
        let new = entries_for_new_deviations(&report, &mut next);
        let stale = unexpected_passes(&report);
        if new.is_empty() && stale.is_empty() {
            assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
            break;
        }
        generated.retain(|e| !stale.iter().any(|s| same_entry(e, s)));
        generated.extend(new);
        listed = committed.clone() + &generated.iter().map(entry_yaml).collect::<String>();
    }
    assert!(!generated.is_empty(), "moto differs from the stub");
    let report = json_report(&complete);
    let moto_summary = &report["targets"][1];
    assert_eq!(moto_summary["name"], "moto");
    assert!(moto_summary["score"].as_f64().unwrap() < 100.0);
    assert!(moto_summary["debt"].as_u64().unwrap() >= generated.len() as u64);
    assert_eq!(report["debt_total"], moto_summary["debt"]);
    for row in report["scenarios"].as_array().unwrap() {
        assert_eq!(row["cells"][0]["status"], "pass");
        assert_eq!(
            row["cells"][1]["status"], "known-deviation",
            "{}",
            row["file"]
        );
    }
    // The HTML page is self-contained and shows every listed deviation's reason.
    let html = std::fs::read_to_string(complete.join("parity.html")).unwrap();
    for banned in [
        "<script src",
        "<link",
        "src=\"http",
        "url(",
        "@import",
        "<iframe",
    ] {
        assert!(!html.contains(banned), "not self-contained: {banned}");
    }
    for e in &generated {
        let reason = html_escape(e["reason"].as_str().unwrap());
        assert!(html.contains(&reason), "missing reason {reason}");
    }
    assert!(!html.contains("<#"), "text is escaped");
    let junit = junit_counts(&complete.join("junit.xml"));
    assert_eq!(
        junit,
        json!([
            ["parity.stub", 3, 0, 0, 3, 0, 0],
            ["parity.moto", 3, 0, 0, 3, 0, 0]
        ])
    );

    // `run` with the same list judges entries the same way: differences that
    // only the reference comparison sees still count as occurring.
    let run = |file: &Path| {
        cli(&[
            "run",
            "scenarios/new-password",
            "--target",
            &format!("endpoint={}", moto.url()),
            "--expectations",
            file.to_str().unwrap(),
        ])
    };
    let out = run(&expectations);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
    assert!(!stdout.contains("no longer occurs"), "{stdout}");
    assert!(stdout.contains("known deviation:"), "{stdout}");

    // One entry fewer: exactly that step shows a new deviation, and the run
    // fails. (A token header field: no expectation checks it, so the step
    // still passes its own checks and nothing after it changes.)
    let removed = generated
        .iter()
        .find(|e| e["path"].as_str().is_some_and(|p| p.contains(".header")))
        .expect("a generated entry for a token header")
        .clone();
    let shorter: String = committed.clone()
        + &generated
            .iter()
            .filter(|e| **e != removed)
            .map(entry_yaml)
            .collect::<String>();
    std::fs::write(&expectations, shorter).unwrap();
    let short_dir = dir.join("short");
    let out = parity(&short_dir);
    assert_eq!(out.status.code(), Some(4), "{}", shown(&out));
    let report = json_report(&short_dir);
    let mut new_cells = Vec::new();
    for row in report["scenarios"].as_array().unwrap() {
        let cell = &row["cells"][1];
        if cell["status"] == "new-deviation" {
            new_cells.push(row["file"].clone());
            let new_steps: Vec<&Value> = cell["steps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| {
                    s["differences"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|d| d["listed"].is_null())
                })
                .map(|s| &s["step"])
                .collect();
            assert_eq!(new_steps, vec![&removed["step"]], "{cell}");
            for f in cell["failures"].as_array().unwrap() {
                assert_eq!(f["step"], removed["step"]);
            }
        } else {
            assert_eq!(cell["status"], "known-deviation", "{}", row["file"]);
        }
    }
    assert_eq!(new_cells, vec![removed["scenario"].clone()]);
    let md = std::fs::read_to_string(short_dir.join("parity.md")).unwrap();
    assert!(md.contains("## New deviations"), "{md}");
    assert!(md.contains(removed["path"].as_str().unwrap()), "{md}");
    // The report offers the missing entry, reason left for a person to write.
    let offered = format!(
        "- scenario: {}\n  step: {}\n  path: {}\n  kind: {}\n  reason:\n",
        removed["scenario"],
        removed["step"],
        removed["path"],
        removed["kind"].as_str().unwrap()
    );
    assert!(md.contains(&offered), "{offered}\n{md}");
    let junit = junit_counts(&short_dir.join("junit.xml"));
    assert_eq!(junit[1], json!(["parity.moto", 3, 1, 0, 3, 1, 0]));

    // One entry too many: a listed deviation that does not occur is an unexpected pass.
    let bogus = json!({"scenario": removed["scenario"], "step": removed["step"],
        "path": "NoSuchField", "kind": "missing-field", "reason": "listed but never happens"});
    std::fs::write(&expectations, listed.clone() + &entry_yaml(&bogus)).unwrap();
    let extra_dir = dir.join("extra");
    let out = parity(&extra_dir);
    assert_eq!(out.status.code(), Some(4), "{}", shown(&out));
    let report = json_report(&extra_dir);
    let row = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["file"] == removed["scenario"])
        .unwrap();
    assert_eq!(row["cells"][1]["status"], "unexpected-pass");
    assert_eq!(
        row["cells"][1]["unexpected_passes"],
        json!([{"step": removed["step"], "path": "NoSuchField", "kind": "missing-field", "reason": "listed but never happens"}])
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("UNEXPECTED-PASS [moto]"), "{stdout}");
    let out = run(&expectations);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "listed deviation no longer occurs, remove it from {}: {} › NoSuchField",
            expectations.display(),
            removed["step"].as_str().unwrap()
        )),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The check grid of a parity report as `id → [verdict per target]`.
fn check_verdicts(report: &Value) -> std::collections::BTreeMap<String, Vec<String>> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let verdicts = row["cells"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["verdict"].as_str().unwrap().to_string())
                .collect();
            (row["id"].as_str().unwrap().to_string(), verdicts)
        })
        .collect()
}

/// `parity` of `scenarios` on the stub and `moto` (labelled moto) with the
/// expectation file `expectations`, written to `out`.
fn stub_and_moto(
    moto: &support::Server,
    scenarios: &[&str],
    expectations: &Path,
    out: &Path,
) -> Output {
    let targets = format!("stub,moto=endpoint={}", moto.url());
    let moto_file = format!("moto={}", expectations.display());
    let mut args = vec!["parity"];
    args.extend_from_slice(scenarios);
    args.extend([
        "--targets",
        &targets,
        "--expectations",
        &moto_file,
        "--out",
        out.to_str().unwrap(),
    ]);
    cli(&args)
}

#[test]
fn a_target_that_skips_one_check_shows_not_enforced_for_that_check_only() {
    // moto ignores a client's ExplicitAuthFlows and refuses wrong passwords:
    // one check it skips, one it enforces.
    let moto = support::Server::moto();
    let dir = temp_dir("grid");
    let scenarios = [
        "scenarios/negative/auth-flow-disabled.yaml",
        "scenarios/negative/wrong-credentials.yaml",
    ];
    let parity =
        |expectations: &Path, out: &Path| stub_and_moto(&moto, &scenarios, expectations, out);
    let committed = Path::new("expectations/moto.yaml");
    let out = parity(committed, &dir.join("listed"));
    assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
    let grid = check_verdicts(&json_report(&dir.join("listed")));
    let skipped = "auth-flow.not-allowed-refused";
    assert_eq!(grid[skipped], ["enforced", "not-enforced"], "{grid:?}");
    assert_eq!(
        grid["password.verified"],
        ["enforced", "enforced"],
        "{grid:?}"
    );
    for (id, verdicts) in &grid {
        if id != skipped {
            assert!(
                verdicts.iter().all(|v| v != "not-enforced"),
                "{id}: {verdicts:?}"
            );
        }
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with(skipped) && l.contains("NOT ENFORCED")),
        "{stdout}"
    );
    // The page reads without an emoji font, and each detail leads back to the matrix.
    let html = std::fs::read_to_string(dir.join("listed/parity.html")).unwrap();
    assert!(html.contains("NOT ENFORCED") && html.contains("href=\"#matrix\""));
    assert!(!html.chars().any(
        |c| ('\u{1F300}'..='\u{1FAFF}').contains(&c) || ('\u{2600}'..='\u{27BF}').contains(&c)
    ));
    let markdown = std::fs::read_to_string(dir.join("listed/parity.md")).unwrap();
    // Behaviour, shape and message scores apart, and per-operation coverage.
    let report = json_report(&dir.join("listed"));
    let moto_summary = &report["targets"][1];
    let behaviour = moto_summary["behaviour_score"].as_f64().unwrap();
    assert!(
        behaviour > moto_summary["score"].as_f64().unwrap() && behaviour < 100.0,
        "{moto_summary}"
    );
    let initiate = &moto_summary["operations"]["InitiateAuth"];
    assert!(
        initiate["ran"].as_u64().unwrap() >= 3 && initiate["unsupported"] == 0,
        "{initiate}"
    );
    assert!(
        markdown.contains("## Operations") && markdown.contains("| InitiateAuth | implemented (")
    );
    let grid_at = markdown.find("## Security checks").unwrap();
    assert!(
        grid_at < markdown.find("## Behaviour parity").unwrap(),
        "the grid comes first"
    );

    // The same gap listed under another kind is still NOT ENFORCED: moto
    // answered with tokens where the reference refuses.
    let mislabelled = dir.join("mislabelled.yaml");
    let text = std::fs::read_to_string(committed).unwrap().replacen(
        "  step: USER_PASSWORD_AUTH is not enabled on this client\n  kind: not-enforced",
        "  step: USER_PASSWORD_AUTH is not enabled on this client\n  kind: different-value",
        1,
    );
    assert!(text.contains(
        "kind: different-value\n  reason: >\n    moto ignores the client's ExplicitAuthFlows"
    ));
    std::fs::write(&mislabelled, text).unwrap();
    let out = parity(&mislabelled, &dir.join("mislabelled"));
    assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
    let grid = check_verdicts(&json_report(&dir.join("mislabelled")));
    assert_eq!(grid[skipped], ["enforced", "not-enforced"], "{grid:?}");
}

/// `(scenario, step)` of every difference at `path` in a parity report,
/// for target `index`: covered by a listed entry, or new.
fn differences_at(report: &Value, index: usize, path: &str, listed: bool) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for row in report["scenarios"].as_array().unwrap() {
        for step in row["cells"][index]["steps"].as_array().unwrap() {
            for d in step["differences"].as_array().unwrap() {
                if d["path"] == path && d["listed"].is_null() != listed {
                    found.push((
                        row["file"].as_str().unwrap().to_string(),
                        step["step"].as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn deleting_a_target_wide_entry_fails_exactly_the_steps_it_covered() {
    let moto = support::Server::moto();
    let dir = temp_dir("wide");
    let scenarios = [
        "scenarios/new-password",
        "scenarios/negative/wrong-credentials.yaml",
    ];
    let parity =
        |expectations: &Path, out: &Path| stub_and_moto(&moto, &scenarios, expectations, out);
    let committed = std::fs::read_to_string("expectations/moto.yaml").unwrap();
    let wide =
        "- scenario: \"*\"\n  step: \"*\"\n  path: AuthenticationResult.AccessToken.header.typ\n";
    let start = committed
        .find(wide)
        .expect("the committed file has this target-wide entry");
    let end = start + 1 + committed[start + 1..].find("\n- ").unwrap();
    let path = "AuthenticationResult.AccessToken.header.typ";

    let out = parity(Path::new("expectations/moto.yaml"), &dir.join("with"));
    assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
    let with = json_report(&dir.join("with"));
    let covered = differences_at(&with, 1, path, true);
    assert!(
        covered.len() >= 3,
        "one entry covers many steps: {covered:?}"
    );

    let without = dir.join("without.yaml");
    std::fs::write(
        &without,
        format!("{}{}", &committed[..start], &committed[end + 1..]),
    )
    .unwrap();
    let out = parity(&without, &dir.join("without"));
    assert_eq!(out.status.code(), Some(4), "{}", shown(&out));
    let report = json_report(&dir.join("without"));
    assert_eq!(differences_at(&report, 1, path, false), covered);
    // Nothing else became new.
    for row in report["scenarios"].as_array().unwrap() {
        for step in row["cells"][1]["steps"].as_array().unwrap() {
            for d in step["differences"].as_array().unwrap() {
                assert!(!d["listed"].is_null() || d["path"] == path, "{d}");
            }
        }
    }
    // Debt counts the entry once, not once per step.
    let debt = |r: &Value| r["targets"][1]["debt"].as_u64().unwrap();
    assert_eq!(debt(&with), debt(&report) + 1);

    // A target-wide entry that occurs nowhere is reported, so the list shrinks
    // (a warning: it may hold for scenarios a run leaves out).
    let stale = dir.join("stale.yaml");
    std::fs::write(
        &stale,
        committed.clone()
            + "- scenario: \"*\"\n  step: \"*\"\n  path: NoSuchField\n  kind: extra-field\n  reason: never happens\n",
    )
    .unwrap();
    let out = parity(&stale, &dir.join("stale"));
    assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(
            "target-wide entry `*` › NoSuchField occurred in none of the 4 scenario(s) run"
        ),
        "{}",
        shown(&out)
    );
}
