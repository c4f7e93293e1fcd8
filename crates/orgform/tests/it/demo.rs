//! `orgform demo` prints the same story on every run: a fixed emulator clock and ids, and a
//! serial apply.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_output_is_stable_and_converges() {
    let first = orgform::commands::demo::demo(false)
        .await
        .expect("the demo runs");
    let second = orgform::commands::demo::demo(false)
        .await
        .expect("the demo runs twice");
    assert_eq!(first, second, "the demo is deterministic");
    assert!(first.contains("== 3. orgform plan again: nothing left to do ==\n\n"));
    assert!(!first.contains("FAILED"));
    for line in first.lines() {
        assert!(line.chars().count() < 100, "too wide: {line:?}");
    }
    assert!(
        first.lines().count() < 130,
        "short: {} lines",
        first.lines().count()
    );
    assert_eq!(
        first.matches("Invites waiting").count(),
        1,
        "no repeated blocks"
    );
    // A safety rail: a destructive plan over the limits is refused, then a plan within them
    // is applied.
    let refused = first
        .find("refused: ")
        .expect("the demo shows a refused plan");
    assert!(first[refused..].contains("member removals"), "{first}");
    assert!(first.contains("Nothing was applied (exit 3)"));
    let revert = first
        .find("== 7. orgform apply --auto-approve")
        .expect("the allowed apply");
    assert!(refused < revert);
    assert!(
        first[revert..].contains("Apply: 2 done, 0 already done, 0 failed"),
        "{first}"
    );
    insta::assert_snapshot!("demo", first);
}

#[test]
fn demo_binary_exits_zero_without_a_key_or_network() {
    let output = assert_cmd::Command::cargo_bin("orgform")
        .unwrap()
        .arg("demo")
        .env_remove("ANTHROPIC_ADMIN_KEY")
        .env_remove("ANTHROPIC_BASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("== orgform demo =="), "{stdout}");
    assert!(
        !stdout.contains("\u{1b}["),
        "no colour when NO_COLOR is set"
    );
}
