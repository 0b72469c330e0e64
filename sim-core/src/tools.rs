//! The programs a student runs to look at a machine rather than to send anything: `ip`,
//! `tc qdisc show`, `bridge fdb`, `iptables -S`, `iptables-save`, `cat` of `/etc/hosts`, `/etc/resolv.conf`
//! and `/etc/hostname`, `hostname`. Typed on a host or through `docker exec`, they print the
//! namespace's state at the moment the step runs, in the formats of `show`; what a file holds
//! inside a container is Docker's to write (`docker::engine::Engine::etc_hosts`).
//!
//! Parsing is separate from printing so that a step is checked when the file loads and
//! printed when it runs.

use crate::kernel::netfilter::{ListFlags, Table};
use crate::kernel::show::What;

/// A state-printing program and what it was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tool {
    /// `ip [-4] addr|link|route|neigh [show|list]`, `bridge fdb [show]`.
    Show(What),
    /// `ip [-4] addr|link show [dev] DEV`: the device's block alone.
    ShowDev(What, String),
    /// `tc qdisc show dev DEV`: the device's line.
    ShowQdisc(String),
    /// `iptables-save [-t TABLE] [-c]`: one table or all in use, with counters.
    IptablesSave { table: Option<Table>, counters: bool },
    /// `iptables [-t TABLE] -S [CHAIN]` (`--list-rules`).
    IptablesRules { table: Table, chain: Option<String> },
    /// `iptables [-t TABLE] -L [CHAIN [RULENUM]]` (`--list`) with -n, -v, -x, --line-numbers.
    IptablesList { table: Table, chain: Option<String>, rule: Option<usize>, flags: ListFlags },
    /// `cat FILE…`, as the program was named (`cat`, `/bin/cat`).
    Cat { prog: String, files: Vec<String> },
    /// `hostname`.
    Hostname,
    /// `ip -o …` (`-oneline`): each record on one line (`oneline`).
    OneLine(Box<Tool>),
    /// `ip -4 addr …`: the IPv4 addresses only (`inet4`).
    Inet4(Box<Tool>),
}

/// A program that failed, with what it printed and its exit status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolError {
    pub message: String,
    pub status: u8,
}

fn fail(message: impl Into<String>, status: u8) -> ToolError {
    ToolError { message: message.into(), status }
}

/// Recognises one of the programs above; `None` for any other program.
pub fn parse(words: &[String]) -> Option<Result<Tool, ToolError>> {
    let prog = words.first()?;
    let base = prog.rsplit('/').next().unwrap_or(prog);
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    Some(match base {
        "ip" => ip(&args),
        "bridge" => bridge(&args),
        "iptables-save" => iptables_save(&args),
        "iptables" => iptables(&args),
        "tc" => match args.as_slice() {
            ["qdisc" | "qd" | "q"] | ["qdisc" | "qd" | "q", "show" | "list" | "ls" | "s"] => {
                Ok(Tool::Show(What::Qdisc))
            }
            ["qdisc" | "qd" | "q", "show" | "list" | "ls" | "s", "dev", dev] => Ok(Tool::ShowQdisc(dev.to_string())),
            _ => return None,
        },
        "cat" if !args.is_empty() => {
            Ok(Tool::Cat { prog: prog.clone(), files: args.iter().map(|a| a.to_string()).collect() })
        }
        "hostname" if args.is_empty() => Ok(Tool::Hostname),
        _ => return None,
    })
}

