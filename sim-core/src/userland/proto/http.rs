//! HTTP/1.1 messages as curl 7.88 and an Apache 2.4 + PHP 5 application exchange them.
//!
//! Sans-IO: bytes in, bytes out. The parsers are incremental because TCP may split or coalesce
//! segments arbitrarily: push whatever arrived and a complete message comes out once its body has
//! arrived (`Content-Length`, `Transfer-Encoding: chunked`, or, for responses, end of connection).

/// Maximum number of header lines a message may carry.
const MAX_HEADERS: usize = 64;
/// Maximum size of a request/status line plus headers; beyond this the peer is misbehaving.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// An HTTP/1.1 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header lines in wire order, names as written.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// An HTTP/1.1 response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// Header lines in wire order, names as written.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Writes header lines verbatim; adds `Content-Length` when the body is non-empty and neither
/// `Content-Length` nor `Transfer-Encoding` was given, so the bytes can always be framed.
fn write_headers_and_body(out: &mut Vec<u8>, headers: &[(String, String)], body: &[u8]) {
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !body.is_empty()
        && find_header(headers, "content-length").is_none()
        && find_header(headers, "transfer-encoding").is_none()
    {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

impl Request {
    /// Value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Wire bytes: request line, headers in the given order, blank line, body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.path).into_bytes();
        write_headers_and_body(&mut out, &self.headers, &self.body);
        out
    }
}

impl Response {
    /// The answer to a `HEAD`: the head a `GET` would have, without its body (RFC 9110
    /// section 9.3.2), `Content-Length` included.
    pub fn head_bytes(&self) -> Vec<u8> {
        let mut out = self.to_bytes();
        out.truncate(out.len() - self.body.len());
        out
    }

    /// Value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Wire bytes: status line, headers in the given order, blank line, body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason).into_bytes();
        write_headers_and_body(&mut out, &self.headers, &self.body);
        out
    }
}

/// The request curl 7.88.1 sends for `curl [-X method] [-d form] http://host[:port]path`.
///
/// The `Host` header carries `:port` only when the port is not 80. With `form`, the data goes
/// out verbatim (as `-d` does; encode it with [`url_encode_form`] first if needed) followed by
/// `Content-Length` and `Content-Type: application/x-www-form-urlencoded`, in curl's order.
pub fn curl_request(method: &str, host: &str, port: u16, path: &str, form: Option<&str>) -> Request {
    let host_header = if port == 80 { host.to_string() } else { format!("{host}:{port}") };
    let mut headers = vec![
        ("Host".to_string(), host_header),
        ("User-Agent".to_string(), "curl/7.88.1".to_string()),
        ("Accept".to_string(), "*/*".to_string()),
    ];
    let body = match form {
        Some(data) => {
            headers.push(("Content-Length".to_string(), data.len().to_string()));
            headers.push(("Content-Type".to_string(), "application/x-www-form-urlencoded".to_string()));
            data.as_bytes().to_vec()
        }
        None => Vec::new(),
    };
    let path = if path.is_empty() { "/" } else { path };
    Request { method: method.to_string(), path: path.to_string(), headers, body }
}

/// How the body of a message is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(usize),
    Chunked,
    /// Response body runs until the server closes the connection.
    UntilClose,
}

/// Parsed head of a message waiting for its body.
#[derive(Clone, Debug)]
struct Head {
    /// Method (requests) or reason phrase (responses).
    word: String,
    /// Path (requests); empty for responses.
    path: String,
    status: u16,
    headers: Vec<(String, String)>,
    framing: Framing,
}

fn collect_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers.iter().map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned())).collect()
}

