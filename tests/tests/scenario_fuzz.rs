//! Fuzzing the scenario loader: mutated, random and half-valid RON must never panic, and
//! every error it reports must point inside the file it was given.
//!
//! Seed corpus: every `scenarios/**/*.ron`, read at test time. Properties:
//! 1. Mutations of real files (byte-range deletes and duplicates, inserted RON tokens, line
//!    swaps, quoted strings swapped for other quoted strings of the corpus, truncation) never
//!    panic in `Loaded::from_str`, `Loaded::build` or a short run of the built simulation.
//! 2. Every `Err` from `from_str` or `build` is located: `1 <= line <= lines + 1`, `col >= 1`,
//!    and its Display starts with `file:`.
//! 3. Random bytes, random ASCII and random streams of RON tokens never panic.
//! 4. Bad words in the `run:` strings of the Docker scenarios make the step fail as a shell
//!    would (the file still loads and runs) and give a warning on the line of the failing
//!    step's `run:` field; a plan the simulator cannot build is an error there instead.
//!
//! Panics are caught with `catch_unwind` (`netsim_tests::fuzz::panics`); a silent panic hook
//! records the message, the location and a backtrace, and the property fails with the input
//! printed.
//! `PROPTEST_CASES` and `PROPTEST_RNG_SEED` are honoured (default 256 cases a property).

use std::sync::OnceLock;

use netsim_tests::fuzz::panics::no_panic;
use netsim_tests::fuzz::targets::{Outcome, check_located, exercise};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;
use sim_core::scenario::{Loaded, ScenarioError};

// ----- corpus --------------------------------------------------------------------------------

struct Corpus {
    /// (path relative to the workspace, text)
    files: Vec<(String, String)>,
    /// Every double-quoted string of every file, quotes included, as written.
    strings: Vec<String>,
    /// The same, by the field they are the value of (`run`, `addr`, `ns`, …).
    by_field: std::collections::BTreeMap<String, Vec<String>>,
}

/// The field name before the string at byte `a` (`name: "…"` gives `name`).
fn field_of(text: &str, a: usize) -> Option<&str> {
    let before = text[..a].trim_end().strip_suffix(':')?.trim_end();
    let start = before
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    (start < before.len()).then(|| &before[start..])
}

fn corpus() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| {
        let files = netsim_tests::fuzz::corpus::scenario_files().to_vec();
        assert!(
            !files.is_empty(),
            "no scenarios/**/*.ron found under {}",
            netsim_tests::fuzz::corpus::root().display()
        );
        let mut strings: Vec<String> =
            files.iter().flat_map(|(_, t)| quoted_spans(t).into_iter().map(|(a, b)| t[a..b].to_string())).collect();
        strings.sort();
        strings.dedup();
        let mut by_field: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (_, t) in &files {
            for (a, b) in quoted_spans(t) {
                if let Some(f) = field_of(t, a) {
                    by_field.entry(f.to_string()).or_default().push(t[a..b].to_string());
                }
            }
        }
        Corpus { files, strings, by_field }
    })
}

/// The files with Docker-style `steps` (a `run:` string).
fn docker_files() -> Vec<&'static (String, String)> {
    corpus().files.iter().filter(|(_, t)| !run_fields(t).is_empty()).collect()
}

