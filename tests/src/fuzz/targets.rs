//! The fuzz targets: each takes any bytes and must return without panicking, hanging or
//! breaking an invariant the code documents (an invariant broken is a panic here, so both
//! drivers report it like a crash).

use std::cell::RefCell;
use std::net::Ipv4Addr;

use sim_core::docker::cli::{self, Argv, DockerCommand};
use sim_core::scenario::{Loaded, ScenarioError};
use sim_core::userland::proto::{dns, http, mysql};
use sim_core::wire::{dissect, pretty};
use sim_core::{Sim, SimTime, Until};

use super::corpus;

// ----- scenario loader -----------------------------------------------------------------------

/// Event cap and simulated-time limit of a run of a fuzzed scenario: enough for ARP, a ping
/// exchange and a few steps; a run that is slow per event (or endless at zero simulated time)
/// still ends.
pub const MAX_EVENTS: u64 = 20_000;
pub const MAX_SECS: u64 = 5;

/// How far a scenario got.
#[derive(Debug)]
pub enum Outcome {
    LoadErr(Box<ScenarioError>),
    BuildErr(Box<ScenarioError>),
    Ran,
}

/// Loads, builds and (with `run`) runs a few simulated seconds, at most [`MAX_EVENTS`] events.
pub fn exercise(file: &str, text: &str, run: bool) -> Outcome {
    let loaded = match Loaded::from_str(file, text) {
        Ok(l) => l,
        Err(e) => return Outcome::LoadErr(e),
    };
    let mut sim = match loaded.build(None) {
        Ok(s) => s,
        Err(e) => return Outcome::BuildErr(e),
    };
    if run {
        bounded_run(&mut sim, MAX_EVENTS, SimTime::from_secs(MAX_SECS));
    }
    Outcome::Ran
}

/// Runs at most `events` events and stops at simulated time `until`.
fn bounded_run(sim: &mut Sim, events: u64, until: SimTime) {
    let mut done = 0;
    while done < events && sim.now() < until {
        let n = sim.run_until(Until::Events((events - done).min(1000)));
        if n == 0 {
            break;
        }
        done += n;
    }
}

