//! Diagnostics: one [`Problem`] per thing wrong with the manifest, each a miette diagnostic
//! that underlines the offending text and prints `file:line:column`, and [`ManifestError`],
//! which carries all of them as related diagnostics.
//!
//! A problem whose second place is in another file (a duplicate across fragments) names that
//! place in its help text, because a miette diagnostic underlines spans in one source only.

use std::fmt;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, Severity, SourceCode,
};

use crate::excerpt::Excerpt;

/// One loaded file: its display name and text, shared by the problems that point into it.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as the user wrote it (relative paths stay relative).
    pub name: String,
    /// The whole text.
    pub text: Arc<str>,
    /// The text as shown, and the name as shown.
    shown: Arc<str>,
    shown_name: Arc<str>,
    line_starts: Arc<[usize]>,
}

impl SourceFile {
    /// Wraps a file's name and text.
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        let name = name.into();
        let text = text.into();
        // What is shown is cleaned of control characters (a manifest could carry terminal
        // escapes); the byte length is kept so spans stay valid.
        let shown: Arc<str> = if text.chars().any(is_unsafe) {
            text.chars()
                .map(|c| {
                    if is_unsafe(c) {
                        "?".repeat(c.len_utf8())
                    } else {
                        c.to_string()
                    }
                })
                .collect::<String>()
                .into()
        } else {
            Arc::clone(&text)
        };
        let shown_name = clean(&name).into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            name,
            text,
            shown,
            shown_name,
            line_starts,
        }
    }

    /// 1-based line and column of a byte offset (columns count characters).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = self.text[start..offset].chars().count() + 1;
        (line, column)
    }

    /// `name:line:column` of a byte offset.
    pub fn place(&self, offset: usize) -> String {
        let (line, column) = self.line_col(offset);
        format!("{}:{line}:{column}", self.name)
    }
}

/// Control characters other than line breaks and tabs, and invisible formatting characters
/// (bidirectional controls, zero-width characters), which could hide or reorder text.
fn is_unsafe(c: char) -> bool {
    crate::emails::is_hidden(c) && !matches!(c, '\n' | '\t' | '\r')
}

/// `text` with control characters replaced, for messages that quote manifest values.
pub(crate) fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if is_unsafe(c) || c == '\n' { '?' } else { c })
        .collect()
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A place in a file, for the machine-readable side of a [`Problem`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// File name as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
}

/// One problem (error or warning) with the manifest.
#[derive(Clone, Debug)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// Stable code, e.g. `orgform::duplicate_email`.
    pub code: &'static str,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// Where (the primary label), when known.
    pub location: Option<Location>,
    labels: Vec<(Range<usize>, Option<String>)>,
    source: Option<SourceFile>,
    /// What is shown of the source, made when first rendered.
    excerpt: OnceLock<Excerpt>,
}

impl Problem {
    /// An error not tied to a place in a file.
    pub(crate) fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: clean(&message.into()),
            help: None,
            location: None,
            labels: Vec::new(),
            source: None,
            excerpt: OnceLock::new(),
        }
    }

    /// Turns this problem into a warning.
    pub(crate) fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// Points the problem at `span` in `file`, with a label; the first call sets the location.
    pub(crate) fn at(
        mut self,
        file: &SourceFile,
        span: Range<usize>,
        label: impl Into<String>,
    ) -> Self {
        if self.location.is_none() {
            let (line, column) = file.line_col(span.start);
            self.location = Some(Location {
                file: file.name.clone(),
                line,
                column,
            });
            self.source = Some(file.clone());
        }
        let label = clean(&label.into());
        self.excerpt = OnceLock::new();
        self.labels
            .push((span, if label.is_empty() { None } else { Some(label) }));
        self
    }

    /// Adds a hint.
    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(clean(&help.into()));
        self
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The shown part of the source, with the labels mapped into it.
    fn excerpt(&self) -> Option<&Excerpt> {
        let source = self.source.as_ref()?;
        Some(self.excerpt.get_or_init(|| {
            let spans: Vec<Range<usize>> = self.labels.iter().map(|(s, _)| s.clone()).collect();
            Excerpt::new(
                &source.shown_name,
                &source.shown,
                &source.line_starts,
                &spans,
            )
        }))
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(clean(h)) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.excerpt().map(|e| e as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        let excerpt = self.excerpt()?;
        Some(Box::new(
            self.labels.iter().zip(&excerpt.spans).enumerate().map(
                move |(i, ((_, label), span))| {
                    let span = (span.start, span.end - span.start);
                    if i == 0 {
                        LabeledSpan::new_primary_with_span(label.clone(), span)
                    } else {
                        LabeledSpan::new_with_span(label.clone(), span)
                    }
                },
            ),
        ))
    }
}

