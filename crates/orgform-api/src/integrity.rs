//! Read integrity: a list is read completely and consistently, or not at all.
//!
//! A plan compares the manifest with what was read, so anything missing from a read looks
//! like something to remove. Every check here turns a doubtful read into
//! [`ApiError::InconsistentRead`], which the commands report without planning anything.
//!
//! Page by page ([`ListCheck`], used by every paginated list):
//! - every page carries `has_more`, and `first_id`/`last_id` when `data` is not empty (the
//!   spec's list envelope requires them; a page without them is not taken as the last one);
//! - an empty page that claims more pages, or a cursor already followed, ends the read;
//! - a collection never has more items than its documented cap ([`ListCap`]), so it is never
//!   read in more than `cap / 1000` pages: endless pagination with ever-new cursors ends
//!   after a bounded number of requests and a bounded amount of memory;
//! - every item carries its id (`user_id` for workspace members); an id listed twice must
//!   carry the same object both times (compared as JSON), and is then kept once.
//!
//! Over the whole snapshot ([`check_snapshot`], run by `Client::fetch_snapshot`):
//! - user emails are unique case-insensitively;
//! - every workspace member is a user of the same snapshot.
//!
//! Each member list must name the workspace it was asked for ([`check_members_of`]).
//!
//! A read that changes while it is taken is handled by `Client::fetch_snapshot`: users and
//! workspaces are listed again after everything else, and a difference means the whole
//! organization is read again, at most [`READ_ATTEMPTS`] times in all.

use std::collections::{HashMap, HashSet};

use orgform_model::{Snapshot, WorkspaceMember, normalize_email};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ApiError;
use crate::client::PAGE_SIZE;
use crate::wire::RawPage;

/// How many times [`crate::Client::fetch_snapshot`] reads the organization before it gives
/// up on a read that keeps changing.
pub const READ_ATTEMPTS: u32 = 3;

/// The most items orgform accepts in one collection, and so the most pages it follows.
///
/// The caps are well above what an organization holds (the Admin API's own limits are lower
/// for workspaces and keys) and exist so that a server that never stops paginating is
/// refused after a bounded number of requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListCap {
    /// Items.
    pub items: usize,
}

impl ListCap {
    /// Users of the organization: 100,000 (100 pages).
    pub const USERS: Self = Self { items: 100_000 };
    /// Invites of every listed status, history included: 200,000 (200 pages).
    pub const INVITES: Self = Self { items: 200_000 };
    /// Workspaces, archived included: 10,000 (10 pages).
    pub const WORKSPACES: Self = Self { items: 10_000 };
    /// Members of one workspace: as many as users (100 pages).
    pub const WORKSPACE_MEMBERS: Self = Self::USERS;
    /// API keys: 100,000 (100 pages).
    pub const API_KEYS: Self = Self { items: 100_000 };

    /// Service accounts, archived included: 10,000 (100 pages of 100).
    pub const SERVICE_ACCOUNTS: Self = Self { items: 10_000 };
    /// Workspace memberships of service accounts in one list: 10,000 (100 pages of 100).
    pub const SERVICE_ACCOUNT_MEMBERS: Self = Self { items: 10_000 };
    /// Federation issuers, or rules, archived included: 10,000 (100 pages of 100).
    pub const FEDERATION: Self = Self { items: 10_000 };

    /// The most pages of [`crate::PAGE_SIZE`] items the cap allows.
    pub fn pages(self) -> usize {
        self.pages_of(PAGE_SIZE as usize)
    }

    /// The most pages of `page_size` items the cap allows.
    pub fn pages_of(self, page_size: usize) -> usize {
        self.items.div_ceil(page_size.max(1)).max(1)
    }
}