/// An error must name the file and a line of it, with a column and a message.
pub fn check_located(file: &str, text: &str, e: &ScenarioError) -> Result<(), String> {
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

/// The scenario loader: any bytes (made UTF-8 lossily, as a file read would be rejected
/// otherwise) through `Loaded::from_str`, `build` and a bounded run; an error must be located
/// and must render as the CLI prints it (miette's graphical report).
pub fn scenario(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let file = "fuzz.ron";
    if let Outcome::LoadErr(e) | Outcome::BuildErr(e) = exercise(file, &text, true) {
        if let Err(m) = check_located(file, &text, &e) {
            panic!("{m}");
        }
        let mut shown = String::new();
        let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
        if handler.render_report(&mut shown, &*e).is_err() {
            panic!("the error does not render: {e}");
        }
    }
}

// ----- Docker command parser -----------------------------------------------------------------

/// Every span an error points at must be a slice of the line (the loader cuts the line with it).
fn check_span(line: &str, e: &cli::CliError) {
    assert!(!e.message.is_empty(), "empty error message for {line:?}");
    assert!(
        line.get(e.span.start..e.span.end()).is_some(),
        "error span {:?} is not a slice of the {}-byte line {line:?}: {}",
        e.span,
        line.len(),
        e.message
    );
}

/// A command line as typed in a step: `docker …` through `cli::parse` (and the container
/// command of `run`/`exec`), any line through the shell-word splitter and the program
/// recogniser the director uses for host commands (`curl`, `ping`, `nslookup`, `mysql`).
pub fn docker_cli(data: &[u8]) {
    let line = String::from_utf8_lossy(data);
    match cli::parse(&line) {
        Ok(DockerCommand::Exec(x)) => {
            if let Some(Err(e)) = x.app_command() {
                check_span(&line, &e);
            }
        }
        Ok(DockerCommand::Run(r)) => {
            if let Some(Err(e)) = r.app_command() {
                check_span(&line, &e);
            }
        }
        Ok(_) => {}
        Err(e) => check_span(&line, &e),
    }
    match cli::shell_words(&line) {
        Ok(words) => {
            let argv =
                Argv { spans: words.iter().map(|w| w.1).collect(), words: words.into_iter().map(|w| w.0).collect() };
            if let Some(Err(e)) = cli::parse_app_command(&argv) {
                check_span(&line, &e);
            }
        }
        Err(e) => check_span(&line, &e),
    }
}

// ----- a command typed in the console ---------------------------------------------------------

/// A shipped scenario with hosts, built, with copies of its `Sim` taken along its run.
struct Tutorial {
    hosts: Vec<String>,
    /// The simulation after 0, 10, 30, 100, 300, 1000 and 3000 events (fewer if it ends).
    checkpoints: Vec<Sim>,
}

const CHECKPOINTS: [u64; 7] = [0, 10, 30, 100, 300, 1000, 3000];
/// Events run after each typed command, and simulated seconds at most.
const CONSOLE_EVENTS: u64 = 2_000;
const CONSOLE_SECS: u64 = 5;
/// Commands typed from one input.
const CONSOLE_LINES: usize = 4;

fn tutorials() -> Vec<Tutorial> {
    let mut out = Vec::new();
    for (name, text) in corpus::scenario_files() {
        let Ok(loaded) = Loaded::from_str(name, text) else { continue };
        if loaded.scenario.hosts.is_empty() {
            continue;
        }
        let hosts = loaded.scenario.hosts.iter().map(|h| h.name.clone()).collect();
        let Ok(mut sim) = loaded.build(None) else { continue };
        let mut checkpoints = Vec::new();
        let mut at = 0;
        for want in CHECKPOINTS {
            at += sim.run_until(Until::Events(want - at));
            if at < want && !checkpoints.is_empty() {
                break;
            }
            checkpoints.push(sim.clone());
        }
        out.push(Tutorial { hosts, checkpoints });
    }
    out
}

thread_local! {
    static TUTORIALS: RefCell<Option<Vec<Tutorial>>> = const { RefCell::new(None) };
}

/// How many tutorials the console target chooses from (for building seeds).
pub fn console_tutorials() -> Vec<(usize, Vec<String>)> {
    with_tutorials(|t| t.iter().map(|t| (t.checkpoints.len(), t.hosts.clone())).collect())
}

fn with_tutorials<R>(f: impl FnOnce(&[Tutorial]) -> R) -> R {
    TUTORIALS.with(|c| {
        let mut c = c.borrow_mut();
        f(c.get_or_insert_with(tutorials))
    })
}

/// What the GUI's console does: at a chosen event of a shipped tutorial, `Sim::type_command`
/// on a chosen host, then the run goes on (bounded). Input: tutorial, checkpoint, extra events
/// stepped past the checkpoint, host (one byte each, taken modulo), then up to four command
/// lines separated by `\n`, each typed after the previous one ran.
pub fn console(data: &[u8]) {
    console_typed(data);
}

/// [`console`], returning how many of the lines `Sim::type_command` accepted.
pub fn console_typed(data: &[u8]) -> usize {
    let [t, c, extra, h, rest @ ..] = data else { return 0 };
    with_tutorials(|tuts| {
        if tuts.is_empty() {
            return 0;
        }
        let tut = &tuts[usize::from(*t) % tuts.len()];
        let mut sim = tut.checkpoints[usize::from(*c) % tut.checkpoints.len()].clone();
        sim.run_until(Until::Events(u64::from(*extra)));
        let host = &tut.hosts[usize::from(*h) % tut.hosts.len()];
        let text = String::from_utf8_lossy(rest);
        let mut typed = 0;
        for line in text.split('\n').take(CONSOLE_LINES) {
            if sim.type_command(host, line).is_ok() {
                typed += 1;
                let until = sim.now() + SimTime::from_secs(CONSOLE_SECS);
                bounded_run(&mut sim, CONSOLE_EVENTS, until);
            }
        }
        typed
    })
}

// ----- HTTP ------------------------------------------------------------------------------------

/// Requests or responses taken from one input at most: each one consumes bytes, so more would
/// mean the parser stopped making progress.
const MAX_MESSAGES: usize = 10_000;

/// Both incremental parsers on the same bytes, delivered in segments of the size the first
/// byte gives (1..=63, or all at once for 0 and 64…), with pipelined messages drained as the
/// servers and curl do (`push(&[])`), and `eof` at the end as on a FIN.
pub fn http(data: &[u8]) {
    let Some((&k, rest)) = data.split_first() else { return };
    let seg = match usize::from(k) % 64 {
        0 => rest.len().max(1),
        n => n,
    };
    let mut req = http::RequestParser::new();
    let mut n = 0;
    'req: for chunk in rest.chunks(seg) {
        let mut d = chunk;
        loop {
            match req.push(d) {
                Ok(Some(r)) => {
                    let _ = http::parse_form(&r.body);
                    let _ = r.header("host");
                    let _ = r.to_bytes();
                    n += 1;
                    assert!(n <= MAX_MESSAGES, "RequestParser returns requests without consuming bytes");
                    d = &[];
                }
                Ok(None) => break,
                Err(_) => break 'req,
            }
        }
    }
    let mut resp = http::ResponseParser::new();
    let mut n = 0;
    let mut failed = false;
    'resp: for chunk in rest.chunks(seg) {
        let mut d = chunk;
        loop {
            match resp.push(d) {
                Ok(Some(r)) => {
                    let _ = r.header("content-type");
                    let _ = r.to_bytes();
                    n += 1;
                    assert!(n <= MAX_MESSAGES, "ResponseParser returns responses without consuming bytes");
                    d = &[];
                }
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break 'resp;
                }
            }
        }
    }
    if !failed {
        let _ = resp.eof();
    }
}

