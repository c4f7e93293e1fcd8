//! "Did you mean ...?" hints.

/// The closest candidate to `input`, phrased as a hint, when one is close enough.
pub(crate) fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(input, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate most similar to `input` (Jaro-Winkler over 0.8, or a Levenshtein distance of
/// at most 2), ignoring case.
pub(crate) fn closest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let input = input.trim().to_lowercase();
    let mut best: Option<(&str, f64)> = None;
    for candidate in candidates {
        let score = strsim::jaro_winkler(&input, candidate);
        let close = score > 0.8 || strsim::levenshtein(&input, candidate) <= 2;
        if close && best.is_none_or(|(_, s)| score > s) {
            best = Some((candidate, score));
        }
    }
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_typos_get_a_hint() {
        assert_eq!(
            did_you_mean("developr", ["user", "developer", "billing"]).as_deref(),
            Some("did you mean `developer`?")
        );
        assert_eq!(closest("Admn", ["admin", "user"]), Some("admin"));
    }

    #[test]
    fn far_values_get_none() {
        assert_eq!(closest("galactic_emperor", ["user", "developer"]), None);
    }
}
