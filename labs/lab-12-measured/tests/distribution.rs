//! Chapter 12, beyond one machine: lab-07's cluster on network-namespace hosts behind
//! nginx. These tests need root, `ip` and `nginx`: on a reader's machine without them they
//! say so and skip; in CI (`CI` set) that is a failure. They pin behaviour, never speed:
//! every host serves, a killed host is routed around, and nothing is left behind.

use std::ffi::OsString;
use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use lab_12::distribution::{self, KillOutcome, Load, Options, Request, Site, nginx};
use labkit::{DEFAULT_TIMEOUT, eventually};

/// Whether this machine can build a site. When it cannot: a failure under CI (or the
/// grader), a message and a skip elsewhere, as `labkit::require_tool` does for node.
fn can_run() -> bool {
    let Err(why) = distribution::preflight() else {
        return true;
    };
    let strict = ["CI", "LABKIT_STRICT_TOOLS"]
        .iter()
        .any(|var| std::env::var(var).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false"));
    if strict {
        panic!("this test {why}, and CI (or LABKIT_STRICT_TOOLS) is set: it must not be skipped");
    }
    eprintln!("skipped: this test {why}");
    false
}

fn options(hosts: usize, retry: bool) -> Options {
    Options {
        hosts,
        workers: 1,
        server: vec![
            OsString::from(env!("CARGO_BIN_EXE_distribution")),
            OsString::from("--serve"),
        ],
        retry,
    }
}

/// Wait until the load has completed `count` more requests than `from`.
fn wait_for_requests(load: &Load, from: u64, count: u64) -> u64 {
    eventually(DEFAULT_TIMEOUT, || {
        let done = load.completed();
        if done >= from + count {
            Ok(done)
        } else {
            Err(format!(
                "{done} requests completed, waiting for {}",
                from + count
            ))
        }
    })
    .unwrap()
}

/// A run in which the site's third host is killed while four clients load it.
struct KilledUnderLoad {
    requests: Vec<Request>,
    /// Just before the kill, and just after it returned (time since the load started).
    began: Duration,
    over: Duration,
    /// The dead host's workers.
    dead: Vec<u32>,
}

/// 300 requests, kill host 2 (its master and workers), 300 more, then stop the load. At
/// most one request per connection was sent before `over` and ends after it.
fn kill_a_host_under_load(site: &mut Site) -> KilledUnderLoad {
    let load = Load::start(site.addr(), 4);
    wait_for_requests(&load, 0, 300);
    let began = load.now();
    let dead = site.hosts()[2].workers().to_vec();
    site.kill_host(2);
    let over = load.now();
    let mark = load.completed();
    wait_for_requests(&load, mark, 300);
    KilledUnderLoad {
        requests: load.finish(),
        began,
        over,
        dead,
    }
}

/// What a site leaves on the machine: its namespaces (`ip netns list`), its cables (a
/// link in the root namespace with one of its names as alias, or as the namespace its peer
/// is in), its processes (`/proc/PID`, zombies included).
fn leftovers(names: &[String], pids: &[u32]) -> Vec<String> {
    let netns = distribution::host::ip(&["netns", "list"]).unwrap();
    let links = distribution::host::ip(&["-o", "link", "show"]).unwrap();
    let mut left = Vec::new();
    for name in names {
        if netns
            .lines()
            .any(|l| l.split_whitespace().next() == Some(name))
        {
            left.push(format!("namespace {name}"));
        }
        for link in links.lines() {
            if link
                .split(|c: char| c.is_whitespace() || c == '\\')
                .any(|w| w == name)
            {
                left.push(format!("link {link}"));
            }
        }
    }
    for pid in pids {
        if let Ok(stat) = labkit::proc::stat(*pid) {
            left.push(format!(
                "process {pid} ({}, state {})",
                stat.comm, stat.state
            ));
        }
    }
    left
}

/// The site's namespaces and processes, to check after it is gone.
fn inventory(site: &Site) -> (Vec<String>, Vec<u32>) {
    let mut pids = Vec::new();
    for host in site.hosts() {
        pids.extend(host.master());
        pids.extend(host.workers());
    }
    (site.netns_names(), pids)
}

#[test]
fn nginx_spreads_over_every_host_and_routes_around_a_dead_one() {
    if !can_run() {
        return;
    }
    let mut site = Site::start(&options(3, true)).unwrap();
    let (names, pids) = inventory(&site);
    let dir = site.nginx_dir().to_path_buf();
    assert!(dir.join("nginx.conf").exists());
    for host in site.hosts() {
        // `ip netns exec` execs the server without forking: our child is the master (not
        // `ip`), and the workers are its children.
        let master = host.master().unwrap();
        assert_eq!(labkit::proc::comm(master).unwrap(), "distribution");
        assert!(!host.workers().is_empty());
        for worker in host.workers() {
            assert_eq!(labkit::proc::ppid(*worker).unwrap(), master);
        }
    }

    let KilledUnderLoad {
        requests,
        began,
        over,
        dead,
    } = kill_a_host_under_load(&mut site);

    // Before the kill, round robin over three hosts: each one answered.
    let before: Vec<Request> = requests.iter().filter(|r| r.end < began).copied().collect();
    let served = site.served_per_host(&before);
    assert!(
        served.iter().all(|n| *n > 0),
        "served per host: {served:?} of {}; workers {:?}; answered by {:?}",
        before.len(),
        site.hosts()
            .iter()
            .map(|h| h.workers().to_vec())
            .collect::<Vec<_>>(),
        before
            .iter()
            .map(|r| r.worker)
            .collect::<std::collections::BTreeSet<_>>()
    );

    // Around the kill: not one request failed. nginx sent the ones it had in flight to
    // the dead host again, to another host, and every request sent after the kill was
    // answered by the two hosts left.
    let outcome = KillOutcome::of(&requests, began, over, &dead);
    assert_eq!(outcome.failed_before, 0, "{outcome:?}");
    assert_eq!(outcome.failed_in_flight, 0, "{outcome:?}");
    assert_eq!(outcome.failed_after, 0, "{outcome:?}");
    assert_eq!(outcome.answered_by_dead_host, 0, "{outcome:?}");
    let after: Vec<Request> = requests
        .iter()
        .filter(|r| r.start >= over)
        .copied()
        .collect();
    let served = site.served_per_host(&after);
    assert!(
        served[0] > 0 && served[1] > 0 && served[2] == 0,
        "served per host after the kill: {served:?}"
    );

    drop(site);
    assert_eq!(leftovers(&names, &pids), Vec::<String>::new());
    assert!(!dir.exists(), "{} is still there", dir.display());
}

#[test]
fn a_panic_still_tears_the_site_down() {
    if !can_run() {
        return;
    }
    let mut seen = None;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let site = Site::start(&options(2, true)).unwrap();
        seen = Some(inventory(&site));
        panic!("a failing assertion while the site runs");
    }));
    assert!(result.is_err());
    let (names, pids) = seen.unwrap();
    assert_eq!(names.len(), 2);
    assert_eq!(leftovers(&names, &pids), Vec::<String>::new());
}