// ----- DNS -------------------------------------------------------------------------------------

/// A datagram as the embedded server and the stub resolver get it: parsed as a query and as a
/// response, answered as dockerd would (a name of even length is known), and read by both
/// nslookups as the reply to their first query. What the embedded server sends back must
/// parse as a response.
pub fn dns(data: &[u8]) {
    if let Ok(q) = dns::parse_query(data) {
        let _ = format!("{q:?}");
    }
    if let [a, b, ..] = *data {
        use sim_core::userland::proto::nslookup::{Flavour, Nslookup, Opts};
        let server = ("127.0.0.11".to_string(), Ipv4Addr::new(127, 0, 0, 11));
        for flavour in [Flavour::Bind, Flavour::Busybox] {
            let id = u16::from_be_bytes([a, b]);
            if let Ok(mut p) = Nslookup::new(flavour, "web", &Opts::default(), server.clone(), || id) {
                let _ = p.start(0);
                let _ = p.reply(data);
                let _ = p.wake(60_000_000_000);
            }
        }
    }
    let lookup =
        |name: &str| name.len().is_multiple_of(2).then(|| vec![Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 3)]);
    if let Some((answer, _)) = dns::embedded_answer(data, &lookup)
        && let Err(e) = dns::parse_response(&answer)
    {
        panic!("the embedded server's answer does not parse: {e}");
    }
    // The input as a name a resolver is asked for: a query is built, or refused, and what is
    // built parses back to that name.
    let name = String::from_utf8_lossy(data);
    if let Ok(q) = dns::build_query(7, &name) {
        match dns::parse_query(&q) {
            Ok(p)
                if p.name.trim_end_matches('.').eq_ignore_ascii_case(name.trim_end_matches('.'))
                    || name.contains('\\') => {}
            Ok(p) => panic!("query for {name:?} parses back as {:?}", p.name),
            Err(e) => panic!("query for {name:?} does not parse: {e}"),
        }
    }
}

// ----- MySQL -----------------------------------------------------------------------------------

const MYSQL_PASSWORD: &str = "edureka";

/// The tutorial's database as the webapp finds it.
fn tutorial_db() -> mysql::Database {
    let mut db = mysql::Database::new();
    let mut cur = None;
    for q in [
        "CREATE DATABASE HandsOn",
        "USE HandsOn",
        "CREATE TABLE course_details (course_name VARCHAR(10), course_id VARCHAR(11))",
        "INSERT INTO course_details VALUES ('Docker','DK101')",
    ] {
        // The fixture is fixed text: a failure here is a bug of the SQL engine, not of the input.
        if let Err(e) = db.execute(&mut cur, q) {
            panic!("tutorial fixture {q:?}: {e}");
        }
    }
    db
}

