//! Chapter 7 exercises: the cluster seen from /proc.

mod common;

use common::Cluster;
use lab_07::exercises::{listeners_on, workers_of};

#[test]
fn exercise_7_1_workers_are_found_by_their_environment() {
    let cluster = Cluster::start("rr", 3);
    let expected: Vec<(u32, u32)> = cluster
        .workers
        .iter()
        .map(|(id, pid)| (*id, *pid))
        .collect();
    assert_eq!(workers_of(cluster.master).unwrap(), expected);
    // The test process has children too (this cluster's master), but no NODE_UNIQUE_ID.
    assert_eq!(workers_of(std::process::id()).unwrap(), []);
}

#[test]
fn exercise_7_2_one_listening_socket_or_one_per_worker() {
    for (sched, expected) in [("rr", 1), ("shared", 1), ("reuseport", 3)] {
        let cluster = Cluster::start(sched, 3);
        // reuseport: the master's own socket is bound to hold the port, not listening.
        assert_eq!(
            listeners_on(cluster.addr.port()).unwrap(),
            expected,
            "{sched}"
        );
    }
    assert_eq!(listeners_on(1).unwrap(), 0);
}
