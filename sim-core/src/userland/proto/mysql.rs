//! Simulated MySQL 5.5 server and client speaking the real MySQL client/server protocol.
//!
//! Sans-IO: no sockets, threads or clocks. Both ends take arbitrary chunks of a TCP byte stream
//! (split or coalesced), buffer them, parse whole packets (3-byte little-endian length + 1-byte
//! sequence id) and return the bytes to send back. The bytes are what a real MySQL 5.5 server and
//! `mysql` client would put on the wire, so Wireshark/tshark dissects them as MySQL.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use sha1::{Digest, Sha1};

/// Version string announced in the greeting and returned by `SELECT VERSION()`.
pub const SERVER_VERSION: &str = "5.5.62";
const VERSION_COMMENT: &str = "MySQL Community Server (GPL)";
const AUTH_PLUGIN: &str = "mysql_native_password";
/// utf8_general_ci.
pub const CHARSET_UTF8_GENERAL_CI: u8 = 0x21;
/// SERVER_STATUS_AUTOCOMMIT.
pub const SERVER_STATUS_AUTOCOMMIT: u16 = 0x0002;
const MAX_PAYLOAD: usize = 0xff_ffff;
const MYSQL_TYPE_VAR_STRING: u8 = 0xfd;

pub const CLIENT_LONG_PASSWORD: u32 = 0x0000_0001;
pub const CLIENT_FOUND_ROWS: u32 = 0x0000_0002;
pub const CLIENT_LONG_FLAG: u32 = 0x0000_0004;
pub const CLIENT_CONNECT_WITH_DB: u32 = 0x0000_0008;
pub const CLIENT_NO_SCHEMA: u32 = 0x0000_0010;
pub const CLIENT_ODBC: u32 = 0x0000_0040;
pub const CLIENT_LOCAL_FILES: u32 = 0x0000_0080;
pub const CLIENT_IGNORE_SPACE: u32 = 0x0000_0100;
pub const CLIENT_PROTOCOL_41: u32 = 0x0000_0200;
pub const CLIENT_INTERACTIVE: u32 = 0x0000_0400;
pub const CLIENT_SSL: u32 = 0x0000_0800;
pub const CLIENT_IGNORE_SIGPIPE: u32 = 0x0000_1000;
pub const CLIENT_TRANSACTIONS: u32 = 0x0000_2000;
pub const CLIENT_RESERVED: u32 = 0x0000_4000;
pub const CLIENT_SECURE_CONNECTION: u32 = 0x0000_8000;
pub const CLIENT_MULTI_STATEMENTS: u32 = 0x0001_0000;
pub const CLIENT_MULTI_RESULTS: u32 = 0x0002_0000;
pub const CLIENT_PS_MULTI_RESULTS: u32 = 0x0004_0000;
pub const CLIENT_PLUGIN_AUTH: u32 = 0x0008_0000;
pub const CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 0x0020_0000;

/// Capabilities announced by the server: what MySQL 5.5 announces, minus SSL, compression and
/// multi-statements (lower 0xf7df, upper 0x000e).
pub const SERVER_CAPABILITIES: u32 = CLIENT_LONG_PASSWORD
    | CLIENT_FOUND_ROWS
    | CLIENT_LONG_FLAG
    | CLIENT_CONNECT_WITH_DB
    | CLIENT_NO_SCHEMA
    | CLIENT_ODBC
    | CLIENT_LOCAL_FILES
    | CLIENT_IGNORE_SPACE
    | CLIENT_PROTOCOL_41
    | CLIENT_INTERACTIVE
    | CLIENT_IGNORE_SIGPIPE
    | CLIENT_TRANSACTIONS
    | CLIENT_RESERVED
    | CLIENT_SECURE_CONNECTION
    | CLIENT_MULTI_RESULTS
    | CLIENT_PS_MULTI_RESULTS
    | CLIENT_PLUGIN_AUTH;

/// Capabilities the client asks for (CONNECT_WITH_DB is added when a database is given).
const CLIENT_CAPABILITIES: u32 = CLIENT_LONG_PASSWORD
    | CLIENT_LONG_FLAG
    | CLIENT_PROTOCOL_41
    | CLIENT_TRANSACTIONS
    | CLIENT_SECURE_CONNECTION
    | CLIENT_MULTI_RESULTS
    | CLIENT_PLUGIN_AUTH;

const COM_QUIT: u8 = 0x01;
const COM_INIT_DB: u8 = 0x02;
const COM_QUERY: u8 = 0x03;
const COM_PING: u8 = 0x0e;

const SYSTEM_DATABASES: [&str; 3] = ["information_schema", "mysql", "performance_schema"];

// ---------------------------------------------------------------------------------------------
// Public result types
// ---------------------------------------------------------------------------------------------

/// Result of one SQL statement.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryResult {
    /// OK packet: affected rows and the server's info message (e.g. "Records: 2  Duplicates: 0  Warnings: 0").
    Ok { affected_rows: u64, message: String },
    /// Text result set.
    Rows { columns: Vec<String>, rows: Vec<Vec<Option<String>>> },
}

/// A MySQL error (ERR packet).
#[derive(Clone, Debug, PartialEq)]
pub struct SqlError {
    pub code: u16,
    pub sqlstate: String,
    pub message: String,
}

impl SqlError {
    pub fn new(code: u16, sqlstate: &str, message: impl Into<String>) -> Self {
        SqlError { code, sqlstate: sqlstate.to_string(), message: message.into() }
    }
}

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ERROR {} ({}): {}", self.code, self.sqlstate, self.message)
    }
}

impl std::error::Error for SqlError {}

fn no_db_selected() -> SqlError {
    SqlError::new(1046, "3D000", "No database selected")
}

fn unknown_db(name: &str) -> SqlError {
    SqlError::new(1049, "42000", format!("Unknown database '{name}'"))
}

fn no_such_table(db: &str, table: &str) -> SqlError {
    SqlError::new(1146, "42S02", format!("Table '{db}.{table}' doesn't exist"))
}

fn unknown_column(col: &str, clause: &str) -> SqlError {
    SqlError::new(1054, "42S22", format!("Unknown column '{col}' in '{clause}'"))
}