/// Determines framing from headers (RFC 9112 §6.3). `default` applies when neither header is present.
fn framing_of(headers: &[(String, String)], default: Framing) -> Result<Framing, String> {
    if let Some(te) = find_header(headers, "transfer-encoding") {
        let last = te.rsplit(',').next().unwrap_or("").trim();
        if last.eq_ignore_ascii_case("chunked") {
            return Ok(Framing::Chunked);
        }
        return Err(format!("unsupported Transfer-Encoding: {te}"));
    }
    let mut length: Option<usize> = None;
    for (_, value) in headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("content-length")) {
        let v: usize = value.trim().parse().map_err(|_| format!("invalid Content-Length: {value:?}"))?;
        if length.is_some_and(|l| l != v) {
            return Err("conflicting Content-Length headers".to_string());
        }
        length = Some(v);
    }
    Ok(length.map_or(default, Framing::Length))
}

/// Outcome of decoding a chunked body from a buffer.
enum Chunked {
    Incomplete,
    /// Decoded body and number of bytes consumed (including trailers).
    Done(Vec<u8>, usize),
}

fn decode_chunked(buf: &[u8]) -> Result<Chunked, String> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let (consumed, size) = match httparse::parse_chunk_size(&buf[pos..]) {
            Ok(httparse::Status::Complete(c)) => c,
            Ok(httparse::Status::Partial) => return Ok(Chunked::Incomplete),
            Err(_) => return Err("invalid chunk size line".to_string()),
        };
        pos += consumed;
        let size = usize::try_from(size).map_err(|_| "chunk too large".to_string())?;
        if size == 0 {
            // Trailer section: header lines until an empty line.
            loop {
                let rest = &buf[pos..];
                let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
                    return Ok(Chunked::Incomplete);
                };
                pos += eol + 2;
                if eol == 0 {
                    return Ok(Chunked::Done(body, pos));
                }
            }
        }
        // The size is the sender's word: a size near usize::MAX must not wrap the sum (nginx
        // answers 400 to a chunk size it cannot hold, `ngx_http_parse_chunked`).
        let Some(end) = pos.checked_add(size).filter(|&e| e <= isize::MAX as usize - 2) else {
            return Err("chunk too large".to_string());
        };
        let (Some(data), Some(crlf)) = (buf.get(pos..end), buf.get(end..end + 2)) else {
            return Ok(Chunked::Incomplete);
        };
        body.extend_from_slice(data);
        if crlf != b"\r\n" {
            return Err("chunk data not followed by CRLF".to_string());
        }
        pos = end + 2;
    }
}

/// Shared buffering for both parsers.
#[derive(Clone, Debug, Default)]
struct Incremental {
    buf: Vec<u8>,
    head: Option<(Head, usize)>,
}

impl Incremental {
    /// Tries to complete the body of the pending head; returns the head, body, and consumes bytes.
    fn take_body(&mut self) -> Result<Option<(Head, Vec<u8>)>, String> {
        let Some((head, head_len)) = &self.head else { return Ok(None) };
        let rest = &self.buf[*head_len..];
        let (body, consumed) = match head.framing {
            Framing::Length(n) if rest.len() >= n => (rest[..n].to_vec(), head_len + n),
            Framing::Length(_) | Framing::UntilClose => return Ok(None),
            Framing::Chunked => match decode_chunked(rest)? {
                Chunked::Incomplete => return Ok(None),
                Chunked::Done(body, used) => (body, head_len + used),
            },
        };
        self.buf.drain(..consumed);
        let Some((head, _)) = self.head.take() else { return Ok(None) };
        Ok(Some((head, body)))
    }

    fn check_head_size(&self) -> Result<(), String> {
        if self.head.is_none() && self.buf.len() > MAX_HEAD_BYTES {
            return Err("header section too large".to_string());
        }
        Ok(())
    }
}

/// Incremental HTTP/1.1 request parser (server side).
///
/// Bytes following a complete request stay buffered (pipelining): call `push(&[])` to get the
/// next one. After an `Err` the connection is beyond repair and the parser should be dropped.
#[derive(Clone, Debug, Default)]
pub struct RequestParser {
    inner: Incremental,
}