/// Byte spans (quotes included) of the double-quoted strings of `text`, outside `//` comments.
fn quoted_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if i < b.len() {
                    out.push((start, i + 1));
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

// ----- the code under test -------------------------------------------------------------------
//
// `exercise` (load, build, a bounded run), `check_located` and the quiet panic catcher are
// shared with the byte-level fuzz targets (tests/src/fuzz, run by tests/tests/fuzz.rs).

/// Everything properties 1–3 ask of one input.
fn fuzz_one(file: &str, text: &str) -> Result<(), TestCaseError> {
    let out = no_panic(|| exercise(file, text, true))
        .map_err(|p| TestCaseError::fail(format!("PANIC on input {text:?}\n{p}")))?;
    if std::env::var_os("SCENARIO_FUZZ_STATS").is_some() {
        let k = match &out {
            Outcome::LoadErr(e) => format!("load-err {}", e.message.chars().take(60).collect::<String>()),
            Outcome::BuildErr(e) => format!("build-err {}", e.message.chars().take(60).collect::<String>()),
            Outcome::Ran => "ran".into(),
        };
        eprintln!("STAT {file} {k}");
    }
    if let Outcome::LoadErr(e) | Outcome::BuildErr(e) = &out {
        check_located(file, text, e).map_err(|m| TestCaseError::fail(format!("{m}\n({out:?})\ninput: {text:?}")))?;
    }
    Ok(())
}

// ----- mutations -----------------------------------------------------------------------------

const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "Some(",
    "None",
    "true",
    "false",
    "0",
    "1",
    "-1",
    "65535",
    "65536",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999999",
    "-9223372036854775808",
    "1e99",
    "-0.0",
    "NaN",
    "\"1e99s\"",
    "\"-1s\"",
    "\"0s\"",
    "\"18446744073709551615s\"",
    "\"99999999999h\"",
    "\"\"",
    "\"é\"",
    "\"\\u{1F600}\"",
    "\"\\",
    "é",
    "日本",
    "\u{1F600}",
    "\u{0}",
    "\r",
    "\n",
    "//",
    "/*",
    "*/",
    "r#\"",
    "'a'",
    "b\"x\"",
    "#![enable(implicit_some)]",
    "Scenario(",
    "name:",
    "plan: (",
    "steps: [",
    "(on: \"host1\", run: \"docker network create n\"),",
    "\"0.0.0.0/0\"",
    "\"255.255.255.255/32\"",
    "\"10.0.0.1/33\"",
    "\"ff:ff:ff:ff:ff:ff\"",
    "\"00:00:00:00:00:00\"",
    "\"default\"",
    "\"host1/eth0\"",
    "\"*/*\"",
    "\"lan/*\"",
];

/// Pieces spliced into quoted strings: escapes, unicode, shell quoting, field names.
const PIECES: &[&str] = &[
    "é",
    "日本",
    "\u{1F600}",
    "\\\"",
    "\\\"\\\"é",
    "\\u{e9}",
    "\\n",
    "\\t",
    "\\\\",
    "'",
    " ",
    "  ",
    "run:",
    "/",
    "/24",
    ":",
    "=",
    "--bogus",
    " --bogus",
    " -p 99999:80",
    " --ip 300.1.1.1",
    "9999999999999999999",
    "-1",
    ".0",
    "s",
    "ms",
];

#[derive(Clone, Debug)]
enum Mutation {
    /// Splice `piece` into the `which`-th quoted string, at `at` inside it.
    Splice {
        which: Index,
        at: Index,
        piece: Index,
    },
    /// Replace the `which`-th string with one the corpus gives the same field.
    ReplaceSameField {
        which: Index,
        with: Index,
    },
    /// Replace the `which`-th number (a run of ASCII digits outside strings) with `with`.
    ReplaceNumber {
        which: Index,
        with: String,
    },
    Delete {
        at: Index,
        len: usize,
    },
    Duplicate {
        from: Index,
        len: usize,
        to: Index,
    },
    Insert {
        at: Index,
        what: String,
    },
    SwapLines {
        a: Index,
        b: Index,
    },
    ReplaceString {
        which: Index,
        with: Index,
    },
    Truncate {
        at: Index,
    },
}

fn insertion() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(TOKENS).prop_map(str::to_string),
        2 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| format!("\"{n}s\"")),
        1 => "\\PC{1,4}",
        1 => "[ -~]{1,8}",
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        2 => (any::<Index>(), 1usize..128, any::<Index>()).prop_map(|(from, len, to)| Mutation::Duplicate {
            from,
            len,
            to
        }),
        4 => (any::<Index>(), insertion()).prop_map(|(at, what)| Mutation::Insert { at, what }),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        5 => (any::<Index>(), any::<Index>()).prop_map(|(which, with)| Mutation::ReplaceString { which, with }),
        1 => any::<Index>().prop_map(|at| Mutation::Truncate { at }),
        4 => value_mutation(),
    ]
}

