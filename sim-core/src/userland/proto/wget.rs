//! busybox `wget`, the HTTP client of Alpine and BusyBox images: the request it sends and
//! the lines it prints, shared by the simulator's program and the netns agent.
//!
//! Written from busybox 1.35.0 (Debian's `busybox-static`) run in two network namespaces
//! against a plain HTTP server, request bytes read with tshark, and from its source
//! (`networking/wget.c`, `libbb/progress.c`); `traces/programs/wget.txt` keeps the record and
//! `wget_prints_what_busybox_prints` compares with it. Hand-written: no crate reproduces a
//! particular client's wording.

use serde::{Deserialize, Serialize};

use super::http::Response;

/// What the command line asked for, beyond the URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WgetOpts {
    /// `-q`: no progress, no "Connecting to".
    #[serde(default)]
    pub quiet: bool,
    /// `-O FILE` (`-` is stdout); without it the URL's last path segment, or `index.html`.
    #[serde(default)]
    pub output: Option<String>,
    /// `-P DIR`.
    #[serde(default)]
    pub dir: Option<String>,
    /// `--spider`: only ask whether the file is there.
    #[serde(default)]
    pub spider: bool,
    /// `-S`: print the response's head.
    #[serde(default)]
    pub server_response: bool,
    /// `-U AGENT` (default `Wget`).
    #[serde(default)]
    pub user_agent: Option<String>,
    /// `--header 'Name: value'`, in order.
    #[serde(default)]
    pub headers: Vec<String>,
    /// The URL's `host[:port]` as typed: the `Host` header and "Connecting to" name it so.
    pub host: String,
}

/// The request busybox sends, as bytes: `Host` as typed, `User-Agent`, `Connection: close`,
/// the user's `--header` lines exactly as given, then a `--post-data` body's type and length.
pub fn request(o: &WgetOpts, path: &str, post: Option<&str>) -> Vec<u8> {
    let path = if path.is_empty() { "/" } else { path };
    let method = if post.is_some() { "POST" } else { "GET" };
    let agent = o.user_agent.as_deref().unwrap_or("Wget");
    let mut out =
        format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {agent}\r\nConnection: close\r\n", o.host);
    for h in &o.headers {
        out += h;
        out += "\r\n";
    }
    if let Some(data) = post {
        out += &format!("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n", data.len());
    }
    out += "\r\n";
    out += post.unwrap_or_default();
    out.into_bytes()
}

/// Printed once the name is resolved, before the connection is made.
pub fn connecting(o: &WgetOpts, ip: std::net::Ipv4Addr, port: u16) -> Option<String> {
    (!o.quiet).then(|| format!("Connecting to {} ({ip}:{port})", o.host))
}

/// The name does not resolve.
pub fn bad_address(host: &str) -> String {
    format!("wget: bad address '{host}'")
}

/// connect() failed (`what`: strerror's words).
pub fn cant_connect(ip: std::net::Ipv4Addr, what: &str) -> String {
    format!("wget: can't connect to remote host ({ip}): {what}")
}

/// The file `wget` writes, as "saving to" names it: `-O`, else the last segment of the path
/// (query cut off), else `index.html`; under `-P DIR`.
pub fn file_name(o: &WgetOpts, path: &str) -> String {
    let name = o.output.clone().unwrap_or_else(|| {
        let p = path.split('?').next().unwrap_or(path);
        match p.rsplit('/').next() {
            Some(last) if !last.is_empty() => last.to_string(),
            _ => "index.html".to_string(),
        }
    });
    match (&o.dir, o.output.is_some()) {
        (Some(d), false) => format!("{}/{name}", d.trim_end_matches('/')),
        _ => name,
    }
}

/// What busybox does with a response.
#[derive(Debug, PartialEq, Eq)]
pub struct Done {
    pub lines: Vec<String>,
    /// It exits 0.
    pub ok: bool,
    /// The file it wrote, if any.
    pub saved: Option<String>,
}

/// What busybox prints for a response: the head with `-S`, then an error for a status other
/// than 2xx, or the body (to stdout with `-O -`) between the progress lines. Without `-O` it
/// will not overwrite a file (`exists` says whether the one it would write is there).
/// `elapsed_s`: how long the transfer took.
pub fn response(o: &WgetOpts, path: &str, resp: &Response, elapsed_s: u64, exists: impl Fn(&str) -> bool) -> Done {
    let (lines, ok, saved) = response_lines(o, path, resp, elapsed_s, exists);
    Done { lines, ok, saved }
}

