//! Typed values from the located tree: a serde deserializer over [`crate::yaml::Node`], so a
//! fragment is parsed once and its typed values come from the same tree that gives places.
//!
//! Scalars are read as serde-saphyr reads them (YAML 1.2 core schema, YAML 1.1 booleans,
//! type-directed: a plain `123` is a string where a string is expected). Keys a struct does
//! not declare are skipped (the shape check reports them), and a repeated key keeps its first
//! value (the shape check reports the repetition), so one unknown key never hides the rest of
//! an entry. [`Reader::typed`] reads one entry; when a value inside it has the wrong type, the
//! problem is reported, the value is left out and the entry is read again, so the entry's
//! other keys are still checked. Nodes reached through aliases count against a budget.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, Visitor};

use crate::suggest::closest;
use crate::yaml::{Doc, Kind, MAX_DEPTH, Node};

/// How many times one entry is read again after leaving out a value of the wrong type.
const MAX_ATTEMPTS: usize = 16;

/// What went wrong while reading a typed value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum What {
    /// A value of the wrong type or form.
    WrongType { expected: String, found: String },
    /// A required key is absent.
    Missing(&'static str),
    /// Aliases expand past the budget, or nest too deep.
    AliasBudget,
    /// Anything else serde reports.
    Other(String),
}

/// A failure to read a typed value, with the place it happened.
#[derive(Clone, Debug)]
pub(crate) struct DeError {
    pub(crate) what: What,
    /// The innermost key whose value failed.
    pub(crate) key: Option<String>,
    /// Where to point.
    pub(crate) span: Option<Range<usize>>,
    /// The node to leave out on the next attempt (its address).
    node: usize,
    /// A missing key that is present with an unreadable value (already reported).
    pub(crate) shadowed: bool,
}

impl DeError {
    fn new(what: What) -> Self {
        Self {
            what,
            key: None,
            span: None,
            node: 0,
            shadowed: false,
        }
    }

    /// The message, naming the key when known.
    pub(crate) fn message(&self) -> String {
        match &self.what {
            What::WrongType { expected, found } => match &self.key {
                Some(key) => format!("`{key}` must be {expected}, found {found}"),
                None => format!("expected {expected}, found {found}"),
            },
            What::Missing(field) => format!("missing key `{field}`"),
            What::AliasBudget => "the aliases expand too far".to_owned(),
            What::Other(message) => match &self.key {
                Some(key) => format!("`{key}`: {message}"),
                None => message.clone(),
            },
        }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::new(What::Other(msg.to_string()))
    }

    fn missing_field(field: &'static str) -> Self {
        Self::new(What::Missing(field))
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::new(What::WrongType {
            expected: exp.to_string(),
            found: unexp.to_string(),
        })
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::invalid_type(unexp, exp)
    }
}

/// Reads typed values out of one document.
pub(crate) struct Reader<'a> {
    doc: &'a Doc,
    poisoned: RefCell<HashSet<usize>>,
    budget: Cell<usize>,
}

fn id(node: &Node) -> usize {
    std::ptr::from_ref(node).addr()
}

impl<'a> Reader<'a> {
    /// A reader of `doc` whose alias expansion may visit `budget` nodes in all.
    pub(crate) fn new(doc: &'a Doc, budget: usize) -> Self {
        Self {
            doc,
            poisoned: RefCell::new(HashSet::new()),
            budget: Cell::new(budget),
        }
    }