/// What made a read inconsistent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadProblem {
    /// A page lacks a field of the list envelope.
    #[error("page {page} has no `{field}`, so whether the list is complete cannot be told")]
    MissingEnvelopeField {
        /// 1-based page number.
        page: usize,
        /// `has_more`, `first_id` or `last_id`.
        field: &'static str,
    },
    /// An empty page that says more pages follow.
    #[error("page {page} is empty but says more pages follow")]
    EmptyPageWithMore {
        /// 1-based page number.
        page: usize,
    },
    /// A cursor that was already followed.
    #[error("page {page} repeats the cursor {cursor:?}: following it would loop")]
    RepeatedCursor {
        /// 1-based page number.
        page: usize,
        /// The repeated cursor.
        cursor: String,
    },
    /// The last page the collection can hold still says more pages follow.
    #[error(
        "pagination did not end after {pages} pages ({items} items is the most this collection can hold)"
    )]
    TooManyPages {
        /// The page cap.
        pages: usize,
        /// The item cap.
        items: usize,
    },
    /// More items than the collection can hold.
    #[error("more than {items} items (the most this collection can hold)")]
    TooManyItems {
        /// The item cap.
        items: usize,
    },
    /// An item without its id.
    #[error("an item on page {page} has no string `{field}`")]
    MissingId {
        /// 1-based page number.
        page: usize,
        /// The id field.
        field: &'static str,
    },
    /// The same id listed twice with different contents.
    #[error("{id:?} is listed twice with different contents (page {first_page} and page {page})")]
    DuplicateDiffers {
        /// The id.
        id: String,
        /// Where it was first listed.
        first_page: usize,
        /// Where it was listed again.
        page: usize,
    },
    /// Two users with the same email.
    #[error(
        "users {first:?} and {second:?} have the same email {email:?} (compared case-insensitively)"
    )]
    DuplicateEmail {
        /// The email, normalised.
        email: String,
        /// One user id.
        first: String,
        /// The other.
        second: String,
    },
    /// A member listed with another workspace than the one asked for.
    #[error(
        "member {user_id:?} is listed with workspace_id {listed:?}, not the workspace asked for"
    )]
    WrongWorkspace {
        /// The member's user id.
        user_id: String,
        /// The workspace id the item carries.
        listed: String,
    },
    /// A member whose user was not read.
    #[error("member {user_id:?} is not among the users read in the same snapshot")]
    UnknownUser {
        /// The member's user id.
        user_id: String,
    },
    /// A service-account membership whose service account was not listed.
    #[error(
        "a membership names service account {service_account_id:?}, which is not among the non-archived service accounts read"
    )]
    UnknownServiceAccount {
        /// The service account id the membership carries.
        service_account_id: String,
    },
    /// A federation rule whose target service account was not listed.
    #[error(
        "a rule targets service account {service_account_id:?}, which is not among the service accounts read"
    )]
    UnknownRuleTarget {
        /// The service account id the rule carries.
        service_account_id: String,
    },
    /// A federation rule whose issuer was not listed.
    #[error("a rule names issuer {issuer_id:?}, which is not among the issuers read")]
    UnknownIssuer {
        /// The issuer id the rule carries.
        issuer_id: String,
    },
    /// An item of a list of one object's memberships that names another object.
    #[error("an item names {field} {listed:?}, not the one asked for")]
    WrongOwner {
        /// `workspace_id` or `service_account_id`.
        field: &'static str,
        /// The id the item carries.
        listed: String,
    },
    /// The collection read differently each time it was read.
    #[error(
        "it changed while the organization was being read, {attempts} times in a row; run again when it is quiet"
    )]
    Changed {
        /// Full reads attempted.
        attempts: u32,
    },
}

/// The `next_page` field of a cursor-paginated page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum NextPage {
    /// The field is absent: whether the list is complete cannot be told.
    #[default]
    Missing,
    /// `null`: the last page.
    Last,
    /// The cursor of the next page.
    Cursor(String),
}

impl<'de> serde::Deserialize<'de> for NextPage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map_or(Self::Last, Self::Cursor))
    }
}

/// Follows a paginated list page by page and checks each page before the next one is asked
/// for.
#[derive(Debug)]
pub(crate) struct ListCheck {
    collection: String,
    id_field: &'static str,
    cap: ListCap,
    page_size: usize,
    pages: usize,
    cursors: HashSet<String>,
    items: Vec<Value>,
    /// id -> page where it was first listed and its index in `items`.
    ids: HashMap<String, (usize, usize)>,
}

impl ListCheck {
    /// A check for `collection` (as named in errors), whose items are identified by
    /// `id_field`.
    pub(crate) fn new(collection: impl Into<String>, id_field: &'static str, cap: ListCap) -> Self {
        Self {
            collection: collection.into(),
            id_field,
            cap,
            page_size: PAGE_SIZE as usize,
            pages: 0,
            cursors: HashSet::new(),
            items: Vec::new(),
            ids: HashMap::new(),
        }
    }

    fn fail(&self, problem: ReadProblem) -> ApiError {
        inconsistent(&self.collection, problem)
    }

