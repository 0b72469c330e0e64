//! `docker inspect --format`: Go's `text/template`, with docker/cli's functions, run over one
//! object's inspect JSON.
//!
//! The subset is what people type after `-f`: literal text, `{{.}}`, field chains (`.A.B`,
//! `$v.A`, `(pipeline).A`), variables (`$`, `$x := …`, `$x = …`, `range $k, $v := …`), `if` /
//! `else if` / `with` / `else with` / `range` (with `else`, `break`, `continue`, and over an
//! integer), pipelines, parentheses, comments and the `{{-`/`-}}` trim markers. Functions:
//! docker/cli's `json`, `join`, `split`, `lower`, `upper`, `title`, `pad`, `truncate`, and Go's
//! `index`, `len`, `print`, `printf`, `println`, `not`, `and`, `or`, `eq`, `ne`, `lt`, `le`, `gt`,
//! `ge`. Left out, each failing with a `netsim:` message: `{{define}}`, `{{template}}` and
//! `{{block}}` and complex constants (at parse time), and the `slice`, `html`, `js`, `urlquery`
//! and `call` functions (when run; they parse, as in Go). `printf` knows the verbs `v s d q t x X
//! f T %`, widths, `-`/`0`/`+` and precision, and Go's `%!…` forms, not `%[n]` indexes.
//!
//! Hand-written: the package lists here hold no Rust crate for Go templates, and docker's exact
//! output needs control over every message, so this follows Go's sources instead of wrapping a
//! general port (crates.io has `gtmpl`). The lexer and parser follow Go's `text/template/parse`
//! (lex.go, parse.go) token for token, and execution follows `text/template/exec.go` and
//! `funcs.go`, so that error messages, their `line:col` and their `<context>` come out as Go
//! prints them. Sources: the Go `text/template` documentation and sources (go1.24, which the
//! docker 28 CLI is built with), and docker/cli `templates/templates.go` (the function list, with
//! `join` as of v29.2, which joins any slice or map; older CLIs accept only string lists) and
//! `cli/command/inspect/inspector.go`.
//!
//! How docker/cli runs the template, and so what this module reproduces: it first executes the
//! template on the typed Go struct of the object; only when that fails does it decode the raw
//! JSON into `interface{}` (with `UseNumber`) and execute again with `missingkey=error`. Errors
//! therefore always come from the second run, worded for `map[string]interface {}`, `[]interface
//! {}` and `json.Number`, and this module words them that way. Successful output is, wherever the
//! JSON alone can tell, what the typed run prints: integers print as integers, `0` is false,
//! `printf "%d"` formats a number, `eq .Pid 0` compares numbers. What only the Go types know, and
//! so is out of reach here: a struct prints as `{v1 v2 …}` where this prints `map[k:v …]`; an
//! `omitempty` field absent from the JSON prints its zero value (e.g. an IPAM config's `Gateway`)
//! where this reports the missing key; a missing key of a Go map field (`.Labels.x`) prints `<no
//! value>`; a JSON `null` prints as its Go type's nil (`[]`, `map[]`, `<nil>`) where this prints
//! `<no value>`; `time.Time` fields print as `2026-12-04 04:50:22.421581299 +0000 UTC` and
//! `time.Duration` fields as `2s` (`{{json …}}` prints both as the JSON does); number
//! types are named `int` (Go may say `int64`) in `%T` and `%!s(…)`; and `{{json .}}` shows fields
//! the CLI's types have but the daemon did not send. `json` writes objects in the order the value
//! holds (Docker's field order when the value was built in it), as Go does for structs, and does
//! not sort them as it would a Go map.

use std::fmt;
use std::fmt::Write as _;

use serde_json::Value;

/// What docker prints on stderr when a `--format` template fails, `template parsing error: `
/// prefix included: docker/cli puts it in front of parse and execution errors alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

impl TemplateError {
    /// The exit status docker gives this error: 64 when the template did not parse (docker/cli
    /// returns `StatusError{StatusCode: 64}` before inspecting anything), 1 when it failed on an
    /// object. An execution error's location has a column (`:1:2: executing`); a parse error's
    /// has none, which is how the two are told apart.
    pub fn exit_status(&self) -> i32 {
        let loc = self.0.strip_prefix(PREFIX).and_then(|r| r.strip_prefix("template: :")).unwrap_or("");
        let mut parts = loc.splitn(3, ':');
        let (line, col, rest) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if digits(line) && digits(col) && rest.starts_with(" executing") { 1 } else { 64 }
    }
}

const PREFIX: &str = "template parsing error: ";

/// Renders `format` against `v` as docker/cli does for `docker inspect --format` (Go
/// text/template with docker's funcs), returning the text WITHOUT the trailing newline docker
/// adds per object.
pub fn render(format: &str, v: &Value) -> Result<String, TemplateError> {
    let root = Parser::new(format).parse().map_err(|m| TemplateError(format!("{PREFIX}template: :{m}")))?;
    let dot = unwrap(Val::Iface(v));
    let mut ex = Exec { src: format, at: At::None, vars: vec![("$".to_string(), dot.clone())] };
    let mut out = String::new();
    ex.walk(&dot, &root, &mut out).map_err(|m| TemplateError(format!("{PREFIX}{m}")))?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Lexer (Go's text/template/parse/lex.go).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum T {
    Error,
    Bool,
    Char,
    CharConst,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Ident,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    Str,
    Text,
    Variable,
    // Keywords: Go prints these as `<val>` in "unexpected" messages.
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl T {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            T::Block
                | T::Break
                | T::Continue
                | T::Dot
                | T::Define
                | T::Else
                | T::End
                | T::If
                | T::Nil
                | T::Range
                | T::Template
                | T::With
        )
    }
}

#[derive(Clone, Debug)]
struct Item {
    t: T,
    pos: usize,
    val: String,
    line: usize,
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.t {
            T::Eof => f.write_str("EOF"),
            T::Error => f.write_str(&self.val),
            t if t.is_keyword() => write!(f, "<{}>", self.val),
            _ if self.val.chars().count() > 10 => {
                let head: String = self.val.chars().take(10).collect();
                write!(f, "{}...", go_quote(&head))
            }
            _ => f.write_str(&go_quote(&self.val)),
        }
    }
}

#[derive(Clone, Copy)]
enum St {
    Text,
    LeftDelim,
    Comment,
    RightDelim,
    InsideAction,
    Space,
    Quote,
    RawQuote,
    Variable,
    Char,
    Field,
    Number,
    Identifier,
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

fn has_left_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

/// Go's `%#U`.
fn sharp_u(c: char) -> String {
    if is_printable(c) { format!("U+{:04X} '{c}'", c as u32) } else { format!("U+{:04X}", c as u32) }
}

fn is_printable(c: char) -> bool {
    !(c.is_control() || (c.is_whitespace() && c != ' '))
}

struct Lexer<'s> {
    input: &'s str,
    pos: usize,
    start: usize,
    paren_depth: i32,
    items: Vec<Item>,
}

impl<'s> Lexer<'s> {
    fn lex(input: &'s str) -> Vec<Item> {
        let mut l = Lexer { input, pos: 0, start: 0, paren_depth: 0, items: Vec::new() };
        let mut st = Some(St::Text);
        while let Some(s) = st {
            st = match s {
                St::Text => l.text(),
                St::LeftDelim => l.left_delim(),
                St::Comment => l.comment(),
                St::RightDelim => l.right_delim(),
                St::InsideAction => l.inside_action(),
                St::Space => l.space(),
                St::Quote => l.quote(),
                St::RawQuote => l.raw_quote(),
                St::Variable => l.field_or_variable(T::Variable),
                St::Char => l.char_const(),
                St::Field => l.field_or_variable(T::Field),
                St::Number => l.number(),
                St::Identifier => l.identifier(),
            };
        }
        l.items
    }

    fn line_at(&self, pos: usize) -> usize {
        1 + self.input[..pos].matches('\n').count()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.input[self.pos..].chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn peek(&self) -> Option<char> {
        self.input[self.pos..].chars().next()
    }

    fn backup(&mut self, c: Option<char>) {
        if let Some(c) = c {
            self.pos -= c.len_utf8();
        }
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn emit(&mut self, t: T) {
        let val = self.input[self.start..self.pos].to_string();
        self.items.push(Item { t, pos: self.start, val, line: self.line_at(self.start) });
        self.start = self.pos;
    }

    fn errorf(&mut self, msg: String) -> Option<St> {
        self.items.push(Item { t: T::Error, pos: self.start, val: msg, line: self.line_at(self.start) });
        let end = self.input.len();
        self.items.push(Item { t: T::Eof, pos: end, val: String::new(), line: self.line_at(end) });
        None
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = &self.input[self.pos..];
        if has_right_trim(rest) && rest[2..].starts_with(RIGHT) {
            return (true, true);
        }
        (rest.starts_with(RIGHT), false)
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.input[self.pos..].starts_with(RIGHT),
        }
    }

    fn text(&mut self) -> Option<St> {
        if let Some(x) = self.input[self.pos..].find(LEFT) {
            if x > 0 {
                self.pos += x;
                let trim = if has_left_trim(&self.input[self.pos + LEFT.len()..]) {
                    let s = &self.input[self.start..self.pos];
                    s.len() - s.trim_end_matches(is_space).len()
                } else {
                    0
                };
                self.pos -= trim;
                if self.pos > self.start {
                    self.emit(T::Text);
                }
                self.pos += trim;
                self.start = self.pos;
            }
            return Some(St::LeftDelim);
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.emit(T::Text);
        }
        self.emit(T::Eof);
        None
    }

    fn left_delim(&mut self) -> Option<St> {
        self.pos += LEFT.len();
        let after = if has_left_trim(&self.input[self.pos..]) { 2 } else { 0 };
        if self.input[self.pos + after..].starts_with("/*") {
            self.pos += after;
            self.start = self.pos;
            return Some(St::Comment);
        }
        self.emit(T::LeftDelim);
        self.pos += after;
        self.start = self.pos;
        self.paren_depth = 0;
        Some(St::InsideAction)
    }

    fn comment(&mut self) -> Option<St> {
        self.pos += 2;
        let Some(x) = self.input[self.pos..].find("*/") else {
            return self.errorf("unclosed comment".into());
        };
        self.pos += x + 2;
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.errorf("comment ends before closing delimiter".into());
        }
        if trim {
            self.pos += 2;
        }
        self.pos += RIGHT.len();
        if trim {
            let rest = &self.input[self.pos..];
            self.pos += rest.len() - rest.trim_start_matches(is_space).len();
        }
        self.start = self.pos;
        Some(St::Text)
    }

