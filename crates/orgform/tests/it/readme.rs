//! README.md stays true: its manifest example is valid, and its two commands are the ones CI
//! runs.

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap()
}

#[test]
fn the_readme_manifest_example_is_valid() {
    let text = readme();
    let start = text.find("```yaml\n").expect("README has a YAML example") + "```yaml\n".len();
    let end = start + text[start..].find("```").unwrap();
    let loaded = orgform_manifest::load_str("README.md", &text[start..end])
        .unwrap_or_else(|e| panic!("{}", orgform_manifest::render_problems(&e.problems, false)));
    assert_eq!(loaded.manifest.members.len(), 1);
}

#[test]
fn ci_runs_the_readme_commands() {
    let text = readme();
    let ci =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.ci/run")).unwrap();
    // The test command, exactly.
    let test_command = "cargo test --workspace --locked";
    assert!(text.contains(test_command), "README names `{test_command}`");
    assert!(
        ci.lines().any(|l| l.trim() == test_command),
        ".ci/run runs `{test_command}` as given"
    );
    // The main job: README's release command; CI runs the same demo from the binary the
    // test stage built, after the tests (docs/performance.md, "The cold `.ci/run`").
    assert!(text.contains("cargo run --release -- demo"));
    let tests_at = ci
        .find(&format!("\n{test_command}\n"))
        .expect("the test stage");
    let demo_at = ci
        .find("\ntarget/debug/orgform demo\n")
        .expect(".ci/run runs the demo");
    assert!(demo_at > tests_at, "the demo runs after the tests built it");
    // The background lane (supply chain, fuzz) is waited for, and its failure fails the run.
    let wait_at = ci
        .find("if wait \"$lane_pid\"")
        .expect(".ci/run waits for the lane");
    assert!(wait_at > demo_at, "the lane is waited for at the end");
    assert!(
        ci[wait_at..].contains("exit 1"),
        "a failed lane fails the run"
    );
}