    /// A check of a list paginated by an opaque `page` cursor (`next_page` in each page,
    /// `null` on the last), of `page_size` items a page.
    pub(crate) fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size;
        self
    }

    /// Takes one page of a `next_page`-paginated list (`next_page` must be present, `null`
    /// on the last page); returns the cursor of the next page, `None` when complete.
    pub(crate) fn cursor_page(
        &mut self,
        data: Vec<Value>,
        next_page: NextPage,
    ) -> Result<Option<String>, ApiError> {
        self.pages += 1;
        let n = self.pages;
        let next = match next_page {
            NextPage::Missing => {
                return Err(self.fail(ReadProblem::MissingEnvelopeField {
                    page: n,
                    field: "next_page",
                }));
            }
            NextPage::Last => None,
            NextPage::Cursor(cursor) => Some(cursor),
        };
        let empty = data.is_empty();
        self.take_items(data, n)?;
        let Some(cursor) = next else {
            return Ok(None);
        };
        if empty {
            return Err(self.fail(ReadProblem::EmptyPageWithMore { page: n }));
        }
        self.follow(cursor, n).map(Some)
    }

    /// Checks a cursor before it is followed: never twice, never past the page cap.
    fn follow(&mut self, cursor: String, n: usize) -> Result<String, ApiError> {
        if !self.cursors.insert(cursor.clone()) {
            return Err(self.fail(ReadProblem::RepeatedCursor { page: n, cursor }));
        }
        let pages = self.cap.pages_of(self.page_size);
        if n >= pages {
            return Err(self.fail(ReadProblem::TooManyPages {
                pages,
                items: self.cap.items,
            }));
        }
        Ok(cursor)
    }

    /// Takes a page's items: each with its id, an id seen before only with the same
    /// contents (kept once), never more than the cap.
    fn take_items(&mut self, data: Vec<Value>, n: usize) -> Result<(), ApiError> {
        for item in data {
            let Some(id) = item.get(self.id_field).and_then(Value::as_str) else {
                return Err(self.fail(ReadProblem::MissingId {
                    page: n,
                    field: self.id_field,
                }));
            };
            if let Some(&(first_page, index)) = self.ids.get(id) {
                if self.items[index] != item {
                    return Err(self.fail(ReadProblem::DuplicateDiffers {
                        id: id.to_owned(),
                        first_page,
                        page: n,
                    }));
                }
                continue;
            }
            if self.items.len() >= self.cap.items {
                return Err(self.fail(ReadProblem::TooManyItems {
                    items: self.cap.items,
                }));
            }
            self.ids.insert(id.to_owned(), (n, self.items.len()));
            self.items.push(item);
        }
        Ok(())
    }

    /// Takes one page; returns the cursor of the next page, `None` when the list is
    /// complete.
    pub(crate) fn page(&mut self, page: RawPage) -> Result<Option<String>, ApiError> {
        self.pages += 1;
        let n = self.pages;
        let missing = |field| ReadProblem::MissingEnvelopeField { page: n, field };
        let has_more = page
            .has_more
            .ok_or_else(|| self.fail(missing("has_more")))?;
        if !page.data.is_empty() {
            if page.first_id.is_none() {
                return Err(self.fail(missing("first_id")));
            }
            if page.last_id.is_none() {
                return Err(self.fail(missing("last_id")));
            }
        }
        self.take_items(page.data, n)?;
        if !has_more {
            return Ok(None);
        }
        let Some(cursor) = page.last_id else {
            return Err(self.fail(ReadProblem::EmptyPageWithMore { page: n }));
        };
        self.follow(cursor, n).map(Some)
    }

    /// The items read, each once, decoded.
    pub(crate) fn finish<T: DeserializeOwned>(self, path: &str) -> Result<Vec<T>, ApiError> {
        self.items
            .into_iter()
            .map(|item| {
                serde_json::from_value(item).map_err(|e| ApiError::Decode {
                    method: "GET".into(),
                    path: path.to_owned(),
                    detail: e.to_string(),
                    request_id: None,
                })
            })
            .collect()
    }
}

/// `ApiError::InconsistentRead` for `collection`.
pub(crate) fn inconsistent(collection: &str, problem: ReadProblem) -> ApiError {
    ApiError::InconsistentRead {
        collection: collection.to_owned(),
        problem,
    }
}

/// How member lists are named in errors.
pub(crate) fn members_collection(workspace_id: &str) -> String {
    format!("members of workspace {workspace_id}")
}

/// Every member of a workspace's list must name that workspace.
pub(crate) fn check_members_of(
    workspace_id: &str,
    members: &[WorkspaceMember],
) -> Result<(), ApiError> {
    match members.iter().find(|m| m.workspace_id != workspace_id) {
        Some(m) => Err(inconsistent(
            &members_collection(workspace_id),
            ReadProblem::WrongWorkspace {
                user_id: m.user_id.clone(),
                listed: m.workspace_id.clone(),
            },
        )),
        None => Ok(()),
    }
}

