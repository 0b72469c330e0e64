//! Second-level parsing of container commands (`docker exec web ping -c 3 db`).
//!
//! Recognised programs (by basename of argv[0]): `ping` (iputils), `curl`, `wget`
//! (busybox), `nslookup` (BIND), `mysql` (MySQL 8 client). Error strings imitate those tools; see each parser for
//! what is certain and what is a best guess.

use super::types::{Argv, CliError, Exec, Run, Span};
use super::values::parse_uint;
use crate::kernel::sock::Pmtudisc;

/// A recognised application command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppCommand {
    Ping(Ping),
    Curl(Curl),
    Wget(Wget),
    Nslookup(Nslookup),
    Mysql(Mysql),
    Nc(Nc),
    Traceroute(Traceroute),
    Dig(crate::userland::proto::dig::Dig),
}

/// busybox `traceroute [-nl4] [-f 1ST_TTL] [-m MAXTTL] [-q PROBES] [-p PORT] [-w WAIT_SEC]
/// [-z PAUSE_MSEC] HOST [BYTES]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traceroute {
    pub host: String,
    pub opts: crate::userland::proto::traceroute::Opts,
}

/// busybox `nc [-v[v]] [-n] [-w SEC] [-z] HOST [PORT]`, or `nc -l [-k] [-p PORT] [-e PROG
/// [ARGS]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nc {
    /// The host to connect to (empty when listening).
    pub host: String,
    pub port: u16,
    pub opts: crate::userland::proto::nc::NcOpts,
    pub mode: NcMode,
    /// `-e PROG [ARGS]`: run on each connection, the connection its standard input and output.
    pub exec: Option<Vec<String>>,
}

/// What `nc` does with its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NcMode {
    /// `-z`: connect and close at once.
    Zero,
    /// Connect and copy: standard input (empty in a lab's step) to the network, the network
    /// to standard output.
    Connect,
    /// `-l`: accept one connection on `port` (0: any free port) and copy; with `-k` and
    /// `-e`, run PROG for every connection.
    Listen { port: u16, keep: bool },
}

/// `ping [-c N] [-w S] [-s SIZE] [-M HINT] [-W S] [-t TTL] [-q] [-n] [-4] HOST` (iputils).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ping {
    pub host: String,
    /// `-c`; `None` = until interrupted.
    pub count: Option<u64>,
    /// `-w` deadline in seconds.
    pub deadline: Option<u64>,
    pub quiet: bool,
    pub numeric: bool,
    /// `-s`: bytes of data after the ICMP header (56 when not given).
    pub size: Option<u64>,
    /// `-M do|dont|want|probe`.
    pub pmtudisc: Option<Pmtudisc>,
    /// `-i`: seconds between requests (1 when not given).
    pub interval: Option<crate::engine::SimTime>,
    /// `-W`: how long to wait for replies after the last request.
    pub wait: Option<crate::engine::SimTime>,
    /// `-t`: the requests' TTL (0 to 255 as iputils reads it).
    pub ttl: Option<u8>,
    /// `-I`: a device or a local address.
    pub interface: Option<String>,
    /// Other recognised options, kept raw.
    pub other_options: Vec<(char, String)>,
}

/// `curl [-s] [-S] [-f] [-i] [-L] [-v] [-X METHOD] [-d DATA]… [-H H]… URL…`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Curl {
    pub silent: bool,
    pub show_error: bool,
    pub fail: bool,
    pub include: bool,
    pub head: bool,
    pub location: bool,
    pub verbose: bool,
    pub request: Option<String>,
    pub data: Vec<String>,
    pub headers: Vec<String>,
    pub output: Option<String>,
    pub max_time: Option<String>,
    /// `-w`/`--write-out`.
    pub write_out: Option<String>,
    pub urls: Vec<Url>,
}

impl Curl {
    /// Effective HTTP method: `-X`, else `HEAD` for `-I`, `POST` when `-d` is given, else `GET`.
    pub fn method(&self) -> &str {
        match &self.request {
            Some(m) => m,
            None if self.head => "HEAD",
            None if !self.data.is_empty() => "POST",
            None => "GET",
        }
    }

    /// The request body (`-d` values joined with `&`, as curl does).
    pub fn body(&self) -> Option<String> {
        (!self.data.is_empty()).then(|| self.data.join("&"))
    }
}

/// A URL as curl would accept it (scheme defaults to `http`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
    /// Path and query, at least `/`.
    pub path: String,
}

impl Url {
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(if self.scheme == "https" { 443 } else { 80 })
    }
}

/// busybox `wget [-cqS] [--spider] [-O FILE] [-P DIR] [-U AGENT] [--header STR]
/// [--post-data STR] URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wget {
    pub url: Url,
    pub opts: crate::userland::proto::wget::WgetOpts,
    pub post_data: Option<String>,
}

/// `nslookup [-type=T]… [-port=N] [-timeout=S] [-retry=N] NAME [SERVER]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nslookup {
    pub name: String,
    pub server: Option<String>,
    /// The `-type=` query types, as numbers; empty: the program's guess.
    pub types: Vec<u16>,
    pub port: u16,
    pub timeout: u32,
    pub retry: u32,
}

/// `mysql [-h HOST] [-P PORT] [-u USER] [-pPASS] [-e QUERY] [DB]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mysql {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub execute: Option<String>,
    pub database: Option<String>,
    pub batch: bool,
    pub silent: bool,
    pub skip_column_names: bool,
}