/// Mutations that keep the RON well-formed more often than not: they reach validation.
fn value_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), any::<Index>()).prop_map(|(which, with)| Mutation::ReplaceString { which, with }),
        4 => (any::<Index>(), any::<Index>()).prop_map(|(which, with)| Mutation::ReplaceSameField { which, with }),
        3 => (any::<Index>(), any::<Index>(), any::<Index>()).prop_map(|(which, at, piece)| Mutation::Splice {
            which,
            at,
            piece
        }),
        2 => (any::<Index>(), number()).prop_map(|(which, with)| Mutation::ReplaceNumber { which, with }),
    ]
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u8>().prop_map(|n| n.to_string()),
        any::<u16>().prop_map(|n| n.to_string()),
        any::<u32>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        prop::sample::select(&["0", "1", "65536", "4294967296", "18446744073709551616", "-1", "1.5", "1e3"][..])
            .prop_map(str::to_string),
    ]
}

/// Byte spans of the numbers of `text` outside strings and comments.
fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let strings = quoted_spans(text);
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
            && !strings.iter().any(|&(a, z)| a <= i && i < z)
        {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

/// The char boundary at or before byte `i`.
fn floor(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn pos(s: &str, at: &Index) -> usize {
    floor(s, at.index(s.len() + 1))
}

fn apply(text: &mut String, m: &Mutation) {
    match m {
        Mutation::Delete { at, len } => {
            let a = pos(text, at);
            let b = floor(text, a + len);
            text.replace_range(a..b, "");
        }
        Mutation::Duplicate { from, len, to } => {
            let a = pos(text, from);
            let b = floor(text, a + len);
            let piece = text[a..b].to_string();
            let t = pos(text, to);
            text.insert_str(t, &piece);
        }
        Mutation::Insert { at, what } => {
            let a = pos(text, at);
            text.insert_str(a, what);
        }
        Mutation::SwapLines { a, b } => {
            let mut lines: Vec<&str> = text.split('\n').collect();
            let (i, j) = (a.index(lines.len()), b.index(lines.len()));
            lines.swap(i, j);
            *text = lines.join("\n");
        }
        Mutation::ReplaceString { which, with } => {
            let spans = quoted_spans(text);
            if spans.is_empty() {
                return;
            }
            let (a, b) = spans[which.index(spans.len())];
            let strings = &corpus().strings;
            let new = &strings[with.index(strings.len())];
            text.replace_range(a..b, new);
        }
        Mutation::Truncate { at } => {
            let a = pos(text, at);
            text.truncate(a);
        }
        Mutation::Splice { which, at, piece } => {
            let spans = quoted_spans(text);
            if spans.is_empty() {
                return;
            }
            let (a, b) = spans[which.index(spans.len())];
            // Inside the quotes, not in the middle of an escape.
            let mut p = a + 1 + at.index(b - a - 1);
            p = floor(text, p);
            while p > a + 1 && text.as_bytes()[p - 1] == b'\\' {
                p -= 1;
            }
            text.insert_str(p, PIECES[piece.index(PIECES.len())]);
        }
        Mutation::ReplaceSameField { which, with } => {
            let spans = quoted_spans(text);
            if spans.is_empty() {
                return;
            }
            let (a, b) = spans[which.index(spans.len())];
            let Some(same) = field_of(text, a).and_then(|f| corpus().by_field.get(f)) else { return };
            let new = same[with.index(same.len())].clone();
            text.replace_range(a..b, &new);
        }
        Mutation::ReplaceNumber { which, with } => {
            let spans = number_spans(text);
            if spans.is_empty() {
                return;
            }
            let (a, b) = spans[which.index(spans.len())];
            text.replace_range(a..b, with);
        }
    }
}

fn mutated_file() -> impl Strategy<Value = (usize, Vec<Mutation>)> {
    (0..corpus().files.len(), prop::collection::vec(mutation(), 1..=8))
}

/// A token soup: a valid-looking start, then random RON tokens, names and values.
fn token_soup() -> impl Strategy<Value = String> {
    let tok = prop_oneof![
        4 => prop::sample::select(TOKENS).prop_map(str::to_string),
        3 => any::<Index>().prop_map(|i| {
            let s = &corpus().strings;
            s[i.index(s.len())].clone()
        }),
        2 => prop::sample::select(&[
            "hosts: [", "addr:", "docker:", "traffic: [", "links: [", "addresses: [", "routes: [", "iptables: [",
            "namespaces: [", "Veth(", "Bridge(", "Vxlan(", "Macvlan(", "Vlan(", "Ping(", "TcpListen(", "TcpConnect(",
            "UdpSend(", "UdpListen(", "at:", "ns:", "dev:", "dst:", "via:", "count:", "seed:", "until:", "capture:",
            "peer:", "peer_ns:", "master:", "mtu:", "vni:", "id:", "parent:", "table:", "rule:", "on:", "run:",
        ][..])
        .prop_map(str::to_string),
        1 => any::<u32>().prop_map(|n| n.to_string()),
    ];
    prop::collection::vec(tok, 0..80).prop_map(|v| format!("Scenario(name: \"soup\", {}", v.join(" ")))
}

// ----- property 4: the Docker steps ----------------------------------------------------------

/// One step's `run:` field: its 1-based line and the byte span of its content (no quotes).
#[derive(Clone, Debug)]
struct RunField {
    line: usize,
    content: (usize, usize),
}

/// The `run:` fields of `text`, in file order (one step a line, as the corpus writes them).
fn run_fields(text: &str) -> Vec<RunField> {
    let mut out = Vec::new();
    let mut off = 0;
    for (i, l) in text.split('\n').enumerate() {
        // A step's line starts `(on: "host", run: "…"`; a `Command` check's `run:` is not a step.
        if l.trim_start().starts_with("(on: \"")
            && let Some(p) = l.find("run: \"")
        {
            let start = off + p + "run: \"".len();
            if let Some(&(a, b)) = quoted_spans(&text[start - 1..]).first() {
                out.push(RunField { line: i + 1, content: (start - 1 + a + 1, start - 1 + b - 1) });
            }
        }
        off += l.len() + 1;
    }
    out
}

/// Words that break a command line.
const BAD: &[&str] = &[
    "--bogus",
    "-p 99999:80",
    "--ip 300.1.1.1",
    "--network nosuchnet",
    "nosuchnet",
    "nosuchcontainer",
    "-Z",
    "--name",
    "--publish=80:99999",
    "-e",
    "--",
    "'",
    "\\\"",
    "--ip=1.2.3",
    "-p 8080:80/sctpx",
    "--subnet 10.0.0.0/33",
    "--driver nosuchdriver",
    "é",
    "\\\"\\\"é",
    "\\u{e9}\\u{e9}é",
    "run:",
];

#[derive(Clone, Debug)]
enum RunMut {
    /// Replace one word of a step with a bad word: may or may not be an error.
    Replace { step: Index, word: Index, with: Index },
    /// Insert a bad flag right after the (sub)command, after a flag value that is quoted,
    /// escaped or not ASCII (`lead`): always an error.
    Flag { step: Index, lead: Index, with: Index },
    /// The container of `docker exec NAME …` or `docker network connect NET NAME` becomes an
    /// unknown one: always an error.
    NoSuchContainer { step: Index },
    /// A commented-out step (with a `run:`) above step `step`: must not move any error.
    CommentOut { step: Index },
}

/// Flags that every command rejects when they follow the (sub)command. The names are not in
/// `BAD`, so a `Replace` cannot create them.
const BAD_FLAGS: &[&str] = &["--bogus", "-p 99999:80", "--ip 300.1.1.1", "--network ghostnet404", "--ip=1.2.3", "-Z"];

/// What may come before the bad flag: a flag of `docker run`/`exec` and an odd value.
const LEADS: &[&str] = &["", "", "", "-e \\\"\\\"é ", "-e \\\"A=日本\\\" ", "-e \\u{e9}=1 ", "-e é ", "-e \\\"\\\" "];

fn run_mut() -> impl Strategy<Value = RunMut> {
    prop_oneof![
        3 => (any::<Index>(), any::<Index>(), any::<Index>()).prop_map(|(step, word, with)| RunMut::Replace {
            step,
            word,
            with
        }),
        2 => (any::<Index>(), any::<Index>(), any::<Index>()).prop_map(|(step, lead, with)| RunMut::Flag {
            step,
            lead,
            with
        }),
        1 => any::<Index>().prop_map(|step| RunMut::NoSuchContainer { step }),
        1 => any::<Index>().prop_map(|step| RunMut::CommentOut { step }),
    ]
}

/// Applies `m` to `text`; returns the index of the step it changed and whether the result
/// must be an error.
fn apply_run(text: &mut String, m: &RunMut) -> Option<(usize, bool)> {
    let fields = run_fields(text);
    let pick = |s: &Index| s.index(fields.len());
    match m {
        RunMut::Replace { step, word, with } => {
            let i = pick(step);
            let (a, b) = fields[i].content;
            let words: Vec<(usize, &str)> = text[a..b]
                .split(' ')
                .scan(0, |o, w| {
                    let r = (*o, w);
                    *o += w.len() + 1;
                    Some(r)
                })
                .filter(|(_, w)| !w.is_empty())
                .collect();
            let (o, w) = words[word.index(words.len())];
            let bad = BAD[with.index(BAD.len())];
            text.replace_range(a + o..a + o + w.len(), bad);
            Some((i, false))
        }
        RunMut::Flag { step, lead, with } => {
            let i = pick(step);
            let (a, b) = fields[i].content;
            let run = &text[a..b];
            let prefix = ["docker network create ", "docker network connect ", "docker run ", "docker exec ", "curl "]
                .into_iter()
                .find(|p| run.starts_with(p))?;
            let bad = BAD_FLAGS[with.index(BAD_FLAGS.len())];
            // `-e` is a flag of `run` and `exec` only.
            let lead = if prefix.starts_with("docker run") || prefix.starts_with("docker exec") {
                LEADS[lead.index(LEADS.len())]
            } else {
                ""
            };
            text.insert_str(a + prefix.len(), &format!("{lead}{bad} "));
            Some((i, true))
        }
        RunMut::CommentOut { step } => {
            let i = pick(step);
            let (a, _) = fields[i].content;
            let bol = text[..a].rfind('\n').map_or(0, |n| n + 1);
            text.insert_str(bol, "        // (on: \"host1\", run: \"docker run --bogus x\"),\n");
            Some((i, false))
        }
        RunMut::NoSuchContainer { step } => {
            // The first step (from `step` on, wrapping) that names a container.
            for k in 0..fields.len() {
                let i = (pick(step) + k) % fields.len();
                let (a, b) = fields[i].content;
                let run = &text[a..b];
                let words: Vec<&str> = run.split(' ').collect();
                let at = match words.as_slice() {
                    ["docker", "exec", ..] => 2,
                    ["docker", "network", "connect", ..] => 4,
                    _ => continue,
                };
                if words.len() <= at || words[at].starts_with('-') {
                    continue;
                }
                let o: usize = words[..at].iter().map(|w| w.len() + 1).sum();
                text.replace_range(a + o..a + o + words[at].len(), "ghost-container-404");
                return Some((i, true));
            }
            None
        }
    }
}

/// The step number in the error's help, `step N (on …)`, 0-based.
fn failing_step(e: &ScenarioError) -> Option<usize> {
    let h = e.help.as_deref()?;
    let rest = h.strip_prefix("step ")?;
    let n: usize = rest.split(' ').next()?.parse().ok()?;
    n.checked_sub(1)
}

// ----- properties ----------------------------------------------------------------------------

fn config() -> Config {
    // `Config::default()` reads PROPTEST_CASES / PROPTEST_RNG_SEED; found panics become
    // plain #[test]s below rather than a regressions file.
    Config { failure_persistence: None, ..Config::default() }
}

proptest! {
    #![proptest_config(config())]

    /// Properties 1 and 2 on mutated corpus files.
    #[test]
    fn mutated_scenarios_never_panic((file, muts) in mutated_file()) {
        let (name, text) = &corpus().files[file];
        let mut t = text.clone();
        for m in &muts {
            apply(&mut t, m);
        }
        fuzz_one(name, &t)?;
    }

    /// Properties 1 and 2 with value mutations only (strings and numbers): deep validation.
    #[test]
    fn value_mutations_never_panic(
        file in 0..corpus().files.len(),
        muts in prop::collection::vec(value_mutation(), 1..=4),
    ) {
        let (name, text) = &corpus().files[file];
        let mut t = text.clone();
        for m in &muts {
            apply(&mut t, m);
        }
        fuzz_one(name, &t)?;
    }

    /// Properties 2 and 3 on random bytes (lossily made UTF-8).
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        fuzz_one("random.ron", &String::from_utf8_lossy(&bytes))?;
    }

    /// Properties 2 and 3 on random printable ASCII with newlines.
    #[test]
    fn random_ascii_never_panics(text in "[ -~\n\t]{0,400}") {
        fuzz_one("ascii.ron", &text)?;
    }

    /// Properties 2 and 3 on streams of RON tokens, names and corpus strings.
    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        fuzz_one("soup.ron", &text)?;
    }

    /// Property 4: a bad word in a Docker step's `run:` string is a warning on that line.
    #[test]
    fn bad_docker_steps_are_located(file in any::<Index>(), muts in prop::collection::vec(run_mut(), 1..=2)) {
        let files = docker_files();
        let (name, text) = files[file.index(files.len())];
        let mut t = text.clone();
        let mut first = usize::MAX;
        // Steps the mutations must make fail.
        let mut must_fail: Vec<usize> = Vec::new();
        // Replacements first: a later one could overwrite an inserted flag.
        let mut muts = muts;
        muts.sort_by_key(|m| !matches!(m, RunMut::Replace { .. }));
        for m in &muts {
            if let Some((i, fails)) = apply_run(&mut t, m) {
                first = first.min(i);
                if fails {
                    must_fail.push(i);
                }
            }
        }
        let out = no_panic(|| exercise(name, &t, false))
            .map_err(|p| TestCaseError::fail(format!("PANIC on input {t:?}\n{p}")))?;
        let fields = run_fields(&t);
        match &out {
            Outcome::Ran => {
                // A failing step runs and fails, as in a shell: the loader warns at its run line.
                let l = Loaded::from_str(name, &t).map_err(|e| TestCaseError::fail(format!("ran, then {e}")))?;
                let Some(w) = l.warnings.first() else {
                    // A step marked `fails: true` fails without a warning: that is the lesson.
                    let marked = |i: &usize| l.scenario.steps.get(*i).is_some_and(|s| s.fails);
                    prop_assert!(must_fail.iter().all(marked), "expected a warning for a failing step, none came: {t}");
                    return Ok(());
                };
                let step = fields.iter().position(|f| f.line == w.line);
                prop_assert!(step.is_some(), "warning not on a step's run line: {w}\n{t}");
                let step = step.unwrap_or_default();
                prop_assert!(step >= first, "step {} warned, the first changed step is {}: {w}\n{t}", step + 1, first + 1);
            }
            Outcome::BuildErr(e) => prop_assert!(false, "a step error only at build time: {e}\n{t}"),
            Outcome::LoadErr(e) => {
                check_located(name, &t, e).map_err(|m| TestCaseError::fail(format!("{m}\n{t}")))?;
                let Some(step) = failing_step(e) else {
                    return Err(TestCaseError::fail(format!("not a step error: {e} (help {:?})\n{t}", e.help)));
                };
                prop_assert!(
                    step >= first,
                    "step {} failed, but the first changed step is {}: {e}\n{t}",
                    step + 1,
                    first + 1
                );
                prop_assert_eq!(e.line, fields[step].line, "error not on step {}'s run: line: {}\n{}", step + 1, e, t);
            }
        }
    }
}

