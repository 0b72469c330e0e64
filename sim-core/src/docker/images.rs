//! The images a lab's hosts have: a lab runs without a registry, so every image it uses must
//! be one of these (as if pulled beforehand), and any other fails as `docker run` fails on a
//! machine that cannot reach Docker Hub. Each entry keeps what the simulation needs from the
//! image: the ports its Dockerfile `EXPOSE`s (for `-P` and `docker inspect`) and the server it
//! runs, if the simulator models one.

use super::bridge::Proto;
use crate::engine::SimTime;

/// The server a web image runs (`ImageRole::Web`): nginx or httpd at the version of the
/// catalogue's build (its `latest`), its page dated by the build; Apache with PHP otherwise.
pub fn web_server(image: &str) -> crate::userland::apps::WebServer {
    use crate::userland::apps::WebServer;
    let Some(i) = find(image) else { return WebServer::Apache };
    let Some(b) = i.build else { return WebServer::Apache };
    match i.name {
        "nginx" => WebServer::Nginx { version: b.version.into(), modified: unix_of(b.created) },
        "httpd" => WebServer::Httpd { version: b.version.into() },
        _ => WebServer::Apache,
    }
}

/// An RFC 3339 UTC time (`2026-07-15T23:30:55.95Z`) as Unix seconds; 0 if it is not one.
fn unix_of(t: &str) -> i64 {
    let num = |r: std::ops::Range<usize>| t.get(r).and_then(|s| s.parse::<i64>().ok());
    let parts = (num(0..4), num(5..7), num(8..10), num(11..13), num(14..16), num(17..19));
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s)) = parts else { return 0 };
    crate::engine::days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s
}

/// What a container of an image runs, as far as the network sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageRole {
    /// The tutorial's PHP webapp (`hshar/webapp`): a form, and INSERTs into MySQL on POST.
    Webapp,
    /// A MySQL server (`hshar/mysql:5.5`, `mysql`, `mariadb`).
    Mysql,
    /// A static web server (`nginx`, `httpd`).
    Web,
    /// A server whose protocol the simulator does not speak (Redis, PostgreSQL): it listens
    /// on its TCP port, so a connection is made (`nc -z cache 6379` finds it open), and
    /// answers nothing; it closes when the client does.
    Listener(u16),
}

impl ImageRole {
    /// The TCP port its server listens on.
    pub fn port(self) -> u16 {
        match self {
            ImageRole::Webapp | ImageRole::Web => 80,
            ImageRole::Mysql => 3306,
            ImageRole::Listener(port) => port,
        }
    }
}

/// One image of the catalogue, found by its repository's last path component
/// (`nginx`, `library/nginx`, `docker.io/library/nginx:1.27` are all `nginx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Image {
    pub name: &'static str,
    /// The Dockerfile's `EXPOSE` lines, from each image's Docker Hub page.
    pub expose: &'static [(u16, Proto)],
    pub role: Option<ImageRole>,
    /// What a container runs when `docker run` gives no command: the image's `ENTRYPOINT`
    /// then its `CMD`, as `docker ps` and `docker-compose ps` join them (each image's
    /// Dockerfile in github.com/docker-library).
    pub cmd: &'static [&'static str],
    /// Its `ping` (and `nslookup`, `wget`, `nc`) are busybox's applets, as in alpine and
    /// busybox; the other images are Debian's, whose `ping` is iputils'.
    pub busybox: bool,
    /// Which of the programs the simulator runs (`ping`, `curl`, `ip`, …) the image has on
    /// its `PATH`, where that is known; `None`: not listed, and every one runs.
    pub programs: Option<Programs>,
    /// The build `docker images` lists for every tag of it: the `latest` one that
    /// github.com/docker-library/repo-info records (`repos/NAME/local/latest.md`), where the
    /// image is an official one; `None` for the others, whose builds are not published in
    /// a form one can cite (the simulator shows them as built on the host as the lab began:
    /// `system::HostImage::of`).
    pub build: Option<Build>,
}

/// One build of an image, as `docker images` and `docker image inspect` show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Build {
    /// The version it is (repo-info's title line).
    pub version: &'static str,
    /// `sha256:…`, the digest of its config.
    pub id: &'static str,
    /// RFC 3339, UTC.
    pub created: &'static str,
    /// Bytes: repo-info's "Virtual Size", which it gives in megabytes to two decimals.
    pub size: u64,
}