/// A server connection past its login (the client's scramble answered with the right
/// password), and the database it serves.
fn logged_in_server(db: &mut mysql::Database) -> mysql::ServerConn {
    let (mut server, greeting) = mysql::ServerConn::new(7, [0x42; 20], vec![("root".into(), MYSQL_PASSWORD.into())]);
    let mut client = mysql::ClientConn::new("root", MYSQL_PASSWORD, Some("HandsOn"), Vec::new());
    let login = client.on_data(&greeting);
    let ok = server.on_data(db, &login.send);
    assert!(server.user().is_some(), "the fixture login failed: {:?}", client.on_data(&ok.send).results);
    server
}

/// The MySQL protocol both ways and the SQL engine. The first byte picks: 0 the server from
/// its greeting (the login packet comes from the input), 1 the server after a good login
/// (commands from the input), 2 the client from the server's greeting on (server bytes from
/// the input), 3 the SQL engine (statements separated by `;` on the tutorial's database).
/// The rest is delivered in segments of a size taken from the first byte too.
pub fn mysql(data: &[u8]) {
    let Some((&k, rest)) = data.split_first() else { return };
    let seg = match usize::from(k >> 2) {
        0 => rest.len().max(1),
        n => n,
    };
    match k % 4 {
        0 => {
            let mut db = tutorial_db();
            let (mut server, _) = mysql::ServerConn::new(7, [0x42; 20], vec![("root".into(), MYSQL_PASSWORD.into())]);
            for chunk in rest.chunks(seg) {
                if server.on_data(&mut db, chunk).close {
                    break;
                }
            }
        }
        1 => {
            let mut db = tutorial_db();
            let mut server = logged_in_server(&mut db);
            for chunk in rest.chunks(seg) {
                if server.on_data(&mut db, chunk).close {
                    break;
                }
            }
        }
        2 => {
            let mut client = mysql::ClientConn::new(
                "root",
                MYSQL_PASSWORD,
                Some("HandsOn"),
                vec!["SELECT * FROM course_details".into(), "SHOW DATABASES".into()],
            );
            for chunk in rest.chunks(seg) {
                let out = client.on_data(chunk);
                for (r, w) in out.results.iter().zip(out.warnings.iter().chain(std::iter::repeat(&0))) {
                    let _ = mysql::format_result_with_warnings(r, *w);
                }
                if out.done {
                    break;
                }
            }
        }
        _ => {
            let mut db = tutorial_db();
            let mut cur = Some("HandsOn".to_string());
            for sql in String::from_utf8_lossy(rest).split(';').take(16) {
                let r = db.execute(&mut cur, sql);
                let _ = mysql::format_result(&r);
            }
        }
    }
}

// ----- frames ----------------------------------------------------------------------------------

/// What the GUI's inspector and the hop log do with a frame: `wire::dissect`, the hex pane and
/// the one-line summary. Every layer and field must lie inside the frame and every field inside
/// its layer (the GUI highlights bytes by these ranges).
pub fn frame(data: &[u8]) {
    let layers = dissect::dissect(data);
    for l in &layers {
        assert!(
            l.range.start <= l.range.end && l.range.end <= data.len(),
            "layer {} range {:?} outside the {}-byte frame",
            l.name,
            l.range,
            data.len()
        );
        for f in &l.fields {
            assert!(
                l.range.start <= f.range.start && f.range.start <= f.range.end && f.range.end <= l.range.end,
                "field {}.{} range {:?} outside its layer {:?}",
                l.name,
                f.name,
                f.range,
                l.range
            );
        }
    }
    let _ = dissect::hex_dump(data);
    let _ = pretty::summary(data);
    let _ = pretty::protocol(data);
}

/// A capture file as `netsim diff --against TRACE` reads it.
pub fn pcapng(data: &[u8]) {
    let _ = sim_core::capture::read_pcapng(data);
}