impl RequestParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `data`; returns the next complete request, if there is one.
    pub fn push(&mut self, data: &[u8]) -> Result<Option<Request>, String> {
        self.inner.buf.extend_from_slice(data);
        if self.inner.head.is_none() {
            let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut storage);
            match req.parse(&self.inner.buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let headers = collect_headers(req.headers);
                    // A request without Content-Length or Transfer-Encoding has no body.
                    let framing = framing_of(&headers, Framing::Length(0))?;
                    let head = Head {
                        word: req.method.unwrap_or_default().to_string(),
                        path: req.path.unwrap_or_default().to_string(),
                        status: 0,
                        headers,
                        framing,
                    };
                    self.inner.head = Some((head, len));
                }
                Ok(httparse::Status::Partial) => return self.inner.check_head_size().map(|()| None),
                Err(e) => return Err(format!("bad request: {e}")),
            }
        }
        Ok(self.inner.take_body()?.map(|(h, body)| Request { method: h.word, path: h.path, headers: h.headers, body }))
    }
}

/// Incremental HTTP/1.1 response parser (client side).
///
/// A response without `Content-Length` or chunked encoding (e.g. `Connection: close` from an old
/// server) runs until the connection ends: call [`ResponseParser::eof`] when the FIN arrives.
/// 1xx, 204 and 304 responses carry no body, nor does any answer to a `HEAD` ([`for_head`]).
///
/// [`for_head`]: ResponseParser::for_head
#[derive(Clone, Debug, Default)]
pub struct ResponseParser {
    inner: Incremental,
    head: bool,
}