/// The checks across collections of one snapshot.
pub(crate) fn check_snapshot(snapshot: &Snapshot) -> Result<(), ApiError> {
    let mut emails: HashMap<String, &str> = HashMap::new();
    for user in &snapshot.users {
        let email = normalize_email(&user.email);
        if let Some(first) = emails.insert(email.clone(), user.id.as_str()) {
            return Err(inconsistent(
                "users",
                ReadProblem::DuplicateEmail {
                    email,
                    first: first.to_owned(),
                    second: user.id.clone(),
                },
            ));
        }
    }
    let users: HashSet<&str> = snapshot.users.iter().map(|u| u.id.as_str()).collect();
    if let Some(m) = snapshot
        .workspace_members
        .iter()
        .find(|m| !users.contains(m.user_id.as_str()))
    {
        return Err(inconsistent(
            &members_collection(&m.workspace_id),
            ReadProblem::UnknownUser {
                user_id: m.user_id.clone(),
            },
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(data: Vec<Value>, has_more: Option<bool>) -> RawPage {
        let id = |v: Option<&Value>| v.and_then(|v| v["id"].as_str()).map(str::to_owned);
        RawPage {
            first_id: id(data.first()),
            last_id: id(data.last()),
            data,
            has_more,
        }
    }

    fn check() -> ListCheck {
        ListCheck::new("users", "id", ListCap { items: 3000 })
    }

    fn problem(err: ApiError) -> ReadProblem {
        match err {
            ApiError::InconsistentRead { problem, .. } => problem,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn follows_pages_and_drops_identical_duplicates() {
        let mut c = check();
        let next = c
            .page(raw(
                vec![json!({"id": "a"}), json!({"id": "b"})],
                Some(true),
            ))
            .unwrap();
        assert_eq!(next.as_deref(), Some("b"));
        let next = c
            .page(raw(
                vec![json!({"id": "b"}), json!({"id": "c"})],
                Some(false),
            ))
            .unwrap();
        assert_eq!(next, None);
        let items: Vec<Value> = c.finish("/p").unwrap();
        assert_eq!(items.len(), 3);
    }

    #[test]
    fn envelope_fields_are_required() {
        let err = check()
            .page(raw(vec![json!({"id": "a"})], None))
            .unwrap_err();
        assert_eq!(
            problem(err),
            ReadProblem::MissingEnvelopeField {
                page: 1,
                field: "has_more"
            }
        );
        let mut page = raw(vec![json!({"id": "a"})], Some(false));
        page.last_id = None;
        let err = check().page(page).unwrap_err();
        assert!(matches!(
            problem(err),
            ReadProblem::MissingEnvelopeField {
                field: "last_id",
                ..
            }
        ));
        // An empty last page needs no ids.
        assert_eq!(check().page(raw(vec![], Some(false))).unwrap(), None);
    }

    #[test]
    fn empty_page_with_more_and_repeated_cursor_end_the_read() {
        let err = check().page(raw(vec![], Some(true))).unwrap_err();
        assert_eq!(problem(err), ReadProblem::EmptyPageWithMore { page: 1 });
        let mut c = check();
        c.page(raw(vec![json!({"id": "a"})], Some(true))).unwrap();
        let err = c
            .page(raw(vec![json!({"id": "a"})], Some(true)))
            .unwrap_err();
        assert!(matches!(
            problem(err),
            ReadProblem::RepeatedCursor { page: 2, .. }
        ));
    }

    #[test]
    fn differing_duplicates_are_refused() {
        let mut c = check();
        c.page(raw(
            vec![json!({"id": "a", "email": "x@e.example"})],
            Some(true),
        ))
        .unwrap();
        let err = c
            .page(raw(
                vec![json!({"id": "a", "email": "y@e.example"})],
                Some(false),
            ))
            .unwrap_err();
        assert!(
            err.to_string().starts_with("inconsistent read of users"),
            "{err}"
        );
        assert!(matches!(
            problem(err),
            ReadProblem::DuplicateDiffers {
                first_page: 1,
                page: 2,
                ..
            }
        ));
    }

    #[test]
    fn pages_and_items_are_capped() {
        let mut c = check();
        assert_eq!(ListCap { items: 3000 }.pages(), 3);
        for i in 0..2 {
            c.page(raw(vec![json!({"id": format!("u{i}")})], Some(true)))
                .unwrap();
        }
        let err = c
            .page(raw(vec![json!({"id": "u9"})], Some(true)))
            .unwrap_err();
        assert!(matches!(
            problem(err),
            ReadProblem::TooManyPages { pages: 3, .. }
        ));
        let mut c = ListCheck::new("users", "id", ListCap { items: 2 });
        let data = (0..3).map(|i| json!({"id": format!("u{i}")})).collect();
        let err = c.page(raw(data, Some(false))).unwrap_err();
        assert_eq!(problem(err), ReadProblem::TooManyItems { items: 2 });
        assert_eq!(ListCap::USERS.pages(), 100);
    }

    #[test]
    fn items_without_id_are_refused() {
        let mut c = ListCheck::new("members", "user_id", ListCap::WORKSPACE_MEMBERS);
        let err = c
            .page(raw(vec![json!({"id": "a"})], Some(false)))
            .unwrap_err();
        assert!(matches!(
            problem(err),
            ReadProblem::MissingId {
                field: "user_id",
                ..
            }
        ));
    }
}
