//! Where each value of a RON scenario file is: a path such as `plan.links[3].mtu` mapped to
//! the byte range of the value in the text.
//!
//! ron (0.12) reports a span for syntax and type errors but keeps none for values that parse
//! well, and serde's derived types cannot carry one. So the loader deserialises the file as
//! usual, then walks the same text once more with the small reader below, which knows only
//! RON's lexical structure (strings, raw strings, comments, brackets, `field:` and commas),
//! not the scenario's types. Validation then names the item it finds wrong by its path, and
//! the path gives the span of that very item: two `eth0` addresses on lines 6 and 11 are
//! told apart, which searching the text for the offending word cannot do.
//!
//! The walk runs only on text ron has accepted, so it need not explain syntax errors; it is
//! still total: on anything it does not understand it stops and keeps what it has, and it
//! never recurses deeper than ron's own limit.

use std::collections::HashMap;
use std::ops::Range;

/// ron's default recursion limit; a file deeper than this has already been refused.
const MAX_DEPTH: usize = 128;

/// Value paths to byte ranges. Paths: `name`, `plan.links[3]`, `plan.links[3].mtu`,
/// `layout["node1"]`, `layout["node1"].0`; in `mtu: Some(1400)` the path `…mtu` is `1400`.
#[derive(Debug, Default, Clone)]
pub struct SpanIndex {
    map: HashMap<String, Range<usize>>,
}

impl SpanIndex {
    pub fn build(text: &str) -> SpanIndex {
        let toks = lex(text);
        let mut idx = SpanIndex::default();
        let mut r = Reader { toks: &toks, pos: 0, text, out: &mut idx.map };
        r.value(String::new(), 0);
        idx
    }

    /// The span of the value at `path`, or of its nearest enclosing value the file spells
    /// out (a field left to its default has no span of its own: its item's is used).
    pub fn find(&self, path: &str) -> Option<Range<usize>> {
        let mut p = path;
        loop {
            if let Some(r) = self.map.get(p) {
                return Some(r.clone());
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }

    /// The first value (in file order) spelled exactly `token`, or `"token"` for a string:
    /// for errors that name a value but not where it came from.
    pub fn value_spelled(&self, text: &str, token: &str) -> Option<Range<usize>> {
        let quoted = format!("{token:?}");
        self.map
            .values()
            .filter(|r| text.get((*r).clone()).is_some_and(|v| v == quoted || (!token.is_empty() && v == token)))
            .min_by_key(|r| (r.start, r.end))
            .cloned()
    }

    /// The span of exactly `path`, if the file spells it out.
    pub fn get(&self, path: &str) -> Option<Range<usize>> {
        self.map.get(path).cloned()
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tok {
    Ident,
    Str,
    Other,
    Open(u8),
    Close(u8),
    Comma,
    Colon,
}

/// Tokens with their byte ranges; whitespace and comments are dropped.
fn lex(text: &str) -> Vec<(Tok, Range<usize>)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                // RON block comments nest.
                let mut depth = 0usize;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                i = quoted(b, i + 1, b'"');
                out.push((Tok::Str, start..i));
            }
            b'\'' => {
                i = quoted(b, i + 1, b'\'');
                out.push((Tok::Other, start..i));
            }
            b'b' if b.get(i + 1) == Some(&b'"') => {
                i = quoted(b, i + 2, b'"');
                out.push((Tok::Str, start..i));
            }
            b'r' | b'b' if raw_string_start(b, i).is_some() => {
                let (hashes, body) = raw_string_start(b, i).unwrap_or((0, i + 1));
                i = raw_string_end(b, body, hashes);
                out.push((Tok::Str, start..i));
            }
            b'(' | b'[' | b'{' => {
                i += 1;
                out.push((Tok::Open(c), start..i));
            }
            b')' | b']' | b'}' => {
                i += 1;
                out.push((Tok::Close(c), start..i));
            }
            b',' => {
                i += 1;
                out.push((Tok::Comma, start..i));
            }
            b':' => {
                i += 1;
                out.push((Tok::Colon, start..i));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                if c == b'r' && b.get(i + 1) == Some(&b'#') {
                    i += 2;
                }
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                out.push((Tok::Ident, start..i));
            }
            _ => {
                // Numbers (`-1.5e-3`, `0x1f`) and anything else: one token up to a separator.
                i += 1;
                while i < b.len() && !b" \t\r\n()[]{},:\"'/".contains(&b[i]) {
                    i += 1;
                }
                out.push((Tok::Other, start..i));
            }
        }
    }
    out
}

