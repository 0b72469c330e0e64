//! The tutorial's PHP webapp (`index.php`), as pure functions: the form it serves, the
//! INSERT a form post becomes, and the page it answers with. Shared by the simulator's
//! webapp (`services`) and the netns backend's agent.

use super::http;
use super::mysql::{QueryResult, SqlError};
use serde::{Deserialize, Serialize};

/// Where the webapp stores its form posts (the tutorial's `index.php` settings).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MysqlTarget {
    pub host: String,
    #[serde(default = "root")]
    pub user: String,
    pub password: String,
    pub database: String,
    pub table: String,
}

fn root() -> String {
    "root".into()
}

/// A fixed `Date` header: the simulator has no wall clock, and runs must repeat exactly.
pub const HTTP_DATE: &str = "Sat, 28 Nov 2026 12:00:00 GMT";

/// The form, as the browser gets it on GET.
pub fn form(m: &MysqlTarget) -> String {
    format!(
        "<html><body>\n<h2>Course details</h2>\n<form method=\"post\" action=\"index.php\">\n\
         Course name: <input type=\"text\" name=\"course_name\"><br>\n\
         Course id: <input type=\"text\" name=\"course_id\"><br>\n\
         <input type=\"submit\" value=\"Submit\">\n</form>\n<!-- stored in {}.{} on {} -->\n</body></html>\n",
        m.database, m.table, m.host
    )
}

/// `INSERT INTO table (field, …) VALUES ('value', …)` for a posted form, values quoted as
/// PHP's `mysqli_real_escape_string` would leave them.
pub fn insert(m: &MysqlTarget, fields: &[(String, String)]) -> String {
    let names: Vec<&str> = fields.iter().map(|f| f.0.as_str()).collect();
    let values: Vec<String> = fields.iter().map(|f| format!("'{}'", f.1.replace('\'', "''"))).collect();
    format!("INSERT INTO {} ({}) VALUES ({})", m.table, names.join(", "), values.join(", "))
}

/// What the page says after the INSERT (or after failing to get there).
pub fn outcome(r: Option<&Result<QueryResult, SqlError>>) -> String {
    match r {
        Some(Ok(_)) => "New record created successfully".into(),
        Some(Err(e)) => format!("Error: {}", e.message),
        None => "Connection failed: Access denied".into(),
    }
}

/// The page carrying `msg`, as Apache/PHP sends it.
pub fn page(status: u16, msg: &str) -> http::Response {
    http::php_response(status, HTTP_DATE, &format!("<html><body><p>{msg}</p></body></html>\n"))
}

/// The server a web image runs, which decides what a plain GET gets back.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum WebServer {
    /// Apache with PHP, as the tutorial's webapp image (`hshar/webapp`) runs it.
    #[default]
    Apache,
    /// The official nginx image: its version, and when its welcome page was written (Unix
    /// seconds; the image's build time, the nearest a catalogue records).
    Nginx { version: String, modified: i64 },
    /// The official httpd image (Apache built from source): its version.
    Httpd { version: String },
}

impl WebServer {
    /// Whether this is the default (left out of a scenario's `Traffic::Http`).
    pub fn is_default(&self) -> bool {
        *self == WebServer::Apache
    }
}

/// nginx's welcome page (`html/index.html` in nginx's source, installed as
/// /usr/share/nginx/html/index.html), 615 bytes.
pub const NGINX_INDEX: &str = "<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href=\"http://nginx.org/\">nginx.org</a>.<br/>
Commercial support is available at
<a href=\"http://nginx.com/\">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
";

/// httpd's `htdocs/index.html`, 45 bytes, dated as in every httpd release since 2007.
const HTTPD_INDEX: &str = "<html><body><h1>It works!</h1></body></html>\n";
const HTTPD_INDEX_MODIFIED: &str = "Mon, 11 Jun 2007 18:53:14 GMT";
const HTTPD_INDEX_ETAG: &str = "\"2d-432a5e4a73a80\"";

/// nginx's page for an error status (`ngx_http_special_response.c`: CRLF line ends, the
/// server's version at the foot) and its headers.
fn nginx_error(status: u16, reason: &str, version: &str, connection: &str) -> http::Response {
    let body = format!(
        "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx/{version}</center>\r\n</body>\r\n</html>\r\n"
    );
    let headers = [
        ("Server", format!("nginx/{version}")),
        ("Date", HTTP_DATE.into()),
        ("Content-Type", "text/html".into()),
        ("Content-Length", body.len().to_string()),
        ("Connection", connection.into()),
    ];
    let headers = headers.into_iter().map(|(n, v)| (n.to_string(), v)).collect();
    http::Response { status, reason: reason.into(), headers, body: body.into_bytes() }
}

