//! A tiny scripted HTTP/1.1 server on loopback that answers with raw bytes, so that tests can
//! play a hostile or broken Admin API: HTML pages, truncated bodies, resets, redirects,
//! trickled bodies and odd headers. Every request is logged; every connection is closed after
//! one answer.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// The path without its query.
    pub path: String,
    #[allow(dead_code, reason = "shown in failure messages through Debug")]
    pub query: String,
    #[allow(dead_code, reason = "shown in failure messages through Debug")]
    pub at: Instant,
}

/// How to answer one request.
pub enum Reply {
    /// A complete response: status, extra headers, body (`content-length` is set).
    Http(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// These bytes exactly, then close.
    Raw(Vec<u8>),
    /// Close the connection without answering.
    Close,
    /// A 200 head announcing `len` bytes, then one byte every `gap`, until the client leaves.
    Trickle { len: usize, gap: Duration },
    /// Read the request, then say nothing until the client leaves (at most a minute).
    Silent,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self::Http(
            status,
            vec![("content-type", "application/json".to_owned())],
            serde_json::to_vec(body).unwrap(),
        )
    }

    /// The Admin API's error envelope.
    pub fn error(status: u16, kind: &str) -> Self {
        Self::json(
            status,
            &serde_json::json!({
                "type": "error",
                "error": {"type": kind, "message": format!("scripted {kind}")},
                "request_id": "req_scripted",
            }),
        )
    }
}

type Script = dyn Fn(&Seen) -> Reply + Send + Sync;

/// A running scripted server; it stops accepting when dropped.
pub struct Server {
    pub url: String,
    log: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl Server {
    pub fn start(script: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        {
            let (log, stop) = (log.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (log, script) = (log.clone(), script.clone());
                    std::thread::spawn(move || serve(stream, &log, &*script));
                }
            });
        }
        Self {
            url: format!("http://{addr}"),
            log,
            stop,
            addr,
        }
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    /// Requests other than GET, as `METHOD path`.
    pub fn writes(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .filter(|s| s.method != "GET")
            .map(|s| format!("{} {}", s.method, s.path))
            .collect()
    }

    /// How many requests went to `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.log().iter().filter(|s| s.path == path).count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(mut stream: TcpStream, log: &Mutex<Vec<Seen>>, script: &Script) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let target = words.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let seen = Seen {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        at: Instant::now(),
    };
    log.lock().unwrap().push(seen.clone());
    match script(&seen) {
        Reply::Http(status, headers, body) => {
            let mut out = format!(
                "HTTP/1.1 {status} {}\r\nrequest-id: req_scripted\r\ncontent-length: {}\r\nconnection: close\r\n",
                reason(status),
                body.len()
            );
            for (k, v) in headers {
                let _ = write!(out, "{k}: {v}\r\n");
            }
            out.push_str("\r\n");
            let mut bytes = out.into_bytes();
            bytes.extend_from_slice(&body);
            let _ = stream.write_all(&bytes);
        }
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes);
        }
        Reply::Close => {}
        Reply::Trickle { len, gap } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
            );
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            for _ in 0..len {
                std::thread::sleep(gap);
                if stream
                    .write_all(b" ")
                    .and_then(|()| stream.flush())
                    .is_err()
                {
                    return;
                }
            }
        }
        Reply::Silent => {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
            let _ = stream.read(&mut chunk);
        }
    }
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        529 => "Overloaded",
        _ => "Status",
    }
}