/// Which of [`PROGRAMS`] an image has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Programs {
    Only(&'static [&'static str]),
    AllBut(&'static [&'static str]),
}

/// The programs the simulator runs in a container (`docker::cli::parse_app_command`,
/// `tools::parse`, `netconf::parse`).
///
/// `dig` and `host` (BIND's) and `tcpdump` are not run, but which images lack them is known.
pub const PROGRAMS: &[&str] = &[
    "ping",
    "curl",
    "wget",
    "nslookup",
    "mysql",
    "nc",
    "netcat",
    "traceroute",
    "ip",
    "bridge",
    "iptables",
    "iptables-save",
    "tc",
    "cat",
    "hostname",
    "dig",
    "host",
    "tcpdump",
    "sh",
    "ash",
    "bash",
    "zsh",
];

/// The shells the simulator runs: with no script it reads its commands from standard input,
/// which a lab never types into, so it waits while that is open (`-i`, `-t`) and exits 0 at
/// end-of-file otherwise (`runs_for`).
pub const SHELLS: &[&str] = &["sh", "ash", "bash", "zsh"];

/// Whether `command` is a shell given nothing to run (`ash`, `/bin/sh`, `bash -l`): no
/// script, no `-c`.
pub fn bare_shell<S: AsRef<str>>(command: &[S]) -> bool {
    let Some((prog, args)) = command.split_first() else { return false };
    let prog = prog.as_ref();
    SHELLS.contains(&prog.rsplit('/').next().unwrap_or(prog)) && args.iter().all(|a| matches!(a.as_ref(), "-l" | "-i"))
}

/// alpine's and busybox's: busybox's applets (alpine's `main/busybox/busyboxconfig` in
/// aports; the busybox image's build of its defconfig), and nothing else of `PROGRAMS`: no
/// curl, mysql, iptables, bridge or tc (`traces/docker/missing-program/record.txt` is what
/// the engine says then).
const BUSYBOX_PROGRAMS: &[&str] =
    &["ping", "wget", "nslookup", "nc", "traceroute", "ip", "cat", "hostname", "sh", "ash"];
/// Debian's and Ubuntu's base images: the `Essential`/`required` packages only, so neither
/// iputils-ping, curl, wget, dnsutils, netcat nor iproute2 (each distribution's package
/// priorities); `hostname`, coreutils' `cat`, bash and dash (as `sh`) are there.
const BASE_PROGRAMS: &[&str] = &["cat", "hostname", "sh", "bash"];
/// nicolaka/netshoot: its Dockerfile's `apk add` of curl, iputils, bind-tools, netcat-openbsd,
/// iproute2, iptables, tcpdump, on alpine (busybox's `wget`): all but a MySQL client.
const NETSHOOT_LACKS: &[&str] = &["mysql"];

const TCP: Proto = Proto::Tcp;

