//! docs/reliability.md stays true: the catalogue has at least 60 rows, numbered in order,
//! every column filled, and every test a row cites (`path/to/file.rs::test_name`) exists as
//! a test function in a file that `cargo test --workspace` runs: a test file of its own, or a
//! module that the test binary's `main.rs` reaches through `mod` declarations.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The catalogue's rows: (number, cells).
fn rows() -> Vec<(usize, Vec<String>)> {
    let text = std::fs::read_to_string(repo().join("docs/reliability.md")).unwrap();
    text.lines()
        .filter(|l| l.starts_with('|'))
        .filter_map(|line| {
            let cells: Vec<String> = line
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect();
            let number = cells.first()?.parse::<usize>().ok()?;
            Some((number, cells))
        })
        .collect()
}

/// `path/file.rs::name` citations in a cell, in backticks; the path is from the repository
/// root (`crates/...`) or from `crates/`, and a module path before the name (`tests::name`)
/// is allowed.
fn citations(cell: &str) -> Vec<(String, String)> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|c| {
            let (file, path) = c.split_once("::")?;
            let name = path.rsplit("::").next()?;
            let file = if file.starts_with("crates/") {
                file.to_owned()
            } else {
                format!("crates/{file}")
            };
            Some((file, name.to_owned()))
        })
        .collect()
}

/// Whether `source` declares `name` as a test function (`#[test]`, `#[tokio::test]`, or a
/// `#[test]` inside `proptest!`), allowing doc comments and attributes in between.
fn declares_test(source: &str, name: &str) -> bool {
    let lines: Vec<&str> = source.lines().collect();
    lines.iter().enumerate().any(|(i, line)| {
        let l = line.trim_start();
        let declared = [format!("fn {name}("), format!("async fn {name}(")]
            .iter()
            .any(|d| l.starts_with(d.as_str()) || l.starts_with(&format!("pub {d}")));
        declared
            && lines[..i]
                .iter()
                .rev()
                .map(|l| l.trim_start())
                .take_while(|l| l.starts_with('#') || l.starts_with("///") || l.starts_with("//"))
                .any(|l| l.starts_with("#[test") || l.starts_with("#[tokio::test"))
    })
}

/// Whether the test file `file` (from the repository root) is compiled into a test binary:
/// `crates/c/tests/x.rs` is one by itself; `crates/c/tests/it/a/b.rs` is when `it/main.rs`
/// declares `mod a;` and `it/a.rs` (or `it/a/mod.rs`) declares `mod b;`.
fn in_a_test_binary(file: &str) -> bool {
    let Some((krate, rest)) = file.split_once("/tests/") else {
        return false;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let [binary, modules @ ..] = parts.as_slice() else {
        return false;
    };
    let mut dir = repo().join(krate).join("tests").join(binary);
    if modules.is_empty() {
        return dir.is_file();
    }
    let mut parent = dir.join("main.rs");
    for module in modules {
        let name = module.trim_end_matches(".rs");
        if name == "mod" {
            break;
        }
        let Ok(source) = std::fs::read_to_string(&parent) else {
            return false;
        };
        let declaration = format!("mod {name};");
        let declared = source
            .lines()
            .map(str::trim_start)
            .any(|l| l.strip_prefix("pub ").unwrap_or(l) == declaration);
        if !declared {
            return false;
        }
        let flat = dir.join(format!("{name}.rs"));
        parent = if flat.exists() {
            flat
        } else {
            dir.join(name).join("mod.rs")
        };
        dir = dir.join(name);
    }
    true
}

#[test]
fn the_catalogue_has_at_least_60_numbered_complete_rows() {
    let rows = rows();
    assert!(rows.len() >= 60, "only {} rows", rows.len());
    for (i, (number, cells)) in rows.iter().enumerate() {
        assert_eq!(*number, i + 1, "row numbers run 1, 2, 3...: {cells:?}");
        assert_eq!(
            cells.len(),
            5,
            "| # | area | injected | must hold | test |: {cells:?}"
        );
        assert!(
            cells.iter().all(|c| !c.is_empty()),
            "an empty cell: {cells:?}"
        );
        assert!(
            !citations(&cells[4]).is_empty(),
            "row {number} cites no test"
        );
    }
}

#[test]
fn every_cited_test_exists_and_runs_in_ci() {
    let mut missing = Vec::new();
    for (number, cells) in rows() {
        for (file, name) in citations(&cells[4]) {
            assert!(
                file.starts_with("crates/") && (file.contains("/tests/") || file.contains("/src/")),
                "row {number}: {file} is not run by `cargo test --workspace`"
            );
            if file.contains("/tests/") && !in_a_test_binary(&file) {
                missing.push(format!("row {number}: {file} is in no test binary"));
                continue;
            }
            match std::fs::read_to_string(repo().join(&file)) {
                Ok(source) if declares_test(&source, &name) => {}
                Ok(_) => missing.push(format!("row {number}: no test `{name}` in {file}")),
                Err(e) => missing.push(format!("row {number}: {file}: {e}")),
            }
        }
    }
    assert!(
        missing.is_empty(),
        "stale catalogue:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_checker_tells_tests_from_helpers() {
    let source =
        "/// doc\n#[test]\nfn real() {}\n\nfn helper() {}\n#[tokio::test]\nasync fn io() {}\n";
    assert!(declares_test(source, "real"));
    assert!(declares_test(source, "io"));
    assert!(!declares_test(source, "helper"));
    assert!(!declares_test(source, "absent"));
    assert!(in_a_test_binary("crates/orgform/tests/it/catalogue.rs"));
    assert!(in_a_test_binary(
        "crates/orgform/tests/it/recipes/runner.rs"
    ));
    assert!(in_a_test_binary(
        "crates/orgform-api/tests/it/support/server.rs"
    ));
    assert!(!in_a_test_binary("crates/orgform/tests/it/absent.rs"));
    assert!(!in_a_test_binary("crates/orgform/tests/catalogue.rs"));
    assert_eq!(
        citations("`crates/a/b.rs::x` and `c/src/d.rs::tests::y`, not `plain`"),
        vec![
            ("crates/a/b.rs".to_owned(), "x".to_owned()),
            ("crates/c/src/d.rs".to_owned(), "y".to_owned())
        ]
    );
}