/// `bridge [-d] fdb|link [show [dev DEV]]` (`bridge link set` changes a port: `netconf`).
fn bridge(args: &[&str]) -> Result<Tool, ToolError> {
    let unmodelled = || {
        fail(
            "netsim: `bridge [-d] fdb [show]` and `bridge [-d] link [show [dev DEV]]` are what the simulator prints of `bridge`",
            1,
        )
    };
    let mut details = false;
    let mut rest = args;
    while let Some((o, r)) = rest.split_first().filter(|(o, _)| o.starts_with('-')) {
        match *o {
            "-d" | "-details" | "--details" => details = true,
            _ => return Err(unmodelled()),
        }
        rest = r;
    }
    let link = if details { What::BrLinkDetails } else { What::BrLink };
    let is_link = |o: &str| matches!(o, "l" | "li" | "lin" | "link");
    let is_show = |o: &str| matches!(o, "show" | "list" | "lst" | "ls");
    match rest {
        ["fdb"] | ["fdb", "show" | "list" | "ls"] => Ok(Tool::Show(What::Fdb)),
        [l] if is_link(l) => Ok(Tool::Show(link)),
        [l, s] if is_link(l) && is_show(s) => Ok(Tool::Show(link)),
        [l, s, "dev", dev] if is_link(l) && is_show(s) => Ok(Tool::ShowDev(link, dev.to_string())),
        [l, s, "dev"] if is_link(l) && is_show(s) => {
            Err(fail("Command line is not complete. Try option \"help\"", 255))
        }
        [obj, ..] if *obj != "fdb" && !is_link(obj) => {
            Err(fail(format!("Object \"{obj}\" is unknown, try \"bridge help\"."), 255))
        }
        _ => Err(unmodelled()),
    }
}

/// `ip -o`'s form of `ip addr` (`addr`) or `ip link` output, as iproute2 prints it
/// (`ip/ipaddress.c`, `print_linkinfo` and `print_addrinfo` with `oneline`): a link's lines
/// joined by `\`; one line per address, led by the device's index and name (without its
/// `@peer`), ending in its lifetimes.
pub fn oneline(text: &str, addr: bool) -> String {
    let mut out = String::new();
    let mut head: Option<(String, String)> = None;
    for line in text.lines() {
        if !line.starts_with(' ') {
            let mut parts = line.splitn(3, ": ");
            let (idx, name) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            head = Some((idx.to_string(), name.split('@').next().unwrap_or(name).to_string()));
            if !addr {
                if !out.is_empty() {
                    out.push('\n');
                }
                out += line;
            }
        } else if !addr {
            out.push('\\');
            out += line;
        } else if let (Some((idx, name)), Some(inet)) = (&head, line.trim_start().strip_prefix("inet")) {
            out += &format!("{idx}: {name}    inet{inet}\\       valid_lft forever preferred_lft forever\n");
        }
    }
    if !addr && !out.is_empty() {
        out.push('\n');
    }
    out
}

/// `ip -4`'s form of `ip addr` output, as iproute2 and busybox print it: only the devices
/// with an IPv4 address, without their `link/` lines (the family filter asks the kernel for
/// no link-layer information: iproute2 `ip/ipaddress.c`, busybox `ipaddr_list_or_flush`).
pub fn inet4(text: &str) -> String {
    let mut out = String::new();
    let mut block: Vec<&str> = Vec::new();
    let flush = |block: &mut Vec<&str>, out: &mut String| {
        if block.iter().any(|l| l.starts_with("    inet ")) {
            // iproute2 names the peer's namespace on the device's first line instead.
            let netns = block.iter().find_map(|l| l.find(" link-netns").map(|i| &l[i..])).unwrap_or("");
            for (k, l) in block.iter().filter(|l| !l.starts_with("    link/")).enumerate() {
                out.push_str(l);
                if k == 0 {
                    out.push_str(netns);
                }
                out.push('\n');
            }
        }
        block.clear();
    };
    for line in text.lines() {
        if !line.starts_with(' ') {
            flush(&mut block, &mut out);
        }
        block.push(line);
    }
    flush(&mut block, &mut out);
    out
}