impl Exec {
    /// Recognise the exec'd command; `None` when the program is not one of the above.
    pub fn app_command(&self) -> Option<Result<AppCommand, CliError>> {
        parse_app_command(&self.command)
    }
}

impl Run {
    /// Recognise the container command given after the image, if any.
    pub fn app_command(&self) -> Option<Result<AppCommand, CliError>> {
        parse_app_command(&self.command)
    }
}

/// Recognise `argv` as an application command. `None` when argv is empty or the program is
/// not recognised.
pub fn parse_app_command(argv: &Argv) -> Option<Result<AppCommand, CliError>> {
    let prog = argv.words.first()?;
    let base = prog.rsplit('/').next().unwrap_or(prog);
    let p = Args { argv };
    Some(match base {
        "ping" => ping(&p).map(AppCommand::Ping),
        "curl" => curl(&p).map(AppCommand::Curl),
        "wget" => wget(&p).map(AppCommand::Wget),
        "nslookup" => nslookup(&p).map(AppCommand::Nslookup),
        "mysql" => mysql(&p).map(AppCommand::Mysql),
        "nc" | "netcat" => nc(&p).map(AppCommand::Nc),
        "traceroute" => traceroute(&p).map(AppCommand::Traceroute),
        "dig" => crate::userland::proto::dig::parse(&argv.words[1..])
            .map(AppCommand::Dig)
            .map_err(|m| CliError::new(m, argv.full_span())),
        _ => return None,
    })
}

/// What [`Args::getopt`] calls with each option: its letter, its word's index, and its value
/// with the value's word.
type OptFn<'a> = dyn FnMut(char, usize, Option<(String, usize)>) -> Result<(), CliError> + 'a;

struct Args<'a> {
    argv: &'a Argv,
}

impl Args<'_> {
    fn len(&self) -> usize {
        self.argv.words.len()
    }
    fn word(&self, i: usize) -> &str {
        &self.argv.words[i]
    }
    fn err(&self, msg: impl Into<String>, i: usize) -> CliError {
        CliError::new(msg, self.span(i))
    }
    /// An option's value in getopt's way: the rest of the cluster (`-O-`, `-c3`), else the
    /// next word; with the index of the word it came from. Moves `k` and `i` past it.
    fn short_value(&self, chars: &[char], k: &mut usize, i: &mut usize, at: usize) -> Option<(String, usize)> {
        if *k < chars.len() {
            let v = chars[*k..].iter().collect();
            *k = chars.len();
            Some((v, at))
        } else if *i < self.len() {
            *i += 1;
            Some((self.word(*i - 1).to_string(), *i - 1))
        } else {
            None
        }
    }

    /// getopt's walk over the words after the program: options may follow operands, `--`
    /// ends them, `-` is an operand. `opt` gets each option letter, its word's index and,
    /// for a letter of `with_arg`, its value and the value's word (`None` when the words ran
    /// out). Returns the operands with their indexes.
    fn getopt(&self, with_arg: &str, opt: &mut OptFn<'_>) -> Result<Vec<(String, usize)>, CliError> {
        let (mut pos, mut i, mut only_args) = (Vec::new(), 1, false);
        while i < self.len() {
            let w = self.word(i).to_string();
            let at = i;
            i += 1;
            if only_args || w == "-" || !w.starts_with('-') {
                pos.push((w, at));
                continue;
            }
            if w == "--" {
                only_args = true;
                continue;
            }
            let chars: Vec<char> = w.chars().skip(1).collect();
            let mut k = 0;
            while k < chars.len() {
                let c = chars[k];
                k += 1;
                let value = if with_arg.contains(c) { self.short_value(&chars, &mut k, &mut i, at) } else { None };
                opt(c, at, value)?;
            }
        }
        Ok(pos)
    }

    fn span(&self, i: usize) -> Span {
        if self.argv.spans.is_empty() { Span::default() } else { self.argv.span(i.min(self.argv.spans.len() - 1)) }
    }
}

// ---------------------------------------------------------------------------------------
// traceroute

/// busybox 1.35's usage text (`traceroute --help`), without its first line, which names the
/// build.
const TRACEROUTE_USAGE: &str = "Usage: traceroute [-46Flnrv] [-f 1ST_TTL] [-m MAXTTL] [-q PROBES] [-p PORT]
\t[-t TOS] [-w WAIT_SEC] [-s SRC_IP] [-i IFACE]
\t[-z PAUSE_MSEC] HOST [BYTES]

Trace the route to HOST

\t-4,-6\tForce IP or IPv6 name resolution
\t-F\tSet don't fragment bit
\t-l\tDisplay TTL value of the returned packet
\t-n\tPrint numeric addresses
\t-r\tBypass routing tables, send directly to HOST
\t-v\tVerbose
\t-f N\tFirst number of hops (default 1)
\t-m N\tMax number of hops
\t-q N\tNumber of probes per hop (default 3)
\t-p N\tBase UDP port number used in probes
\t\t(default 33434)
\t-s IP\tSource address
\t-i IFACE Source interface
\t-t N\tType-of-service in probe packets (default 0)
\t-w SEC\tWait for a response (default 3)
\t-z MSEC\tWait before each send";

