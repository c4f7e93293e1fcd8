//! The part of a file a diagnostic shows: the lines around its labels, each cut to at most
//! [`MAX_LINE_CHARS`] characters around the label, so a 10 MB value or a one-line 50 MB
//! manifest prints a few hundred bytes, not the whole line. Line and column numbers stay
//! those of the original file.
//!
//! miette reads the shown text through [`SourceCode`]; spans given to miette are offsets in
//! the excerpt, which is made of runs of consecutive original lines (a label's lines and one
//! line of context on each side). A read never crosses from one run to the next, so miette
//! numbers every line right.

use std::ops::Range;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Longest part of one line that is shown.
pub(crate) const MAX_LINE_CHARS: usize = 160;
/// Characters shown before a label that starts far into a long line.
const LEAD_CHARS: usize = 24;
/// Most lines one label underlines.
const MAX_LABEL_LINES: usize = 4;
/// Marks a cut.
const CUT: &str = "…";

/// One shown line.
#[derive(Clone, Debug)]
struct Shown {
    /// 0-based line number in the file.
    line: usize,
    /// Byte offset of this line in the excerpt.
    start: usize,
    /// Bytes of this line in the excerpt, without the line break.
    len: usize,
    /// Kept bytes of the original line: [from, to) as offsets in the file.
    from: usize,
    to: usize,
    /// Characters cut before `from` (for columns).
    cut_chars: usize,
    /// Bytes of the leading cut mark (0 or 3).
    mark: usize,
}

/// The shown part of a file, with the labels' spans mapped into it.
#[derive(Clone, Debug)]
pub(crate) struct Excerpt {
    name: String,
    text: String,
    lines: Vec<Shown>,
    /// The labels' spans in the excerpt, in the order given.
    pub(crate) spans: Vec<Range<usize>>,
}

impl Excerpt {
    /// The excerpt of `text` (whose lines start at `line_starts`) around `labels`.
    pub(crate) fn new(
        name: &str,
        text: &str,
        line_starts: &[usize],
        labels: &[Range<usize>],
    ) -> Self {
        let line_of = |offset: usize| line_starts.partition_point(|&s| s <= offset) - 1;
        let line_end = |line: usize| {
            line_starts
                .get(line + 1)
                .map_or(text.len(), |&next| next - 1)
        };
        // A final line break ends the last line; it does not start a shown one.
        let last_line = if line_starts.len() > 1 && line_starts.last() == Some(&text.len()) {
            line_starts.len() - 2
        } else {
            line_starts.len() - 1
        };
        // Which lines, and where on each line a label starts.
        let mut wanted: Vec<usize> = Vec::new();
        let mut starts: Vec<(usize, usize)> = Vec::new();
        let labels: Vec<Range<usize>> = labels
            .iter()
            .map(|span| {
                let start = floor(text, span.start.min(text.len()));
                let end = floor(text, span.end.clamp(start, text.len()));
                let first = line_of(start);
                let last =
                    line_of(end.saturating_sub(1).max(start)).min(first + MAX_LABEL_LINES - 1);
                wanted.extend(first.saturating_sub(1)..=(last + 1).min(last_line));
                starts.push((first, start));
                start..end.min(line_end(last).max(start))
            })
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut out = Self {
            name: name.to_owned(),
            text: String::new(),
            lines: Vec::with_capacity(wanted.len()),
            spans: Vec::with_capacity(labels.len()),
        };
        for line in wanted {
            let (begin, end) = (line_starts[line], line_end(line));
            let begin_text = &text[begin..end];
            let (from, to) = if begin_text.chars().count() <= MAX_LINE_CHARS {
                (begin, end)
            } else {
                // Keep the window that shows the first label starting on this line.
                let anchor = starts
                    .iter()
                    .filter(|(l, _)| *l == line)
                    .map(|(_, s)| *s)
                    .min()
                    .unwrap_or(begin);
                let lead = text[begin..anchor]
                    .char_indices()
                    .rev()
                    .nth(LEAD_CHARS - 1)
                    .map_or(begin, |(i, _)| begin + i);
                let from = if text[begin..anchor].chars().count() <= LEAD_CHARS {
                    begin
                } else {
                    lead
                };
                let to = text[from..end]
                    .char_indices()
                    .nth(MAX_LINE_CHARS)
                    .map_or(end, |(i, _)| from + i);
                (from, to)
            };
            let start = out.text.len();
            let mark = if from > begin { CUT.len() } else { 0 };
            if mark > 0 {
                out.text.push_str(CUT);
            }
            out.text.push_str(&text[from..to]);
            if to < end {
                out.text.push_str(CUT);
            }
            out.lines.push(Shown {
                line,
                start,
                len: out.text.len() - start,
                from,
                to,
                cut_chars: text[begin..from].chars().count(),
                mark,
            });
            out.text.push('\n');
        }
        out.spans = labels
            .iter()
            .map(|span| {
                let start = out.map(span.start);
                let end = out.map(span.end).max(start);
                start..end
            })
            .collect();
        out
    }