/// An HTTP date (RFC 9110 IMF-fixdate) of a Unix time.
pub fn http_date(unix: i64) -> String {
    let c = crate::engine::Civil::of(unix);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        c.weekday(),
        c.day,
        c.month_name(),
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// What a web image answers a GET of `path` with: its index page at `/` (and `/index.html`),
/// its 404 page elsewhere, with the headers each server writes (nginx's
/// `ngx_http_static_module` and `ngx_http_special_response.c`; Apache httpd's core and
/// `mod_mime`), as `curl -i` shows them from the official images. `close`: the client asked
/// to close (busybox wget), which nginx says back.
pub fn static_page(server: &WebServer, method: &str, path: &str, close: bool) -> http::Response {
    let index = matches!(path.split('?').next().unwrap_or(path), "/" | "/index.html");
    let get = matches!(method, "GET" | "HEAD");
    let h = |pairs: &[(&str, String)]| pairs.iter().map(|(n, v)| (n.to_string(), v.clone())).collect::<Vec<_>>();
    match server {
        WebServer::Apache | WebServer::Httpd { .. } if !get => http::php_response(405, HTTP_DATE, "Method Not Allowed"),
        WebServer::Apache => http::php_response(200, HTTP_DATE, HTTPD_INDEX),
        WebServer::Nginx { version, modified } => {
            let connection = if close { "close" } else { "keep-alive" };
            // The static module serves GET and HEAD only: anything else on a page is 405,
            // in nginx's words (`ngx_http_static_handler`).
            if !get {
                return nginx_error(405, "Not Allowed", version, connection);
            }
            if index {
                let headers = h(&[
                    ("Server", format!("nginx/{version}")),
                    ("Date", HTTP_DATE.into()),
                    ("Content-Type", "text/html".into()),
                    ("Content-Length", NGINX_INDEX.len().to_string()),
                    ("Last-Modified", http_date(*modified)),
                    ("Connection", connection.into()),
                    ("ETag", format!("\"{modified:x}-{:x}\"", NGINX_INDEX.len())),
                    ("Accept-Ranges", "bytes".into()),
                ]);
                return http::Response { status: 200, reason: "OK".into(), headers, body: NGINX_INDEX.into() };
            }
            nginx_error(404, "Not Found", version, connection)
        }
        WebServer::Httpd { version } => {
            if index {
                let headers = h(&[
                    ("Date", HTTP_DATE.into()),
                    ("Server", format!("Apache/{version} (Unix)")),
                    ("Last-Modified", HTTPD_INDEX_MODIFIED.into()),
                    ("ETag", HTTPD_INDEX_ETAG.into()),
                    ("Accept-Ranges", "bytes".into()),
                    ("Content-Length", HTTPD_INDEX.len().to_string()),
                    ("Content-Type", "text/html".into()),
                ]);
                return http::Response { status: 200, reason: "OK".into(), headers, body: HTTPD_INDEX.into() };
            }
            let body = "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n</body></html>\n";
            let headers = h(&[
                ("Date", HTTP_DATE.into()),
                ("Server", format!("Apache/{version} (Unix)")),
                ("Content-Length", body.len().to_string()),
                ("Content-Type", "text/html; charset=iso-8859-1".into()),
            ]);
            http::Response { status: 404, reason: "Not Found".into(), headers, body: body.into() }
        }
    }
}

#[cfg(test)]
mod web_server_tests {
    use super::*;

    /// nginx 1.27.4's image answers `curl -I` with `Content-Length: 615`, `Last-Modified: Wed,
    /// 05 Feb 2025 11:06:32 GMT` and `ETag: "67a34638-267"` (its page's time and length in
    /// hex): the page and the headers here give the same for the same time.
    #[test]
    fn nginx_answers_with_its_welcome_page_and_its_headers() {
        let server = WebServer::Nginx { version: "1.27.4".into(), modified: 1_738_753_592 };
        let r = static_page(&server, "GET", "/", false);
        assert_eq!(r.body.len(), 615);
        let head = String::from_utf8(r.head_bytes()).unwrap();
        assert_eq!(
            head,
            "HTTP/1.1 200 OK\r\nServer: nginx/1.27.4\r\nDate: Sat, 28 Nov 2026 12:00:00 GMT\r\nContent-Type: text/html\r\n\
             Content-Length: 615\r\nLast-Modified: Wed, 05 Feb 2025 11:06:32 GMT\r\nConnection: keep-alive\r\n\
             ETag: \"67a34638-267\"\r\nAccept-Ranges: bytes\r\n\r\n"
        );
        let missing = static_page(&server, "GET", "/nope", true);
        assert_eq!(missing.status, 404);
        assert!(String::from_utf8(missing.body).unwrap().contains("<hr><center>nginx/1.27.4</center>\r\n"));
        assert!(missing.headers.contains(&("Connection".into(), "close".into())));
    }

    /// httpd's page is 45 bytes (0x2d, the first half of its ETag).
    #[test]
    fn httpd_answers_it_works() {
        let r = static_page(&WebServer::Httpd { version: "2.4.68".into() }, "GET", "/index.html", false);
        assert_eq!(r.body, b"<html><body><h1>It works!</h1></body></html>\n");
        assert!(r.headers.contains(&("Server".into(), "Apache/2.4.68 (Unix)".into())));
        assert!(r.headers.contains(&("ETag".into(), format!("\"{:x}-432a5e4a73a80\"", r.body.len()))));
    }
}