fn response_lines(
    o: &WgetOpts,
    path: &str,
    resp: &Response,
    elapsed_s: u64,
    exists: impl Fn(&str) -> bool,
) -> (Vec<String>, bool, Option<String>) {
    let mut out = Vec::new();
    let status_line = format!("HTTP/1.1 {} {}", resp.status, resp.reason);
    if o.server_response {
        out.push(format!("  {status_line}"));
    }
    if !(200..300).contains(&resp.status) {
        out.push(format!("wget: server returned error: {status_line}"));
        return (out, false, None);
    }
    if o.server_response {
        for (n, v) in &resp.headers {
            out.push(format!("  {n}: {v}"));
        }
        out.push("  ".into());
    }
    if o.spider {
        if !o.quiet {
            out.push("remote file exists".into());
        }
        return (out, true, None);
    }
    let file = file_name(o, path);
    let stdout = file == "-";
    // Its own name is opened O_EXCL; one given with -O is truncated.
    if !stdout && o.output.is_none() && exists(&file) {
        out.push(format!("wget: can't open '{file}': File exists"));
        return (out, false, None);
    }
    if !o.quiet {
        out.push(if stdout { "writing to stdout".into() } else { format!("saving to '{file}'") });
    }
    if stdout {
        let body = String::from_utf8_lossy(&resp.body);
        out.extend(body.lines().map(str::to_string));
    }
    if !o.quiet {
        let shown = file.rsplit('/').next().unwrap_or(&file);
        out.push(progress(shown, resp.body.len() as u64, elapsed_s));
        out.push(if stdout { "written to stdout".into() } else { format!("'{file}' saved") });
    }
    (out, true, (!stdout).then_some(file))
}

/// libbb's progress bar at the end of a transfer: the name in 20 columns, 100 %, a bar of
/// 32 stars, the size (scaled by 1024 from 100 000 on, with its unit) and the time taken.
fn progress(name: &str, size: u64, elapsed_s: u64) -> String {
    let mut v = size;
    let mut scale = 0;
    while v >= 100_000 {
        v >>= 10;
        scale += 1;
    }
    let size = match scale {
        0 => format!("{v:>6}"),
        s => format!("{v:>5}{}", [' ', 'k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'][s]),
    };
    let name: String = name.chars().take(20).collect();
    let (h, m, s) = (elapsed_s / 3600, elapsed_s / 60 % 60, elapsed_s % 60);
    format!("{name:<20} 100% |{}|{size}  {h}:{m:02}:{s:02} ETA", "*".repeat(32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(status: u16, reason: &str, body: &str) -> Response {
        Response {
            status,
            reason: reason.into(),
            headers: vec![("Content-Length".into(), body.len().to_string())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn the_request_is_busyboxs_byte_for_byte() {
        let o = WgetOpts { host: "10.77.0.2".into(), ..Default::default() };
        assert_eq!(
            request(&o, "/", None),
            b"GET / HTTP/1.1\r\nHost: 10.77.0.2\r\nUser-Agent: Wget\r\nConnection: close\r\n\r\n"
        );
        let o = WgetOpts {
            host: "10.77.0.2".into(),
            user_agent: Some("My Agent".into()),
            headers: vec!["X-A:b".into()],
            ..Default::default()
        };
        assert_eq!(
            request(&o, "/", None),
            b"GET / HTTP/1.1\r\nHost: 10.77.0.2\r\nUser-Agent: My Agent\r\nConnection: close\r\nX-A:b\r\n\r\n"
        );
        let o = WgetOpts { host: "10.77.0.2".into(), ..Default::default() };
        assert_eq!(
            String::from_utf8(request(&o, "/", Some("name=Docker&x=1"))).expect("text"),
            "POST / HTTP/1.1\r\nHost: 10.77.0.2\r\nUser-Agent: Wget\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 15\r\n\r\nname=Docker&x=1"
        );
    }

    #[test]
    fn the_progress_line_scales_from_100000_bytes() {
        assert_eq!(progress("-", 19, 0), format!("-                    100% |{}|    19  0:00:00 ETA", "*".repeat(32)));
        assert_eq!(
            progress("x", 99_999, 0),
            format!("x                    100% |{}| 99999  0:00:00 ETA", "*".repeat(32))
        );
        assert_eq!(
            progress("null", 250_000, 0),
            format!("null                 100% |{}|  244k  0:00:00 ETA", "*".repeat(32))
        );
    }

    #[test]
    fn a_file_is_named_after_the_path() {
        let o = WgetOpts::default();
        assert_eq!(file_name(&o, "/"), "index.html");
        assert_eq!(file_name(&o, "/a/b.txt?x=1"), "b.txt");
        assert_eq!(file_name(&WgetOpts { dir: Some("dl/".into()), ..Default::default() }, "/"), "dl/index.html");
        let d = response(&o, "/", &page(404, "Not Found", "no"), 0, |_| false);
        assert_eq!((d.lines, d.ok), (vec!["wget: server returned error: HTTP/1.1 404 Not Found".to_string()], false));
        let d = response(&o, "/", &page(200, "OK", "yes"), 0, |f| f == "index.html");
        assert_eq!(d.lines, ["wget: can't open 'index.html': File exists"]);
        let o = WgetOpts { output: Some("index.html".into()), quiet: true, ..Default::default() };
        let d = response(&o, "/", &page(200, "OK", "yes"), 0, |_| true);
        assert_eq!((d.ok, d.saved.as_deref()), (true, Some("index.html")), "-O overwrites");
    }
}
