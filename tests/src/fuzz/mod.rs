//! Fuzz targets and an in-tree mutation driver.
//!
//! Each [`Target`] is a plain `fn(&[u8])` (in [`targets`]) that must not panic or hang on any
//! input. Two drivers call them:
//! - [`fuzz`], a deterministic mutation fuzzer without coverage feedback, run by
//!   `cargo test -p netsim-tests --test fuzz` with a small fixed budget (CI, the README's
//!   `cargo test --workspace`);
//! - the cargo-fuzz project in `fuzz/` (libFuzzer, coverage-guided, nightly), for long runs.
//!
//! Both start from [`corpus::seeds`]. `fuzz/README.md` says how to run them.

pub mod corpus;
pub mod panics;
pub mod targets;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What can be fuzzed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// `Loaded::from_str`, `build` and a short run ([`targets::scenario`]).
    Scenario,
    /// A step's command line: the Docker CLI parser and the host-command recogniser.
    DockerCli,
    /// A command typed in the GUI's console at a chosen event of a tutorial.
    Console,
    /// The HTTP request and response parsers.
    Http,
    /// DNS queries and responses, and the embedded server's answer.
    Dns,
    /// The MySQL server and client state machines and the SQL engine.
    Mysql,
    /// `wire::dissect`, the hex dump and the one-line summary of a frame.
    Frame,
    /// The pcapng reader.
    Pcapng,
}

impl Target {
    pub const ALL: [Target; 8] = [
        Target::Scenario,
        Target::DockerCli,
        Target::Console,
        Target::Http,
        Target::Dns,
        Target::Mysql,
        Target::Frame,
        Target::Pcapng,
    ];

    /// The name of its test in tests/tests/fuzz.rs and of its cargo-fuzz target.
    pub fn name(self) -> &'static str {
        match self {
            Target::Scenario => "scenario",
            Target::DockerCli => "docker_cli",
            Target::Console => "console",
            Target::Http => "http",
            Target::Dns => "dns",
            Target::Mysql => "mysql",
            Target::Frame => "frame",
            Target::Pcapng => "pcapng",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Runs the target on one input.
    pub fn run(self, data: &[u8]) {
        match self {
            Target::Scenario => targets::scenario(data),
            Target::DockerCli => targets::docker_cli(data),
            Target::Console => targets::console(data),
            Target::Http => targets::http(data),
            Target::Dns => targets::dns(data),
            Target::Mysql => targets::mysql(data),
            Target::Frame => targets::frame(data),
            Target::Pcapng => targets::pcapng(data),
        }
    }

    /// Inputs are cut to this length: past it, more bytes only slow the target down.
    pub fn max_len(self) -> usize {
        match self {
            Target::Scenario => 32 * 1024,
            Target::DockerCli | Target::Console => 1024,
            Target::Http | Target::Mysql => 8 * 1024,
            Target::Dns => 1024,
            Target::Frame => 4 * 1024,
            Target::Pcapng => 16 * 1024,
        }
    }

    /// Executions in the in-tree driver by default (a debug build on a CI machine): each
    /// target stays within a few seconds, so the whole suite fits in well under a minute.
    pub fn default_iterations(self) -> u64 {
        match self {
            Target::Scenario | Target::Console => 1_000,
            Target::DockerCli => 50_000,
            Target::Http | Target::Dns => 200_000,
            Target::Mysql | Target::Frame => 50_000,
            Target::Pcapng => 5_000,
        }
    }

    /// The dictionary in libFuzzer's format (`-dict=`): one `"…"` a line, bytes escaped `\xNN`.
    pub fn libfuzzer_dictionary(self) -> String {
        let mut s = String::new();
        for w in self.dictionary() {
            s.push('"');
            for &b in w.iter() {
                if b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ' {
                    s.push(char::from(b));
                } else {
                    s += &format!("\\x{b:02X}");
                }
            }
            s += "\"\n";
        }
        s
    }

