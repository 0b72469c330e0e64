//! What the web images write to their container's log (`docker logs`, `docker-compose logs`,
//! `docker service logs`): the lines as each server starts, then a line per request, which
//! names the client as the server saw it. That address is the lesson: a published port's
//! DNAT keeps the client's own, docker-proxy (a connection from the host itself) gives the
//! bridge's gateway, and the swarm's routing mesh the ingress network's address of the node.
//!
//! - **nginx** (the official image, docker-library/nginx): `/docker-entrypoint.sh` says what
//!   it does with `/docker-entrypoint.d/` (the IPv6 listen, the local resolvers, templates,
//!   worker tuning), then nginx logs its start at `notice` on stderr (the image links
//!   `/var/log/nginx/error.log` to `/dev/stderr`): event method, version, compiler, kernel,
//!   file limit, one worker per CPU (`worker_processes auto`), the workers' PIDs following
//!   the entrypoint's. Each request is a line of the image's `log_format main` in
//!   `/etc/nginx/nginx.conf` (`/var/log/nginx/access.log` is `/dev/stdout`):
//!   `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
//!   "$http_referer" "$http_user_agent" "$http_x_forwarded_for"`; a file it cannot find is
//!   first an `[error]` line from the worker, with the connection's number
//!   (`ngx_http_static_module`'s `open()` failure).
//! - **httpd** (docker-library/httpd, `httpd-foreground`): AH00558 twice (the configuration
//!   is read twice, and no `ServerName` is set, so it names itself by its first address),
//!   then `AH00489 … configured -- resuming normal operations` and `AH00094 Command line`;
//!   each request a line of the `common` format (`%h %l %u %t "%r" %>s %b`, `-` for no
//!   body), which the image's `httpd.conf` writes to `/proc/self/fd/1`.
//! - The tutorial's webapp (Apache from Ubuntu's packages) logs to files under
//!   `/var/log/apache2`, not to the container's output: nothing.
//!
//! How a server stops (nginx's `signal 3 (SIGQUIT) received`, httpd's `caught SIGWINCH`) is
//! not written: a stopped container's log ends with its last request.

use std::net::Ipv4Addr;

use super::webapp::WebServer;
use crate::engine::{Civil, SimTime};

/// The file limit the 20.10 engine gives a container (containerd's default,
/// `LimitNOFILE=infinity` in Debian's unit, read as 1048576), as nginx prints it.
const NOFILE: &str = "1048576:1048576";
/// The PID nginx's first worker gets in the Debian images of 1.31: the entrypoint and its
/// scripts used the ones before it.
const FIRST_WORKER: u32 = 29;
/// nginx's compiler in its Debian trixie image (1.29 and later).
const NGINX_GCC: &str = "gcc 14.2.0 (Debian 14.2.0-19)";

/// One request as the server logs it.
pub struct Access<'a> {
    pub client: Ipv4Addr,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    /// Bytes of body sent (0 for HEAD).
    pub body: usize,
    pub host: Option<&'a str>,
    pub referer: Option<&'a str>,
    pub agent: Option<&'a str>,
    pub forwarded_for: Option<&'a str>,
    /// The connection's number since the server started (nginx's `*N`).
    pub connection: u64,
}

