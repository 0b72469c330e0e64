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
//! 4. Bad words in the `run:` strings of the Docker scenarios give a non-empty error on the
//!    line of the failing step's `run:` field.
//!
//! Panics are caught with `catch_unwind`; a silent panic hook records the message, the
//! location and a backtrace, and the property fails with the input printed.
//! `PROPTEST_CASES` and `PROPTEST_RNG_SEED` are honoured (default 256 cases a property).

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Once, OnceLock};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;
use sim_core::scenario::{Loaded, ScenarioError};
use sim_core::{SimTime, Until};

// ----- corpus --------------------------------------------------------------------------------

struct Corpus {
    /// (path relative to the workspace, text)
    files: Vec<(String, String)>,
    /// Every double-quoted string of every file, quotes included, as written.
    strings: Vec<String>,
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "ron") {
            out.push(p);
        }
    }
}

fn corpus() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut paths = Vec::new();
        walk(&root.join("scenarios"), &mut paths);
        paths.sort();
        let files: Vec<(String, String)> = paths
            .iter()
            .map(|p| {
                let rel = p.strip_prefix(&root).unwrap_or(p).display().to_string();
                (rel, std::fs::read_to_string(p).expect("read corpus file"))
            })
            .collect();
        assert!(!files.is_empty(), "no scenarios/**/*.ron found under {}", root.display());
        let mut strings: Vec<String> =
            files.iter().flat_map(|(_, t)| quoted_spans(t).into_iter().map(|(a, b)| t[a..b].to_string())).collect();
        strings.sort();
        strings.dedup();
        Corpus { files, strings }
    })
}

fn docker_files() -> Vec<&'static (String, String)> {
    corpus().files.iter().filter(|(p, _)| p.contains("docker")).collect()
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

// ----- panics --------------------------------------------------------------------------------

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A quiet panic hook: the panic's message, location and backtrace go to `LAST_PANIC` of the
/// panicking thread instead of stderr (the shrinker would otherwise print hundreds).
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_fuzz = LAST_PANIC.with(|p| {
                let bt = std::backtrace::Backtrace::force_capture();
                let loc = info.location().map(|l| l.to_string()).unwrap_or_default();
                let msg = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                *p.borrow_mut() = Some(format!("panicked at {loc}: {msg}\n{bt}"));
                FUZZING.with(|f| *f.borrow())
            });
            if !in_fuzz {
                default(info);
            }
        }));
    });
}

thread_local! {
    static FUZZING: RefCell<bool> = const { RefCell::new(false) };
}

/// Runs `f`, turning a panic into `Err(message, location and backtrace)`.
fn no_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    FUZZING.with(|x| *x.borrow_mut() = true);
    let r = catch_unwind(AssertUnwindSafe(f));
    FUZZING.with(|x| *x.borrow_mut() = false);
    r.map_err(|_| LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| "panic (no message)".into()))
}

// ----- the code under test -------------------------------------------------------------------

/// Event cap and simulated-time limit of a run of a fuzzed scenario.
const MAX_EVENTS: u64 = 20_000;
const MAX_SECS: u64 = 5;

#[derive(Debug)]
enum Outcome {
    LoadErr(Box<ScenarioError>),
    BuildErr(Box<ScenarioError>),
    Ran,
}

/// Loads, builds and runs (a few simulated seconds, at most `MAX_EVENTS` events).
fn exercise(file: &str, text: &str, run: bool) -> Outcome {
    let loaded = match Loaded::from_str(file, text) {
        Ok(l) => l,
        Err(e) => return Outcome::LoadErr(e),
    };
    let mut sim = match loaded.build(None) {
        Ok(s) => s,
        Err(e) => return Outcome::BuildErr(e),
    };
    if run {
        let mut events = 0;
        while events < MAX_EVENTS && sim.now() < SimTime::from_secs(MAX_SECS) {
            let n = sim.run_until(Until::Events((MAX_EVENTS - events).min(1000)));
            if n == 0 {
                break;
            }
            events += n;
        }
    }
    Outcome::Ran
}

/// Property 2: the error names the file and a line of it.
fn check_located(file: &str, text: &str, e: &ScenarioError) -> Result<(), String> {
    let lines = text.lines().count();
    let shown = e.to_string();
    if e.line < 1 || e.line > lines + 1 {
        return Err(format!("error line {} outside 1..={} : {shown}", e.line, lines + 1));
    }
    if e.col < 1 {
        return Err(format!("error col {} < 1: {shown}", e.col));
    }
    if !shown.starts_with(&format!("{file}:")) {
        return Err(format!("Display does not start with `{file}:`: {shown}"));
    }
    if e.message.is_empty() {
        return Err(format!("empty message: {shown}"));
    }
    Ok(())
}

