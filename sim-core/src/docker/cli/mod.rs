//! Parser for Docker CLI command lines as students type them in scenario steps.
//!
//! [`parse`] turns one line such as
//! `docker run -d --name web --network mynet -p 8001:80 webapp` into a typed
//! [`DockerCommand`], with docker/cli (v28/v29) flags, shorthands, defaults and value
//! validation, and errors worded like Docker's own. Every [`CliError`] carries the byte
//! [`Span`] of the offending token so a loader can report `file:line:col`.
//!
//! # Flag syntax (spf13/pflag + cobra)
//! `--flag value`, `--flag=value`, `-f value`, `-fvalue`, `-f=value`, combined bool
//! shorthands (`-dit`, `-dp 80:80`), bool flags never consume the next word (`--rm=false`
//! to negate), repeated flags accumulate, `--` ends flag parsing. Flags may follow
//! positionals, except for `run`, `exec` and `service create`, which stop parsing flags at
//! the first positional (`SetInterspersed(false)`): everything after `IMAGE`/`CONTAINER`
//! is the container command.
//!
//! # Error messages
//! Reproduced verbatim (first line of Docker's output, without the `docker: ` prefix and the
//! `See 'docker … --help'.` trailer):
//! - pflag: `unknown flag: --foo`, `unknown shorthand flag: 'x' in -x`,
//!   `flag needs an argument: --name`, `flag needs an argument: 'p' in -p`,
//!   `bad flag syntax: ---x`,
//!   `invalid argument "abc" for "-p, --publish" flag: <cause>`,
//!   `strconv.ParseBool: parsing "x": invalid syntax`,
//!   `strconv.ParseUint: parsing "x": invalid syntax` / `value out of range`,
//!   `failed to parse IP: "x"` (`--ip`, `--ip6`).
//! - docker/cli 28 arity (`cli/required.go`, printed after `docker: `):
//!   `'docker network create' requires 1 argument`, `… requires at least N arguments`,
//!   `… accepts no arguments`.
//! - go-connections/nat (v0.5, lower-case): `invalid containerPort: X`, `invalid hostPort: X`,
//!   `invalid IP address: X`, `invalid proto: X`, `no port specified: X<empty>`,
//!   `invalid ranges specified for container and host Ports: A and B`.
//!   (Older Docker releases capitalised these: `Invalid containerPort: X`. go-connections
//!   v0.5 checks the protocol before the empty-port case and so says `invalid proto: ` for
//!   `-p 8080:`; this parser keeps the clearer `no port specified` there.)
//! - distribution/reference: `invalid reference format`,
//!   `invalid reference format: repository name (library/Foo) must be lowercase`,
//!   `invalid reference format: repository name must be lowercase`,
//!   `repository name must not be more than 255 characters`,
//!   `invalid repository name (…), cannot specify 64-byte hexadecimal strings`.
//! - docker/cli: `IP address is not correctly formatted: X` (`--dns`),
//!   `invalid environment variable: X`, `X is not a valid mac address`,
//!   `invalid publish opts format (should be name=value but got 'X')`,
//!   `invalid field X`, `invalid field key X`, `invalid protocol value X`,
//!   `invalid publish mode value X`, `missing mandatory field "target"`,
//!   `hostip is not supported`, `network name/id is not specified`,
//!   `conflicting options: …`, `network-scoped aliases are only supported for user-defined networks`,
//!   `network "x" is specified multiple times`,
//!   `every ip-range or gateway must have a corresponding subnet`,
//!   `multiple overlapping subnet configuration is not supported`,
//!   `no matching subnet for gateway X` / `range X` / `aux-address X`,
//!   `cannot configure multiple gateways (…)`, `invalid subnet: invalid CIDR address: X`,
//!   `unknown role X`, `Invalid scale specifier 'X'.`, `S: invalid replicas value N: …`,
//!   `replicas can only be used with replicated or replicated-job mode`,
//!   `invalid availability "x", only active, pause and drain are supported`,
//!   `invalid string being converted to CIDR: X` (`--default-addr-pool`).
//!
//! Less certain (from memory, or really produced by the daemon rather than the CLI; the
//! simulator reports them at parse time):
//! - `unknown command: docker foo` (Docker ≥ 27 prints `docker: unknown command: docker foo`;
//!   older releases `docker: 'foo' is not a docker command.`); unknown subcommands use the
//!   same form, although real Docker prints the group's usage instead.
//! - `invalid label 'X': empty name` / `label 'K' contains whitespaces` (`--label`).
//! - `Unknown mode: X, only replicated and global supported` (`service create --mode`).
//! - daemon (the CLI model answers first, after `Error response from daemon: `):
//!   `plugin "X" not found` (unknown network driver), `Invalid subnet X : invalid CIDR address: X`,
//!   `Error response from daemon: Invalid container name (X), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
//!   `user specified IP address is supported on user defined networks only`,
//!   `invalid ResolutionMode: "X"`, `invalid Availability: "X"`, `invalid Role: "X"`,
//!   `port published with ingress mode can't be used with dnsrr mode`,
//!   `advertise address must be a non-zero IP address or network interface (with optional port number)`,
//!   `data path address must be a non-zero IP address or network interface (without a port number)`,
//!   `listen address must be an IP address or network interface (with optional port number)`.
//! - `--listen-addr`: `invalid bind address (X): …` details.
//! - `--network` long syntax `ip=`/`ip6=`: `invalid IPv4address: X` (Docker may instead pass
//!   the string through to the daemon).
//! - For `service create`, real Docker lets the daemon/swarmkit reject a bad image name with
//!   different wording; the reference messages above are used instead.
//! - Newer pflag releases may word numeric conversion errors differently.
//!
//! Messages starting with `netsim:` are the simulator's own (shell syntax it cannot run,
//! unsupported commands, interactive prompts).
//!
//! # Not modelled
//! Global options (`docker -H …`), `--help`, environment expansion, most flags of the
//! supported commands (accepted `run`/`service create`/`swarm init`/`network create` flags
//! that are not modelled are kept in `other_flags`), and every other command (reported as
//! `netsim: "docker X" is not supported`). `-e KEY` without a value is kept as
//! `value: None` instead of reading the client's environment.
//!
//! Container commands (`docker exec web ping -c 3 db`) are kept as [`Argv`];
//! [`parse_app_command`] / [`Exec::app_command`] recognise `ping`, `curl`, `nslookup` and
//! `mysql`.

