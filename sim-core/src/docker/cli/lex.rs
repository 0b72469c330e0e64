//! POSIX-shell-like word splitting with source offsets.
//!
//! Supported: blanks between words, `'…'`, `"…"` (with `\"`, `\\`, `\$`, `` \` `` and
//! line-continuation escapes), backslash escapes outside quotes, and `#` comments at the
//! start of a word. Anything that would make the shell do more than split words (pipes,
//! redirections, `;`, `&`, sub-shells, `$VAR`/`$(…)` expansion, backticks) is rejected
//! with a netsim-specific message, because a scenario step must be a single literal
//! command.

use super::types::{CliError, Span};

/// One shell word after quote removal.
#[derive(Debug, Clone)]
pub(super) struct Word {
    pub text: String,
    /// Raw extent in the source, quotes included.
    pub span: Span,
    /// Source byte offset of every byte of `text`.
    offs: Vec<usize>,
}

impl Word {
    /// Source span of `text[a..b]` (clamped); falls back to the whole word when the slice is
    /// empty.
    pub fn sub_span(&self, a: usize, b: usize) -> Span {
        let b = b.min(self.text.len());
        if a >= b {
            return self.span;
        }
        let start = self.offs[a];
        let end = self.offs[b - 1] + 1;
        if end <= start {
            return self.span;
        }
        Span::new(start, end - start)
    }
}

struct Builder {
    start: usize,
    end: usize,
    text: String,
    offs: Vec<usize>,
}

impl Builder {
    fn push(&mut self, c: char, at: usize) {
        for k in 0..c.len_utf8() {
            self.offs.push(at + k);
        }
        self.text.push(c);
    }
}

fn is_expansion_start(c: Option<char>) -> bool {
    matches!(c, Some(c) if c.is_ascii_alphanumeric() || "_{(?@*#$!".contains(c))
}

fn expansion_error(at: usize, line: &str) -> CliError {
    let rest = &line[at..];
    let len = 1 + rest[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len() - 1).max(1);
    let len = len.min(rest.len());
    CliError::new(
        "netsim: shell expansion ('$…') is not supported in a scenario step; write the value literally",
        Span::new(at, len),
    )
}

/// Split `line` into words.
pub(super) fn tokenize(line: &str) -> Result<Vec<Word>, CliError> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut words = Vec::new();
    let mut cur: Option<Builder> = None;
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let next = chars.get(i + 1).map(|&(_, c)| c);
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if let Some(b) = cur.take() {
                    words.push(Word { text: b.text, span: Span::new(b.start, b.end - b.start), offs: b.offs });
                }
                i += 1;
                continue;
            }
            '#' if cur.is_none() => break,
            _ => {}
        }
        let b = cur.get_or_insert_with(|| Builder { start: at, end: at, text: String::new(), offs: Vec::new() });
        match c {
            '\'' => {
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(CliError::new(
                                "netsim: unterminated quote: missing closing '",
                                Span::new(at, line.len() - at),
                            ));
                        }
                        Some(&(_, '\'')) => break,
                        Some(&(o, ch)) => b.push(ch, o),
                    }
                    j += 1;
                }
                b.end = chars[j].0 + 1;
                i = j + 1;
            }
            '"' => {
                let mut j = i + 1;
                loop {
                    let Some(&(o, ch)) = chars.get(j) else {
                        return Err(CliError::new(
                            "netsim: unterminated quote: missing closing \"",
                            Span::new(at, line.len() - at),
                        ));
                    };
                    let nx = chars.get(j + 1).map(|&(_, c)| c);
                    match ch {
                        '"' => break,
                        '\\' if matches!(nx, Some('"' | '\\' | '$' | '`')) => {
                            let (o2, c2) = chars[j + 1];
                            b.push(c2, o2);
                            j += 1;
                        }
                        '\\' if nx == Some('\n') => j += 1,
                        '$' if is_expansion_start(nx) => return Err(expansion_error(o, line)),
                        '`' => {
                            return Err(CliError::new(
                                "netsim: command substitution (`…`) is not supported in a scenario step",
                                Span::new(o, 1),
                            ));
                        }
                        _ => b.push(ch, o),
                    }
                    j += 1;
                }
                b.end = chars[j].0 + 1;
                i = j + 1;
            }
            '\\' => {
                match chars.get(i + 1) {
                    Some(&(_, '\n')) => {}
                    Some(&(o2, c2)) => b.push(c2, o2),
                    None => b.push('\\', at),
                }
                let last = chars.get(i + 1).copied().unwrap_or((at, '\\'));
                b.end = last.0 + last.1.len_utf8();
                i += 2;
            }
            '|' | '&' | ';' | '<' | '>' | '(' | ')' | '`' => {
                return Err(CliError::new(
                    format!(
                        "netsim: shell syntax '{c}' is not supported in a scenario step; write one command per step"
                    ),
                    Span::new(at, c.len_utf8()),
                ));
            }
            '$' if is_expansion_start(next) => return Err(expansion_error(at, line)),
            _ => {
                b.push(c, at);
                b.end = at + c.len_utf8();
                i += 1;
            }
        }
    }
    if let Some(b) = cur.take() {
        words.push(Word { text: b.text, span: Span::new(b.start, b.end - b.start), offs: b.offs });
    }
    Ok(words)
}