/// The index just past the closing `q` of a literal whose body starts at `i`.
fn quoted(b: &[u8], mut i: usize, q: u8) -> usize {
    while i < b.len() && b[i] != q {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    (i + 1).min(b.len())
}

/// `r"`, `r#"`, `br##"`…: the number of `#` and where the body starts.
fn raw_string_start(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let mut j = i + if b.get(i) == Some(&b'b') { 1 } else { 0 };
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while b.get(j) == Some(&b'#') {
        hashes += 1;
        j += 1;
    }
    (b.get(j) == Some(&b'"')).then_some((hashes, j + 1))
}

fn raw_string_end(b: &[u8], mut i: usize, hashes: usize) -> usize {
    while i < b.len() {
        if b[i] == b'"' && b.len() - (i + 1) >= hashes && b[i + 1..i + 1 + hashes].iter().all(|&h| h == b'#') {
            return i + 1 + hashes;
        }
        i += 1;
    }
    b.len()
}

struct Reader<'a> {
    toks: &'a [(Tok, Range<usize>)],
    pos: usize,
    text: &'a str,
    out: &'a mut HashMap<String, Range<usize>>,
}

impl Reader<'_> {
    fn peek(&self) -> Option<Tok> {
        self.toks.get(self.pos).map(|t| t.0)
    }

    fn peek2(&self) -> Option<Tok> {
        self.toks.get(self.pos + 1).map(|t| t.0)
    }

    fn end_of_last(&self) -> usize {
        self.pos.checked_sub(1).and_then(|p| self.toks.get(p)).map_or(0, |t| t.1.end)
    }

    /// One value at `path`; records its span. Returns false when the text ends or makes no
    /// sense here (the walk then stops).
    fn value(&mut self, path: String, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let Some((tok, range)) = self.toks.get(self.pos).cloned() else { return false };
        let start = range.start;
        match tok {
            Tok::Ident => {
                let some = self.text.get(range.clone()) == Some("Some");
                self.pos += 1;
                if self.peek() == Some(Tok::Open(b'(')) {
                    self.pos += 1;
                    let ok = if some { self.option_body(&path, depth) } else { self.body(&path, b')', depth) };
                    if !ok {
                        return false;
                    }
                }
            }
            Tok::Str | Tok::Other => self.pos += 1,
            Tok::Open(b'(') => {
                self.pos += 1;
                if !self.body(&path, b')', depth) {
                    return false;
                }
            }
            Tok::Open(b'[') => {
                self.pos += 1;
                if !self.list(&path, depth) {
                    return false;
                }
            }
            Tok::Open(b'{') => {
                self.pos += 1;
                if !self.map(&path, depth) {
                    return false;
                }
            }
            _ => return false,
        }
        let end = self.end_of_last();
        self.out.entry(path).or_insert(start..end);
        true
    }

    /// `Some(x)` stands for x: x is recorded at the option's own path (it is recorded first,
    /// so the path points at `x` itself), and its fields are the option's.
    fn option_body(&mut self, path: &str, depth: usize) -> bool {
        if !self.value(path.to_string(), depth + 1) {
            return false;
        }
        if self.peek() == Some(Tok::Comma) {
            self.pos += 1;
        }
        self.close(b')')
    }

    fn close(&mut self, c: u8) -> bool {
        if self.peek() == Some(Tok::Close(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// A struct, tuple or variant body: `field: value` or positional values, comma-separated.
    fn body(&mut self, path: &str, close: u8, depth: usize) -> bool {
        let mut index = 0;
        loop {
            if self.close(close) {
                return true;
            }
            let child = if self.peek() == Some(Tok::Ident) && self.peek2() == Some(Tok::Colon) {
                let name = self.toks.get(self.pos).and_then(|t| self.text.get(t.1.clone())).unwrap_or("");
                let name = name.strip_prefix("r#").unwrap_or(name);
                self.pos += 2;
                join(path, name)
            } else {
                index += 1;
                join(path, &(index - 1).to_string())
            };
            if !self.value(child, depth + 1) {
                return false;
            }
            match self.peek() {
                Some(Tok::Comma) => self.pos += 1,
                Some(Tok::Close(c)) if c == close => {}
                _ => return false,
            }
        }
    }

    fn list(&mut self, path: &str, depth: usize) -> bool {
        let mut index = 0usize;
        loop {
            if self.close(b']') {
                return true;
            }
            if !self.value(format!("{path}[{index}]"), depth + 1) {
                return false;
            }
            index += 1;
            match self.peek() {
                Some(Tok::Comma) => self.pos += 1,
                Some(Tok::Close(b']')) => {}
                _ => return false,
            }
        }
    }

    fn map(&mut self, path: &str, depth: usize) -> bool {
        loop {
            if self.close(b'}') {
                return true;
            }
            let Some((_, key)) = self.toks.get(self.pos).cloned() else { return false };
            let raw = self.text.get(key).unwrap_or("");
            let name = raw.trim_matches('"');
            self.pos += 1;
            if self.peek() != Some(Tok::Colon) {
                return false;
            }
            self.pos += 1;
            if !self.value(format!("{path}[{name:?}]"), depth + 1) {
                return false;
            }
            match self.peek() {
                Some(Tok::Comma) => self.pos += 1,
                Some(Tok::Close(b'}')) => {}
                _ => return false,
            }
        }
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_string() } else { format!("{path}.{name}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r##"// a comment with "quotes" and (brackets
Scenario(
    name: "t", /* nested /* block */ comment ] */
    plan: (
        links: [
            Veth(name: "eth0", ns: "a", mtu: Some(1400)),
            Bridge(name: r#"br"0"#, ns: "a"),
        ],
    ),
    layout: {"node1": (40, 60)},
)"##;

    fn at(i: &SpanIndex, path: &str) -> &'static str {
        let r = i.get(path).unwrap_or_else(|| panic!("no span for {path}: {i:?}"));
        &TEXT[r]
    }

    #[test]
    fn paths_map_to_the_values_themselves() {
        let i = SpanIndex::build(TEXT);
        assert_eq!(at(&i, "name"), "\"t\"");
        assert_eq!(at(&i, "plan.links[0].name"), "\"eth0\"");
        assert_eq!(at(&i, "plan.links[0].mtu"), "1400");
        assert_eq!(at(&i, "plan.links[1]"), "Bridge(name: r#\"br\"0\"#, ns: \"a\")");
        assert_eq!(at(&i, "plan.links[1].ns"), "\"a\"");
        assert_eq!(at(&i, "layout[\"node1\"].1"), "60");
        assert!(at(&i, "").starts_with("Scenario("));
    }

    #[test]
    fn a_field_left_out_falls_back_to_its_item() {
        let i = SpanIndex::build(TEXT);
        assert_eq!(i.find("plan.links[1].mtu").map(|r| &TEXT[r]), Some("Bridge(name: r#\"br\"0\"#, ns: \"a\")"));
        assert_eq!(i.get("plan.links[1].mtu"), None);
    }

    #[test]
    fn any_prefix_of_a_file_is_walked_without_panic() {
        for cut in 0..TEXT.len() {
            if let Some(t) = TEXT.get(..cut) {
                let _ = SpanIndex::build(t).find("plan.links[0].mtu");
            }
        }
        let deep = "(".repeat(10_000);
        let _ = SpanIndex::build(&deep);
        let deep = "Some(".repeat(10_000);
        let _ = SpanIndex::build(&deep);
    }
}
