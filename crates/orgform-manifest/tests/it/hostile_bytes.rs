//! Arbitrary bytes into the manifest loader, through the file path the binary uses: whatever
//! the bytes (non-UTF-8, NUL, BOM, control characters, valid text cut or spliced anywhere),
//! loading returns a manifest or located problems, and never panics.

use proptest::prelude::*;

const VALID: &str = "\
version: 1
organization:
  id: 6f0c2a4e-0000-4000-8000-000000000001
members:
  - email: alice@acme.example
    role: developer
workspaces:
  - name: research
    tags: {team: ml}
    members:
      alice@acme.example: workspace_developer
";

/// Writes `bytes` to a file and loads it; rendering the problems must not panic either.
fn load_bytes(bytes: &[u8]) -> Result<orgform_manifest::Loaded, orgform_manifest::ManifestError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org.yaml");
    std::fs::write(&path, bytes).unwrap();
    let result = orgform_manifest::load(&path);
    if let Err(err) = &result {
        assert!(err.errors().count() > 0, "an error without problems");
        let _ = orgform_manifest::render(err, false);
    }
    result
}

#[test]
fn the_valid_base_loads() {
    let loaded = load_bytes(VALID.as_bytes()).expect("the base manifest is valid");
    assert_eq!(loaded.manifest.members.len(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = load_bytes(&bytes);
    }

    #[test]
    fn bytes_spliced_into_a_valid_manifest_never_panic(
        at in 0usize..VALID.len(),
        cut in 0usize..16,
        insert in proptest::collection::vec(
            prop_oneof![
                any::<u8>(),
                Just(0u8), Just(b'\t'), Just(b'\r'), Just(0x1b), Just(0xef), Just(0xbb), Just(0xbf),
                Just(b'&'), Just(b'*'), Just(b'['), Just(b'{'), Just(b':'), Just(b'-'), Just(b'\n'),
            ],
            0..24,
        ),
    ) {
        let mut bytes = VALID.as_bytes().to_vec();
        let end = (at + cut).min(bytes.len());
        bytes.splice(at..end, insert);
        let _ = load_bytes(&bytes);
    }

    #[test]
    fn a_valid_manifest_cut_anywhere_never_panics(at in 0usize..VALID.len()) {
        let result = load_bytes(&VALID.as_bytes()[..at]);
        prop_assert!(at > 0 || result.is_err(), "an empty file is invalid");
    }
}
