//! Docker commands take the time they take on a real engine (docs/docker-model.md *How long a
//! command takes*): the next step starts when the command has returned, so what a step sends
//! reaches only what the steps before it built.

use sim_core::Until;
use sim_core::kernel::trace::Dir;
use sim_core::scenario::Loaded;
use sim_core::wire::ArpRepr;

const LAB: &str = r#"(
    name: "three containers",
    hosts: [(name: "host1", addr: "192.168.99.101/24")],
    steps: [
        (on: "host1", run: "docker network create appnet"),
        (on: "host1", run: "docker run -dit --name aa --network appnet alpine"),
        (on: "host1", run: "docker run -dit --name bb --network appnet alpine"),
        (on: "host1", run: "docker run -dit --name cc --network appnet alpine"),
        (on: "host1", run: "docker ps"),
        (on: "host1", run: "docker exec cc ping -c 1 aa"),
        (on: "host1", run: "docker network create other"),
    ],
)"#;

#[test]
fn each_step_starts_when_the_command_before_it_has_returned() {
    let mut sim = Loaded::from_str("t.ron", LAB).unwrap().build(None).unwrap();
    sim.run_until(Until::Idle);
    let d = sim.director.as_ref().unwrap();
    let at: Vec<u64> = d.transcript.iter().map(|l| l.at.as_nanos() / 1_000_000).collect();
    // network create 128 ms, each run -d 314 ms; `docker ps` only reads; the last step comes
    // once the ping has ended (its one echo is answered within microseconds) and `docker
    // exec` has given the shell back, 7 ms later.
    assert_eq!(at, [0, 128, 442, 756, 1070, 1070, 1077], "{at:?}");
    assert_eq!(d.transcript.iter().filter(|l| l.output.is_err()).count(), 0);

    // dockerd announces each new interface three times, 1 s apart. bb and cc, started at 442
    // and 756 ms, hear aa's second and third announcements (1.128 s, 2.128 s) but not its
    // first (0.128 s).
    let from_a = |dev: &str| {
        sim.records()
            .iter()
            .filter(|r| r.dir == Dir::Rx && r.dev.is_some_and(|x| sim.world.dev_path(x) == dev))
            .filter_map(|r| r.frame.as_ref())
            .filter_map(|f| ArpRepr::parse(f.get(14..)?))
            .filter(|a| {
                a.sender_ip == "172.18.0.2".parse::<std::net::Ipv4Addr>().unwrap() && a.target_ip == a.sender_ip
            })
            .count()
    };
    assert_eq!(from_a("host1:bb/eth0"), 2);
    assert_eq!(from_a("host1:cc/eth0"), 2);
}