impl ResponseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// The parser of the answer to a `HEAD`, whose `Content-Length` is the length a `GET`
    /// would get, with no body after it (RFC 9110 section 9.3.2).
    pub fn for_head() -> Self {
        ResponseParser { head: true, ..Self::default() }
    }

    /// Appends `data`; returns the next complete response, if there is one.
    pub fn push(&mut self, data: &[u8]) -> Result<Option<Response>, String> {
        self.inner.buf.extend_from_slice(data);
        if self.inner.head.is_none() {
            let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut resp = httparse::Response::new(&mut storage);
            match resp.parse(&self.inner.buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let status = resp.code.unwrap_or_default();
                    let headers = collect_headers(resp.headers);
                    let framing = if self.head || (100..200).contains(&status) || status == 204 || status == 304 {
                        Framing::Length(0)
                    } else {
                        framing_of(&headers, Framing::UntilClose)?
                    };
                    let word = resp.reason.unwrap_or_default().to_string();
                    self.inner.head = Some((Head { word, path: String::new(), status, headers, framing }, len));
                }
                Ok(httparse::Status::Partial) => return self.inner.check_head_size().map(|()| None),
                Err(e) => return Err(format!("bad response: {e}")),
            }
        }
        Ok(self.inner.take_body()?.map(|(h, body)| Response {
            status: h.status,
            reason: h.word,
            headers: h.headers,
            body,
        }))
    }

    /// The peer closed the connection. Returns the response whose body was delimited by the
    /// close; `None` if no response was pending or it was cut short (Content-Length or chunked
    /// body incomplete, or headers incomplete).
    pub fn eof(&mut self) -> Option<Response> {
        match &self.inner.head {
            Some((head, _)) if head.framing == Framing::UntilClose => {
                let (h, len) = self.inner.head.take()?;
                let body = self.inner.buf.split_off(len);
                self.inner.buf.clear();
                Some(Response { status: h.status, reason: h.word, headers: h.headers, body })
            }
            _ => None,
        }
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one form component: `+` is a space, `%XX` a byte; a malformed `%` stays literal.
fn form_decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => match (hex_val(s[i + 1]), hex_val(s[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes an `application/x-www-form-urlencoded` body into name/value pairs, in order.
/// Empty segments (`a=1&&b=2`) are skipped; a segment without `=` has an empty value.
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    body.split(|&b| b == b'&')
        .filter(|seg| !seg.is_empty())
        .map(|seg| match seg.iter().position(|&b| b == b'=') {
            Some(eq) => (form_decode(&seg[..eq]), form_decode(&seg[eq + 1..])),
            None => (form_decode(seg), String::new()),
        })
        .collect()
}

fn form_encode_into(out: &mut String, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

/// Encodes pairs as `application/x-www-form-urlencoded` the way browsers (WHATWG) do:
/// alphanumerics and `*-._` stay, space becomes `+`, every other byte `%XX` (upper-case hex).
pub fn url_encode_form(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        form_encode_into(&mut out, name);
        out.push('=');
        form_encode_into(&mut out, value);
    }
    out
}

/// Reason phrase Apache 2.4 uses for `status`.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Request Entity Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// A response as Apache 2.4.7 with PHP 5.5.9 (Ubuntu 14.04) sends it for a PHP page.
/// `date` is the `Date` header value, e.g. `Mon, 01 Jan 2024 00:00:00 GMT`.
pub fn php_response(status: u16, date: &str, body: &str) -> Response {
    let headers = vec![
        ("Date".to_string(), date.to_string()),
        ("Server".to_string(), "Apache/2.4.7 (Ubuntu)".to_string()),
        ("X-Powered-By".to_string(), "PHP/5.5.9-1ubuntu4.29".to_string()),
        ("Content-Length".to_string(), body.len().to_string()),
        ("Content-Type".to_string(), "text/html".to_string()),
    ];
    Response { status, reason: reason_phrase(status).to_string(), headers, body: body.as_bytes().to_vec() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `bytes` into chunks whose sizes cycle through `sizes`.
    fn chunks<'a>(bytes: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        let mut pos = 0;
        let mut i = 0;
        while pos < bytes.len() {
            let n = sizes[i % sizes.len()].max(1).min(bytes.len() - pos);
            out.push(&bytes[pos..pos + n]);
            pos += n;
            i += 1;
        }
        out
    }

    const SPLITS: &[&[usize]] = &[&[1], &[2, 3], &[7], &[13, 1, 5], &[64], &[100_000]];

    /// A chunk size at the top of the range is refused, not added up until it wraps.
    #[test]
    fn a_chunk_size_near_usize_max_is_an_error() {
        for size in ["ffffffffffffffff", "fffffffffffffffe", "7ffffffffffffffe", "8000000000000000"] {
            let req = format!("POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nabc\r\n");
            let mut p = RequestParser::default();
            assert_eq!(p.push(req.as_bytes()), Err("chunk too large".to_string()), "{size}");
        }
        // A size that fits but has not arrived yet is only incomplete.
        let req = "POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\nffff\r\nabc";
        assert_eq!(RequestParser::default().push(req.as_bytes()), Ok(None));
    }

    #[test]
    fn curl_get_bytes_exact() {
        let req = curl_request("GET", "web", 80, "/index.php", None);
        assert_eq!(
            req.to_bytes(),
            b"GET /index.php HTTP/1.1\r\nHost: web\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n".to_vec()
        );
        let req = curl_request("GET", "localhost", 8080, "/", None);
        assert_eq!(
            String::from_utf8(req.to_bytes()).unwrap(),
            "GET / HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
        );
    }

    #[test]
    fn curl_post_bytes_exact() {
        let form = url_encode_form(&[("course_name", "Docker 101"), ("course_id", "DK/1")]);
        assert_eq!(form, "course_name=Docker+101&course_id=DK%2F1");
        let req = curl_request("POST", "web", 80, "/add.php", Some(&form));
        assert_eq!(
            String::from_utf8(req.to_bytes()).unwrap(),
            "POST /add.php HTTP/1.1\r\nHost: web\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\
             Content-Length: 39\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n\
             course_name=Docker+101&course_id=DK%2F1"
        );
    }

    #[test]
    fn parse_form_example() {
        assert_eq!(
            parse_form(b"course_name=Docker+101&course_id=DK%2F1"),
            vec![("course_name".to_string(), "Docker 101".to_string()), ("course_id".to_string(), "DK/1".to_string())]
        );
    }

    #[test]
    fn parse_form_edge_cases() {
        let got = parse_form(b"a=&&b&c=%41%zz%4&d=%e2%82%AC&e=x=y&%");
        let want = [("a", ""), ("b", ""), ("c", "A%zz%4"), ("d", "€"), ("e", "x=y"), ("%", "")];
        assert_eq!(got, want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>());
        assert!(parse_form(b"").is_empty());
    }

    #[test]
    fn form_encode_decode_round_trip() {
        let pairs = [("név", "a&b=c d+e%f/ü~*"), ("", "x"), ("k", "")];
        let encoded = url_encode_form(&pairs);
        assert!(encoded.is_ascii());
        let decoded = parse_form(encoded.as_bytes());
        let want: Vec<_> = pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(decoded, want);
    }

    #[test]
    fn request_round_trip_arbitrary_chunking() {
        let form = url_encode_form(&[("course_name", "Docker 101"), ("course_id", "DK/1")]);
        let reqs = [
            curl_request("POST", "web", 80, "/add.php", Some(&form)),
            curl_request("GET", "web", 8080, "/list.php?x=1", None),
        ];
        for req in &reqs {
            let bytes = req.to_bytes();
            for sizes in SPLITS {
                let mut p = RequestParser::new();
                let mut got = None;
                let pieces = chunks(&bytes, sizes);
                let last = pieces.len() - 1;
                for (i, piece) in pieces.into_iter().enumerate() {
                    let r = p.push(piece).unwrap();
                    if i < last {
                        assert!(r.is_none(), "complete too early with sizes {sizes:?}");
                    } else {
                        got = r;
                    }
                }
                assert_eq!(got.as_ref(), Some(req), "sizes {sizes:?}");
            }
        }
    }

    #[test]
    fn requests_coalesced_in_one_push() {
        let a = curl_request("POST", "web", 80, "/add.php", Some("course_name=A"));
        let b = curl_request("GET", "web", 80, "/", None);
        let mut bytes = a.to_bytes();
        bytes.extend(b.to_bytes());
        bytes.extend_from_slice(b"GET /partial HT");
        let mut p = RequestParser::new();
        assert_eq!(p.push(&bytes).unwrap(), Some(a));
        assert_eq!(p.push(&[]).unwrap(), Some(b));
        assert_eq!(p.push(&[]).unwrap(), None);
        let rest = p.push(b"TP/1.1\r\nHost: web\r\n\r\n").unwrap().unwrap();
        assert_eq!(rest.path, "/partial");
        assert!(rest.body.is_empty());
    }

    #[test]
    fn response_round_trip_arbitrary_chunking() {
        let body = "<html><body><h1>Courses</h1><ul><li>Docker 101</li></ul></body></html>\n";
        let resp = php_response(200, "Mon, 01 Jan 2024 00:00:00 GMT", body);
        let bytes = resp.to_bytes();
        for sizes in SPLITS {
            let mut p = ResponseParser::new();
            let mut got = None;
            for piece in chunks(&bytes, sizes) {
                assert!(got.is_none());
                got = p.push(piece).unwrap();
            }
            assert_eq!(got.as_ref(), Some(&resp), "sizes {sizes:?}");
            assert_eq!(p.eof(), None);
        }
    }

    #[test]
    fn php_response_bytes_exact() {
        let resp = php_response(200, "Mon, 01 Jan 2024 00:00:00 GMT", "ok");
        assert_eq!(
            String::from_utf8(resp.to_bytes()).unwrap(),
            "HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nServer: Apache/2.4.7 (Ubuntu)\r\n\
             X-Powered-By: PHP/5.5.9-1ubuntu4.29\r\nContent-Length: 2\r\nContent-Type: text/html\r\n\r\nok"
        );
        assert_eq!(php_response(404, "d", "").reason, "Not Found");
        assert_eq!(php_response(500, "d", "").status, 500);
    }

    #[test]
    fn response_until_close() {
        let bytes = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/html\r\n\r\nhello ";
        for sizes in SPLITS {
            let mut p = ResponseParser::new();
            for piece in chunks(bytes, sizes) {
                assert_eq!(p.push(piece).unwrap(), None);
            }
            assert_eq!(p.push(b"world").unwrap(), None);
            let r = p.eof().unwrap();
            assert_eq!((r.status, r.reason.as_str(), r.body.as_slice()), (200, "OK", &b"hello world"[..]));
            assert_eq!(r.header("connection"), Some("close"));
            assert_eq!(p.eof(), None);
        }
    }

    #[test]
    fn response_truncated_by_eof() {
        let mut p = ResponseParser::new();
        assert_eq!(p.push(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").unwrap(), None);
        assert_eq!(p.eof(), None);
        let mut p = ResponseParser::new();
        assert_eq!(p.push(b"HTTP/1.1 200 OK\r\nContent-").unwrap(), None);
        assert_eq!(p.eof(), None);
    }

    #[test]
    fn response_chunked_and_no_body_statuses() {
        let bytes = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\n\
                      HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n";
        for sizes in SPLITS {
            let mut p = ResponseParser::new();
            let mut got = Vec::new();
            for piece in chunks(bytes, sizes) {
                if let Some(r) = p.push(piece).unwrap() {
                    got.push(r);
                }
            }
            while let Some(r) = p.push(&[]).unwrap() {
                got.push(r);
            }
            assert_eq!(got.len(), 2, "sizes {sizes:?}");
            assert_eq!(got[0].body, b"hello world");
            assert_eq!((got[1].status, got[1].body.len()), (304, 0));
        }
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert!(RequestParser::new().push(b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n").is_err());
        assert!(
            RequestParser::new().push(b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").is_err()
        );
        assert!(RequestParser::new().push(b"G\x01T / HTTP/1.1\r\n\r\n").is_err());
        assert!(ResponseParser::new().push(b"HTTP/1.1 abc OK\r\n\r\n").is_err());
        assert!(ResponseParser::new().push(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
        let mut p = RequestParser::new();
        assert!(p.push(&vec![b'a'; MAX_HEAD_BYTES + 1]).is_err());
    }

    #[test]
    fn to_bytes_adds_missing_content_length() {
        let req = Request {
            method: "POST".into(),
            path: "/".into(),
            headers: vec![("Host".into(), "web".into())],
            body: b"a=1".to_vec(),
        };
        let bytes = req.to_bytes();
        assert!(bytes.ends_with(b"Host: web\r\nContent-Length: 3\r\n\r\na=1"));
        assert_eq!(RequestParser::new().push(&bytes).unwrap().unwrap().body, b"a=1");
    }
    use crate::userland::proto::testpcap::write as write_pcap;

    /// One side of a TCP connection that numbers its segments.
    struct Side {
        mac: [u8; 6],
        ip: [u8; 4],
        port: u16,
        seq: u32,
    }

    /// Builds an Ethernet/IPv4/TCP frame from `a` to `b`, advancing `a.seq`. `flags`: S, F, P.
    fn tcp_frame(a: &mut Side, b: &Side, flags: &str, payload: &[u8]) -> Vec<u8> {
        let mut builder =
            etherparse::PacketBuilder::ethernet2(a.mac, b.mac).ipv4(a.ip, b.ip, 64).tcp(a.port, b.port, a.seq, 64240);
        if flags.contains('S') {
            builder = builder.syn();
        }
        if b.seq != 0 || !flags.contains('S') {
            builder = builder.ack(b.seq);
        }
        if flags.contains('P') {
            builder = builder.psh();
        }
        if flags.contains('F') {
            builder = builder.fin();
        }
        let mut out = Vec::with_capacity(builder.size(payload.len()));
        builder.write(&mut out, payload).unwrap();
        a.seq = a.seq.wrapping_add(u32::try_from(payload.len()).unwrap());
        if flags.contains('S') || flags.contains('F') {
            a.seq = a.seq.wrapping_add(1);
        }
        out
    }

    #[test]
    fn tshark_dissects_post_and_response() {
        let mut client = Side { mac: [2, 0x42, 10, 0, 1, 7], ip: [10, 0, 1, 7], port: 45678, seq: 1000 };
        let mut server = Side { mac: [2, 0x42, 10, 0, 1, 3], ip: [10, 0, 1, 3], port: 80, seq: 0 };
        let form = url_encode_form(&[("course_name", "Docker 101"), ("course_id", "DK/1")]);
        let req = curl_request("POST", "web", 80, "/add.php", Some(&form)).to_bytes();
        let body = "<html><body>Added course Docker 101</body></html>\n";
        let resp = php_response(200, "Tue, 14 Nov 2023 22:13:20 GMT", body).to_bytes();

        let mut frames = vec![tcp_frame(&mut client, &server, "S", &[])];
        server.seq = 5000;
        frames.push(tcp_frame(&mut server, &client, "S", &[]));
        frames.push(tcp_frame(&mut client, &server, "", &[]));
        // The request split mid-header across two segments: tshark must reassemble it.
        frames.push(tcp_frame(&mut client, &server, "", &req[..40]));
        frames.push(tcp_frame(&mut client, &server, "P", &req[40..]));
        frames.push(tcp_frame(&mut server, &client, "", &[]));
        frames.push(tcp_frame(&mut server, &client, "P", &resp));
        frames.push(tcp_frame(&mut client, &server, "F", &[]));
        frames.push(tcp_frame(&mut server, &client, "F", &[]));
        frames.push(tcp_frame(&mut client, &server, "", &[]));

        let dir = std::env::temp_dir().join(format!("httpdns-http-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pcap = dir.join("http.pcap");
        write_pcap(&pcap, &frames);

        let fields = [
            "frame.number",
            "http.request.method",
            "http.request.uri",
            "http.host",
            "http.content_type",
            "urlencoded-form.key",
            "urlencoded-form.value",
            "http.response.code",
            "http.server",
            "http.content_length",
            "_ws.malformed",
        ];
        let mut cmd = std::process::Command::new("tshark");
        cmd.arg("-r").arg(&pcap).args(["-n", "-Y", "http", "-T", "fields", "-E", "separator=|", "-E", "aggregator=,"]);
        for f in fields {
            cmd.args(["-e", f]);
        }
        let out = cmd.output().expect("tshark must be installed (apt-get install tshark)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        eprintln!("tshark:\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success());
        // Also make sure nothing in the whole capture (TCP included) is malformed.
        let all = std::process::Command::new("tshark")
            .arg("-r")
            .arg(&pcap)
            .args(["-n", "-Y", "_ws.malformed || _ws.expert.severity >= warning"])
            .output()
            .unwrap();
        let bad = String::from_utf8_lossy(&all.stdout);
        eprintln!("warnings:\n{bad}");
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(bad, "", "malformed or warning-level frames");

        let rows: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('|').collect()).collect();
        assert_eq!(rows.len(), 2, "one request and one response");
        for row in &rows {
            assert_eq!(row.len(), fields.len());
            assert_eq!(row[10], "", "malformed: {row:?}");
        }
        assert_eq!(
            rows[0][1..7],
            [
                "POST",
                "/add.php",
                "web",
                "application/x-www-form-urlencoded",
                "course_name,course_id",
                "Docker 101,DK/1"
            ]
        );
        assert_eq!(rows[1][7..10], ["200", "Apache/2.4.7 (Ubuntu)", &body.len().to_string()]);
    }
}