/// iproute2's `ip`: objects may be abbreviated as `ip` allows (`a`, `addr`, `r`, `n`, `l`).
fn ip(args: &[&str]) -> Result<Tool, ToolError> {
    const ONELINE: [&str; 4] = ["-o", "-oneline", "-4o", "-o4"];
    let one = args.iter().any(|a| ONELINE.contains(a));
    let four = args.iter().any(|a| ["-4", "-4o", "-o4"].contains(a));
    let mut rest: Vec<&str> = args.iter().copied().filter(|a| *a != "-4" && !ONELINE.contains(a)).collect();
    if rest.first().is_some_and(|a| a.starts_with('-')) {
        return Err(fail(
            format!("netsim: `ip {}`: the simulator prints `ip [-4] addr|link|route|neigh`", args.join(" ")),
            1,
        ));
    }
    if rest.is_empty() {
        return Err(fail("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }", 255));
    }
    let obj = rest.remove(0);
    let what = match obj {
        "a" | "ad" | "add" | "addr" | "addre" | "addres" | "address" => What::Addr,
        "l" | "li" | "lin" | "link" => What::Link,
        "r" | "ro" | "rou" | "rout" | "route" => What::Route,
        "n" | "ne" | "nei" | "neig" | "neigh" | "neighbor" | "neighbour" => What::Neigh,
        other => return Err(fail(format!("Object \"{other}\" is unknown, try \"ip help\"."), 255)),
    };
    let mut tool = ip_show(args, obj, what, &rest)?;
    if four && what == What::Addr {
        tool = Tool::Inet4(Box::new(tool));
    }
    Ok(match one && matches!(what, What::Addr | What::Link) {
        true => Tool::OneLine(Box::new(tool)),
        false => tool,
    })
}

fn ip_show(args: &[&str], obj: &str, what: What, rest: &[&str]) -> Result<Tool, ToolError> {
    match rest {
        [] | ["show" | "list" | "ls" | "s" | "sh" | "lst"] => Ok(Tool::Show(what)),
        ["show" | "list" | "ls" | "s" | "sh" | "lst", "dev", dev]
        | ["show" | "list" | "ls" | "s" | "sh" | "lst", dev]
            if matches!(what, What::Addr | What::Link) && !dev.starts_with('-') =>
        {
            Ok(Tool::ShowDev(what, dev.to_string()))
        }
        _ => Err(fail(
            format!(
                "netsim: `ip {}`: the simulator prints the whole table (`ip {obj} show`), without filters or changes",
                args.join(" ")
            ),
            1,
        )),
    }
}

