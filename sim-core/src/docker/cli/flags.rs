//! A small emulation of spf13/pflag's parser (`FlagSet.parseArgs`), including its error
//! messages.

use super::lex::Word;
use super::types::{CliError, Span};
use super::values::{go_quote, go_quote_char, parse_bool};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Has `NoOptDefVal = "true"`: never consumes the next word.
    Bool,
    /// Requires a value (`--f v`, `--f=v`, `-fv`, `-f v`, `-f=v`).
    Value,
}

#[derive(Debug)]
pub(super) struct FlagDef {
    pub long: &'static str,
    pub short: Option<char>,
    pub kind: Kind,
}

/// Bool flag with a shorthand.
pub(super) const fn bs(long: &'static str, short: char) -> FlagDef {
    FlagDef { long, short: Some(short), kind: Kind::Bool }
}
/// Bool flag, long form only.
pub(super) const fn bl(long: &'static str) -> FlagDef {
    FlagDef { long, short: None, kind: Kind::Bool }
}
/// Value flag with a shorthand.
pub(super) const fn vs(long: &'static str, short: char) -> FlagDef {
    FlagDef { long, short: Some(short), kind: Kind::Value }
}
/// Value flag, long form only.
pub(super) const fn vl(long: &'static str) -> FlagDef {
    FlagDef { long, short: None, kind: Kind::Value }
}

impl FlagDef {
    /// The flag name pflag prints in `invalid argument … for "…" flag`.
    pub fn display(&self) -> String {
        match self.short {
            Some(s) => format!("-{s}, --{}", self.long),
            None => format!("--{}", self.long),
        }
    }
}

fn help_error(span: Span) -> CliError {
    CliError::new("netsim: --help is not supported in a scenario step", span)
}

/// Callback invoked for each flag occurrence, in command-line order (like pflag's
/// `Value.Set`). Bool values arrive normalised to `"true"`/`"false"`. An `Err(msg)` becomes
/// `invalid argument "<value>" for "<flag>" flag: <msg>`.
pub(super) type SetFn<'a> = dyn FnMut(&'static FlagDef, &str, Span) -> Result<(), String> + 'a;

/// Parse `words` against `defs`. Returns the positional arguments. With
/// `interspersed == false` parsing stops at the first positional (`SetInterspersed(false)`).
pub(super) fn parse_flags(
    words: &[Word],
    defs: &'static [FlagDef],
    interspersed: bool,
    set: &mut SetFn<'_>,
) -> Result<Vec<Word>, CliError> {
    let mut args = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        let s = w.text.as_str();
        if s.len() < 2 || !s.starts_with('-') {
            args.push(w.clone());
            if !interspersed {
                args.extend(words[i..].iter().cloned());
                return Ok(args);
            }
            continue;
        }
        if let Some(name_full) = s.strip_prefix("--") {
            if name_full.is_empty() {
                // "--" terminates the flags.
                args.extend(words[i..].iter().cloned());
                return Ok(args);
            }
            if name_full.starts_with('-') || name_full.starts_with('=') {
                return Err(CliError::new(format!("bad flag syntax: {s}"), w.span));
            }
            let (name, inline) = match name_full.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (name_full, None),
            };
            let Some(def) = defs.iter().find(|d| d.long == name) else {
                if name == "help" {
                    return Err(help_error(w.span));
                }
                return Err(CliError::new(format!("unknown flag: --{name}"), w.sub_span(0, 2 + name.len())));
            };
            let (value, vspan) = if let Some(v) = inline {
                let a = 3 + name.len();
                (v.to_string(), if v.is_empty() { w.span } else { w.sub_span(a, s.len()) })
            } else if def.kind == Kind::Bool {
                ("true".to_string(), w.span)
            } else if let Some(n) = words.get(i) {
                i += 1;
                (n.text.clone(), n.span)
            } else {
                return Err(CliError::new(format!("flag needs an argument: {s}"), w.span));
            };
            apply(def, &value, vspan, set)?;
        } else {
            // One or more shorthands: "-d", "-dit", "-p80:80", "-p=80:80".
            let mut pos = 1;
            while pos < s.len() {
                let rest = &s[pos..];
                let c = rest.chars().next().unwrap_or('-');
                let clen = c.len_utf8();
                let Some(def) = defs.iter().find(|d| d.short == Some(c)) else {
                    if c == 'h' {
                        return Err(help_error(w.span));
                    }
                    return Err(CliError::new(
                        format!("unknown shorthand flag: {} in -{rest}", go_quote_char(c)),
                        w.sub_span(pos, pos + clen),
                    ));
                };
                let after = &rest[clen..];
                let (value, vspan) = if after.len() > 1 && after.starts_with('=') {
                    let v = after[1..].to_string();
                    let sp = w.sub_span(pos + clen + 1, s.len());
                    pos = s.len();
                    (v, sp)
                } else if def.kind == Kind::Bool {
                    let sp = w.sub_span(pos, pos + clen);
                    pos += clen;
                    ("true".to_string(), sp)
                } else if !after.is_empty() {
                    let sp = w.sub_span(pos + clen, s.len());
                    pos = s.len();
                    (after.to_string(), sp)
                } else if let Some(n) = words.get(i) {
                    i += 1;
                    pos = s.len();
                    (n.text.clone(), n.span)
                } else {
                    return Err(CliError::new(
                        format!("flag needs an argument: {} in -{rest}", go_quote_char(c)),
                        w.sub_span(pos, pos + clen),
                    ));
                };
                apply(def, &value, vspan, set)?;
            }
        }
    }
    Ok(args)
}

fn apply(def: &'static FlagDef, value: &str, span: Span, set: &mut SetFn<'_>) -> Result<(), CliError> {
    let wrap = |msg: String| {
        CliError::new(
            format!("invalid argument {} for {} flag: {msg}", go_quote(value), go_quote(&def.display())),
            span,
        )
    };
    if def.kind == Kind::Bool {
        let b = parse_bool(value).map_err(wrap)?;
        set(def, if b { "true" } else { "false" }, span).map_err(wrap)
    } else {
        set(def, value, span).map_err(wrap)
    }
}