fn syntax_error(sql: &str, pos: usize) -> SqlError {
    let pos = pos.min(sql.len());
    let near: String = sql[pos..].chars().take(80).collect();
    let line = 1 + sql[..pos].matches('\n').count();
    SqlError::new(
        1064,
        "42000",
        format!(
            "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server \
             version for the right syntax to use near '{near}' at line {line}"
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// Database
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Column {
    name: String,
    ty: String,
    /// Character limit for CHAR(n)/VARCHAR(n); longer values are truncated with a warning.
    max_chars: Option<usize>,
}

#[derive(Clone, Debug, Default)]
struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<Option<String>>>,
}

impl Table {
    fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// Column metadata for the column-definition packets of a result set.
#[derive(Clone, Debug, Default, PartialEq)]
struct ColMeta {
    schema: String,
    table: String,
    org_table: String,
    name: String,
    org_name: String,
    length: u32,
}

impl ColMeta {
    fn computed(name: &str) -> Self {
        ColMeta { name: name.to_string(), length: 255 * 3, ..Default::default() }
    }
}

/// Full outcome of a statement as the server needs it (the public API exposes parts of it).
struct Outcome {
    result: QueryResult,
    warnings: u16,
    meta: Vec<ColMeta>,
}

impl Outcome {
    fn ok(affected_rows: u64) -> Self {
        Outcome { result: QueryResult::Ok { affected_rows, message: String::new() }, warnings: 0, meta: Vec::new() }
    }
}

/// The server's data: databases → tables → rows. Shared by all connections of one server.
///
/// Database and table names are case-sensitive (as on Linux), column names are not.
/// `information_schema`, `mysql` and `performance_schema` exist virtually (no tables).
#[derive(Clone, Debug, Default)]
pub struct Database {
    schemas: BTreeMap<String, BTreeMap<String, Table>>,
}

impl Database {
    pub fn new() -> Self {
        Self::default()
    }

    /// Run one SQL statement with `current_db`; returns the result or a MySQL error.
    pub fn execute(&mut self, current_db: &mut Option<String>, sql: &str) -> Result<QueryResult, SqlError> {
        self.execute_with_warnings(current_db, sql).map(|(r, _)| r)
    }

    /// Like [`Database::execute`], also returning the statement's warning count.
    pub fn execute_with_warnings(
        &mut self,
        current_db: &mut Option<String>,
        sql: &str,
    ) -> Result<(QueryResult, u16), SqlError> {
        self.run(current_db, sql).map(|o| (o.result, o.warnings))
    }

    /// Whether `name` is an existing database (including the system ones).
    pub fn database_exists(&self, name: &str) -> bool {
        SYSTEM_DATABASES.contains(&name) || self.schemas.contains_key(name)
    }

    /// All database names as `SHOW DATABASES` lists them.
    pub fn database_names(&self) -> Vec<String> {
        let mut names: Vec<String> = SYSTEM_DATABASES[1..].iter().map(|s| s.to_string()).collect();
        names.extend(self.schemas.keys().cloned());
        names.sort();
        names.insert(0, SYSTEM_DATABASES[0].to_string());
        names
    }

    /// Table names of a user database.
    pub fn table_names(&self, db: &str) -> Option<Vec<String>> {
        self.schemas.get(db).map(|t| t.keys().cloned().collect())
    }

    /// Rows of a table.
    pub fn table_rows(&self, db: &str, table: &str) -> Option<&[Vec<Option<String>>]> {
        self.schemas.get(db)?.get(table).map(|t| t.rows.as_slice())
    }

    fn run(&mut self, current_db: &mut Option<String>, sql: &str) -> Result<Outcome, SqlError> {
        let toks = lex(sql).map_err(|pos| syntax_error(sql, pos))?;
        if toks.iter().all(|t| t.tok == Tok::Sym(";")) {
            return Err(SqlError::new(1065, "42000", "Query was empty"));
        }
        let mut p = Parser { sql, toks, i: 0 };
        if p.kw("CREATE") {
            if p.kw("DATABASE") || p.kw("SCHEMA") {
                let if_not_exists = p.if_not_exists()?;
                let name = p.ident()?;
                p.skip_rest();
                return self.create_database(&name, if_not_exists);
            }
            if p.kw("TABLE") {
                return self.create_table(&mut p, current_db);
            }
        } else if p.kw("DROP") {
            if p.kw("DATABASE") || p.kw("SCHEMA") {
                let if_exists = p.if_exists()?;
                let name = p.ident()?;
                p.finish()?;
                return self.drop_database(&name, if_exists, current_db);
            }
            if p.kw("TABLE") {
                let if_exists = p.if_exists()?;
                let mut names = vec![p.table_ref()?];
                while p.sym(",") {
                    names.push(p.table_ref()?);
                }
                p.finish()?;
                return self.drop_tables(&names, if_exists, current_db);
            }
        } else if p.kw("USE") {
            let name = p.ident()?;
            p.finish()?;
            if !self.database_exists(&name) {
                return Err(unknown_db(&name));
            }
            *current_db = Some(name);
            return Ok(Outcome::ok(0));
        } else if p.kw("SHOW") {
            if p.kw("DATABASES") || p.kw("SCHEMAS") {
                p.finish()?;
                let rows = self.database_names().into_iter().map(|n| vec![Some(n)]).collect();
                let meta = vec![ColMeta {
                    schema: "information_schema".into(),
                    table: "SCHEMATA".into(),
                    org_table: "SCHEMATA".into(),
                    name: "Database".into(),
                    org_name: "SCHEMA_NAME".into(),
                    length: 64 * 3,
                }];
                return Ok(rows_outcome(meta, rows));
            }
            if p.kw("TABLES") {
                let db = if p.kw("FROM") || p.kw("IN") { Some(p.ident()?) } else { current_db.clone() };
                p.finish()?;
                let db = db.ok_or_else(no_db_selected)?;
                if !self.database_exists(&db) {
                    return Err(unknown_db(&db));
                }
                let rows = self.table_names(&db).unwrap_or_default().into_iter().map(|n| vec![Some(n)]).collect();
                let name = format!("Tables_in_{db}");
                let meta = vec![ColMeta {
                    schema: "information_schema".into(),
                    table: "TABLE_NAMES".into(),
                    org_table: "TABLE_NAMES".into(),
                    org_name: "TABLE_NAME".into(),
                    name,
                    length: 64 * 3,
                }];
                return Ok(rows_outcome(meta, rows));
            }
        } else if p.kw("DESCRIBE") || p.kw("DESC") || (p.kw("EXPLAIN") && p.is_ident()) {
            let (db, name) = p.table_ref()?;
            p.finish()?;
            let (db, table) = self.lookup(current_db, db, &name)?;
            let meta = ["Field", "Type", "Null", "Key", "Default", "Extra"].map(ColMeta::computed).to_vec();
            let rows = self.schemas[&db][&table]
                .columns
                .iter()
                .map(|c| {
                    vec![
                        Some(c.name.clone()),
                        Some(c.ty.clone()),
                        Some("YES".into()),
                        Some(String::new()),
                        None,
                        Some(String::new()),
                    ]
                })
                .collect();
            return Ok(rows_outcome(meta, rows));
        } else if p.kw("INSERT") {
            return self.insert(&mut p, current_db);
        } else if p.kw("SELECT") {
            return self.select(&mut p, current_db);
        } else if p.kw("UPDATE") {
            return self.update(&mut p, current_db);
        } else if p.kw("DELETE") {
            return self.delete(&mut p, current_db);
        } else if p.kw("SET") {
            // Session settings (SET NAMES utf8, SET autocommit=1, ...) are accepted and ignored.
            if p.peek().is_none() {
                return Err(p.err());
            }
            return Ok(Outcome::ok(0));
        }
        Err(p.err())
    }

    fn create_database(&mut self, name: &str, if_not_exists: bool) -> Result<Outcome, SqlError> {
        if self.database_exists(name) {
            if if_not_exists {
                return Ok(Outcome { warnings: 1, ..Outcome::ok(0) });
            }
            return Err(SqlError::new(1007, "HY000", format!("Can't create database '{name}'; database exists")));
        }
        self.schemas.insert(name.to_string(), BTreeMap::new());
        Ok(Outcome::ok(1))
    }

    fn drop_database(
        &mut self,
        name: &str,
        if_exists: bool,
        current_db: &mut Option<String>,
    ) -> Result<Outcome, SqlError> {
        if SYSTEM_DATABASES.contains(&name) {
            return Err(SqlError::new(
                1044,
                "42000",
                format!("Access denied for user 'root'@'localhost' to database '{name}'"),
            ));
        }
        match self.schemas.remove(name) {
            Some(tables) => {
                if current_db.as_deref() == Some(name) {
                    *current_db = None;
                }
                Ok(Outcome::ok(tables.len() as u64))
            }
            None if if_exists => Ok(Outcome { warnings: 1, ..Outcome::ok(0) }),
            None => Err(SqlError::new(1008, "HY000", format!("Can't drop database '{name}'; database doesn't exist"))),
        }
    }

    fn drop_tables(
        &mut self,
        names: &[(Option<String>, String)],
        if_exists: bool,
        current_db: &Option<String>,
    ) -> Result<Outcome, SqlError> {
        let mut missing = Vec::new();
        let mut found = Vec::new();
        for (db, name) in names {
            let db = db.clone().or_else(|| current_db.clone()).ok_or_else(no_db_selected)?;
            if self.schemas.get(&db).is_some_and(|t| t.contains_key(name)) {
                found.push((db, name.clone()));
            } else {
                missing.push(format!("{db}.{name}"));
            }
        }
        if !missing.is_empty() && !if_exists {
            return Err(SqlError::new(1051, "42S02", format!("Unknown table '{}'", missing.join(","))));
        }
        for (db, name) in found {
            if let Some(t) = self.schemas.get_mut(&db) {
                t.remove(&name);
            }
        }
        Ok(Outcome { warnings: missing.len() as u16, ..Outcome::ok(0) })
    }

    /// Resolves `[db.]table` to an existing table, or 1046/1146.
    fn lookup(
        &self,
        current_db: &Option<String>,
        db: Option<String>,
        name: &str,
    ) -> Result<(String, String), SqlError> {
        let db = db.or_else(|| current_db.clone()).ok_or_else(no_db_selected)?;
        if self.schemas.get(&db).is_some_and(|t| t.contains_key(name)) {
            Ok((db, name.to_string()))
        } else {
            Err(no_such_table(&db, name))
        }
    }

    /// The table `[db.]name` to change, or the error [`Database::lookup`] gives.
    fn table_mut(
        &mut self,
        current_db: &Option<String>,
        db: Option<String>,
        name: &str,
    ) -> Result<&mut Table, SqlError> {
        let db = db.or_else(|| current_db.clone()).ok_or_else(no_db_selected)?;
        match self.schemas.get_mut(&db).and_then(|t| t.get_mut(name)) {
            Some(t) => Ok(t),
            None => Err(no_such_table(&db, name)),
        }
    }

    fn create_table(&mut self, p: &mut Parser, current_db: &Option<String>) -> Result<Outcome, SqlError> {
        let if_not_exists = p.if_not_exists()?;
        let (db, name) = p.table_ref()?;
        p.expect_sym("(")?;
        let mut columns: Vec<Column> = Vec::new();
        loop {
            const CONSTRAINTS: [&str; 8] =
                ["PRIMARY", "KEY", "INDEX", "UNIQUE", "CONSTRAINT", "FOREIGN", "FULLTEXT", "CHECK"];
            if CONSTRAINTS.iter().any(|k| p.is_kw(k)) {
                p.skip_element()?;
            } else {
                let col_name = p.ident()?;
                let Some(Tok::Word(ty)) = p.peek().cloned() else { return Err(p.err()) };
                p.i += 1;
                let mut ty = ty.to_ascii_lowercase();
                if p.sym("(") {
                    let mut args = Vec::new();
                    loop {
                        match p.next_tok() {
                            Some(Tok::Num(n)) => args.push(n),
                            Some(Tok::Str(s)) => args.push(format!("'{s}'")),
                            _ => return Err(p.err_prev()),
                        }
                        if p.sym(")") {
                            break;
                        }
                        p.expect_sym(",")?;
                    }
                    ty = format!("{ty}({})", args.join(","));
                }
                for attr in ["UNSIGNED", "ZEROFILL"] {
                    if p.kw(attr) {
                        ty = format!("{ty} {}", attr.to_ascii_lowercase());
                    }
                }
                p.skip_element()?;
                if columns.iter().any(|c| c.name.eq_ignore_ascii_case(&col_name)) {
                    return Err(SqlError::new(1060, "42S21", format!("Duplicate column name '{col_name}'")));
                }
                let max_chars = ["varchar(", "char("]
                    .iter()
                    .find_map(|pre| ty.strip_prefix(pre))
                    .and_then(|rest| rest.trim_end_matches(')').parse().ok());
                columns.push(Column { name: col_name, ty, max_chars });
            }
            if p.sym(")") {
                break;
            }
            p.expect_sym(",")?;
        }
        // Table options (ENGINE=InnoDB DEFAULT CHARSET=utf8 ...) are accepted and ignored.
        p.skip_rest();
        if columns.is_empty() {
            return Err(SqlError::new(1113, "42000", "A table must have at least 1 column"));
        }
        let db = db.or_else(|| current_db.clone()).ok_or_else(no_db_selected)?;
        if SYSTEM_DATABASES.contains(&db.as_str()) {
            return Err(SqlError::new(
                1044,
                "42000",
                format!("Access denied for user 'root'@'localhost' to database '{db}'"),
            ));
        }
        let tables = self.schemas.get_mut(&db).ok_or_else(|| unknown_db(&db))?;
        if tables.contains_key(&name) {
            if if_not_exists {
                return Ok(Outcome { warnings: 1, ..Outcome::ok(0) });
            }
            return Err(SqlError::new(1050, "42S01", format!("Table '{name}' already exists")));
        }
        tables.insert(name, Table { columns, rows: Vec::new() });
        Ok(Outcome::ok(0))
    }

    fn insert(&mut self, p: &mut Parser, current_db: &Option<String>) -> Result<Outcome, SqlError> {
        p.kw("IGNORE");
        p.kw("INTO");
        let (db, name) = p.table_ref()?;
        let mut cols = None;
        if p.sym("(") {
            let mut names = Vec::new();
            if !p.sym(")") {
                loop {
                    names.push(p.column_ref()?);
                    if p.sym(")") {
                        break;
                    }
                    p.expect_sym(",")?;
                }
            }
            cols = Some(names);
        }
        if !(p.kw("VALUES") || p.kw("VALUE")) {
            return Err(p.err());
        }
        let mut value_rows = Vec::new();
        loop {
            p.expect_sym("(")?;
            let mut row = Vec::new();
            if !p.sym(")") {
                loop {
                    row.push(p.literal()?);
                    if p.sym(")") {
                        break;
                    }
                    p.expect_sym(",")?;
                }
            }
            value_rows.push(row);
            if !p.sym(",") {
                break;
            }
        }
        p.finish()?;
        let table = self.table_mut(current_db, db, &name)?;
        let targets: Vec<usize> = match &cols {
            Some(names) => names
                .iter()
                .map(|n| table.column_index(n).ok_or_else(|| unknown_column(n, "field list")))
                .collect::<Result<_, _>>()?,
            None => (0..table.columns.len()).collect(),
        };
        let mut warnings = 0u16;
        let mut new_rows = Vec::new();
        for (r, values) in value_rows.into_iter().enumerate() {
            if values.len() != targets.len() {
                return Err(SqlError::new(
                    1136,
                    "21S01",
                    format!("Column count doesn't match value count at row {}", r + 1),
                ));
            }
            let mut row = vec![None; table.columns.len()];
            for (&c, v) in targets.iter().zip(values) {
                row[c] = v.map(|v| {
                    match table.columns[c].max_chars {
                        // sql_mode='' (the 5.5 default): truncate, warning 1265 "Data truncated".
                        Some(max) if v.chars().count() > max => {
                            warnings = warnings.saturating_add(1);
                            v.chars().take(max).collect()
                        }
                        _ => v,
                    }
                });
            }
            new_rows.push(row);
        }
        let n = new_rows.len() as u64;
        table.rows.extend(new_rows);
        let message = if n > 1 { format!("Records: {n}  Duplicates: 0  Warnings: {warnings}") } else { String::new() };
        Ok(Outcome { result: QueryResult::Ok { affected_rows: n, message }, warnings, meta: Vec::new() })
    }

    fn select(&mut self, p: &mut Parser, current_db: &Option<String>) -> Result<Outcome, SqlError> {
        let mut items = Vec::new();
        loop {
            items.push(p.select_item(current_db)?);
            if !p.sym(",") {
                break;
            }
        }
        if !p.kw("FROM") {
            let mut limit = None;
            if p.kw("LIMIT") {
                limit = Some(p.limit()?);
            }
            p.finish()?;
            let mut meta = Vec::new();
            let mut row = Vec::new();
            for item in items {
                match item {
                    SelectItem::Star => return Err(SqlError::new(1096, "HY000", "No tables used")),
                    SelectItem::Column { name, .. } => return Err(unknown_column(&name, "field list")),
                    SelectItem::Const { name, value } => {
                        meta.push(ColMeta::computed(&name));
                        row.push(value);
                    }
                }
            }
            let mut rows = vec![row];
            if let Some((offset, count)) = limit {
                rows = rows.into_iter().skip(offset).take(count).collect();
            }
            return Ok(rows_outcome(meta, rows));
        }
        let (db, name) = p.table_ref()?;
        let cond = if p.kw("WHERE") { Some(p.condition()?) } else { None };
        let mut order = Vec::new();
        if p.kw("ORDER") {
            p.expect_kw("BY")?;
            loop {
                let col = p.column_ref()?;
                let desc = if p.kw("DESC") {
                    true
                } else {
                    p.kw("ASC");
                    false
                };
                order.push((col, desc));
                if !p.sym(",") {
                    break;
                }
            }
        }
        let limit = if p.kw("LIMIT") { Some(p.limit()?) } else { None };
        p.finish()?;
        let (db, name) = self.lookup(current_db, db, &name)?;
        let table = &self.schemas[&db][&name];
        let col_meta = |c: usize, shown: &str| ColMeta {
            schema: db.clone(),
            table: name.clone(),
            org_table: name.clone(),
            name: shown.to_string(),
            org_name: table.columns[c].name.clone(),
            length: table.columns[c].max_chars.unwrap_or(255).min(0x5555) as u32 * 3,
        };
        enum Src {
            Col(usize),
            Val(Option<String>),
        }
        let mut meta = Vec::new();
        let mut srcs = Vec::new();
        for item in items {
            match item {
                SelectItem::Star => {
                    for (i, c) in table.columns.iter().enumerate() {
                        meta.push(col_meta(i, &c.name));
                        srcs.push(Src::Col(i));
                    }
                }
                SelectItem::Column { name, alias } => {
                    let i = table.column_index(&name).ok_or_else(|| unknown_column(&name, "field list"))?;
                    meta.push(col_meta(i, alias.as_deref().unwrap_or(&name)));
                    srcs.push(Src::Col(i));
                }
                SelectItem::Const { name, value } => {
                    meta.push(ColMeta::computed(&name));
                    srcs.push(Src::Val(value));
                }
            }
        }
        let cond = cond.map(|c| c.resolve(table)).transpose()?;
        let order: Vec<(usize, bool)> = order
            .into_iter()
            .map(|(c, d)| table.column_index(&c).map(|i| (i, d)).ok_or_else(|| unknown_column(&c, "order clause")))
            .collect::<Result<_, _>>()?;
        let mut matched: Vec<&Vec<Option<String>>> =
            table.rows.iter().filter(|r| cond.as_ref().is_none_or(|c| c.eval(r))).collect();
        matched.sort_by(|a, b| {
            order
                .iter()
                .map(|&(i, desc)| {
                    let o = match (&a[i], &b[i]) {
                        (None, None) => Ordering::Equal,
                        (None, Some(_)) => Ordering::Less,
                        (Some(_), None) => Ordering::Greater,
                        (Some(x), Some(y)) => compare_values(x, y),
                    };
                    if desc { o.reverse() } else { o }
                })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        let (offset, count) = limit.unwrap_or((0, usize::MAX));
        let rows = matched
            .into_iter()
            .skip(offset)
            .take(count)
            .map(|r| {
                srcs.iter()
                    .map(|s| match s {
                        Src::Col(i) => r[*i].clone(),
                        Src::Val(v) => v.clone(),
                    })
                    .collect()
            })
            .collect();
        Ok(rows_outcome(meta, rows))
    }

    fn update(&mut self, p: &mut Parser, current_db: &Option<String>) -> Result<Outcome, SqlError> {
        let (db, name) = p.table_ref()?;
        p.expect_kw("SET")?;
        let mut sets = Vec::new();
        loop {
            let col = p.column_ref()?;
            p.expect_sym("=")?;
            sets.push((col, p.literal()?));
            if !p.sym(",") {
                break;
            }
        }
        let cond = if p.kw("WHERE") { Some(p.condition()?) } else { None };
        p.finish()?;
        let table = self.table_mut(current_db, db, &name)?;
        let mut assignments = Vec::new();
        for (col, v) in sets {
            let i = table.column_index(&col).ok_or_else(|| unknown_column(&col, "field list"))?;
            let mut warnings = 0;
            let v = v.map(|v| match table.columns[i].max_chars {
                Some(max) if v.chars().count() > max => {
                    warnings = 1;
                    v.chars().take(max).collect::<String>()
                }
                _ => v,
            });
            assignments.push((i, v, warnings));
        }
        let cond = cond.map(|c| c.resolve(table)).transpose()?;
        let (mut matched, mut changed, mut warnings) = (0u64, 0u64, 0u16);
        for row in table.rows.iter_mut().filter(|r| cond.as_ref().is_none_or(|c| c.eval(r))) {
            matched += 1;
            let mut row_changed = false;
            for (i, v, w) in &assignments {
                warnings = warnings.saturating_add(*w);
                if row[*i] != *v {
                    row[*i] = v.clone();
                    row_changed = true;
                }
            }
            changed += u64::from(row_changed);
        }
        let message = format!("Rows matched: {matched}  Changed: {changed}  Warnings: {warnings}");
        Ok(Outcome { result: QueryResult::Ok { affected_rows: changed, message }, warnings, meta: Vec::new() })
    }

    fn delete(&mut self, p: &mut Parser, current_db: &Option<String>) -> Result<Outcome, SqlError> {
        p.expect_kw("FROM")?;
        let (db, name) = p.table_ref()?;
        let cond = if p.kw("WHERE") { Some(p.condition()?) } else { None };
        p.finish()?;
        let table = self.table_mut(current_db, db, &name)?;
        let cond = cond.map(|c| c.resolve(table)).transpose()?;
        let before = table.rows.len();
        table.rows.retain(|r| !cond.as_ref().is_none_or(|c| c.eval(r)));
        Ok(Outcome::ok((before - table.rows.len()) as u64))
    }
}

fn rows_outcome(meta: Vec<ColMeta>, rows: Vec<Vec<Option<String>>>) -> Outcome {
    let columns = meta.iter().map(|m| m.name.clone()).collect();
    Outcome { result: QueryResult::Rows { columns, rows }, warnings: 0, meta }
}

/// Compares two values: numerically when both are numbers, otherwise like utf8_general_ci
/// (case-insensitive, trailing spaces ignored).
fn compare_values(a: &str, b: &str) -> Ordering {
    if let (Ok(x), Ok(y)) = (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
    }
    a.trim_end_matches(' ').to_lowercase().cmp(&b.trim_end_matches(' ').to_lowercase())
}

// ---------------------------------------------------------------------------------------------
// SQL lexer and parser
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// Bare word: keyword or identifier.
    Word(String),
    /// `backtick quoted` identifier.
    Quoted(String),
    Str(String),
    Num(String),
    /// `@@system_variable` / `@user_variable`.
    Var(String),
    Sym(&'static str),
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    pos: usize,
    end: usize,
}

/// Tokenizes; on error returns the byte offset where lexing failed.
fn lex(sql: &str) -> Result<Vec<Token>, usize> {
    const SYMS: [&str; 15] = ["<>", "!=", "<=", ">=", "(", ")", ",", ";", "*", "=", ".", "<", ">", "-", "+"];
    let b = sql.as_bytes();
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
    let mut toks = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'#'
            || (c == b'-' && b.get(i + 1) == Some(&b'-') && b.get(i + 2).is_none_or(|c| c.is_ascii_whitespace()))
        {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            match sql[i + 2..].find("*/") {
                Some(e) => i += e + 4,
                None => return Err(start),
            }
            continue;
        }
        let tok = if c == b'\'' || c == b'"' {
            let mut s = Vec::new();
            i += 1;
            loop {
                match b.get(i) {
                    None => return Err(start),
                    Some(&q) if q == c => {
                        if b.get(i + 1) == Some(&c) {
                            s.push(c);
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(b'\\') => {
                        let Some(&e) = b.get(i + 1) else { return Err(start) };
                        s.push(match e {
                            b'n' => b'\n',
                            b't' => b'\t',
                            b'r' => b'\r',
                            b'0' => 0,
                            b'Z' => 0x1a,
                            other => other,
                        });
                        i += 2;
                    }
                    Some(&other) => {
                        s.push(other);
                        i += 1;
                    }
                }
            }
            Tok::Str(String::from_utf8_lossy(&s).into_owned())
        } else if c == b'`' {
            let mut s = String::new();
            i += 1;
            loop {
                match sql[i..].find('`') {
                    None => return Err(start),
                    Some(e) => {
                        s.push_str(&sql[i..i + e]);
                        i += e + 1;
                        if b.get(i) == Some(&b'`') {
                            s.push('`');
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            Tok::Quoted(s)
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            if i < b.len() && is_word(b[i]) {
                // Identifiers may start with digits (e.g. `1abc`).
                while i < b.len() && is_word(b[i]) {
                    i += 1;
                }
                Tok::Word(sql[start..i].to_string())
            } else {
                Tok::Num(sql[start..i].to_string())
            }
        } else if is_word(c) {
            while i < b.len() && is_word(b[i]) {
                i += 1;
            }
            Tok::Word(sql[start..i].to_string())
        } else if c == b'@' {
            i += 1;
            if b.get(i) == Some(&b'@') {
                i += 1;
            }
            while i < b.len() && (is_word(b[i]) || b[i] == b'.') {
                i += 1;
            }
            Tok::Var(sql[start..i].to_string())
        } else if let Some(s) = SYMS.iter().find(|s| sql[i..].starts_with(**s)) {
            i += s.len();
            Tok::Sym(s)
        } else {
            return Err(start);
        };
        toks.push(Token { tok, pos: start, end: i });
    }
    Ok(toks)
}

enum SelectItem {
    Star,
    Column { name: String, alias: Option<String> },
    Const { name: String, value: Option<String> },
}

#[derive(Debug)]
enum Operand {
    Col(String),
    Lit(Option<String>),
}

#[derive(Debug)]
enum Cond<O> {
    Cmp(O, &'static str, O),
    IsNull(O, bool),
    And(Box<Cond<O>>, Box<Cond<O>>),
    Or(Box<Cond<O>>, Box<Cond<O>>),
}

enum ROperand {
    Col(usize),
    Lit(Option<String>),
}

impl Cond<Operand> {
    fn resolve(self, table: &Table) -> Result<Cond<ROperand>, SqlError> {
        let r = |o: Operand| match o {
            Operand::Col(c) => {
                table.column_index(&c).map(ROperand::Col).ok_or_else(|| unknown_column(&c, "where clause"))
            }
            Operand::Lit(v) => Ok(ROperand::Lit(v)),
        };
        Ok(match self {
            Cond::Cmp(a, op, b) => Cond::Cmp(r(a)?, op, r(b)?),
            Cond::IsNull(a, not) => Cond::IsNull(r(a)?, not),
            Cond::And(a, b) => Cond::And(Box::new(a.resolve(table)?), Box::new(b.resolve(table)?)),
            Cond::Or(a, b) => Cond::Or(Box::new(a.resolve(table)?), Box::new(b.resolve(table)?)),
        })
    }
}

impl Cond<ROperand> {
    /// Evaluates on a row; comparisons involving NULL are not true.
    fn eval(&self, row: &[Option<String>]) -> bool {
        let get = |o: &ROperand| -> Option<String> {
            match o {
                ROperand::Col(i) => row[*i].clone(),
                ROperand::Lit(v) => v.clone(),
            }
        };
        match self {
            Cond::Cmp(a, op, b) => {
                let (Some(a), Some(b)) = (get(a), get(b)) else { return false };
                let o = compare_values(&a, &b);
                match *op {
                    "=" => o.is_eq(),
                    "<>" | "!=" => o.is_ne(),
                    "<" => o.is_lt(),
                    ">" => o.is_gt(),
                    "<=" => o.is_le(),
                    _ => o.is_ge(),
                }
            }
            Cond::IsNull(a, not) => get(a).is_none() != *not,
            Cond::And(a, b) => a.eval(row) && b.eval(row),
            Cond::Or(a, b) => a.eval(row) || b.eval(row),
        }
    }
}

struct Parser<'a> {
    sql: &'a str,
    toks: Vec<Token>,
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.tok)
    }

    fn next_tok(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).map(|t| t.tok.clone());
        self.i += 1;
        t
    }

    fn pos_of(&self, i: usize) -> usize {
        self.toks.get(i).map_or(self.sql.len(), |t| t.pos)
    }

    /// Syntax error near the current token.
    fn err(&self) -> SqlError {
        syntax_error(self.sql, self.pos_of(self.i))
    }

    /// Syntax error near the previous token (after consuming it).
    fn err_prev(&self) -> SqlError {
        syntax_error(self.sql, self.pos_of(self.i.saturating_sub(1)))
    }

    fn is_kw(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn kw(&mut self, k: &str) -> bool {
        let m = self.is_kw(k);
        if m {
            self.i += 1;
        }
        m
    }

    fn expect_kw(&mut self, k: &str) -> Result<(), SqlError> {
        if self.kw(k) { Ok(()) } else { Err(self.err()) }
    }

    fn sym(&mut self, s: &str) -> bool {
        let m = matches!(self.peek(), Some(Tok::Sym(x)) if *x == s);
        if m {
            self.i += 1;
        }
        m
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), SqlError> {
        if self.sym(s) { Ok(()) } else { Err(self.err()) }
    }

    fn is_ident(&self) -> bool {
        matches!(self.peek(), Some(Tok::Word(_) | Tok::Quoted(_)))
    }

    fn ident(&mut self) -> Result<String, SqlError> {
        match self.peek().cloned() {
            Some(Tok::Word(w)) if !is_reserved(&w) => {
                self.i += 1;
                Ok(w)
            }
            Some(Tok::Quoted(w)) => {
                self.i += 1;
                Ok(w)
            }
            _ => Err(self.err()),
        }
    }

    /// `[db.]table`
    fn table_ref(&mut self) -> Result<(Option<String>, String), SqlError> {
        let first = self.ident()?;
        if self.sym(".") { Ok((Some(first), self.ident()?)) } else { Ok((None, first)) }
    }

    /// `[table.]column` (the qualifier is ignored).
    fn column_ref(&mut self) -> Result<String, SqlError> {
        let first = self.ident()?;
        if self.sym(".") { self.ident() } else { Ok(first) }
    }

    fn if_not_exists(&mut self) -> Result<bool, SqlError> {
        if self.kw("IF") {
            self.expect_kw("NOT")?;
            self.expect_kw("EXISTS")?;
            return Ok(true);
        }
        Ok(false)
    }

    fn if_exists(&mut self) -> Result<bool, SqlError> {
        if self.kw("IF") {
            self.expect_kw("EXISTS")?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Optional `;`, then end of input.
    fn finish(&mut self) -> Result<(), SqlError> {
        self.sym(";");
        if self.peek().is_some() { Err(self.err()) } else { Ok(()) }
    }

    fn skip_rest(&mut self) {
        self.i = self.toks.len();
    }

    /// Skips tokens up to (not including) the `,` or `)` ending a CREATE TABLE element.
    fn skip_element(&mut self) -> Result<(), SqlError> {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => return Err(self.err()),
                Some(Tok::Sym("(")) => depth += 1,
                Some(Tok::Sym(")")) if depth == 0 => return Ok(()),
                Some(Tok::Sym(")")) => depth -= 1,
                Some(Tok::Sym(",")) if depth == 0 => return Ok(()),
                _ => {}
            }
            self.i += 1;
        }
    }

    /// A literal value: string, number, NULL, TRUE/FALSE.
    fn literal(&mut self) -> Result<Option<String>, SqlError> {
        match self.next_tok() {
            Some(Tok::Str(s)) => Ok(Some(s)),
            Some(Tok::Num(n)) => Ok(Some(n)),
            Some(Tok::Sym(sign @ ("-" | "+"))) => match self.next_tok() {
                Some(Tok::Num(n)) if sign == "-" => Ok(Some(format!("-{n}"))),
                Some(Tok::Num(n)) => Ok(Some(n)),
                _ => Err(self.err_prev()),
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("NULL") => Ok(None),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("TRUE") => Ok(Some("1".into())),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("FALSE") => Ok(Some("0".into())),
            _ => Err(self.err_prev()),
        }
    }

    fn is_literal_start(&self) -> bool {
        match self.peek() {
            Some(Tok::Str(_) | Tok::Num(_) | Tok::Sym("-" | "+")) => true,
            Some(Tok::Word(w)) => ["NULL", "TRUE", "FALSE"].iter().any(|k| w.eq_ignore_ascii_case(k)),
            _ => false,
        }
    }

    fn limit(&mut self) -> Result<(usize, usize), SqlError> {
        let num = |p: &mut Self| match p.next_tok() {
            Some(Tok::Num(n)) => n.parse::<usize>().map_err(|_| p.err_prev()),
            _ => Err(p.err_prev()),
        };
        let first = num(self)?;
        if self.sym(",") {
            return Ok((first, num(self)?));
        }
        if self.kw("OFFSET") {
            return Ok((num(self)?, first));
        }
        Ok((0, first))
    }

    fn alias(&mut self) -> Result<Option<String>, SqlError> {
        if self.kw("AS") {
            return match self.next_tok() {
                Some(Tok::Word(w) | Tok::Quoted(w) | Tok::Str(w)) => Ok(Some(w)),
                _ => Err(self.err_prev()),
            };
        }
        match self.peek().cloned() {
            Some(Tok::Word(w)) if !is_reserved(&w) => {
                self.i += 1;
                Ok(Some(w))
            }
            Some(Tok::Quoted(w) | Tok::Str(w)) => {
                self.i += 1;
                Ok(Some(w))
            }
            _ => Ok(None),
        }
    }

    fn select_item(&mut self, current_db: &Option<String>) -> Result<SelectItem, SqlError> {
        let start = self.i;
        if self.sym("*") {
            return Ok(SelectItem::Star);
        }
        let text = |p: &Self| p.sql[p.toks[start].pos..p.toks[p.i - 1].end].to_string();
        let (name, value) = if self.is_literal_start() {
            let is_str = matches!(self.peek(), Some(Tok::Str(_)));
            let v = self.literal()?;
            let name = match (&v, is_str) {
                (Some(s), true) => s.clone(),
                _ => text(self),
            };
            (name, v)
        } else if let Some(Tok::Var(var)) = self.peek().cloned() {
            self.i += 1;
            let key = var.trim_start_matches('@').to_ascii_lowercase();
            let key = key.strip_prefix("session.").or_else(|| key.strip_prefix("global.")).unwrap_or(&key);
            let value = match key {
                "version" => Some(SERVER_VERSION.to_string()),
                "version_comment" => Some(VERSION_COMMENT.to_string()),
                "autocommit" => Some("1".to_string()),
                "max_allowed_packet" => Some("1048576".to_string()),
                "character_set_client" | "character_set_connection" | "character_set_results" => {
                    Some("utf8".to_string())
                }
                "collation_connection" => Some("utf8_general_ci".to_string()),
                "sql_mode" => Some(String::new()),
                "tx_isolation" => Some("REPEATABLE-READ".to_string()),
                _ if !var.starts_with("@@") => None, // user variables are NULL
                _ => {
                    let name = var.trim_start_matches('@');
                    return Err(SqlError::new(1193, "HY000", format!("Unknown system variable '{name}'")));
                }
            };
            (text(self), value)
        } else if matches!(self.peek(), Some(Tok::Word(_)))
            && matches!(self.toks.get(self.i + 1), Some(t) if t.tok == Tok::Sym("("))
        {
            let Some(Tok::Word(func)) = self.next_tok() else { unreachable!() };
            self.expect_sym("(")?;
            self.expect_sym(")")?;
            let value = match func.to_ascii_uppercase().as_str() {
                "VERSION" => Some(SERVER_VERSION.to_string()),
                "DATABASE" | "SCHEMA" => current_db.clone(),
                _ => {
                    let db = current_db.as_ref().ok_or_else(no_db_selected)?;
                    return Err(SqlError::new(1305, "42000", format!("FUNCTION {db}.{func} does not exist")));
                }
            };
            (text(self), value)
        } else {
            let name = self.column_ref()?;
            let alias = self.alias()?;
            return Ok(SelectItem::Column { name, alias });
        };
        let alias = self.alias()?;
        Ok(SelectItem::Const { name: alias.unwrap_or(name), value })
    }

    fn operand(&mut self) -> Result<Operand, SqlError> {
        if self.is_literal_start() { Ok(Operand::Lit(self.literal()?)) } else { Ok(Operand::Col(self.column_ref()?)) }
    }

    fn condition(&mut self) -> Result<Cond<Operand>, SqlError> {
        let mut left = self.conjunction()?;
        while self.kw("OR") {
            left = Cond::Or(Box::new(left), Box::new(self.conjunction()?));
        }
        Ok(left)
    }

    fn conjunction(&mut self) -> Result<Cond<Operand>, SqlError> {
        let mut left = self.comparison()?;
        while self.kw("AND") {
            left = Cond::And(Box::new(left), Box::new(self.comparison()?));
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Cond<Operand>, SqlError> {
        if self.sym("(") {
            let c = self.condition()?;
            self.expect_sym(")")?;
            return Ok(c);
        }
        let a = self.operand()?;
        if self.kw("IS") {
            let not = self.kw("NOT");
            self.expect_kw("NULL")?;
            return Ok(Cond::IsNull(a, not));
        }
        let op = match self.peek() {
            Some(Tok::Sym(op @ ("=" | "<>" | "!=" | "<" | ">" | "<=" | ">="))) => *op,
            _ => return Err(self.err()),
        };
        self.i += 1;
        Ok(Cond::Cmp(a, op, self.operand()?))
    }
}

fn is_reserved(w: &str) -> bool {
    const RESERVED: [&str; 22] = [
        "SELECT", "FROM", "WHERE", "ORDER", "BY", "LIMIT", "GROUP", "HAVING", "AND", "OR", "NOT", "NULL", "IS", "AS",
        "INSERT", "INTO", "VALUES", "UPDATE", "SET", "DELETE", "CREATE", "TABLE",
    ];
    RESERVED.iter().any(|r| w.eq_ignore_ascii_case(r))
}

// ---------------------------------------------------------------------------------------------
// Wire helpers
// ---------------------------------------------------------------------------------------------

/// Buffers a byte stream and yields whole packets `(sequence id, payload)`; payloads split over
/// several 0xffffff-byte packets are reassembled.
#[derive(Clone, Debug, Default)]
struct PacketReader {
    buf: Vec<u8>,
}

impl PacketReader {
    fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    fn next_packet(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut off = 0;
        let mut payload = Vec::new();
        let mut first_seq = None;
        loop {
            let hdr = self.buf.get(off..off + 4)?;
            let len = usize::from(hdr[0]) | usize::from(hdr[1]) << 8 | usize::from(hdr[2]) << 16;
            first_seq.get_or_insert(hdr[3]);
            let body = self.buf.get(off + 4..off + 4 + len)?;
            payload.extend_from_slice(body);
            off += 4 + len;
            if len < MAX_PAYLOAD {
                break;
            }
        }
        self.buf.drain(..off);
        Some((first_seq.unwrap_or(0), payload))
    }
}

/// Appends `payload` as one logical packet (split at 0xffffff bytes), advancing `seq`.
fn write_packet(out: &mut Vec<u8>, seq: &mut u8, payload: &[u8]) {
    let mut rest = payload;
    loop {
        let n = rest.len().min(MAX_PAYLOAD);
        out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        out.push(*seq);
        *seq = seq.wrapping_add(1);
        out.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        if n < MAX_PAYLOAD {
            break;
        }
    }
}

fn put_lenenc_int(out: &mut Vec<u8>, v: u64) {
    match v {
        0..=250 => out.push(v as u8),
        251..=0xffff => {
            out.push(0xfc);
            out.extend_from_slice(&(v as u16).to_le_bytes());
        }
        0x1_0000..=0xff_ffff => {
            out.push(0xfd);
            out.extend_from_slice(&(v as u32).to_le_bytes()[..3]);
        }
        _ => {
            out.push(0xfe);
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

fn put_lenenc_str(out: &mut Vec<u8>, s: &[u8]) {
    put_lenenc_int(out, s.len() as u64);
    out.extend_from_slice(s);
}

struct Cursor<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Cursor<'a> {
    fn new(b: &'a [u8]) -> Self {
        Cursor { b, p: 0 }
    }

    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.p..self.p.checked_add(n)?)?;
        self.p += n;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.bytes(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        self.bytes(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn nul_str(&mut self) -> Option<&'a [u8]> {
        let rest = &self.b[self.p..];
        let n = rest.iter().position(|&c| c == 0)?;
        self.p += n + 1;
        Some(&rest[..n])
    }

    fn lenenc_int(&mut self) -> Option<u64> {
        match self.u8()? {
            0xfc => self.u16().map(u64::from),
            0xfd => self.bytes(3).map(|b| u64::from(b[0]) | u64::from(b[1]) << 8 | u64::from(b[2]) << 16),
            0xfe => self.bytes(8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes),
            v @ 0..=0xfa => Some(u64::from(v)),
            _ => None,
        }
    }

    fn lenenc_str(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.lenenc_int()?).ok()?;
        self.bytes(n)
    }

    fn rest(&mut self) -> &'a [u8] {
        let r = &self.b[self.p..];
        self.p = self.b.len();
        r
    }

    fn at_end(&self) -> bool {
        self.p >= self.b.len()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// mysql_native_password token: SHA1(pw) XOR SHA1(salt ++ SHA1(SHA1(pw))); empty for an empty password.
pub fn native_password_token(password: &str, salt: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = Sha1::digest(password.as_bytes());
    let stage2 = Sha1::digest(stage1);
    let mut h = Sha1::new();
    h.update(salt);
    h.update(stage2);
    let mix = h.finalize();
    stage1.iter().zip(mix.iter()).map(|(a, b)| a ^ b).collect()
}

fn ok_payload(affected_rows: u64, warnings: u16, message: &str) -> Vec<u8> {
    let mut p = vec![0x00];
    put_lenenc_int(&mut p, affected_rows);
    put_lenenc_int(&mut p, 0); // last insert id
    p.extend_from_slice(&SERVER_STATUS_AUTOCOMMIT.to_le_bytes());
    p.extend_from_slice(&warnings.to_le_bytes());
    // MySQL 5.5's net_send_ok stores the info message length-encoded (net_store_data), and
    // libmysqlclient reads it with net_field_length.
    if !message.is_empty() {
        put_lenenc_str(&mut p, message.as_bytes());
    }
    p
}

fn err_payload(e: &SqlError) -> Vec<u8> {
    let mut p = vec![0xff];
    p.extend_from_slice(&e.code.to_le_bytes());
    p.push(b'#');
    let mut state = e.sqlstate.as_bytes().to_vec();
    state.resize(5, b'0');
    p.extend_from_slice(&state[..5]);
    p.extend_from_slice(e.message.as_bytes());
    p
}

fn eof_payload(warnings: u16) -> Vec<u8> {
    let mut p = vec![0xfe];
    p.extend_from_slice(&warnings.to_le_bytes());
    p.extend_from_slice(&SERVER_STATUS_AUTOCOMMIT.to_le_bytes());
    p
}

fn parse_err(payload: &[u8]) -> SqlError {
    let mut c = Cursor::new(payload);
    c.u8();
    let code = c.u16().unwrap_or(0);
    let mut sqlstate = "HY000".to_string();
    if c.b.get(c.p) == Some(&b'#') {
        c.p += 1;
        if let Some(s) = c.bytes(5) {
            sqlstate = text(s);
        }
    }
    SqlError { code, sqlstate, message: text(c.rest()) }
}

fn parse_ok(payload: &[u8]) -> (QueryResult, u16) {
    let mut c = Cursor::new(payload);
    c.u8();
    let affected_rows = c.lenenc_int().unwrap_or(0);
    let _last_insert_id = c.lenenc_int();
    let _status = c.u16();
    let warnings = c.u16().unwrap_or(0);
    let message = if c.at_end() { String::new() } else { c.lenenc_str().map(text).unwrap_or_default() };
    (QueryResult::Ok { affected_rows, message }, warnings)
}

fn summarize(r: &Result<QueryResult, SqlError>, warnings: u16) -> String {
    let w = if warnings > 0 { format!(", {warnings} warning{}", plural(u64::from(warnings))) } else { String::new() };
    match r {
        Ok(QueryResult::Ok { affected_rows, .. }) => {
            format!("OK {affected_rows} row{} affected{w}", plural(*affected_rows))
        }
        Ok(QueryResult::Rows { rows, .. }) => format!("{} row{} in set{w}", rows.len(), plural(rows.len() as u64)),
        Err(e) => format!("ERR {} ({}) {}", e.code, e.sqlstate, e.message),
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

/// What [`ServerConn::on_data`] produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    pub send: Vec<u8>,
    pub close: bool,
    pub log: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ServerState {
    Handshake,
    Command,
    Closed,
}

/// One server-side connection.
#[derive(Clone, Debug)]
pub struct ServerConn {
    connection_id: u32,
    salt: [u8; 20],
    users: Vec<(String, String)>,
    client_host: String,
    reader: PacketReader,
    state: ServerState,
    user: Option<String>,
    current_db: Option<String>,
}

impl ServerConn {
    /// `salt` is 20 bytes of scramble from the caller's RNG; they are mapped to printable ASCII
    /// (0x21..=0x7e) as real MySQL does, so the NUL-terminated part 2 stays intact. Returns the
    /// connection and the greeting bytes to send. The client host in error messages is "localhost".
    pub fn new(connection_id: u32, salt: [u8; 20], users: Vec<(String, String)>) -> (Self, Vec<u8>) {
        Self::with_client_host(connection_id, salt, users, "localhost")
    }

    /// Like [`ServerConn::new`], naming the client host (e.g. its IP) for "Access denied" errors.
    pub fn with_client_host(
        connection_id: u32,
        salt: [u8; 20],
        users: Vec<(String, String)>,
        client_host: &str,
    ) -> (Self, Vec<u8>) {
        let salt = salt.map(|b| 0x21 + b % 94);
        let conn = ServerConn {
            connection_id,
            salt,
            users,
            client_host: client_host.to_string(),
            reader: PacketReader::default(),
            state: ServerState::Handshake,
            user: None,
            current_db: None,
        };
        let mut g = vec![10u8];
        g.extend_from_slice(SERVER_VERSION.as_bytes());
        g.push(0);
        g.extend_from_slice(&connection_id.to_le_bytes());
        g.extend_from_slice(&salt[..8]);
        g.push(0);
        g.extend_from_slice(&(SERVER_CAPABILITIES as u16).to_le_bytes());
        g.push(CHARSET_UTF8_GENERAL_CI);
        g.extend_from_slice(&SERVER_STATUS_AUTOCOMMIT.to_le_bytes());
        g.extend_from_slice(&((SERVER_CAPABILITIES >> 16) as u16).to_le_bytes());
        g.push(21);
        g.extend_from_slice(&[0; 10]);
        g.extend_from_slice(&salt[8..]);
        g.push(0);
        g.extend_from_slice(AUTH_PLUGIN.as_bytes());
        g.push(0);
        let mut out = Vec::new();
        write_packet(&mut out, &mut 0, &g);
        (conn, out)
    }

    pub fn connection_id(&self) -> u32 {
        self.connection_id
    }

    /// The scramble actually sent in the greeting.
    pub fn salt(&self) -> [u8; 20] {
        self.salt
    }

    /// The authenticated user, once logged in.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    pub fn current_db(&self) -> Option<&str> {
        self.current_db.as_deref()
    }

    pub fn is_closed(&self) -> bool {
        self.state == ServerState::Closed
    }

    /// Feed received bytes; returns bytes to send, whether to close, and one log line per command.
    pub fn on_data(&mut self, db: &mut Database, data: &[u8]) -> Output {
        let mut out = Output::default();
        if self.state == ServerState::Closed {
            out.close = true;
            return out;
        }
        self.reader.push(data);
        while self.state != ServerState::Closed {
            let Some((seq, payload)) = self.reader.next_packet() else { break };
            let mut seq = seq.wrapping_add(1);
            match self.state {
                ServerState::Handshake => self.handle_login(db, &payload, &mut seq, &mut out),
                _ => self.handle_command(db, &payload, &mut seq, &mut out),
            }
        }
        out.close = self.state == ServerState::Closed;
        out
    }

    fn fail(&mut self, e: SqlError, seq: &mut u8, out: &mut Output) {
        write_packet(&mut out.send, seq, &err_payload(&e));
        self.state = ServerState::Closed;
    }

    fn handle_login(&mut self, db: &mut Database, payload: &[u8], seq: &mut u8, out: &mut Output) {
        let Some(resp) = parse_handshake_response(payload) else {
            out.log.push("login: bad handshake".to_string());
            return self.fail(SqlError::new(1043, "08S01", "Bad handshake"), seq, out);
        };
        let expected =
            self.users.iter().find(|(u, _)| *u == resp.user).map(|(_, pw)| native_password_token(pw, &self.salt));
        if expected.as_deref() != Some(resp.auth.as_slice()) {
            out.log.push(format!("login {} denied", resp.user));
            let using = if resp.auth.is_empty() { "NO" } else { "YES" };
            let msg =
                format!("Access denied for user '{}'@'{}' (using password: {using})", resp.user, self.client_host);
            return self.fail(SqlError::new(1045, "28000", msg), seq, out);
        }
        if let Some(name) = &resp.database {
            if !db.database_exists(name) {
                out.log.push(format!("login {} ok, unknown database '{name}'", resp.user));
                return self.fail(unknown_db(name), seq, out);
            }
            self.current_db = Some(name.clone());
        }
        out.log.push(match &resp.database {
            Some(d) => format!("login {} ok (db {d})", resp.user),
            None => format!("login {} ok", resp.user),
        });
        self.user = Some(resp.user);
        self.state = ServerState::Command;
        write_packet(&mut out.send, seq, &ok_payload(0, 0, ""));
    }

    fn handle_command(&mut self, db: &mut Database, payload: &[u8], seq: &mut u8, out: &mut Output) {
        let (&cmd, arg) = payload.split_first().unwrap_or((&0xff, &[]));
        match cmd {
            COM_QUIT => {
                out.log.push("COM_QUIT".to_string());
                self.state = ServerState::Closed;
            }
            COM_PING => {
                out.log.push("COM_PING → OK".to_string());
                write_packet(&mut out.send, seq, &ok_payload(0, 0, ""));
            }
            COM_INIT_DB => {
                let name = text(arg);
                if db.database_exists(&name) {
                    out.log.push(format!("COM_INIT_DB {name} → OK"));
                    self.current_db = Some(name);
                    write_packet(&mut out.send, seq, &ok_payload(0, 0, ""));
                } else {
                    let e = unknown_db(&name);
                    out.log.push(format!("COM_INIT_DB {name} → {}", summarize(&Err(e.clone()), 0)));
                    write_packet(&mut out.send, seq, &err_payload(&e));
                }
            }
            COM_QUERY => {
                let sql = text(arg);
                let outcome = db.run(&mut self.current_db, &sql);
                let summary = match &outcome {
                    Ok(o) => summarize(&Ok(o.result.clone()), o.warnings),
                    Err(e) => summarize(&Err(e.clone()), 0),
                };
                out.log.push(format!("COM_QUERY {sql} → {summary}"));
                match outcome {
                    Ok(Outcome { result: QueryResult::Ok { affected_rows, message }, warnings, .. }) => {
                        write_packet(&mut out.send, seq, &ok_payload(affected_rows, warnings, &message));
                    }
                    Ok(Outcome { result: QueryResult::Rows { rows, .. }, warnings, meta }) => {
                        write_result_set(&mut out.send, seq, &meta, &rows, warnings);
                    }
                    Err(e) => write_packet(&mut out.send, seq, &err_payload(&e)),
                }
            }
            _ => {
                out.log.push(format!("command 0x{cmd:02x} → ERR 1047 Unknown command"));
                write_packet(&mut out.send, seq, &err_payload(&SqlError::new(1047, "08S01", "Unknown command")));
            }
        }
    }
}

fn write_result_set(out: &mut Vec<u8>, seq: &mut u8, meta: &[ColMeta], rows: &[Vec<Option<String>>], warnings: u16) {
    let mut p = Vec::new();
    put_lenenc_int(&mut p, meta.len() as u64);
    write_packet(out, seq, &p);
    for m in meta {
        let mut p = Vec::new();
        for s in [b"def" as &[u8], m.schema.as_bytes(), m.table.as_bytes(), m.org_table.as_bytes()] {
            put_lenenc_str(&mut p, s);
        }
        put_lenenc_str(&mut p, m.name.as_bytes());
        put_lenenc_str(&mut p, m.org_name.as_bytes());
        p.push(0x0c);
        p.extend_from_slice(&u16::from(CHARSET_UTF8_GENERAL_CI).to_le_bytes());
        p.extend_from_slice(&m.length.to_le_bytes());
        p.push(MYSQL_TYPE_VAR_STRING);
        p.extend_from_slice(&0u16.to_le_bytes()); // flags
        p.push(0); // decimals
        p.extend_from_slice(&[0, 0]);
        write_packet(out, seq, &p);
    }
    write_packet(out, seq, &eof_payload(0));
    for row in rows {
        let mut p = Vec::new();
        for v in row {
            match v {
                Some(s) => put_lenenc_str(&mut p, s.as_bytes()),
                None => p.push(0xfb),
            }
        }
        write_packet(out, seq, &p);
    }
    write_packet(out, seq, &eof_payload(warnings));
}

struct HandshakeResponse {
    user: String,
    auth: Vec<u8>,
    database: Option<String>,
}

fn parse_handshake_response(payload: &[u8]) -> Option<HandshakeResponse> {
    let mut c = Cursor::new(payload);
    let caps = c.u32()?;
    if caps & CLIENT_PROTOCOL_41 == 0 {
        return None;
    }
    let _max_packet = c.u32()?;
    let _charset = c.u8()?;
    c.bytes(23)?;
    let user = text(c.nul_str()?);
    let auth = if caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
        c.lenenc_str()?.to_vec()
    } else if caps & CLIENT_SECURE_CONNECTION != 0 {
        let n = c.u8()?;
        c.bytes(usize::from(n))?.to_vec()
    } else {
        c.nul_str()?.to_vec()
    };
    let database = if caps & CLIENT_CONNECT_WITH_DB != 0 && !c.at_end() {
        Some(text(c.nul_str()?)).filter(|d| !d.is_empty())
    } else {
        None
    };
    Some(HandshakeResponse { user, auth, database })
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

/// What [`ClientConn::on_data`] produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClientOutput {
    pub send: Vec<u8>,
    /// True once the client is finished: it sent COM_QUIT, or the login failed.
    pub done: bool,
    /// One entry per completed query (a failed login yields its error here too).
    pub results: Vec<Result<QueryResult, SqlError>>,
    /// Warning counts, parallel to `results` (see [`format_result_with_warnings`]).
    pub warnings: Vec<u16>,
    pub log: Vec<String>,
}

#[derive(Clone, Debug)]
enum Response {
    First,
    Columns { count: usize, names: Vec<String> },
    Rows { names: Vec<String>, rows: Vec<Vec<Option<String>>> },
}

#[derive(Clone, Debug)]
enum ClientState {
    Greeting,
    Auth,
    Query(Response),
    Done,
}

/// A client that logs in and runs a list of queries, then sends COM_QUIT.
#[derive(Clone, Debug)]
pub struct ClientConn {
    user: String,
    password: String,
    database: Option<String>,
    queries: Vec<String>,
    next: usize,
    reader: PacketReader,
    state: ClientState,
    server_version: Option<String>,
}

impl ClientConn {
    pub fn new(user: &str, password: &str, database: Option<&str>, queries: Vec<String>) -> Self {
        ClientConn {
            user: user.to_string(),
            password: password.to_string(),
            database: database.map(str::to_string),
            queries,
            next: 0,
            reader: PacketReader::default(),
            state: ClientState::Greeting,
            server_version: None,
        }
    }

    /// Server version from the greeting, once received.
    pub fn server_version(&self) -> Option<&str> {
        self.server_version.as_deref()
    }

    pub fn is_done(&self) -> bool {
        matches!(self.state, ClientState::Done)
    }

    /// Feed received bytes (starting with the server greeting).
    pub fn on_data(&mut self, data: &[u8]) -> ClientOutput {
        let mut out = ClientOutput::default();
        self.reader.push(data);
        while !self.is_done() {
            let Some((seq, payload)) = self.reader.next_packet() else { break };
            self.handle(seq, &payload, &mut out);
        }
        out.done = self.is_done();
        out
    }

    fn finish_with(&mut self, r: Result<QueryResult, SqlError>, warnings: u16, out: &mut ClientOutput) {
        out.results.push(r);
        out.warnings.push(warnings);
        self.next += 1;
        self.send_next(out);
    }

    fn send_next(&mut self, out: &mut ClientOutput) {
        let mut seq = 0;
        match self.queries.get(self.next) {
            Some(q) => {
                let mut p = vec![COM_QUERY];
                p.extend_from_slice(q.as_bytes());
                write_packet(&mut out.send, &mut seq, &p);
                self.state = ClientState::Query(Response::First);
            }
            None => {
                write_packet(&mut out.send, &mut seq, &[COM_QUIT]);
                out.log.push("COM_QUIT".to_string());
                self.state = ClientState::Done;
            }
        }
    }

    fn handle(&mut self, seq: u8, payload: &[u8], out: &mut ClientOutput) {
        let first = payload.first().copied().unwrap_or(0);
        match std::mem::replace(&mut self.state, ClientState::Done) {
            ClientState::Done => {}
            ClientState::Greeting => {
                if first == 0xff {
                    let e = parse_err(payload);
                    out.log.push(format!("connect failed: {e}"));
                    out.results.push(Err(e));
                    out.warnings.push(0);
                    return;
                }
                let Some((version, conn_id, salt)) = parse_greeting(payload) else {
                    let e = SqlError::new(2027, "HY000", "Malformed packet");
                    out.log.push(format!("bad greeting: {e}"));
                    out.results.push(Err(e));
                    out.warnings.push(0);
                    return;
                };
                out.log.push(format!("greeting: MySQL {version}, connection id {conn_id}"));
                self.server_version = Some(version);
                let caps = CLIENT_CAPABILITIES | if self.database.is_some() { CLIENT_CONNECT_WITH_DB } else { 0 };
                let mut p = Vec::new();
                p.extend_from_slice(&caps.to_le_bytes());
                p.extend_from_slice(&(MAX_PAYLOAD as u32 + 1).to_le_bytes());
                p.push(CHARSET_UTF8_GENERAL_CI);
                p.extend_from_slice(&[0; 23]);
                p.extend_from_slice(self.user.as_bytes());
                p.push(0);
                let token = native_password_token(&self.password, &salt);
                p.push(token.len() as u8);
                p.extend_from_slice(&token);
                if let Some(d) = &self.database {
                    p.extend_from_slice(d.as_bytes());
                    p.push(0);
                }
                p.extend_from_slice(AUTH_PLUGIN.as_bytes());
                p.push(0);
                write_packet(&mut out.send, &mut seq.wrapping_add(1), &p);
                self.state = ClientState::Auth;
            }
            ClientState::Auth => match first {
                0x00 => {
                    out.log.push(format!("login {} ok", self.user));
                    self.send_next(out);
                }
                _ => {
                    let e = if first == 0xff {
                        parse_err(payload)
                    } else {
                        SqlError::new(2059, "HY000", "Authentication plugin switch not supported")
                    };
                    out.log.push(format!("login {} failed: {e}", self.user));
                    out.results.push(Err(e));
                    out.warnings.push(0);
                }
            },
            ClientState::Query(resp) => self.handle_response(resp, payload, out),
        }
    }

    fn handle_response(&mut self, resp: Response, payload: &[u8], out: &mut ClientOutput) {
        let first = payload.first().copied().unwrap_or(0);
        let query = self.queries.get(self.next).cloned().unwrap_or_default();
        let is_eof = first == 0xfe && payload.len() < 9;
        if first == 0xff {
            let r = Err(parse_err(payload));
            out.log.push(format!("query {query} → {}", summarize(&r, 0)));
            return self.finish_with(r, 0, out);
        }
        match resp {
            Response::First if first == 0x00 => {
                let (mut r, warnings) = parse_ok(payload);
                if is_use_statement(&query) {
                    // What the mysql command-line client prints after `use db`.
                    r = QueryResult::Ok { affected_rows: 0, message: "Database changed".to_string() };
                }
                let r = Ok(r);
                out.log.push(format!("query {query} → {}", summarize(&r, warnings)));
                self.finish_with(r, warnings, out);
            }
            Response::First => {
                let count = Cursor::new(payload).lenenc_int().unwrap_or(0) as usize;
                self.state = ClientState::Query(Response::Columns { count, names: Vec::new() });
            }
            Response::Columns { count, names } if names.len() == count => {
                // The EOF packet after the column definitions.
                self.state = ClientState::Query(Response::Rows { names, rows: Vec::new() });
            }
            Response::Columns { count, mut names } => {
                let mut c = Cursor::new(payload);
                for _ in 0..4 {
                    c.lenenc_str();
                }
                names.push(c.lenenc_str().map(text).unwrap_or_default());
                self.state = ClientState::Query(Response::Columns { count, names });
            }
            Response::Rows { names, rows } if is_eof => {
                let warnings = Cursor::new(&payload[1..]).u16().unwrap_or(0);
                let r = Ok(QueryResult::Rows { columns: names, rows });
                out.log.push(format!("query {query} → {}", summarize(&r, warnings)));
                self.finish_with(r, warnings, out);
            }
            Response::Rows { names, mut rows } => {
                let mut c = Cursor::new(payload);
                let row = names
                    .iter()
                    .map(|_| {
                        if c.b.get(c.p) == Some(&0xfb) {
                            c.p += 1;
                            None
                        } else {
                            c.lenenc_str().map(text)
                        }
                    })
                    .collect();
                rows.push(row);
                self.state = ClientState::Query(Response::Rows { names, rows });
            }
        }
    }
}

fn is_use_statement(q: &str) -> bool {
    let t = q.trim_start();
    t.get(..3).is_some_and(|k| k.eq_ignore_ascii_case("use"))
        && t[3..].starts_with(|c: char| c.is_whitespace() || c == '`')
}

/// Parses an Initial Handshake V10: (server version, connection id, 20-byte scramble).
fn parse_greeting(payload: &[u8]) -> Option<(String, u32, Vec<u8>)> {
    let mut c = Cursor::new(payload);
    if c.u8()? != 10 {
        return None;
    }
    let version = text(c.nul_str()?);
    let conn_id = c.u32()?;
    let mut salt = c.bytes(8)?.to_vec();
    c.u8()?;
    let _caps_lo = c.u16()?;
    if !c.at_end() {
        let _charset = c.u8()?;
        let _status = c.u16()?;
        let _caps_hi = c.u16()?;
        let auth_len = c.u8()?;
        c.bytes(10)?;
        let n = usize::from(auth_len).saturating_sub(9).max(12);
        salt.extend_from_slice(c.bytes(n)?);
    }
    Some((version, conn_id, salt))
}

// ---------------------------------------------------------------------------------------------
// mysql command-line client formatting
// ---------------------------------------------------------------------------------------------

/// Formats a result like the mysql command-line client (timings are always "(0.00 sec)").
pub fn format_result(r: &Result<QueryResult, SqlError>) -> String {
    format_result_with_warnings(r, 0)
}

/// Like [`format_result`], including a warning count as the mysql client shows it.
pub fn format_result_with_warnings(r: &Result<QueryResult, SqlError>, warnings: u16) -> String {
    let w = if warnings > 0 { format!(", {warnings} warning{}", plural(u64::from(warnings))) } else { String::new() };
    match r {
        Err(e) => e.to_string(),
        Ok(QueryResult::Ok { message, .. }) if message == "Database changed" => message.clone(),
        Ok(QueryResult::Ok { affected_rows, message }) => {
            let mut s = format!("Query OK, {affected_rows} row{} affected{w} (0.00 sec)", plural(*affected_rows));
            if !message.is_empty() {
                s.push('\n');
                s.push_str(message);
            }
            s
        }
        Ok(QueryResult::Rows { rows, .. }) if rows.is_empty() => format!("Empty set{w} (0.00 sec)"),
        Ok(QueryResult::Rows { columns, rows }) => {
            let cell = |v: &Option<String>| v.clone().unwrap_or_else(|| "NULL".to_string());
            let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
            for row in rows {
                for (w, v) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell(v).chars().count());
                }
            }
            let sep: String = widths.iter().fold("+".to_string(), |s, w| s + &"-".repeat(w + 2) + "+");
            let line = |cells: Vec<String>| {
                cells
                    .iter()
                    .zip(&widths)
                    .fold("|".to_string(), |s, (c, w)| s + " " + c + &" ".repeat(w - c.chars().count()) + " |")
            };
            let mut out = vec![sep.clone(), line(columns.clone()), sep.clone()];
            out.extend(rows.iter().map(|r| line(r.iter().map(cell).collect())));
            out.push(sep);
            out.push(format!("{} row{} in set{w} (0.00 sec)", rows.len(), plural(rows.len() as u64)));
            out.join("\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: [u8; 20] = [7, 200, 13, 0, 99, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];

    fn tutorial_queries() -> Vec<String> {
        [
            "CREATE DATABASE HandsOn",
            "USE HandsOn",
            "CREATE TABLE course_details (course_name VARCHAR(10), course_id VARCHAR(11))",
            "INSERT INTO course_details VALUES ('Docker','DK101')",
            "SELECT * FROM course_details",
        ]
        .map(String::from)
        .to_vec()
    }

    fn users() -> Vec<(String, String)> {
        vec![("root".to_string(), "edureka".to_string())]
    }

    #[derive(Clone, Copy)]
    enum Chunking {
        /// Every output delivered in one piece.
        Whole,
        /// One byte at a time.
        Bytes,
        /// Pseudo-random pieces of 1..=7 bytes.
        Random(u64),
    }

    struct Session {
        /// (from_client, bytes) in transmission order.
        segments: Vec<(bool, Vec<u8>)>,
        results: Vec<Result<QueryResult, SqlError>>,
        warnings: Vec<u16>,
        server_log: Vec<String>,
        client_log: Vec<String>,
        server_closed: bool,
        client_done: bool,
    }

    fn chunks(data: &[u8], how: Chunking, rng: &mut u64) -> Vec<Vec<u8>> {
        match how {
            Chunking::Whole => vec![data.to_vec()],
            Chunking::Bytes => data.iter().map(|&b| vec![b]).collect(),
            Chunking::Random(_) => {
                let mut out = Vec::new();
                let mut rest = data;
                while !rest.is_empty() {
                    *rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let n = ((*rng >> 33) % 7 + 1) as usize;
                    let n = n.min(rest.len());
                    out.push(rest[..n].to_vec());
                    rest = &rest[n..];
                }
                out
            }
        }
    }

    fn run(db: &mut Database, mut client: ClientConn, password_users: Vec<(String, String)>, how: Chunking) -> Session {
        let (mut server, greeting) = ServerConn::with_client_host(42, SALT, password_users, "10.0.0.1");
        let mut rng = match how {
            Chunking::Random(seed) => seed,
            _ => 0,
        };
        let mut s = Session {
            segments: Vec::new(),
            results: Vec::new(),
            warnings: Vec::new(),
            server_log: Vec::new(),
            client_log: Vec::new(),
            server_closed: false,
            client_done: false,
        };
        let mut to_client = greeting;
        let mut to_server = Vec::new();
        while !to_client.is_empty() || !to_server.is_empty() {
            if !to_client.is_empty() {
                s.segments.push((false, to_client.clone()));
                for c in chunks(&std::mem::take(&mut to_client), how, &mut rng) {
                    let o = client.on_data(&c);
                    to_server.extend(o.send);
                    s.results.extend(o.results);
                    s.warnings.extend(o.warnings);
                    s.client_log.extend(o.log);
                    s.client_done |= o.done;
                }
            }
            if !to_server.is_empty() {
                s.segments.push((true, to_server.clone()));
                for c in chunks(&std::mem::take(&mut to_server), how, &mut rng) {
                    let o = server.on_data(db, &c);
                    to_client.extend(o.send);
                    s.server_log.extend(o.log);
                    s.server_closed |= o.close;
                }
            }
        }
        assert_eq!(s.results.len(), s.warnings.len());
        s
    }

    fn tutorial(how: Chunking) -> (Database, Session) {
        let mut db = Database::new();
        let client = ClientConn::new("root", "edureka", None, tutorial_queries());
        let s = run(&mut db, client, users(), how);
        (db, s)
    }

    fn check_tutorial(s: &Session) {
        assert!(s.client_done && s.server_closed);
        assert_eq!(s.results.len(), 5, "{:?}", s.results);
        assert_eq!(s.results[0], Ok(QueryResult::Ok { affected_rows: 1, message: String::new() }));
        assert_eq!(s.results[1], Ok(QueryResult::Ok { affected_rows: 0, message: "Database changed".into() }));
        assert_eq!(s.results[2], Ok(QueryResult::Ok { affected_rows: 0, message: String::new() }));
        assert_eq!(s.results[3], Ok(QueryResult::Ok { affected_rows: 1, message: String::new() }));
        assert_eq!(
            s.results[4],
            Ok(QueryResult::Rows {
                columns: vec!["course_name".into(), "course_id".into()],
                rows: vec![vec![Some("Docker".into()), Some("DK101".into())]],
            })
        );
        assert_eq!(s.server_log[0], "login root ok");
        assert_eq!(s.server_log[1], "COM_QUERY CREATE DATABASE HandsOn → OK 1 row affected");
        assert_eq!(s.server_log[5], "COM_QUERY SELECT * FROM course_details → 1 row in set");
        assert_eq!(s.server_log.last().unwrap(), "COM_QUIT");
        assert_eq!(s.client_log[0], "greeting: MySQL 5.5.62, connection id 42");
    }

    #[test]
    fn tutorial_round_trip_whole() {
        let (db, s) = tutorial(Chunking::Whole);
        check_tutorial(&s);
        assert_eq!(db.table_rows("HandsOn", "course_details").unwrap().len(), 1);
    }

    #[test]
    fn tutorial_round_trip_every_byte() {
        check_tutorial(&tutorial(Chunking::Bytes).1);
    }

    #[test]
    fn tutorial_round_trip_random_chunks() {
        for seed in 1..20 {
            check_tutorial(&tutorial(Chunking::Random(seed)).1);
        }
    }

    #[test]
    fn coalesced_pipelined_commands() {
        // Greeting + everything the client would send, coalesced into single reads on the server.
        let mut db = Database::new();
        let (mut server, greeting) = ServerConn::new(1, SALT, users());
        let mut client = ClientConn::new("root", "edureka", None, vec!["SELECT 1".into()]);
        let login = client.on_data(&greeting).send;
        let mut burst = login.clone();
        for q in ["CREATE DATABASE a", "SHOW DATABASES"] {
            let mut p = vec![COM_QUERY];
            p.extend_from_slice(q.as_bytes());
            write_packet(&mut burst, &mut 0, &p);
        }
        write_packet(&mut burst, &mut 0, &[COM_PING]);
        write_packet(&mut burst, &mut 0, &[COM_QUIT]);
        write_packet(&mut burst, &mut 0, &[COM_PING]); // after QUIT: ignored
        let o = server.on_data(&mut db, &burst);
        assert!(o.close);
        assert_eq!(o.log.len(), 5, "{:?}", o.log);
        assert_eq!(o.log[2], "COM_QUERY SHOW DATABASES → 4 rows in set");
        let mut r = PacketReader::default();
        r.push(&o.send);
        let mut kinds = Vec::new();
        while let Some((seq, p)) = r.next_packet() {
            kinds.push((seq, p[0]));
        }
        // OK(login) ; OK ; result set: count, coldef, EOF, 4 rows, EOF ; OK(ping)
        assert_eq!(kinds[0], (2, 0x00));
        assert_eq!(kinds[1], (1, 0x00));
        assert_eq!(&kinds[2..5], &[(1, 1), (2, 3), (3, 0xfe)]);
        assert_eq!(kinds[9], (8, 0xfe));
        assert_eq!(kinds[10], (1, 0x00));
        assert_eq!(kinds.len(), 11);
        assert!(server.on_data(&mut db, &[1, 0, 0, 0, COM_PING]).send.is_empty());
    }

    #[test]
    fn wrong_password_is_denied() {
        let mut db = Database::new();
        let client = ClientConn::new("root", "wrong", None, tutorial_queries());
        let s = run(&mut db, client, users(), Chunking::Bytes);
        let e = SqlError::new(1045, "28000", "Access denied for user 'root'@'10.0.0.1' (using password: YES)");
        assert_eq!(s.results, vec![Err(e.clone())]);
        assert!(s.client_done && s.server_closed);
        assert_eq!(s.server_log, vec!["login root denied"]);
        assert_eq!(
            format_result(&Err(e)),
            "ERROR 1045 (28000): Access denied for user 'root'@'10.0.0.1' (using password: YES)"
        );
        // ERR packet carries sequence id 2.
        let err = &s.segments.last().unwrap().1;
        assert_eq!(err[3], 2);
        assert_eq!(err[4], 0xff);
        assert!(db.database_names().iter().all(|d| d != "HandsOn"));
        // No password → "using password: NO"; unknown user → also 1045.
        let s = run(&mut db, ClientConn::new("root", "", None, vec![]), users(), Chunking::Whole);
        assert!(matches!(&s.results[0], Err(e) if e.code == 1045 && e.message.ends_with("(using password: NO)")));
        let s = run(&mut db, ClientConn::new("bob", "edureka", None, vec![]), users(), Chunking::Whole);
        assert!(matches!(&s.results[0], Err(e) if e.code == 1045 && e.message.contains("'bob'@")));
    }

    #[test]
    fn empty_password_user_and_connect_with_db() {
        let mut db = Database::new();
        db.execute(&mut None, "CREATE DATABASE shop").unwrap();
        let us = vec![("guest".to_string(), String::new())];
        let s = run(
            &mut db,
            ClientConn::new("guest", "", Some("shop"), vec!["SELECT DATABASE()".into()]),
            us.clone(),
            Chunking::Whole,
        );
        assert_eq!(
            s.results,
            vec![Ok(QueryResult::Rows { columns: vec!["DATABASE()".into()], rows: vec![vec![Some("shop".into())]] })]
        );
        let s = run(&mut db, ClientConn::new("guest", "", Some("nope"), vec!["SELECT 1".into()]), us, Chunking::Whole);
        assert_eq!(s.results, vec![Err(SqlError::new(1049, "42000", "Unknown database 'nope'"))]);
        assert!(s.server_closed && s.client_done);
    }

    #[test]
    fn unknown_table_gives_1146() {
        let mut db = Database::new();
        let queries = vec!["CREATE DATABASE HandsOn".into(), "USE HandsOn".into(), "SELECT * FROM nope".into()];
        let s = run(&mut db, ClientConn::new("root", "edureka", None, queries), users(), Chunking::Random(5));
        let e = SqlError::new(1146, "42S02", "Table 'HandsOn.nope' doesn't exist");
        assert_eq!(s.results[2], Err(e.clone()));
        assert_eq!(format_result(&s.results[2]), "ERROR 1146 (42S02): Table 'HandsOn.nope' doesn't exist");
        assert_eq!(
            s.server_log[3],
            "COM_QUERY SELECT * FROM nope → ERR 1146 (42S02) Table 'HandsOn.nope' doesn't exist"
        );
    }

    /// INSERT, UPDATE and DELETE find their table as SELECT does: 1146 for a table that is not
    /// there (in the named or the current database), 1046 without a database (`ER_NO_SUCH_TABLE`
    /// and `ER_NO_DB_ERROR` in MySQL's `sql/share/errmsg-utf8.txt`).
    #[test]
    fn changes_to_a_missing_table_are_errors() {
        let mut db = Database::new();
        let mut cur = None;
        db.execute(&mut cur, "CREATE DATABASE HandsOn").unwrap();
        for q in ["INSERT INTO nope VALUES (1)", "UPDATE nope SET a = 1", "DELETE FROM nope"] {
            assert_eq!(db.execute(&mut None, q), Err(no_db_selected()), "{q}");
            let e = SqlError::new(1146, "42S02", "Table 'HandsOn.nope' doesn't exist");
            assert_eq!(db.execute(&mut Some("HandsOn".into()), q), Err(e), "{q}");
            let named = q.replace("nope", "other.nope");
            let e = SqlError::new(1146, "42S02", "Table 'other.nope' doesn't exist");
            assert_eq!(db.execute(&mut Some("HandsOn".into()), &named), Err(e), "{named}");
        }
    }

    /// A length-encoded integer of prefix 0xfe needs 8 more bytes; fewer is no integer.
    #[test]
    fn lenenc_int_of_eight_bytes() {
        assert_eq!(Cursor::new(&[0xfe, 1, 0, 0, 0, 0, 0, 0, 0x80]).lenenc_int(), Some(0x8000_0000_0000_0001));
        assert_eq!(Cursor::new(&[0xfe, 1, 2, 3]).lenenc_int(), None);
    }

    #[test]
    fn greeting_layout() {
        let salt: [u8; 20] = std::array::from_fn(|i| i as u8 * 13);
        let (conn, g) = ServerConn::new(0x0102_0304, salt, users());
        let s = conn.salt();
        assert!(s.iter().all(|b| (0x21..=0x7e).contains(b)));
        let len = g.len() - 4;
        assert_eq!(&g[..4], &[len as u8, 0, 0, 0], "3-byte length + seq 0");
        let p = &g[4..];
        assert_eq!(p[0], 10, "protocol version");
        assert_eq!(&p[1..8], b"5.5.62\0");
        assert_eq!(&p[8..12], &[4, 3, 2, 1], "connection id LE");
        assert_eq!(&p[12..20], &s[..8], "auth-plugin-data part 1");
        assert_eq!(p[20], 0, "filler");
        let caps_lo = u16::from_le_bytes([p[21], p[22]]);
        assert_eq!(caps_lo, 0xf7df);
        assert_eq!(p[23], 0x21, "utf8_general_ci");
        assert_eq!(&p[24..26], &[2, 0], "status AUTOCOMMIT");
        let caps_hi = u16::from_le_bytes([p[26], p[27]]);
        let caps = u32::from(caps_lo) | u32::from(caps_hi) << 16;
        for c in [
            CLIENT_PROTOCOL_41,
            CLIENT_SECURE_CONNECTION,
            CLIENT_PLUGIN_AUTH,
            CLIENT_CONNECT_WITH_DB,
            CLIENT_LONG_PASSWORD,
            CLIENT_TRANSACTIONS,
        ] {
            assert_ne!(caps & c, 0, "capability {c:#x}");
        }
        assert_eq!(caps & (CLIENT_SSL | 0x20/* COMPRESS */), 0);
        assert_eq!(p[28], 21, "auth data length");
        assert_eq!(&p[29..39], &[0; 10], "reserved");
        assert_eq!(&p[39..51], &s[8..], "auth-plugin-data part 2");
        assert_eq!(p[51], 0);
        assert_eq!(&p[52..], b"mysql_native_password\0");
        assert_eq!(parse_greeting(p), Some(("5.5.62".to_string(), 0x0102_0304, s.to_vec())));
    }

    #[test]
    fn handshake_response_layout_and_token() {
        let (server, g) = ServerConn::new(9, SALT, users());
        let mut client = ClientConn::new("root", "edureka", Some("HandsOn"), vec![]);
        let o = client.on_data(&g);
        let p = &o.send[4..];
        assert_eq!(o.send[3], 1, "seq 1");
        assert_eq!(o.send.len() - 4, usize::from(o.send[0]));
        let caps = u32::from_le_bytes(p[..4].try_into().unwrap());
        assert_ne!(caps & CLIENT_PROTOCOL_41, 0);
        assert_ne!(caps & CLIENT_CONNECT_WITH_DB, 0);
        assert_eq!(caps & CLIENT_SSL, 0);
        assert_eq!(p[8], 0x21);
        assert_eq!(&p[9..32], &[0; 23]);
        assert_eq!(&p[32..37], b"root\0");
        assert_eq!(p[37], 20);
        let token = &p[38..58];
        // SHA1(pw) XOR SHA1(salt ++ SHA1(SHA1(pw)))
        let s1 = Sha1::digest(b"edureka");
        let mut h = Sha1::new();
        h.update(server.salt());
        h.update(Sha1::digest(s1));
        let expected: Vec<u8> = s1.iter().zip(h.finalize().iter()).map(|(a, b)| a ^ b).collect();
        assert_eq!(token, expected.as_slice());
        assert_eq!(&p[58..], b"HandsOn\0mysql_native_password\0");
        // Known vector: password "password", salt of 20 'a's.
        let t = native_password_token("password", &[b'a'; 20]);
        assert_eq!(t.len(), 20);
        assert_ne!(t, native_password_token("password", &[b'b'; 20]));
    }

    #[test]
    fn result_set_packet_layout() {
        let (db, _) = tutorial(Chunking::Whole);
        let mut db = db;
        let (mut server, g) = ServerConn::new(3, SALT, users());
        let mut client = ClientConn::new("root", "edureka", Some("HandsOn"), vec![]);
        let login = client.on_data(&g).send;
        server.on_data(&mut db, &login);
        let mut q = Vec::new();
        write_packet(&mut q, &mut 0, b"\x03SELECT course_id FROM course_details WHERE course_name = 'docker'");
        let o = server.on_data(&mut db, &q);
        let mut r = PacketReader::default();
        r.push(&o.send);
        let pk: Vec<(u8, Vec<u8>)> = std::iter::from_fn(|| r.next_packet()).collect();
        assert_eq!(pk.len(), 5);
        assert_eq!(pk[0], (1, vec![1]));
        let mut def = Vec::new();
        for s in ["def", "HandsOn", "course_details", "course_details", "course_id", "course_id"] {
            put_lenenc_str(&mut def, s.as_bytes());
        }
        def.extend_from_slice(&[0x0c, 0x21, 0, 33, 0, 0, 0, 0xfd, 0, 0, 0, 0, 0]);
        assert_eq!(pk[1], (2, def));
        assert_eq!(pk[2], (3, vec![0xfe, 0, 0, 2, 0]));
        assert_eq!(pk[3], (4, b"\x05DK101".to_vec()));
        assert_eq!(pk[4], (5, vec![0xfe, 0, 0, 2, 0]));
    }

    #[test]
    fn format_like_mysql_client() {
        let rows = Ok(QueryResult::Rows {
            columns: vec!["course_name".into(), "course_id".into()],
            rows: vec![vec![Some("Docker".into()), Some("DK101".into())], vec![Some("Kubernetes".into()), None]],
        });
        assert_eq!(
            format_result(&rows),
            "+-------------+-----------+\n\
             | course_name | course_id |\n\
             +-------------+-----------+\n\
             | Docker      | DK101     |\n\
             | Kubernetes  | NULL      |\n\
             +-------------+-----------+\n\
             2 rows in set (0.00 sec)"
        );
        let empty = Ok(QueryResult::Rows { columns: vec!["a".into()], rows: vec![] });
        assert_eq!(format_result(&empty), "Empty set (0.00 sec)");
        let ok1 = Ok(QueryResult::Ok { affected_rows: 1, message: String::new() });
        assert_eq!(format_result(&ok1), "Query OK, 1 row affected (0.00 sec)");
        assert_eq!(format_result_with_warnings(&ok1, 1), "Query OK, 1 row affected, 1 warning (0.00 sec)");
        let ok0 = Ok(QueryResult::Ok { affected_rows: 0, message: String::new() });
        assert_eq!(format_result(&ok0), "Query OK, 0 rows affected (0.00 sec)");
        let ok2 = Ok(QueryResult::Ok { affected_rows: 2, message: "Records: 2  Duplicates: 0  Warnings: 0".into() });
        assert_eq!(format_result(&ok2), "Query OK, 2 rows affected (0.00 sec)\nRecords: 2  Duplicates: 0  Warnings: 0");
        let used = Ok(QueryResult::Ok { affected_rows: 0, message: "Database changed".into() });
        assert_eq!(format_result(&used), "Database changed");
        let e = Err(SqlError::new(1146, "42S02", "Table 'x.y' doesn't exist"));
        assert_eq!(format_result(&e), "ERROR 1146 (42S02): Table 'x.y' doesn't exist");
    }

    fn exec(db: &mut Database, cur: &mut Option<String>, sql: &str) -> Result<QueryResult, SqlError> {
        db.execute(cur, sql)
    }

    fn code(r: Result<QueryResult, SqlError>) -> (u16, String, String) {
        let e = r.expect_err("expected an error");
        (e.code, e.sqlstate, e.message)
    }

    #[test]
    fn sql_errors() {
        let mut db = Database::new();
        let mut cur = None;
        assert_eq!(
            code(exec(&mut db, &mut cur, "SELECT * FROM t")),
            (1046, "3D000".into(), "No database selected".into())
        );
        assert_eq!(code(exec(&mut db, &mut cur, "USE x")), (1049, "42000".into(), "Unknown database 'x'".into()));
        exec(&mut db, &mut cur, "create database `my db`;").unwrap();
        assert_eq!(
            code(exec(&mut db, &mut cur, "CREATE DATABASE `my db`")),
            (1007, "HY000".into(), "Can't create database 'my db'; database exists".into())
        );
        assert!(exec(&mut db, &mut cur, "CREATE DATABASE IF NOT EXISTS `my db`").is_ok());
        exec(&mut db, &mut cur, "use `my db`").unwrap();
        assert_eq!(cur.as_deref(), Some("my db"));
        exec(&mut db, &mut cur, "CREATE TABLE t (a VARCHAR(3) NOT NULL, b INT, PRIMARY KEY (a)) ENGINE=InnoDB")
            .unwrap();
        assert_eq!(
            code(exec(&mut db, &mut cur, "CREATE TABLE t (x INT)")),
            (1050, "42S01".into(), "Table 't' already exists".into())
        );
        assert_eq!(
            code(exec(&mut db, &mut cur, "INSERT INTO t VALUES ('a')")),
            (1136, "21S01".into(), "Column count doesn't match value count at row 1".into())
        );
        assert_eq!(
            code(exec(&mut db, &mut cur, "INSERT INTO t VALUES ('a', 1), ('b')")).2,
            "Column count doesn't match value count at row 2"
        );
        assert_eq!(
            code(exec(&mut db, &mut cur, "INSERT INTO t (a, zz) VALUES ('a', 1)")),
            (1054, "42S22".into(), "Unknown column 'zz' in 'field list'".into())
        );
        assert_eq!(code(exec(&mut db, &mut cur, "SELECT zz FROM t")).2, "Unknown column 'zz' in 'field list'");
        assert_eq!(
            code(exec(&mut db, &mut cur, "SELECT a FROM t WHERE zz = 1")).2,
            "Unknown column 'zz' in 'where clause'"
        );
        let (c, s, m) = code(exec(&mut db, &mut cur, "SELEC * FROM t"));
        assert_eq!((c, s.as_str()), (1064, "42000"));
        assert_eq!(
            m,
            "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version \
             for the right syntax to use near 'SELEC * FROM t' at line 1"
        );
        assert!(code(exec(&mut db, &mut cur, "SELECT * FROM t WHERE")).2.ends_with("near '' at line 1"));
        assert!(code(exec(&mut db, &mut cur, "SELECT 'unterminated")).2.contains("near ''unterminated'"));
        assert_eq!(code(exec(&mut db, &mut cur, "")).0, 1065);
        assert_eq!(code(exec(&mut db, &mut cur, "DROP TABLE nope")).2, "Unknown table 'my db.nope'");
        assert_eq!(code(exec(&mut db, &mut cur, "DROP DATABASE nope")).0, 1008);
        assert_eq!(code(exec(&mut db, &mut cur, "SELECT *")).0, 1096);
    }

    #[test]
    fn sql_features() {
        let mut db = Database::new();
        let mut cur = Some("nope".to_string());
        assert_eq!(code(exec(&mut db, &mut cur, "CREATE TABLE t (a INT)")).0, 1049);
        let mut cur = None;
        exec(&mut db, &mut cur, "CREATE DATABASE d").unwrap();
        exec(&mut db, &mut cur, "USE d").unwrap();
        exec(&mut db, &mut cur, "CREATE TABLE p (name VARCHAR(5), age INT, city VARCHAR(20))").unwrap();
        // Truncation with a warning (sql_mode='' in 5.5), multi-row insert info message.
        let r = db.execute_with_warnings(&mut cur, "INSERT INTO p VALUES ('Alexander', 30, 'Oslo'), ('Bo', -4, NULL);");
        assert_eq!(
            r,
            Ok((QueryResult::Ok { affected_rows: 2, message: "Records: 2  Duplicates: 0  Warnings: 1".into() }, 1))
        );
        exec(&mut db, &mut cur, "INSERT INTO p (city, name) VALUES ('It''s', \"Cy\")").unwrap();
        let rows = |r: Result<QueryResult, SqlError>| match r.unwrap() {
            QueryResult::Rows { rows, .. } => rows,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            rows(exec(&mut db, &mut cur, "SELECT name FROM p")),
            vec![vec![Some("Alexa".into())], vec![Some("Bo".into())], vec![Some("Cy".into())]]
        );
        assert_eq!(
            rows(exec(&mut db, &mut cur, "select `name`, city from p where NAME = 'cy'")),
            vec![vec![Some("Cy".into()), Some("It's".into())]]
        );
        assert_eq!(rows(exec(&mut db, &mut cur, "SELECT name FROM p WHERE age > 0 OR city IS NULL")).len(), 2);
        assert_eq!(
            rows(exec(&mut db, &mut cur, "SELECT name FROM d.p WHERE age IS NOT NULL ORDER BY age DESC LIMIT 1")),
            vec![vec![Some("Alexa".into())]]
        );
        assert_eq!(
            exec(&mut db, &mut cur, "SHOW TABLES"),
            Ok(QueryResult::Rows { columns: vec!["Tables_in_d".into()], rows: vec![vec![Some("p".into())]] })
        );
        assert_eq!(
            rows(exec(&mut db, &mut cur, "SHOW DATABASES")),
            ["information_schema", "d", "mysql", "performance_schema"].map(|d| vec![Some(d.to_string())]).to_vec()
        );
        assert_eq!(
            exec(&mut db, &mut cur, "SELECT 1, VERSION(), 'x' AS y, @@version_comment"),
            Ok(QueryResult::Rows {
                columns: vec!["1".into(), "VERSION()".into(), "y".into(), "@@version_comment".into()],
                rows: vec![vec![
                    Some("1".into()),
                    Some("5.5.62".into()),
                    Some("x".into()),
                    Some(VERSION_COMMENT.into())
                ]],
            })
        );
        assert_eq!(
            exec(&mut db, &mut cur, "UPDATE p SET age = 5 WHERE name = 'Bo'"),
            Ok(QueryResult::Ok { affected_rows: 1, message: "Rows matched: 1  Changed: 1  Warnings: 0".into() })
        );
        assert_eq!(
            exec(&mut db, &mut cur, "DELETE FROM p WHERE age = 5"),
            Ok(QueryResult::Ok { affected_rows: 1, message: String::new() })
        );
        assert_eq!(rows(exec(&mut db, &mut cur, "DESCRIBE p")).len(), 3);
        exec(&mut db, &mut cur, "DROP TABLE p").unwrap();
        assert_eq!(
            exec(&mut db, &mut cur, "DROP DATABASE d"),
            Ok(QueryResult::Ok { affected_rows: 0, message: String::new() })
        );
        assert_eq!(cur, None);
    }

    // -----------------------------------------------------------------------------------------
    // tshark verification
    // -----------------------------------------------------------------------------------------

    use crate::wire::ipv4::checksum;

    struct TcpFlow {
        pcap: Vec<u8>,
        time_us: u64,
        seq: [u32; 2],
        ports: [u16; 2],
        ips: [[u8; 4]; 2],
        ip_id: u16,
    }

    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const PSH: u8 = 0x08;
    const FIN: u8 = 0x01;

    impl TcpFlow {
        fn new(pcap: Vec<u8>) -> Self {
            TcpFlow {
                pcap,
                time_us: 1_700_000_000_000_000,
                seq: [1000, 5000],
                ports: [40000, 3306],
                ips: [[10, 0, 0, 1], [10, 0, 0, 2]],
                ip_id: 1,
            }
        }

        fn global_header() -> Vec<u8> {
            let mut h = Vec::new();
            h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
            h.extend_from_slice(&2u16.to_le_bytes());
            h.extend_from_slice(&4u16.to_le_bytes());
            h.extend_from_slice(&[0; 8]);
            h.extend_from_slice(&65535u32.to_le_bytes());
            h.extend_from_slice(&1u32.to_le_bytes()); // Ethernet
            h
        }

        /// Emits one segment from side `from` (0 = client, 1 = server).
        fn segment(&mut self, from: usize, flags: u8, payload: &[u8]) {
            let to = 1 - from;
            let mut tcp = Vec::new();
            tcp.extend_from_slice(&self.ports[from].to_be_bytes());
            tcp.extend_from_slice(&self.ports[to].to_be_bytes());
            tcp.extend_from_slice(&self.seq[from].to_be_bytes());
            let ack = if flags & ACK != 0 { self.seq[to] } else { 0 };
            tcp.extend_from_slice(&ack.to_be_bytes());
            tcp.extend_from_slice(&[5 << 4, flags]);
            tcp.extend_from_slice(&65535u16.to_be_bytes());
            tcp.extend_from_slice(&[0, 0, 0, 0]);
            tcp.extend_from_slice(payload);
            let mut pseudo = Vec::new();
            pseudo.extend_from_slice(&self.ips[from]);
            pseudo.extend_from_slice(&self.ips[to]);
            pseudo.extend_from_slice(&[0, 6]);
            pseudo.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
            pseudo.extend_from_slice(&tcp);
            let c = checksum(&pseudo);
            tcp[16..18].copy_from_slice(&c.to_be_bytes());
            let mut ip = vec![0x45, 0];
            ip.extend_from_slice(&((20 + tcp.len()) as u16).to_be_bytes());
            ip.extend_from_slice(&self.ip_id.to_be_bytes());
            self.ip_id += 1;
            ip.extend_from_slice(&[0x40, 0, 64, 6, 0, 0]);
            ip.extend_from_slice(&self.ips[from]);
            ip.extend_from_slice(&self.ips[to]);
            let c = checksum(&ip);
            ip[10..12].copy_from_slice(&c.to_be_bytes());
            let mut frame = Vec::new();
            frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 2 - from as u8]);
            frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 1 + from as u8]);
            frame.extend_from_slice(&[0x08, 0x00]);
            frame.extend_from_slice(&ip);
            frame.extend_from_slice(&tcp);
            self.time_us += 1000;
            self.pcap.extend_from_slice(&((self.time_us / 1_000_000) as u32).to_le_bytes());
            self.pcap.extend_from_slice(&((self.time_us % 1_000_000) as u32).to_le_bytes());
            self.pcap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            self.pcap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            self.pcap.extend_from_slice(&frame);
            let advance = payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
            self.seq[from] = self.seq[from].wrapping_add(advance);
        }

        fn session(mut self, s: &Session) -> Vec<u8> {
            self.segment(0, SYN, &[]);
            self.segment(1, SYN | ACK, &[]);
            self.segment(0, ACK, &[]);
            for (from_client, data) in &s.segments {
                let from = if *from_client { 0 } else { 1 };
                for chunk in data.chunks(1460) {
                    self.segment(from, PSH | ACK, chunk);
                }
                self.segment(1 - from, ACK, &[]);
            }
            self.segment(1, FIN | ACK, &[]);
            self.segment(0, FIN | ACK, &[]);
            self.segment(1, ACK, &[]);
            self.pcap
        }
    }

    fn tshark(args: &[&str]) -> String {
        let out = std::process::Command::new("tshark")
            .args(args)
            .output()
            .expect("tshark must be installed (apt-get install -y tshark) to verify the MySQL dissection");
        assert!(out.status.success(), "tshark {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn tshark_dissects_sessions_as_mysql() {
        let dir = std::env::temp_dir().join(format!("netsim-mysql-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut db = Database::new();
        let mut queries = tutorial_queries();
        queries.extend(
            [
                "INSERT INTO course_details VALUES ('Kubernetes','KB102'), ('Ansible', NULL)",
                "SELECT course_id, course_name FROM course_details WHERE course_name = 'Docker'",
                "SELECT * FROM nope",
                "SHOW DATABASES",
                "SHOW TABLES",
                "SELECT @@version_comment LIMIT 1",
                "CREATE DATABASE HandsOn",
                "SELEC oops",
            ]
            .map(String::from),
        );
        let main = run(&mut db, ClientConn::new("root", "edureka", None, queries.clone()), users(), Chunking::Whole);
        assert!(main.client_done && main.results.len() == queries.len());
        let denied = run(&mut db, ClientConn::new("root", "bad", Some("HandsOn"), vec![]), users(), Chunking::Whole);
        assert_eq!(denied.results[0].as_ref().unwrap_err().code, 1045);

        let main_path = dir.join("mysql_session.pcap");
        let denied_path = dir.join("mysql_denied.pcap");
        std::fs::write(&main_path, TcpFlow::new(TcpFlow::global_header()).session(&main)).unwrap();
        std::fs::write(&denied_path, TcpFlow::new(TcpFlow::global_header()).session(&denied)).unwrap();

        for path in [&main_path, &denied_path] {
            let p = path.to_str().unwrap();
            let malformed = tshark(&["-r", p, "-Y", "_ws.malformed || _ws.expert.severity >= error"]);
            assert_eq!(malformed.trim(), "", "malformed/expert packets in {p}");
            let summary = tshark(&["-r", p]);
            eprintln!("--- {p}\n{summary}");
            assert!(summary.contains("MySQL"), "{summary}");
        }
        let fields = tshark(&[
            "-r",
            main_path.to_str().unwrap(),
            "-Y",
            "mysql",
            "-T",
            "fields",
            "-e",
            "mysql.query",
            "-e",
            "mysql.user",
            "-e",
            "mysql.version",
        ]);
        eprintln!("--- fields\n{fields}");
        assert!(fields.contains("5.5.62"));
        assert!(fields.contains("root"));
        for q in &queries {
            assert!(fields.lines().any(|l| l.trim() == q), "query {q:?} missing from tshark output:\n{fields}");
        }
        let errs = tshark(&[
            "-r",
            main_path.to_str().unwrap(),
            "-Y",
            "mysql.error_code",
            "-T",
            "fields",
            "-e",
            "mysql.error_code",
            "-e",
            "mysql.sqlstate",
            "-e",
            "mysql.error.message",
        ]);
        eprintln!("--- errors\n{errs}");
        assert!(errs.contains("1146\t42S02\tTable 'HandsOn.nope' doesn't exist"), "{errs}");
        let denied_errs = tshark(&[
            "-r",
            denied_path.to_str().unwrap(),
            "-Y",
            "mysql.error_code",
            "-T",
            "fields",
            "-e",
            "mysql.error_code",
            "-e",
            "mysql.error.message",
        ]);
        eprintln!("--- denied\n{denied_errs}");
        assert!(denied_errs.contains("1045\tAccess denied for user 'root'@'10.0.0.1' (using password: YES)"));
        let values = tshark(&[
            "-r",
            main_path.to_str().unwrap(),
            "-Y",
            "mysql.row.text",
            "-T",
            "fields",
            "-e",
            "mysql.row.text",
        ]);
        eprintln!("--- row values\n{values}");
        assert!(values.contains("Docker") && values.contains("DK101"), "{values}");
        // keep for inspection when NETSIM_KEEP_PCAP is set
        if std::env::var_os("NETSIM_KEEP_PCAP").is_none() {
            std::fs::remove_dir_all(&dir).ok();
        }
    }
}