/// A veth pair in the root namespace, deleted on drop.
struct Cable(String);

impl Drop for Cable {
    fn drop(&mut self) {
        let _ = distribution::host::ip(&["link", "del", &self.0]);
    }
}

#[test]
fn a_subnet_whose_cable_name_is_taken_is_skipped() {
    if !can_run() {
        return;
    }
    // Take the name of the first free subnet's cable, as a run that started a moment
    // earlier would (it has the name, not yet the address).
    let (n, _cable) = loop {
        let n = distribution::host::unused_subnets().unwrap()[0];
        let name = format!("lab12-s{n}");
        let peer = format!("lab12-t{n}");
        let add = ["link", "add", &name, "type", "veth", "peer", "name", &peer];
        if distribution::host::ip(&add).is_ok() {
            break (n, Cable(name));
        }
    };
    let site = Site::start(&options(2, true)).unwrap();
    let subnets: Vec<u8> = site.hosts().iter().map(|h| h.addr.octets()[2]).collect();
    assert!(
        !subnets.contains(&n),
        "subnet {n} taken, yet used: {subnets:?}"
    );
}

#[test]
fn the_experiment_without_root_says_so_in_one_line() {
    let exe = env!("CARGO_BIN_EXE_distribution");
    // As root, run a copy as nobody (setpriv is util-linux's): the copy sits in a
    // directory anyone may enter, wherever the checkout is.
    let scratch = tempfile::tempdir().unwrap();
    let mut cmd = if nix::unistd::geteuid().is_root() {
        std::fs::set_permissions(scratch.path(), Permissions::from_mode(0o755)).unwrap();
        let copy = scratch.path().join("distribution");
        std::fs::copy(exe, &copy).unwrap();
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&copy);
        cmd
    } else {
        Command::new(exe)
    };
    cmd.arg("--seconds=1")
        .current_dir(scratch.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = labkit::run(&mut cmd).unwrap();
    assert_eq!(
        out.stderr,
        "distribution: needs root (network namespaces)\n"
    );
    assert_eq!(out.stdout, "");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_configuration_balances_over_every_host_and_retries_on_errors() {
    let hosts = [
        "10.212.1.2:8080".parse().unwrap(),
        "10.212.2.2:8080".parse().unwrap(),
    ];
    let conf = nginx::config(4321, &hosts, true);
    for wanted in [
        "listen 127.0.0.1:4321;",
        "server 10.212.1.2:8080 max_fails=1 fail_timeout=10s;",
        "server 10.212.2.2:8080 max_fails=1 fail_timeout=10s;",
        "proxy_next_upstream error timeout;",
        "proxy_pass http://hosts;",
    ] {
        assert!(conf.contains(wanted), "{wanted:?} not in:\n{conf}");
    }
    // Nothing under /var: every path is relative to the -p directory.
    assert!(!conf.contains("/var"), "{conf}");
    let without = nginx::config(4321, &hosts, false);
    assert!(without.contains("proxy_next_upstream off;"), "{without}");
}

#[test]
fn without_retries_the_dead_host_costs_a_failed_request() {
    if !can_run() {
        return;
    }
    let mut site = Site::start(&options(3, false)).unwrap();
    let KilledUnderLoad {
        requests,
        began,
        over,
        dead,
    } = kill_a_host_under_load(&mut site);
    // Round robin sends one request in three to the dead host: the first one that gets
    // there (in flight at the kill, or the first one after) fails, and nginx passes the
    // failure on to the client instead of trying another host.
    let outcome = KillOutcome::of(&requests, began, over, &dead);
    assert_eq!(outcome.failed_before, 0, "{outcome:?}");
    assert!(
        outcome.failed_in_flight + outcome.failed_after >= 1,
        "{outcome:?}"
    );
}
