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

/// The static page of a web server image (nginx, httpd).
pub fn static_page() -> http::Response {
    http::php_response(200, HTTP_DATE, "<html><body><h1>It works!</h1></body></html>\n")
}
