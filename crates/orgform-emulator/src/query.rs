//! Query strings and ID-cursor pagination.
//!
//! Array parameters are accepted both bracketed and plain (`roles[]=a&roles=b` is
//! `roles = [a, b]`), since the SDKs send brackets and whether the server also takes plain
//! repeats is undocumented. Unknown parameters (such as `beta=true`) are ignored.
//!
//! Pagination: `limit` 1..=1000 (default 20); at most one of `before_id` / `after_id`, both
//! exclusive. A cursor must name an object of the collection (deleted invites excluded),
//! whether or not it matches the current filters; otherwise it is a 400 (the conservative
//! reading: a cursor whose object was deleted meanwhile is refused rather than guessed).
//! `has_more` refers to the requested direction. The page is built from cached wire JSON.

use std::collections::HashMap;

use crate::error::ApiError;
use crate::state::Rendered;

/// A parsed query string: name (brackets removed) to values, in order.
#[derive(Debug, Default)]
pub(crate) struct Query {
    values: HashMap<String, Vec<String>>,
}

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(raw) = raw {
            for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
                let k = k.strip_suffix("[]").unwrap_or(&k).to_owned();
                values.entry(k).or_default().push(v.into_owned());
            }
        }
        Self { values }
    }

    /// The single value of a scalar parameter; repeated values are refused.
    pub(crate) fn one(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.values.get(name).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([v]) => Ok(Some(v.as_str())),
            Some(_) => Err(ApiError::invalid(format!(
                "{name}: expected a single value"
            ))),
        }
    }

    /// Every value of an array parameter.
    pub(crate) fn many(&self, name: &str) -> &[String] {
        self.values.get(name).map_or(&[], Vec::as_slice)
    }

    /// A boolean parameter.
    pub(crate) fn bool(&self, name: &str) -> Result<bool, ApiError> {
        match self.one(name)? {
            Some("true" | "True" | "1") => Ok(true),
            None | Some("false" | "False" | "0") => Ok(false),
            Some(other) => Err(ApiError::invalid(format!(
                "{name}: Input should be a valid boolean, unable to interpret input \"{other}\""
            ))),
        }
    }

    /// The pagination parameters.
    pub(crate) fn page(&self) -> Result<Page, ApiError> {
        let limit = match self.one("limit")? {
            None => 20,
            Some(raw) => {
                let n: i64 = raw.parse().map_err(|_| {
                    ApiError::invalid(format!(
                        "limit: Input should be a valid integer, unable to parse string as an integer (got \"{raw}\")"
                    ))
                })?;
                if !(1..=1000).contains(&n) {
                    return Err(ApiError::invalid(format!(
                        "limit: the limit parameter must be between 1 and 1000, inclusive (got {n})"
                    )));
                }
                usize::try_from(n).unwrap_or(20)
            }
        };
        let before = self.one("before_id")?.map(str::to_owned);
        let after = self.one("after_id")?.map(str::to_owned);
        let cursor = match (before, after) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid(
                    "cannot specify both before_id and after_id",
                ));
            }
            (Some(b), None) => Cursor::Before(b),
            (None, Some(a)) => Cursor::After(a),
            (None, None) => Cursor::Start,
        };
        Ok(Page { limit, cursor })
    }
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cursor {
    Start,
    After(String),
    Before(String),
}

/// `limit` and cursor.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub(crate) limit: usize,
    pub(crate) cursor: Cursor,
}

/// Builds one page of a list response.
///
/// `items` is the collection in list order, `rendered` its cached JSON, `key` maps a cursor
/// value to the key of `rendered.pos` (members are keyed by workspace and user), `id` gives
/// an item's id for `first_id`/`last_id`, `cursor_ok` decides which items may serve as a
/// cursor, and `visible` decides which items this list shows.
pub(crate) fn paginate<T>(
    items: &[T],
    rendered: &Rendered,
    page: &Page,
    cursor_key: impl Fn(&str) -> String,
    id: impl Fn(&T) -> &str,
    cursor_ok: impl Fn(&T) -> bool,
    visible: impl Fn(&T) -> bool,
) -> Result<Vec<u8>, ApiError> {
    let find = |raw: &str, name: &str| -> Result<usize, ApiError> {
        rendered
            .pos
            .get(&cursor_key(raw))
            .copied()
            .filter(|&i| cursor_ok(&items[i]))
            .ok_or_else(|| ApiError::invalid(format!("{name}: no object found with id \"{raw}\"")))
    };
    let mut picked: Vec<usize> = Vec::with_capacity(page.limit.min(items.len()));
    let has_more;
    match &page.cursor {
        Cursor::Start | Cursor::After(_) => {
            let start = match &page.cursor {
                Cursor::After(a) => find(a, "after_id")? + 1,
                _ => 0,
            };
            let mut iter = (start..items.len()).filter(|&i| visible(&items[i]));
            picked.extend(iter.by_ref().take(page.limit));
            has_more = iter.next().is_some();
        }
        Cursor::Before(b) => {
            let end = find(b, "before_id")?;
            let mut iter = (0..end).rev().filter(|&i| visible(&items[i]));
            picked.extend(iter.by_ref().take(page.limit));
            has_more = iter.next().is_some();
            picked.reverse();
        }
    }
    let size: usize = picked.iter().map(|&i| rendered.json[i].len() + 1).sum();
    let mut out = Vec::with_capacity(size + 160);
    out.extend_from_slice(b"{\"data\":[");
    for (n, &i) in picked.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&rendered.json[i]);
    }
    out.extend_from_slice(b"],\"first_id\":");
    let first = picked.first().map(|&i| id(&items[i]));
    let last = picked.last().map(|&i| id(&items[i]));
    serde_json::to_writer(&mut out, &first).map_err(|e| internal(&e))?;
    out.extend_from_slice(b",\"last_id\":");
    serde_json::to_writer(&mut out, &last).map_err(|e| internal(&e))?;
    out.extend_from_slice(if has_more {
        b",\"has_more\":true}"
    } else {
        b",\"has_more\":false}"
    });
    Ok(out)
}