    fn right_delim(&mut self) -> Option<St> {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += 2;
            self.start = self.pos;
        }
        self.pos += RIGHT.len();
        self.emit(T::RightDelim);
        if trim {
            let rest = &self.input[self.pos..];
            self.pos += rest.len() - rest.trim_start_matches(is_space).len();
            self.start = self.pos;
        }
        Some(St::Text)
    }

    fn inside_action(&mut self) -> Option<St> {
        if self.at_right_delim().0 {
            if self.paren_depth == 0 {
                return Some(St::RightDelim);
            }
            return self.errorf("unclosed left paren".into());
        }
        let Some(c) = self.next() else {
            return self.errorf("unclosed action".into());
        };
        match c {
            c if is_space(c) => {
                self.backup(Some(c));
                return Some(St::Space);
            }
            '=' => self.emit(T::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return self.errorf("expected :=".into());
                }
                self.emit(T::Declare);
            }
            '|' => self.emit(T::Pipe),
            '"' => return Some(St::Quote),
            '`' => return Some(St::RawQuote),
            '$' => return Some(St::Variable),
            '\'' => return Some(St::Char),
            '.' if !matches!(self.peek(), Some('0'..='9')) => return Some(St::Field),
            '.' | '+' | '-' | '0'..='9' => {
                self.backup(Some(c));
                return Some(St::Number);
            }
            c if is_alnum(c) => {
                self.backup(Some(c));
                return Some(St::Identifier);
            }
            '(' => {
                self.paren_depth += 1;
                self.emit(T::LeftParen);
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.errorf("unexpected right paren".into());
                }
                self.emit(T::RightParen);
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(T::Char),
            c => return self.errorf(format!("unrecognized character in action: {}", sharp_u(c))),
        }
        Some(St::InsideAction)
    }

    fn space(&mut self) -> Option<St> {
        let mut n = 0;
        while let Some(c) = self.peek().filter(|&c| is_space(c)) {
            self.pos += c.len_utf8();
            n += 1;
        }
        // " -}}" is a trim-marked delimiter, not a space followed by a minus.
        let last = self.pos - 1;
        if has_right_trim(&self.input[last..]) && self.input[last + 2..].starts_with(RIGHT) {
            self.pos = last;
            if n == 1 {
                return Some(St::RightDelim);
            }
        }
        self.emit(T::Space);
        Some(St::InsideAction)
    }

    fn quote(&mut self) -> Option<St> {
        self.escaped('"', "unterminated quoted string", T::Str)
    }

    /// A string or character constant after its opening `close`: backslash escapes, no newline
    /// (Go's lexQuote and lexChar differ only in these three things).
    fn escaped(&mut self, close: char, unterminated: &str, token: T) -> Option<St> {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some(c) if c != '\n' => {}
                    _ => return self.errorf(unterminated.into()),
                },
                None | Some('\n') => return self.errorf(unterminated.into()),
                Some(c) if c == close => break,
                _ => {}
            }
        }
        self.emit(token);
        Some(St::InsideAction)
    }

    fn raw_quote(&mut self) -> Option<St> {
        loop {
            match self.next() {
                None => return self.errorf("unterminated raw quoted string".into()),
                Some('`') => break,
                _ => {}
            }
        }
        self.emit(T::RawString);
        Some(St::InsideAction)
    }

    fn char_const(&mut self) -> Option<St> {
        self.escaped('\'', "unterminated character constant", T::CharConst)
    }

    /// The `.` or `$` has been read.
    fn field_or_variable(&mut self, t: T) -> Option<St> {
        if self.at_terminator() {
            self.emit(if t == T::Variable { T::Variable } else { T::Dot });
            return Some(St::InsideAction);
        }
        let mut c;
        loop {
            c = self.next();
            if !c.is_some_and(is_alnum) {
                self.backup(c);
                break;
            }
        }
        if !self.at_terminator() {
            return self.errorf(format!("bad character {}", sharp_u(c.unwrap_or('\u{FFFD}'))));
        }
        self.emit(t);
        Some(St::InsideAction)
    }

    fn identifier(&mut self) -> Option<St> {
        loop {
            let c = self.next();
            if c.is_some_and(is_alnum) {
                continue;
            }
            self.backup(c);
            if !self.at_terminator() {
                return self.errorf(format!("bad character {}", sharp_u(c.unwrap_or('\u{FFFD}'))));
            }
            let word = &self.input[self.start..self.pos];
            let t = match word {
                "block" => T::Block,
                "break" => T::Break,
                "continue" => T::Continue,
                "define" => T::Define,
                "else" => T::Else,
                "end" => T::End,
                "if" => T::If,
                "range" => T::Range,
                "nil" => T::Nil,
                "template" => T::Template,
                "with" => T::With,
                "true" | "false" => T::Bool,
                _ => T::Ident,
            };
            self.emit(t);
            return Some(St::InsideAction);
        }
    }

    fn number(&mut self) -> Option<St> {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_string();
            return self.errorf(format!("bad number syntax: {}", go_quote(&text)));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let text = self.input[self.start..self.pos].to_string();
                return self.errorf(format!("bad number syntax: {}", go_quote(&text)));
            }
            self.emit(T::Complex);
        } else {
            self.emit(T::Number);
        }
        Some(St::InsideAction)
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alnum) {
            self.next();
            return false;
        }
        true
    }
}

// ---------------------------------------------------------------------------------------------
// Parse tree (Go's text/template/parse/node.go); `Display` is Go's `String()`, which error
// messages quote as `<context>`.

#[derive(Debug)]
enum Node {
    Text(String),
    Action(Action),
    If(Branch),
    Range(Branch),
    With(Branch),
    Break,
    Continue,
}

#[derive(Debug)]
struct Action {
    pos: usize,
    pipe: Pipe,
}

#[derive(Debug)]
struct Branch {
    pos: usize,
    pipe: Pipe,
    list: Vec<Node>,
    else_list: Option<Vec<Node>>,
}

#[derive(Debug)]
struct Pipe {
    pos: usize,
    decl: Vec<String>,
    is_assign: bool,
    cmds: Vec<Cmd>,
}

#[derive(Debug)]
struct Cmd {
    pos: usize,
    args: Vec<Arg>,
}

#[derive(Debug)]
struct Num {
    text: String,
    int: Option<i64>,
    is_uint: bool,
    float: Option<f64>,
}

#[derive(Debug)]
enum Arg {
    Field {
        pos: usize,
        idents: Vec<String>,
    },
    /// `idents[0]` is the variable's name, `$x`; the rest are fields.
    Var {
        pos: usize,
        idents: Vec<String>,
    },
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    Dot(usize),
    Nil(usize),
    Bool(usize, bool),
    Num(usize, Num),
    Str {
        pos: usize,
        quoted: String,
        text: String,
    },
    Ident {
        pos: usize,
        name: String,
    },
    Pipe(Box<Pipe>),
}

