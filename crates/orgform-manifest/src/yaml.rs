//! A located YAML tree: every node keeps its byte span, so that validation can point at the
//! exact key or value it is talking about.
//!
//! The tree is built once from the parser's events (granit, the parser under serde-saphyr):
//! the shape check walks it to find every unknown or duplicated key in one pass, the typed
//! values are read from it ([`crate::de`]), and validation uses it to point at exact places.
//! Aliases are kept as references to their anchor, never copied, so the tree stays linear in
//! the size of the text. Nodes written out in the text are not limited (the file size is);
//! nodes reached through aliases are bounded by [`ALIAS_BUDGET`], and nesting by
//! [`MAX_DEPTH`].

use std::collections::HashMap;
use std::ops::Range;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

/// Largest number of nodes one fragment may reach through aliases (nodes written out in the
/// text do not count).
pub(crate) const ALIAS_BUDGET: usize = 1_000_000;

/// Deepest nesting of collections, through aliases included (a manifest needs 5).
pub(crate) const MAX_DEPTH: usize = 64;

/// A node and where it is.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    pub(crate) span: Range<usize>,
}

/// The shape of a node.
#[derive(Clone, Debug)]
pub(crate) enum Kind {
    /// A scalar; `plain` is false for quoted and block scalars.
    Scalar { value: String, plain: bool },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order (duplicates kept).
    Map(Vec<(Node, Node)>),
    /// `*name`: refers to the anchor with this id.
    Alias(usize),
}

/// One parsed YAML document.
#[derive(Debug)]
pub(crate) struct Doc {
    /// The root node (`None` for an empty document).
    pub(crate) root: Option<Node>,
    anchors: HashMap<usize, Node>,
}

/// A parse failure, with the byte offset it happened at.
#[derive(Debug)]
pub(crate) struct ParseFailure {
    pub(crate) message: String,
    pub(crate) offset: usize,
}

enum Frame {
    Seq(Vec<Node>, usize, usize),
    Map(Vec<(Node, Node)>, Option<Node>, usize, usize),
}

impl Doc {
    /// Parses `text`; more than one document is an error.
    pub(crate) fn parse(text: &str) -> Result<Self, ParseFailure> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut anchors: HashMap<usize, Node> = HashMap::new();
        let mut root: Option<Node> = None;
        let mut documents = 0usize;
        for item in Parser::new_from_str(text) {
            let (event, span) = item.map_err(|e| ParseFailure {
                message: e.info(),
                offset: e
                    .marker()
                    .byte_offset()
                    .unwrap_or_else(|| e.marker().index()),
            })?;
            let range = span
                .byte_range()
                .unwrap_or(span.start.index()..span.end.index());
            let finished = match event {
                Event::DocumentStart(..) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(ParseFailure {
                            message:
                                "a manifest file holds one YAML document; found a second `---`"
                                    .to_owned(),
                            offset: range.start,
                        });
                    }
                    None
                }
                Event::Scalar(value, style, anchor, _) => Some((
                    Node {
                        kind: Kind::Scalar {
                            value: value.into_owned(),
                            plain: matches!(style, ScalarStyle::Plain),
                        },
                        span: range,
                    },
                    anchor,
                )),
                Event::Alias(id) => Some((
                    Node {
                        kind: Kind::Alias(id),
                        span: range,
                    },
                    0,
                )),
                Event::SequenceStart(_, anchor, _) => {
                    too_deep(stack.len(), range.start)?;
                    stack.push(Frame::Seq(Vec::new(), anchor, range.start));
                    None
                }
                Event::MappingStart(_, anchor, _) => {
                    too_deep(stack.len(), range.start)?;
                    stack.push(Frame::Map(Vec::new(), None, anchor, range.start));
                    None
                }
                Event::SequenceEnd => match stack.pop() {
                    Some(Frame::Seq(items, anchor, start)) => Some((
                        Node {
                            kind: Kind::Seq(items),
                            span: start..range.end.max(start),
                        },
                        anchor,
                    )),
                    _ => None,
                },
                Event::MappingEnd => match stack.pop() {
                    Some(Frame::Map(entries, _, anchor, start)) => Some((
                        Node {
                            kind: Kind::Map(entries),
                            span: start..range.end.max(start),
                        },
                        anchor,
                    )),
                    _ => None,
                },
                _ => None,
            };
            if let Some((node, anchor)) = finished {
                if anchor != 0 {
                    anchors.insert(anchor, node.clone());
                }
                match stack.last_mut() {
                    Some(Frame::Seq(items, ..)) => items.push(node),
                    Some(Frame::Map(entries, pending, ..)) => match pending.take() {
                        Some(key) => entries.push((key, node)),
                        None => *pending = Some(node),
                    },
                    None => root = Some(node),
                }
            }
        }
        Ok(Self { root, anchors })
    }

    /// Follows an alias to its anchor.
    pub(crate) fn resolve<'a>(&'a self, node: &'a Node) -> &'a Node {
        let mut node = node;
        // Anchors only refer backwards, but guard against a malformed chain anyway.
        for _ in 0..64 {
            match node.kind {
                Kind::Alias(id) => match self.anchors.get(&id) {
                    Some(target) => node = target,
                    None => return node,
                },
                _ => return node,
            }
        }
        node
    }
}