/// Everything properties 1–3 ask of one input.
fn fuzz_one(file: &str, text: &str) -> Result<(), TestCaseError> {
    let out = no_panic(|| exercise(file, text, true))
        .map_err(|p| TestCaseError::fail(format!("PANIC on input {text:?}\n{p}")))?;
    if let Outcome::LoadErr(e) | Outcome::BuildErr(e) = &out {
        check_located(file, text, e)
            .map_err(|m| TestCaseError::fail(format!("{m}\n({out:?})\ninput: {text:?}")))?;
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

#[derive(Clone, Debug)]
enum Mutation {
    Delete { at: Index, len: usize },
    Duplicate { from: Index, len: usize, to: Index },
    Insert { at: Index, what: String },
    SwapLines { a: Index, b: Index },
    ReplaceString { which: Index, with: Index },
    Truncate { at: Index },
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
    ]
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
        if !l.trim_start().starts_with("//")
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
];

#[derive(Clone, Debug)]
enum RunMut {
    /// Replace one word of a step with a bad word: may or may not be an error.
    Replace { step: Index, word: Index, with: Index },
    /// Insert a bad flag right after the (sub)command: always an error.
    Flag { step: Index, with: Index },
    /// The container of `docker exec NAME …` or `docker network connect NET NAME` becomes an
    /// unknown one: always an error.
    NoSuchContainer { step: Index },
}

/// Flags that every command rejects when they follow the (sub)command.
const BAD_FLAGS: &[&str] = &["--bogus", "-p 99999:80", "--ip 300.1.1.1", "--network nosuchnet", "--ip=1.2.3", "-Z"];

fn run_mut() -> impl Strategy<Value = RunMut> {
    prop_oneof![
        3 => (any::<Index>(), any::<Index>(), any::<Index>()).prop_map(|(step, word, with)| RunMut::Replace {
            step,
            word,
            with
        }),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(step, with)| RunMut::Flag { step, with }),
        1 => any::<Index>().prop_map(|step| RunMut::NoSuchContainer { step }),
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
        RunMut::Flag { step, with } => {
            let i = pick(step);
            let (a, b) = fields[i].content;
            let run = &text[a..b];
            let prefix = ["docker network create ", "docker network connect ", "docker run ", "docker exec ", "curl "]
                .into_iter()
                .find(|p| run.starts_with(p))?;
            let bad = BAD_FLAGS[with.index(BAD_FLAGS.len())];
            text.insert_str(a + prefix.len(), &format!("{bad} "));
            Some((i, true))
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
                text.replace_range(a + o..a + o + words[at].len(), "nosuchcontainer");
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

    /// Property 4: a bad word in a Docker step's `run:` string is an error on that line.
    #[test]
    fn bad_docker_steps_are_located(file in any::<Index>(), muts in prop::collection::vec(run_mut(), 1..=2)) {
        let files = docker_files();
        let (name, text) = files[file.index(files.len())];
        let mut t = text.clone();
        let mut first = usize::MAX;
        let mut must_fail = false;
        for m in &muts {
            if let Some((i, fails)) = apply_run(&mut t, m) {
                first = first.min(i);
                must_fail |= fails;
            }
        }
        let out = no_panic(|| exercise(name, &t, false))
            .map_err(|p| TestCaseError::fail(format!("PANIC on input {t:?}\n{p}")))?;
        match &out {
            Outcome::Ran => prop_assert!(!must_fail, "expected an error, the scenario loaded: {t}"),
            Outcome::BuildErr(e) => prop_assert!(false, "a step error only at build time: {e}\n{t}"),
            Outcome::LoadErr(e) => {
                check_located(name, &t, e).map_err(|m| TestCaseError::fail(format!("{m}\n{t}")))?;
                let fields = run_fields(&t);
                let Some(step) = failing_step(e) else {
                    return Err(TestCaseError::fail(format!("not a step error: {e} (help {:?})\n{t}", e.help)));
                };
                prop_assert!(step >= first, "step {} failed, but the first changed step is {}: {e}\n{t}", step + 1, first + 1);
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