    /// Words the mutator inserts: the syntax and the edge values of the target's input.
    fn dictionary(self) -> &'static [&'static [u8]] {
        match self {
            Target::Scenario => &[
                b"(",
                b")",
                b"[",
                b"]",
                b"\"",
                b",",
                b":",
                b"Some(",
                b"None",
                b"true",
                b"false",
                b"0",
                b"-1",
                b"65535",
                b"65536",
                b"4294967295",
                b"18446744073709551615",
                b"1e99",
                b"\"0s\"",
                b"\"-1s\"",
                b"\"99999999999h\"",
                b"\"\"",
                b"\xc3\xa9",
                b"\xef\xbb\xbf",
                b"\r\n",
                b"//",
                b"/*",
                b"*/",
                b"r#\"",
                b"name: ",
                b"hosts: [",
                b"steps: [",
                b"traffic: [",
                b"plan: (",
                b"(on: \"host1\", run: \"",
                b"docker run -d --name ",
                b"docker network create ",
                b"Ping(ns: \"",
                b"count: ",
                b"size: ",
                b"mtu: ",
                b"\"10.0.0.1/33\"",
                b"\"ff:ff:ff:ff:ff:ff\"",
                b"\"host1/eth0\"",
                b"until: ",
                b"engine: (version: \"20.10\", mtu: ",
                b"capture: [",
            ],
            Target::DockerCli | Target::Console => &[
                b"docker ",
                b"run ",
                b"exec ",
                b"network ",
                b"create ",
                b"connect ",
                b"rm ",
                b"service ",
                b"swarm ",
                b"init ",
                b"-d ",
                b"--name ",
                b"--network ",
                b"-p ",
                b"--publish ",
                b"--ip ",
                b"--subnet ",
                b"--gateway ",
                b"--ip-range ",
                b"--aux-address ",
                b"-e ",
                b"--driver ",
                b"--mode ",
                b"--replicas ",
                b"--",
                b"'",
                b"\"",
                b"\\",
                b"=",
                b":",
                b"/",
                b"/udp",
                b"/sctp",
                b"65535",
                b"65536",
                b"99999",
                b"-1",
                b"4294967295",
                b"18446744073709551615",
                b"ping ",
                b"-c ",
                b"-s ",
                b"-i ",
                b"-W ",
                b"curl ",
                b"-X POST ",
                b"--data ",
                b"http://",
                b"nslookup ",
                b"mysql ",
                b"-h ",
                b"-u ",
                b"-p",
                b"-e ",
                b"SELECT 1",
                b"alpine",
                b"nginx",
                b"webapp",
                b"mysql:5.5",
                b"web",
                b"db",
                b"c80",
                b"cafe",
                b"add",
                b"\xc3\xa9",
                b"\x00",
                b"\n",
                b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.",
            ],
            Target::Http => &[
                b"GET / HTTP/1.1\r\n",
                b"POST /index.php HTTP/1.1\r\n",
                b"HTTP/1.1 200 OK\r\n",
                b"HTTP/1.0 204 ",
                b"\r\n",
                b"\r\n\r\n",
                b"Host: web\r\n",
                b"Content-Length: ",
                b"Transfer-Encoding: chunked\r\n",
                b"Connection: close\r\n",
                b"0\r\n\r\n",
                b"ffffffff",
                b"ffffffffffffffff",
                b"7fffffffffffffff",
                b"18446744073709551616",
                b"-1",
                b";ext=1",
                b"course_name=a&course_id=b",
                b"%",
                b"%zz",
                b"+",
            ],
            Target::Dns => &[b"\x00\x01\x00\x01", b"\xc0\x0c", b"\x3f", b"\x40", b"\xff\xff", b"\x00\x29"],
            Target::Mysql => &[
                b"\x03",
                b"\x01",
                b"\x02",
                b"\x0e",
                b"SELECT * FROM course_details",
                b"INSERT INTO course_details VALUES (",
                b"CREATE TABLE t (a INT)",
                b"SHOW DATABASES",
                b"USE ",
                b"WHERE ",
                b"ORDER BY ",
                b"LIMIT ",
                b"18446744073709551615",
                b"'",
                b"\\",
                b"NULL",
                b"\xfe",
                b"\xff",
                b"\xfb",
                b"\xfc\xff\xff",
                b"\xfd\xff\xff\xff",
            ],
            Target::Frame => &[b"\x08\x00E\x00", b"\x81\x00", b"\x08\x06", b"\x12\xb5", b"\x00\x35", b"\x0c\xea"],
            Target::Pcapng => &[b"\x0a\x0d\x0d\x0a", b"\x01\x00\x00\x00", b"\x06\x00\x00\x00", b"\xff\xff\xff\xff"],
        }
    }
}

// ----- the in-tree driver ----------------------------------------------------------------------

/// How long and from where the in-tree driver runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The RNG seed: the same seed and seeds give the same inputs in the same order.
    pub seed: u64,
    /// Mutated inputs to run after the seeds.
    pub iterations: u64,
    /// Stop earlier than `iterations` once this much time has passed (a slow machine).
    pub time: Duration,
    /// An input that runs this long is a hang: reported, then the process aborts.
    pub hang: Duration,
    /// Where failing inputs are written.
    pub crash_dir: Option<PathBuf>,
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