fn internal(e: &serde_json::Error) -> ApiError {
    ApiError::other(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "api_error",
        format!("internal server error: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_ids(
        items: &[u32],
        rendered: &Rendered,
        page: &Page,
        visible: &dyn Fn(&u32) -> bool,
    ) -> (Vec<u32>, bool, Option<String>, Option<String>) {
        let bytes = paginate(
            items,
            rendered,
            page,
            str::to_owned,
            |i| ID_STRS[usize::try_from(*i).unwrap()].as_str(),
            |_| true,
            visible,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let ids = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| u32::try_from(x.as_u64().unwrap()).unwrap())
            .collect();
        (
            ids,
            v["has_more"].as_bool().unwrap(),
            v["first_id"].as_str().map(str::to_owned),
            v["last_id"].as_str().map(str::to_owned),
        )
    }

    static ID_STRS: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| (0..400).map(|i| format!("id{i}")).collect());

    proptest::proptest! {
        /// Any list, filter and limit: walking forwards, then backwards from the last item,
        /// yields every visible item exactly once, in order.
        #[test]
        fn walks_see_every_visible_item_once(n in 0usize..300, limit in 1usize..40, modulo in 1u32..5) {
            let items: Vec<u32> = (0..u32::try_from(n).unwrap()).collect();
            let rendered = Rendered {
                json: items.iter().map(|i| i.to_string().into_bytes().into_boxed_slice()).collect(),
                pos: items.iter().map(|i| (format!("id{i}"), usize::try_from(*i).unwrap())).collect(),
            };
            let visible = move |i: &u32| i.is_multiple_of(modulo);
            let expected: Vec<u32> = items.iter().copied().filter(|i| visible(i)).collect();
            let mut forward = Vec::new();
            let mut cursor = Cursor::Start;
            loop {
                let (ids, more, _, last) = page_ids(&items, &rendered, &Page { limit, cursor: cursor.clone() }, &visible);
                proptest::prop_assert!(ids.len() <= limit);
                forward.extend(ids);
                if !more { break; }
                cursor = Cursor::After(last.unwrap());
            }
            proptest::prop_assert_eq!(&forward, &expected);
            if let Some(&last) = expected.last() {
                let mut backward = vec![last];
                let mut cursor = Cursor::Before(format!("id{last}"));
                loop {
                    let (ids, more, first, _) = page_ids(&items, &rendered, &Page { limit, cursor: cursor.clone() }, &visible);
                    let mut page = ids;
                    page.extend(backward);
                    backward = page;
                    if !more { break; }
                    cursor = Cursor::Before(first.unwrap());
                }
                proptest::prop_assert_eq!(&backward, &expected);
            }
        }
    }

    #[test]
    fn bracketed_and_plain_arrays_merge() {
        let q = Query::parse(Some(
            "roles[]=admin&roles=user&roles%5B%5D=billing&beta=true",
        ));
        assert_eq!(q.many("roles"), ["admin", "user", "billing"]);
        assert_eq!(q.one("beta").unwrap(), Some("true"));
    }

    #[test]
    fn limit_bounds_and_double_cursor_are_refused() {
        assert_eq!(Query::parse(None).page().unwrap().limit, 20);
        assert!(Query::parse(Some("limit=0")).page().is_err());
        assert!(Query::parse(Some("limit=1001")).page().is_err());
        assert!(Query::parse(Some("limit=x")).page().is_err());
        assert_eq!(Query::parse(Some("limit=1000")).page().unwrap().limit, 1000);
        assert!(Query::parse(Some("before_id=a&after_id=b")).page().is_err());
    }
}