    /// Maps a file offset (on a shown line) into the excerpt, clamped to the kept part.
    fn map(&self, offset: usize) -> usize {
        let index = self
            .lines
            .partition_point(|l| l.from <= offset)
            .saturating_sub(1);
        let Some(shown) = self.lines.get(index) else {
            return 0;
        };
        let kept = offset.clamp(shown.from, shown.to) - shown.from;
        shown.start + shown.mark + kept
    }

    /// The index of the shown line holding excerpt offset `offset`.
    fn line_at(&self, offset: usize) -> usize {
        self.lines
            .partition_point(|l| l.start <= offset)
            .saturating_sub(1)
    }
}

fn floor(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        if self.lines.is_empty() || span.offset() > self.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let first = self.line_at(span.offset());
        let last = self
            .line_at(
                (span.offset() + span.len())
                    .saturating_sub(1)
                    .max(span.offset()),
            )
            .max(first);
        // Stay within one run of consecutive lines.
        let mut top = first;
        while top > 0
            && first - top < context_lines_before
            && self.lines[top - 1].line + 1 == self.lines[top].line
        {
            top -= 1;
        }
        let mut bottom = last;
        while bottom + 1 < self.lines.len()
            && bottom - last < context_lines_after
            && self.lines[bottom].line + 1 == self.lines[bottom + 1].line
        {
            bottom += 1;
        }
        let end = (self.lines[bottom].start + self.lines[bottom].len + 1).min(self.text.len());
        let shown = &self.lines[first];
        let (begin, column) = if context_lines_before == 0 {
            let offset = span.offset().max(shown.start + shown.mark);
            let within = self.text[shown.start + shown.mark..offset].chars().count();
            (offset, shown.cut_chars + within)
        } else {
            (self.lines[top].start, 0)
        };
        let line = if context_lines_before == 0 {
            shown.line
        } else {
            self.lines[top].line
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &self.text.as_bytes()[begin..end],
            (begin, end - begin).into(),
            line,
            column,
            bottom - top + 1,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(span: Range<usize>) -> Vec<Range<usize>> {
        vec![span]
    }

    fn starts(text: &str) -> Vec<usize> {
        std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect()
    }

    #[test]
    fn short_lines_are_kept_whole_with_one_line_of_context() {
        let text = "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n";
        let excerpt = Excerpt::new("f", text, &starts(text), &one(10..11));
        assert_eq!(excerpt.text, "b: 2\nc: 3\nd: 4\n");
        assert_eq!(&excerpt.text[excerpt.spans[0].clone()], "c");
    }

    #[test]
    fn long_lines_are_cut_around_the_label() {
        let long = "x".repeat(10_000_000);
        let text = format!("name: {long}\nrole: y\n");
        let excerpt = Excerpt::new("f", &text, &starts(&text), &one(6..6 + long.len()));
        assert!(excerpt.text.len() < 1_000, "{}", excerpt.text.len());
        assert!(excerpt.text.starts_with("name: xxx"));
        let far = format!("{{a: {long}, bad: 1}}\n");
        let at = far.find("bad").unwrap();
        let excerpt = Excerpt::new("f", &far, &starts(&far), &one(at..at + 3));
        assert!(excerpt.text.len() < 1_000);
        assert_eq!(&excerpt.text[excerpt.spans[0].clone()], "bad");
        let contents = excerpt
            .read_span(&(excerpt.spans[0].start, 3).into(), 0, 0)
            .unwrap();
        assert_eq!(contents.column(), at, "the column of the original line");
    }
}
