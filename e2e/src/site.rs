//! A site owner's web site for one test: static pages served on a loopback port of its own,
//! so the widget is embedded across origins as on a real site, each page with the
//! Content-Security-Policy the test gives it.
//!
//! The same server answers as `http://127.0.0.1:<port>` ([`TestSite::origin`]) and as
//! `http://localhost:<port>` ([`TestSite::foreign_origin`]): two different origins to a
//! browser, which gives a test a second, foreign site without a second server.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Write},
    net::{Ipv4Addr, TcpListener, TcpStream},
    sync::{Arc, Mutex},
    thread,
    time::Duration,
};

#[derive(Clone)]
struct Page {
    html: String,
    csp: Option<String>,
}

/// Static HTML pages on their own loopback port; the server lives as long as the test.
pub struct TestSite {
    port: u16,
    pages: Arc<Mutex<HashMap<String, Page>>>,
}

impl TestSite {
    /// Starts serving (nothing yet: every path is 404 until [`TestSite::page`] adds it).
    pub fn start() -> TestSite {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|error| panic!("cannot bind a loopback port: {error}"));
        let port = listener
            .local_addr()
            .expect("a bound listener has an address")
            .port();
        let pages: Arc<Mutex<HashMap<String, Page>>> = Arc::default();
        let served = pages.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let pages = served.clone();
                // One thread per connection: a browser keeps idle connections open.
                thread::spawn(move || serve(stream, &pages));
            }
        });
        TestSite { port, pages }
    }

    /// Serves `html` at `path` (e.g. `/shop`), with `csp` as its Content-Security-Policy.
    pub fn page(&self, path: &str, html: impl Into<String>, csp: Option<&str>) {
        let page = Page {
            html: html.into(),
            csp: csp.map(str::to_owned),
        };
        self.pages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(path.to_owned(), page);
    }

    /// `http://127.0.0.1:<port>`: the site's origin, the one a test allows in `kefu.toml`.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://localhost:<port>`: the same pages under another origin, a foreign site.
    pub fn foreign_origin(&self) -> String {
        format!("http://localhost:{}", self.port)
    }
}

fn serve(stream: TcpStream, pages: &Mutex<HashMap<String, Page>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut header = String::new();
    while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
        header.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or(path);
    let page = pages
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(path)
        .cloned();
    let mut writer = &stream;
    let _ = match page {
        Some(page) => {
            let csp = page
                .csp
                .map(|csp| format!("Content-Security-Policy: {csp}\r\n"))
                .unwrap_or_default();
            write!(
                writer,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n{csp}Content-Length: {}\r\nConnection: close\r\n\r\n{}",
                page.html.len(),
                page.html
            )
        }
        None => write!(
            writer,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    };
}