/// busybox's `xatou_range` (libbb/xatonum_template.c): a decimal number within `lo..=hi`,
/// else its two error lines, after the applet's name.
fn xatou_range(prog: &str, v: &str, lo: u64, hi: u64) -> Result<u64, String> {
    let n = (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .then(|| v.parse::<u64>().ok())
        .flatten()
        .ok_or_else(|| format!("{prog}: invalid number '{v}'"))?;
    if n < lo || n > hi {
        return Err(format!("{prog}: number {v} is not in {lo}..{hi} range"));
    }
    Ok(n)
}

/// busybox `traceroute`, parsed as getopt32 parses `FIlnrdvt:i:m:p:q:s:w:z:f:4` (options
/// may follow the host, as getopt_long permutes them), then each value checked in the
/// applet's order.
fn traceroute(a: &Args) -> Result<Traceroute, CliError> {
    use crate::userland::proto::traceroute::{self as tr, Opts};
    const WITH_ARG: &str = "timpqswzf";
    let mut vals: Vec<(char, String, usize)> = Vec::new();
    let mut o = Opts::default();
    let usage = |a: &Args, head: String, at: usize| a.err(format!("{head}{TRACEROUTE_USAGE}"), at);
    let pos = a.getopt(WITH_ARG, &mut |c, at, value| {
        if WITH_ARG.contains(c) {
            let Some((v, vat)) = value else {
                return Err(usage(a, format!("traceroute: option requires an argument -- '{c}'\n"), at));
            };
            vals.push((c, v, vat));
            return Ok(());
        }
        match c {
            'n' => o.numeric = true,
            'l' | '4' => {}
            'F' | 'I' | 'r' | 'd' | 'v' | '6' => {
                return Err(a.err(format!("netsim: traceroute -{c} is not modelled"), at));
            }
            _ => return Err(usage(a, format!("traceroute: invalid option -- '{c}'\n"), at)),
        }
        Ok(())
    })?;
    if pos.is_empty() {
        return Err(CliError::new(TRACEROUTE_USAGE, a.argv.full_span()));
    }
    let last = |c: char| vals.iter().rev().find(|(o, _, _)| *o == c);
    let num = |c: char, lo: u64, hi: u64| -> Result<Option<u64>, CliError> {
        match last(c) {
            None => Ok(None),
            Some((_, v, at)) => xatou_range("traceroute", v, lo, hi).map(Some).map_err(|m| a.err(m, *at)),
        }
    };
    if let Some(m) = num('m', 1, 255)? {
        o.max_ttl = m as u8;
    }
    if let Some(p) = num('p', 0, 65535)? {
        o.port = p as u16;
    }
    if let Some(q) = num('q', 1, i32::MAX as u64)? {
        o.nprobes = q as u32;
    }
    if let Some(w) = num('w', 1, 24 * 60 * 60)? {
        o.wait = w as u32;
    }
    if let Some(z) = num('z', 0, 60 * 60 * 1000)? {
        o.pause_ms = z as u32;
    }
    if let Some(f) = num('f', 1, o.max_ttl.into())? {
        o.first_ttl = f as u8;
    }
    for c in ['t', 'i', 's'] {
        if let Some((_, _, at)) = last(c) {
            return Err(a.err(format!("netsim: traceroute -{c} is not modelled"), *at));
        }
    }
    if let Some((b, at)) = pos.get(1) {
        o.packlen = xatou_range("traceroute", b, tr::PACKLEN as u64, tr::MAX_PACKLEN as u64)
            .map_err(|m| a.err(m, *at))? as usize;
    }
    Ok(Traceroute { host: pos[0].0.clone(), opts: o })
}

// ---------------------------------------------------------------------------------------
// ping

/// iputils `ping`, parsed with glibc getopt semantics (options may follow the host).
fn ping(a: &Args) -> Result<Ping, CliError> {
    const WITH_ARG: &str = "cwWistIQlpM";
    const NO_ARG: &str = "qn46vDOaAbdfLRrU";
    let mut p = Ping::default();
    let mut hosts: Vec<(String, usize)> = Vec::new();
    let mut i = 1;
    let mut only_args = false;
    while i < a.len() {
        let w = a.word(i);
        let at = i;
        i += 1;
        if only_args || w.len() < 2 || !w.starts_with('-') {
            hosts.push((w.to_string(), at));
            continue;
        }
        if w == "--" {
            only_args = true;
            continue;
        }
        if let Some(long) = w.strip_prefix("--") {
            let name = long.split('=').next().unwrap_or("");
            return Err(a.err(format!("ping: unrecognized option '--{name}'"), at));
        }
        let chars: Vec<char> = w[1..].chars().collect();
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            k += 1;
            if NO_ARG.contains(c) {
                match c {
                    'q' => p.quiet = true,
                    'n' => p.numeric = true,
                    _ => p.other_options.push((c, String::new())),
                }
                continue;
            }
            if !WITH_ARG.contains(c) {
                return Err(a.err(format!("ping: invalid option -- '{c}'"), at));
            }
            let Some((val, vi)) = a.short_value(&chars, &mut k, &mut i, at) else {
                return Err(a.err(format!("ping: option requires an argument -- '{c}'"), at));
            };
            match c {
                'c' => p.count = Some(ping_num(&val, 1, i64::MAX as u64).map_err(|m| a.err(m, vi))?),
                'w' => p.deadline = Some(ping_num(&val, 0, i32::MAX as u64).map_err(|m| a.err(m, vi))?),
                't' => p.ttl = Some(ping_num(&val, 0, 255).map_err(|m| a.err(m, vi))? as u8),
                'I' => p.interface = Some(val),
                's' => {
                    // strtol_or_err: a negative number is out of range, not invalid.
                    let n = match val.strip_prefix('-') {
                        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                            Err(format!("ping: invalid argument: '{val}': out of range: 0 <= value <= {}", i32::MAX))
                        }
                        _ => ping_num(&val, 0, i32::MAX as u64),
                    };
                    p.size = Some(n.map_err(|m| a.err(m, vi))?);
                }
                'M' => {
                    p.pmtudisc = Some(match val.as_str() {
                        "do" => Pmtudisc::Do,
                        "dont" => Pmtudisc::Dont,
                        "want" => Pmtudisc::Want,
                        "probe" => Pmtudisc::Probe,
                        _ => return Err(a.err(format!("ping: invalid -M argument: {val}"), vi)),
                    })
                }
                // iputils' ping.c: seconds as strtod reads them, in milliseconds.
                'i' => match ping_secs(&val) {
                    Ok(secs) if secs < 0.0 => {
                        return Err(a.err(format!("netsim: ping -i {val}: a negative interval is not modelled"), vi));
                    }
                    Ok(secs) if secs > f64::from(i32::MAX / 1000) => {
                        return Err(a.err(format!("ping: bad timing interval: {val}"), vi));
                    }
                    Ok(secs) => p.interval = Some(crate::engine::SimTime::from_millis((secs * 1e3) as u64)),
                    Err(m) => return Err(a.err(m, vi)),
                },
                'W' => match ping_secs(&val) {
                    Ok(secs) if !(0.001..=f64::from(i32::MAX / 1000)).contains(&secs) => {
                        return Err(a.err(format!("ping: bad linger time: {val}"), vi));
                    }
                    Ok(secs) => p.wait = Some(crate::engine::SimTime::from_millis((secs * 1e3) as u64)),
                    Err(m) => return Err(a.err(m, vi)),
                },
                _ => p.other_options.push((c, val)),
            }
        }
    }
    match hosts.len() {
        0 => Err(CliError::new("ping: usage error: Destination address required", a.argv.full_span())),
        1 => {
            p.host = hosts.remove(0).0;
            Ok(p)
        }
        _ => Err(a.err("netsim: ping: only one destination is supported", hosts[1].1)),
    }
}