    /// Reads `node` (the value of `key`, if it has one) as a `T`, leaving out values of the
    /// wrong type one at a time; every failure goes to `report`. `None` when the entry itself
    /// cannot be read.
    pub(crate) fn typed<T: de::Deserialize<'a>>(
        &self,
        key: Option<&str>,
        node: &'a Node,
        mut report: impl FnMut(DeError),
    ) -> Option<T> {
        let top = id(self.doc.resolve(node));
        for _ in 0..MAX_ATTEMPTS {
            match NodeDe::enter(self, node, 0, false).and_then(T::deserialize) {
                Ok(value) => return Some(value),
                Err(mut err) => {
                    if err.key.is_none() {
                        err.key = key.map(str::to_owned);
                    }
                    let stop = err.what == What::AliasBudget
                        || err.node == 0
                        || err.node == top
                        || !self.poisoned.borrow_mut().insert(err.node);
                    report(err);
                    if stop {
                        return None;
                    }
                }
            }
        }
        None
    }

    fn poisoned(&self, node: &Node) -> bool {
        let poisoned = self.poisoned.borrow();
        !poisoned.is_empty() && poisoned.contains(&id(self.doc.resolve(node)))
    }
}

/// The key/value pairs of a mapping, YAML merge keys (`<<`) followed: own keys first, then
/// merged keys not already present; a repeated key keeps its first value. The flag tells
/// whether the pair was reached through an alias.
pub(crate) fn map_entries<'a>(doc: &'a Doc, map: &'a Node) -> Vec<(&'a Node, &'a Node, bool)> {
    let Kind::Map(own) = &map.kind else {
        return Vec::new();
    };
    let mut out: Vec<(&Node, &Node, bool)> = Vec::with_capacity(own.len());
    let mut sources: Vec<(&Node, bool)> = Vec::new();
    // Small mappings (almost all) are searched in place; large ones through a set.
    let mut seen: Option<HashSet<&str>> = (own.len() > 16).then(HashSet::new);
    let mut push = |out: &mut Vec<(&'a Node, &'a Node, bool)>, k: &'a Node, v: &'a Node, a| {
        if let Some(name) = k.scalar() {
            let repeated = match seen.as_mut() {
                Some(seen) => !seen.insert(name),
                None => out.iter().any(|(other, _, _)| other.scalar() == Some(name)),
            };
            if repeated {
                return;
            }
        }
        out.push((k, v, a));
    };
    for (key, value) in own {
        if matches!(&key.kind, Kind::Scalar { value, plain: true } if value == "<<") {
            let aliased = matches!(value.kind, Kind::Alias(_));
            let merged = doc.resolve(value);
            match &merged.kind {
                Kind::Seq(items) => sources.extend(
                    items
                        .iter()
                        .map(|i| (doc.resolve(i), aliased || matches!(i.kind, Kind::Alias(_)))),
                ),
                _ => sources.push((merged, aliased)),
            }
            continue;
        }
        push(&mut out, key, value, false);
    }
    for (source, aliased) in sources {
        if let Kind::Map(entries) = &source.kind {
            for (key, value) in entries {
                push(&mut out, key, value, aliased);
            }
        }
    }
    out
}

/// What a node is, for messages: a quoted short scalar, `a list` or `a mapping`.
pub(crate) fn describe(node: &Node) -> String {
    match &node.kind {
        Kind::Scalar { .. } if node.is_null() => "nothing (null)".to_owned(),
        Kind::Scalar { value, .. } => {
            let mut shown: String = value.chars().take(40).collect();
            if shown.len() < value.len() {
                shown.push('…');
            }
            format!("`{shown}`")
        }
        Kind::Seq(_) => "a list".to_owned(),
        Kind::Map(_) => "a mapping".to_owned(),
        Kind::Alias(_) => "an alias".to_owned(),
    }
}

/// One node being deserialized.
#[derive(Clone, Copy)]
struct NodeDe<'r, 'a> {
    reader: &'r Reader<'a>,
    node: &'a Node,
    depth: usize,
    aliased: bool,
}

