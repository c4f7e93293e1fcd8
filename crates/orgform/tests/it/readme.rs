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
    for command in ["cargo test --workspace --locked", "cargo run --release"] {
        assert!(text.contains(command), "README names `{command}`");
        assert!(ci.contains(command), ".ci/run runs `{command}`");
    }
    assert!(text.contains("cargo run --release -- demo"));
    assert!(ci.contains("-- demo"));
}