// ----- plain tests ---------------------------------------------------------------------------

#[test]
fn corpus_loads_builds_and_is_seen_by_the_walk() {
    let c = corpus();
    assert!(c.files.iter().any(|(p, _)| p.contains("docker")), "docker scenarios missing");
    assert!(c.files.iter().any(|(p, _)| p.contains("linux")), "linux scenarios missing");
    for (name, text) in &c.files {
        match no_panic(|| exercise(name, text, false)) {
            Ok(Outcome::Ran) => {}
            other => panic!("{name} should load and build: {other:?}"),
        }
    }
    for (name, text) in docker_files() {
        let fields = run_fields(text);
        assert!(!fields.is_empty(), "{name}: no run: fields found");
        let l = Loaded::from_str(name, text).expect("loads");
        assert_eq!(fields.len(), l.scenario.steps.len(), "{name}: run: fields vs steps");
    }
}

/// The first warning of a file whose step fails: the run goes on past the step, the warning
/// points at it.
fn step_warning(text: &str) -> sim_core::scenario::ScenarioWarning {
    let l = Loaded::from_str("t.ron", text).expect("a failing step does not stop the file");
    l.warnings.first().cloned().expect("the failing step is warned about")
}

/// A scenario with one host and one step, `run` written as it appears in the file.
fn one_step(run: &str) -> String {
    [
        "Scenario(",
        "    name: \"x\",",
        "    hosts: [(name: \"host1\", addr: \"192.168.99.101/24\")],",
        "    steps: [",
        &format!("        (on: \"host1\", run: \"{run}\"),"),
        "    ],",
        ")\n",
    ]
    .join("\n")
}