/// Every image a lab may run. `hshar/webapp`'s Dockerfile is not published; its author's
/// `hshar/website`, built `FROM hshar/webapp`, runs Apache as `/usr/sbin/apache2ctl -D
/// FOREGROUND`, which is what the webapp's container is shown to run.
pub const CATALOGUE: &[Image] = &[
    Image {
        name: "alpine",
        expose: &[],
        role: None,
        cmd: &["/bin/sh"],
        busybox: true,
        programs: Some(Programs::Only(BUSYBOX_PROGRAMS)),
        // repos/alpine/local/3.24.2.md at 7859ce4 (no latest.md is kept: 3.24.2 is the newest)
        build: Some(Build {
            version: "3.24.2",
            id: "sha256:320994c3b997e2ec6433f717f153e108023c5bec8fefa8d76b83451d16d05ea8",
            created: "2026-09-17T20:37:20.889221879Z",
            size: 8_420_000,
        }),
    },
    Image {
        name: "busybox",
        expose: &[],
        role: None,
        cmd: &["sh"],
        busybox: true,
        programs: Some(Programs::Only(BUSYBOX_PROGRAMS)),
        // repos/busybox/local/latest.md at 8bb997f
        build: Some(Build {
            version: "1.38.0",
            id: "sha256:aaef90e065235eb0b2d9938be85d1b81add2902cf89affe2cdfa19be33476ac0",
            created: "2026-05-13T02:21:49Z",
            size: 4_450_000,
        }),
    },
    // nicolaka/netshoot: alpine with the network tools installed from its packages, so its
    // `ping` is iputils' (its Dockerfile's `apk add … iputils …`) and its CMD `zsh`.
    Image {
        name: "netshoot",
        expose: &[],
        role: None,
        cmd: &["zsh"],
        busybox: false,
        programs: Some(Programs::AllBut(NETSHOOT_LACKS)),
        build: None,
    },
    Image {
        name: "ubuntu",
        expose: &[],
        role: None,
        cmd: &["/bin/bash"],
        busybox: false,
        programs: Some(Programs::Only(BASE_PROGRAMS)),
        // repos/ubuntu/local/latest.md at 34e0037
        build: Some(Build {
            version: "26.04",
            id: "sha256:af52039db3f8df8b54cd80945bdabea797445f414955027fa0bed9cd3908244b",
            created: "2026-08-17T09:00:47.315779976Z",
            size: 100_170_000,
        }),
    },
    Image {
        name: "debian",
        expose: &[],
        role: None,
        cmd: &["bash"],
        busybox: false,
        programs: Some(Programs::Only(BASE_PROGRAMS)),
        // repos/debian/local/latest.md at 029a6a7
        build: Some(Build {
            version: "trixie",
            id: "sha256:c038a8ef24ab88bc8edacfc93704c9bf301647b9253a59077f6f5342f39727ae",
            created: "2026-08-24T00:00:00Z",
            size: 119_920_000,
        }),
    },
    Image {
        name: "nginx",
        expose: &[(80, TCP)],
        role: Some(ImageRole::Web),
        cmd: &["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"],
        busybox: false,
        programs: None,
        // repos/nginx/local/latest.md at 549aa8d
        build: Some(Build {
            version: "1.31.3",
            id: "sha256:4e5db4761e0ff445f7fd29aad680ad28e8abf7d204895557f145d65535abcc1c",
            created: "2026-07-15T23:30:55.953154252Z",
            size: 161_330_000,
        }),
    },
    Image {
        name: "httpd",
        expose: &[(80, TCP)],
        role: Some(ImageRole::Web),
        cmd: &["httpd-foreground"],
        busybox: false,
        programs: None,
        // repos/httpd/local/latest.md at 440dbb3
        build: Some(Build {
            version: "2.4.68",
            id: "sha256:17aba4293f3b5cfec2b487e409d8225cb423a018a3a5936130b14864934f3b9e",
            created: "2026-08-25T00:22:24.291835327Z",
            size: 116_840_000,
        }),
    },
    Image {
        name: "webapp",
        expose: &[(80, TCP)],
        role: Some(ImageRole::Webapp),
        cmd: &["/usr/sbin/apache2ctl", "-D", "FOREGROUND"],
        busybox: false,
        programs: None,
        build: None,
    },
    Image {
        name: "mysql",
        expose: &[(3306, TCP), (33060, TCP)],
        role: Some(ImageRole::Mysql),
        cmd: &["docker-entrypoint.sh", "mysqld"],
        busybox: false,
        programs: None,
        // repos/mysql/local/latest.md at e2133d4
        build: Some(Build {
            version: "26.7.0",
            id: "sha256:d236310860c6d039bb44b1e0569de1e6b6806ec5c40aa7c63560590fbde6b649",
            created: "2026-07-27T22:08:24.079468627Z",
            size: 945_090_000,
        }),
    },
    Image {
        name: "mariadb",
        expose: &[(3306, TCP)],
        role: Some(ImageRole::Mysql),
        cmd: &["docker-entrypoint.sh", "mariadbd"],
        busybox: false,
        programs: None,
        // repos/mariadb/local/latest.md at 1b7ee43
        build: Some(Build {
            version: "12.3.3-noble",
            id: "sha256:9088b63a827c19d498883827e2939c0358320c888a7b0870aee152771ab259e3",
            created: "2026-08-24T18:04:46.843016182Z",
            size: 333_780_000,
        }),
    },
    Image {
        name: "redis",
        expose: &[(6379, TCP)],
        role: Some(ImageRole::Listener(6379)),
        cmd: &["docker-entrypoint.sh", "redis-server"],
        busybox: false,
        programs: None,
        // repos/redis/local/latest.md at 0d55394
        build: Some(Build {
            version: "8.8.0",
            id: "sha256:da3958f512eed039170b888ab48a80fa3424482ee50d52a634cf71c7b7b1ca45",
            created: "2026-07-14T01:44:18.945080795Z",
            size: 142_600_000,
        }),
    },
    Image {
        name: "postgres",
        expose: &[(5432, TCP)],
        role: Some(ImageRole::Listener(5432)),
        cmd: &["docker-entrypoint.sh", "postgres"],
        busybox: false,
        programs: None,
        // repos/postgres/local/latest.md at 537f580
        build: Some(Build {
            version: "18.4",
            id: "sha256:628c6a72022221842da0de6c791444ed6441cc55d8ffa44f1e55532d2949b6c8",
            created: "2026-07-14T01:36:07.537544835Z",
            size: 456_260_000,
        }),
    },
];