/// What the server writes as it starts at `at`, with `ip` its container's first address, on
/// a kernel `kernel` with `cpus` processors.
pub fn started(server: &WebServer, at: SimTime, ip: Ipv4Addr, kernel: &str, cpus: u32) -> String {
    let mut out = String::new();
    let mut line = |l: String| {
        out.push_str(&l);
        out.push('\n');
    };
    match server {
        WebServer::Apache => {}
        WebServer::Nginx { version, .. } => {
            let d = "/docker-entrypoint.d";
            let me = "10-listen-on-ipv6-by-default.sh";
            for l in [
                format!("/docker-entrypoint.sh: {d}/ is not empty, will attempt to perform configuration"),
                format!("/docker-entrypoint.sh: Looking for shell scripts in {d}/"),
                format!("/docker-entrypoint.sh: Launching {d}/{me}"),
                format!("{me}: info: Getting the checksum of /etc/nginx/conf.d/default.conf"),
                format!("{me}: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf"),
                format!("/docker-entrypoint.sh: Sourcing {d}/15-local-resolvers.envsh"),
                format!("/docker-entrypoint.sh: Launching {d}/20-envsubst-on-templates.sh"),
                format!("/docker-entrypoint.sh: Launching {d}/30-tune-worker-processes.sh"),
                "/docker-entrypoint.sh: Configuration complete; ready for start up".to_string(),
            ] {
                line(l);
            }
            let t = nginx_time(at);
            for n in [
                "using the \"epoll\" event method".to_string(),
                format!("nginx/{version}"),
                format!("built by {NGINX_GCC}"),
                format!("OS: Linux {kernel}"),
                format!("getrlimit(RLIMIT_NOFILE): {NOFILE}"),
                "start worker processes".to_string(),
            ] {
                line(format!("{t} [notice] 1#1: {n}"));
            }
            for w in 0..cpus.max(1) {
                line(format!("{t} [notice] 1#1: start worker process {}", FIRST_WORKER + w));
            }
        }
        WebServer::Httpd { version } => {
            for _ in 0..2 {
                line(format!(
                    "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using {ip}. \
                     Set the 'ServerName' directive globally to suppress this message"
                ));
            }
            let t = httpd_time(at);
            line(format!(
                "[{t}] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/{version} (Unix) configured -- resuming normal operations"
            ));
            line(format!("[{t}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'"));
        }
    }
    out
}

/// What the server writes for one request answered at `at`.
pub fn request(server: &WebServer, at: SimTime, a: &Access) -> String {
    let or_dash = |v: Option<&str>| v.unwrap_or("-").to_string();
    let request = format!("{} {} HTTP/1.1", a.method, a.path);
    match server {
        WebServer::Apache => String::new(),
        WebServer::Nginx { .. } => {
            let mut out = String::new();
            if a.status == 404 {
                let host = a.host.map(|h| format!(", host: \"{h}\"")).unwrap_or_default();
                let file = a.path.split('?').next().unwrap_or(a.path);
                out.push_str(&format!(
                    "{} [error] {FIRST_WORKER}#{FIRST_WORKER}: *{} open() \"/usr/share/nginx/html{file}\" failed \
                     (2: No such file or directory), client: {}, server: localhost, request: \"{request}\"{host}\n",
                    nginx_time(at),
                    a.connection,
                    a.client
                ));
            }
            out.push_str(&format!(
                "{} - - [{}] \"{request}\" {} {} \"{}\" \"{}\" \"{}\"\n",
                a.client,
                clf_time(at),
                a.status,
                a.body,
                or_dash(a.referer),
                or_dash(a.agent),
                or_dash(a.forwarded_for)
            ));
            out
        }
        WebServer::Httpd { .. } => {
            let bytes = if a.body == 0 { "-".to_string() } else { a.body.to_string() };
            format!("{} - - [{}] \"{request}\" {} {bytes}\n", a.client, clf_time(at), a.status)
        }
    }
}

/// nginx's error log time: `2026/11/28 12:00:00` (UTC: the images set no zone).
fn nginx_time(at: SimTime) -> String {
    let c = Civil::of(at.wall().0);
    format!("{}/{:02}/{:02} {:02}:{:02}:{:02}", c.year, c.month, c.day, c.hour, c.minute, c.second)
}

/// The common log format's time: `28/Nov/2026:12:00:00 +0000`.
fn clf_time(at: SimTime) -> String {
    let c = Civil::of(at.wall().0);
    format!("{:02}/{}/{}:{:02}:{:02}:{:02} +0000", c.day, c.month_name(), c.year, c.hour, c.minute, c.second)
}