/// The block of `ip addr`/`ip link` output (a line `N: NAME[@PEER]: …` and the indented
/// lines under it) of device `dev`; iproute2's error when there is none.
pub fn device_block(table: &str, dev: &str) -> Result<String, ToolError> {
    let mut out = String::new();
    let mut keep = false;
    for line in table.lines() {
        if !line.starts_with(char::is_whitespace) {
            let name = line.split(": ").nth(1).unwrap_or_default();
            keep = name.split('@').next() == Some(dev);
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    if out.is_empty() { Err(fail(format!("Device \"{dev}\" does not exist."), 1)) } else { Ok(out) }
}

/// `iptables-save`'s options as its getopt_long reads them (iptables
/// `iptables/iptables-save.c`, v1.8.9 nf_tables): `-t TABLE`, `-c`; its words for the rest.
fn iptables_save(args: &[&str]) -> Result<Tool, ToolError> {
    let manual = "Look at manual page `iptables-save.8' for more information.";
    let (mut table, mut counters) = (None, false);
    let mut i = 0;
    while i < args.len() {
        let (opt, inline) = match args[i].split_once('=') {
            Some((o, v)) if o.starts_with("--") => (o, Some(v)),
            _ => (args[i], None),
        };
        match opt {
            "-c" | "--counters" => counters = true,
            "-t" | "--table" => {
                let name = match inline {
                    Some(v) => v,
                    None => {
                        i += 1;
                        *args.get(i).ok_or_else(|| {
                            fail(format!("iptables-save: option requires an argument -- 't'\n{manual}"), 1)
                        })?
                    }
                };
                table = Some(Table::from_name(name).ok_or_else(|| fail(format!("Table `{name}' does not exist"), 1))?);
            }
            o if o.starts_with('-') => {
                return Err(fail(format!("iptables-save: unrecognized option '{o}'\n{manual}"), 1));
            }
            o => return Err(fail(format!("netsim: iptables-save {o}: it takes -t TABLE and -c"), 1)),
        }
        i += 1;
    }
    Ok(Tool::IptablesSave { table, counters })
}

/// `iptables [-t TABLE] -S [CHAIN]` and `iptables [-t TABLE] -L [CHAIN [RULENUM]] [-n] [-v]
/// [-x] [--line-numbers]`, options parsed as getopt(3) does (`-nvL`, `-tnat`, `--numeric`),
/// with iptables 1.8.9's words for what it refuses. Changes (`-A`, `-D`…) are `netconf`'s.
fn iptables(args: &[&str]) -> Result<Tool, ToolError> {
    const TRY: &str = "Try `iptables -h' or 'iptables --help' for more information.";
    let bad = |what: String| fail(format!("iptables v1.8.9 (nf_tables): {what}\n{TRY}"), 2);
    let mut table = Table::Filter;
    let mut command: Option<char> = None;
    let mut flags = ListFlags::default();
    let (mut chain, mut rule) = (None, None);
    let set_command = |command: &mut Option<char>, c: char| match *command {
        Some(prev) if prev != c => Err(bad(format!("Cannot use -{c} with -{prev}"))),
        _ => {
            *command = Some(c);
            Ok(())
        }
    };
    // A command's optional CHAIN and RULENUM follow it as separate words.
    let optional_args = |i: &mut usize, chain: &mut Option<String>, rule: &mut Option<usize>| {
        if let Some(c) = args.get(*i + 1).filter(|c| !c.starts_with('-')) {
            *chain = Some(c.to_string());
            *i += 1;
            if let Some(n) = args.get(*i + 1).filter(|c| !c.starts_with('-')) {
                *rule = Some(
                    n.parse::<usize>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| bad(format!("Invalid rule number `{n}'")))?,
                );
                *i += 1;
            }
        }
        Ok::<(), ToolError>(())
    };
    let mut i = 0;
    while i < args.len() {
        let arg = args[i];
        if let Some(long) = arg.strip_prefix("--") {
            let (name, value) = long.split_once('=').map_or((long, None), |(n, v)| (n, Some(v)));
            // getopt_long takes any unambiguous prefix of an option's name.
            const LONG: [&str; 8] =
                ["table", "list", "list-rules", "numeric", "verbose", "exact", "line-numbers", "help"];
            let hits: Vec<&str> =
                LONG.iter().copied().filter(|o| *o == name || (o.starts_with(name) && !name.is_empty())).collect();
            let full = if hits.contains(&name) {
                name
            } else if hits.len() == 1 {
                hits[0]
            } else {
                ""
            };
            match full {
                "table" => {
                    let t = match value {
                        Some(v) => v,
                        None => {
                            i += 1;
                            args.get(i).copied().ok_or_else(|| bad("option \"--table\" requires an argument".into()))?
                        }
                    };
                    table = table_named(t)?;
                }
                "list" => {
                    set_command(&mut command, 'L')?;
                    optional_args(&mut i, &mut chain, &mut rule)?;
                }
                "list-rules" => {
                    set_command(&mut command, 'S')?;
                    optional_args(&mut i, &mut chain, &mut rule)?;
                }
                "numeric" => flags.numeric = true,
                "verbose" => flags.verbose = true,
                "exact" => flags.exact = true,
                "line-numbers" => flags.line_numbers = true,
                _ => return Err(not_modelled(arg)),
            }
        } else if let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) {
            for (at, c) in cluster.char_indices() {
                match c {
                    't' => {
                        let rest = &cluster[at + 1..];
                        let t = if rest.is_empty() {
                            i += 1;
                            args.get(i).copied().ok_or_else(|| bad("option \"-t\" requires an argument".into()))?
                        } else {
                            rest
                        };
                        table = table_named(t)?;
                        break;
                    }
                    'L' | 'S' => {
                        set_command(&mut command, c)?;
                        if at + 1 == cluster.len() {
                            optional_args(&mut i, &mut chain, &mut rule)?;
                        }
                    }
                    'n' => flags.numeric = true,
                    'x' => flags.exact = true,
                    'v' => flags.verbose = true,
                    'A' | 'D' | 'I' | 'R' | 'N' | 'X' | 'F' | 'Z' | 'P' | 'E' | 'C' => return Err(not_modelled(arg)),
                    _ if "hijogcmdsfpw".contains(c) => return Err(not_modelled(arg)),
                    other => return Err(bad(format!("unknown option \"-{other}\""))),
                }
            }
        } else if command.is_some() {
            return Err(fail(format!("Bad argument `{arg}'\n{TRY}"), 2));
        } else {
            return Err(not_modelled(arg));
        }
        i += 1;
    }
    match command {
        Some('L') => Ok(Tool::IptablesList { table, chain, rule, flags }),
        Some(_) => {
            // iptables checks the options -S does not take in the order of its option table
            // (`generic_opt_check`): -n, then -x, then --line-numbers.
            let illegal = [(flags.numeric, "-n"), (flags.exact, "-x"), (flags.line_numbers, "--line-numbers")];
            if let Some((_, o)) = illegal.iter().find(|(given, _)| *given) {
                return Err(bad(format!("Illegal option `{o}' with this command")));
            }
            if flags.verbose || rule.is_some() {
                return Err(fail(
                    "netsim: `iptables -S` with counters or a rule number is not modelled; `iptables -L -v` lists counters",
                    1,
                ));
            }
            Ok(Tool::IptablesRules { table, chain })
        }
        None => Err(bad("no command specified".into())),
    }
}