/// The catalogue's entry for an image reference as typed or as `docker ps` shows it.
pub fn find(image: &str) -> Option<&'static Image> {
    let repo = image.split(['@']).next().unwrap_or(image);
    // A tag follows the last `:` after the last `/` (a registry may have a port).
    let last = repo.rsplit('/').next().unwrap_or(repo);
    let last = last.split(':').next().unwrap_or(last);
    CATALOGUE.iter().find(|i| i.name == last)
}

/// What a container of `image` runs when it is given no command (`Image::cmd`); nothing for
/// an image outside the catalogue.
pub fn default_command(image: &str) -> Vec<String> {
    find(image).map(|i| i.cmd.iter().map(|w| w.to_string()).collect()).unwrap_or_default()
}

/// Whether `image` runs a shell when given no command (alpine's `/bin/sh`, ubuntu's
/// `/bin/bash`, …): one that reads its commands from standard input, so without `-i` or `-t`
/// it reads end-of-file at once and exits 0.
pub fn runs_a_shell(image: &str) -> bool {
    find(image).is_some_and(|i| bare_shell(i.cmd))
}

/// Whether a container of `image` running `command` ends on `docker stop`'s SIGTERM. The
/// kernel does not deliver a signal to a PID namespace's init that has no handler for it
/// (pid_namespaces(7)), so only a process that handles SIGTERM stops at once: the servers of
/// the catalogue (nginx, httpd, Apache, MySQL, MariaDB, Redis, PostgreSQL) running as their
/// image starts them. A shell, `sleep` or any other command is killed when the timeout is
/// over (SIGKILL: exit status 137).
pub fn stops_on_sigterm(image: &str, command: &[String]) -> bool {
    find(image).is_some_and(|i| !runs_a_shell(image) && i.cmd.iter().eq(command.iter()))
}

/// How long after it starts a container of `image` running `command` ends by itself (status
/// 0), where the simulator knows: a shell with no script (the image's own, or one named)
/// reads end-of-file at once without `-i` or `-t`, and `sleep` ends when its time is up. `None`: it runs until
/// stopped, or what it runs is another program's business (a server, ping, curl…).
pub fn runs_for(image: &str, command: &[String], stdin_open: bool) -> Option<SimTime> {
    let default = default_command(image);
    let command = if command.is_empty() { default.as_slice() } else { command };
    if bare_shell(command) {
        return (!stdin_open).then_some(SimTime::ZERO);
    }
    match command.first().map(|p| p.rsplit('/').next().unwrap_or(p)) {
        Some("sleep") => {
            let args: Vec<&str> = command[1..].iter().map(String::as_str).collect();
            let args = args.strip_prefix(&["--"]).unwrap_or(&args);
            (!args.is_empty()).then(|| sleep_interval(args).ok()).flatten()
        }
        _ => None,
    }
}