/// Apache's error log time, to the microsecond: `Sat Nov 28 12:00:00.314000 2026`.
fn httpd_time(at: SimTime) -> String {
    let (unix, nanos) = at.wall();
    let c = Civil::of(unix);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02}.{:06} {}",
        c.weekday(),
        c.month_name(),
        c.day,
        c.hour,
        c.minute,
        c.second,
        nanos / 1000,
        c.year
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The run's start: 2026-11-28 12:00:00 UTC.
    const T: SimTime = SimTime::ZERO;

    #[test]
    fn nginx_logs_its_start_and_each_request_in_its_images_format() {
        let nginx = WebServer::Nginx { version: "1.31.3".into(), modified: 0 };
        let s = started(&nginx, T, Ipv4Addr::new(172, 17, 0, 2), "6.18.44", 2);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(
            lines[0],
            "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration"
        );
        assert_eq!(lines[9], "2026/11/28 12:00:00 [notice] 1#1: using the \"epoll\" event method");
        assert_eq!(lines[10], "2026/11/28 12:00:00 [notice] 1#1: nginx/1.31.3");
        assert_eq!(lines[12], "2026/11/28 12:00:00 [notice] 1#1: OS: Linux 6.18.44");
        assert_eq!(lines.last(), Some(&"2026/11/28 12:00:00 [notice] 1#1: start worker process 30"));
        let a = Access {
            client: Ipv4Addr::new(192, 168, 99, 10),
            method: "GET",
            path: "/",
            status: 200,
            body: 615,
            host: Some("192.168.99.101:8080"),
            referer: None,
            agent: Some("curl/7.88.1"),
            forwarded_for: None,
            connection: 1,
        };
        assert_eq!(
            request(&nginx, SimTime::from_secs(65), &a),
            "192.168.99.10 - - [28/Nov/2026:12:01:05 +0000] \"GET / HTTP/1.1\" 200 615 \"-\" \"curl/7.88.1\" \"-\"\n"
        );
        let missing = Access { path: "/nosuch", status: 404, body: 153, connection: 2, ..a };
        let got = request(&nginx, T, &missing);
        let (error, access) = got.split_once('\n').expect("two lines");
        assert_eq!(
            error,
            "2026/11/28 12:00:00 [error] 29#29: *2 open() \"/usr/share/nginx/html/nosuch\" failed (2: No such file or directory), \
             client: 192.168.99.10, server: localhost, request: \"GET /nosuch HTTP/1.1\", host: \"192.168.99.101:8080\""
        );
        assert!(access.contains("\"GET /nosuch HTTP/1.1\" 404 153"), "{access}");
    }

    #[test]
    fn httpd_names_itself_by_its_address_and_logs_the_common_format() {
        let httpd = WebServer::Httpd { version: "2.4.68".into() };
        let s = started(&httpd, SimTime::from_millis(314), Ipv4Addr::new(172, 17, 0, 2), "6.18.44", 2);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with(
            "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using 172.17.0.2. "
        ));
        assert_eq!(lines[0], lines[1]);
        assert_eq!(
            lines[2],
            "[Sat Nov 28 12:00:00.314000 2026] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4.68 (Unix) configured -- resuming normal operations"
        );
        let head = Access {
            client: Ipv4Addr::new(172, 17, 0, 1),
            method: "HEAD",
            path: "/",
            status: 200,
            body: 0,
            host: None,
            referer: None,
            agent: None,
            forwarded_for: None,
            connection: 1,
        };
        assert_eq!(
            request(&httpd, T, &head),
            "172.17.0.1 - - [28/Nov/2026:12:00:00 +0000] \"HEAD / HTTP/1.1\" 200 -\n"
        );
        assert_eq!(started(&WebServer::Apache, T, Ipv4Addr::LOCALHOST, "6.18.44", 2), "");
    }
}