/// The manifest could not be loaded: every problem found, in file order.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{summary}")]
pub struct ManifestError {
    summary: String,
    /// Every error found, then every warning.
    pub problems: Vec<Problem>,
}

impl ManifestError {
    pub(crate) fn new(mut problems: Vec<Problem>) -> Self {
        // Errors, then warnings; each in file order (problems without a place first).
        problems.sort_by(|a, b| {
            let key = |p: &Problem| {
                (
                    !p.is_error(),
                    p.location
                        .as_ref()
                        .map(|l| (l.file.clone(), l.line, l.column)),
                )
            };
            key(a).cmp(&key(b))
        });
        let errors = problems.iter().filter(|p| p.is_error()).count();
        let summary = match errors {
            1 => "the manifest is invalid: 1 error".to_owned(),
            n => format!("the manifest is invalid: {n} errors"),
        };
        Self { summary, problems }
    }

    /// The manifest could not be read at all (missing file, unreadable directory).
    pub(crate) fn unreadable(problems: Vec<Problem>) -> Self {
        Self {
            summary: "the manifest cannot be read".to_owned(),
            problems,
        }
    }

    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.is_error())
    }
}

impl Diagnostic for ManifestError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("orgform::invalid_manifest"))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic)))
    }
}

/// Renders a diagnostic (and its related ones) as text, with or without colour. The width is
/// fixed so the output does not depend on the terminal.
pub fn render(diagnostic: &dyn Diagnostic, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    let _ = handler.render_report(&mut out, diagnostic);
    out
}

/// Renders each problem on its own (no summary header), as `orgform validate` prints them.
pub fn render_problems(problems: &[Problem], color: bool) -> String {
    problems
        .iter()
        .map(|p| render(p, color))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let file = SourceFile::new("f.yaml", "ab\ncdé\nx");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        assert_eq!(file.line_col(7), (2, 4));
        assert_eq!(file.place(8), "f.yaml:3:1");
    }

    #[test]
    fn rendering_shows_place_label_and_help() {
        let file = SourceFile::new("org.yaml", "version: 2\n");
        let problem = Problem::error("orgform::version", "unsupported version 2")
            .at(&file, 9..10, "only 1 exists")
            .help("write `version: 1`");
        let text = render(&ManifestError::new(vec![problem]), false);
        assert!(text.contains("org.yaml:1:10"), "{text}");
        assert!(text.contains("only 1 exists"), "{text}");
        assert!(text.contains("write `version: 1`"), "{text}");
        assert!(!text.contains('\u{1b}'), "no colour codes: {text}");
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let text = "role: \u{1b}[31mred\u{9b}x\n";
        let file = SourceFile::new("f\u{1b}.yaml", text);
        let problem = Problem::error("c", "unknown role `\u{1b}[31mred`")
            .at(&file, 6..text.len() - 1, "here \u{7}")
            .help("hint \u{1b}");
        let rendered = render(&problem, false);
        assert!(!rendered.chars().any(is_unsafe), "{rendered:?}");
        assert!(
            rendered.contains("?[31mred??x"),
            "byte length kept: {rendered}"
        );
    }

    #[test]
    fn a_long_line_renders_in_a_bounded_snippet() {
        let value = "v".repeat(10_000_000);
        let text = format!("version: 1\nname: {value}\nrole: x\n");
        let file = SourceFile::new("big.yaml", text.as_str());
        let problem = Problem::error("c", "too long")
            .at(&file, 17..17 + value.len(), "this value")
            .help("shorten it");
        let rendered = render(&problem, false);
        assert!(rendered.len() < 2_000, "{} bytes", rendered.len());
        assert!(rendered.contains("big.yaml:2:7"), "{rendered}");
        assert!(rendered.contains("this value"), "{rendered}");
        assert!(rendered.contains('…'), "the cut is marked: {rendered}");
    }

    #[test]
    fn errors_come_before_warnings() {
        let err = ManifestError::new(vec![
            Problem::error("a", "w").warning(),
            Problem::error("b", "e"),
        ]);
        assert_eq!(err.problems[0].code, "b");
        assert_eq!(err.to_string(), "the manifest is invalid: 1 error");
    }
}