impl<'r, 'a> NodeDe<'r, 'a> {
    fn enter(
        reader: &'r Reader<'a>,
        node: &'a Node,
        depth: usize,
        aliased: bool,
    ) -> Result<Self, DeError> {
        let aliased = aliased || matches!(node.kind, Kind::Alias(_));
        let node = reader.doc.resolve(node);
        let this = Self {
            reader,
            node,
            depth,
            aliased,
        };
        if depth > MAX_DEPTH {
            return Err(this.fail(What::AliasBudget));
        }
        if aliased {
            let left = reader.budget.get();
            if left == 0 {
                return Err(this.fail(What::AliasBudget));
            }
            reader.budget.set(left - 1);
        }
        Ok(this)
    }

    fn child(&self, node: &'a Node) -> Result<Self, DeError> {
        Self::enter(self.reader, node, self.depth + 1, self.aliased)
    }

    fn fail(&self, what: What) -> DeError {
        self.locate(DeError::new(what))
    }

    fn wrong(&self, expected: &str) -> DeError {
        self.fail(What::WrongType {
            expected: expected.to_owned(),
            found: describe(self.node),
        })
    }

    /// Gives an error without a place this node's place.
    fn locate(&self, mut err: DeError) -> DeError {
        if err.span.is_none() {
            err.span = Some(self.node.span.clone());
            err.node = id(self.node);
            // A missing key that is there with an unreadable value, or misspelt (`rol:`), was
            // reported already.
            if let What::Missing(field) = err.what {
                err.shadowed = map_entries(self.reader.doc, self.node)
                    .iter()
                    .any(|(k, _, _)| {
                        k.scalar()
                            .is_some_and(|k| k == field || closest(k, [field]).is_some())
                    });
            }
            if matches!(&err.what, What::Other(m) if m.contains("did not match any variant")) {
                err.what = What::WrongType {
                    expected: "a list of geographies, or `unrestricted`".to_owned(),
                    found: describe(self.node),
                };
            }
        }
        err
    }

    fn done<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        result.map_err(|e| self.locate(e))
    }

    /// The text of a non-null scalar.
    fn text(&self) -> Option<&'a str> {
        if self.node.is_null() {
            return None;
        }
        self.node.scalar()
    }
}

fn parse_int(text: &str) -> Option<i128> {
    let t = text.trim_matches([' ', '\t', '\r', '\n']);
    let (negative, rest) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (radix, digits) = if let Some(d) = rest.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = rest.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = rest.strip_prefix("0b") {
        (2, d)
    } else {
        if rest.len() > 1 && rest.starts_with('0') {
            return None;
        }
        (10, rest)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let value = i128::from_str_radix(digits, radix).ok()?;
    Some(if negative { -value } else { value })
}

fn parse_bool(text: &str) -> Option<bool> {
    let t = text.trim_matches([' ', '\t', '\r', '\n']);
    if ["true", "yes", "y", "on"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        Some(true)
    } else if ["false", "no", "n", "off"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        Some(false)
    } else {
        None
    }
}

macro_rules! integer {
    ($($method:ident $ty:ty => $visit:ident $wide:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
            let value = self
                .text()
                .and_then(parse_int)
                .and_then(|n| <$ty>::try_from(n).ok())
                .ok_or_else(|| {
                    self.wrong(&format!("a whole number from {} to {}", <$ty>::MIN, <$ty>::MAX))
                })?;
            self.done(visitor.$visit(<$wide>::from(value)))
        }
    )*};
}

