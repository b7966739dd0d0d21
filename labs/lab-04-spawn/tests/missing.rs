//! Chapter 4: a missing program is an error from `spawn` itself (posix_spawn returns
//! ENOENT; glibc reaped the short-lived child), and no child is left behind. This file
//! holds one test, so no other test of this binary starts children at the same time.

use std::io::ErrorKind;
use std::process::Command;

use lab_04::forking::own_children;
use labkit::{Redactor, demo, run};

#[test]
fn spawning_a_missing_program_fails_in_spawn_and_leaves_no_child() {
    let before = own_children().unwrap();
    let err = Command::new("no-such-program").spawn().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.raw_os_error(), Some(libc_enoent()));
    assert_eq!(own_children().unwrap(), before);

    // The demo shows the same for both of std's paths, and the shell's 127 beside them.
    let done = run(&mut demo(env!("CARGO_BIN_EXE_spawn-missing"))).unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("spawn-missing")
    );
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "spawn_missing",
        done.transcript("./target/debug/spawn-missing")
    );

    // A program that does exist is reported as such, not as an odd success.
    let done = run(demo(env!("CARGO_BIN_EXE_spawn-missing")).args(["--program", "true"])).unwrap();
    assert_eq!(
        done.stdout,
        "posix_spawn: true exists; it exited with code 0\n  children of this process: none\n\
         fork+exec: true exists; it exited with code 0\n  children of this process: none\n\
         sh -c true: spawn() succeeded; nothing on stderr\n  and it exited with code 0\n"
    );
}

fn libc_enoent() -> i32 {
    nix::errno::Errno::ENOENT as i32
}