/// iputils `strtol_or_err` wording (iputils ≥ 20210722).
/// A number of seconds as iputils' `ping_strtod` reads it: a decimal number, and nothing
/// after it.
fn ping_secs(v: &str) -> Result<f64, String> {
    v.trim_start()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("ping: option argument contains garbage: {v}"))
}

fn ping_num(v: &str, min: u64, max: u64) -> Result<u64, String> {
    let n = parse_uint(v, false, 64).map_err(|_| format!("ping: invalid argument: '{v}'"))?;
    if n < min || n > max {
        return Err(format!("ping: invalid argument: '{v}': out of range: {min} <= value <= {max}"));
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------
// curl

#[derive(Clone, Copy)]
enum CurlOpt {
    Flag(fn(&mut Curl)),
    Value(fn(&mut Curl, String)),
}

fn curl_long(name: &str) -> Option<CurlOpt> {
    use CurlOpt::{Flag, Value};
    Some(match name {
        "silent" => Flag(|c| c.silent = true),
        "show-error" => Flag(|c| c.show_error = true),
        "fail" => Flag(|c| c.fail = true),
        "include" => Flag(|c| c.include = true),
        "head" => Flag(|c| c.head = true),
        "location" => Flag(|c| c.location = true),
        "verbose" => Flag(|c| c.verbose = true),
        "insecure" | "compressed" | "http1.1" => Flag(|_| {}),
        "request" => Value(|c, v| c.request = Some(v)),
        "data" | "data-raw" | "data-binary" | "data-ascii" => Value(|c, v| c.data.push(v)),
        "header" => Value(|c, v| c.headers.push(v)),
        "output" => Value(|c, v| c.output = Some(v)),
        "max-time" => Value(|c, v| c.max_time = Some(v)),
        "write-out" => Value(|c, v| c.write_out = Some(v)),
        "connect-timeout" | "user-agent" | "user" | "retry" => Value(|_, _| {}),
        "url" => Value(|_, _| {}),
        _ => return None,
    })
}

fn curl_short(c: char) -> Option<&'static str> {
    Some(match c {
        's' => "silent",
        'S' => "show-error",
        'f' => "fail",
        'i' => "include",
        'I' => "head",
        'L' => "location",
        'v' => "verbose",
        'k' => "insecure",
        'X' => "request",
        'd' => "data",
        'H' => "header",
        'o' => "output",
        'm' => "max-time",
        'A' => "user-agent",
        'u' => "user",
        'w' => "write-out",
        _ => return None,
    })
}

/// curl's command line. Unknown options: `curl: option X: is unknown`; missing values:
/// `curl: option X: requires parameter` (X is the argument as typed); no URL:
/// `curl: no URL specified!`. curl prints a second line ("curl: try 'curl --help' …") that
/// is not reproduced.
fn curl(a: &Args) -> Result<Curl, CliError> {
    let mut c = Curl::default();
    let mut urls: Vec<(String, usize)> = Vec::new();
    let mut i = 1;
    let mut only_urls = false;
    while i < a.len() {
        let w = a.word(i).to_string();
        let at = i;
        i += 1;
        if only_urls || w.len() < 2 || !w.starts_with('-') {
            urls.push((w, at));
            continue;
        }
        if w == "--" {
            only_urls = true;
            continue;
        }
        if let Some(name) = w.strip_prefix("--") {
            let Some(opt) = curl_long(name) else {
                return Err(a.err(format!("curl: option {w}: is unknown"), at));
            };
            match opt {
                CurlOpt::Flag(f) => f(&mut c),
                CurlOpt::Value(f) => {
                    if i >= a.len() {
                        return Err(a.err(format!("curl: option {w}: requires parameter"), at));
                    }
                    let v = a.word(i).to_string();
                    i += 1;
                    if name == "url" {
                        urls.push((v, i - 1));
                    } else {
                        f(&mut c, v);
                    }
                }
            }
            continue;
        }
        let chars: Vec<char> = w[1..].chars().collect();
        let mut k = 0;
        while k < chars.len() {
            let ch = chars[k];
            k += 1;
            let Some(opt) = curl_short(ch).and_then(curl_long) else {
                return Err(a.err(format!("curl: option {w}: is unknown"), at));
            };
            match opt {
                CurlOpt::Flag(f) => f(&mut c),
                CurlOpt::Value(f) => {
                    let Some((v, _)) = a.short_value(&chars, &mut k, &mut i, at) else {
                        return Err(a.err(format!("curl: option {w}: requires parameter"), at));
                    };
                    f(&mut c, v);
                }
            }
        }
    }
    if urls.is_empty() {
        return Err(CliError::new("curl: no URL specified!", a.argv.full_span()));
    }
    for (u, at) in urls {
        c.urls.push(parse_url(&u).map_err(|m| a.err(m, at))?);
    }
    Ok(c)
}

/// URL parsing with curl 8 error wording.
/// busybox's usage text, printed (exit status 1) for a command line it cannot take. busybox
/// puts a banner naming its build above it (`BusyBox v1.36.1 (…) multi-call binary.`), which
/// the simulator cannot know and leaves out (traces/programs/wget/record.txt).
const WGET_USAGE: &str = "Usage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]
\t[--post-data STR | --post-file FILE] [-Y on/off]
\t[--no-check-certificate] [-P DIR] [-U AGENT] URL...

Retrieve files via HTTP or FTP

\t--spider\tOnly check URL existence: $? is 0 if exists
\t--header STR\tAdd STR (of form 'header: value') to headers
\t--post-data STR\tSend STR using POST method
\t--post-file FILE\tSend FILE using POST method
\t--no-check-certificate\tDon't validate the server's certificate
\t-c\t\tContinue retrieval of aborted transfer
\t-q\t\tQuiet
\t-P DIR\t\tSave to DIR (default .)
\t-S    \t\tShow server response
\t-O FILE\t\tSave to FILE ('-' for stdout)
\t-o LOGFILE\tLog messages to FILE
\t-U STR\t\tUse STR for User-Agent header
\t-Y on/off\tUse proxy";

/// busybox `wget`'s command line, read as its getopt32 reads it (options anywhere, `-qO-`,
/// `--name=value` or `--name value`). Errors are busybox's first line and its usage.
fn wget(a: &Args) -> Result<Wget, CliError> {
    use crate::userland::proto::wget::WgetOpts;
    let mut o = WgetOpts::default();
    let mut post = None;
    let mut urls: Vec<(String, usize)> = Vec::new();
    let usage = |a: &Args, first: String, at: usize| a.err(format!("{first}\n{WGET_USAGE}"), at);
    let mut i = 1;
    while i < a.len() {
        let w = a.word(i).to_string();
        let at = i;
        i += 1;
        if w == "-" || !w.starts_with('-') {
            urls.push((w, at));
            continue;
        }
        if let Some(long) = w.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let takes = [
                "output-document",
                "output-file",
                "directory-prefix",
                "proxy",
                "user-agent",
                "timeout",
                "tries",
                "header",
                "post-data",
                "post-file",
            ];
            let flags =
                ["continue", "quiet", "server-response", "spider", "no-check-certificate", "no-cache", "passive-ftp"];
            if !takes.contains(&name) && !flags.contains(&name) {
                return Err(usage(a, format!("wget: unrecognized option '--{name}'"), at));
            }
            let value = if takes.contains(&name) {
                match inline {
                    Some(v) => Some(v),
                    None if i < a.len() => {
                        i += 1;
                        Some(a.word(i - 1).to_string())
                    }
                    None => return Err(usage(a, format!("wget: option '--{name}' requires an argument"), at)),
                }
            } else {
                None
            };
            match (name, value) {
                ("quiet", _) => o.quiet = true,
                ("server-response", _) => o.server_response = true,
                ("spider", _) => o.spider = true,
                ("output-document", v) => o.output = v,
                ("directory-prefix", v) => o.dir = v,
                ("user-agent", v) => o.user_agent = v,
                ("header", Some(v)) => o.headers.push(v),
                ("post-data", v) => post = v,
                ("post-file", _) => return Err(a.err("netsim: wget --post-file is not modelled (no files)", at)),
                _ => {}
            }
            continue;
        }
        let chars: Vec<char> = w[1..].chars().collect();
        let mut k = 0;
        while k < chars.len() {
            let ch = chars[k];
            k += 1;
            match ch {
                'c' => {}
                'q' => o.quiet = true,
                'S' => o.server_response = true,
                'O' | 'o' | 'P' | 'U' | 'T' | 'Y' | 't' => {
                    let Some((v, _)) = a.short_value(&chars, &mut k, &mut i, at) else {
                        return Err(usage(a, format!("wget: option requires an argument -- '{ch}'"), at));
                    };
                    match ch {
                        'O' => o.output = Some(v),
                        'P' => o.dir = Some(v),
                        'U' => o.user_agent = Some(v),
                        _ => {}
                    }
                }
                other => return Err(usage(a, format!("wget: invalid option -- '{other}'"), at)),
            }
        }
    }
    let Some((u, at)) = urls.first().cloned() else {
        return Err(CliError::new(WGET_USAGE, a.argv.full_span()));
    };
    if urls.len() > 1 {
        return Err(a.err("netsim: wget with several URLs is not modelled", urls[1].1));
    }
    let url = parse_url(&u).map_err(|_| a.err(format!("wget: bad address '{u}'"), at))?;
    if url.scheme != "http" {
        return Err(a.err(format!("netsim: wget {}:// is not modelled", url.scheme), at));
    }
    // The Host header and "Connecting to" name the host as typed, with a port if one was.
    let rest = u.split_once("://").map_or(u.as_str(), |(_, r)| r);
    o.host = rest.split(['/', '?', '#']).next().unwrap_or(rest).rsplit('@').next().unwrap_or_default().to_string();
    Ok(Wget { url, opts: o, post_data: post })
}