impl<'a> de::Deserializer<'a> for NodeDe<'_, 'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let node: &'a Node = self.node;
        let result = match &node.kind {
            Kind::Scalar { value, plain: true } => {
                if node.is_null() {
                    visitor.visit_unit()
                } else if let Some(b) = ["true", "True", "TRUE", "false", "False", "FALSE"]
                    .contains(&value.as_str())
                    .then(|| value.eq_ignore_ascii_case("true"))
                {
                    visitor.visit_bool(b)
                } else if let Some(n) = parse_int(value) {
                    match (u64::try_from(n), i64::try_from(n)) {
                        (Ok(n), _) => visitor.visit_u64(n),
                        (_, Ok(n)) => visitor.visit_i64(n),
                        _ => visitor.visit_borrowed_str(value),
                    }
                } else {
                    visitor.visit_borrowed_str(value)
                }
            }
            Kind::Scalar { value, .. } => visitor.visit_borrowed_str(value),
            Kind::Seq(items) => visitor.visit_seq(Seq {
                parent: self,
                items: items.iter(),
            }),
            Kind::Map(_) => visitor.visit_map(Map::new(self, None)),
            Kind::Alias(_) => visitor.visit_unit(),
        };
        self.done(result)
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let value = self
            .text()
            .and_then(parse_bool)
            .ok_or_else(|| self.wrong("`true` or `false`"))?;
        self.done(visitor.visit_bool(value))
    }

    integer! {
        deserialize_u8 u8 => visit_u64 u64,
        deserialize_u16 u16 => visit_u64 u64,
        deserialize_u32 u32 => visit_u64 u64,
        deserialize_u64 u64 => visit_u64 u64,
        deserialize_i8 i8 => visit_i64 i64,
        deserialize_i16 i16 => visit_i64 i64,
        deserialize_i32 i32 => visit_i64 i64,
        deserialize_i64 i64 => visit_i64 i64,
    }

    fn deserialize_f32<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let value = self
            .text()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|f| f.is_finite())
            .ok_or_else(|| self.wrong("a number"))?;
        self.done(visitor.visit_f64(value))
    }

    fn deserialize_char<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let value = self.text().ok_or_else(|| self.wrong("a text value"))?;
        self.done(visitor.visit_borrowed_str(value))
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            self.done(visitor.visit_none())
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        if !self.node.is_null() {
            return Err(self.wrong("nothing (null)"));
        }
        self.done(visitor.visit_unit())
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let node: &'a Node = self.node;
        let Kind::Seq(items) = &node.kind else {
            return Err(self.wrong("a list"));
        };
        self.done(visitor.visit_seq(Seq {
            parent: self,
            items: items.iter(),
        }))
    }

    fn deserialize_tuple<V: Visitor<'a>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        if !matches!(self.node.kind, Kind::Map(_)) {
            return Err(self.wrong("a mapping"));
        }
        self.done(visitor.visit_map(Map::new(self, None)))
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if !matches!(self.node.kind, Kind::Map(_)) {
            return Err(self.wrong("a mapping"));
        }
        self.done(visitor.visit_map(Map::new(self, Some(fields))))
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let Some(value) = self.text() else {
            return Err(self.wrong(&format!("one of: {}", variants.join(", "))));
        };
        self.done(visitor.visit_enum(de::value::BorrowedStrDeserializer::new(value)))
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

/// The items of a sequence. A failing item makes the whole sequence the value left out on
/// the next attempt, so the items that are kept keep their positions.
struct Seq<'r, 'a> {
    parent: NodeDe<'r, 'a>,
    items: std::slice::Iter<'a, Node>,
}

