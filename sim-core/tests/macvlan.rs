//! Containers on one macvlan network talk through the parent's bridge mode without the wire.

use sim_core::Until;
use sim_core::scenario::Loaded;

/// `docker exec m3 curl http://m2/` between two macvlan siblings (m3 is netshoot: alpine has
/// no curl): the sibling receives
/// through the backlog (`dev_forward_skb` → `netif_rx`), so the answer comes in later events
/// and finds the client's parser. Delivered inside the sender's call, it used to arrive before
/// curl had one, and the run stopped at its time limit after the first segment.
#[test]
fn curl_between_macvlan_siblings_gets_the_page_and_the_lab_goes_on() {
    let text = r#"Scenario(
    name: "macvlan curl",
    hosts: [(name: "host1", addr: "192.168.99.101/24")],
    steps: [
        (on: "host1", run: "docker network create -d macvlan --subnet 192.168.99.0/24 --gateway 192.168.99.1 -o parent=eth0 mvnet"),
        (on: "host1", run: "docker run -d --name m2 --network mvnet --ip 192.168.99.20 nginx"),
        (on: "host1", run: "docker run -dit --name m3 --network mvnet --ip 192.168.99.30 nicolaka/netshoot"),
        (on: "host1", run: "docker exec m3 curl http://m2/"),
        (on: "host1", run: "docker exec m3 ping -c 1 m2"),
    ],
)"#;
    let mut sim = Loaded::from_str("mv.ron", text).unwrap().build(None).unwrap();
    sim.run_until(Until::Idle);
    let out = sim.app_output();
    let m3: Vec<&str> = out.iter().filter(|(ns, _)| ns == "host1:m3").map(|(_, l)| l.as_str()).collect();
    assert!(m3.contains(&"curl: HTTP/1.1 200 OK (615 bytes)"), "{m3:#?}");
    assert!(m3.iter().any(|l| l.starts_with("64 bytes from m2.mvnet (192.168.99.20)")), "the next step ran: {m3:#?}");
}
