//! What a client has done so far, for progress lines: requests sent, whether a request is
//! waiting on the rate limit right now, and how many collections of the current read are in.
//!
//! A request waits on the rate limit while its budget holds it back (the `pacing` module) or
//! while it sleeps for the `retry-after` of a 429. A read's collections are users, invites,
//! API keys, workspaces, the member list of each workspace the read includes, and service
//! accounts when the credential reads them (known once the workspaces are listed).

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// The collections of a read other than workspaces' member lists: users, invites, API keys,
/// workspaces.
pub(crate) const TOP_LEVEL_COLLECTIONS: usize = 4;

/// A client's progress at one moment ([`Client::progress`](crate::Client::progress)).
///
/// Displayed as a progress line: `read 4/9 collections, 57 requests, waiting on the rate
/// limit` during a read, `57 requests` otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Requests sent by this client (and its clones) so far, every attempt counted.
    pub requests: u64,
    /// Whether a request is waiting on the rate limit now.
    pub waiting_on_rate_limit: bool,
    /// The collections of the latest read: read so far, and how many it has.
    pub collections: Option<(usize, usize)>,
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((read, total)) = self.collections {
            write!(f, "read {read}/{total} collections, ")?;
        }
        let requests = crate::snapshot::thousands(self.requests);
        let noun = if self.requests == 1 {
            "request"
        } else {
            "requests"
        };
        write!(f, "{requests} {noun}")?;
        if self.waiting_on_rate_limit {
            f.write_str(", waiting on the rate limit")?;
        }
        Ok(())
    }
}

/// The counters behind [`Progress`], shared by a client's clones.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    /// Requests waiting on the rate limit now.
    waiting: AtomicUsize,
    reading: AtomicBool,
    read: AtomicUsize,
    total: AtomicUsize,
}

impl Counters {
    pub(crate) fn progress(&self) -> Progress {
        Progress {
            requests: self.requests.load(Ordering::Relaxed),
            waiting_on_rate_limit: self.waiting.load(Ordering::Relaxed) > 0,
            collections: self.reading.load(Ordering::Relaxed).then(|| {
                (
                    self.read.load(Ordering::Relaxed),
                    self.total.load(Ordering::Relaxed),
                )
            }),
        }
    }

    /// One request sent.
    pub(crate) fn sent(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// A request starts waiting on the rate limit, until the guard is dropped.
    pub(crate) fn waiting(&self) -> Waiting<'_> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        Waiting(&self.waiting)
    }

    /// A read starts (again): its top-level collections are known, its member lists not yet.
    pub(crate) fn read_started(&self) {
        self.read.store(0, Ordering::Relaxed);
        self.total.store(TOP_LEVEL_COLLECTIONS, Ordering::Relaxed);
        self.reading.store(true, Ordering::Relaxed);
    }

    /// `n` more collections to read (the member lists of the workspaces listed).
    pub(crate) fn more_collections(&self, n: usize) {
        self.total.fetch_add(n, Ordering::Relaxed);
    }

    /// One collection read.
    pub(crate) fn collection_read(&self) {
        self.read.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts one request as waiting on the rate limit while it lives.
#[derive(Debug)]
pub(crate) struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_progress_line_has_collections_requests_and_the_wait() {
        let p = Progress {
            requests: 57,
            waiting_on_rate_limit: true,
            collections: Some((4, 9)),
        };
        assert_eq!(
            p.to_string(),
            "read 4/9 collections, 57 requests, waiting on the rate limit"
        );
        let p = Progress {
            requests: 1_027,
            waiting_on_rate_limit: false,
            collections: None,
        };
        assert_eq!(p.to_string(), "1,027 requests");
        assert_eq!(
            Progress {
                requests: 1,
                ..Progress::default()
            }
            .to_string(),
            "1 request"
        );
    }

    #[test]
    fn counters_track_a_read_and_the_waits() {
        let c = Counters::default();
        assert_eq!(c.progress(), Progress::default());
        c.read_started();
        c.sent();
        c.sent();
        c.collection_read();
        c.more_collections(5);
        let guard = c.waiting();
        let second = c.waiting();
        assert_eq!(
            c.progress(),
            Progress {
                requests: 2,
                waiting_on_rate_limit: true,
                collections: Some((1, 9)),
            }
        );
        drop(guard);
        assert!(c.progress().waiting_on_rate_limit, "one still waits");
        drop(second);
        assert!(!c.progress().waiting_on_rate_limit);
        // A read again starts over.
        c.read_started();
        assert_eq!(c.progress().collections, Some((0, 4)));
    }
}