fn table_named(name: &str) -> Result<Table, ToolError> {
    Table::from_name(name).ok_or_else(|| {
        fail(
            format!("iptables v1.8.9 (nf_tables): table '{name}' does not exist\nPerhaps iptables or your kernel needs to be upgraded."),
            3,
        )
    })
}

fn not_modelled(arg: &str) -> ToolError {
    fail(
        format!(
            "netsim: `iptables {arg}`: the simulator lists rules with `iptables [-t TABLE] -L|-S [CHAIN]`, and changes them with -A, -I, -D, -R, -N, -X, -F, -P"
        ),
        1,
    )
}

/// An `/etc/hosts` file's IPv4 lines as (address, first name), what gethostbyaddr(3) answers.
pub fn hosts_lines(text: &str) -> Vec<(std::net::Ipv4Addr, String)> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.parse().ok()?, w.next()?.to_string()))
        })
        .collect()
}

/// The `/etc/hosts` of a machine of the lab that is not a container: Debian's default
/// (netcfg writes the host name on 127.0.1.1).
pub fn host_etc_hosts(hostname: &str) -> String {
    format!(
        "127.0.0.1\tlocalhost\n127.0.1.1\t{hostname}\n\n# The following lines are desirable for IPv6 capable hosts\n\
         ::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n"
    )
}