impl<'a> de::SeqAccess<'a> for Seq<'_, 'a> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let child = self.parent.child(item)?;
        seed.deserialize(child).map(Some).map_err(|mut err| {
            err.node = id(self.parent.node);
            err
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The entries of a mapping (merge keys followed; for a struct, its declared keys only).
struct Map<'r, 'a> {
    parent: NodeDe<'r, 'a>,
    entries: std::vec::IntoIter<(&'a Node, &'a Node, bool)>,
    value: Option<(&'a Node, bool)>,
    key: Option<&'a str>,
}

impl<'r, 'a> Map<'r, 'a> {
    fn new(parent: NodeDe<'r, 'a>, fields: Option<&'static [&'static str]>) -> Self {
        let reader = parent.reader;
        let mut entries = map_entries(reader.doc, parent.node);
        entries.retain(|(k, v, _)| {
            fields.is_none_or(|f| k.scalar().is_some_and(|name| f.contains(&name)))
                && !reader.poisoned(k)
                && !reader.poisoned(v)
        });
        Self {
            parent,
            entries: entries.into_iter(),
            value: None,
            key: None,
        }
    }
}

impl<'a> de::MapAccess<'a> for Map<'_, 'a> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, value, aliased)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some((value, aliased));
        self.key = key.scalar();
        let child = NodeDe::enter(
            self.parent.reader,
            key,
            self.parent.depth + 1,
            self.parent.aliased || aliased,
        )?;
        seed.deserialize(child).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (value, aliased) = self.value.take().ok_or_else(|| {
            self.parent
                .fail(What::Other("a value without a key".to_owned()))
        })?;
        let child = NodeDe::enter(
            self.parent.reader,
            value,
            self.parent.depth + 1,
            self.parent.aliased || aliased,
        )?;
        seed.deserialize(child).map_err(|mut err| {
            if err.key.is_none() {
                err.key = self.key.map(str::to_owned);
            }
            err
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{MemberSpec, Settings, WorkspaceSpec};

    fn read<T: de::DeserializeOwned>(text: &str) -> (Option<T>, Vec<String>) {
        let doc = Doc::parse(text).unwrap();
        let reader = Reader::new(&doc, 1000);
        let mut errors = Vec::new();
        let value = reader.typed(None, doc.root.as_ref().unwrap(), |e| {
            if !e.shadowed {
                errors.push(e.message());
            }
        });
        (value, errors)
    }

    #[test]
    fn scalars_are_read_by_the_type_asked_for() {
        let (ws, errors) = read::<WorkspaceSpec>("name: 123\narchived: yes\n");
        assert!(errors.is_empty(), "{errors:?}");
        let ws = ws.unwrap();
        assert_eq!(ws.name, "123");
        assert!(ws.archived);
        let (settings, errors) =
            read::<Settings>("limits: {max_destructive: 0x10, max_destructive_percent: 5}\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(settings.unwrap().limits.max_destructive, 16);
    }

    #[test]
    fn unknown_keys_are_skipped_and_the_rest_is_read() {
        let (member, errors) =
            read::<MemberSpec>("email: a@b.example\nnickname: Al\nrole: developer\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(member.unwrap().role.as_str(), "developer");
    }

    #[test]
    fn a_wrong_value_is_reported_and_left_out() {
        let (ws, errors) =
            read::<WorkspaceSpec>("name: dup\narchived: maybe\ndisplay_color: [red]\n");
        assert_eq!(
            errors,
            [
                "`archived` must be `true` or `false`, found `maybe`",
                "`display_color` must be a text value, found a list",
            ]
        );
        let ws = ws.unwrap();
        assert_eq!(ws.name, "dup");
        assert_eq!(ws.display_color, None);
    }

    #[test]
    fn a_missing_key_is_reported_once_even_when_its_value_was_left_out() {
        let (member, errors) = read::<MemberSpec>("email: [a]\nrole: user\n");
        assert!(member.is_none());
        assert_eq!(errors, ["`email` must be a text value, found a list"]);
        let (member, errors) = read::<MemberSpec>("role: user\n");
        assert!(member.is_none());
        assert_eq!(errors, ["missing key `email`"]);
    }

    #[test]
    fn numbers_out_of_range_name_the_range() {
        let (_, errors) = read::<Settings>("limits: {max_destructive: -1}\n");
        assert_eq!(
            errors,
            ["`max_destructive` must be a whole number from 0 to 4294967295, found `-1`"]
        );
    }

    #[test]
    fn alias_expansion_is_bounded() {
        let doc = Doc::parse("a: &a [x, x, x, x]\nb: [*a, *a, *a]\n").unwrap();
        let root = doc.root.as_ref().unwrap();
        let reader = Reader::new(&doc, 5);
        let mut errors = Vec::new();
        let value: Option<serde_json::Value> = reader.typed(None, root, |e| errors.push(e.what));
        assert!(value.is_none());
        assert!(errors.contains(&What::AliasBudget), "{errors:?}");
    }
}