impl Arg {
    fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Var { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Dot(pos)
            | Arg::Nil(pos)
            | Arg::Bool(pos, _)
            | Arg::Num(pos, _)
            | Arg::Str { pos, .. }
            | Arg::Ident { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Var { idents, .. } => f.write_str(&idents.join(".")),
            Arg::Chain { node, fields, .. } => {
                if let Arg::Pipe(p) = node.as_ref() {
                    write!(f, "({p})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for field in fields {
                    write!(f, ".{field}")?;
                }
                Ok(())
            }
            Arg::Dot(_) => f.write_str("."),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Bool(_, b) => write!(f, "{b}"),
            Arg::Num(_, n) => f.write_str(&n.text),
            Arg::Str { quoted, .. } => f.write_str(quoted),
            Arg::Ident { name, .. } => f.write_str(name),
            Arg::Pipe(p) => write!(f, "{p}"),
        }
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if let Arg::Pipe(p) = a {
                write!(f, "({p})")?;
            } else {
                write!(f, "{a}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Parser (Go's text/template/parse/parse.go). Errors are `line: message`.

/// docker/cli's `templates.basicFunctions`.
const DOCKER_FUNCS: &[&str] = &["json", "split", "join", "title", "lower", "upper", "pad", "truncate"];

/// text/template's builtins.
const GO_FUNCS: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery", "eq",
    "ge", "gt", "le", "lt", "ne",
];

enum Parsed {
    Node(Node),
    End,
    Else,
}

struct Parser {
    items: Vec<Item>,
    i: usize,
    /// The furthest item read: Go reports a parse error at the line of its newest token.
    hi: usize,
    vars: Vec<String>,
    action_line: usize,
    range_depth: usize,
}

type PResult<X> = Result<X, String>;

impl Parser {
    fn new(src: &str) -> Parser {
        Parser { items: Lexer::lex(src), i: 0, hi: 0, vars: vec!["$".into()], action_line: 0, range_depth: 0 }
    }

    /// Reading past the end keeps returning the final EOF, as Go's lexer does.
    fn item(&self, i: usize) -> Item {
        self.items[i.min(self.items.len() - 1)].clone()
    }

    fn next(&mut self) -> Item {
        let it = self.item(self.i);
        self.hi = self.hi.max(self.i.min(self.items.len() - 1));
        self.i += 1;
        it
    }

    fn peek(&mut self) -> Item {
        self.hi = self.hi.max(self.i.min(self.items.len() - 1));
        self.item(self.i)
    }

    fn backup(&mut self) {
        self.i -= 1;
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let it = self.next();
            if it.t != T::Space {
                return it;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let it = self.next_non_space();
        self.backup();
        it
    }

    fn errorf(&self, msg: impl fmt::Display) -> String {
        format!("{}: {msg}", self.items[self.hi].line)
    }

    fn unexpected(&self, it: &Item, context: &str) -> String {
        if it.t == T::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != it.line {
                extra = format!(" in action started at :{}", self.action_line);
                if it.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format!("{it}{extra}"));
        }
        self.errorf(format!("unexpected {it} in {context}"))
    }

    fn expect(&mut self, t: T, context: &str) -> PResult<Item> {
        let it = self.next_non_space();
        if it.t != t {
            return Err(self.unexpected(&it, context));
        }
        Ok(it)
    }

    fn parse(mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().t != T::Eof {
            if self.peek().t == T::LeftDelim {
                let save = self.i;
                self.next();
                if self.next_non_space().t == T::Define {
                    return Err(self.errorf("netsim: {{define}} is not supported"));
                }
                self.i = save;
            }
            match self.text_or_action()? {
                Parsed::End => return Err(self.errorf("unexpected {{end}}")),
                Parsed::Else => return Err(self.errorf("unexpected {{else}}")),
                Parsed::Node(n) => root.push(n),
            }
        }
        Ok(root)
    }

    fn item_list(&mut self) -> PResult<(Vec<Node>, Parsed)> {
        let mut list = Vec::new();
        while self.peek_non_space().t != T::Eof {
            match self.text_or_action()? {
                Parsed::Node(n) => list.push(n),
                end => return Ok((list, end)),
            }
        }
        Err(self.errorf("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let it = self.next_non_space();
        match it.t {
            T::Text => Ok(Parsed::Node(Node::Text(it.val))),
            T::LeftDelim => {
                self.action_line = it.line;
                let r = self.action();
                self.action_line = 0;
                r
            }
            _ => Err(self.unexpected(&it, "input")),
        }
    }

    fn action(&mut self) -> PResult<Parsed> {
        let it = self.next_non_space();
        match it.t {
            T::Block => return Err(self.errorf("netsim: {{block}} is not supported")),
            T::Template => return Err(self.errorf("netsim: {{template}} is not supported")),
            T::Break | T::Continue => {
                let name = if it.t == T::Break { "{{break}}" } else { "{{continue}}" };
                let next = self.next_non_space();
                if next.t != T::RightDelim {
                    return Err(self.unexpected(&next, name));
                }
                if self.range_depth == 0 {
                    return Err(self.errorf(format!("{name} outside {{{{range}}}}")));
                }
                return Ok(Parsed::Node(if it.t == T::Break { Node::Break } else { Node::Continue }));
            }
            T::Else => {
                let peek = self.peek_non_space();
                if peek.t != T::If && peek.t != T::With {
                    self.expect(T::RightDelim, "else")?;
                }
                return Ok(Parsed::Else);
            }
            T::End => {
                self.expect(T::RightDelim, "end")?;
                return Ok(Parsed::End);
            }
            T::If => return Ok(Parsed::Node(Node::If(self.control("if")?))),
            T::Range => return Ok(Parsed::Node(Node::Range(self.control("range")?))),
            T::With => return Ok(Parsed::Node(Node::With(self.control("with")?))),
            _ => {}
        }
        self.backup();
        let pos = self.peek().pos;
        let pipe = self.pipeline("command", T::RightDelim)?;
        Ok(Parsed::Node(Node::Action(Action { pos, pipe })))
    }

    fn control(&mut self, context: &str) -> PResult<Branch> {
        let nvars = self.vars.len();
        let pipe = self.pipeline(context, T::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut else_list = None;
        if let Parsed::Else = next {
            // `{{else if …}}` / `{{else with …}}` nest a control that shares the outer {{end}}.
            let chained = match (context, self.peek().t) {
                ("if", T::If) => Some(Node::If as fn(Branch) -> Node),
                ("with", T::With) => Some(Node::With as fn(Branch) -> Node),
                _ => None,
            };
            if let Some(make) = chained {
                self.next();
                else_list = Some(vec![make(self.control(context)?)]);
            } else {
                let (list, next) = self.item_list()?;
                match next {
                    Parsed::End => {}
                    _ => return Err(self.errorf("expected end; found {{else}}")),
                }
                else_list = Some(list);
            }
        }
        self.vars.truncate(nvars);
        Ok(Branch { pos: pipe.pos, pipe, list, else_list })
    }

    fn pipeline(&mut self, context: &str, end: T) -> PResult<Pipe> {
        let pos = self.peek_non_space().pos;
        let mut pipe = Pipe { pos, decl: Vec::new(), is_assign: false, cmds: Vec::new() };
        loop {
            let v = self.peek_non_space();
            if v.t != T::Variable {
                break;
            }
            let at_v = self.i;
            self.next();
            let next = self.peek_non_space();
            if next.t == T::Assign || next.t == T::Declare {
                pipe.is_assign = next.t == T::Assign;
                self.next_non_space();
                pipe.decl.push(v.val.clone());
                self.vars.push(v.val);
                break;
            } else if next.t == T::Char && next.val == "," {
                self.next_non_space();
                pipe.decl.push(v.val.clone());
                self.vars.push(v.val);
                if context == "range" && pipe.decl.len() < 2 {
                    match self.peek_non_space().t {
                        T::Variable | T::RightDelim | T::RightParen => continue,
                        _ => return Err(self.errorf("range can only initialize variables")),
                    }
                }
                return Err(self.errorf(format!("too many declarations in {context}")));
            } else {
                // Not a declaration: the variable starts the first command.
                self.i = at_v;
                break;
            }
        }
        loop {
            let it = self.next_non_space();
            if it.t == end {
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match it.t {
                T::Bool
                | T::CharConst
                | T::Complex
                | T::Dot
                | T::Field
                | T::Ident
                | T::Number
                | T::Nil
                | T::RawString
                | T::Str
                | T::Variable
                | T::LeftParen => {
                    self.backup();
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => return Err(self.unexpected(&it, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(c.args[0], Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Num(..) | Arg::Str { .. }) {
                return Err(self.errorf(format!("non executable command in pipeline stage {}", i + 1)));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Cmd> {
        let pos = self.peek_non_space().pos;
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                args.push(op);
            }
            let it = self.next();
            match it.t {
                T::Space => continue,
                T::RightDelim | T::RightParen => self.backup(),
                T::Pipe => {}
                _ => return Err(self.unexpected(&it, "operand")),
            }
            break;
        }
        if args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(Cmd { pos, args })
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else { return Ok(None) };
        if self.peek().t != T::Field {
            return Ok(Some(node));
        }
        // Go positions a chain at its first trailing field, so `.A.B` is "at" `.B`.
        let pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().t == T::Field {
            fields.push(self.next().val[1..].to_string());
        }
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                idents.extend(fields);
                Arg::Field { pos, idents }
            }
            Arg::Var { mut idents, .. } => {
                idents.extend(fields);
                Arg::Var { pos, idents }
            }
            Arg::Bool(..) | Arg::Str { .. } | Arg::Num(..) | Arg::Nil(_) | Arg::Dot(_) => {
                return Err(self.errorf(format!("unexpected . after term {}", go_quote(&node.to_string()))));
            }
            other => Arg::Chain { pos, node: Box::new(other), fields },
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let it = self.next_non_space();
        Ok(Some(match it.t {
            T::Ident => {
                if !DOCKER_FUNCS.contains(&it.val.as_str()) && !GO_FUNCS.contains(&it.val.as_str()) {
                    return Err(self.errorf(format!("function {} not defined", go_quote(&it.val))));
                }
                Arg::Ident { pos: it.pos, name: it.val }
            }
            T::Dot => Arg::Dot(it.pos),
            T::Nil => Arg::Nil(it.pos),
            T::Variable => {
                if !self.vars.contains(&it.val) {
                    return Err(self.errorf(format!("undefined variable {}", go_quote(&it.val))));
                }
                Arg::Var { pos: it.pos, idents: vec![it.val] }
            }
            T::Field => Arg::Field { pos: it.pos, idents: vec![it.val[1..].to_string()] },
            T::Bool => Arg::Bool(it.pos, it.val == "true"),
            T::CharConst | T::Complex | T::Number => {
                let n = new_number(&it).map_err(|e| self.errorf(e))?;
                Arg::Num(it.pos, n)
            }
            T::LeftParen => Arg::Pipe(Box::new(self.pipeline("parenthesized pipeline", T::RightParen)?)),
            T::Str | T::RawString => {
                let text = go_unquote(&it.val).map_err(|e| self.errorf(e))?;
                Arg::Str { pos: it.pos, quoted: it.val, text }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

fn new_number(it: &Item) -> Result<Num, String> {
    let text = it.val.clone();
    if it.t == T::CharConst {
        let inner = &text[1..text.len() - 1];
        let s = go_unquote(&format!("\"{}\"", inner.replace("\\'", "'"))).map_err(|_| "invalid syntax".to_string())?;
        let mut cs = s.chars();
        let (Some(c), None) = (cs.next(), cs.next()) else {
            return Err(format!("malformed character constant: {text}"));
        };
        let v = c as i64;
        return Ok(Num { text, int: Some(v), is_uint: true, float: Some(v as f64) });
    }
    if it.t == T::Complex || text.ends_with('i') {
        return Err("netsim: complex constants are not supported".into());
    }
    let uint = parse_go_int(&text).filter(|v| *v >= 0);
    let int = parse_go_int(&text).and_then(|v| i64::try_from(v).ok());
    let mut n = Num { text: text.clone(), int, is_uint: uint.is_some(), float: None };
    if let Some(i) = n.int {
        n.float = Some(i as f64);
    } else if let Some(u) = uint {
        n.float = Some(u as f64);
    } else if let Ok(f) = text.replace('_', "").parse::<f64>() {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", go_quote(&text)));
        }
        n.float = Some(f);
        if f.fract() == 0.0 && f.abs() < 9.2e18 {
            n.int = Some(f as i64);
        }
        if f.fract() == 0.0 && (0.0..1.8e19).contains(&f) {
            n.is_uint = true;
        }
    }
    if n.int.is_none() && !n.is_uint && n.float.is_none() {
        return Err(format!("illegal number syntax: {}", go_quote(&text)));
    }
    Ok(n)
}

/// strconv.ParseInt(text, 0, 64), widened so that uint64-sized values are seen too.
fn parse_go_int(text: &str) -> Option<i128> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string())
    } else {
        if lower.contains('_') {
            return None;
        }
        (10, lower.clone())
    };
    let digits = digits.trim_start_matches('_').replace('_', "");
    if digits.is_empty() {
        return None;
    }
    let v = i128::from_str_radix(&digits, radix).ok()?;
    let v = if neg { -v } else { v };
    (v >= i64::MIN as i128 && v <= u64::MAX as i128).then_some(v)
}

/// strconv.Unquote for "…" and `…` literals.
fn go_unquote(q: &str) -> Result<String, String> {
    let bad = || "invalid syntax".to_string();
    if let Some(raw) = q.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        return Ok(raw.replace('\r', ""));
    }
    let body = q.strip_prefix('"').and_then(|r| r.strip_suffix('"')).ok_or_else(bad)?;
    let mut out = String::new();
    let mut cs = body.chars();
    while let Some(c) = cs.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = cs.next().ok_or_else(bad)?;
        let hex = |cs: &mut std::str::Chars<'_>, n: usize| -> Result<u32, String> {
            let s: String = cs.take(n).collect();
            if s.len() != n {
                return Err(bad());
            }
            u32::from_str_radix(&s, 16).map_err(|_| bad())
        };
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            'x' => out.push(char::from_u32(hex(&mut cs, 2)?).ok_or_else(bad)?),
            'u' => out.push(char::from_u32(hex(&mut cs, 4)?).ok_or_else(bad)?),
            'U' => out.push(char::from_u32(hex(&mut cs, 8)?).ok_or_else(bad)?),
            '0'..='7' => {
                let rest: String = cs.by_ref().take(2).collect();
                let v = u32::from_str_radix(&format!("{e}{rest}"), 8).map_err(|_| bad())?;
                if rest.len() != 2 || v > 255 {
                    return Err(bad());
                }
                out.push(char::from_u32(v).ok_or_else(bad)?);
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

/// strconv.Quote, which Go's `%q` uses (the CLI's messages quote with it too).
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if !is_printable(c) && (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if !is_printable(c) => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------------
// Execution (Go's text/template/exec.go and funcs.go).

static NULL: Value = Value::Null;

/// A `reflect.Value` as text/template handles it, for the values one inspect JSON can produce.
#[derive(Clone, Debug)]
enum Val<'a> {
    /// The zero `reflect.Value`: prints `<no value>`.
    Invalid,
    /// An `interface{}` slot of the decoded JSON (map value, slice element); `Null` is a nil
    /// interface. Field errors name its type `interface {}`.
    Iface(&'a Value),
    /// The concrete value inside such a slot, never `Null`.
    Json(&'a Value),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// `[]string`, from `split`.
    Strs(Vec<String>),
}

/// text/template's `indirectInterface`: the concrete value of an interface, or Invalid for nil.
fn unwrap(v: Val<'_>) -> Val<'_> {
    match v {
        Val::Iface(Value::Null) | Val::Json(Value::Null) => Val::Invalid,
        Val::Iface(j) => Val::Json(j),
        v => v,
    }
}

/// Go's type name of the concrete value, as `%T` and "wrong type" errors print it for the
/// decoded JSON (`json.Number` for numbers: errors come from docker's raw-JSON retry).
fn type_name(v: &Val<'_>) -> &'static str {
    match v {
        Val::Invalid => "<nil>",
        Val::Iface(Value::Null) => "interface {}",
        Val::Iface(j) | Val::Json(j) => match j {
            Value::Null => "interface {}",
            Value::Bool(_) => "bool",
            Value::Number(_) => "json.Number",
            Value::String(_) => "string",
            Value::Array(_) => "[]interface {}",
            Value::Object(_) => "map[string]interface {}",
        },
        Val::Str(_) => "string",
        Val::Int(_) => "int",
        Val::Float(_) => "float64",
        Val::Bool(_) => "bool",
        Val::Strs(_) => "[]string",
    }
}

/// Go's truth: not the zero value of its type (numbers by value, as the typed first run sees
/// them).
fn truth(v: &Val<'_>) -> bool {
    match unwrap(v.clone()) {
        Val::Invalid => false,
        Val::Json(j) | Val::Iface(j) => match j {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(m) => !m.is_empty(),
        },
        Val::Str(s) => !s.is_empty(),
        Val::Int(i) => i != 0,
        Val::Float(f) => f != 0.0,
        Val::Bool(b) => b,
        Val::Strs(s) => !s.is_empty(),
    }
}

/// Parameter types of the template functions, as text/template converts arguments to them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ty {
    /// `interface{}`
    Any,
    /// `reflect.Value`: the builtins that look at the value untouched.
    Rv,
    Str,
    Int,
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ty::Any => "interface {}",
            Ty::Rv => "reflect.Value",
            Ty::Str => "string",
            Ty::Int => "int",
        })
    }
}

/// (fixed parameters, variadic element type)
fn signature(name: &str) -> (&'static [Ty], Option<Ty>) {
    use Ty::*;
    match name {
        "json" => (&[Any], None),
        "split" => (&[Str, Str], None),
        "join" => (&[Any, Str], None),
        "title" | "lower" | "upper" => (&[Str], None),
        "pad" => (&[Str, Int, Int], None),
        "truncate" => (&[Str, Int], None),
        "and" | "or" | "index" | "slice" | "eq" | "call" => (&[Rv], Some(Rv)),
        "not" | "len" => (&[Rv], None),
        "ne" | "lt" | "le" | "gt" | "ge" => (&[Rv, Rv], None),
        "printf" => (&[Str], Some(Any)),
        _ => (&[], Some(Any)), // print, println, html, js, urlquery
    }
}

/// The node execution is "at", for the `:line:col` and `<context>` of an error.
#[derive(Clone, Copy)]
enum At<'t> {
    None,
    Arg(&'t Arg),
    Cmd(&'t Cmd),
    Pipe(&'t Pipe),
    Action(&'t Action),
    Branch(&'t Branch, &'static str),
}

enum Flow {
    Normal,
    Break,
    Continue,
}

type EResult<X> = Result<X, String>;

struct Exec<'a, 't> {
    src: &'t str,
    at: At<'t>,
    vars: Vec<(String, Val<'a>)>,
}

impl<'a, 't> Exec<'a, 't> {
    fn errorf(&self, msg: impl fmt::Display) -> String {
        let (pos, ctx) = match self.at {
            At::None => return format!("template: : {msg}"),
            At::Arg(a) => (a.pos(), a.to_string()),
            At::Cmd(c) => (c.pos, c.to_string()),
            At::Pipe(p) => (p.pos, p.to_string()),
            At::Action(a) => (a.pos, format!("{{{{{}}}}}", a.pipe)),
            At::Branch(b, kw) => (b.pos, format!("{{{{{kw} {}}}}}", b.pipe)),
        };
        let before = &self.src[..pos];
        let line = 1 + before.matches('\n').count();
        let col = before.rfind('\n').map_or(pos, |nl| pos - nl - 1);
        format!("template: :{line}:{col}: executing \"\" at <{ctx}>: {msg}")
    }

    fn walk(&mut self, dot: &Val<'a>, list: &'t [Node], out: &mut String) -> EResult<Flow> {
        for node in list {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Action(a) => {
                    self.at = At::Action(a);
                    let v = self.eval_pipeline(dot, &a.pipe)?;
                    if a.pipe.decl.is_empty() {
                        self.at = At::Action(a);
                        match v {
                            Val::Invalid => out.push_str("<no value>"),
                            v => fmt_value(out, &v, 'v'),
                        }
                    }
                }
                Node::If(b) | Node::With(b) => {
                    let with = matches!(node, Node::With(_));
                    self.at = At::Branch(b, if with { "with" } else { "if" });
                    let mark = self.vars.len();
                    let v = self.eval_pipeline(dot, &b.pipe)?;
                    let flow = if truth(&v) {
                        let d = if with { v } else { dot.clone() };
                        self.walk(&d, &b.list, out)?
                    } else if let Some(el) = &b.else_list {
                        self.walk(dot, el, out)?
                    } else {
                        Flow::Normal
                    };
                    self.vars.truncate(mark);
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::Range(b) => {
                    let flow = self.walk_range(dot, b, out)?;
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk_range(&mut self, dot: &Val<'a>, b: &'t Branch, out: &mut String) -> EResult<Flow> {
        self.at = At::Branch(b, "range");
        let mark = self.vars.len();
        let val = unwrap(self.eval_pipeline(dot, &b.pipe)?);
        let inner = self.vars.len();
        let ndecl = b.pipe.decl.len();
        let mut items: Vec<(Val<'a>, Val<'a>)> = Vec::new();
        match &val {
            Val::Json(Value::Array(a)) => {
                items = a.iter().enumerate().map(|(i, e)| (Val::Int(i as i64), Val::Iface(e))).collect();
            }
            Val::Json(Value::Object(m)) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                items = keys.into_iter().map(|k| (Val::Str(k.clone()), Val::Iface(&m[k]))).collect();
            }
            Val::Strs(s) => {
                items = s.iter().enumerate().map(|(i, e)| (Val::Int(i as i64), Val::Str(e.clone()))).collect();
            }
            Val::Invalid => {}
            v => {
                // Go 1.22+ ranges over an integer.
                let n = match v {
                    Val::Int(i) => Some(*i),
                    Val::Json(Value::Number(n)) => n.as_i64(),
                    _ => None,
                };
                let Some(n) = n else {
                    let mut s = String::new();
                    fmt_value(&mut s, v, 'v');
                    return Err(self.errorf(format!("range can't iterate over {s}")));
                };
                if ndecl > 1 {
                    let mut s = String::new();
                    fmt_value(&mut s, v, 'v');
                    return Err(self.errorf(format!("can't use {s} to iterate over more than one variable")));
                }
                items = (0..n.max(0)).map(|i| (Val::Invalid, Val::Int(i))).collect();
            }
        }
        let ran = !items.is_empty();
        for (index, elem) in items {
            if ndecl > 0 {
                let top = self.vars.len() - 1;
                self.vars[top].1 = elem.clone();
            }
            if ndecl > 1 {
                let second = self.vars.len() - 2;
                self.vars[second].1 = index;
            }
            let flow = self.walk(&elem, &b.list, out)?;
            self.vars.truncate(inner);
            if matches!(flow, Flow::Break) {
                break;
            }
        }
        if !ran && let Some(el) = &b.else_list {
            let flow = self.walk(dot, el, out)?;
            self.vars.truncate(mark);
            return Ok(flow);
        }
        self.vars.truncate(mark);
        Ok(Flow::Normal)
    }

    fn eval_pipeline(&mut self, dot: &Val<'a>, pipe: &'t Pipe) -> EResult<Val<'a>> {
        self.at = At::Pipe(pipe);
        let mut value: Option<Val<'a>> = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(dot, cmd, value)?;
            // An interface{} result is replaced by what it holds.
            value = Some(unwrap(v));
        }
        let value = value.unwrap_or(Val::Invalid);
        for name in &pipe.decl {
            if pipe.is_assign {
                match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = value.clone(),
                    None => return Err(self.errorf(format!("undefined variable: {name}"))),
                }
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &'t [Arg], fin: &Option<Val<'a>>) -> EResult<()> {
        if args.len() > 1 || fin.is_some() {
            return Err(self.errorf(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Val<'a>, cmd: &'t Cmd, fin: Option<Val<'a>>) -> EResult<Val<'a>> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { .. } => return self.eval_field_node(dot, first, &cmd.args, fin),
            Arg::Chain { .. } => return self.eval_chain_node(dot, first, &cmd.args, fin),
            Arg::Ident { name, .. } => {
                self.at = At::Arg(first);
                return self.eval_call(dot, name, At::Cmd(cmd), &cmd.args[1..], fin);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &fin)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Var { .. } => return self.eval_variable_node(first, &cmd.args, fin),
            _ => {}
        }
        self.at = At::Arg(first);
        self.not_a_function(&cmd.args, &fin)?;
        match first {
            Arg::Bool(_, b) => Ok(Val::Bool(*b)),
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Err(self.errorf("nil is not a command")),
            Arg::Num(_, n) => self.ideal_constant(first, n),
            Arg::Str { text, .. } => Ok(Val::Str(text.clone())),
            _ => Err(self.errorf(format!("can't evaluate command {}", go_quote(&first.to_string())))),
        }
    }

    fn ideal_constant(&mut self, node: &'t Arg, n: &Num) -> EResult<Val<'a>> {
        self.at = At::Arg(node);
        let t = &n.text;
        let hex_int = t.len() > 2 && t.starts_with('0') && t[1..].starts_with(['x', 'X']) && !t.contains(['p', 'P']);
        if let Some(f) = n.float
            && !hex_int
            && !t.starts_with('\'')
            && t.contains(['.', 'e', 'E', 'p', 'P'])
        {
            return Ok(Val::Float(f));
        }
        if let Some(i) = n.int {
            return Ok(Val::Int(i));
        }
        if n.is_uint {
            return Err(self.errorf(format!("{t} overflows int")));
        }
        Ok(Val::Invalid)
    }

    fn eval_field_node(
        &mut self,
        dot: &Val<'a>,
        node: &'t Arg,
        args: &'t [Arg],
        fin: Option<Val<'a>>,
    ) -> EResult<Val<'a>> {
        self.at = At::Arg(node);
        let Arg::Field { idents, .. } = node else { unreachable!("a field node") };
        self.eval_field_chain(dot.clone(), idents, args, fin)
    }

    fn eval_chain_node(
        &mut self,
        dot: &Val<'a>,
        node: &'t Arg,
        args: &'t [Arg],
        fin: Option<Val<'a>>,
    ) -> EResult<Val<'a>> {
        self.at = At::Arg(node);
        let Arg::Chain { node: inner, fields, .. } = node else { unreachable!("a chain node") };
        if let Arg::Nil(_) = inner.as_ref() {
            return Err(self.errorf(format!("indirection through explicit nil in {node}")));
        }
        let receiver = self.eval_arg(dot, None, inner)?;
        self.eval_field_chain(receiver, fields, args, fin)
    }

    fn eval_variable_node(&mut self, node: &'t Arg, args: &'t [Arg], fin: Option<Val<'a>>) -> EResult<Val<'a>> {
        self.at = At::Arg(node);
        let Arg::Var { idents, .. } = node else { unreachable!("a variable node") };
        let Some((_, value)) = self.vars.iter().rev().find(|(n, _)| *n == idents[0]) else {
            return Err(self.errorf(format!("undefined variable: {}", idents[0])));
        };
        let value = value.clone();
        if idents.len() == 1 {
            self.not_a_function(args, &fin)?;
            return Ok(value);
        }
        self.eval_field_chain(value, &idents[1..], args, fin)
    }

    fn eval_field_chain(
        &mut self,
        receiver: Val<'a>,
        idents: &'t [String],
        args: &'t [Arg],
        fin: Option<Val<'a>>,
    ) -> EResult<Val<'a>> {
        let n = idents.len();
        let mut r = receiver;
        for name in &idents[..n - 1] {
            r = self.eval_field(name, false, r)?;
        }
        let has_args = args.len() > 1 || fin.is_some();
        self.eval_field(&idents[n - 1], has_args, r)
    }

    fn eval_field(&mut self, name: &str, has_args: bool, receiver: Val<'a>) -> EResult<Val<'a>> {
        let typ = match &receiver {
            // docker's retry runs with missingkey=error.
            Val::Invalid => return Err(self.errorf(format!("nil data; no entry for key {}", go_quote(name)))),
            Val::Iface(Value::Null) => return Err(self.errorf(format!("nil pointer evaluating interface {{}}.{name}"))),
            Val::Iface(_) => "interface {}",
            v => type_name(v),
        };
        if let Val::Json(Value::Object(m)) = unwrap(receiver) {
            if has_args {
                return Err(self.errorf(format!("{name} is not a method but has arguments")));
            }
            return match m.get(name) {
                Some(v) => Ok(Val::Iface(v)),
                None => Err(self.errorf(format!("map has no entry for key {}", go_quote(name)))),
            };
        }
        Err(self.errorf(format!("can't evaluate field {name} in type {typ}")))
    }

    /// `args` excludes the function's own name; `node` is where "error calling" errors point.
    fn eval_call(
        &mut self,
        dot: &Val<'a>,
        name: &str,
        node: At<'t>,
        args: &'t [Arg],
        fin: Option<Val<'a>>,
    ) -> EResult<Val<'a>> {
        let (fixed, variadic) = signature(name);
        let num_in = args.len() + usize::from(fin.is_some());
        if variadic.is_some() {
            if num_in < fixed.len() {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want at least {} got {}",
                    fixed.len(),
                    args.len()
                )));
            }
        } else if num_in != fixed.len() {
            return Err(self.errorf(format!("wrong number of args for {name}: want {} got {num_in}", fixed.len())));
        }
        if name == "and" || name == "or" {
            // Go 1.18+ stops at the first argument that decides the result.
            let mut v = Val::Invalid;
            for a in args {
                v = self.eval_arg(dot, Some(Ty::Rv), a)?;
                if truth(&v) == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(f) = fin {
                v = unwrap(self.validate_type(f, Some(Ty::Rv))?);
            }
            return Ok(v);
        }
        let mut argv = Vec::with_capacity(num_in);
        for (i, a) in args.iter().enumerate() {
            let ty = fixed.get(i).copied().or(variadic);
            argv.push(self.eval_arg(dot, ty, a)?);
        }
        if let Some(f) = fin {
            let ty = if variadic.is_some() && num_in > fixed.len() { variadic } else { fixed.get(num_in - 1).copied() };
            argv.push(self.validate_type(f, ty)?);
        }
        match call_builtin(name, argv) {
            Ok(v) => Ok(v),
            Err(e) => {
                self.at = node;
                Err(self.errorf(format!("error calling {name}: {e}")))
            }
        }
    }

    fn eval_arg(&mut self, dot: &Val<'a>, ty: Option<Ty>, n: &'t Arg) -> EResult<Val<'a>> {
        self.at = At::Arg(n);
        let v = match n {
            Arg::Dot(_) => dot.clone(),
            Arg::Nil(_) => {
                return match ty {
                    Some(Ty::Any) => Ok(Val::Iface(&NULL)),
                    Some(Ty::Rv) | None => Ok(Val::Invalid),
                    Some(t) => Err(self.errorf(format!("cannot assign nil to {t}"))),
                };
            }
            Arg::Field { .. } => self.eval_field_node(dot, n, std::slice::from_ref(n), None)?,
            Arg::Var { .. } => self.eval_variable_node(n, &[], None)?,
            Arg::Pipe(p) => self.eval_pipeline(dot, p)?,
            Arg::Ident { name, .. } => {
                self.at = At::Arg(n);
                self.eval_call(dot, name, At::Arg(n), &[], None)?
            }
            Arg::Chain { .. } => self.eval_chain_node(dot, n, &[], None)?,
            Arg::Bool(_, b) => match ty {
                Some(Ty::Str) => return Err(self.errorf(format!("expected string; found {n}"))),
                Some(Ty::Int) => return Err(self.errorf(format!("expected integer; found {n}"))),
                _ => return Ok(Val::Bool(*b)),
            },
            Arg::Num(_, num) => match ty {
                Some(Ty::Str) => return Err(self.errorf(format!("expected string; found {n}"))),
                Some(Ty::Int) => {
                    return match num.int {
                        Some(i) => Ok(Val::Int(i)),
                        None => Err(self.errorf(format!("expected integer; found {n}"))),
                    };
                }
                _ => return self.ideal_constant(n, num),
            },
            Arg::Str { text, .. } => match ty {
                Some(Ty::Int) => return Err(self.errorf(format!("expected integer; found {n}"))),
                _ => return Ok(Val::Str(text.clone())),
            },
        };
        self.validate_type(v, ty)
    }

    fn validate_type(&self, v: Val<'a>, ty: Option<Ty>) -> EResult<Val<'a>> {
        let Some(ty) = ty else { return Ok(v) };
        if let Val::Invalid = v {
            return match ty {
                Ty::Any => Ok(Val::Iface(&NULL)),
                Ty::Rv => Ok(Val::Invalid),
                t => Err(self.errorf(format!("invalid value; expected {t}"))),
            };
        }
        match ty {
            Ty::Any | Ty::Rv => Ok(v),
            Ty::Str => match unwrap(v.clone()) {
                Val::Str(s) => Ok(Val::Str(s)),
                Val::Json(Value::String(s)) => Ok(Val::Str(s.clone())),
                _ => Err(self.errorf(format!("wrong type for value; expected string; got {}", type_name(&v)))),
            },
            // The typed first run passes integer fields to int parameters.
            Ty::Int => match unwrap(v.clone()) {
                Val::Int(i) => Ok(Val::Int(i)),
                Val::Json(Value::Number(n)) if n.as_i64().is_some() => Ok(Val::Int(n.as_i64().unwrap_or(0))),
                _ => Err(self.errorf(format!("wrong type for value; expected int; got {}", type_name(&v)))),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Functions.

fn call_builtin<'a>(name: &str, argv: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let s = |i: usize| match &argv[i] {
        Val::Str(s) => s.clone(),
        _ => String::new(),
    };
    let int = |i: usize| match &argv[i] {
        Val::Int(n) => *n,
        _ => 0,
    };
    Ok(match name {
        "json" => Val::Str(go_json(&argv[0])),
        "split" => {
            let (text, sep) = (s(0), s(1));
            if sep.is_empty() {
                Val::Strs(text.chars().map(String::from).collect())
            } else {
                Val::Strs(text.split(sep.as_str()).map(String::from).collect())
            }
        }
        "join" => Val::Str(join(&argv[0], &s(1))?),
        "title" => Val::Str(title(&s(0))),
        "lower" => Val::Str(s(0).to_lowercase()),
        "upper" => Val::Str(s(0).to_uppercase()),
        "pad" => {
            let text = s(0);
            if text.is_empty() {
                Val::Str(text)
            } else {
                let rep = |n: i64| " ".repeat(usize::try_from(n).unwrap_or(0));
                Val::Str(format!("{}{text}{}", rep(int(1)), rep(int(2))))
            }
        }
        "truncate" => {
            let (text, n) = (s(0), int(1));
            if n < 0 {
                return Err(format!("runtime error: slice bounds out of range [:{n}]"));
            }
            let n = n as usize;
            if text.len() < n {
                Val::Str(text)
            } else {
                Val::Str(String::from_utf8_lossy(&text.as_bytes()[..n]).into_owned())
            }
        }
        "not" => Val::Bool(!truth(&argv[0])),
        "len" => Val::Int(length(&argv[0])?),
        "index" => index(&argv[0], &argv[1..])?,
        "print" => Val::Str(sprint(&argv, false)),
        "println" => Val::Str(sprint(&argv, true)),
        "printf" => Val::Str(sprintf(&s(0), &argv[1..])),
        "eq" => {
            if argv.len() < 2 {
                return Err("missing argument for comparison".into());
            }
            let mut any = false;
            for b in &argv[1..] {
                if eq(&argv[0], b)? {
                    any = true;
                    break;
                }
            }
            Val::Bool(any)
        }
        "ne" => Val::Bool(!eq(&argv[0], &argv[1])?),
        "lt" => Val::Bool(lt(&argv[0], &argv[1])?),
        "le" => Val::Bool(lt(&argv[0], &argv[1])? || eq(&argv[0], &argv[1])?),
        "gt" => Val::Bool(!(lt(&argv[0], &argv[1])? || eq(&argv[0], &argv[1])?)),
        "ge" => Val::Bool(!lt(&argv[0], &argv[1])?),
        other => return Err(format!("netsim: {other} is not supported")),
    })
}

/// docker/cli's `joinElements` (v29.2+): a slice's elements or a map's sorted values, each
/// printed as `fmt.Sprint` does.
fn join(elems: &Val<'_>, sep: &str) -> Result<String, String> {
    let sprint1 = |v: Val<'_>| {
        let mut s = String::new();
        match v {
            Val::Iface(Value::Null) => s.push_str("<nil>"),
            v => fmt_value(&mut s, &v, 'v'),
        }
        s
    };
    match unwrap(elems.clone()) {
        Val::Invalid => Ok(String::new()),
        Val::Strs(v) => Ok(v.join(sep)),
        Val::Json(Value::Array(a)) => Ok(a.iter().map(|e| sprint1(Val::Iface(e))).collect::<Vec<_>>().join(sep)),
        Val::Json(Value::Object(m)) => {
            let mut out: Vec<String> = m.values().map(|e| sprint1(Val::Iface(e))).collect();
            out.sort();
            Ok(out.join(sep))
        }
        v => Err(format!("expected slice, got {}", type_name(&v))),
    }
}

fn title(s: &str) -> String {
    let sep = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            !(c.is_alphabetic() || c.is_numeric()) && c.is_whitespace()
        }
    };
    let mut prev = ' ';
    let mut out = String::new();
    for c in s.chars() {
        if sep(prev) {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

fn length(v: &Val<'_>) -> Result<i64, String> {
    Ok(match v {
        Val::Invalid => return Err("reflect: call of reflect.Value.Type on zero Value".into()),
        Val::Iface(Value::Null) => return Err("len of nil pointer".into()),
        _ => match unwrap(v.clone()) {
            Val::Json(Value::String(s)) => s.len() as i64,
            Val::Str(s) => s.len() as i64,
            Val::Json(Value::Number(n)) => n.to_string().len() as i64,
            Val::Json(Value::Array(a)) => a.len() as i64,
            Val::Json(Value::Object(m)) => m.len() as i64,
            Val::Strs(s) => s.len() as i64,
            other => return Err(format!("len of type {}", type_name(&other))),
        },
    })
}

fn index<'a>(item: &Val<'a>, indexes: &[Val<'a>]) -> Result<Val<'a>, String> {
    let mut item = unwrap(item.clone());
    if let Val::Invalid = item {
        return Err("index of untyped nil".into());
    }
    for ix in indexes {
        let ix = unwrap(ix.clone());
        item = match unwrap(item) {
            Val::Invalid => return Err("index of nil pointer".into()),
            Val::Json(Value::Object(m)) => {
                let key = match &ix {
                    Val::Str(s) => s.clone(),
                    Val::Json(Value::String(s)) => s.clone(),
                    Val::Invalid => return Err("value is nil; should be of type string".into()),
                    other => return Err(format!("value has type {}; should be string", type_name(other))),
                };
                Val::Iface(m.get(&key).unwrap_or(&NULL))
            }
            seq @ (Val::Json(Value::Array(_) | Value::String(_)) | Val::Strs(_) | Val::Str(_)) => {
                let len = match &seq {
                    Val::Json(Value::Array(a)) => a.len(),
                    Val::Json(Value::String(s)) | Val::Str(s) => s.len(),
                    Val::Strs(s) => s.len(),
                    _ => 0,
                };
                let x = match &ix {
                    Val::Int(i) => *i,
                    Val::Invalid => return Err("cannot index slice/array with nil".into()),
                    other => return Err(format!("cannot index slice/array with type {}", type_name(other))),
                };
                if x < 0 || x as usize > len {
                    return Err(format!("index out of range: {x}"));
                }
                let x = x as usize;
                if x == len {
                    return Err(match seq {
                        Val::Json(Value::String(_)) | Val::Str(_) => "reflect: string index out of range",
                        _ => "reflect: slice index out of range",
                    }
                    .into());
                }
                match seq {
                    Val::Json(Value::Array(a)) => Val::Iface(&a[x]),
                    Val::Json(Value::String(s)) => Val::Int(i64::from(s.as_bytes()[x])),
                    Val::Str(s) => Val::Int(i64::from(s.as_bytes()[x])),
                    Val::Strs(s) => Val::Str(s[x].clone()),
                    _ => Val::Invalid,
                }
            }
            other => return Err(format!("can't index item of type {}", type_name(&other))),
        };
    }
    Ok(item)
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Float,
    Str,
    Other,
}

fn kind(v: &Val<'_>) -> Kind {
    match v {
        Val::Bool(_) | Val::Json(Value::Bool(_)) => Kind::Bool,
        Val::Int(_) => Kind::Int,
        Val::Json(Value::Number(n)) if n.is_f64() => Kind::Float,
        Val::Json(Value::Number(_)) => Kind::Int,
        Val::Float(_) => Kind::Float,
        Val::Str(_) | Val::Json(Value::String(_)) => Kind::Str,
        _ => Kind::Other,
    }
}

fn as_str(v: &Val<'_>) -> String {
    match v {
        Val::Str(s) | Val::Json(Value::String(s)) => s.clone(),
        Val::Json(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn as_f64(v: &Val<'_>) -> f64 {
    match v {
        Val::Int(i) => *i as f64,
        Val::Float(f) => *f,
        Val::Json(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        _ => 0.0,
    }
}

fn as_bool(v: &Val<'_>) -> bool {
    matches!(v, Val::Bool(true) | Val::Json(Value::Bool(true)))
}

/// The two kinds a comparison sees. A JSON number against a string compares as text: the typed
/// run fails on it and docker's retry holds the number as `json.Number`, a string.
fn kinds(a: &Val<'_>, b: &Val<'_>) -> (Kind, Kind) {
    let (ka, kb) = (kind(a), kind(b));
    let num = |v: &Val<'_>| matches!(v, Val::Json(Value::Number(_)));
    match (ka, kb) {
        (Kind::Int | Kind::Float, Kind::Str) if num(a) => (Kind::Str, Kind::Str),
        (Kind::Str, Kind::Int | Kind::Float) if num(b) => (Kind::Str, Kind::Str),
        k => k,
    }
}

fn eq(a: &Val<'_>, b: &Val<'_>) -> Result<bool, String> {
    let (a, b) = (unwrap(a.clone()), unwrap(b.clone()));
    let (ka, kb) = kinds(&a, &b);
    if ka != kb {
        if matches!(a, Val::Invalid) || matches!(b, Val::Invalid) {
            return Ok(false);
        }
        return Err("incompatible types for comparison".into());
    }
    Ok(match ka {
        Kind::Bool => as_bool(&a) == as_bool(&b),
        Kind::Int | Kind::Float => as_f64(&a) == as_f64(&b),
        Kind::Str => as_str(&a) == as_str(&b),
        Kind::Other => match (&a, &b) {
            (Val::Invalid, Val::Invalid) => true,
            (Val::Invalid, _) | (_, Val::Invalid) => false,
            _ => {
                // Go formats the reflect.Value with %s, in docker's raw-JSON retry.
                let mut s = String::new();
                fmt_value(&mut s, &b, RAW_S);
                return Err(format!("non-comparable type {s}: {}", type_name(&b)));
            }
        },
    })
}

fn lt(a: &Val<'_>, b: &Val<'_>) -> Result<bool, String> {
    let (a, b) = (unwrap(a.clone()), unwrap(b.clone()));
    let (ka, kb) = kinds(&a, &b);
    if ka == Kind::Other || kb == Kind::Other {
        return Err("invalid type for comparison".into());
    }
    if ka != kb {
        return Err("incompatible types for comparison".into());
    }
    Ok(match ka {
        Kind::Bool | Kind::Other => return Err("invalid type for comparison".into()),
        Kind::Int | Kind::Float => as_f64(&a) < as_f64(&b),
        Kind::Str => as_str(&a) < as_str(&b),
    })
}

// ---------------------------------------------------------------------------------------------
// Go's fmt and encoding/json, for the values above.

/// `%s` with numbers held as `json.Number` (a string type), as in docker's raw-JSON retry.
const RAW_S: char = '\u{0}';

/// Prints `v` as fmt does for `verb` with no flags; composites print element by element.
fn fmt_value(out: &mut String, v: &Val<'_>, verb: char) {
    match v {
        Val::Invalid | Val::Iface(Value::Null) | Val::Json(Value::Null) => {
            if matches!(verb, 'v' | 'T') {
                out.push_str("<nil>");
            } else {
                let _ = write!(out, "%!{verb}(<nil>)");
            }
        }
        Val::Iface(j) | Val::Json(j) => match j {
            Value::Array(a) => {
                out.push('[');
                for (i, e) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    // A nil element prints <nil> whatever the verb.
                    if e.is_null() {
                        out.push_str("<nil>");
                    } else {
                        fmt_value(out, &Val::Json(e), verb);
                    }
                }
                out.push(']');
            }
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push_str("map[");
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    fmt_scalar(out, &Val::Str(k.clone()), verb);
                    out.push(':');
                    let e = &m[k];
                    if e.is_null() {
                        out.push_str("<nil>");
                    } else {
                        fmt_value(out, &Val::Json(e), verb);
                    }
                }
                out.push(']');
            }
            _ => fmt_scalar(out, v, verb),
        },
        Val::Strs(s) => {
            out.push('[');
            for (i, e) in s.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_scalar(out, &Val::Str(e.clone()), verb);
            }
            out.push(']');
        }
        _ => fmt_scalar(out, v, verb),
    }
}

/// A scalar as Go holds it; `Int` carries the type name that `%!verb(type=…)` shows.
enum Scalar {
    Str(String),
    Int(i128, &'static str),
    Float(f64),
    Bool(bool),
}

fn scalar(v: &Val<'_>) -> Option<Scalar> {
    Some(match v {
        Val::Str(s) | Val::Json(Value::String(s)) | Val::Iface(Value::String(s)) => Scalar::Str(s.clone()),
        Val::Int(i) => Scalar::Int(i128::from(*i), "int"),
        Val::Float(f) => Scalar::Float(*f),
        Val::Bool(b) | Val::Json(Value::Bool(b)) | Val::Iface(Value::Bool(b)) => Scalar::Bool(*b),
        Val::Json(Value::Number(n)) | Val::Iface(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Scalar::Int(i128::from(i), "int")
            } else if let Some(u) = n.as_u64() {
                Scalar::Int(i128::from(u), "uint64")
            } else {
                Scalar::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        _ => return None,
    })
}

fn fmt_scalar(out: &mut String, v: &Val<'_>, verb: char) {
    let _ = fmt_one(out, v, &Spec { verb, ..Spec::default() });
}

#[derive(Default, Clone)]
struct Spec {
    verb: char,
    minus: bool,
    zero: bool,
    plus: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn pad(out: &mut String, s: &str, spec: &Spec) {
    let n = s.chars().count();
    let w = spec.width.unwrap_or(0);
    if n >= w {
        out.push_str(s);
    } else if spec.minus {
        out.push_str(s);
        out.push_str(&" ".repeat(w - n));
    } else if spec.zero {
        // Zeros go after a sign.
        let (sign, rest) = match s.strip_prefix(['-', '+']) {
            Some(rest) => (&s[..1], rest),
            None => ("", s),
        };
        out.push_str(sign);
        out.push_str(&"0".repeat(w - n));
        out.push_str(rest);
    } else {
        out.push_str(&" ".repeat(w - n));
        out.push_str(s);
    }
}

/// One argument under one verb; composites go element by element with the same spec.
fn fmt_one(out: &mut String, v: &Val<'_>, spec: &Spec) -> fmt::Result {
    if spec.verb == RAW_S {
        if let Val::Json(Value::Number(n)) | Val::Iface(Value::Number(n)) = v {
            out.push_str(&n.to_string());
            return Ok(());
        }
        return fmt_one(out, v, &Spec { verb: 's', ..spec.clone() });
    }
    let verb = spec.verb;
    if verb == 'T' {
        pad(out, type_name_typed(&unwrap(v.clone())), spec);
        return Ok(());
    }
    let Some(sc) = scalar(v) else {
        fmt_value(out, v, verb);
        return Ok(());
    };
    let bad = |out: &mut String| {
        let mut val = String::new();
        fmt_value(&mut val, v, 'v');
        let tn = match &sc {
            Scalar::Int(_, t) => t,
            Scalar::Float(_) => "float64",
            Scalar::Str(_) => "string",
            Scalar::Bool(_) => "bool",
        };
        write!(out, "%!{verb}({tn}={val})")
    };
    match (&sc, verb) {
        (Scalar::Str(s), 's' | 'v') => {
            let s: String = match spec.prec {
                Some(p) => s.chars().take(p).collect(),
                None => s.clone(),
            };
            pad(out, &s, spec);
        }
        (Scalar::Str(s), 'q') => pad(out, &go_quote(s), spec),
        (Scalar::Str(s), 'x' | 'X') => {
            let mut h = String::new();
            for b in s.bytes() {
                let _ = if verb == 'x' { write!(h, "{b:02x}") } else { write!(h, "{b:02X}") };
            }
            pad(out, &h, spec);
        }
        (Scalar::Int(i, _), 'd' | 'v') => {
            let s = if spec.plus && *i >= 0 { format!("+{i}") } else { i.to_string() };
            pad(out, &s, spec);
        }
        (Scalar::Int(i, _), 'x' | 'X') => {
            let (sign, m) = if *i < 0 { ("-", -*i) } else { ("", *i) };
            let s = if verb == 'x' { format!("{sign}{m:x}") } else { format!("{sign}{m:X}") };
            pad(out, &s, spec);
        }
        (Scalar::Float(f), 'v') => pad(out, &go_float_g(*f), spec),
        (Scalar::Float(f), 'f' | 'F') => pad(out, &format!("{:.*}", spec.prec.unwrap_or(6), f), spec),
        (Scalar::Bool(b), 't' | 'v') => pad(out, &b.to_string(), spec),
        _ => bad(out)?,
    }
    Ok(())
}

fn sprint(args: &[Val<'_>], ln: bool) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(unwrap(a.clone()), Val::Str(_) | Val::Json(Value::String(_)));
        if i > 0 && (ln || !is_string && !prev_string) {
            out.push(' ');
        }
        fmt_value(&mut out, a, 'v');
        prev_string = is_string;
    }
    if ln {
        out.push('\n');
    }
    out
}

fn sprintf(format: &str, args: &[Val<'_>]) -> String {
    let mut out = String::new();
    let mut next = 0;
    let mut cs = format.chars().peekable();
    while let Some(c) = cs.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = cs.peek() {
            match f {
                '-' => spec.minus = true,
                '0' => spec.zero = !spec.minus,
                '+' => spec.plus = true,
                ' ' | '#' => {}
                _ => break,
            }
            cs.next();
        }
        let num = |cs: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            let mut n: Option<usize> = None;
            while let Some(d) = cs.peek().and_then(|c| c.to_digit(10)) {
                n = Some(n.unwrap_or(0) * 10 + d as usize);
                cs.next();
            }
            n
        };
        spec.width = num(&mut cs);
        if cs.peek() == Some(&'.') {
            cs.next();
            spec.prec = Some(num(&mut cs).unwrap_or(0));
        }
        let Some(verb) = cs.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        spec.verb = verb;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        next += 1;
        let _ = fmt_one(&mut out, arg, &spec);
    }
    if next < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, a) in args[next..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let a = unwrap(a.clone());
            if let Val::Invalid = a {
                out.push_str("<nil>");
            } else {
                let _ = write!(out, "{}=", type_name_typed(&a));
                fmt_value(&mut out, &a, 'v');
            }
        }
        out.push(')');
    }
    out
}

/// `%T` as the typed first run would name a JSON number.
fn type_name_typed(v: &Val<'_>) -> &'static str {
    match v {
        Val::Json(Value::Number(n)) if n.is_f64() => "float64",
        Val::Json(Value::Number(_)) => "int",
        v => type_name(v),
    }
}

/// Shortest decimal digits and exponent of `f` (`d.ddd × 10^exp`), as strconv finds them.
fn shortest(f: f64) -> (String, i32) {
    let e = format!("{:e}", f.abs());
    let (m, exp) = e.split_once('e').unwrap_or((&e, "0"));
    (m.replace('.', ""), exp.parse().unwrap_or(0))
}

fn fmt_e(neg: bool, digits: &str, exp: i32) -> String {
    let mut s = String::from(if neg { "-" } else { "" });
    s.push_str(&digits[..1]);
    if digits.len() > 1 {
        s.push('.');
        s.push_str(&digits[1..]);
    }
    let _ = write!(s, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    s
}

fn fmt_f(neg: bool, digits: &str, exp: i32) -> String {
    let mut s = String::from(if neg { "-" } else { "" });
    let point = exp + 1;
    if point <= 0 {
        s.push_str("0.");
        s.push_str(&"0".repeat((-point) as usize));
        s.push_str(digits);
    } else if point as usize >= digits.len() {
        s.push_str(digits);
        s.push_str(&"0".repeat(point as usize - digits.len()));
    } else {
        s.push_str(&digits[..point as usize]);
        s.push('.');
        s.push_str(&digits[point as usize..]);
    }
    s
}

/// Go's `%v` of a float64: shortest digits, exponent form when exp < -4 || exp >= 6 (strconv
/// 'g' with precision -1: 17000000 → 1.7e+07).
fn go_float_g(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let (digits, exp) = shortest(f);
    if !(-4..6).contains(&exp) { fmt_e(f < 0.0, &digits, exp) } else { fmt_f(f < 0.0, &digits, exp) }
}

/// encoding/json's float64: plain decimals, exponent form outside [1e-6, 1e21).
fn go_json_float(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let (digits, exp) = shortest(f);
    let a = f.abs();
    if !(1e-6..1e21).contains(&a) {
        let s = fmt_e(f < 0.0, &digits, exp);
        // Go trims e-07 to e-7, not e+21.
        match s.rfind("e-0") {
            Some(i) if s.len() == i + 4 => format!("{}e-{}", &s[..i], &s[i + 3..]),
            _ => s,
        }
    } else {
        fmt_f(f < 0.0, &digits, exp)
    }
}

/// docker/cli's `json`: encoding/json with HTML escaping off.
fn go_json(v: &Val<'_>) -> String {
    let mut out = String::new();
    match v {
        Val::Invalid => out.push_str("null"),
        Val::Iface(j) | Val::Json(j) => json_value(&mut out, j),
        Val::Str(s) => json_str(&mut out, s),
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Val::Float(f) => out.push_str(&go_json_float(*f)),
        Val::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Val::Strs(s) => {
            out.push('[');
            for (i, e) in s.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_str(&mut out, e);
            }
            out.push(']');
        }
    }
    out
}

fn json_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => {
                let _ = write!(out, "{i}");
            }
            (_, Some(u), _) => {
                let _ = write!(out, "{u}");
            }
            (_, _, Some(f)) => out.push_str(&go_json_float(f)),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => json_str(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_value(out, e);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_str(out, k);
                out.push(':');
                json_value(out, e);
            }
            out.push('}');
        }
    }
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// `docker network inspect tnet-tmpl` on the Docker 20.10.24 engine here (CLI 28.2.2), after
    /// `docker network create --subnet 172.30.5.0/24 --label b=2 --label a=1 -o
    /// com.docker.network.driver.mtu=1400 tnet-tmpl`.
    fn tnet() -> Value {
        json!({
            "Name": "tnet-tmpl",
            "Id": "cf3145ce2ca17a6a9b677309cd6421562b1e27b3b717faf2fa11e8540cd2cb6c",
            "Created": "2026-12-04T04:50:22.421581299Z",
            "Scope": "local",
            "Driver": "bridge",
            "EnableIPv6": false,
            "IPAM": {"Driver": "default", "Options": {}, "Config": [{"Subnet": "172.30.5.0/24"}]},
            "Internal": false,
            "Attachable": false,
            "Ingress": false,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": false,
            "Containers": {},
            "Options": {"com.docker.network.driver.mtu": "1400"},
            "Labels": {"a": "1", "b": "2"}
        })
    }

    /// Parts of `docker inspect tmpl-c` after `docker create --name tmpl-c --memory 17000000
    /// --cpu-shares 512 -p 0.0.0.0:8080:80 -l z=9 -l a=1 --network tnet-tmpl netsim-probe:latest
    /// /bin/sh`.
    fn container() -> Value {
        json!({
            "Name": "/tmpl-c",
            "State": {"Status": "created", "Running": false, "Pid": 0, "ExitCode": 0},
            "HostConfig": {
                "PortBindings": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]},
                "CpuShares": 512,
                "Memory": 17000000,
                "MemorySwappiness": null
            },
            "Config": {"Cmd": ["/bin/sh"], "Labels": {"a": "1", "z": "9"}}
        })
    }

    fn ok(format: &str, v: &Value) -> String {
        render(format, v).unwrap_or_else(|e| panic!("{format}: {e}"))
    }

    fn err(format: &str, v: &Value) -> String {
        match render(format, v) {
            Ok(s) => panic!("{format}: rendered {s:?}"),
            Err(e) => e.0,
        }
    }

    // Each expected string below is what `docker network inspect -f FORMAT tnet-tmpl` printed
    // (stdout without its final newline, or stderr) on the engine here.
    #[test]
    fn fields_range_and_json_as_on_the_engine() {
        let n = tnet();
        assert_eq!(
            ok("{{json .IPAM}}", &n),
            r#"{"Driver":"default","Options":{},"Config":[{"Subnet":"172.30.5.0/24"}]}"#
        );
        assert_eq!(ok("{{.IPAM | json}}", &n), ok("{{json .IPAM}}", &n));
        assert_eq!(ok("{{range .IPAM.Config}}{{.Subnet}}{{end}}", &n), "172.30.5.0/24");
        assert_eq!(ok("{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}", &n), "a=1;b=2;");
        assert_eq!(ok("{{range .Labels}}{{.}},{{end}}", &n), "1,2,");
        assert_eq!(ok("{{.Labels}}", &n), "map[a:1 b:2]");
        assert_eq!(ok("{{json .Labels}}", &n), r#"{"a":"1","b":"2"}"#);
        assert_eq!(ok("{{.Containers}}|{{json .Containers}}", &n), "map[]|{}");
        assert_eq!(ok("{{.EnableIPv6}}|{{json .EnableIPv6}}", &n), "false|false");
        assert_eq!(ok("{{json .IPAM.Config}}", &n), r#"[{"Subnet":"172.30.5.0/24"}]"#);
        assert_eq!(ok(r#"{{json "a<b>&c"}}"#, &n), r#""a<b>&c""#);
        assert_eq!(ok("{{with .IPAM}}{{.Driver}}{{end}}", &n), "default");
        assert_eq!(ok("{{$.Name}}|{{range .IPAM.Config}}{{$.Name}}{{end}}", &n), "tnet-tmpl|tnet-tmpl");
        assert_eq!(ok("{{$x := .Name}}{{$x}}", &n), "tnet-tmpl");
        assert_eq!(ok("{{range $i, $c := .IPAM.Config}}{{$i}}:{{$c.Subnet}}{{end}}", &n), "0:172.30.5.0/24");
        assert_eq!(ok("{{range $e := .IPAM.Config}}{{$e.Subnet}}{{end}}", &n), "172.30.5.0/24");
        assert_eq!(ok("{{range .Containers}}x{{else}}none{{end}}", &n), "none");
        assert_eq!(ok("{{with .Containers}}x{{else}}empty{{end}}", &n), "empty");
        // Objects range in sorted key order: `Config` before `Driver`.
        assert_eq!(
            ok("{{range $k, $v := .IPAM}}{{$k}}={{$v}};{{end}}", &n),
            "Config=[map[Subnet:172.30.5.0/24]];Driver=default;Options=map[];"
        );
        // `index . "IPAM"` fails on the typed struct, so docker shows the raw-JSON form.
        assert_eq!(
            ok(r#"{{index . "IPAM"}}"#, &n),
            "map[Config:[map[Subnet:172.30.5.0/24]] Driver:default Options:map[]]"
        );
        assert_eq!(ok(r#"{{(index . "IPAM").Config}}"#, &n), "[map[Subnet:172.30.5.0/24]]");
        assert_eq!(ok(r#"{{index . "ConfigFrom"}}"#, &n), "map[Network:]");
        assert_eq!(ok(r#"{{index . "Labels" "zz"}}"#, &n), "<no value>");
        assert_eq!(ok("{{index .Labels}}", &n), "map[a:1 b:2]");
    }

    #[test]
    fn truth_functions_and_printing_as_on_the_engine() {
        let n = tnet();
        assert_eq!(
            ok(
                "{{if .Labels}}L{{end}}{{if .Containers}}C{{end}}{{if .Options}}O{{end}}{{if .EnableIPv6}}6{{else}}no6{{end}}{{if .Driver}}D{{end}}{{if .ConfigFrom.Network}}N{{else}}noN{{end}}",
                &n
            ),
            "LOno6DnoN"
        );
        assert_eq!(ok("{{if .Internal}}a{{else if .Attachable}}b{{else}}c{{end}}", &n), "c");
        // `docker … | od -c` showed println's own newline before docker's.
        assert_eq!(ok("{{println .Name .Driver}}", &n), "tnet-tmpl bridge\n");
        assert_eq!(ok("{{println}}", &n), "\n");
        assert_eq!(ok("{{print .Name .Driver}}", &n), "tnet-tmplbridge");
        assert_eq!(ok(r#"{{print 1 2}}|{{print "a" 1 2 "b"}}|{{print "a" "b"}}"#, &n), "1 2|a1 2b|ab");
        assert_eq!(ok(r#"{{printf "%s-%v-%d" .Name .EnableIPv6 3}}"#, &n), "tnet-tmpl-false-3");
        assert_eq!(ok(r#"{{printf "%d" .Name}}"#, &n), "%!d(string=tnet-tmpl)");
        assert_eq!(ok(r#"{{printf "%s" .Labels}}|{{printf "%v" .Labels}}"#, &n), "map[a:1 b:2]|map[a:1 b:2]");
        assert_eq!(ok(r#"{{printf "%s %s" .Name}}"#, &n), "tnet-tmpl %!s(MISSING)");
        assert_eq!(ok(r#"{{printf "%s" .Name .Name}}"#, &n), "tnet-tmpl%!(EXTRA string=tnet-tmpl)");
        assert_eq!(ok(r#"{{printf "%q" .Name}}"#, &n), r#""tnet-tmpl""#);
        assert_eq!(ok(r#"{{printf "%5s|%-5s|%%" "a" "b"}}"#, &n), "    a|b    |%");
        assert_eq!(ok(r#"{{printf "%x" .Name}}"#, &n), "746e65742d746d706c");
        assert_eq!(ok(r#"{{ .Name | printf "%s-%s" "x" }}"#, &n), "x-tnet-tmpl");
        assert_eq!(
            ok(r#"{{title .Name}}|{{split .Name "-"}}|{{pad .Name 1 2}}|{{truncate .Name 4}}"#, &n),
            "Tnet-Tmpl|[tnet tmpl]| tnet-tmpl  |tnet"
        );
        assert_eq!(
            ok(
                r#"{{eq .Name "tnet-tmpl"}}|{{ne .Driver "bridge"}}|{{not .Internal}}|{{and .Name .Driver}}|{{or .Internal .Driver}}|{{len .Name}}"#,
                &n
            ),
            "true|false|true|bridge|bridge|9"
        );
        assert_eq!(ok(r#"{{if eq .Driver "bridge" "overlay"}}y{{end}}"#, &n), "y");
        assert_eq!(ok(r#"{{join (split .Name "-") "+"}}"#, &n), "tnet+tmpl");
        assert_eq!(ok("{{.Name | lower | upper}}", &n), "TNET-TMPL");
        assert_eq!(ok("{{len .IPAM.Config}}|{{len .Labels}}", &n), "1|2");
        assert_eq!(ok("{{and 1}}", &n), "1");
        assert_eq!(ok("{{range $i, $e := .IPAM.Config}}{{$i}}{{end}}", &n), "0");
        assert_eq!(ok("{{ .Name }}|{{- .Name -}}", &n), "tnet-tmpl|tnet-tmpl");
        assert_eq!(ok("a  {{- .Name -}}  b", &n), "atnet-tmplb");
        assert_eq!(ok("{{/* c */}}x", &n), "x");
        assert_eq!(ok("{{.Name}} {{- /* c */ -}} {{.Driver}}", &n), "tnet-tmplbridge");
        assert_eq!(ok("{{.Name\n}}", &n), "tnet-tmpl");
    }

    // `docker inspect -f FORMAT tmpl-c` on the engine here.
    #[test]
    fn numbers_nulls_and_maps_as_on_the_engine() {
        let c = container();
        assert_eq!(ok("{{.HostConfig.Memory}}", &c), "17000000");
        assert_eq!(ok(r#"{{index .HostConfig "Memory"}}"#, &c), "17000000");
        assert_eq!(ok(r#"{{printf "%d" .HostConfig.Memory}}"#, &c), "17000000");
        assert_eq!(ok(r#"{{printf "%v|%s" .HostConfig.Memory .Name}}"#, &c), "17000000|/tmpl-c");
        assert_eq!(ok(r#"{{(index . "HostConfig").MemorySwappiness}}"#, &c), "<no value>");
        assert_eq!(ok("{{json .HostConfig.MemorySwappiness}}", &c), "null");
        assert_eq!(ok("{{if .State.Pid}}yes{{else}}no{{end}}", &c), "no");
        assert_eq!(
            ok("{{json .HostConfig.PortBindings}}", &c),
            r#"{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]}"#
        );
        assert_eq!(
            ok(r#"{{(index . "HostConfig").PortBindings}}"#, &c),
            "map[80/tcp:[map[HostIp:0.0.0.0 HostPort:8080]]]"
        );
        assert_eq!(
            ok(r#"{{range $p, $b := .HostConfig.PortBindings}}{{$p}}->{{(index $b 0).HostPort}} {{end}}"#, &c),
            "80/tcp->8080 "
        );
        assert_eq!(
            ok(
                "{{range $p, $b := .HostConfig.PortBindings}}{{$p}}->{{range $b}}{{.HostIp}}:{{.HostPort}}{{end}}{{end}}",
                &c
            ),
            "80/tcp->0.0.0.0:8080"
        );
        assert_eq!(ok("{{.Config.Labels}}", &c), "map[a:1 z:9]");
        assert_eq!(ok(r#"{{index .Config.Labels "z"}}"#, &c), "9");
        assert_eq!(ok("{{.Config.Cmd}}", &c), "[/bin/sh]");
        assert_eq!(ok(r#"{{join .Config.Cmd ","}}"#, &c), "/bin/sh");
        assert_eq!(ok("{{upper .Name}}|{{lower .State.Status}}", &c), "/TMPL-C|created");
        assert_eq!(ok("{{.Name | json}}", &c), r#""/tmpl-c""#);
        assert_eq!(ok(r#"{{.Name | printf "%s!"}}"#, &c), "/tmpl-c!");
        assert_eq!(ok("{{len .Config.Labels}}", &c), "2");
        // The typed run compares the int; against a string, docker's retry compares json.Number text.
        assert_eq!(ok(r#"{{eq .State.Pid 0}}|{{eq .State.Pid "0"}}"#, &c), "true|true");
        assert_eq!(ok("{{len .HostConfig.Memory}}", &c), "8");
        assert_eq!(ok("{{truncate .Name .State.Pid}}", &c), "");
        assert_eq!(
            err("{{lower .HostConfig.Memory}}", &c),
            r#"template parsing error: template: :1:19: executing "" at <.HostConfig.Memory>: wrong type for value; expected string; got json.Number"#
        );
        assert_eq!(
            err("{{index .Config.Cmd 1}}", &c),
            r#"template parsing error: template: :1:2: executing "" at <index .Config.Cmd 1>: error calling index: reflect: slice index out of range"#
        );
        assert_eq!(
            err(r#"{{(index . "State").Health}}"#, &c),
            r#"template parsing error: template: :1:11: executing "" at <"State">: map has no entry for key "Health""#
        );
    }

    #[test]
    fn execution_errors_as_on_the_engine() {
        let n = tnet();
        let cases = [
            ("{{.Nope}}", r#":1:2: executing "" at <.Nope>: map has no entry for key "Nope""#),
            ("{{json}}", r#":1:2: executing "" at <json>: wrong number of args for json: want 1 got 0"#),
            ("{{.Name.Foo}}", r#":1:7: executing "" at <.Name.Foo>: can't evaluate field Foo in type interface {}"#),
            (
                "{{.IPAM.Config.Subnet}}",
                r#":1:7: executing "" at <.IPAM.Config.Subnet>: can't evaluate field Subnet in type interface {}"#,
            ),
            ("{{.IPAM.Nope.X}}", r#":1:7: executing "" at <.IPAM.Nope.X>: map has no entry for key "Nope""#),
            ("{{range .Name}}x{{end}}", r#":1:8: executing "" at <.Name>: range can't iterate over tnet-tmpl"#),
            ("{{range .EnableIPv6}}x{{end}}", r#":1:8: executing "" at <.EnableIPv6>: range can't iterate over false"#),
            (
                "{{.A.B.C.D.E.F.G.H.I.J.K.L}}",
                r#":1:4: executing "" at <.A.B.C.D.E.F.G.H.I.J.K.L>: map has no entry for key "A""#,
            ),
            ("{{.Name}}\n{{.Nope}}", r#":2:2: executing "" at <.Nope>: map has no entry for key "Nope""#),
            ("line1\n  {{.IPAM.Nope}}", r#":2:9: executing "" at <.IPAM.Nope>: map has no entry for key "Nope""#),
            (r#"{{.Name "a"}}"#, r#":1:2: executing "" at <.Name>: Name is not a method but has arguments"#),
            ("{{lower 1}}", r#":1:8: executing "" at <1>: expected string; found 1"#),
            (
                "{{lower .EnableIPv6}}",
                r#":1:8: executing "" at <.EnableIPv6>: wrong type for value; expected string; got bool"#,
            ),
            (
                "{{lower .IPAM}}",
                r#":1:8: executing "" at <.IPAM>: wrong type for value; expected string; got map[string]interface {}"#,
            ),
            ("{{json .Name .Name}}", r#":1:2: executing "" at <json>: wrong number of args for json: want 1 got 2"#),
            (
                r#"{{index .Labels "a" "b"}}"#,
                r#":1:2: executing "" at <index .Labels "a" "b">: error calling index: cannot index slice/array with type string"#,
            ),
            (
                "{{index .IPAM.Config 5}}",
                r#":1:2: executing "" at <index .IPAM.Config 5>: error calling index: index out of range: 5"#,
            ),
            ("{{printf}}", r#":1:2: executing "" at <printf>: wrong number of args for printf: want at least 1 got 0"#),
            ("{{.Name | .Id}}", r#":1:10: executing "" at <.Id>: Id is not a method but has arguments"#),
            (
                "{{range $i, $c := .IPAM.Config}}{{$c.Nope}}{{end}}",
                r#":1:36: executing "" at <$c.Nope>: map has no entry for key "Nope""#,
            ),
            (
                "{{eq .Name 1}}",
                r#":1:2: executing "" at <eq .Name 1>: error calling eq: incompatible types for comparison"#,
            ),
            ("{{json .Nope}}", r#":1:7: executing "" at <.Nope>: map has no entry for key "Nope""#),
            ("{{join .IPAM.Config}}", r#":1:2: executing "" at <join>: wrong number of args for join: want 2 got 1"#),
            ("{{len .EnableIPv6}}", r#":1:2: executing "" at <len .EnableIPv6>: error calling len: len of type bool"#),
            ("{{not}}", r#":1:2: executing "" at <not>: wrong number of args for not: want 1 got 0"#),
            ("{{eq .Name}}", r#":1:2: executing "" at <eq .Name>: error calling eq: missing argument for comparison"#),
            (r#"{{printf "%v" .Nope}}"#, r#":1:14: executing "" at <.Nope>: map has no entry for key "Nope""#),
            (r#"{{ "lit" }}|{{ 3 }}|{{ true }}|{{ nil }}"#, r#":1:34: executing "" at <nil>: nil is not a command"#),
        ];
        for (format, want) in cases {
            let e = render(format, &n).expect_err(format);
            assert_eq!(e.0, format!("template parsing error: template: {want}"), "{format}");
            assert_eq!(e.exit_status(), 1, "{format}");
        }
    }

    #[test]
    fn parse_errors_as_on_the_engine() {
        let n = tnet();
        let cases = [
            ("{{.A", ":1: unclosed action"),
            ("{{end}}", ":1: unexpected {{end}}"),
            ("{{else}}", ":1: unexpected {{else}}"),
            ("{{foo .Name}}", r#":1: function "foo" not defined"#),
            ("{{.Name | foo}}", r#":1: function "foo" not defined"#),
            ("{{if}}{{end}}", ":1: missing value for if"),
            ("{{range .Labels}}", ":1: unexpected EOF"),
            ("{{range .Labels}}{{else}}{{else}}{{end}}", ":1: expected end; found {{else}}"),
            (r#"{{"abc}}"#, ":1: unterminated quoted string"),
            ("{{.Name}} {{.A", ":1: unclosed action"),
            ("x\n{{.A", ":2: unclosed action"),
            ("{{.A\n\n", ":3: unclosed action started at :1"),
            ("{{$x}}", r#":1: undefined variable "$x""#),
            ("a {{-.Name}}", r#":1: bad number syntax: "-.N""#),
            ("{{.Name}}{{/* unclosed", ":1: unclosed comment"),
            ("{{(.Name}}", ":1: unclosed left paren"),
            ("{{.Name)}}", ":1: unexpected right paren"),
            ("{{range $k, $v := .Labels}}{{$k}}{{end}}{{$k}}", r#":1: undefined variable "$k""#),
        ];
        for (format, want) in cases {
            let e = render(format, &n).expect_err(format);
            assert_eq!(e.0, format!("template parsing error: template: {want}"), "{format}");
            assert_eq!(e.exit_status(), 64, "{format}");
        }
    }

    // Not checked on the engine: Go's own behaviour, from its sources and go1.19's fmt.
    #[test]
    fn go_semantics_beyond_the_engine_checks() {
        let v = json!({"F": 1.5, "Big": 1.7e7, "Tiny": 1e-5, "L": ["a", null, 3], "E": [], "S": "x", "N": null});
        assert_eq!(ok("{{.F}}|{{.Big}}|{{.Tiny}}", &v), "1.5|1.7e+07|1e-05");
        assert_eq!(ok("{{json .Big}}|{{json .Tiny}}", &v), "17000000|0.00001");
        assert_eq!(ok("{{.L}}|{{.N}}|{{print .N}}|{{json .N}}", &v), "[a <nil> 3]|<no value>|<nil>|null");
        assert_eq!(ok("{{if .E}}y{{else}}n{{end}}{{if .N}}y{{else}}n{{end}}", &v), "nn");
        assert_eq!(ok(r#"{{join .L ","}}|{{join .E ","}}"#, &v), "a,<nil>,3|");
        assert_eq!(
            err(r#"{{join .S ","}}"#, &v),
            r#"template parsing error: template: :1:2: executing "" at <join .S ",">: error calling join: expected slice, got string"#
        );
        assert_eq!(ok("{{range .L}}{{if not .}}{{break}}{{end}}{{.}}{{end}}", &v), "a");
        assert_eq!(ok("{{range .L}}{{if not .}}{{continue}}{{end}}{{.}}{{end}}", &v), "a3");
        assert_eq!(ok("{{$x := 1}}{{$x = .S}}{{$x}}", &v), "x");
        assert_eq!(ok("{{range 3}}{{.}}{{end}}", &v), "012");
        assert_eq!(ok("{{with .S}}{{.}}{{else with .F}}{{.}}{{end}}", &v), "x");
        assert_eq!(ok("{{lt 1 2}}|{{ge .F 2.0}}|{{gt .S \"a\"}}", &v), "true|false|true");
        assert_eq!(ok(r#"{{printf "%T %T %5.1f" .S .L .F}}"#, &v), "string []interface {}   1.5");
        assert_eq!(
            err("{{.N.X}}", &v),
            r#"template parsing error: template: :1:4: executing "" at <.N.X>: nil pointer evaluating interface {}.X"#
        );
        assert_eq!(err("{{break}}", &v), "template parsing error: template: :1: {{break}} outside {{range}}");
        assert_eq!(TemplateError("template parsing error: template: :1: unclosed action".into()).exit_status(), 64);
        assert_eq!(render("plain text", &v).as_deref(), Ok("plain text"));
        assert_eq!(ok("{{.}}", &json!({"b": [1, true], "a": "x"})), "map[a:x b:[1 true]]");
    }
}