fn parse_url(s: &str) -> Result<Url, String> {
    let malformed = || "curl: (3) URL rejected: Malformed input to a URL function".to_string();
    let (scheme, rest) = match s.split_once("://") {
        Some((sc, r)) => (sc.to_ascii_lowercase(), r),
        None => ("http".to_string(), s),
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!("curl: (1) Protocol \"{scheme}\" not supported"));
    }
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = if let Some(r) = authority.strip_prefix('[') {
        let (h, after) = r.split_once(']').ok_or_else(malformed)?;
        (format!("[{h}]"), after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err("curl: (3) URL rejected: No host part in the URL".to_string());
    }
    if host.chars().any(|c| c.is_whitespace() || "<>\\^`{|}\"".contains(c)) {
        return Err(malformed());
    }
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(parse_uint(p, false, 16).map_err(|_| {
            "curl: (3) URL rejected: Port number was not a decimal number between 0 and 65535".to_string()
        })? as u16),
    };
    let path = path.split('#').next().unwrap_or("");
    let path = if path.is_empty() || path.starts_with('?') { format!("/{path}") } else { path.to_string() };
    Ok(Url { scheme, host, port, path })
}

// ---------------------------------------------------------------------------------------
// nslookup

/// `nslookup` in its non-interactive form, with the options busybox's applet and BIND's
/// both take (`-type=`, `-port=`, `-timeout=`, `-retry=`; BIND's abbreviations too). An
/// unknown option gets BIND's `*** Invalid option: X`; a query type neither knows, busybox's
/// `invalid query type "X"` (networking/nslookup.c).
fn nslookup(a: &Args) -> Result<Nslookup, CliError> {
    use crate::userland::proto::nslookup::QUERY_TYPES;
    let mut n = Nslookup { name: String::new(), server: None, types: Vec::new(), port: 53, timeout: 5, retry: 2 };
    let mut pos: Vec<(String, usize)> = Vec::new();
    for i in 1..a.len() {
        let w = a.word(i);
        let Some(opt) = w.strip_prefix('-').filter(|o| !o.is_empty()) else {
            pos.push((w.to_string(), i));
            continue;
        };
        let (k, v) = opt.split_once('=').unwrap_or((opt, ""));
        let number = |max: u64| parse_uint(v, false, 32).ok().filter(|&x| (1..=max).contains(&x));
        let invalid = || a.err(format!("*** Invalid option: {opt}"), i);
        match k.to_ascii_lowercase().as_str() {
            "type" | "query" | "querytype" | "q" | "ty" => {
                let Some(&(_, t)) = QUERY_TYPES.iter().find(|(name, _)| name.eq_ignore_ascii_case(v)) else {
                    return Err(a.err(format!("nslookup: invalid query type \"{v}\""), i));
                };
                if !n.types.contains(&t) {
                    n.types.push(t);
                }
            }
            "port" | "po" => n.port = number(65535).ok_or_else(invalid)? as u16,
            "timeout" | "t" => n.timeout = number(u64::from(i32::MAX as u32 / 1000)).ok_or_else(invalid)? as u32,
            "retry" | "ret" => n.retry = number(i32::MAX as u64).ok_or_else(invalid)? as u32,
            "debug" | "nodebug" | "d2" | "vc" | "novc" | "recurse" | "norecurse" | "search" | "nosearch" | "domain" => {
            }
            _ => return Err(invalid()),
        }
    }
    match pos.len() {
        0 => Err(CliError::new(
            "netsim: nslookup: interactive mode is not supported; give the name to look up",
            a.argv.full_span(),
        )),
        1 | 2 => {
            n.name = pos[0].0.clone();
            n.server = pos.get(1).map(|p| p.0.clone());
            Ok(n)
        }
        _ => Err(a.err("netsim: nslookup: expected NAME [SERVER]", pos[2].1)),
    }
}

