//! What the web images write to their container's log, and Compose's and the other
//! servers' sides of it (`userland::proto::weblog`, docs/docker-model.md *Commands that
//! fail, and a container's life*):
//!
//! - `docker logs` of nginx: its entrypoint's lines and nginx's start, then one line per
//!   request in the image's `log_format main`, naming the client as the server saw it: the
//!   LAN machine's own address through a published port's DNAT, the bridge's gateway when
//!   the host itself connects through docker-proxy (as the engine's record of docker-proxy
//!   shows the server's peer: `traces/docker/docker-proxy/record.txt`);
//! - `docker-compose logs SERVICE` as Compose 1.29 prints it (compose/cli/main.py `logs`,
//!   compose/cli/log_printer.py `build_log_prefix`): `Attaching to` the containers, newest
//!   first, then each line after the service's container name padded to the longest and ` | `;
//! - redis listens on its port (`nc -zv cache 6379` says `open`).

use sim_core::scenario::Loaded;
use sim_core::{Sim, Until};

const LAB: &str = r#"Scenario(
    name: "web logs",
    engine: (version: "20.10"),
    hosts: [
        (name: "host1", addr: "192.168.99.101/24", files: {
            "lab/docker-compose.yml": "services:\n  web:\n    image: nginx\n    ports:\n      - \"8080:80\"\n  cache:\n    image: redis\n  tools:\n    image: alpine\n    command: sleep infinity\n",
        }),
        (name: "laptop", addr: "192.168.99.10/24", docker: false),
    ],
    steps: [
        (on: "host1", run: "cd lab"),
        (on: "host1", run: "docker-compose up -d"),
        (on: "laptop", run: "curl -s -o /dev/null http://192.168.99.101:8080/"),
        (on: "host1", run: "curl -sI http://localhost:8080/"),
        (on: "laptop", run: "curl -s -o /dev/null http://192.168.99.101:8080/nosuch"),
        (on: "host1", run: "docker logs lab_web_1"),
        (on: "host1", run: "docker-compose logs web"),
        (on: "host1", run: "docker-compose logs --tail 1 web tools"),
        (on: "host1", run: "docker-compose exec tools nc -zv cache 6379"),
        (on: "host1", run: "docker run -d --name ap httpd"),
        (on: "host1", run: "docker exec lab_tools_1 true"),
        (on: "host1", run: "docker logs ap"),
        (on: "host1", run: "docker restart ap"),
        (on: "host1", run: "docker logs ap"),
    ],
)"#;

fn run() -> Sim {
    let mut sim = Loaded::from_str("web-logs.ron", LAB).expect("loads").build(None).expect("builds");
    sim.run_until(Until::Idle);
    sim
}

fn output(sim: &Sim, step: usize) -> String {
    let log = &sim.director.as_ref().expect("a Docker lab").transcript[step];
    match &log.output {
        Ok(t) | Err(t) => t.clone(),
    }
}

#[test]
fn nginx_logs_its_start_and_each_client_as_it_saw_it() {
    let sim = run();
    let logs = output(&sim, 5);
    let lines: Vec<&str> = logs.lines().collect();
    assert_eq!(
        lines[0],
        "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration"
    );
    assert!(lines.contains(&"2026/11/28 12:00:00 [notice] 1#1: nginx/1.31.3"), "{logs}");
    let requests: Vec<&&str> = lines.iter().filter(|l| l.contains("HTTP/1.1\" ")).collect();
    assert_eq!(requests.len(), 3, "{logs}");
    // Through the DNAT the client keeps its own address…
    assert!(
        requests[0].starts_with("192.168.99.10 - - [28/Nov/2026:12:00:")
            && requests[0].ends_with("\"GET / HTTP/1.1\" 200 615 \"-\" \"curl/7.88.1\" \"-\""),
        "{logs}"
    );
    // …through docker-proxy the server sees the bridge's gateway, and a HEAD sends no body.
    assert!(
        requests[1].starts_with("172.")
            && requests[1].contains(".0.1 - - [")
            && requests[1].contains("\"HEAD / HTTP/1.1\" 200 0 "),
        "{logs}"
    );
    assert!(requests[2].contains("\"GET /nosuch HTTP/1.1\" 404 153"), "{logs}");
    let error = lines.iter().find(|l| l.contains("[error]")).expect("the 404's error line");
    assert!(error.contains("*3 open() \"/usr/share/nginx/html/nosuch\" failed (2: No such file or directory), client: 192.168.99.10, server: localhost, request: \"GET /nosuch HTTP/1.1\", host: \"192.168.99.101:8080\""), "{error}");
}

#[test]
fn compose_prints_each_containers_log_after_its_name() {
    let sim = run();
    let web = output(&sim, 6);
    let mut lines = web.lines();
    assert_eq!(lines.next(), Some("Attaching to lab_web_1"));
    assert!(lines.all(|l| l.starts_with("web_1 | ")), "{web}");
    assert_eq!(web.lines().count(), output(&sim, 5).lines().count() + 1);
    // Newest first; the prefixes padded to the longest name; the last line of each log
    // (the sleeping tools container prints nothing).
    let two = output(&sim, 7);
    assert_eq!(
        two.lines().collect::<Vec<_>>(),
        [
            "Attaching to lab_tools_1, lab_web_1",
            "web_1   | 192.168.99.10 - - [28/Nov/2026:12:00:00 +0000] \"GET /nosuch HTTP/1.1\" 404 153 \"-\" \"curl/7.88.1\" \"-\""
        ],
        "{two}"
    );
}

#[test]
fn redis_listens_and_httpd_names_itself_by_its_address() {
    let sim = run();
    let host_lines: Vec<String> = sim.app_output().into_iter().map(|(_, l)| l).collect();
    assert!(host_lines.iter().any(|l| l.starts_with("cache (") && l.ends_with(":6379) open")), "{host_lines:?}");
    let ap = output(&sim, 11);
    let lines: Vec<&str> = ap.lines().collect();
    assert_eq!(lines.len(), 4, "{ap}");
    assert_eq!(
        lines[0],
        "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using 172.17.0.2. Set the 'ServerName' directive globally to suppress this message"
    );
    assert!(lines[3].ends_with("[core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'"), "{ap}");
    // A restart starts the server anew: its lines follow the first run's in the one log.
    let again = output(&sim, 13);
    assert_eq!(again.lines().count(), 8, "{again}");
    assert!(again.starts_with(&ap), "{again}");
}