/// What `sleep ARG…` waits, as coreutils and busybox's applet read it: the sum of its
/// arguments, each a decimal number with an optional unit (`s`, `m`, `h`, `d`), to the
/// nanosecond. `Err`: the first argument that is no such number (`inf`, `1x`, `-1`).
pub fn sleep_interval<'a>(args: &[&'a str]) -> Result<SimTime, &'a str> {
    let mut nanos: u64 = 0;
    for &a in args {
        let scale = match a.as_bytes().last() {
            Some(b'm') => 60,
            Some(b'h') => 3600,
            Some(b'd') => 86_400,
            _ => 1,
        };
        let num = a.strip_suffix(['s', 'm', 'h', 'd']).unwrap_or(a);
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() && frac.is_empty() || !digits(int) || !digits(frac) {
            return Err(a);
        }
        let whole: u64 = if int.is_empty() { 0 } else { int.parse().map_err(|_| a)? };
        let frac_ns: u64 = format!("{frac:0<9}")[..9].parse().map_err(|_| a)?;
        let n =
            whole.checked_mul(1_000_000_000).and_then(|w| w.checked_add(frac_ns)).and_then(|n| n.checked_mul(scale));
        nanos = n.and_then(|n| nanos.checked_add(n)).ok_or(a)?;
    }
    Ok(SimTime::from_nanos(nanos))
}

/// The `ping` a container of `image` runs: busybox's where the image is busybox-based,
/// iputils' otherwise (also for an image outside the catalogue, which never starts).
pub fn ping_flavour(image: &str) -> crate::userland::proto::ping::Flavour {
    use crate::userland::proto::ping::Flavour;
    if find(image).is_some_and(|i| i.busybox) { Flavour::Busybox } else { Flavour::Iputils }
}

/// Which `nslookup` a container of `image` runs: busybox's applet, or BIND's (netshoot's
/// `bind-tools`, Debian's `bind9-dnsutils`).
pub fn nslookup_flavour(image: &str) -> crate::userland::proto::nslookup::Flavour {
    use crate::userland::proto::nslookup::Flavour;
    if find(image).is_some_and(|i| i.busybox) { Flavour::Busybox } else { Flavour::Bind }
}

/// Whether a container of `image` has `program` (a path's last component) on its `PATH`:
/// false only for a program of [`PROGRAMS`] a listed image lacks.
pub fn has_program(image: &str, program: &str) -> bool {
    let name = program.rsplit('/').next().unwrap_or(program);
    match find(image).and_then(|i| i.programs) {
        _ if !PROGRAMS.contains(&name) => true,
        Some(Programs::Only(list)) => list.contains(&name),
        Some(Programs::AllBut(list)) => !list.contains(&name),
        None => true,
    }
}

/// What runc says when a container's process is not on its `PATH`, as the 20.10 engine and
/// its runc print it (`traces/docker/missing-program/record.txt`): for `docker exec`, which
/// then exits 126 (moby `daemon/exec.go`, docker/cli `cli/command/container/exec.go`)…
pub fn missing_exec(program: &str) -> String {
    format!(
        "OCI runtime exec failed: exec failed: unable to start container process: exec: \"{program}\": executable file not found in $PATH: unknown"
    )
}

/// …and for the start of a container, after `Error response from daemon: ` (`docker run`
/// exits 127: docker/cli `runStartContainerErr`; `docker start` 1).
pub fn missing_start(program: &str) -> String {
    format!(
        "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"{program}\": executable file not found in $PATH: unknown"
    )
}

/// The program of `command` a container of `image` cannot start, if any.
pub fn missing_program<'a>(image: &str, command: &'a [String]) -> Option<&'a str> {
    command.first().map(String::as_str).filter(|p| !has_program(image, p))
}

/// `docker run IMAGE` for an image no host has: dockerd tries to pull it and cannot reach
/// the registry. docker/cli prints the first line itself (`cli/command/container/create.go`,
/// "Unable to find image … locally"), then the daemon's error; the lookup's own words depend
/// on the machine's resolver, which a lab's host does not have.
pub fn not_found(reference: &str) -> String {
    format!(
        "Unable to find image '{reference}' locally\ndocker: Error response from daemon: Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_found_by_their_last_path_component_whatever_the_tag_or_registry() {
        assert_eq!(find("nginx").map(|i| i.name), Some("nginx"));
        assert_eq!(find("docker.io/library/redis:7").map(|i| i.name), Some("redis"));
        assert_eq!(find("hshar/mysql:5.5").and_then(|i| i.role), Some(ImageRole::Mysql));
        assert_eq!(find("localhost:5000/nginx").map(|i| i.name), Some("nginx"));
        assert_eq!(find("ngnix"), None);
    }
}