// ---------------------------------------------------------------------------------------
// nc

/// busybox's usage text for `nc` (`CONFIG_NC_110_COMPAT`), without the banner naming its
/// build (see `WGET_USAGE`): traces/docker/nc/record.txt.
const NC_USAGE: &str = "Usage: nc [OPTIONS] HOST PORT  - connect
nc [OPTIONS] -l -p PORT [HOST] [PORT]  - listen

\t-e PROG\tRun PROG after connect (must be last)
\t-l\tListen mode, for inbound connects
\t-lk\tWith -e, provides persistent server
\t-p PORT\tLocal port
\t-s ADDR\tLocal address
\t-w SEC\tTimeout for connects and final net reads
\t-i SEC\tDelay interval for lines sent
\t-n\tDon't do DNS resolution
\t-u\tUDP mode
\t-b\tAllow broadcasts
\t-v\tVerbose
\t-o FILE\tHex dump traffic
\t-z\tZero-I/O mode (scanning)";

/// busybox `nc` (`networking/nc_bloaty.c`), parsed as its getopt32 string
/// `np:s:ubvw:+lki:o:z` takes it (options may follow the operands; `-v` counts), after
/// `-e PROG [ARGS]` is cut off the end: nc looks for a word `-e` (or a cluster of value-less
/// options ending in `e`, as `-lke`) before getopt runs, and whatever follows is PROG's.
fn nc(a: &Args) -> Result<Nc, CliError> {
    use crate::userland::proto::nc::NcOpts;
    let words = &a.argv.words;
    let e_at = (1..words.len()).find(|&i| {
        let w = &words[i];
        w == "-e"
            || w.len() > 2
                && w.starts_with('-')
                && w.ends_with('e')
                && w[1..w.len() - 1].chars().all(|c| "nuvlkz".contains(c))
    });
    let (argv, exec) = match e_at {
        Some(i) => {
            let mut head =
                Argv { words: words[..=i].to_vec(), spans: a.argv.spans.get(..=i).unwrap_or_default().to_vec() };
            // `-lke` keeps its other letters; a lone `-e` goes.
            let w = &mut head.words[i];
            w.pop();
            if w == "-" {
                head.words.pop();
                head.spans.truncate(head.words.len());
            }
            (head, Some((words[i + 1..].to_vec(), i)))
        }
        None => (a.argv.clone(), None),
    };
    let a = &Args { argv: &argv };
    let mut o = NcOpts::default();
    let (mut zero, mut listen, mut keep, mut local_port) = (false, false, false, None);
    let unmodelled = |a: &Args, what: &str, at: usize| a.err(format!("netsim: nc {what} is not modelled"), at);
    let pos = a.getopt("psiow", &mut |c, at, value| {
        let need = |value: Option<(String, usize)>| {
            value.ok_or_else(|| a.err(format!("nc: option requires an argument -- '{c}'\n{NC_USAGE}"), at))
        };
        match c {
            'b' => {}
            'n' => o.numeric = true,
            'v' => o.verbose = o.verbose.saturating_add(1),
            'z' => zero = true,
            'l' => listen = true,
            'k' => keep = true,
            'w' => {
                let (v, vat) = need(value)?;
                // getopt32's `+`: xatoi_positive.
                o.wait = Some(
                    v.parse::<u32>()
                        .ok()
                        .filter(|n| *n <= i32::MAX as u32)
                        .ok_or_else(|| a.err(format!("nc: invalid number '{v}'"), vat))?,
                );
            }
            'p' => {
                let (v, vat) = need(value)?;
                local_port = Some(nc_port(a, &v, vat)?);
            }
            'u' => return Err(unmodelled(a, "-u (UDP)", at)),
            's' | 'i' | 'o' => {
                need(value)?;
                return Err(unmodelled(a, &format!("-{c}"), at));
            }
            _ => return Err(a.err(format!("nc: invalid option -- '{c}'\n{NC_USAGE}"), at)),
        }
        Ok(())
    })?;
    // getopt32's "?2": at most two operands.
    if pos.len() > 2 || (!listen && pos.is_empty()) {
        return Err(CliError::new(NC_USAGE, a.argv.full_span()));
    }
    let exec = match exec {
        None => None,
        Some((prog, at)) if prog.is_empty() => {
            return Err(a.err(format!("nc: option requires an argument -- 'e'\n{NC_USAGE}"), at));
        }
        Some((prog, _)) => Some(prog),
    };
    if listen {
        if let Some((_, at)) = pos.first() {
            return Err(unmodelled(a, "-l with a peer to accept only (HOST [PORT])", *at));
        }
        let mode = NcMode::Listen { port: local_port.unwrap_or(0), keep };
        return Ok(Nc { host: String::new(), port: 0, opts: o, mode, exec });
    }
    if local_port.is_some() {
        return Err(a.err("netsim: nc -p (the local port of a connection) is not modelled", 0));
    }
    if exec.is_some() {
        return Err(a.err("netsim: nc -e on a connection it makes is not modelled; -l -e PROG is", 0));
    }
    // bb_lookup_port: a number up to 65535, else a name in /etc/services, which the images
    // lack; no port at all is port 0.
    let port = match pos.get(1) {
        None => 0,
        Some((p, at)) => nc_port(a, p, *at)?,
    };
    let mode = if zero { NcMode::Zero } else { NcMode::Connect };
    Ok(Nc { host: pos[0].0.clone(), port, opts: o, mode, exec: None })
}