impl Config {
    /// The defaults for `target`, overridden by `NETSIM_FUZZ_SEED` (else `PROPTEST_RNG_SEED`),
    /// `NETSIM_FUZZ_ITERATIONS`, `NETSIM_FUZZ_SECS` and `NETSIM_FUZZ_HANG_SECS`.
    pub fn from_env(target: Target) -> Config {
        Config {
            seed: env_u64("NETSIM_FUZZ_SEED").or_else(|| env_u64("PROPTEST_RNG_SEED")).unwrap_or(0x6e65_7473_696d),
            iterations: env_u64("NETSIM_FUZZ_ITERATIONS").unwrap_or(target.default_iterations()),
            time: Duration::from_secs(env_u64("NETSIM_FUZZ_SECS").unwrap_or(8)),
            hang: Duration::from_secs(env_u64("NETSIM_FUZZ_HANG_SECS").unwrap_or(20)),
            crash_dir: None,
        }
    }
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct Stats {
    pub seeds: usize,
    pub execs: u64,
    pub elapsed: Duration,
}

/// An input that made a target panic.
#[derive(Clone, Debug)]
pub struct Crash {
    pub target: Target,
    pub input: Vec<u8>,
    /// The panic's message, location and backtrace.
    pub message: String,
    /// Where the input was written, if it was.
    pub saved: Option<PathBuf>,
}

/// `ab01…`: how failing inputs are printed and read back (`NETSIM_FUZZ_INPUT`).
pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

fn describe(target: Target, input: &[u8], saved: Option<&Path>) -> String {
    let mut s = format!(
        "input ({} bytes)\n  escaped: b\"{}\"\n  hex: {}\nreproduce: NETSIM_FUZZ_INPUT={} cargo test -p netsim-tests --test fuzz -- --exact {}",
        input.len(),
        input.escape_ascii(),
        to_hex(input),
        to_hex(input),
        target.name()
    );
    if let Some(p) = saved {
        s += &format!("\n       or: cargo +nightly fuzz run {} {}   (in fuzz/)", target.name(), p.display());
    }
    s
}

impl fmt::Display for Crash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fuzz target `{}` panicked: {}\n{}",
            self.target.name(),
            self.message,
            describe(self.target, &self.input, self.saved.as_deref())
        )
    }
}

fn save(dir: Option<&Path>, target: Target, kind: &str, input: &[u8]) -> Option<PathBuf> {
    let dir = dir?;
    std::fs::create_dir_all(dir).ok()?;
    // FNV-1a: a stable name for the same input.
    let h = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let p = dir.join(format!("{kind}-{}-{h:016x}", target.name()));
    std::fs::write(&p, input).ok()?;
    Some(p)
}

/// Runs `target` on one input; a panic becomes `Err(message, location and backtrace)`.
pub fn run_one(target: Target, input: &[u8]) -> Result<(), String> {
    panics::no_panic(|| target.run(input))
}

/// SplitMix64: small, fast, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`0` for `n == 0`).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

const INTERESTING_BYTES: &[u8] = &[0, 1, 0x7f, 0x80, 0xff, b'\n', b'"', b' ', b'0', b'9', b'-', b'\\', 0xc3];
const INTERESTING_WORDS: &[u64] =
    &[0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x1_0000, 0x7fff_ffff, 0xffff_ffff];
const BIG_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "255",
    "256",
    "65535",
    "65536",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
];

