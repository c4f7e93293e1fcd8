//! The Dockerfile cannot be built here (no network for the base images), so its shape is
//! checked instead: a musl build stage that compiles this package's binary with the lock file,
//! and a final stage from scratch that holds that binary and runs it as its entry point.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The Dockerfile's instructions, continuation lines joined, comments dropped.
fn instructions() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("Dockerfile")).expect("a Dockerfile");
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
            continue;
        }
        current.push_str(line);
        if !current.trim().is_empty() {
            out.push(current.trim().to_owned());
        }
        current.clear();
    }
    out
}

#[test]
fn dockerfile_builds_the_orgform_binary_statically_into_a_scratch_image() {
    let bin = env!("CARGO_BIN_EXE_orgform");
    let bin_name = Path::new(bin).file_name().unwrap().to_str().unwrap();
    assert_eq!(bin_name, "orgform");
    let lines = instructions();
    let froms: Vec<&String> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert!(froms.len() >= 2, "multi-stage: {froms:?}");
    assert!(
        froms[0].contains("alpine") && froms[0].ends_with(" AS build"),
        "the build stage is on musl (Alpine): {}",
        froms[0]
    );
    assert_eq!(
        froms.last().unwrap().as_str(),
        "FROM scratch",
        "a small final image"
    );
    let build = lines
        .iter()
        .find(|l| l.starts_with("RUN cargo build"))
        .expect("a cargo build");
    for part in [
        "--release",
        "--locked",
        "--package orgform",
        "--bin orgform",
    ] {
        assert!(build.contains(part), "{build} lacks {part}");
    }
    assert!(
        build.contains("cp target/release/orgform /orgform"),
        "{build}"
    );
    let copy = lines
        .iter()
        .find(|l| l.starts_with("COPY --from=build"))
        .expect("the binary is copied from the build stage");
    assert_eq!(copy, "COPY --from=build /orgform /usr/local/bin/orgform");
    assert!(lines.contains(&r#"ENTRYPOINT ["/usr/local/bin/orgform"]"#.to_owned()));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("USER ") && !l.contains("root")),
        "runs unprivileged"
    );
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    assert!(
        ignore.lines().any(|l| l == "target"),
        "the build context leaves out target/"
    );
    // The package and binary names the build names are this crate's.
    let manifest = std::fs::read_to_string(root().join("crates/orgform/Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"orgform\"\npath = \"src/main.rs\""));
}

#[test]
fn the_release_profile_strips_and_uses_thin_lto() {
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let release = cargo
        .split("[profile.release]")
        .nth(1)
        .expect("a release profile");
    let release = release.split("\n[").next().unwrap();
    assert!(release.contains("strip = true"), "{release}");
    assert!(release.contains("lto = \"thin\""), "{release}");
}