fn nc_port(a: &Args, p: &str, at: usize) -> Result<u16, CliError> {
    p.parse::<u32>()
        .ok()
        .filter(|n| *n <= 65535)
        .map(|n| n as u16)
        .ok_or_else(|| a.err(format!("nc: bad port '{p}'"), at))
}

// ---------------------------------------------------------------------------------------
// mysql

#[derive(Clone, Copy, PartialEq, Eq)]
enum MyArg {
    None,
    Required,
    Optional,
}

fn mysql_opt(name: &str) -> Option<MyArg> {
    Some(match name {
        "host"
        | "user"
        | "port"
        | "execute"
        | "database"
        | "protocol"
        | "socket"
        | "connect-timeout"
        | "default-character-set" => MyArg::Required,
        "password" => MyArg::Optional,
        "batch" | "silent" | "skip-column-names" | "table" | "vertical" | "verbose" | "force" | "raw" | "html"
        | "xml" | "quick" | "compress" => MyArg::None,
        _ => return None,
    })
}

fn mysql_short(c: char) -> Option<&'static str> {
    Some(match c {
        'h' => "host",
        'u' => "user",
        'p' => "password",
        'P' => "port",
        'e' => "execute",
        'D' => "database",
        'S' => "socket",
        'B' => "batch",
        's' => "silent",
        'N' => "skip-column-names",
        't' => "table",
        'E' => "vertical",
        'v' => "verbose",
        'f' => "force",
        'r' => "raw",
        'H' => "html",
        'X' => "xml",
        'q' => "quick",
        'C' => "compress",
        _ => return None,
    })
}