/// One to four byte-level edits of `input`.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>, seeds: &[Vec<u8>], dict: &[&[u8]], max_len: usize) {
    for _ in 0..=rng.below(4) {
        let len = input.len();
        match rng.below(11) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = rng.next() as u8;
            }
            2 if len > 0 => {
                let i = rng.below(len);
                input[i] = INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())];
            }
            3 => {
                let at = rng.below(len + 1);
                let bytes: Vec<u8> = (0..=rng.below(8)).map(|_| rng.next() as u8).collect();
                input.splice(at..at, bytes);
            }
            4 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(64));
                input.drain(at..at + n);
            }
            5 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(128));
                let piece = input[at..at + n].to_vec();
                let to = rng.below(len + 1);
                input.splice(to..to, piece);
            }
            6 if !seeds.is_empty() => {
                // A piece of another seed: crosses what one file or stream has with another's.
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = a + 1 + rng.below((other.len() - a).min(256));
                    let to = rng.below(len + 1);
                    if rng.below(2) == 0 {
                        input.splice(to..to, other[a..b].iter().copied());
                    } else {
                        input.truncate(to);
                        input.extend_from_slice(&other[a..]);
                    }
                }
            }
            7 if !dict.is_empty() => {
                let w = dict[rng.below(dict.len())];
                let at = rng.below(len + 1);
                input.splice(at..at, w.iter().copied());
            }
            8 if len >= 4 => {
                let v = INTERESTING_WORDS[rng.below(INTERESTING_WORDS.len())];
                let width = [1usize, 2, 4][rng.below(3)];
                let at = rng.below(len - width + 1);
                let bytes = if rng.below(2) == 0 { v.to_be_bytes() } else { v.to_le_bytes() };
                let src = if bytes[0] == 0 && width < 8 { &bytes[8 - width..] } else { &bytes[..width] };
                input[at..at + width].copy_from_slice(src);
            }
            9 => {
                // A number in the text becomes an edge value (sizes, counts, ports, lengths).
                let digits: Vec<usize> = (0..len).filter(|&i| input[i].is_ascii_digit()).collect();
                if !digits.is_empty() {
                    let a = digits[rng.below(digits.len())];
                    let b = (a..len).find(|&i| !input[i].is_ascii_digit()).unwrap_or(len);
                    let n = BIG_NUMBERS[rng.below(BIG_NUMBERS.len())];
                    input.splice(a..b, n.bytes());
                }
            }
            10 if len > 0 => input.truncate(rng.below(len)),
            _ => {}
        }
    }
    input.truncate(max_len);
}

/// Ends the process if one input runs longer than `hang`: a loop without end in the code under
/// test cannot be interrupted from inside, and CI must fail rather than wait for its timeout.
/// The input being run, and since when.
type Running = Arc<Mutex<Option<(Instant, Vec<u8>)>>>;

struct Watchdog {
    current: Running,
    done: Arc<AtomicBool>,
}

impl Watchdog {
    fn start(target: Target, hang: Duration, dir: Option<PathBuf>) -> Watchdog {
        let current: Running = Arc::default();
        let done = Arc::new(AtomicBool::new(false));
        let (c, d) = (current.clone(), done.clone());
        std::thread::spawn(move || {
            while !d.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let Ok(g) = c.lock() else { return };
                if let Some((t, input)) = &*g
                    && t.elapsed() > hang
                {
                    let saved = save(dir.as_deref(), target, "hang", input);
                    eprintln!(
                        "fuzz target `{}` still running after {:?}: a hang\n{}",
                        target.name(),
                        hang,
                        describe(target, input, saved.as_deref())
                    );
                    std::process::abort();
                }
            }
        });
        Watchdog { current, done }
    }

    fn enter(&self, input: &[u8]) {
        if let Ok(mut g) = self.current.lock() {
            *g = Some((Instant::now(), input.to_vec()));
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

/// Runs every seed, then `cfg.iterations` mutants (fewer if `cfg.time` runs out). Each mutant
/// is made from a seed or, one time in three, from the previous mutant, so edits accumulate.
/// Stops at the first panic.
pub fn fuzz(target: Target, seeds: &[Vec<u8>], cfg: &Config) -> Result<Stats, Box<Crash>> {
    let start = Instant::now();
    let dog = Watchdog::start(target, cfg.hang, cfg.crash_dir.clone());
    let mut rng = Rng(cfg.seed ^ (target as u64).wrapping_mul(0x9e37_79b9));
    let dict = target.dictionary();
    let mut execs = 0;
    let mut exec = |input: &[u8]| -> Result<(), Box<Crash>> {
        dog.enter(input);
        execs += 1;
        run_one(target, input).map_err(|message| {
            let saved = save(cfg.crash_dir.as_deref(), target, "crash", input);
            Box::new(Crash { target, input: input.to_vec(), message, saved })
        })
    };
    for s in seeds {
        exec(s)?;
    }
    let mut last: Vec<u8> = Vec::new();
    for _ in 0..cfg.iterations {
        if start.elapsed() > cfg.time {
            break;
        }
        let mut input = if last.is_empty() || rng.below(3) != 0 || seeds.is_empty() {
            seeds.get(rng.below(seeds.len())).cloned().unwrap_or_default()
        } else {
            std::mem::take(&mut last)
        };
        mutate(&mut rng, &mut input, seeds, dict, target.max_len());
        exec(&input)?;
        last = input;
    }
    Ok(Stats { seeds: seeds.len(), execs, elapsed: start.elapsed() })
}