mod app;
mod commands;
mod flags;
mod image;
mod lex;
mod types;
mod values;

#[cfg(test)]
mod tests;

pub use app::{AppCommand, Curl, Mysql, NcMode, Nslookup, Ping, Url, parse_app_command};
pub use image::ImageRef;
pub use types::*;

/// Parse one `docker …` command line.
pub fn parse(line: &str) -> Result<DockerCommand, CliError> {
    let words = lex::tokenize(line)?;
    commands::dispatch(line, &words)
}

/// A word for bash: as it is when it holds nothing bash would change, else single-quoted.
pub fn quote(w: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c);
    if !w.is_empty() && w.chars().all(plain) { w.to_string() } else { format!("'{}'", w.replace('\'', r"'\''")) }
}

/// Parse a command given as words (a program's, not a student's line): each quoted for the
/// lexer, then parsed as if typed, so every check of [`parse`] applies.
pub fn parse_argv(argv: &[String]) -> Result<DockerCommand, CliError> {
    parse(&argv.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" "))
}

/// Split a line into shell words (quote removal, no expansion), with their spans.
pub fn shell_words(line: &str) -> Result<Vec<(String, Span)>, CliError> {
    Ok(lex::tokenize(line)?.into_iter().map(|w| (w.text, w.span)).collect())
}

/// Whether the CLI refused the line for its number of arguments (`cli/required.go`): docker/cli
/// prints these after `docker: `.
pub fn is_arity_error(e: &CliError) -> bool {
    e.message.starts_with('\'') && (e.message.contains("' requires ") || e.message.ends_with("' accepts no arguments"))
}

/// Whether the CLI refused the line while parsing its flags (spf13/pflag's errors, listed
/// above): docker/cli then exits 125 rather than 1 (`cli/cobra.go`, `FlagErrorFunc`).
pub fn is_flag_error(e: &CliError) -> bool {
    ["unknown flag: ", "unknown shorthand flag: ", "flag needs an argument: ", "bad flag syntax: ", "invalid argument "]
        .iter()
        .any(|p| e.message.starts_with(p))
}