fn mysql_set(m: &mut Mysql, name: &str, v: Option<String>) -> Result<(), String> {
    match name {
        "host" => m.host = v,
        "user" => m.user = v,
        "password" => m.password = v,
        "execute" => m.execute = v,
        "database" => m.database = v,
        "port" => {
            let v = v.unwrap_or_default();
            m.port = Some(
                parse_uint(&v, false, 16)
                    .map_err(|_| format!("mysql: [ERROR] mysql: Error while setting value '{v}' to 'port'."))?
                    as u16,
            );
        }
        "batch" => m.batch = true,
        "silent" => m.silent = true,
        "skip-column-names" => m.skip_column_names = true,
        _ => {}
    }
    Ok(())
}

/// MySQL 8 client options (my_getopt). Unknown options:
/// `mysql: [ERROR] unknown option '--foo'.`; missing argument:
/// `mysql: [ERROR] mysql: option '-u' requires an argument.` (best recollection). A bare
/// `-p`/`--password` would prompt on the terminal, which a scenario cannot answer.
fn mysql(a: &Args) -> Result<Mysql, CliError> {
    let prompt = "netsim: mysql: interactive password prompt is not supported; write -pPASSWORD";
    let mut m = Mysql::default();
    let mut pos: Vec<(String, usize)> = Vec::new();
    let mut i = 1;
    while i < a.len() {
        let w = a.word(i).to_string();
        let at = i;
        i += 1;
        if w.len() < 2 || !w.starts_with('-') {
            pos.push((w, at));
            continue;
        }
        if w == "--" {
            pos.extend((i..a.len()).map(|j| (a.word(j).to_string(), j)));
            break;
        }
        if let Some(body) = w.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let name = name.replace('_', "-");
            let kind =
                mysql_opt(&name).ok_or_else(|| a.err(format!("mysql: [ERROR] unknown option '--{name}'."), at))?;
            let v = match (kind, inline) {
                (_, Some(v)) => Some(v),
                (MyArg::Required, None) if i < a.len() => {
                    i += 1;
                    Some(a.word(i - 1).to_string())
                }
                (MyArg::Required, None) => {
                    return Err(a.err(format!("mysql: [ERROR] mysql: option '--{name}' requires an argument."), at));
                }
                (MyArg::Optional, None) => return Err(a.err(prompt, at)),
                (MyArg::None, None) => None,
            };
            mysql_set(&mut m, &name, v).map_err(|e| a.err(e, at))?;
            continue;
        }
        let chars: Vec<char> = w[1..].chars().collect();
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            k += 1;
            let name = mysql_short(c).ok_or_else(|| a.err(format!("mysql: [ERROR] unknown option '-{c}'."), at))?;
            let kind = mysql_opt(name).unwrap_or(MyArg::None);
            let rest: String = chars[k..].iter().collect();
            let v = match kind {
                MyArg::None => None,
                _ if !rest.is_empty() => {
                    k = chars.len();
                    Some(rest)
                }
                MyArg::Optional => return Err(a.err(prompt, at)),
                MyArg::Required if i < a.len() => {
                    i += 1;
                    Some(a.word(i - 1).to_string())
                }
                MyArg::Required => {
                    return Err(a.err(format!("mysql: [ERROR] mysql: option '-{c}' requires an argument."), at));
                }
            };
            mysql_set(&mut m, name, v).map_err(|e| a.err(e, at))?;
        }
    }
    match pos.len() {
        0 => {}
        1 => m.database = Some(pos[0].0.clone()),
        _ => return Err(a.err("netsim: mysql: expected at most one database name", pos[1].1)),
    }
    Ok(m)
}