// found by scenario_fuzz (bad_docker_steps_are_located; fixed in sim-core by 2fba556): `Loaded::step_err` added a byte index
// into the *unescaped* `run` string to the offset of the opening quote in the file; with
// escapes (`\"`) before the offending word the sum lands inside the multi-byte `é` and
// `&self.text[..off]` panics (sim-core/src/scenario.rs, `step_err`, "end byte index … is not a
// char boundary").
#[test]
fn escaped_quotes_and_non_ascii_before_a_bad_flag() {
    let text = one_step(r#"docker run -e \"\"é --bogus alpine"#);
    let e = step_warning(&text);
    assert!(e.message.contains("--bogus"), "{e}");
    assert_eq!(e.line, 5, "{e}");
}

// Mislocations found while writing the fuzzer (not panics), fixed in sim-core by 2fba556
// ("Step errors locate the run string in the file's own text"); kept as regression tests.

/// `step_err` takes the index-th `run:` of the whole text, comments included: a commented-out
/// step above the failing one moves the error onto the comment.
#[test]
fn commented_out_step_does_not_shift_step_errors() {
    let text = one_step("docker run -dit --bogus alpine")
        .replace("    steps: [\n", "    steps: [\n        // (on: \"host1\", run: \"docker network create old\"),\n");
    let e = step_warning(&text);
    assert_eq!(e.line, 6, "{e}");
}

/// The same with `run:` inside another string (a description, or an earlier step's command).
#[test]
fn run_colon_inside_a_string_shifts_later_step_errors() {
    let text = one_step("docker run -dit --bogus alpine")
        .replace("    name: \"x\",\n", "    name: \"x\",\n    description: \"what to run: docker\",\n");
    let e = step_warning(&text);
    assert_eq!(e.line, 6, "{e}");
}

/// Escapes before the offending word shift its column left by one per escape.
#[test]
fn escapes_do_not_shift_the_column_of_a_bad_word() {
    let run = r#"docker run -e \"A\" --bogus alpine"#;
    let text = one_step(run);
    let e = step_warning(&text);
    let line = text.lines().nth(4).expect("line 5");
    assert_eq!((e.line, e.col), (5, line.find("--bogus").expect("in the line") + 1), "{e}");
}