/// `cat` of files, each from `file` (None: no such file), as coreutils prints them.
pub fn cat(prog: &str, files: &[String], file: impl Fn(&str) -> Option<String>) -> Result<String, ToolError> {
    let mut out = String::new();
    let mut missing = Vec::new();
    for f in files {
        match file(f) {
            Some(text) => out.push_str(&text),
            None => missing.push(format!("{prog}: {f}: No such file or directory")),
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        out.push_str(&missing.join("\n"));
        Err(fail(out, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn ip_takes_its_abbreviations_and_refuses_what_it_would_refuse() {
        for (line, what) in
            [("ip a", What::Addr), ("ip r", What::Route), ("ip neigh", What::Neigh), ("ip link list", What::Link)]
        {
            assert_eq!(parse(&words(line)), Some(Ok(Tool::Show(what))), "{line}");
        }
        // `-4` keeps the IPv4 addresses only.
        assert_eq!(parse(&words("ip -4 addr show")), Some(Ok(Tool::Inet4(Box::new(Tool::Show(What::Addr))))));
        let e = parse(&words("ip foo")).unwrap().unwrap_err();
        assert_eq!((e.message.as_str(), e.status), ("Object \"foo\" is unknown, try \"ip help\".", 255));
        assert!(
            parse(&words("ip route add 10.0.0.0/8 via 1.2.3.4")).unwrap().unwrap_err().message.starts_with("netsim:")
        );
        assert_eq!(parse(&words("ping 1.2.3.4")), None);
        for line in ["ip link show eth0", "ip link show dev eth0", "ip a s eth0"] {
            let want = if line.contains(" a ") { What::Addr } else { What::Link };
            assert_eq!(parse(&words(line)), Some(Ok(Tool::ShowDev(want, "eth0".into()))), "{line}");
        }
    }

    /// `ip link show DEV` prints the device's block; a device that is not there gets
    /// iproute2's words and status (`ip link show dev nosuch` on Linux 6.18: exit status 1).
    #[test]
    fn a_device_is_shown_alone_or_said_to_be_missing() {
        let table = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 state UNKNOWN\n    link/loopback 00:00:00:00:00:00\n\
                     3: eth0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 state UP\n    link/ether 02:42:0a:00:01:02\n";
        assert_eq!(
            device_block(table, "eth0"),
            Ok("3: eth0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 state UP\n    link/ether 02:42:0a:00:01:02\n"
                .into())
        );
        let e = device_block(table, "eth9").unwrap_err();
        assert_eq!((e.message.as_str(), e.status), ("Device \"eth9\" does not exist.", 1));
    }

    #[test]
    fn iptables_lists_rules_by_table_and_chain() {
        assert_eq!(
            parse(&words("iptables -t nat -S DOCKER")),
            Some(Ok(Tool::IptablesRules { table: Table::Nat, chain: Some("DOCKER".into()) }))
        );
        assert_eq!(parse(&words("iptables -S")), Some(Ok(Tool::IptablesRules { table: Table::Filter, chain: None })));
        assert!(parse(&words("iptables -t bogus -S")).unwrap().is_err());
        let numeric = ListFlags { numeric: true, ..ListFlags::default() };
        assert_eq!(
            parse(&words("iptables -tnat -nL DOCKER")),
            Some(Ok(Tool::IptablesList {
                table: Table::Nat,
                chain: Some("DOCKER".into()),
                rule: None,
                flags: numeric
            }))
        );
        // A change is netconf's to make; here it is named, not taken for a listing.
        assert!(parse(&words("iptables -A INPUT -j DROP")).unwrap().unwrap_err().message.starts_with("netsim: "));
    }

    #[test]
    fn cat_prints_what_exists_and_names_what_does_not() {
        let f = |p: &str| (p == "/etc/hostname").then(|| "web\n".to_string());
        assert_eq!(cat("cat", &words("/etc/hostname"), f), Ok("web\n".into()));
        let e = cat("cat", &words("/etc/hostname /nope"), f).unwrap_err();
        assert_eq!((e.message.as_str(), e.status), ("web\ncat: /nope: No such file or directory", 1));
    }
}

/// The most a lab's `sleep` may hold its shell: a day of simulated time.
const SLEEP_MAX_SECS: f64 = 86_400.0;

/// coreutils `sleep NUMBER[smhd]…` on a host: the sum of its arguments
/// (`images::sleep_interval`),
/// or coreutils' words for a bad one (as it prints them under `C.UTF-8`, the quotes curly).
pub fn sleep(args: &[&str]) -> Result<crate::engine::SimTime, ToolError> {
    let help = "Try 'sleep --help' for more information.";
    let args = args.strip_prefix(&["--"]).unwrap_or(args);
    if args.is_empty() {
        return Err(fail(format!("sleep: missing operand\n{help}"), 1));
    }
    let t = crate::docker::images::sleep_interval(args)
        .map_err(|a| fail(format!("sleep: invalid time interval ‘{a}’\n{help}"), 1))?;
    let secs = t.as_nanos() as f64 / 1e9;
    if secs > SLEEP_MAX_SECS {
        return Err(fail(format!("netsim: sleep {secs}: a step sleeps at most a day of simulated time"), 1));
    }
    Ok(t)
}

#[cfg(test)]
mod sleep_tests {
    use super::sleep;
    use crate::engine::SimTime;

    /// As coreutils 9.1 sleeps and refuses (`sleep x`, `sleep`, `sleep 1x`, `sleep -- -1` on
    /// Debian 12 under C.UTF-8).
    #[test]
    fn sleep_adds_its_arguments_and_refuses_as_coreutils_does() {
        assert_eq!(sleep(&["2"]).unwrap(), SimTime::from_secs(2));
        assert_eq!(sleep(&["1.5", "1m"]).unwrap(), SimTime::from_millis(61_500));
        let e = sleep(&["1x"]).unwrap_err();
        assert_eq!(e.message, "sleep: invalid time interval ‘1x’\nTry 'sleep --help' for more information.");
        assert_eq!(e.status, 1);
        assert!(sleep(&["--", "-1"]).unwrap_err().message.contains("‘-1’"));
        assert!(sleep(&[]).unwrap_err().message.starts_with("sleep: missing operand\n"));
    }
}