fn too_deep(depth: usize, offset: usize) -> Result<(), ParseFailure> {
    if depth >= MAX_DEPTH {
        return Err(ParseFailure {
            message: format!("collections nest more than {MAX_DEPTH} levels deep"),
            offset,
        });
    }
    Ok(())
}

impl Node {
    /// The text of a scalar key or value.
    pub(crate) fn scalar(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The value under `key` of a mapping (the first, if repeated).
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key and value nodes under `key` of a mapping.
    pub(crate) fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.scalar() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// The `index`-th item of a sequence.
    pub(crate) fn item(&self, index: usize) -> Option<&Node> {
        match &self.kind {
            Kind::Seq(items) => items.get(index),
            _ => None,
        }
    }

    /// The items of a sequence (empty for anything else).
    pub(crate) fn items(&self) -> &[Node] {
        match &self.kind {
            Kind::Seq(items) => items,
            _ => &[],
        }
    }

    /// Whether this is a plain `null`, `~` or empty scalar.
    pub(crate) fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { value, plain: true } if matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "a: 1\nb:\n  - x: hello\n";
        let doc = Doc::parse(text).unwrap();
        let root = doc.root.as_ref().unwrap();
        let (key, value) = root.entry("b").unwrap();
        assert_eq!(&text[key.span.clone()], "b");
        let x = value.item(0).unwrap().get("x").unwrap();
        assert_eq!(&text[x.span.clone()], "hello");
    }

    #[test]
    fn aliases_resolve_without_copying() {
        let text = "base: &b {k: v}\nuse: *b\n";
        let doc = Doc::parse(text).unwrap();
        let root = doc.root.as_ref().unwrap();
        let used = root.get("use").unwrap();
        assert!(matches!(used.kind, Kind::Alias(_)));
        assert_eq!(doc.resolve(used).get("k").unwrap().scalar(), Some("v"));
    }

    #[test]
    fn duplicate_keys_are_kept_for_the_checker() {
        let doc = Doc::parse("a: 1\na: 2\n").unwrap();
        let root = doc.root.unwrap();
        assert!(matches!(&root.kind, Kind::Map(entries) if entries.len() == 2));
    }

    #[test]
    fn second_document_is_refused() {
        let err = Doc::parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(err.message.contains("one YAML document"));
    }

    #[test]
    fn nesting_is_bounded() {
        // The parser refuses deep flow nesting itself; block nesting meets this limit.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(Doc::parse(&deep).is_err());
        let deep = format!("{}x\n", "- ".repeat(100));
        let err = Doc::parse(&deep).unwrap_err();
        assert!(
            err.message.contains("more than 64 levels"),
            "{}",
            err.message
        );
        assert!(Doc::parse(&format!("{}{}", "[".repeat(64), "]".repeat(64))).is_ok());
    }

    #[test]
    fn syntax_errors_have_an_offset() {
        let err = Doc::parse("a: [1, 2\n").unwrap_err();
        assert!(err.offset > 0);
    }
}
